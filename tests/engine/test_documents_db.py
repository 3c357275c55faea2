"""documentsDB: schemaless databases, collections, documents, queries on nested fields, indexes,
permissions, transactions and the events of every change."""

from __future__ import annotations

import pytest

from mcp_server.engine.databases.field_queries import field_condition
from mcp_server.engine.events import read_after
from mcp_server.engine.permissions import user_auth
from mcp_server.engine.queries import Query
from tests.engine.conftest import error_of, q

DB = {"databaseId": "docs"}
C = {**DB, "collectionId": "people"}
BIG = 2**63 - 1
ADA = {
    "name": "Ada",
    "big": BIG,
    "small": -(2**63),
    "ratio": 0.1,
    "address": {"city": "London", "geo": {"lat": 51.5, "lng": -0.12}, "lines": ["1 Main St", None]},
    "tags": ["math", "poet"],
    "nested": [[1, 2], {"deep": {"deeper": [True, False, None]}}],
    "unicode": "Ünïcødé ✓",
    "nothing": None,
}


@pytest.fixture
def people(call):
    call("documentsDB.create", **DB, name="Docs")
    call("documentsDB.createCollection", **C, name="People", permissions=['read("any")', 'write("users")'])
    return C


def event_names(engine, after: int = 0) -> list[str]:
    with engine.project().db.reading() as connection:
        return [event.name for event in read_after(connection, after, 10_000)]


def test_databases_and_collections(call):
    created = call("documentsDB.create", **DB, name="Docs")
    assert created["type"] == "documentsdb" and created["enabled"] is True
    call("tablesDB.create", databaseId="tables", name="Tables")
    assert [db["$id"] for db in call("documentsDB.list")["databases"]] == ["docs"]
    assert [db["$id"] for db in call("tablesDB.list")["databases"]] == ["tables"]
    assert call("documentsDB.update", **DB, name="Renamed")["name"] == "Renamed"
    assert call("documentsDB.get", **DB)["name"] == "Renamed"
    collection = call("documentsDB.createCollection", **C, name="People", documentSecurity=True)
    assert collection["attributes"] == [] and collection["documentSecurity"] is True
    refused = error_of(
        call, "documentsDB.createCollection", **DB, collectionId="typed", name="T", attributes=[{"key": "a"}]
    )
    assert refused.type == "general_argument_invalid" and "schemaless" in refused.message
    assert call("documentsDB.updateCollection", **C, name="Folk")["name"] == "Folk"
    assert call("documentsDB.getCollection", **C)["name"] == "Folk"
    assert call("documentsDB.listCollections", **DB)["total"] == 1
    # Each family reaches only its own databases (the collection is cached by now: the cache checks too).
    assert error_of(call, "tablesDB.getTable", **DB, tableId="people").type == "database_not_found"
    assert error_of(call, "tablesDB.listRows", **DB, tableId="people").type == "database_not_found"
    assert error_of(call, "documentsDB.get", databaseId="tables").type == "database_not_found"
    assert error_of(call, "documentsDB.listCollections", databaseId="tables").type == "database_not_found"
    call("documentsDB.deleteCollection", **C)
    assert error_of(call, "documentsDB.getCollection", **C).type == "collection_not_found"
    call("documentsDB.delete", **DB)
    assert error_of(call, "documentsDB.get", **DB).type == "database_not_found"


def test_nested_documents_and_64_bit_integers_round_trip_exactly(call, people):
    created = call("documentsDB.createDocument", **C, documentId="ada", data=ADA)
    assert created["$collectionId"] == "people" and created["$databaseId"] == "docs"
    assert {key: created[key] for key in ADA} == ADA
    assert type(created["ratio"]) is float and created["big"] == BIG
    assert call("documentsDB.getDocument", **C, documentId="ada") == created
    [listed] = call("documentsDB.listDocuments", **C)["documents"]
    assert listed == created
    too_big = error_of(call, "documentsDB.createDocument", **C, documentId="x", data={"n": 2**63})
    assert too_big.type == "document_invalid_structure" and "64-bit" in too_big.message
    reserved = error_of(call, "documentsDB.createDocument", **C, documentId="x", data={"a": {"$b": 1}})
    assert reserved.type == "document_invalid_structure"
    assert call("documentsDB.listDocuments", **C)["total"] == 1


