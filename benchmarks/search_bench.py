"""Search quality and speed over the full catalog.

Usage: python benchmarks/search_bench.py FILE.jsonl [FILE.jsonl ...] [--misses] [--rounds N] [--cli-runs N]

Each line of FILE is {"q": query, "ok": [acceptable operation ids]}. Prints recall@1, recall@5 and
MRR per file, search latency p50/p99 over every query (timed after the index is built, typo cache
cleared each round), and the wall time of the `baas-mcp search` command end to end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from mcp_server.search.index import default_index


def load_cases(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def rank_of(ids: list[str], ok: list[str]) -> int | None:
    return next((i + 1 for i, op_id in enumerate(ids) if op_id in ok), None)


def quality(index, cases: list[dict], show_misses: bool) -> dict:
    ranks = []
    for case in cases:
        ids = [hit.op.id for hit in index.search(case["q"], limit=20)]
        rank = rank_of(ids, case["ok"])
        ranks.append(rank)
        if show_misses and rank != 1:
            print(f"  rank {rank or '-':>2}  {case['q']!r}\n          want {case['ok']}  got {ids[:5]}")
    total = len(cases)
    return {
        "queries": total,
        "recall@1": sum(1 for r in ranks if r == 1) / total,
        "recall@5": sum(1 for r in ranks if r and r <= 5) / total,
        "mrr": sum(1 / r for r in ranks if r) / total,
    }


def latency(index, queries: list[str], rounds: int) -> dict:
    timings = []
    for _ in range(rounds):
        index.correct.cache_clear()
        for query in queries:
            start = time.perf_counter()
            index.search(query, limit=5)
            timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return {
        "searches": len(timings),
        "p50_ms": statistics.median(timings),
        "p99_ms": timings[int(len(timings) * 0.99) - 1],
        "max_ms": timings[-1],
    }


def cli_latency(runs: int) -> dict:
    """Wall time of `baas-mcp search QUERY --json` as a user runs it, start to exit."""
    command = [str(Path(sys.executable).with_name("baas-mcp")), "search", "upload a file to a bucket", "--json"]
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        timings.append(time.perf_counter() - start)
    return {"runs": runs, "median_s": statistics.median(timings), "max_s": max(timings)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--misses", action="store_true", help="print every query not ranked first")
    parser.add_argument("--rounds", type=int, default=20, help="timing rounds over all queries")
    parser.add_argument("--cli-runs", type=int, default=10, help="end-to-end runs of the baas-mcp command")
    args = parser.parse_args()
    start = time.perf_counter()
    index = default_index()
    print(f"index built in {(time.perf_counter() - start) * 1000:.1f} ms over {len(index.operations)} operations")
    queries = []
    for path in args.files:
        cases = load_cases(path)
        queries += [case["q"] for case in cases]
        figures = quality(index, cases, args.misses)
        print(
            f"{path.name}: {figures['queries']} queries  recall@1 {figures['recall@1']:.3f}  "
            f"recall@5 {figures['recall@5']:.3f}  MRR {figures['mrr']:.3f}"
        )
    timing = latency(index, queries, args.rounds)
    print(
        f"latency over {timing['searches']} searches: p50 {timing['p50_ms']:.3f} ms  "
        f"p99 {timing['p99_ms']:.3f} ms  max {timing['max_ms']:.3f} ms"
    )
    if args.cli_runs:
        cli = cli_latency(args.cli_runs)
        print(
            f"baas-mcp search end to end, {cli['runs']} runs: median {cli['median_s']:.3f} s, max {cli['max_s']:.3f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
