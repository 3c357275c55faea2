"""The REST app under load: row creates per second and list latency, with 1, 4 and 16 concurrent clients.

Usage: python benchmarks/rest_bench.py [--seconds S] [--clients 1,4,16]

Starts `baas-mcp api` on a free loopback port over a fresh data directory, creates a database and a
table (one string, one integer column, an index), then for each client count runs that many
keep-alive HTTP/1.1 connections for S seconds each: first `createRow` (POST, unique() ids), then an
indexed `listRows` (GET, equal query, limit 25). The clients are plain asyncio sockets, so the
figures measure the server, not a client library. Target: >= 2,000 creates/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

COMMAND = Path(sys.executable).with_name("baas-mcp")
API_LINE = re.compile(r"API at http://127\.0\.0\.1:(\d+)/v1")


class Connection:
    """One keep-alive HTTP/1.1 connection that sends a request and reads the whole answer."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: str) -> None:
        self.reader = reader
        self.writer = writer
        self.headers = headers

    @classmethod
    async def open(cls, port: int, headers: str) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer, headers)

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{self.headers}Content-Length: {len(body)}\r\n\r\n"
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return int(status_line.split()[1]), await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def setup(port: int, headers: str) -> None:
    connection = await Connection.open(port, headers)
    steps = [
        ("/v1/tablesdb", {"databaseId": "bench", "name": "Bench"}),
        ("/v1/tablesdb/bench/tables", {"tableId": "items", "name": "Items"}),
        ("/v1/tablesdb/bench/tables/items/columns/string", {"key": "title", "size": 64, "required": True}),
        ("/v1/tablesdb/bench/tables/items/columns/integer", {"key": "group", "required": True}),
        ("/v1/tablesdb/bench/tables/items/indexes", {"key": "by_group", "type": "key", "columns": ["group"]}),
    ]
    for path, body in steps:
        status, answer = await connection.request("POST", path, json.dumps(body).encode())
        if status >= 300:
            raise SystemExit(f"setup failed: POST {path} -> {status} {answer[:200]!r}")
    connection.close()


async def run_clients(port: int, headers: str, clients: int, seconds: float, make_request) -> list[float]:
    """Latencies (s) of every request that `clients` connections completed within `seconds`."""
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []

    async def client(number: int) -> None:
        connection = await Connection.open(port, headers)
        count = 0
        while time.perf_counter() < deadline:
            method, path, body = make_request(number, count)
            started = time.perf_counter()
            status, answer = await connection.request(method, path, body)
            latencies.append(time.perf_counter() - started)
            if status >= 300:
                raise SystemExit(f"{method} {path} -> {status} {answer[:200]!r}")
            count += 1
        connection.close()

    await asyncio.gather(*(client(number) for number in range(clients)))
    return latencies


def create_row(number: int, count: int) -> tuple[str, str, bytes]:
    body = {"rowId": "unique()", "data": {"title": f"item {number}-{count}", "group": count % 50}}
    return "POST", "/v1/tablesdb/bench/tables/items/rows", json.dumps(body).encode()


def list_rows(number: int, count: int) -> tuple[str, str, bytes]:
    query = json.dumps({"method": "equal", "attribute": "group", "values": [count % 50]})
    limit = json.dumps({"method": "limit", "values": [25]})
    path = f"/v1/tablesdb/bench/tables/items/rows?queries[0]={quote(query)}&queries[1]={quote(limit)}"
    return "GET", path, b""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="how long each measurement runs (default 5)")
    parser.add_argument("--clients", default="1,4,16", help="client counts to measure (default 1,4,16)")
    args = parser.parse_args()
    client_counts = [int(part) for part in args.clients.split(",")]

    with tempfile.TemporaryDirectory() as data_dir:
        created = subprocess.run(
            [str(COMMAND), "keys", "create", "--name", "bench", "--data-dir", data_dir, "--json", "--scopes",
             "databases.write,tables.write,columns.write,indexes.write,rows.read,rows.write"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        secret = json.loads(created.stdout)["secret"]
        server = subprocess.Popen(
            [str(COMMAND), "api", "--port", "0", "--data-dir", data_dir], stderr=subprocess.PIPE, text=True
        )
        try:
            port = int(API_LINE.search(server.stderr.readline()).group(1))
            headers = f"X-Appwrite-Project: default\r\nX-Appwrite-Key: {secret}\r\nContent-Type: application/json\r\n"
            asyncio.run(setup(port, headers))
            print(f"REST app on loopback, {args.seconds:g} s per measurement")
            for clients in client_counts:
                creates = asyncio.run(run_clients(port, headers, clients, args.seconds, create_row))
                lists = asyncio.run(run_clients(port, headers, clients, args.seconds, list_rows))
                print(
                    f"{clients:>2} clients: creates {len(creates) / args.seconds:,.0f}/s "
                    f"(p50 {statistics.median(creates) * 1000:.2f} ms, p99 {percentile(creates, 0.99) * 1000:.2f} ms); "
                    f"indexed list p50 {statistics.median(lists) * 1000:.2f} ms, "
                    f"p99 {percentile(lists, 0.99) * 1000:.2f} ms ({len(lists) / args.seconds:,.0f}/s)"
                )
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
