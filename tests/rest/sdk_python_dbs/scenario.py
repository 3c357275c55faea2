"""The official Python SDK's DocumentsDB and VectorsDB services (appwrite 24.4.0, see requirements.txt) against an
Appwrite endpoint.

Environment: ENDPOINT (e.g. http://127.0.0.1:8080/v1), PROJECT and KEY (an API key with the database, collection,
document and index scopes). Arguments: the scenarios to run (default: all).

Each scenario is a function registered with @scenario that works in its own database, and records what it observed
with `check(label, actual, expected)`. Prints one JSON object: {"sdk": "appwrite X", "scenarios": {name: {"checks":
{...}, "mismatches": [...], "error": str | null}}}. tests/rest/test_sdk_documents_vectors.py asserts.
"""

from __future__ import annotations

import os
import sys

from appwrite.client import Client
from appwrite.enums.documents_db_index_type import DocumentsDBIndexType
from appwrite.enums.vectors_db_index_type import VectorsDBIndexType
from appwrite.id import ID
from appwrite.query import Query
from appwrite.services.documents_db import DocumentsDB
from appwrite.services.vectors_db import VectorsDB
from python_scenarios import Report, main, scenario

ENDPOINT = os.environ["ENDPOINT"]
PROJECT = os.environ.get("PROJECT", "default")
KEY = os.environ["KEY"]
# The ends of the signed 64-bit range, and a whole number a double cannot hold.
MAX_INT64 = 2**63 - 1
MIN_INT64 = -(2**63)
BIG = 2**53 + 1
PERSON = {
    "name": "Ada",
    "born": 1815,
    "views": MAX_INT64,
    "least": MIN_INT64,
    "address": {"city": "London", "geo": {"lat": 51.5, "lng": -0.12}, "lines": ["12 St James's Sq", None]},
    "tags": ["math", "poetry"],
    "nested": [[1, 2], {"deep": {"flags": [True, False, None]}}],
    "note": None,
}


def client() -> Client:
    return Client().set_endpoint(ENDPOINT).set_project(PROJECT).set_key(KEY)


@scenario
def documents(report: Report) -> None:
    service = DocumentsDB(client())
    database = service.create(ID.unique(), "People")
    report.check("database", (database.name, database.type.value, database.enabled), ("People", "documentsdb", True))
    collection = service.create_collection(database.id, "people", "People", document_security=True)
    report.check("collection", (collection.id, collection.documentsecurity), ("people", True))
    created = service.create_document(database.id, "people", "ada", PERSON)
    report.check("created", created.data, PERSON)
    read = service.get_document(database.id, "people", "ada")
    report.check(
        "read", (read.id, read.collectionid, read.databaseid, read.data), ("ada", "people", database.id, PERSON)
    )
    report.check("read.int64", (type(read.data["views"]).__name__, read.data["views"]), ("int", MAX_INT64))
    others = [
        {"$id": "grace", "name": "Grace", "born": 1906, "address": {"city": "New York"}, "views": BIG},
        {"$id": "alan", "name": "Alan", "born": 1912, "address": {"city": "London"}, "tags": ["math"]},
    ]
    bulk = service.create_documents(database.id, "people", others)
    report.check("bulk", sorted(document.id for document in bulk.documents), ["alan", "grace"])
    londoners = service.list_documents(
        database.id, "people", [Query.equal("address.city", "London"), Query.order_asc("born")]
    )
    report.check("nested.equal", [document.id for document in londoners.documents], ["ada", "alan"])
    report.check("nested.total", londoners.total, 2)
    later = service.list_documents(database.id, "people", [Query.greater_than("born", 1900), Query.order_desc("born")])
    report.check("greaterThan", [document.id for document in later.documents], ["alan", "grace"])
    exact = service.list_documents(database.id, "people", [Query.equal("views", BIG)])
    report.check("bigEqual", [document.id for document in exact.documents], ["grace"])
    tagged = service.list_documents(database.id, "people", [Query.contains("tags", ["math"]), Query.order_asc("born")])
    report.check("contains", [document.id for document in tagged.documents], ["ada", "alan"])
    picked = service.list_documents(
        database.id, "people", [Query.equal("$id", ["ada"]), Query.select(["address.city"])]
    )
    report.check("select", picked.documents[0].data.get("address"), {"city": "London"})
    bumped = service.increment_document_attribute(database.id, "people", "alan", "born", 1)
    report.check("increment", bumped.data["born"], 1913)
    upserted = service.upsert_document(database.id, "people", "grace", {"name": "Grace Hopper", "rank": "admiral"})
    report.check("upsert", (upserted.data["name"], upserted.data.get("rank")), ("Grace Hopper", "admiral"))
    index = service.create_index(database.id, "people", "by_city", DocumentsDBIndexType.KEY, ["address.city"])
    report.check("index", (index.key, index.type, index.attributes), ("by_city", "key", ["address.city"]))
    transaction = service.create_transaction()
    staged = {"action": "create", "databaseId": database.id, "collectionId": "people", "documentId": "kept"}
    service.create_operations(transaction.id, [{**staged, "data": {"name": "Kept"}}])
    report.fails("uncommitted", lambda: service.get_document(database.id, "people", "kept"), 404, "document_not_found")
    service.update_transaction(transaction.id, commit=True)
    report.check("committed", service.get_document(database.id, "people", "kept").data["name"], "Kept")
    service.delete_document(database.id, "people", "kept")
    report.fails("deleted", lambda: service.get_document(database.id, "people", "kept"), 404, "document_not_found")
    report.fails("unknown database", lambda: service.get_collection("nowhere", "people"), 404, "database_not_found")


