"""The MCP server as a client meets it: cold start, memory, and how much context its replies take.

Usage: python benchmarks/mcp_bench.py [--runs N] [--queries FILE.jsonl]

Cold start is the time from spawning `baas-mcp serve` (stdio) to the first tools/list reply, against
a minimal MCP SDK server that offers one tool and does nothing else, the two spawned in turns in the
same run (median of N each; target ratio <= 1.15). RSS is read from /proc right after that reply and
again once the first search has loaded the catalog and engine. Sizes are characters of JSON: the
tools/list result (target <= 1,800) and the average tools/call result of search_operations with its
default five hits over the queries of FILE (target <= 2,400).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMAND = Path(sys.executable).with_name("baas-mcp")

MINIMAL_SERVER = """
import anyio
import mcp.types as types
from mcp.server import Server
from mcp.server.stdio import stdio_server

TOOL = types.Tool(name="echo", description="Echo", input_schema={"type": "object", "properties": {}})

async def list_tools(ctx, params):
    return types.ListToolsResult(tools=[TOOL])

async def main():
    server = Server("minimal", version="1", on_list_tools=list_tools)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())

anyio.run(main)
"""

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}},
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


class StdioSession:
    """A server subprocess spoken to in raw JSON-RPC lines."""

    def __init__(self, argv: list[str]) -> None:
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        self.next_id = 2

    def send(self, message: dict) -> None:
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def request(self, method: str, params: dict | None = None) -> dict:
        request_id = self.next_id
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": request_id, "method": method, **({"params": params} if params else {})})
        while True:
            reply = json.loads(self.process.stdout.readline())
            if reply.get("id") == request_id:
                return reply["result"]

    def open(self) -> dict:
        """initialize, then tools/list; returns the tools/list result."""
        self.send(INITIALIZE)
        json.loads(self.process.stdout.readline())
        self.send(INITIALIZED)
        return self.request("tools/list")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def time_to_tools_list(argv: list[str]) -> float:
    session = StdioSession(argv)
    session.open()
    elapsed = time.perf_counter() - session.started
    session.close()
    return elapsed


def size(value: object) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="cold starts of each server (default 15)")
    parser.add_argument("--queries", type=Path, default=ROOT / "evals" / "search-dev.jsonl")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as data_dir:
        ours_argv = [str(COMMAND), "serve", "--data-dir", data_dir]
        minimal_argv = [sys.executable, "-c", MINIMAL_SERVER]
        time_to_tools_list(ours_argv)  # the first run creates the data dir and warms the file cache
        ours, minimal = [], []
        for _ in range(args.runs):
            ours.append(time_to_tools_list(ours_argv))
            minimal.append(time_to_tools_list(minimal_argv))
        ours_s, minimal_s = statistics.median(ours), statistics.median(minimal)
        print(
            f"cold start to first tools/list: baas-mcp {ours_s * 1000:.0f} ms, minimal SDK server "
            f"{minimal_s * 1000:.0f} ms, ratio {ours_s / minimal_s:.2f} (target <= 1.15; medians of {args.runs})"
        )

        session = StdioSession(ours_argv)
        tools_list = session.open()
        print(f"RSS after start: {session.rss_mb():.1f} MB", end="")
        queries = [json.loads(line)["q"] for line in args.queries.read_text().splitlines() if line.strip()]
        replies = [
            session.request("tools/call", {"name": "search_operations", "arguments": {"query": query}})
            for query in queries
        ]
        print(f"; after the first search (catalog, index and engine loaded): {session.rss_mb():.1f} MB")
        session.close()

    errors = sum(1 for reply in replies if reply.get("isError"))
    hits = statistics.mean(len(reply["structuredContent"]["hits"]) for reply in replies if not reply.get("isError"))
    print(f"tools/list result: {size(tools_list):,} characters of JSON (target <= 1,800)")
    print(
        f"search_operations result, average over {len(replies)} queries ({hits:.1f} hits each, {errors} errors): "
        f"{statistics.mean(size(reply) for reply in replies):,.0f} characters of JSON (target <= 2,400); "
        f"text content alone {statistics.mean(len(reply['content'][0]['text']) for reply in replies):,.0f}"
    )


if __name__ == "__main__":
    main()
