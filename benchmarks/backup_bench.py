"""Backups of a big project while it is written: how long `baas-mcp backup create` takes, and what it costs a writer.

Usage: python benchmarks/backup_bench.py [--rows 200000] [--files 2000] [--file-kb 64] [--idle 5] [--rounds 3]

Builds a project in a fresh data directory: --rows rows in one table (bulk creates of 1,000 through `Engine.call`)
and --files stored files of --file-kb KiB of random bytes each (a bucket without compression or encryption). Then
serves it with `baas-mcp api` (a subprocess) while a writer in this process creates one row at a time through the
API (httpx, one connection, back to back), noting each request's latency: --idle seconds alone, then --rounds
`baas-mcp backup create` runs (subprocesses), each followed by --idle seconds alone. Idle latencies are those of
every request outside the backups (so a machine shared with other work weighs on both sides alike). Prints the
project's size on disk, each backup's duration, files and bytes, one `backup restore --as` duration, and the
writer's latency p50/p99 idle and during the backups, with p99 during / p99 idle (target < 3). The sizes to aim
at are 1 M rows and 1 GB of files: --rows 1000000 --files 16384 --file-kb 64.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from mcp_server.engine import Engine
from mcp_server.uploads import Upload

COMMAND = [sys.executable, "-m", "mcp_server"]
DB = {"databaseId": "bench"}
COLUMNS = [
    {"key": "title", "type": "varchar", "size": 100, "required": True},
    {"key": "category", "type": "integer", "required": True},
]


def build(data_dir: Path, rows: int, files: int, file_kb: int) -> None:
    engine = Engine(data_dir)
    try:
        engine.call("tablesDB.create", {**DB, "name": "Bench"})
        engine.call("tablesDB.createTable", {**DB, "tableId": "items", "name": "Items", "columns": COLUMNS})
        for first in range(0, rows, 1000):
            batch = [
                {"$id": f"r{i}", "title": f"item {i}", "category": i % 100}
                for i in range(first, min(first + 1000, rows))
            ]
            engine.call("tablesDB.createRows", {**DB, "tableId": "items", "rows": batch})
        engine.call("storage.createBucket", {"bucketId": "files", "name": "Files", "compression": "none"})
        for i in range(files):
            upload = Upload(f"f{i}.bin", "application/octet-stream", os.urandom(file_kb * 1024))
            engine.call("storage.createFile", {"bucketId": "files", "fileId": f"f{i}", "file": upload})
    finally:
        engine.close()


def folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


class Writer(threading.Thread):
    """Creates rows through the API back to back until stopped; (start time, latency in ms) of each."""

    def __init__(self, endpoint: str, key: str) -> None:
        super().__init__(daemon=True)
        headers = {"X-Appwrite-Project": "default", "X-Appwrite-Key": key}
        self.client = httpx.Client(base_url=endpoint, headers=headers, timeout=120)
        self.timings: list[tuple[float, float]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        i = 0
        while not self.stopping.is_set():
            body = {"rowId": "unique()", "data": {"title": f"written {i}", "category": i % 100}}
            start = time.perf_counter()
            response = self.client.post("/tablesdb/bench/tables/items/rows", json=body)
            self.timings.append((start, (time.perf_counter() - start) * 1000))
            response.raise_for_status()
            i += 1


def percentiles(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    return statistics.median(values), values[max(0, int(len(values) * 0.99) - 1)]


def run(command: list[str], data_dir: Path) -> dict:
    result = subprocess.run([*COMMAND, *command, "--data-dir", str(data_dir), "--json"], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {result.stderr}")
    return json.loads(result.stdout)


def start_api(data_dir: Path) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [*COMMAND, "api", "--port", "0", "--data-dir", str(data_dir)], stderr=subprocess.PIPE, text=True
    )
    for line in process.stderr:
        if "Appwrite-compatible API at " in line:
            return process, line.split(" at ")[1].split(" ")[0]
    raise SystemExit("baas-mcp api did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--file-kb", type=int, default=64)
    parser.add_argument("--idle", type=float, default=5.0, help="seconds of writing alone (and between backups)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        data_dir = Path(temporary) / "data"
        started = time.perf_counter()
        build(data_dir, args.rows, args.files, args.file_kb)
        built = time.perf_counter() - started
        size = folder_size(data_dir / "default") / 2**20
        print(
            f"project: {args.rows:,} rows, {args.files:,} files of {args.file_kb} KiB ({size:,.0f} MiB on disk, ",
            end="",
        )
        print(f"built in {built:.0f} s)")
        key = run(["keys", "create", "--name", "bench", "--scopes", "rows.write"], data_dir)["secret"]
        api, endpoint = start_api(data_dir)
        writer = Writer(endpoint, key)
        try:
            writer.start()
            time.sleep(args.idle)
            windows = []
            for _ in range(args.rounds):
                start = time.perf_counter()
                made = run(["backup", "create"], data_dir)
                windows.append((start, time.perf_counter()))
                print(
                    f"backup {made['$id']}: {windows[-1][1] - start:.2f} s, {made['files']:,} files, "
                    f"{made['size'] / 2**20:,.0f} MiB"
                )
                time.sleep(args.idle)
        finally:
            writer.stopping.set()
            writer.join(120)
            api.terminate()
            api.wait(30)
        start = time.perf_counter()
        run(["backup", "restore", made["$id"], "--as", "restored"], data_dir)
        print(f"restore --as restored: {time.perf_counter() - start:.2f} s")
        during = [ms for at, ms in writer.timings if any(low <= at <= high for low, high in windows)]
        idle = [ms for at, ms in writer.timings if not any(low <= at <= high for low, high in windows)]
        idle_p50, idle_p99 = percentiles(idle)
        during_p50, during_p99 = percentiles(during)
        print(f"writer idle:          {len(idle):6,} creates, p50 {idle_p50:.2f} ms, p99 {idle_p99:.2f} ms")
        print(f"writer during backup: {len(during):6,} creates, p50 {during_p50:.2f} ms, p99 {during_p99:.2f} ms")
        print(f"p99 during / idle: {during_p99 / idle_p99:.2f}x (target < 3x)")


if __name__ == "__main__":
    main()