@scenario
def vectors(report: Report) -> None:
    service = VectorsDB(client())
    database = service.create(ID.unique(), "Knowledge")
    report.check("database", (database.name, database.type.value), ("Knowledge", "vectorsdb"))
    collection = service.create_collection(database.id, "chunks", "Chunks", 3)
    report.check("collection", (collection.id, collection.dimension), ("chunks", 3))
    chunks = {
        "x": ([1.0, 0.0, 0.0], {"topic": "cats"}),
        "xy": ([0.7, 0.7, 0.0], {"topic": "dogs"}),
        "y": ([0.0, 1.0, 0.0], {"topic": "cats"}),
        "z": ([0.0, 0.0, 1.0], {"topic": "dogs"}),
    }
    for chunk_id, (vector, metadata) in chunks.items():
        service.create_document(database.id, "chunks", chunk_id, {"embeddings": vector, "metadata": metadata})
    read = service.get_document(database.id, "chunks", "xy")
    report.check("read", (read.data["embeddings"], read.data["metadata"]), ([0.7, 0.7, 0.0], {"topic": "dogs"}))
    near = service.list_documents(
        database.id, "chunks", [Query.vector_cosine("embeddings", [1.0, 0.1, 0.0]), Query.limit(3)]
    )
    report.check("cosine", [document.id for document in near.documents], ["x", "xy", "y"])
    closest = service.list_documents(
        database.id, "chunks", [Query.vector_euclidean("embeddings", [0.0, 0.0, 0.9]), Query.limit(1)]
    )
    report.check("euclidean", [document.id for document in closest.documents], ["z"])
    cats = service.list_documents(
        database.id,
        "chunks",
        [Query.vector_dot("embeddings", [0.6, 0.8, 0.0]), Query.equal("metadata", [{"topic": "cats"}])],
    )
    report.check("filtered", [document.id for document in cats.documents], ["y", "x"])
    index = service.create_index(database.id, "chunks", "by_vector", VectorsDBIndexType.HNSW_COSINE, ["embeddings"])
    report.check("index", (index.key, index.type), ("by_vector", "hnsw_cosine"))
    report.fails(
        "wrong dimension",
        lambda: service.create_document(database.id, "chunks", "bad", {"embeddings": [1.0, 2.0]}),
        400,
        "document_invalid_structure",
    )
    service.delete_document(database.id, "chunks", "x")
    again = service.list_documents(
        database.id, "chunks", [Query.vector_cosine("embeddings", [1.0, 0.1, 0.0]), Query.limit(1)]
    )
    report.check("after delete", [document.id for document in again.documents], ["xy"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