def test_queries_reach_nested_fields(call, people):
    call("documentsDB.createDocument", **C, documentId="ada", data=ADA)
    bob = {"name": "Bob", "big": 5, "address": {"city": "Paris", "geo": {"lat": 48.8}}, "tags": ["chess"]}
    call("documentsDB.createDocument", **C, documentId="bob", data=bob)
    call("documentsDB.createDocument", **C, documentId="cy", data={"name": "Cy", "tags": "poetry club"})

    def ids(*queries):
        return [doc["$id"] for doc in call("documentsDB.listDocuments", **C, queries=list(queries))["documents"]]

    assert ids(q("equal", "address.city", ["Paris"])) == ["bob"]
    assert ids(q("greaterThan", "address.geo.lat", [50])) == ["ada"]
    assert ids(q("equal", "big", [BIG])) == ["ada"]
    assert ids(q("lessThan", "big", [BIG])) == ["bob"]
    assert ids(q("contains", "tags", ["poet"])) == ["ada", "cy"]  # an array element, or a substring
    assert ids(q("startsWith", "name", ["B"])) == ["bob"]
    assert ids(q("isNull", "address")) == ["cy"]
    assert ids(q("equal", "nested.1.deep.deeper.0", [True])) == []  # array positions are not path segments
    assert ids(q("orderDesc", "address.geo.lat"), q("limit", None, [2])) == ["ada", "bob"]
    after = ids(q("orderAsc", "name"), q("cursorAfter", None, ["ada"]))
    assert after == ["bob", "cy"]
    chosen = [q("select", None, ["name"]), q("equal", "name", ["Bob"])]
    [selected] = call("documentsDB.listDocuments", **C, queries=chosen)["documents"]
    assert selected["name"] == "Bob" and "address" not in selected
    bad = error_of(call, "documentsDB.listDocuments", **C, queries=[q("equal", "a'b", ["x"])])
    assert bad.type == "general_query_invalid"


def test_every_document_write(call, people):
    made = call("documentsDB.createDocuments", **C, documents=[{"$id": "a", "n": 1}, {"$id": "b", "n": 2}])
    assert made["total"] == 2 and [doc["n"] for doc in made["documents"]] == [1, 2]
    updated = call("documentsDB.updateDocument", **C, documentId="a", data={"extra": {"k": [1]}})
    assert updated["n"] == 1 and updated["extra"] == {"k": [1]}  # top-level fields merge
    assert call("documentsDB.upsertDocument", **C, documentId="c", data={"n": 3})["n"] == 3
    assert call("documentsDB.upsertDocument", **C, documentId="c", data={"n": 4})["n"] == 4
    upserted = call("documentsDB.upsertDocuments", **C, documents=[{"$id": "a", "n": 10}, {"$id": "d", "n": 5}])
    assert upserted["total"] == 2
    changed = call("documentsDB.updateDocuments", **C, data={"flag": True}, queries=[q("greaterThan", "n", [4])])
    assert sorted(doc["$id"] for doc in changed["documents"]) == ["a", "d"]
    counted = call("documentsDB.incrementDocumentAttribute", **C, documentId="a", attribute="stats.views", value=3)
    assert counted["stats"] == {"views": 3}
    big = call("documentsDB.incrementDocumentAttribute", **C, documentId="a", attribute="n", value=BIG - 10)
    assert big["n"] == BIG
    over = error_of(call, "documentsDB.incrementDocumentAttribute", **C, documentId="a", attribute="n", value=1)
    assert over.type == "attribute_limit_exceeded"
    down = call("documentsDB.decrementDocumentAttribute", **C, documentId="d", attribute="n", value=2, min=0)
    assert down["n"] == 3
    floor = error_of(call, "documentsDB.decrementDocumentAttribute", **C, documentId="d", attribute="n", value=9, min=0)
    assert floor.type == "attribute_limit_exceeded"
    not_number = error_of(call, "documentsDB.incrementDocumentAttribute", **C, documentId="a", attribute="extra")
    assert not_number.type == "attribute_type_invalid"
    bad_path = error_of(call, "documentsDB.incrementDocumentAttribute", **C, documentId="a", attribute="a..b")
    assert bad_path.type == "general_argument_invalid"
    call("documentsDB.deleteDocument", **C, documentId="c")
    assert error_of(call, "documentsDB.getDocument", **C, documentId="c").type == "document_not_found"
    deleted = call("documentsDB.deleteDocuments", **C, queries=[q("equal", "flag", [True])])
    assert deleted["total"] == 2
    assert [doc["$id"] for doc in call("documentsDB.listDocuments", **C)["documents"]] == ["b"]


