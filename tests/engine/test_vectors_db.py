"""vectorsDB on the embedded engine: databases, collections of a fixed dimension, documents holding a vector
and metadata, indexes, transactions, and exact nearest-neighbour queries that honour filters and permissions."""

from __future__ import annotations

import json

import numpy
import pytest

from mcp_server.engine.permissions import user_auth
from tests.engine.conftest import error_of, q

DIM = 8
METRICS = ("vectorDot", "vectorCosine", "vectorEuclidean")


def open_collection(call, dimension: int) -> dict:
    """Database `vdb` with collection `docs` of `dimension`, open to anyone, with document security."""
    call("vectorsDB.create", databaseId="vdb", name="Vectors")
    return call(
        "vectorsDB.createCollection",
        databaseId="vdb",
        collectionId="docs",
        name="Docs",
        dimension=dimension,
        permissions=['read("any")', 'create("any")', 'update("any")', 'delete("any")'],
        documentSecurity=True,
    )


@pytest.fixture
def coll(call):
    return open_collection(call, DIM)


def brute_force(method: str, matrix: numpy.ndarray, vector: numpy.ndarray) -> numpy.ndarray:
    if method == "vectorEuclidean":
        distance = numpy.linalg.norm(matrix - vector, axis=1)
    elif method == "vectorDot":
        distance = -(matrix @ vector)
    else:
        distance = -(matrix @ vector) / (numpy.linalg.norm(matrix, axis=1) * numpy.linalg.norm(vector))
    return numpy.argsort(distance, kind="stable")


def test_a_collection_has_a_fixed_schema_of_its_dimension(call, coll):
    assert coll["dimension"] == DIM and coll["documentSecurity"] is True
    keys = {attribute["key"]: attribute for attribute in coll["attributes"]}
    assert keys["embeddings"]["type"] == "vector" and keys["embeddings"]["size"] == DIM
    assert keys["metadata"]["type"] == "object"
    assert [(index["key"], index["type"]) for index in coll["indexes"]] == [("_key_metadata", "object")]
    assert call("vectorsDB.getCollection", databaseId="vdb", collectionId="docs")["dimension"] == DIM
    listed = call("vectorsDB.listCollections", databaseId="vdb")
    assert [c["$id"] for c in listed["collections"]] == ["docs"]
    assert (
        call("vectorsDB.updateCollection", databaseId="vdb", collectionId="docs", name="D", dimension=4)["dimension"]
        == 4
    )


def test_the_dimension_cannot_change_under_stored_vectors(call, coll):
    call(
        "vectorsDB.createDocument",
        databaseId="vdb",
        collectionId="docs",
        documentId="a",
        data={"embeddings": [0.5] * DIM},
    )
    error = error_of(call, "vectorsDB.updateCollection", databaseId="vdb", collectionId="docs", name="D", dimension=3)
    assert error.type == "general_argument_invalid" and "`dimension`" in error.message
    assert call("vectorsDB.getCollection", databaseId="vdb", collectionId="docs")["dimension"] == DIM


def test_a_collection_needs_a_valid_dimension(call):
    call("vectorsDB.create", databaseId="vdb", name="Vectors")
    error = error_of(call, "vectorsDB.createCollection", databaseId="vdb", collectionId="c", name="C", dimension=0)
    assert "dimension" in error.message


