"""GraphQL: how long the schema takes to build (once per process) and how long small requests take on the engine.

Usage: python benchmarks/graphql_bench.py [--requests 500]

The schema is built from the catalog the first time a GraphQL request arrives; its build time is measured in a
fresh process, alone. Then `usersList { total }` and the standard introspection query run through
Engine.call("graphql.query") and their median times are printed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time

from graphql import get_introspection_query

from mcp_server.catalog import load_catalog
from mcp_server.engine import Engine
from mcp_server.engine.graphql.schema import build_schema


def median_ms(engine: Engine, query: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        engine.call("graphql.query", {"query": {"query": query}})
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    catalog = load_catalog()
    start = time.perf_counter()
    schema = build_schema(catalog)
    build_ms = (time.perf_counter() - start) * 1000
    fields = len(schema.query_type.fields) + len(schema.mutation_type.fields)
    with tempfile.TemporaryDirectory() as directory:
        engine = Engine(directory)
        try:
            figures = {
                "schema_build_ms": round(build_ms, 1),
                "schema_fields": fields,
                "small_query_median_ms": round(median_ms(engine, "{ usersList { total } }", args.requests), 3),
                "introspection_median_ms": round(median_ms(engine, get_introspection_query(), 20), 1),
            }
        finally:
            engine.close()
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