def test_indexes_are_expression_indexes_on_fields(engine, call, people):
    index = call("documentsDB.createIndex", **C, key="city", type="unique", attributes=["address.city"])
    assert index["attributes"] == ["address.city"] and index["status"] == "available"
    assert call("documentsDB.getIndex", **C, key="city")["type"] == "unique"
    assert [i["key"] for i in call("documentsDB.listIndexes", **C)["indexes"]] == ["city"]
    call("documentsDB.createDocument", **C, documentId="a", data={"address": {"city": "Oslo"}})
    duplicate = error_of(call, "documentsDB.createDocument", **C, documentId="b", data={"address": {"city": "Oslo"}})
    assert duplicate.type == "document_already_exists"
    sql = "SELECT _uid FROM rows_1 WHERE json_extract(_data, '$.\"address\".\"city\"') = 'Oslo'"
    plan = engine.project().connection.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
    assert "USING INDEX idx_1" in plan[0][3]
    spatial = error_of(call, "documentsDB.createIndex", **C, key="geo", type="spatial", attributes=["geo"])
    assert spatial.type == "general_argument_invalid" and "type" in spatial.message
    legacy = error_of(call, "databases.createIndex", **C, key="geo", type="spatial", attributes=["geo"])
    assert legacy.type == "general_argument_invalid" and "type" in legacy.message
    call("documentsDB.deleteIndex", **C, key="city")
    assert error_of(call, "documentsDB.getIndex", **C, key="city").type == "index_not_found"
    call("documentsDB.createDocument", **C, documentId="b", data={"address": {"city": "Oslo"}})


def test_collection_and_document_permissions(call):
    call("documentsDB.create", **DB, name="Docs")
    call("documentsDB.createCollection", **C, name="P", permissions=['create("users")'], documentSecurity=True)
    ada, bob = user_auth("ada"), user_auth("bob")
    mine = call("documentsDB.createDocument", ada, **C, documentId="mine", data={"secret": {"pin": 1234}})
    assert 'read("user:ada")' in mine["$permissions"]
    assert call("documentsDB.listDocuments", bob, **C)["total"] == 0
    assert error_of(call, "documentsDB.getDocument", bob, **C, documentId="mine").type == "document_not_found"
    refused = error_of(call, "documentsDB.updateDocument", bob, **C, documentId="mine", data={"x": 1})
    assert refused.type == "user_unauthorized"
    assert call("documentsDB.getDocument", ada, **C, documentId="mine")["secret"] == {"pin": 1234}
    call("documentsDB.createCollection", **DB, collectionId="closed", name="Closed")
    closed = error_of(call, "documentsDB.createDocument", ada, **DB, collectionId="closed", documentId="x", data={})
    assert closed.type == "user_unauthorized"


