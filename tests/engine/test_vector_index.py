"""vectorsDB's hnsw_* indexes: searches through an HNSW graph match a brute-force ranking, follow every committed
change (from this process or another one sharing the data dir), ignore rolled-back ones, and never return a row
the caller may not read."""

from __future__ import annotations

import json
import time

import numpy
import pytest

from mcp_server.engine import Engine
from mcp_server.engine.databases.vector_search import EXACT_BELOW
from mcp_server.engine.permissions import ADMIN, user_auth
from tests.commands import baas_mcp
from tests.engine.conftest import error_of, q
from tests.engine.test_vectors_db import brute_force, open_collection

DIM = 16
COUNT = EXACT_BELOW + 500
INDEXES = {"vectorDot": "hnsw_dot", "vectorCosine": "hnsw_cosine", "vectorEuclidean": "hnsw_euclidean"}
WHERE = {"databaseId": "vdb", "collectionId": "docs"}


def fill(call, matrix: numpy.ndarray, permissions: list[str] | None = None, prefix: str = "d") -> None:
    documents = [{"$id": f"{prefix}{i}", "embeddings": row.tolist()} for i, row in enumerate(matrix)]
    if permissions is not None:
        documents = [document | {"$permissions": permissions} for document in documents]
    for start in range(0, len(documents), 100):
        call("vectorsDB.createDocuments", **WHERE, documents=documents[start : start + 100])


@pytest.fixture
def coll(call):
    return open_collection(call, DIM)


def nearest_ids(call, method: str, vector, limit: int = 10, auth=ADMIN, extra: tuple = ()) -> list[str]:
    queries = [q(method, "embeddings", [list(map(float, vector))]), q("limit", values=[limit]), *extra]
    return [d["$id"] for d in call("vectorsDB.listDocuments", auth=auth, **WHERE, queries=queries)["documents"]]


def graph_ready(call, engine, method: str) -> None:
    """Search until the index's graph, built on a thread of its own (searches are exact meanwhile), is saved beside
    the project database, and so in use."""
    deadline = time.monotonic() + 120
    while not any(engine.data_dir.glob("default/vectors/*.json")):
        assert time.monotonic() < deadline, "the graph was never built"
        nearest_ids(call, method, numpy.ones(DIM))
        time.sleep(0.05)


@pytest.mark.parametrize("method", list(INDEXES))
def test_graph_search_has_the_recall_of_a_brute_force_ranking(call, coll, engine, method):
    rng = numpy.random.default_rng(11)
    matrix = rng.standard_normal((COUNT, DIM)).astype(numpy.float32)
    fill(call, matrix)
    call("vectorsDB.createIndex", **WHERE, key="near", type=INDEXES[method], attributes=["embeddings"])
    graph_ready(call, engine, method)
    found = 0
    for _ in range(20):
        vector = rng.standard_normal(DIM).astype(numpy.float32)
        expected = {f"d{i}" for i in brute_force(method, matrix, vector)[:10]}
        found += len(expected & set(nearest_ids(call, method, vector)))
    assert found / 200 >= 0.95


def test_updates_deletes_and_other_processes_changes_are_seen(call, coll, engine):
    rng = numpy.random.default_rng(12)
    fill(call, rng.standard_normal((COUNT, DIM)).astype(numpy.float32))
    call("vectorsDB.createIndex", **WHERE, key="near", type="hnsw_euclidean", attributes=["embeddings"])
    graph_ready(call, engine, "vectorEuclidean")
    target = numpy.full(DIM, 9.0, dtype=numpy.float32)
    assert "d5" not in nearest_ids(call, "vectorEuclidean", target)
    call("vectorsDB.updateDocument", **WHERE, documentId="d5", data={"embeddings": target.tolist()})
    assert nearest_ids(call, "vectorEuclidean", target)[0] == "d5"
    # Another engine on the same data dir (as `baas-mcp call` beside `baas-mcp api`) loads the saved graph,
    # brings it up to date, and its changes reach this one.
    other = Engine(engine.data_dir, list_cache_ttl=0)
    try:
        assert (
            other.call(
                "vectorsDB.listDocuments",
                {**WHERE, "queries": [q("vectorEuclidean", "embeddings", [target.tolist()]), q("limit", values=[1])]},
                ADMIN,
            )["documents"][0]["$id"]
            == "d5"
        )
        other.call("vectorsDB.deleteDocument", {**WHERE, "documentId": "d5"}, ADMIN)
        other.call(
            "vectorsDB.updateDocument",
            {**WHERE, "documentId": "d7", "data": {"embeddings": (target * 1.01).tolist()}},
            ADMIN,
        )
    finally:
        other.close()
    assert nearest_ids(call, "vectorEuclidean", target)[0] == "d7"
    assert "d5" not in nearest_ids(call, "vectorEuclidean", target, limit=100)
    call("vectorsDB.deleteDocuments", **WHERE, queries=[q("equal", "$id", ["d7"])])
    assert "d7" not in nearest_ids(call, "vectorEuclidean", target)


