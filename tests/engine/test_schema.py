"""Databases, tables, columns and indexes: what each accepts, what it refuses, what it returns."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

from mcp_server.engine import Engine
from mcp_server.engine.permissions import ADMIN
from tests.engine.conftest import error_of, q

DB = {"databaseId": "main"}
T = {**DB, "tableId": "items"}


@pytest.fixture
def table(call):
    call("tablesDB.create", databaseId="main", name="Main")
    call("tablesDB.createTable", **DB, tableId="items", name="Items")
    return T


def row(call, data, row_id="unique()"):
    return call("tablesDB.createRow", **T, rowId=row_id, data=data)


def test_databases_of_both_apis_are_one_set(call):
    call("tablesDB.create", databaseId="a", name="A")
    call("databases.create", databaseId="b", name="B")
    listed = call("databases.list")
    assert [(d["$id"], d["type"]) for d in listed["databases"]] == [("a", "tablesdb"), ("b", "legacy")]
    assert call("tablesDB.get", databaseId="b")["name"] == "B"
    assert error_of(call, "tablesDB.create", databaseId="a", name="again").type == "database_already_exists"
    assert error_of(call, "tablesDB.get", databaseId="zzz").type == "database_not_found"
    assert call("tablesDB.list", queries=[q("equal", "name", ["B"])])["total"] == 1
    assert call("tablesDB.list", search="a")["total"] >= 1


def test_a_table_is_a_collection(call, table):
    call("tablesDB.createVarcharColumn", **T, key="title", size=50, required=True)
    row(call, {"title": "one"}, "r1")
    collection = call("databases.getCollection", databaseId="main", collectionId="items")
    assert collection["attributes"][0]["key"] == "title"
    assert "documentSecurity" in collection and "rowSecurity" not in collection
    document = call("databases.getDocument", databaseId="main", collectionId="items", documentId="r1")
    assert document["$collectionId"] == "items" and document["title"] == "one"
    call("databases.createDocument", databaseId="main", collectionId="items", documentId="r2", data={"title": "two"})
    assert call("tablesDB.listRows", **T)["total"] == 2
    missing = error_of(call, "databases.getCollection", databaseId="main", collectionId="nope")
    assert missing.type == "collection_not_found"
    assert error_of(call, "tablesDB.getTable", **DB, tableId="nope").type == "table_not_found"


def test_create_table_with_inline_columns_and_indexes(call):
    call("tablesDB.create", **DB, name="Main")
    created = call(
        "tablesDB.createTable",
        **DB,
        tableId="unique()",
        name="Invoices",
        permissions=['write("users")'],
        columns=[
            {"key": "amount", "type": "float", "required": True, "min": 0},
            {"key": "due", "type": "datetime", "required": False},
            {"key": "email", "type": "email", "required": False},
        ],
        indexes=[{"key": "by_due", "type": "key", "attributes": ["due"], "orders": ["desc"]}],
    )
    assert len(created["$id"]) == 20
    assert created["$permissions"] == ['create("users")', 'update("users")', 'delete("users")']
    assert [c["key"] for c in created["columns"]] == ["amount", "due", "email"]
    assert created["columns"][0]["type"] == "double" and created["columns"][2]["format"] == "email"
    assert created["indexes"][0]["columns"] == ["due"] and created["indexes"][0]["orders"] == ["desc"]
    bad = error_of(call, "tablesDB.createTable", **DB, tableId="t2", name="T2", columns=[{"key": "x", "type": "nope"}])
    assert bad.type == "general_argument_invalid" and "unknown type" in bad.message
    assert error_of(call, "tablesDB.getTable", **DB, tableId="t2").type == "table_not_found"


@pytest.mark.parametrize(
    ("method", "extra", "good", "bad"),
    [
        ("createIntegerColumn", {"min": -5, "max": 5}, 3, 9),
        ("createFloatColumn", {"min": 0.5, "max": 1.5}, 1.25, 2.0),
        ("createBooleanColumn", {}, True, "yes"),
        ("createDatetimeColumn", {}, "2024-02-29T12:00:00+02:00", "not a date"),
        ("createEmailColumn", {}, "ada@example.com", "ada@"),
        ("createEnumColumn", {"elements": ["draft", "live"]}, "live", "gone"),
        ("createIpColumn", {}, "2001:db8::1", "300.1.1.1"),
        ("createUrlColumn", {}, "https://example.com/a?b=c", "example"),
        ("createVarcharColumn", {"size": 3}, "abc", "abcd"),
        ("createStringColumn", {"size": 3}, "abc", "abcd"),
        ("createTextColumn", {}, "x" * 1000, 5),
        ("createMediumtextColumn", {}, "long text", ["no"]),
        ("createLongtextColumn", {}, "longer text", {"no": 1}),
        ("createPointColumn", {}, [12.5, 41.9], [1]),
        ("createLineColumn", {}, [[0, 0], [1, 1]], [[0, 0]]),
        ("createPolygonColumn", {}, [[[0, 0], [1, 0], [1, 1], [0, 0]]], [[[0, 0], [1, 0], [1, 1]]]),
    ],
)
def test_each_column_type_checks_its_values(call, table, method, extra, good, bad):
    column = call(f"tablesDB.{method}", **T, key="value", required=False, **extra)
    assert column["key"] == "value" and column["status"] == "available"
    stored = row(call, {"value": good})["value"]
    if method == "createDatetimeColumn":
        assert stored == "2024-02-29T10:00:00.000+00:00"
    elif method == "createPolygonColumn":
        assert stored == [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]
    else:
        assert stored == good
    error = error_of(row, call, {"value": bad})
    assert error.type == "row_invalid_structure"
    assert 'Column "value"' in error.message
    assert call("tablesDB.listRows", **T)["total"] == 1


def test_integers_are_exact_64_bit(call, table):
    call("tablesDB.createIntegerColumn", **T, key="big", required=False)
    largest, smallest = 2**63 - 1, -(2**63)
    row(call, {"big": largest}, "max")
    row(call, {"big": smallest}, "min")
    assert call("tablesDB.getRow", **T, rowId="max")["big"] == largest
    assert call("tablesDB.getRow", **T, rowId="min")["big"] == smallest
    found = call("tablesDB.listRows", **T, queries=[q("equal", "big", [largest])])
    assert [r["$id"] for r in found["rows"]] == ["max"]
    assert error_of(row, call, {"big": 2**63}).type == "row_invalid_structure"


def test_array_columns(call, table):
    call("tablesDB.createVarcharColumn", **T, key="tags", size=10, required=False, array=True)
    assert row(call, {"tags": ["a", "b"]})["tags"] == ["a", "b"]
    error = error_of(row, call, {"tags": "a"})
    assert "must be an array" in error.message
    error = error_of(row, call, {"tags": ["ok", "far too long"]})
    assert "tags['1']" in error.message


def test_required_columns_and_defaults(call, table):
    call("tablesDB.createVarcharColumn", **T, key="name", size=20, required=True)
    call("tablesDB.createIntegerColumn", **T, key="score", required=False, default=10)
    created = row(call, {"name": "a"})
    assert created["score"] == 10
    assert row(call, {"name": "b", "score": None})["score"] == 10
    assert 'Missing required column "name"' in error_of(row, call, {"score": 1}).message
    bad_default = error_of(call, "tablesDB.createIntegerColumn", **T, key="x", required=True, default=1)
    assert bad_default.type == "column_default_unsupported"
    array_default = error_of(call, "tablesDB.createIntegerColumn", **T, key="y", required=False, array=True, default=1)
    assert array_default.type == "column_default_unsupported"
    out_of_range = error_of(call, "tablesDB.createIntegerColumn", **T, key="z", required=False, min=0, max=5, default=9)
    assert out_of_range.type == "column_value_invalid"
    backwards = error_of(call, "tablesDB.createIntegerColumn", **T, key="w", required=False, min=5, max=1)
    assert backwards.type == "column_value_invalid"


def test_adding_a_column_with_a_default_fills_existing_rows(call, table):
    call("tablesDB.createVarcharColumn", **T, key="name", size=20, required=False)
    row(call, {"name": "old"}, "r1")
    call("tablesDB.createBooleanColumn", **T, key="active", required=False, default=True)
    assert call("tablesDB.getRow", **T, rowId="r1")["active"] is True


def test_column_keys(call, table):
    call("tablesDB.createVarcharColumn", **T, key="title", size=20, required=False)
    assert error_of(call, "tablesDB.createTextColumn", **T, key="Title", required=False).type == "column_already_exists"
    bad = error_of(call, "tablesDB.createTextColumn", **T, key="_hidden", required=False)
    assert bad.type == "general_argument_invalid"
    legacy = error_of(
        call,
        "databases.createStringAttribute",
        databaseId="main",
        collectionId="items",
        key="title",
        size=5,
        required=False,
    )
    assert legacy.type == "attribute_already_exists"


def test_update_column_changes_rules_and_can_rename(call, table):
    call("tablesDB.createVarcharColumn", **T, key="code", size=10, required=False)
    call("tablesDB.createIndex", **T, key="by_code", type="unique", columns=["code"])
    row(call, {"code": "abc"}, "r1")
    updated = call(
        "tablesDB.updateVarcharColumn", **T, key="code", required=False, default="zzz", size=20, newKey="sku"
    )
    assert updated["key"] == "sku" and updated["size"] == 20 and updated["default"] == "zzz"
    assert call("tablesDB.getRow", **T, rowId="r1")["sku"] == "abc"
    assert call("tablesDB.getIndex", **T, key="by_code")["columns"] == ["sku"]
    shrink = error_of(call, "tablesDB.updateVarcharColumn", **T, key="sku", required=False, default=None, size=2)
    assert shrink.type == "column_invalid_resize"
    wrong = error_of(call, "tablesDB.updateEmailColumn", **T, key="sku", required=False, default=None)
    assert wrong.type == "column_type_invalid"
    assert error_of(call, "tablesDB.getColumn", **T, key="code").type == "column_not_found"


def test_update_enum_elements(call, table):
    call("tablesDB.createEnumColumn", **T, key="state", elements=["a", "b"], required=False)
    call("tablesDB.updateEnumColumn", **T, key="state", elements=["a", "b", "c"], required=False, default="c")
    assert row(call, {})["state"] == "c"
    assert (
        error_of(call, "tablesDB.updateEnumColumn", **T, key="state", elements=[], required=False, default=None).type
        == "column_value_invalid"
    )


def test_delete_column_removes_data_and_index_entries(call, table):
    call("tablesDB.createVarcharColumn", **T, key="a", size=5, required=False)
    call("tablesDB.createVarcharColumn", **T, key="b", size=5, required=False)
    call("tablesDB.createIndex", **T, key="ab", type="key", columns=["a", "b"])
    call("tablesDB.createIndex", **T, key="only_a", type="key", columns=["a"])
    row(call, {"a": "x", "b": "y"}, "r1")
    call("tablesDB.deleteColumn", **T, key="a")
    assert "a" not in call("tablesDB.getRow", **T, rowId="r1")
    assert [i["key"] for i in call("tablesDB.listIndexes", **T)["indexes"]] == ["ab"]
    assert call("tablesDB.getIndex", **T, key="ab")["columns"] == ["b"]
    assert "Unknown column" in error_of(row, call, {"a": "x"}).message


def test_list_columns_with_queries(call, table):
    call("tablesDB.createVarcharColumn", **T, key="a", size=5, required=True)
    call("tablesDB.createIntegerColumn", **T, key="b", required=False)
    listed = call("tablesDB.listColumns", **T, queries=[q("equal", "type", ["integer"])])
    assert listed["total"] == 1 and listed["columns"][0]["key"] == "b"
    assert (
        error_of(call, "tablesDB.listColumns", **T, queries=[q("equal", "colour", ["x"])]).type
        == "general_query_invalid"
    )


def test_unique_index_refuses_duplicates(call, table):
    call("tablesDB.createEmailColumn", **T, key="email", required=False)
    call("tablesDB.createIndex", **T, key="unique_email", type="unique", columns=["email"])
    row(call, {"email": "a@x.io"})
    assert error_of(row, call, {"email": "a@x.io"}).type == "row_already_exists"
    second = row(call, {"email": "b@x.io"})
    duplicate = error_of(call, "tablesDB.updateRow", **T, rowId=second["$id"], data={"email": "a@x.io"})
    assert duplicate.type == "row_already_exists"
    assert call("tablesDB.getRow", **T, rowId=second["$id"])["email"] == "b@x.io"


def test_unique_index_over_existing_duplicates_is_refused(call, table):
    call("tablesDB.createVarcharColumn", **T, key="code", size=5, required=False)
    row(call, {"code": "a"})
    row(call, {"code": "a"})
    error = error_of(call, "tablesDB.createIndex", **T, key="u", type="unique", columns=["code"])
    assert error.type == "column_index_invalid"
    assert call("tablesDB.listIndexes", **T)["total"] == 0


def test_index_rules(call, table):
    call("tablesDB.createVarcharColumn", **T, key="name", size=50, required=False)
    call("tablesDB.createIntegerColumn", **T, key="n", required=False)
    call("tablesDB.createVarcharColumn", **T, key="tags", size=5, required=False, array=True)
    assert error_of(call, "tablesDB.createIndex", **T, key="i", type="key", columns=["nope"]).type == "column_unknown"
    assert error_of(call, "tablesDB.createIndex", **T, key="i", type="key", columns=["tags"]).type == "index_invalid"
    assert (
        error_of(call, "tablesDB.createIndex", **T, key="i", type="fulltext", columns=["n"]).type
        == "column_index_invalid"
    )
    call("tablesDB.createIndex", **T, key="i", type="key", columns=["name", "$createdAt"], lengths=[10])
    assert error_of(call, "tablesDB.createIndex", **T, key="i", type="key", columns=["n"]).type == (
        "column_index_already_exists"
    )
    legacy = error_of(call, "databases.getIndex", databaseId="main", collectionId="items", key="zzz")
    assert legacy.type == "index_not_found"
    call("tablesDB.deleteIndex", **T, key="i")
    assert error_of(call, "tablesDB.getIndex", **T, key="i").type == "column_index_not_found"


@pytest.mark.parametrize("api", ["tablesDB", "databases"])
def test_index_orders_are_kept_as_written_in_any_case(call, table, api):
    """Appwrite matches ASC/DESC in any case and answers the orders as they were sent, never padded with
    nulls; lengths hold one entry per column. A pulled schema then pushes back unchanged."""
    where = T if api == "tablesDB" else {**DB, "collectionId": "items"}
    columns = "columns" if api == "tablesDB" else "attributes"
    call("tablesDB.createVarcharColumn", **T, key="name", size=50, required=False)
    call("tablesDB.createIntegerColumn", **T, key="n", required=False)
    written = {"upper": ["ASC"], "mixed": ["desc", "Asc"], "none": [], "short": ["DESC"]}
    for key, orders in written.items():
        keys = ["name"] if key == "upper" else ["name", "n"]
        created = call(f"{api}.createIndex", **where, key=key, type="key", **{columns: keys}, orders=orders)
        assert created["orders"] == orders
        assert created["lengths"] == [None] * len(keys)
    call(f"{api}.createIndex", **where, key="unset", type="unique", **{columns: ["n", "name"]})
    written["unset"] = []
    listed = call(f"{api}.listIndexes", **where)["indexes"]
    assert {index["key"]: index["orders"] for index in listed} == written
    assert call(f"{api}.getIndex", **where, key="mixed")["orders"] == ["desc", "Asc"]
    assert [index["orders"] for index in call("tablesDB.getTable", **T)["indexes"]] == list(written.values())
    row(call, {"name": "b", "n": 1})
    row(call, {"name": "a", "n": 2})
    assert [r["name"] for r in call("tablesDB.listRows", **T, queries=[q("orderDesc", "name")])["rows"]] == ["b", "a"]
    for wrong in (["up"], ["ascending"], [None]):
        failed = error_of(call, f"{api}.createIndex", **where, key="bad", type="key", **{columns: ["n"]}, orders=wrong)
        assert failed.type == "general_argument_invalid" and "orders" in failed.message
    assert len(call(f"{api}.listIndexes", **where)["indexes"]) == len(written)


def test_deleting_a_column_keeps_the_other_columns_orders(call, table):
    for key in ("a", "b", "c"):
        call("tablesDB.createVarcharColumn", **T, key=key, size=5, required=False)
    call("tablesDB.createIndex", **T, key="abc", type="key", columns=["a", "b", "c"], orders=["desc", "ASC"])
    call("tablesDB.createIndex", **T, key="ca", type="key", columns=["c", "a"], orders=["DESC"])
    call("tablesDB.deleteColumn", **T, key="b")
    assert call("tablesDB.getIndex", **T, key="abc")["orders"] == ["desc"]
    assert call("tablesDB.getIndex", **T, key="ca")["orders"] == ["DESC"]
    call("tablesDB.deleteColumn", **T, key="c")
    assert call("tablesDB.getIndex", **T, key="abc")["orders"] == ["desc"]
    assert call("tablesDB.getIndex", **T, key="abc")["columns"] == ["a"]
    assert call("tablesDB.getIndex", **T, key="ca")["orders"] == []


def test_indexes_stored_with_null_orders_read_back_without_them(tmp_path):
    """Earlier versions stored a null order for each column given none: those read back as Appwrite answers."""
    data_dir = tmp_path / "data"
    engine = Engine(data_dir, list_cache_ttl=0)
    try:
        engine.call("tablesDB.create", {**DB, "name": "Main"}, ADMIN)
        engine.call("tablesDB.createTable", {**T, "name": "Items"}, ADMIN)
        engine.call("tablesDB.createIntegerColumn", {**T, "key": "n", "required": False}, ADMIN)
        engine.call("tablesDB.createIntegerColumn", {**T, "key": "m", "required": False}, ADMIN)
        engine.call("tablesDB.createIndex", {**T, "key": "nm", "type": "key", "columns": ["n", "m"]}, ADMIN)
    finally:
        engine.close()
    connection = sqlite3.connect(data_dir / "default" / "project.sqlite3")
    with connection:
        connection.execute("UPDATE _indexes SET orders = ? WHERE key = 'nm'", (json.dumps(["DESC", None]),))
    connection.close()
    engine = Engine(data_dir, list_cache_ttl=0)
    try:
        assert engine.call("tablesDB.getIndex", {**T, "key": "nm"}, ADMIN)["orders"] == ["DESC"]
    finally:
        engine.close()


UPDATES = {
    "database": ("tablesDB.get", "tablesDB.update", DB, {"name": "Main", "enabled": True}, {"name": "Renamed"}),
    "table": (
        "tablesDB.getTable",
        "tablesDB.updateTable",
        T,
        {"name": "Items", "permissions": ['read("any")'], "rowSecurity": False, "enabled": True},
        {"name": "Items", "permissions": ['read("users")']},
    ),
    "collection": (
        "databases.getCollection",
        "databases.updateCollection",
        {**DB, "collectionId": "items"},
        {"name": "Items", "documentSecurity": False},
        {"name": "Items", "documentSecurity": True},
    ),
}


@pytest.mark.parametrize("kind", list(UPDATES))
def test_an_update_that_changes_nothing_keeps_updated_at(call, table, kind):
    """As in Appwrite: pushing the same settings again (appwrite-cli does for every resource) is no change."""
    get, update, where, same, different = UPDATES[kind]
    first = call(update, **where, **same)
    time.sleep(0.01)
    assert call(update, **where, **same)["$updatedAt"] == first["$updatedAt"]
    assert call(get, **where) == first
    time.sleep(0.01)
    changed = call(update, **where, **different)
    assert changed["$updatedAt"] > first["$updatedAt"]


def test_fulltext_index_serves_search(call, table):
    call("tablesDB.createTextColumn", **T, key="body", required=False)
    row(call, {"body": "The quick brown fox"}, "fox")
    row(call, {"body": "Lazy dogs sleep"}, "dog")
    call("tablesDB.createIndex", **T, key="ft", type="fulltext", columns=["body"])
    row(call, {"body": "Foxes and hounds"}, "foxes")
    found = call("tablesDB.listRows", **T, queries=[q("search", "body", ["fox"])])
    assert sorted(r["$id"] for r in found["rows"]) == ["fox", "foxes"]
    call("tablesDB.updateRow", **T, rowId="dog", data={"body": "a fox now"})
    call("tablesDB.deleteRow", **T, rowId="fox")
    found = call("tablesDB.listRows", **T, queries=[q("search", "body", ["fox"])])
    assert sorted(r["$id"] for r in found["rows"]) == ["dog", "foxes"]


def test_update_and_delete_table_and_database(call, table):
    call("tablesDB.createIntegerColumn", **T, key="n", required=False)
    row(call, {"n": 1})
    updated = call("tablesDB.updateTable", **T, name="Renamed", rowSecurity=True, enabled=False)
    assert (updated["name"], updated["rowSecurity"], updated["enabled"]) == ("Renamed", True, False)
    call("tablesDB.deleteTable", **T)
    assert error_of(call, "tablesDB.listRows", **T).type == "table_not_found"
    call("tablesDB.createTable", **DB, tableId="items", name="Again")
    assert call("tablesDB.listRows", **T)["total"] == 0
    call("tablesDB.delete", **DB)
    assert error_of(call, "tablesDB.listTables", **DB).type == "database_not_found"
