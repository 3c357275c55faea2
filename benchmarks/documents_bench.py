"""documentsDB speed: bulk insert rate, and equality query latency (p50/p99) on an indexed nested field,
with the same query on an unindexed field for contrast.

Usage: python benchmarks/documents_bench.py [--documents 100000] [--queries 200]

Nested documents go in through Engine.call's documentsDB.createDocuments, 100 per call (the operation's
limit). A key index covers `profile.city` (one of 1,000 values, about 100 documents each); each query is
listDocuments with equal on that field and limit 25, and the unindexed query is equal on `profile.zip`
(as selective, no index). Times are Engine.call's, the execute path every face goes through.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from mcp_server.engine import Engine

WHERE = {"databaseId": "bench", "collectionId": "people"}
BATCH = 100
CITIES = 1000


def document(number: int, rng: random.Random) -> dict:
    return {
        "$id": f"d{number}",
        "name": f"person {number}",
        "age": rng.randint(0, 99),
        "big": rng.randint(-(2**63), 2**63 - 1),
        "profile": {"city": f"city{number % CITIES}", "zip": f"z{number % CITIES}", "tags": ["a", "b"]},
    }


def percentiles(timings: list[float]) -> str:
    timings = sorted(timings)
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    return f"p50 {statistics.median(timings) * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms"


def time_queries(engine: Engine, field: str, count: int, rng: random.Random) -> list[float]:
    timings = []
    for _ in range(count):
        prefix = "city" if field.endswith("city") else "z"
        query = json.dumps({"method": "equal", "attribute": field, "values": [f"{prefix}{rng.randrange(CITIES)}"]})
        start = time.perf_counter()
        found = engine.call("documentsDB.listDocuments", {**WHERE, "queries": [query], "total": False})
        timings.append(time.perf_counter() - start)
        assert found["documents"], query
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(Path(tmp) / "data", list_cache_ttl=0)
        engine.call("documentsDB.create", {"databaseId": "bench", "name": "Bench"})
        engine.call("documentsDB.createCollection", {**WHERE, "name": "People"})
        engine.call(
            "documentsDB.createIndex", {**WHERE, "key": "city", "type": "key", "attributes": ["profile.city"]}
        )
        start = time.perf_counter()
        for first in range(0, args.documents, BATCH):
            batch = [document(n, rng) for n in range(first, min(first + BATCH, args.documents))]
            engine.call("documentsDB.createDocuments", {**WHERE, "documents": batch})
        insert_rate = args.documents / (time.perf_counter() - start)
        indexed = time_queries(engine, "profile.city", args.queries, rng)
        unindexed = time_queries(engine, "profile.zip", max(args.queries // 10, 5), rng)
        engine.close()
    print(f"{args.documents:,} nested documents: insert {insert_rate:,.0f} docs/s (index on profile.city)")
    print(f"equal on an indexed field: {percentiles(indexed)}")
    print(f"equal on an unindexed field: {percentiles(unindexed)}")


if __name__ == "__main__":
    main()