def test_transactions_stage_documents_until_commit(call, people):
    transaction = call("documentsDB.createTransaction", ttl=60)
    staged = {"action": "create", **C, "documentId": "t1", "data": {"deep": {"list": [1, {"k": None}]}, "n": BIG}}
    call("documentsDB.createOperations", transactionId=transaction["$id"], operations=[staged])
    call("documentsDB.upsertDocument", **C, documentId="t2", data={"n": 1}, transactionId=transaction["$id"])
    assert call("documentsDB.getTransaction", transactionId=transaction["$id"])["operations"] == 2
    assert call("documentsDB.listTransactions")["total"] == 1
    assert call("documentsDB.listDocuments", **C)["total"] == 0
    call("documentsDB.updateTransaction", transactionId=transaction["$id"], commit=True)
    got = call("documentsDB.getDocument", **C, documentId="t1")
    assert got["deep"] == {"list": [1, {"k": None}]} and got["n"] == BIG
    dropped = call("documentsDB.createTransaction")
    call("documentsDB.deleteDocument", **C, documentId="t1", transactionId=dropped["$id"])
    call("documentsDB.updateTransaction", transactionId=dropped["$id"], rollback=True)
    call("documentsDB.deleteTransaction", transactionId=dropped["$id"])
    assert call("documentsDB.getDocument", **C, documentId="t1")["$id"] == "t1"


def test_changes_announce_appwrite_s_event_names(engine, call, people):
    before = len(event_names(engine))
    call("documentsDB.createDocument", **C, documentId="a", data={"n": 1})
    call("documentsDB.updateDocument", **C, documentId="a", data={"n": 2})
    call("documentsDB.incrementDocumentAttribute", **C, documentId="a", attribute="n")
    call("documentsDB.deleteDocument", **C, documentId="a")
    assert event_names(engine)[before:] == [
        "databases.docs.collections.people.documents.a.create",
        "databases.docs.collections.people.documents.a.update",
        "documentsdb.docs.collections.people.documents.a.update",
        "databases.docs.collections.people.documents.a.delete",
    ]


def test_a_select_of_nested_paths_keeps_only_those_fields_as_mongodb_projects_them(call, people):
    call("documentsDB.createDocument", **C, documentId="ada", data=ADA)
    chosen = [q("select", None, ["name", "address.city", "address.geo.lat", "nested.deep", "missing.path"])]
    [selected] = call("documentsDB.listDocuments", **C, queries=chosen)["documents"]
    fields = {key: value for key, value in selected.items() if not key.startswith("$")}
    assert fields == {
        "name": "Ada",
        "address": {"city": "London", "geo": {"lat": 51.5}},
        "nested": [{"deep": {"deeper": [True, False, None]}}],
    }
    got = call("documentsDB.getDocument", **C, documentId="ada", queries=[q("select", None, ["address.geo"])])
    assert {key: value for key, value in got.items() if not key.startswith("$")} == {
        "address": {"geo": ADA["address"]["geo"]}
    }
    refused = error_of(call, "documentsDB.listDocuments", **C, queries=[q("select", None, ["address..city"])])
    assert refused.type == "general_query_invalid" and "address..city" in refused.message


@pytest.fixture
def mixed(call, people):
    """Documents whose field `v` holds a value of each JSON type, or is missing."""
    values = {"num": 7, "text": "9", "yes": True, "one": 1, "obj": {"k": 1}, "arr": [1], "json": "[1]", "nul": None}
    call("documentsDB.createDocuments", **C, documents=[{"$id": key, "v": value} for key, value in values.items()])
    call("documentsDB.createDocument", **C, documentId="none", data={"other": 1})

    def ids(*queries: str) -> list[str]:
        return [doc["$id"] for doc in call("documentsDB.listDocuments", **C, queries=list(queries))["documents"]]

    return ids


def test_comparisons_keep_to_the_type_of_the_value(mixed):
    assert mixed(q("greaterThan", "v", [5])) == ["num"]  # not the string, object or array
    assert mixed(q("lessThan", "v", ["A"])) == ["text"]  # strings only, not numbers below every string
    assert mixed(q("equal", "v", [True])) == ["yes"]  # true is not 1
    assert mixed(q("equal", "v", [1])) == ["one", "arr"]  # and the array holding 1, as on MongoDB
    assert mixed(q("equal", "v", ["[1]"])) == ["json"]  # an array is not its JSON text
    assert mixed(q("startsWith", "v", ["{"])) == []
    assert mixed(q("contains", "v", ["k"])) == []  # an object holds no substrings
    assert mixed(q("contains", "v", [1])) == ["arr"]
    assert mixed(q("between", "v", [0, "z"])) == []  # bounds of two types bound nothing


