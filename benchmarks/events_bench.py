"""The event stream's cost and speed: single-row creates with and without event recording, and how
soon an in-process subscriber hears a committed create.

Usage: python benchmarks/events_bench.py [--singles 3000] [--rounds 5] [--before REV] [--notices 1000]

Creates with and without events are timed in the same run: "without" is the engine of git revision
REV (by default the last one before the event stream), exported to a temporary folder, and each
round times both engines, one after the other, in fresh processes, on fresh data directories. The
subscriber's latency is measured from the moment a create returns (its commit done) to the moment a
subscriber, waiting in an asyncio loop on another thread, receives its event.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

from mcp_server.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
DB = {"databaseId": "bench"}
COLUMNS = [
    {"key": "title", "type": "varchar", "size": 100, "required": True},
    {"key": "category", "type": "integer", "required": True},
]
# Times single-row creates with whichever mcp_server is first on the path; prints rows per second.
CREATES = """
import sys, tempfile, time
from pathlib import Path
from mcp_server.engine import Engine
count = int(sys.argv[1])
with tempfile.TemporaryDirectory() as folder:
    engine = Engine(Path(folder), list_cache_ttl=0)
    engine.call("tablesDB.create", {"databaseId": "bench", "name": "Bench"})
    columns = [{"key": "title", "type": "varchar", "size": 100, "required": True},
               {"key": "category", "type": "integer", "required": True}]
    engine.call("tablesDB.createTable", {"databaseId": "bench", "tableId": "t", "name": "T", "columns": columns})
    start = time.perf_counter()
    for i in range(count):
        engine.call("tablesDB.createRow", {"databaseId": "bench", "tableId": "t", "rowId": "unique()",
                                           "data": {"title": f"item {i}", "category": i % 1000}})
    print(count / (time.perf_counter() - start))
    engine.close()
"""


def revision_before_events() -> str:
    added = subprocess.run(
        ["git", "log", "--diff-filter=A", "--format=%H", "--", "mcp_server/engine/events.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if not added:
        raise SystemExit("no commit adds mcp_server/engine/events.py: pass --before REV")
    return f"{added[-1]}^"


def export(revision: str, folder: Path) -> Path:
    """The source tree of `revision` (its mcp_server and catalog), unpacked under `folder`."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision, "mcp_server", "catalog/operations.json"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def creates_per_second(source: Path, count: int) -> float:
    result = subprocess.run(
        [sys.executable, "-c", CREATES, str(count)],
        env={"PYTHONPATH": str(source), "PATH": "/usr/bin:/bin"},
        cwd=source,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout)


def subscriber_latencies(count: int) -> list[float]:
    """Milliseconds from a create's return to its event reaching a subscriber, per create."""
    with tempfile.TemporaryDirectory() as folder:
        engine = Engine(Path(folder), list_cache_ttl=0)
        engine.call("tablesDB.create", {**DB, "name": "Bench"})
        engine.call("tablesDB.createTable", {**DB, "tableId": "t", "name": "T", "columns": COLUMNS})
        heard: dict[str, float] = {}
        ready = threading.Event()
        loop = asyncio.new_event_loop()

        async def listen() -> None:
            stream = engine.project().events.subscribe(["databases.*.tables.*.rows.*.create"])
            ready.set()
            async for event in stream:
                heard[event.payload["$id"]] = time.perf_counter()
                if len(heard) == count:
                    await stream.aclose()
                    return

        listener = threading.Thread(target=lambda: loop.run_until_complete(listen()))
        listener.start()
        ready.wait()
        time.sleep(0.2)
        returned = {}
        for i in range(count):
            row_id = f"r{i}"
            engine.call(
                "tablesDB.createRow", {**DB, "tableId": "t", "rowId": row_id, "data": {"title": "x", "category": i}}
            )
            returned[row_id] = time.perf_counter()
            time.sleep(0.002)
        listener.join(30)
        engine.close()
    return [max(0.0, heard[row_id] - moment) * 1000 for row_id, moment in returned.items() if row_id in heard]


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100)[int(share * 100) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--singles", type=int, default=3000, help="single-row creates per engine and round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of both engines, interleaved")
    parser.add_argument("--before", default=None, help="git revision of the engine without events")
    parser.add_argument("--notices", type=int, default=1000, help="creates whose events a subscriber times")
    args = parser.parse_args()
    before = args.before or revision_before_events()
    with tempfile.TemporaryDirectory() as folder:
        old = export(before, Path(folder))
        without, with_events = [], []
        for _ in range(args.rounds):
            without.append(creates_per_second(old, args.singles))
            with_events.append(creates_per_second(ROOT, args.singles))
    old_rate, new_rate = statistics.median(without), statistics.median(with_events)
    cost = (old_rate - new_rate) / old_rate * 100
    print(
        f"single creates (median of {args.rounds} rounds): without events ({before}) {old_rate:,.0f}/s, "
        f"with events {new_rate:,.0f}/s: recording costs {cost:.1f}% (target <= 10%)"
    )
    latencies = subscriber_latencies(args.notices)
    print(
        f"subscriber hears a committed create: p50 {percentile(latencies, 0.5):.2f} ms, "
        f"p99 {percentile(latencies, 0.99):.2f} ms over {len(latencies)} creates (target p99 <= 5 ms)"
    )


if __name__ == "__main__":
    main()
