"""Rows: create, read, update, upsert, delete, bulk writes, counters, system fields, failures."""

from __future__ import annotations

import re

import pytest

from mcp_server.engine.permissions import key_auth, user_auth
from tests.engine.conftest import error_of, q

DB = {"databaseId": "main"}
T = {**DB, "tableId": "notes"}
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00")


@pytest.fixture
def notes(call):
    call("tablesDB.create", databaseId="main", name="Main")
    call("tablesDB.createTable", **T, name="Notes", permissions=['read("any")', 'write("users")'])
    call("tablesDB.createVarcharColumn", **T, key="title", size=100, required=True)
    call("tablesDB.createIntegerColumn", **T, key="likes", required=False, min=0, max=10, default=0)
    call("tablesDB.createFloatColumn", **T, key="price", required=False)
    return T


def test_created_row_has_every_system_field(call, notes):
    created = call("tablesDB.createRow", **T, rowId="n1", data={"title": "Hello"})
    assert created["$id"] == "n1"
    assert created["$sequence"] == "1"  # a string since Appwrite 1.9
    assert created["$tableId"] == "notes" and created["$databaseId"] == "main"
    assert ISO.fullmatch(created["$createdAt"]) and created["$createdAt"] == created["$updatedAt"]
    assert created["$permissions"] == []
    assert created["likes"] == 0 and created["price"] is None
    assert call("tablesDB.getRow", **T, rowId="n1") == created
    second = call("tablesDB.createRow", **T, rowId="unique()", data={"title": "Again"})
    assert second["$sequence"] == "2" and re.fullmatch(r"[0-9a-f]{20}", second["$id"])


def test_read_only_system_fields_in_data_are_ignored(call, notes):
    created = call("tablesDB.createRow", **T, rowId="n1", data={"title": "x", "$sequence": 99, "$tableId": "other"})
    assert created["$sequence"] == "1" and created["$tableId"] == "notes"


def test_keys_may_set_timestamps_users_may_not(call, notes):
    stamped = call("tablesDB.createRow", **T, rowId="old", data={"title": "x", "$createdAt": "2020-01-01T00:00:00Z"})
    assert stamped["$createdAt"] == "2020-01-01T00:00:00.000+00:00"
    user = user_auth("u1")
    mine = call(
        "tablesDB.createRow", user, **T, rowId="mine", data={"title": "y", "$createdAt": "2020-01-01T00:00:00Z"}
    )
    assert mine["$createdAt"] != "2020-01-01T00:00:00.000+00:00"


def test_row_ids_follow_appwrite_rules(call, notes):
    for bad in ("_x", "-x", "a" * 37, "has space", "é"):
        assert (
            error_of(call, "tablesDB.createRow", **T, rowId=bad, data={"title": "x"}).type == "general_argument_invalid"
        )
    assert call("tablesDB.createRow", **T, rowId="a.b-c_d", data={"title": "x"})["$id"] == "a.b-c_d"
    assert error_of(call, "tablesDB.createRow", **T, rowId="a.b-c_d", data={"title": "x"}).type == "row_already_exists"


def test_structure_errors_name_the_problem_and_change_nothing(call, notes):
    cases = [
        ({"likes": 1}, 'Missing required column "title"'),
        ({"title": "x", "colour": "red"}, 'Unknown column: "colour"'),
        ({"title": "x", "likes": 11}, "Value must be a valid range between 0 and 10"),
        ({"title": "x", "likes": "many"}, "Value must be a valid integer"),
        ({"title": 5}, "Value must be a valid string"),
    ]
    for data, message in cases:
        error = error_of(call, "tablesDB.createRow", **T, rowId="unique()", data=data)
        assert error.type == "row_invalid_structure" and message in error.message, (data, error.message)
    assert call("tablesDB.listRows", **T)["total"] == 0
    legacy = error_of(
        call, "databases.createDocument", databaseId="main", collectionId="notes", documentId="d", data={"likes": 1}
    )
    assert legacy.type == "document_invalid_structure" and 'Missing required attribute "title"' in legacy.message