def test_negations_also_match_documents_without_the_field(mixed):
    assert mixed(q("notEqual", "v", [7])) == ["text", "yes", "one", "obj", "arr", "json", "nul", "none"]
    assert mixed(q("notStartsWith", "v", ["["])) == ["num", "text", "yes", "one", "obj", "arr", "nul", "none"]
    assert mixed(q("notContains", "v", [1])) == ["num", "text", "yes", "one", "obj", "json", "nul", "none"]
    assert mixed(q("notBetween", "v", [2, 8])) == ["one", "arr"]  # outside the bounds, among numbers (or elements)


@pytest.fixture
def orders(call, people):
    """Documents with arrays of scalars and of objects, as MongoDB's manual queries them."""
    documents = {
        "o1": {"scores": [3, 9], "tags": ["red", "blue"], "items": [{"sku": "a1", "qty": 2}, {"sku": "b2", "qty": 5}]},
        "o2": {"scores": 6, "tags": "red", "items": {"sku": "a1", "qty": 7}},
        "o3": {"scores": [[6]], "tags": [], "items": [{"sku": ["c3", "a1"]}, "a1", [{"sku": "z9"}]]},
        "o4": {"other": 1},
    }
    call("documentsDB.createDocuments", **C, documents=[{"$id": key, **value} for key, value in documents.items()])

    def ids(*queries: str) -> list[str]:
        return [doc["$id"] for doc in call("documentsDB.listDocuments", **C, queries=list(queries))["documents"]]

    return ids


def test_comparisons_fan_out_over_arrays(orders):
    assert orders(q("equal", "scores", [9])) == ["o1"]  # any element; an array inside an array is not opened
    assert orders(q("equal", "tags", ["blue", "green"])) == ["o1"]
    assert orders(q("greaterThan", "scores", [8])) == ["o1"]
    assert orders(q("lessThanEqual", "scores", [6])) == ["o1", "o2"]
    assert orders(q("between", "scores", [4, 8])) == ["o1", "o2"]  # 9 is at least 4 and 3 at most 8, as on MongoDB
    assert orders(q("notBetween", "scores", [2, 10])) == []
    assert orders(q("startsWith", "tags", ["bl"])) == ["o1"]
    assert orders(q("endsWith", "tags", ["ed"])) == ["o1", "o2"]
    assert orders(q("regex", "tags", ["^b"])) == ["o1"]
    assert orders(q("notEqual", "scores", [9])) == ["o2", "o3", "o4"]  # no element equals
    assert orders(q("notEqual", "tags", ["red"])) == ["o3", "o4"]
    assert orders(q("notStartsWith", "tags", ["bl"])) == ["o2", "o3", "o4"]


def test_a_path_goes_through_an_array_of_objects(orders):
    assert orders(q("equal", "items.sku", ["a1"])) == ["o1", "o2", "o3"]  # an object's array field opens too
    assert orders(q("equal", "items.sku", ["z9"])) == []  # one array on the path is opened
    assert orders(q("greaterThan", "items.qty", [4])) == ["o1", "o2"]
    assert orders(q("between", "items.qty", [3, 4])) == ["o1"]
    assert orders(q("notEqual", "items.sku", ["b2"])) == ["o2", "o3", "o4"]
    assert orders(q("startsWith", "items.sku", ["c"])) == ["o3"]


def test_an_indexed_field_is_read_from_indexes_and_its_arrays_still_match(engine, call, orders):
    call("documentsDB.createIndex", **C, key="sku", type="key", attributes=["items.sku"])
    assert orders(q("equal", "items.sku", ["a1"])) == ["o1", "o2", "o3"]
    sql, params = field_condition(Query("equal", "items.sku", ("a1",)))
    plan = engine.project().connection.execute(f"EXPLAIN QUERY PLAN SELECT _uid FROM rows_1 WHERE {sql}", params)
    steps = [row[3] for row in plan.fetchall()]
    assert not any(step.startswith("SCAN rows_1") for step in steps), steps
    assert any("USING INDEX idx_1 " in step for step in steps) and any("idx_1_arrays0" in step for step in steps)
    call("documentsDB.deleteIndex", **C, key="sku")
    assert orders(q("equal", "items.sku", ["b2"])) == ["o1"]