def test_documents_hold_a_vector_and_metadata(call, coll):
    created = call(
        "vectorsDB.createDocument",
        databaseId="vdb",
        collectionId="docs",
        documentId="a",
        data={"embeddings": [0.25] * DIM, "metadata": {"topic": "cats", "n": 1}},
    )
    assert created["embeddings"] == [0.25] * DIM and created["metadata"] == {"topic": "cats", "n": 1}
    assert created["$collectionId"] == "docs" and created["$databaseId"] == "vdb"
    got = call("vectorsDB.getDocument", databaseId="vdb", collectionId="docs", documentId="a")
    assert got["metadata"] == {"topic": "cats", "n": 1}
    updated = call(
        "vectorsDB.updateDocument",
        databaseId="vdb",
        collectionId="docs",
        documentId="a",
        data={"metadata": {"topic": "dogs"}},
    )
    assert updated["metadata"] == {"topic": "dogs"} and updated["embeddings"] == [0.25] * DIM
    call(
        "vectorsDB.upsertDocument",
        databaseId="vdb",
        collectionId="docs",
        documentId="b",
        data={"embeddings": [1.0] * DIM},
    )
    assert call("vectorsDB.getDocument", databaseId="vdb", collectionId="docs", documentId="b")["metadata"] == {}
    call(
        "vectorsDB.createDocuments",
        databaseId="vdb",
        collectionId="docs",
        documents=[{"$id": f"m{i}", "embeddings": [float(i)] * DIM} for i in range(3)],
    )
    call(
        "vectorsDB.upsertDocuments",
        databaseId="vdb",
        collectionId="docs",
        documents=[{"$id": "m0", "embeddings": [9.0] * DIM}],
    )
    call(
        "vectorsDB.updateDocuments",
        databaseId="vdb",
        collectionId="docs",
        data={"metadata": {"bulk": True}},
        queries=[q("startsWith", "$id", ["m"])],
    )
    listed = call(
        "vectorsDB.listDocuments", databaseId="vdb", collectionId="docs", queries=[q("startsWith", "$id", ["m"])]
    )
    assert listed["total"] == 3 and all(d["metadata"] == {"bulk": True} for d in listed["documents"])
    call("vectorsDB.deleteDocuments", databaseId="vdb", collectionId="docs", queries=[q("startsWith", "$id", ["m"])])
    call("vectorsDB.deleteDocument", databaseId="vdb", collectionId="docs", documentId="b")
    assert call("vectorsDB.listDocuments", databaseId="vdb", collectionId="docs")["total"] == 1


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"embeddings": [0.1] * (DIM - 1)}, "embeddings"),
        ({"embeddings": ["x"] * DIM}, "embeddings"),
        ({"metadata": {"a": 1}}, "embeddings"),
        ({"embeddings": [0.1] * DIM, "metadata": [1]}, "metadata"),
    ],
)
def test_a_bad_vector_or_metadata_is_refused_naming_the_attribute(call, coll, data, needle):
    error = error_of(call, "vectorsDB.createDocument", databaseId="vdb", collectionId="docs", documentId="x", data=data)
    assert error.type == "document_invalid_structure" and needle in error.message
    assert call("vectorsDB.listDocuments", databaseId="vdb", collectionId="docs")["total"] == 0


@pytest.mark.parametrize("method", METRICS)
def test_vector_search_equals_a_brute_force_ranking(call, coll, method):
    rng = numpy.random.default_rng(7)
    matrix = rng.standard_normal((300, DIM)).astype(numpy.float32)
    documents = [{"$id": f"d{i}", "embeddings": row.tolist()} for i, row in enumerate(matrix)]
    for start in range(0, len(documents), 100):
        call(
            "vectorsDB.createDocuments", databaseId="vdb", collectionId="docs", documents=documents[start : start + 100]
        )
    vector = rng.standard_normal(DIM).astype(numpy.float32)
    expected = [f"d{i}" for i in brute_force(method, matrix, vector)]
    found = call(
        "vectorsDB.listDocuments",
        databaseId="vdb",
        collectionId="docs",
        queries=[q(method, "embeddings", [vector.tolist()]), q("limit", values=[10])],
    )
    assert [d["$id"] for d in found["documents"]] == expected[:10]
    page = call(
        "vectorsDB.listDocuments",
        databaseId="vdb",
        collectionId="docs",
        queries=[q(method, "embeddings", [vector.tolist()]), q("limit", values=[5]), q("offset", values=[10])],
    )
    assert [d["$id"] for d in page["documents"]] == expected[10:15]


def test_filters_and_permissions_narrow_vector_results(call, coll):
    near, far = [1.0] * DIM, [-1.0] * DIM
    call(
        "vectorsDB.createDocument",
        databaseId="vdb",
        collectionId="docs",
        documentId="secret",
        data={"embeddings": near},
        permissions=['read("user:boss")'],
    )
    call(
        "vectorsDB.updateCollection",
        databaseId="vdb",
        collectionId="docs",
        name="Docs",
        permissions=['create("any")'],
        documentSecurity=True,
    )
    call(
        "vectorsDB.createDocument",
        databaseId="vdb",
        collectionId="docs",
        documentId="open",
        data={"embeddings": far},
        permissions=['read("any")'],
    )
    call(
        "vectorsDB.createDocument",
        databaseId="vdb",
        collectionId="docs",
        documentId="other",
        data={"embeddings": near},
        permissions=['read("any")'],
    )
    query = q("vectorEuclidean", "embeddings", [near])
    reader = user_auth("reader")
    seen = call("vectorsDB.listDocuments", auth=reader, databaseId="vdb", collectionId="docs", queries=[query])
    assert [d["$id"] for d in seen["documents"]] == ["other", "open"]
    filtered = call(
        "vectorsDB.listDocuments",
        auth=reader,
        databaseId="vdb",
        collectionId="docs",
        queries=[query, q("notEqual", "$id", ["other"])],
    )
    assert [d["$id"] for d in filtered["documents"]] == ["open"]
    boss = call(
        "vectorsDB.listDocuments",
        auth=user_auth("boss"),
        databaseId="vdb",
        collectionId="docs",
        queries=[query, q("limit", values=[1])],
    )
    assert [d["$id"] for d in boss["documents"]] in (["secret"], ["other"])