def test_update_changes_only_named_columns(call, notes):
    call("tablesDB.createRow", **T, rowId="n1", data={"title": "Hello", "likes": 2})
    updated = call("tablesDB.updateRow", **T, rowId="n1", data={"likes": 3})
    assert updated["title"] == "Hello" and updated["likes"] == 3
    assert updated["$updatedAt"] >= updated["$createdAt"]
    cleared = call("tablesDB.updateRow", **T, rowId="n1", data={"price": None})
    assert cleared["price"] is None
    assert (
        'Missing required column "title"'
        in error_of(call, "tablesDB.updateRow", **T, rowId="n1", data={"title": None}).message
    )
    assert error_of(call, "tablesDB.updateRow", **T, rowId="n1").type == "row_missing_payload"
    assert error_of(call, "tablesDB.updateRow", **T, rowId="zz", data={"likes": 1}).type == "row_not_found"
    perms = call("tablesDB.updateRow", **T, rowId="n1", permissions=['read("any")'])
    assert perms["$permissions"] == ['read("any")'] and perms["likes"] == 3


def test_upsert_creates_then_updates(call, notes):
    created = call("tablesDB.upsertRow", **T, rowId="n1", data={"title": "first"})
    assert created["title"] == "first" and created["$sequence"] == "1"
    updated = call("tablesDB.upsertRow", **T, rowId="n1", data={"likes": 4})
    assert updated["title"] == "first" and updated["likes"] == 4 and updated["$sequence"] == "1"
    assert call("tablesDB.listRows", **T)["total"] == 1


def test_delete_row(call, notes):
    call("tablesDB.createRow", **T, rowId="n1", data={"title": "bye"})
    assert call("tablesDB.deleteRow", **T, rowId="n1") is None
    assert error_of(call, "tablesDB.getRow", **T, rowId="n1").type == "row_not_found"
    assert error_of(call, "tablesDB.deleteRow", **T, rowId="n1").type == "row_not_found"


def test_increment_and_decrement_are_bounded(call, notes):
    call("tablesDB.createRow", **T, rowId="n1", data={"title": "x", "likes": 5})
    assert call("tablesDB.incrementRowColumn", **T, rowId="n1", column="likes")["likes"] == 6
    assert call("tablesDB.incrementRowColumn", **T, rowId="n1", column="likes", value=2, max=8)["likes"] == 8
    over = error_of(call, "tablesDB.incrementRowColumn", **T, rowId="n1", column="likes", value=1, max=8)
    assert over.type == "column_limit_exceeded"
    beyond_column = error_of(call, "tablesDB.incrementRowColumn", **T, rowId="n1", column="likes", value=5)
    assert beyond_column.type == "column_limit_exceeded"
    assert call("tablesDB.decrementRowColumn", **T, rowId="n1", column="likes", value=8, min=0)["likes"] == 0
    assert (
        error_of(call, "tablesDB.decrementRowColumn", **T, rowId="n1", column="likes").type == "column_limit_exceeded"
    )
    assert (
        error_of(call, "tablesDB.incrementRowColumn", **T, rowId="n1", column="title").type == "attribute_type_invalid"
    )
    assert error_of(call, "tablesDB.incrementRowColumn", **T, rowId="n1", column="likes", value=0).type == (
        "general_argument_invalid"
    )
    assert call("tablesDB.incrementRowColumn", **T, rowId="n1", column="price", value=0.5)["price"] == 0.5
    assert call("tablesDB.getRow", **T, rowId="n1")["likes"] == 0


def test_bulk_create_is_all_or_nothing(call, notes):
    result = call("tablesDB.createRows", **T, rows=[{"$id": "a", "title": "A"}, {"title": "B", "likes": 2}])
    assert result["total"] == 2 and [r["title"] for r in result["rows"]] == ["A", "B"]
    bad = error_of(call, "tablesDB.createRows", **T, rows=[{"$id": "c", "title": "C"}, {"likes": 1}])
    assert bad.type == "row_invalid_structure"
    assert call("tablesDB.listRows", **T)["total"] == 2
    duplicate = error_of(
        call, "tablesDB.createRows", **T, rows=[{"$id": "d", "title": "D"}, {"$id": "a", "title": "A"}]
    )
    assert duplicate.type == "row_already_exists"
    assert error_of(call, "tablesDB.getRow", **T, rowId="d").type == "row_not_found"
    too_many = error_of(call, "tablesDB.createRows", **T, rows=[{"title": str(i)} for i in range(1001)])
    assert too_many.type == "general_argument_invalid"