def test_baas_mcp_call_beside_the_engine_shares_its_graph(call, coll, engine):
    rng = numpy.random.default_rng(15)
    fill(call, rng.standard_normal((COUNT, DIM)).astype(numpy.float32))
    call("vectorsDB.createIndex", **WHERE, key="near", type="hnsw_euclidean", attributes=["embeddings"])
    graph_ready(call, engine, "vectorEuclidean")
    target = numpy.full(DIM, 9.0).tolist()
    where = ["--data-dir", str(engine.data_dir)]
    changed = {**WHERE, "documentId": "d8", "data": {"embeddings": target}}
    updated = baas_mcp("call", "vectorsDB.updateDocument", "--params", json.dumps(changed), *where)
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert nearest_ids(call, "vectorEuclidean", target)[0] == "d8"
    queries = [q("vectorEuclidean", "embeddings", [target]), q("limit", values=[3])]
    listed = baas_mcp("call", "vectorsDB.listDocuments", "--params", json.dumps({**WHERE, "queries": queries}), *where)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert [d["$id"] for d in json.loads(listed.stdout)["documents"]] == nearest_ids(call, "vectorEuclidean", target, 3)


def test_a_rolled_back_transaction_leaves_the_graph_as_it_was(call, coll, engine):
    rng = numpy.random.default_rng(13)
    fill(call, rng.standard_normal((COUNT, DIM)).astype(numpy.float32))
    call("vectorsDB.createIndex", **WHERE, key="near", type="hnsw_cosine", attributes=["embeddings"])
    graph_ready(call, engine, "vectorCosine")
    target = numpy.ones(DIM, dtype=numpy.float32)
    before = nearest_ids(call, "vectorCosine", target)
    transaction = call("vectorsDB.createTransaction")
    update = {"action": "update", **WHERE, "documentId": "d3", "data": {"embeddings": target.tolist()}}
    call("vectorsDB.createOperations", transactionId=transaction["$id"], operations=[update])
    # Staging replays the operations in a transaction that is rolled back; a failing batch is refused whole.
    failing = [update, {"action": "create", **WHERE, "documentId": "d4", "data": {"embeddings": target.tolist()}}]
    error = error_of(call, "vectorsDB.createOperations", transactionId=transaction["$id"], operations=failing)
    assert error.type == "document_already_exists"
    assert nearest_ids(call, "vectorCosine", target) == before
    call("vectorsDB.updateTransaction", transactionId=transaction["$id"], commit=True)
    assert nearest_ids(call, "vectorCosine", target)[0] == "d3"


def test_rows_a_user_may_not_read_never_come_back_however_near(call, coll, engine):
    rng = numpy.random.default_rng(14)
    target = numpy.ones(DIM, dtype=numpy.float32)
    fill(call, rng.standard_normal((COUNT, DIM)).astype(numpy.float32) - 3, permissions=['read("any")'])
    secrets = target + rng.standard_normal((200, DIM)).astype(numpy.float32) * 0.01
    fill(call, secrets, permissions=['read("user:boss")'], prefix="s")
    call(
        "vectorsDB.updateCollection",
        **WHERE,
        name="Docs",
        permissions=['create("any")'],
        documentSecurity=True,
    )
    call("vectorsDB.createIndex", **WHERE, key="near", type="hnsw_cosine", attributes=["embeddings"])
    graph_ready(call, engine, "vectorCosine")
    seen = nearest_ids(call, "vectorCosine", target, auth=user_auth("reader"))
    assert len(seen) == 10 and not any(doc_id.startswith("s") for doc_id in seen)
    boss = nearest_ids(call, "vectorCosine", target, auth=user_auth("boss"))
    assert all(doc_id.startswith("s") for doc_id in boss)
    filtered = nearest_ids(call, "vectorCosine", target, auth=user_auth("boss"), extra=(q("startsWith", "$id", ["d"]),))
    assert len(filtered) == 10 and all(doc_id.startswith("d") for doc_id in filtered)
