"""Nearest-neighbour search for vectorsDB's `vectorDot`, `vectorCosine` and `vectorEuclidean` queries.

The candidates are the rows the caller may read that pass the other filters (the SQL of `row_operations.find`);
their float32 embeddings are scored with numpy and the top `offset + limit` kept, nearest first. Exact search
has recall 1.0 and answers in well under a second to about 100,000 vectors of 384 dimensions
(benchmarks/vectors_bench.py). When the collection has the hnsw_* index of the query's metric and enough vectors,
its graph (vector_index.py) proposes an oversampled set of candidates, the rows among them that the caller may
read and that pass the filters are scored exactly, and when too few survive the search asks for more, then falls
back to the exact scan: a row the caller may not read is never a result, whatever path finds it.
"""

from __future__ import annotations

import json

import numpy

from ..queries import Query, invalid
from . import vector_index
from .query_sql import resolve
from .schema import Index, Table

# Rows scored per numpy batch: bounds the memory of one search to this many vectors.
BATCH_ROWS = 4096
# Below this many vectors the exact scan is as quick as a graph search.
EXACT_BELOW = 1000
# Candidates asked of a graph: this many times the rows wanted (at least MIN_CANDIDATES), growing by GROWTH while
# too few of them pass the filters; a search that would ask for more than GRAPH_SHARE of the graph scans instead.
OVERSAMPLE = 4
MIN_CANDIDATES = 64
GROWTH = 8
GRAPH_SHARE = 0.25


def query_vector(table: Table, query: Query) -> numpy.ndarray:
    """The checked query vector of a vector query."""
    target = resolve(table, query.attribute)
    column = target.column
    if column is None or column.kind != "vector":
        raise invalid(f"{query.method} needs a vector attribute; {query.attribute} is not one")
    values = query.values[0]
    if not isinstance(values, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and numpy.isfinite(v) for v in values
    ):
        raise invalid(f"{query.method} takes one array of finite numbers")
    if len(values) != column.spec["size"]:
        raise invalid(
            f"{query.method} vector has {len(values)} dimensions; {query.attribute} has {column.spec['size']}"
        )
    return numpy.asarray(values, dtype=numpy.float32)


def scores(method: str, matrix: numpy.ndarray, vector: numpy.ndarray) -> numpy.ndarray:
    """Each row's distance to the vector, smaller is nearer (dot products and cosines are negated)."""
    if method == "vectorEuclidean":
        return numpy.linalg.norm(matrix - vector, axis=1)
    dots = matrix @ vector
    if method == "vectorDot":
        return -dots
    norms = numpy.linalg.norm(matrix, axis=1) * numpy.linalg.norm(vector)
    return -numpy.divide(dots, norms, out=numpy.zeros_like(dots), where=norms > 0)


def nearest(cursor, method: str, vector: numpy.ndarray, keep: int) -> list[int]:
    """The `_seq` of the `keep` nearest rows of a cursor over (_seq, embedding blob), nearest first."""
    best_seqs = numpy.empty(0, dtype=numpy.int64)
    best_scores = numpy.empty(0, dtype=numpy.float32)
    while batch := cursor.fetchmany(BATCH_ROWS):
        seqs = numpy.fromiter((seq for seq, _ in batch), dtype=numpy.int64, count=len(batch))
        matrix = numpy.frombuffer(b"".join(blob for _, blob in batch), dtype=numpy.float32).reshape(len(batch), -1)
        best_seqs = numpy.concatenate([best_seqs, seqs])
        best_scores = numpy.concatenate([best_scores, scores(method, matrix, vector).astype(numpy.float32)])
        if len(best_seqs) > keep:
            chosen = numpy.argpartition(best_scores, keep)[:keep]
            best_seqs, best_scores = best_seqs[chosen], best_scores[chosen]
    order = numpy.lexsort((best_seqs, best_scores))
    return [int(seq) for seq in best_seqs[order]]


def search(
    project, table: Table, method: str, attribute: str, vector: numpy.ndarray, base: str, params: list, keep: int
) -> list[int]:
    """The `_seq` of the `keep` nearest rows among those `base` (FROM … WHERE …) selects, nearest first."""
    column_sql = table.column(attribute).sql_name
    index = vector_index.vector_index(table, method, attribute)
    if index is not None and keep > 0:
        found = approximate(project, table, index, method, vector, (base, params, column_sql), keep)
        if found is not None:
            return found
    cursor = project.connection.execute(f"SELECT _seq, {column_sql} {base} AND {column_sql} IS NOT NULL", params)
    return nearest(cursor, method, vector, keep)


def approximate(
    project, table: Table, index: Index, method: str, vector: numpy.ndarray, where: tuple, keep: int
) -> list[int] | None:
    """The nearest rows by way of the index's graph, or None when the exact scan should answer."""
    searchable = vector_index.searchable(project, table, index)
    if searchable is None:
        return None
    graph, lock = searchable
    base, params, column_sql = where
    size = len(graph)
    wanted = max(keep * OVERSAMPLE, MIN_CANDIDATES)
    while size >= EXACT_BELOW and wanted <= GRAPH_SHARE * size:
        if not lock.acquire(timeout=vector_index.LOCK_WAIT):
            return None
        try:
            keys = graph.search(vector, wanted).keys
        finally:
            lock.release()
        cursor = project.connection.execute(
            f"SELECT _seq, {column_sql} {base} AND _seq IN (SELECT value FROM json_each(?))",
            [*params, json.dumps(keys.tolist())],
        )
        ranked = nearest(cursor, method, vector, keep)
        if len(ranked) >= keep or len(keys) < wanted:
            return ranked
        wanted *= GROWTH
    return None
