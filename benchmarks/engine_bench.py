"""Embedded engine speed: single-row creates, bulk creates, indexed lists at 100k rows, against raw sqlite3.

Usage: python benchmarks/engine_bench.py [--rows 100000] [--singles 2000] [--lists 500]

Single creates go through Engine.call one commit per row, and the same inserts run through raw
sqlite3 with the same settings (WAL, synchronous=FULL, one commit per row) in the same run, so
the ratio compares like with like. Bulk creates send 1,000 rows per call. The indexed list is
listRows with an equality filter on an indexed column of a table of --rows rows. Last, single
creates are timed alone and then while another thread keeps running regex scans of that table
(reads run beside writes, so a create should not wait for a scan).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import threading
import time
from pathlib import Path

from mcp_server.engine import Engine

DB = {"databaseId": "bench"}
COLUMNS = [
    {"key": "title", "type": "varchar", "size": 100, "required": True},
    {"key": "category", "type": "integer", "required": True},
    {"key": "price", "type": "float", "required": False},
]
CATEGORIES = 1000


def row_data(i: int) -> dict:
    return {"title": f"item {i}", "category": i % CATEGORIES, "price": i * 0.5}


def engine_singles(engine: Engine, count: int) -> float:
    engine.call("tablesDB.createTable", {**DB, "tableId": "singles", "name": "Singles", "columns": COLUMNS})
    start = time.perf_counter()
    for i in range(count):
        engine.call("tablesDB.createRow", {**DB, "tableId": "singles", "rowId": "unique()", "data": row_data(i)})
    return count / (time.perf_counter() - start)


def sqlite_singles(path: Path, count: int) -> float:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute(
        "CREATE TABLE items (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, created TEXT, "
        "updated TEXT, permissions TEXT, title TEXT, category INTEGER, price REAL)"
    )
    start = time.perf_counter()
    for i in range(count):
        data = row_data(i)
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(
            "INSERT INTO items (id, created, updated, permissions, title, category, price) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (f"id{i}", "now", "now", "[]", data["title"], data["category"], data["price"]),
        )
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - start
    connection.close()
    return count / elapsed


def engine_bulk(engine: Engine, total: int) -> float:
    columns = [*COLUMNS]
    engine.call("tablesDB.createTable", {**DB, "tableId": "items", "name": "Items", "columns": columns})
    engine.call(
        "tablesDB.createIndex", {**DB, "tableId": "items", "key": "by_category", "type": "key", "columns": ["category"]}
    )
    start = time.perf_counter()
    for first in range(0, total, 1000):
        rows = [{"$id": f"r{i}", **row_data(i)} for i in range(first, min(first + 1000, total))]
        engine.call("tablesDB.createRows", {**DB, "tableId": "items", "rows": rows})
    return total / (time.perf_counter() - start)


def indexed_lists(engine: Engine, count: int) -> tuple[float, float]:
    timings = []
    for i in range(count):
        query = json.dumps({"method": "equal", "attribute": "category", "values": [i * 7 % CATEGORIES]})
        start = time.perf_counter()
        result = engine.call("tablesDB.listRows", {**DB, "tableId": "items", "queries": [query]})
        timings.append((time.perf_counter() - start) * 1000)
        assert result["rows"], "the benchmark query should find rows"
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.99) - 1]


def create_latencies(engine: Engine, count: int) -> tuple[float, float]:
    """p50 and p99 (ms) of `count` single creates into the singles table."""
    timings = []
    for i in range(count):
        start = time.perf_counter()
        engine.call("tablesDB.createRow", {**DB, "tableId": "singles", "rowId": "unique()", "data": row_data(i)})
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.99) - 1]


def creates_beside_scans(engine: Engine, count: int) -> tuple[float, tuple[float, float], tuple[float, float]]:
    """(seconds per regex scan of the items table, create p50/p99 alone, create p50/p99 during scans)."""
    regex = json.dumps({"method": "regex", "attribute": "title", "values": ["^item (1+)+5$"]})
    scan = {**DB, "tableId": "items", "queries": [regex]}
    start = time.perf_counter()
    engine.call("tablesDB.listRows", scan)
    seconds = time.perf_counter() - start
    alone = create_latencies(engine, count)
    stop = threading.Event()

    def scan_until_stopped() -> None:
        while not stop.is_set():
            engine.call("tablesDB.listRows", scan)

    scanner = threading.Thread(target=scan_until_stopped)
    scanner.start()
    try:
        time.sleep(seconds / 2)
        during = create_latencies(engine, count)
    finally:
        stop.set()
        scanner.join()
    return seconds, alone, during


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows in the table the list benchmark reads")
    parser.add_argument("--singles", type=int, default=2000, help="single-row creates to time")
    parser.add_argument("--lists", type=int, default=500, help="indexed list calls to time")
    parser.add_argument("--beside", type=int, default=500, help="single creates to time alone and beside scans")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        engine = Engine(Path(directory) / "data", list_cache_ttl=0)
        engine.call("tablesDB.create", {**DB, "name": "Bench"})
        ours = engine_singles(engine, args.singles)
        raw = sqlite_singles(Path(directory) / "raw.sqlite3", args.singles)
        print(
            f"single creates: engine {ours:,.0f}/s, raw sqlite3 {raw:,.0f}/s, ratio {ours / raw:.2f} (target >= 0.33)"
        )
        bulk = engine_bulk(engine, args.rows)
        print(f"bulk creates (1,000 per call): {bulk:,.0f} rows/s, {args.rows:,} rows loaded")
        p50, p99 = indexed_lists(engine, args.lists)
        print(f"indexed equality list over {args.rows:,} rows: p50 {p50:.3f} ms, p99 {p99:.3f} ms (target p50 < 2 ms)")
        seconds, alone, during = creates_beside_scans(engine, args.beside)
        print(
            f"single creates alone: p50 {alone[0]:.2f} ms, p99 {alone[1]:.2f} ms; beside regex scans of "
            f"{args.rows:,} rows ({seconds * 1000:,.0f} ms each): p50 {during[0]:.2f} ms, p99 {during[1]:.2f} ms"
        )
        engine.close()


if __name__ == "__main__":
    main()