@pytest.mark.parametrize(
    ("queries", "needle"),
    [
        ([q("vectorCosine", "embeddings", [[1.0, 2.0]])], "2 dimensions"),
        ([q("vectorCosine", "metadata", [[1.0] * DIM])], "metadata"),
        ([q("vectorDot", "embeddings", [["a"] * DIM])], "finite numbers"),
        ([q("vectorDot", "embeddings", [[1.0] * DIM]), q("cursorAfter", values=["a"])], "cannot be combined"),
    ],
)
def test_a_bad_vector_query_is_refused(call, coll, queries, needle):
    error = error_of(call, "vectorsDB.listDocuments", databaseId="vdb", collectionId="docs", queries=queries)
    assert error.type == "general_query_invalid" and needle in error.message


def test_metadata_filters_narrow_vector_results(call, coll):
    for doc_id, topic, vector in (("a", "cats", [1.0] * DIM), ("b", "dogs", [0.9] * DIM), ("c", "cats", [-1.0] * DIM)):
        call(
            "vectorsDB.createDocument",
            databaseId="vdb",
            collectionId="docs",
            documentId=doc_id,
            data={"embeddings": vector, "metadata": {"topic": topic, "fresh": doc_id != "c"}},
        )
    near = q("vectorEuclidean", "embeddings", [[1.0] * DIM])

    def ids(*queries):
        found = call("vectorsDB.listDocuments", databaseId="vdb", collectionId="docs", queries=[near, *queries])
        return [d["$id"] for d in found["documents"]]

    assert ids() == ["a", "b", "c"]
    assert ids(q("equal", "metadata", [{"topic": "dogs"}])) == ["b"]
    assert ids(q("notEqual", "metadata", [{"topic": "cats"}])) == ["b"]
    assert ids(q("equal", "metadata", [{"topic": "cats", "fresh": False}])) == ["c"]
    assert ids(q("equal", "metadata", [{"topic": "dogs"}, {"fresh": False}])) == ["b", "c"]
    assert ids(q("orderAsc", "$id"), q("limit", values=[2])) == ["a", "b"]
    error = error_of(
        call, "vectorsDB.listDocuments", databaseId="vdb", collectionId="docs", queries=[q("equal", "metadata", ["x"])]
    )
    assert error.type == "general_query_invalid" and "metadata" in error.message


def test_paths_into_metadata_take_every_filter_on_their_text(call, coll):
    documents = (
        ("a", [1.0] * DIM, {"topic": "cats", "year": "2019", "tags": ["red", "big"], "owner": {"name": "ann"}}),
        ("b", [0.9] * DIM, {"topic": "capybaras", "year": "2021", "tags": ["red"], "fresh": True}),
        ("c", [0.5] * DIM, {"topic": "dogs", "year": "2020", "owner": {"name": "bob", "team": "x"}}),
        ("d", [-1.0] * DIM, {"year": "2018"}),
    )
    for doc_id, vector, metadata in documents:
        data = {"embeddings": vector, "metadata": metadata}
        call("vectorsDB.createDocument", databaseId="vdb", collectionId="docs", documentId=doc_id, data=data)
    near = q("vectorEuclidean", "embeddings", [[1.0] * DIM])

    def ids(*queries):
        found = call("vectorsDB.listDocuments", databaseId="vdb", collectionId="docs", queries=[near, *queries])
        return [d["$id"] for d in found["documents"]]

    assert ids(q("lessThan", "metadata.year", ["2020"])) == ["a", "d"]
    assert ids(q("greaterThanEqual", "metadata.year", ["2020"])) == ["b", "c"]
    assert ids(q("between", "metadata.year", ["2019", "2020"])) == ["a", "c"]
    assert ids(q("startsWith", "metadata.topic", ["ca"])) == ["a", "b"]
    assert ids(q("contains", "metadata.topic", ["og"])) == ["c"]
    assert ids(q("equal", "metadata.owner.name", ["bob"])) == ["c"]
    assert ids(q("equal", "metadata.fresh", ["true"])) == ["b"]
    assert ids(q("isNull", "metadata.topic")) == ["d"]
    assert ids(q("isNotNull", "metadata.owner")) == ["a", "c"]
    assert ids(q("notEqual", "metadata.topic", ["cats"])) == ["b", "c"]
    # The whole object: containment, a lone scalar standing for an array that holds it.
    assert ids(q("contains", "metadata", [{"tags": "red"}])) == ["a", "b"]
    assert ids(q("contains", "metadata", [{"tags": ["red", "big"]}])) == ["a"]
    assert ids(q("notContains", "metadata", [{"tags": "big"}])) == ["b", "c", "d"]
    assert ids(q("equal", "metadata", [{"owner": {"name": "bob"}}])) == ["c"]
    assert ids(q("equal", "metadata", [{"fresh": 1}])) == []
    assert ids(
        q(
            "and",
            values=[
                json.loads(q("startsWith", "metadata.topic", ["c"])),
                json.loads(q("lessThan", "metadata.year", ["2021"])),
            ],
        )
    ) == ["a"]


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        (q("lessThan", "metadata", ["x"]), "Cannot query lessThan on object attribute"),
        (q("isNull", "metadata"), "Cannot query isNull on object attribute"),
        (q("equal", "metadata.year", [2020]), 'invalid for attribute "metadata.year"'),
        (q("equal", "metadata.a b", ["x"]), "Invalid JSON key"),
        (q("equal", "embeddings.x", ["x"]), "nested attribute on: embeddings"),
        (q("orderAsc", "metadata.year"), "Cannot order by nested attribute: metadata"),
        (q("equal", "metadata", [json.loads("[" * 40 + "]" * 40)]), "must be objects"),
    ],
)
def test_metadata_filters_appwrite_refuses_are_refused(call, coll, query, needle):
    error = error_of(call, "vectorsDB.listDocuments", databaseId="vdb", collectionId="docs", queries=[query])
    assert error.type == "general_query_invalid" and needle in error.message