def test_exists_counts_a_null_field_as_present_and_any_named_field(mixed):
    present = ["num", "text", "yes", "one", "obj", "arr", "json", "nul"]
    assert mixed(q("exists", None, ["v"])) == present
    assert mixed(q("notExists", None, ["v"])) == ["none"]
    assert mixed(q("exists", None, ["v", "other"])) == [*present, "none"]
    assert mixed(q("isNull", "v")) == ["nul", "none"]


def test_order_puts_types_apart(mixed):
    ascending = ["nul", "none", "one", "num", "text", "json", "obj", "arr", "yes"]
    assert mixed(q("orderAsc", "v")) == ascending
    assert mixed(q("orderDesc", "v")) == ["yes", "arr", "obj", "json", "text", "num", "one", "nul", "none"]


def test_a_fulltext_index_holds_the_strings_of_an_array(call, people):
    def ids(*queries: str) -> list[str]:
        return [doc["$id"] for doc in call("documentsDB.listDocuments", **C, queries=list(queries))["documents"]]

    call("documentsDB.createDocument", **C, documentId="a", data={"tags": ["deep sea", 7, {"t": "whale"}, "coral"]})
    call("documentsDB.createIndex", **C, key="text", type="fulltext", attributes=["tags"])
    call("documentsDB.createDocument", **C, documentId="b", data={"tags": ["reef", "coral"]})
    assert ids(q("search", "tags", ["sea"])) == ["a"]
    assert ids(q("search", "tags", ["coral"])) == ["a", "b"]
    assert ids(q("search", "tags", ["whale"])) == []  # strings of the array itself, not of objects in it
    call("documentsDB.updateDocument", **C, documentId="b", data={"tags": ["kelp"]})
    assert ids(q("search", "tags", ["coral"])) == ["a"]
    assert ids(q("search", "tags", ["kelp"])) == ["b"]


def test_a_fulltext_index_makes_search_work_on_its_fields(call, people):
    def ids(*queries: str) -> list[str]:
        return [doc["$id"] for doc in call("documentsDB.listDocuments", **C, queries=list(queries))["documents"]]

    call("documentsDB.createDocument", **C, documentId="a", data={"title": "Deep sea fishing", "body": "boats"})
    call("documentsDB.createDocument", **C, documentId="b", data={"title": {"text": "sea"}, "body": "harbour seals"})
    unindexed = error_of(call, "documentsDB.listDocuments", **C, queries=[q("search", "title", ["sea"])])
    assert unindexed.type == "general_query_invalid" and "fulltext index" in unindexed.message
    index = call("documentsDB.createIndex", **C, key="text", type="fulltext", attributes=["title", "body"])
    assert index["type"] == "fulltext" and index["attributes"] == ["title", "body"]
    assert ids(q("search", "title", ["sea"])) == ["a", "b"]  # "seals" by prefix; the object title holds no text
    assert ids(q("search", "body", ["fishing"])) == ["a"]  # the index's fields are searched together
    assert ids(q("notSearch", "title", ["boats"])) == ["b"]
    call("documentsDB.createDocument", **C, documentId="c", data={"title": 42, "body": "Fishing trip"})
    call("documentsDB.updateDocument", **C, documentId="a", data={"title": "Mountains"})
    assert ids(q("search", "title", ["fishing"])) == ["c"]
    call("documentsDB.deleteDocument", **C, documentId="c")
    assert ids(q("search", "title", ["fishing"])) == []
    second = error_of(call, "documentsDB.createIndex", **C, key="more", type="fulltext", attributes=["name"])
    assert second.type == "index_invalid" and "already a fulltext index" in second.message
    outside = error_of(call, "documentsDB.listDocuments", **C, queries=[q("search", "name", ["sea"])])
    assert outside.type == "general_query_invalid"
    call("documentsDB.deleteIndex", **C, key="text")
    assert call("documentsDB.createIndex", **C, key="names", type="fulltext", attributes=["name"])["type"] == "fulltext"
