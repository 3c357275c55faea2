"""vectorsDB speed: bulk insert rate, and top-10 vector query latency (p50/p99) with its recall, by exact search
and through an hnsw_cosine index.

Usage: python benchmarks/vectors_bench.py [--rows 100000] [--dimension 384] [--queries 50] [--more 5000]
    [--data lowrank|random]

Vectors are random: `lowrank` (the default) draws them near a 32-dimensional subspace, as text embeddings lie
near one of few dimensions, and `random` draws each component independently, where no neighbour is much nearer
than another and an approximate index finds few of the exact top 10. Documents go in through Engine.call's
vectorsDB.createDocuments, 100 per call (the operation's limit). Each query is listDocuments with vectorCosine
and limit 10; recall@10 compares the ids with a numpy brute-force ranking of the same vectors (1.0 for exact
search).
Then an hnsw_cosine index is created: the first query starts building its graph on a thread of its own (queries
stay exact until it is saved), the same queries are timed through it, `--more` documents are inserted with the
index in place, and a second engine on the same data dir (another process, as `baas-mcp call` beside
`baas-mcp api`) times its first query (exact, while its own thread loads the saved graph and applies the documents
added since) and, once that thread has saved the graph again, the same queries.
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
# lowrank vectors: a point of a LATENT-dimensional subspace plus noise of this deviation in every dimension.
LATENT = 32
NOISE = 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dimension", type=int, default=384)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--more", type=int, default=5000)
    parser.add_argument("--data", choices=("lowrank", "random"), default="lowrank")
    args = parser.parse_args()
    rng = numpy.random.default_rng(1)
    draw = sampler(rng, args.data, args.dimension)
    matrix = draw(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(Path(tmp) / "data")
        engine.call("vectorsDB.create", {"databaseId": "bench", "name": "Bench"})
        engine.call("vectorsDB.createCollection", {**WHERE, "name": "Vectors", "dimension": args.dimension})
        insert_rate = insert(engine, matrix, 0)
        print(f"{args.rows:,} vectors x {args.dimension}: insert {insert_rate:,.0f} docs/s")
        vectors = list(numpy.round(draw(args.queries), 3).astype(numpy.float32))
        report("exact", *run_queries(engine, matrix, vectors))
        engine.call(
            "vectorsDB.createIndex", {**WHERE, "key": "near", "type": "hnsw_cosine", "attributes": ["embeddings"]}
        )
        start = time.perf_counter()
        query(engine, vectors[0])
        while not any((Path(tmp) / "data" / "default" / "vectors").glob("*.json")):
            time.sleep(0.1)
        print(f"hnsw_cosine: graph built and saved in {time.perf_counter() - start:.1f} s")
        report("hnsw_cosine", *run_queries(engine, matrix, vectors))
        more = draw(args.more)
        print(f"hnsw_cosine: insert {insert(engine, more, args.rows):,.0f} docs/s with the index")
        matrix = numpy.concatenate([matrix, more])
        other = Engine(Path(tmp) / "data")
        note = next((Path(tmp) / "data" / "default" / "vectors").glob("*.json"))
        saved = note.stat().st_mtime_ns
        start = time.perf_counter()
        query(other, vectors[0])
        print(f"hnsw_cosine: another engine's first query {time.perf_counter() - start:.1f} s")
        while note.stat().st_mtime_ns == saved:
            time.sleep(0.1)
        print(
            f"hnsw_cosine: its graph loaded, {args.more:,} documents added, saved: {time.perf_counter() - start:.1f} s"
        )
        report("hnsw_cosine after the inserts", *run_queries(other, matrix, vectors))
        other.close()
        engine.close()


def sampler(rng: numpy.random.Generator, data: str, dimension: int):
    """draw(n): n float32 vectors of the kind asked for."""
    if data == "random":
        return lambda n: rng.standard_normal((n, dimension)).astype(numpy.float32)
    basis = rng.standard_normal((LATENT, dimension)).astype(numpy.float32) / numpy.sqrt(LATENT)
    return lambda n: (rng.standard_normal((n, LATENT)) @ basis + NOISE * rng.standard_normal((n, dimension))).astype(
        numpy.float32
    )


def insert(engine: Engine, matrix: numpy.ndarray, offset: int) -> float:
    """Insert the vectors as documents v<offset>…, 100 per call; documents per second."""
    start = time.perf_counter()
    for first in range(0, len(matrix), BATCH):
        documents = [
            {"$id": f"v{offset + i}", "embeddings": matrix[i].tolist()}
            for i in range(first, min(first + BATCH, len(matrix)))
        ]
        engine.call("vectorsDB.createDocuments", {**WHERE, "documents": documents})
    return len(matrix) / (time.perf_counter() - start)


def query(engine: Engine, vector: numpy.ndarray) -> set[str]:
    # Appwrite 1.9.6 caps a query string at 4,096 characters: 384 numbers fit with 3 decimals.
    values = [[round(float(v), 3) for v in vector]]
    nearest = json.dumps({"method": "vectorCosine", "attribute": "embeddings", "values": values})
    limit = json.dumps({"method": "limit", "values": [10]})
    found = engine.call("vectorsDB.listDocuments", {**WHERE, "queries": [nearest, limit], "total": False})
    return {d["$id"] for d in found["documents"]}


def run_queries(engine: Engine, matrix: numpy.ndarray, vectors: list) -> tuple[list[float], list[float]]:
    """Each query's time and recall@10 against a numpy brute-force ranking."""
    normalized = matrix / numpy.linalg.norm(matrix, axis=1, keepdims=True)
    timings, recalls = [], []
    for vector in vectors:
        start = time.perf_counter()
        found = query(engine, vector)
        timings.append(time.perf_counter() - start)
        expected = {f"v{i}" for i in numpy.argsort(-(normalized @ vector))[:10]}
        recalls.append(len(expected & found) / 10)
    return timings, recalls


def report(name: str, timings: list[float], recalls: list[float]) -> None:
    timings = sorted(timings)
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    print(
        f"{name}: top-10 vectorCosine p50 {statistics.median(timings) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
        f"recall@10 {statistics.mean(recalls):.3f}"
    )


if __name__ == "__main__":
    main()