def test_vector_queries_work_on_vector_databases_only(call):
    call("tablesDB.create", databaseId="t", name="T")
    call("tablesDB.createTable", databaseId="t", tableId="r", name="R")
    error = error_of(call, "tablesDB.listRows", databaseId="t", tableId="r", queries=[q("vectorDot", "x", [[1.0]])])
    assert error.type == "general_query_invalid" and "vector databases only" in error.message


def test_vector_databases_and_table_databases_do_not_see_each_other(call, coll):
    call("tablesDB.create", databaseId="tables", name="T")
    assert [d["$id"] for d in call("vectorsDB.list")["databases"]] == ["vdb"]
    assert [d["$id"] for d in call("tablesDB.list")["databases"]] == ["tables"]
    assert error_of(call, "vectorsDB.get", databaseId="tables").type == "database_not_found"
    assert error_of(call, "tablesDB.get", databaseId="vdb").type == "database_not_found"
    # The legacy databases API is not type-guarded in Appwrite 1.9.6: it reads a vector collection's documents.
    data = {"embeddings": [0.5] * DIM, "metadata": {"topic": "cats"}}
    call("vectorsDB.createDocument", databaseId="vdb", collectionId="docs", documentId="one", data=data)
    listed = call("databases.listDocuments", databaseId="vdb", collectionId="docs")
    assert json.loads(json.dumps(listed))["documents"][0]["metadata"] == {"topic": "cats"}


def test_databases_indexes_and_transactions(call, coll):
    assert call("vectorsDB.get", databaseId="vdb")["type"] == "vectorsdb"
    assert call("vectorsDB.update", databaseId="vdb", name="V2")["name"] == "V2"
    assert "vdb" in [d["$id"] for d in call("vectorsDB.list")["databases"]]
    where = {"databaseId": "vdb", "collectionId": "docs"}
    call("vectorsDB.createIndex", **where, key="near", type="hnsw_cosine", attributes=["embeddings"])
    assert call("vectorsDB.getIndex", **where, key="near")["type"] == "hnsw_cosine"
    assert call("vectorsDB.listIndexes", **where)["total"] == 2
    wrong = error_of(call, "vectorsDB.createIndex", **where, key="bad", type="hnsw_dot", attributes=["metadata"])
    assert wrong.type == "index_invalid" and "metadata" in wrong.message
    call("vectorsDB.deleteIndex", **where, key="near")
    transaction = call("vectorsDB.createTransaction")
    call(
        "vectorsDB.createOperations",
        transactionId=transaction["$id"],
        operations=[
            {
                "action": "create",
                "databaseId": "vdb",
                "collectionId": "docs",
                "documentId": "t1",
                "data": {"embeddings": [0.5] * DIM},
            },
        ],
    )
    assert call("vectorsDB.getTransaction", transactionId=transaction["$id"])["operations"] == 1
    assert call("vectorsDB.listTransactions")["total"] == 1
    call("vectorsDB.updateTransaction", transactionId=transaction["$id"], commit=True)
    assert (
        call("vectorsDB.getDocument", databaseId="vdb", collectionId="docs", documentId="t1")["embeddings"]
        == [0.5] * DIM
    )
    other = call("vectorsDB.createTransaction")
    call("vectorsDB.deleteTransaction", transactionId=other["$id"])
    call("vectorsDB.deleteCollection", databaseId="vdb", collectionId="docs")
    call("vectorsDB.delete", databaseId="vdb")
    assert error_of(call, "vectorsDB.get", databaseId="vdb").type == "database_not_found"