def test_bulk_upsert_update_and_delete(call, notes):
    call("tablesDB.createRows", **T, rows=[{"$id": str(i), "title": f"t{i}", "likes": i} for i in range(6)])
    upserted = call("tablesDB.upsertRows", **T, rows=[{"$id": "0", "title": "zero"}, {"$id": "new", "title": "n"}])
    assert upserted["total"] == 2 and upserted["rows"][0]["likes"] == 0
    changed = call("tablesDB.updateRows", **T, data={"price": 9.5}, queries=[q("greaterThanEqual", "likes", [4])])
    assert changed["total"] == 2 and {r["$id"] for r in changed["rows"]} == {"4", "5"}
    assert all(r["price"] == 9.5 for r in changed["rows"])
    deleted = call("tablesDB.deleteRows", **T, queries=[q("lessThan", "likes", [2])])
    assert deleted["total"] == 3 and {r["$id"] for r in deleted["rows"]} == {"0", "1", "new"}
    assert call("tablesDB.listRows", **T)["total"] == 4
    everything = call("tablesDB.deleteRows", **T)
    assert everything["total"] == 4 and call("tablesDB.listRows", **T)["total"] == 0


def test_bulk_writes_need_an_api_key(call, notes):
    user = user_auth("u1")
    error = error_of(call, "tablesDB.createRows", user, **T, rows=[{"title": "x"}])
    assert error.type == "general_unauthorized_scope"
    key = key_auth(frozenset({"rows.write"}))
    assert call("tablesDB.createRows", key, **T, rows=[{"title": "x"}])["total"] == 1


def test_failed_write_leaves_database_unchanged(call, notes):
    call("tablesDB.createRow", **T, rowId="n1", data={"title": "x", "likes": 1})
    call("tablesDB.createIndex", **T, key="u", type="unique", columns=["title"])
    call("tablesDB.createRow", **T, rowId="n2", data={"title": "y"})
    error_of(call, "tablesDB.updateRows", **T, data={"title": "same"})
    titles = sorted(r["title"] for r in call("tablesDB.listRows", **T)["rows"])
    assert titles == ["x", "y"]


def test_permissions_are_stored_expanded(call, notes):
    created = call("tablesDB.createRow", **T, rowId="n1", data={"title": "x"}, permissions=['write("user:u1")'])
    assert created["$permissions"] == ['update("user:u1")', 'delete("user:u1")']
    bad = error_of(call, "tablesDB.createRow", **T, rowId="n2", data={"title": "x"}, permissions=['create("any")'])
    assert bad.type == "general_argument_invalid"
    assert error_of(call, "tablesDB.getRow", **T, rowId="n2").type == "row_not_found"


def test_encrypted_columns_are_encrypted_at_rest(engine, call):
    call("tablesDB.create", databaseId="main", name="Main")
    call("tablesDB.createTable", **DB, tableId="secrets", name="Secrets")
    call("tablesDB.createVarcharColumn", **DB, tableId="secrets", key="token", size=200, required=False, encrypt=True)
    created = call("tablesDB.createRow", **DB, tableId="secrets", rowId="s1", data={"token": "hunter2"})
    assert created["token"] == "hunter2"
    raw = engine.project().connection.execute("SELECT * FROM rows_1").fetchone()
    assert "hunter2" not in [str(value) for value in tuple(raw)]
    query = error_of(call, "tablesDB.listRows", **DB, tableId="secrets", queries=[q("equal", "token", ["hunter2"])])
    assert "Cannot query encrypted attribute" in query.message
    small = error_of(
        call, "tablesDB.createVarcharColumn", **DB, tableId="secrets", key="t2", size=20, required=False, encrypt=True
    )
    assert small.type == "general_bad_request"


def test_data_survives_reopening(tmp_path):
    from mcp_server.engine import Engine

    first = Engine(tmp_path)
    first.call("tablesDB.create", {"databaseId": "main", "name": "Main"})
    first.call(
        "tablesDB.createTable",
        {**DB, "tableId": "t", "name": "T", "columns": [{"key": "n", "type": "integer", "required": False}]},
    )
    first.call("tablesDB.createRow", {**DB, "tableId": "t", "rowId": "r", "data": {"n": 7}})
    first.close()
    second = Engine(tmp_path)
    assert second.call("tablesDB.getRow", {**DB, "tableId": "t", "rowId": "r"})["n"] == 7
    second.close()


