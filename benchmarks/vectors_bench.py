"""vectorsDB speed: bulk insert rate, and top-10 vector query latency (p50/p99) with its recall.

Usage: python benchmarks/vectors_bench.py [--rows 100000] [--dimension 384] [--queries 50]

Documents (random float32 vectors) go in through Engine.call's vectorsDB.createDocuments, 100 per call
(the operation's limit). Each query is listDocuments with vectorCosine and limit 10;
recall@10 compares the ids with a numpy brute-force ranking of the same vectors (1.0 for exact search).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy

from mcp_server.engine import Engine

WHERE = {"databaseId": "bench", "collectionId": "vectors"}
BATCH = 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dimension", type=int, default=384)
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    rng = numpy.random.default_rng(1)
    matrix = rng.standard_normal((args.rows, args.dimension)).astype(numpy.float32)
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(Path(tmp) / "data")
        engine.call("vectorsDB.create", {"databaseId": "bench", "name": "Bench"})
        engine.call("vectorsDB.createCollection", {**WHERE, "name": "Vectors", "dimension": args.dimension})
        start = time.perf_counter()
        for first in range(0, args.rows, BATCH):
            documents = [
                {"$id": f"v{i}", "embeddings": matrix[i].tolist()} for i in range(first, min(first + BATCH, args.rows))
            ]
            engine.call("vectorsDB.createDocuments", {**WHERE, "documents": documents})
        insert_rate = args.rows / (time.perf_counter() - start)
        normalized = matrix / numpy.linalg.norm(matrix, axis=1, keepdims=True)
        timings, recalls = [], []
        for _ in range(args.queries):
            # Appwrite 1.9.6 caps a query string at 4,096 characters: 384 numbers fit with 3 decimals.
            vector = numpy.round(rng.standard_normal(args.dimension), 3).astype(numpy.float32)
            values = [[round(float(v), 3) for v in vector]]
            query = json.dumps({"method": "vectorCosine", "attribute": "embeddings", "values": values})
            limit = json.dumps({"method": "limit", "values": [10]})
            start = time.perf_counter()
            found = engine.call("vectorsDB.listDocuments", {**WHERE, "queries": [query, limit], "total": False})
            timings.append(time.perf_counter() - start)
            expected = {f"v{i}" for i in numpy.argsort(-(normalized @ vector))[:10]}
            recalls.append(len(expected & {d["$id"] for d in found["documents"]}) / 10)
        engine.close()
    timings.sort()
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    print(f"{args.rows:,} vectors x {args.dimension}: insert {insert_rate:,.0f} docs/s")
    print(f"top-10 vectorCosine: p50 {statistics.median(timings) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
    print(f"recall@10: {statistics.mean(recalls):.3f}")


if __name__ == "__main__":
    main()