SECRET = "hunter2-very-secret-value"


@pytest.mark.parametrize("kind", ["string", "varchar", "text", "mediumtext", "longtext"])
def test_encrypted_text_columns_never_reach_the_database_files_in_plain(engine, call, kind):
    call("tablesDB.create", databaseId="main", name="Main")
    call("tablesDB.createTable", **DB, tableId="vault", name="Vault")
    sized = {"size": 200} if kind in ("string", "varchar") else {}
    method = "Varchar" if kind == "varchar" else kind.capitalize()
    column = call(
        f"tablesDB.create{method}Column", **DB, tableId="vault", key="secret", required=False, encrypt=True, **sized
    )
    assert column["encrypt"] is True and column["type"] == kind
    assert call("tablesDB.getColumn", **DB, tableId="vault", key="secret")["encrypt"] is True
    legacy = call(
        f"databases.create{method}Attribute",
        **DB,
        collectionId="vault",
        key="note",
        required=False,
        encrypt=True,
        **sized,
    )
    assert legacy["encrypt"] is True
    call("tablesDB.createRow", **DB, tableId="vault", rowId="r1", data={"secret": SECRET, "note": SECRET[::-1]})
    assert call("tablesDB.getRow", **DB, tableId="vault", rowId="r1")["secret"] == SECRET
    document = call("databases.getDocument", **DB, collectionId="vault", documentId="r1")
    assert (document["secret"], document["note"]) == (SECRET, SECRET[::-1])
    refused = error_of(call, "tablesDB.listRows", **DB, tableId="vault", queries=[q("equal", "note", [SECRET[::-1]])])
    assert (refused.type, refused.message) == (
        "general_query_invalid",
        "Invalid query: Cannot query encrypted attribute: note",
    )
    # The event stream keeps the row sealed, and gives it back whole to its readers (webhooks, realtime).
    announced = [event for event in engine.project().events.read(0) if event.payload.get("$id") == "r1"]
    assert announced and announced[-1].payload["secret"] == SECRET
    # A write staged in a transaction is kept sealed until it commits, and applies whole.
    staged_secret = SECRET.upper()
    pending = call("tablesDB.createTransaction")["$id"]
    call("tablesDB.createRow", **DB, tableId="vault", rowId="r2", data={"secret": staged_secret}, transactionId=pending)
    open_transaction = call("tablesDB.createTransaction")["$id"]
    call(
        "tablesDB.updateRow",
        **DB,
        tableId="vault",
        rowId="r1",
        data={"note": staged_secret[::-1]},
        transactionId=open_transaction,
    )
    engine.project().connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert staged_secret.encode() not in engine.project().db.path.read_bytes()
    call("tablesDB.updateTransaction", transactionId=pending, commit=True)
    assert call("tablesDB.getRow", **DB, tableId="vault", rowId="r2")["secret"] == staged_secret
    path = engine.project().db.path
    engine.close()
    for file in (path, path.with_name(path.name + "-wal")):
        if file.exists():
            content = file.read_bytes()
            for plain in (SECRET, SECRET[::-1], staged_secret, staged_secret[::-1]):
                assert plain.encode() not in content


@pytest.mark.parametrize(("kind", "size"), [("string", 149), ("varchar", 149), ("varchar", 1)])
def test_encrypted_strings_need_150_characters(call, kind, size):
    """Appwrite's APP_DATABASE_ENCRYPT_SIZE_MIN (150) holds for sized strings; text types have no size."""
    call("tablesDB.create", databaseId="main", name="Main")
    call("tablesDB.createTable", **DB, tableId="vault", name="Vault")
    method = "Varchar" if kind == "varchar" else "String"
    error = error_of(
        call, f"tablesDB.create{method}Column", **DB, tableId="vault", key="s", size=size, required=False, encrypt=True
    )
    assert error.type == "general_bad_request" and "minimum size of 150 characters" in error.message
    assert call(
        f"tablesDB.create{method}Column", **DB, tableId="vault", key="s", size=150, required=False, encrypt=True
    )["encrypt"]
    plain = call("tablesDB.createTextColumn", **DB, tableId="vault", key="t", required=False)
    assert plain["encrypt"] is False
