"""Transactions: staging writes, read-your-writes previews, createOperations, commit, rollback, expiry, conflicts."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from mcp_server.engine.errors import AppwriteError
from mcp_server.engine.permissions import key_auth, user_auth
from tests.engine.conftest import error_of, q

DB = "main"
T = {"databaseId": DB, "tableId": "items"}
KEY = key_auth(frozenset({"rows.read", "rows.write"}))


# ---------------------------------------------------------------------------------------------
# helpers


def make_items(call, database_id: str = DB, table_id: str = "items", **table_options) -> None:
    call("tablesDB.createTable", databaseId=database_id, tableId=table_id, name=table_id, **table_options)
    where = {"databaseId": database_id, "tableId": table_id}
    call("tablesDB.createStringColumn", **where, key="name", size=50, required=True)
    call("tablesDB.createIntegerColumn", **where, key="count", required=False)


@pytest.fixture
def items(call):
    """Database `main`, table `items` (name required, count) holding r1 (one, 1) and r2 (two, 2)."""
    call("tablesDB.create", databaseId=DB, name="Main")
    make_items(call)
    call("tablesDB.createRow", **T, rowId="r1", data={"name": "one", "count": 1})
    call("tablesDB.createRow", **T, rowId="r2", data={"name": "two", "count": 2})


SEED = {"r1": ("one", 1), "r2": ("two", 2)}


def begin(call, auth=None, service: str = "tablesDB", **params) -> str:
    kwargs = {"auth": auth} if auth is not None else {}
    return call(f"{service}.createTransaction", **kwargs, **params)["$id"]


def state(call, tx: str | None = None, where: dict = T, auth=None) -> dict:
    """Every row of the table as {id: (name, count)}, read through `tx` when given."""
    params = dict(where, queries=[q("limit", values=[500])])
    if tx is not None:
        params["transactionId"] = tx
    kwargs = {"auth": auth} if auth is not None else {}
    rows = call("tablesDB.listRows", **kwargs, **params)["rows"]
    return {row["$id"]: (row["name"], row["count"]) for row in rows}


def total(call, tx: str | None = None, queries: list | None = None, where: dict = T) -> int:
    params = dict(where, queries=queries or [])
    if tx is not None:
        params["transactionId"] = tx
    return call("tablesDB.listRows", **params)["total"]


def info(call, tx: str, service: str = "tablesDB") -> dict:
    return call(f"{service}.getTransaction", transactionId=tx)


def commit(call, tx: str, auth=None, service: str = "tablesDB") -> dict:
    kwargs = {"auth": auth} if auth is not None else {}
    return call(f"{service}.updateTransaction", **kwargs, transactionId=tx, commit=True)


def rollback(call, tx: str) -> dict:
    return call("tablesDB.updateTransaction", transactionId=tx, rollback=True)


def stage(call, tx: str, *operations: dict, auth=None) -> dict:
    kwargs = {"auth": auth} if auth is not None else {}
    return call("tablesDB.createOperations", **kwargs, transactionId=tx, operations=list(operations))


def op(action: str, row_id: str | None = None, data=None, **extra) -> dict:
    operation = {"action": action, **T, **extra}
    if row_id is not None:
        operation["rowId"] = row_id
    if data is not None:
        operation["data"] = data
    return operation


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def set_expired(engine, tx: str) -> None:
    past = (datetime.now(UTC) - timedelta(seconds=5)).isoformat(timespec="milliseconds")
    engine.project().connection.execute("UPDATE _transactions SET expires = ? WHERE id = ?", (past, tx))


# ---------------------------------------------------------------------------------------------
# createTransaction


def test_create_transaction_model(call):
    before = datetime.now(UTC)
    model = call("tablesDB.createTransaction")
    after = datetime.now(UTC)
    assert model["$id"]
    assert model["status"] == "pending"
    assert model["operations"] == 0
    expires = parse(model["expiresAt"])
    assert before + timedelta(seconds=300) - timedelta(seconds=1) <= expires <= after + timedelta(seconds=301)
    assert parse(model["$createdAt"]) <= expires
    assert info(call, model["$id"]) == model


@pytest.mark.parametrize("ttl", [60, 61, 1800, 3600])
def test_create_transaction_ttl(call, ttl):
    model = call("tablesDB.createTransaction", ttl=ttl)
    assert parse(model["expiresAt"]) - parse(model["$createdAt"]) == timedelta(seconds=ttl)


@pytest.mark.parametrize("ttl", [-1, 0, 59, 3601, 100000])
def test_create_transaction_ttl_out_of_range(call, ttl):
    err = error_of(call, "tablesDB.createTransaction", ttl=ttl)
    assert err.type == "general_argument_invalid"
    assert call("tablesDB.listTransactions")["total"] == 0


def test_transaction_ids_are_unique(call):
    assert len({begin(call) for _ in range(5)}) == 5
    assert call("tablesDB.listTransactions")["total"] == 5


# ---------------------------------------------------------------------------------------------
# staging writes with transactionId: invisible outside, visible through the transaction


def test_staged_create_row(call, items):
    tx = begin(call)
    created = call("tablesDB.createRow", **T, rowId="r3", data={"name": "three"}, transactionId=tx)
    assert created["$id"] == "r3" and created["name"] == "three"
    assert error_of(call, "tablesDB.getRow", **T, rowId="r3").type == "row_not_found"
    assert state(call) == SEED
    assert total(call) == 2
    assert call("tablesDB.getRow", **T, rowId="r3", transactionId=tx)["name"] == "three"
    assert state(call, tx) == {**SEED, "r3": ("three", None)}
    assert total(call, tx) == 3
    assert info(call, tx)["operations"] == 1
    commit(call, tx)
    assert call("tablesDB.getRow", **T, rowId="r3")["name"] == "three"


def test_staged_create_row_with_unique_id(call, items):
    tx = begin(call)
    created = call("tablesDB.createRow", **T, rowId="unique()", data={"name": "gen"}, transactionId=tx)
    assert created["$id"] != "unique()"
    assert total(call) == 2
    commit(call, tx)
    assert call("tablesDB.getRow", **T, rowId=created["$id"])["name"] == "gen"


def test_staged_update_row(call, items):
    tx = begin(call)
    updated = call("tablesDB.updateRow", **T, rowId="r1", data={"name": "uno"}, transactionId=tx)
    assert updated["name"] == "uno" and updated["count"] == 1
    assert call("tablesDB.getRow", **T, rowId="r1")["name"] == "one"
    assert call("tablesDB.getRow", **T, rowId="r1", transactionId=tx)["name"] == "uno"
    assert total(call, tx, [q("equal", "name", ["uno"])]) == 1
    assert total(call, None, [q("equal", "name", ["uno"])]) == 0
    commit(call, tx)
    assert state(call) == {"r1": ("uno", 1), "r2": ("two", 2)}


def test_staged_upsert_row_creates_and_updates(call, items):
    tx = begin(call)
    call("tablesDB.upsertRow", **T, rowId="r1", data={"name": "uno"}, transactionId=tx)
    call("tablesDB.upsertRow", **T, rowId="r9", data={"name": "nine", "count": 9}, transactionId=tx)
    assert state(call) == SEED
    expected = {"r1": ("uno", 1), "r2": ("two", 2), "r9": ("nine", 9)}
    assert state(call, tx) == expected
    assert call("tablesDB.getRow", **T, rowId="r9", transactionId=tx)["count"] == 9
    assert info(call, tx)["operations"] == 2
    commit(call, tx)
    assert state(call) == expected


def test_staged_delete_row(call, items):
    tx = begin(call)
    assert call("tablesDB.deleteRow", **T, rowId="r1", transactionId=tx) is None
    assert call("tablesDB.getRow", **T, rowId="r1")["name"] == "one"
    assert error_of(call, "tablesDB.getRow", **T, rowId="r1", transactionId=tx).type == "row_not_found"
    assert total(call) == 2
    assert total(call, tx) == 1
    commit(call, tx)
    assert state(call) == {"r2": ("two", 2)}


def test_staged_increment_and_decrement(call, items):
    tx = begin(call)
    preview = call("tablesDB.incrementRowColumn", **T, rowId="r1", column="count", value=5, transactionId=tx)
    assert preview["count"] == 6
    preview = call("tablesDB.decrementRowColumn", **T, rowId="r2", column="count", value=2, transactionId=tx)
    assert preview["count"] == 0
    assert state(call) == SEED
    assert state(call, tx) == {"r1": ("one", 6), "r2": ("two", 0)}
    assert total(call, tx, [q("greaterThan", "count", [5])]) == 1
    commit(call, tx)
    assert state(call) == {"r1": ("one", 6), "r2": ("two", 0)}


def test_staged_increment_respects_max(call, items):
    tx = begin(call)
    err = error_of(
        call, "tablesDB.incrementRowColumn", **T, rowId="r1", column="count", value=5, max=3, transactionId=tx
    )
    assert err.type == "column_limit_exceeded"
    assert info(call, tx)["operations"] == 0


def test_staged_operations_build_on_each_other(call, items):
    tx = begin(call)
    call("tablesDB.createRow", **T, rowId="r3", data={"name": "three", "count": 3}, transactionId=tx)
    updated = call("tablesDB.updateRow", **T, rowId="r3", data={"name": "THREE"}, transactionId=tx)
    assert updated["name"] == "THREE" and updated["count"] == 3
    assert call("tablesDB.incrementRowColumn", **T, rowId="r3", column="count", transactionId=tx)["count"] == 4
    call("tablesDB.deleteRow", **T, rowId="r2", transactionId=tx)
    expected = {"r1": ("one", 1), "r3": ("THREE", 4)}
    assert state(call, tx) == expected
    assert info(call, tx)["operations"] == 4
    assert state(call) == SEED
    commit(call, tx)
    assert state(call) == expected


def test_staged_create_then_delete_leaves_nothing(call, items):
    tx = begin(call)
    call("tablesDB.createRow", **T, rowId="tmp", data={"name": "tmp"}, transactionId=tx)
    call("tablesDB.deleteRow", **T, rowId="tmp", transactionId=tx)
    assert state(call, tx) == SEED
    commit(call, tx)
    assert state(call) == SEED


def test_staged_bulk_writes_with_api_key(call, items):
    tx = begin(call, KEY)
    created = call(
        "tablesDB.createRows",
        KEY,
        **T,
        rows=[{"$id": "b1", "name": "bulk", "count": 10}, {"$id": "b2", "name": "bulk", "count": 20}],
        transactionId=tx,
    )
    assert created["total"] == 2
    assert state(call) == SEED
    assert total(call, tx) == 4

    call(
        "tablesDB.upsertRows",
        KEY,
        **T,
        rows=[{"$id": "r1", "name": "uno"}, {"$id": "b3", "name": "b3"}],
        transactionId=tx,
    )
    call("tablesDB.updateRows", KEY, **T, data={"count": 0}, queries=[q("equal", "name", ["bulk"])], transactionId=tx)
    call("tablesDB.deleteRows", KEY, **T, queries=[q("equal", "name", ["two"])], transactionId=tx)
    expected = {"r1": ("uno", 1), "b1": ("bulk", 0), "b2": ("bulk", 0), "b3": ("b3", None)}
    assert state(call) == SEED
    assert total(call) == 2
    assert state(call, tx) == expected
    assert total(call, tx) == 4
    assert total(call, tx, [q("equal", "name", ["bulk"])]) == 2
    assert info(call, tx)["operations"] == 4
    assert commit(call, tx, KEY)["status"] == "committed"
    assert state(call) == expected


def test_staged_bulk_write_refused_with_relationships(call, items):
    call("tablesDB.createTable", databaseId=DB, tableId="tags", name="tags")
    call("tablesDB.createRelationshipColumn", **T, relatedTableId="tags", type="manyToOne", key="tag")
    tx = begin(call)
    err = error_of(call, "tablesDB.createRows", **T, rows=[{"name": "x"}], transactionId=tx)
    assert err.type == "general_bad_request"
    err = error_of(stage, call, tx, op("bulkDelete", data={"queries": []}))
    assert err.type == "general_bad_request"
    assert info(call, tx)["operations"] == 0


def test_get_row_with_select_through_transaction(call, items):
    tx = begin(call)
    call("tablesDB.updateRow", **T, rowId="r1", data={"count": 42}, transactionId=tx)
    row = call("tablesDB.getRow", **T, rowId="r1", transactionId=tx, queries=[q("select", values=["count"])])
    assert row["count"] == 42 and "name" not in row


def test_listing_through_transaction_pages_and_orders(call, items):
    tx = begin(call)
    for i in range(3, 8):
        call("tablesDB.createRow", **T, rowId=f"r{i}", data={"name": f"n{i}", "count": i}, transactionId=tx)
    listed = call(
        "tablesDB.listRows",
        **T,
        transactionId=tx,
        queries=[q("orderDesc", "count"), q("limit", values=[2])],
    )
    assert listed["total"] == 7
    assert [row["$id"] for row in listed["rows"]] == ["r7", "r6"]


def test_staged_relationship_write(call, items):
    call("tablesDB.createTable", databaseId=DB, tableId="tags", name="tags")
    call("tablesDB.createStringColumn", databaseId=DB, tableId="tags", key="label", size=20, required=False)
    call(
        "tablesDB.createRelationshipColumn",
        **T,
        relatedTableId="tags",
        type="manyToOne",
        key="tag",
        twoWay=True,
        twoWayKey="items",
    )
    tags = {"databaseId": DB, "tableId": "tags"}
    tx = begin(call)
    call(
        "tablesDB.createRow",
        **T,
        rowId="r3",
        data={"name": "x", "tag": {"$id": "t1", "label": "hot"}},
        transactionId=tx,
    )
    assert call("tablesDB.listRows", **tags)["total"] == 0
    assert call("tablesDB.getRow", **tags, rowId="t1", transactionId=tx)["label"] == "hot"
    assert call("tablesDB.getRow", **T, rowId="r3", transactionId=tx)["tag"] == "t1"
    commit(call, tx)
    assert call("tablesDB.getRow", **T, rowId="r3")["tag"] == "t1"
    assert call("tablesDB.getRow", **tags, rowId="t1")["label"] == "hot"


# ---------------------------------------------------------------------------------------------
# createOperations


ACTIONS = [
    ("create", op("create", "r3", {"name": "three"}), {**SEED, "r3": ("three", None)}),
    ("update", op("update", "r1", {"name": "uno"}), {"r1": ("uno", 1), "r2": ("two", 2)}),
    ("upsert-update", op("upsert", "r1", {"name": "uno", "count": 7}), {"r1": ("uno", 7), "r2": ("two", 2)}),
    ("upsert-create", op("upsert", "r4", {"name": "four"}), {**SEED, "r4": ("four", None)}),
    ("delete", op("delete", "r2"), {"r1": ("one", 1)}),
    ("increment", op("increment", "r1", {"column": "count", "value": 5}), {"r1": ("one", 6), "r2": ("two", 2)}),
    ("increment-default", op("increment", "r1", {"column": "count"}), {"r1": ("one", 2), "r2": ("two", 2)}),
    ("decrement", op("decrement", "r2", {"column": "count", "value": 2}), {"r1": ("one", 1), "r2": ("two", 0)}),
    (
        "bulkCreate",
        op("bulkCreate", data=[{"$id": "b1", "name": "b1"}, {"$id": "b2", "name": "b2", "count": 5}]),
        {**SEED, "b1": ("b1", None), "b2": ("b2", 5)},
    ),
    (
        "bulkUpdate",
        op("bulkUpdate", data={"queries": [q("equal", "name", ["one"])], "data": {"count": 100}}),
        {"r1": ("one", 100), "r2": ("two", 2)},
    ),
    (
        "bulkUpsert",
        op("bulkUpsert", data=[{"$id": "r1", "name": "uno"}, {"$id": "b3", "name": "b3"}]),
        {"r1": ("uno", 1), "r2": ("two", 2), "b3": ("b3", None)},
    ),
    ("bulkDelete", op("bulkDelete", data={"queries": [q("equal", "name", ["two"])]}), {"r1": ("one", 1)}),
    ("bulkDelete-all", op("bulkDelete", data={"queries": []}), {}),
]


@pytest.mark.parametrize(("name", "operation", "expected"), ACTIONS, ids=[a[0] for a in ACTIONS])
def test_create_operations_each_action(call, items, name, operation, expected):
    tx = begin(call)
    model = stage(call, tx, operation)
    assert model["$id"] == tx
    assert model["status"] == "pending"
    assert model["operations"] == 1
    assert state(call) == SEED
    assert state(call, tx) == expected
    assert commit(call, tx)["status"] == "committed"
    assert state(call) == expected


def test_create_operations_many_at_once(call, items):
    tx = begin(call)
    model = stage(
        call,
        tx,
        op("create", "r3", {"name": "three", "count": 3}),
        op("update", "r3", {"name": "THREE"}),
        op("increment", "r3", {"column": "count", "value": 10}),
        op("delete", "r1"),
    )
    assert model["operations"] == 4
    model = stage(call, tx, op("decrement", "r3", {"column": "count", "value": 1}))
    assert model["operations"] == 5
    expected = {"r2": ("two", 2), "r3": ("THREE", 12)}
    assert state(call, tx) == expected
    assert state(call) == SEED
    assert commit(call, tx)["operations"] == 5
    assert state(call) == expected


def test_create_operations_returns_transaction_model(call, items):
    tx = begin(call)
    model = stage(call, tx, op("create", "r3", {"name": "three"}))
    assert set(model) >= {"$id", "$createdAt", "$updatedAt", "status", "operations", "expiresAt"}
    assert info(call, tx)["operations"] == 1


INVALID = [
    ("missing action", {"databaseId": DB, "tableId": "items", "rowId": "r1", "data": {}}, "general_argument_invalid"),
    (
        "missing databaseId",
        {"action": "create", "tableId": "items", "rowId": "x", "data": {"name": "x"}},
        "general_argument_invalid",
    ),
    (
        "missing tableId",
        {"action": "create", "databaseId": DB, "rowId": "x", "data": {"name": "x"}},
        "general_argument_invalid",
    ),
    ("empty tableId", {**op("create", "x", {"name": "x"}), "tableId": ""}, "general_argument_invalid"),
    ("unknown action", op("frobnicate", "r1", {"name": "x"}), "general_argument_invalid"),
    ("create without rowId", op("create", data={"name": "x"}), "general_argument_invalid"),
    ("update without rowId", op("update", data={"name": "x"}), "general_argument_invalid"),
    ("upsert without rowId", op("upsert", data={"name": "x"}), "general_argument_invalid"),
    ("delete without rowId", op("delete"), "general_argument_invalid"),
    ("increment without rowId", op("increment", data={"column": "count"}), "general_argument_invalid"),
    ("decrement without rowId", op("decrement", data={"column": "count"}), "general_argument_invalid"),
    ("create without data", op("create", "x"), "general_argument_invalid"),
    ("increment without column", op("increment", "r1", {"value": 1}), "general_argument_invalid"),
    ("bulkUpdate without queries", op("bulkUpdate", data={"data": {"count": 1}}), "general_argument_invalid"),
    ("bulkDelete without queries", op("bulkDelete", data={}), "general_argument_invalid"),
    ("bulkDelete without data", op("bulkDelete"), "general_argument_invalid"),
    ("not an object", "create", "general_argument_invalid"),
]


@pytest.mark.parametrize(("name", "operation", "error"), INVALID, ids=[i[0] for i in INVALID])
def test_create_operations_validation(call, items, name, operation, error):
    tx = begin(call)
    assert error_of(stage, call, tx, operation).type == error
    assert info(call, tx)["operations"] == 0
    assert state(call, tx) == SEED


def test_create_operations_validation_messages(call, items):
    tx = begin(call)
    err = error_of(stage, call, tx, {"action": "create", "databaseId": DB, "rowId": "x", "data": {}})
    assert "tableId" in err.message
    err = error_of(stage, call, tx, op("update", data={"name": "x"}))
    assert "rowId" in err.message
    err = error_of(stage, call, tx, op("bulkDelete", data={}))
    assert "queries" in err.message


def test_create_operations_empty_array(call, items):
    tx = begin(call)
    assert error_of(call, "tablesDB.createOperations", transactionId=tx, operations=[]).type == "general_bad_request"
    assert error_of(call, "tablesDB.createOperations", transactionId=tx).type == "general_bad_request"
    assert info(call, tx)["operations"] == 0


def test_create_operations_batch_is_all_or_nothing(call, items):
    tx = begin(call)
    err = error_of(stage, call, tx, op("create", "r3", {"name": "three"}), op("update", "ghost", {"name": "x"}))
    assert err.type == "row_not_found"
    assert info(call, tx)["operations"] == 0
    assert state(call, tx) == SEED
    err = error_of(stage, call, tx, op("create", "r3", {"name": "three"}), op("update", data={"name": "x"}))
    assert err.type == "general_argument_invalid"
    assert info(call, tx)["operations"] == 0


def test_create_operations_unknown_table_or_database(call, items):
    tx = begin(call)
    assert error_of(stage, call, tx, {**op("create", "x", {"name": "x"}), "tableId": "nope"}).type == "table_not_found"
    err = error_of(stage, call, tx, {**op("create", "x", {"name": "x"}), "databaseId": "nope"})
    assert err.type == "database_not_found"
    assert info(call, tx)["operations"] == 0


def test_bulk_actions_need_an_api_key(call, items):
    call(
        "tablesDB.updateTable",
        **T,
        permissions=['create("users")', 'read("users")', 'update("users")', 'delete("users")'],
    )
    alice = user_auth("alice")
    tx = begin(call, alice)
    err = error_of(stage, call, tx, op("bulkCreate", data=[{"name": "x"}]), auth=alice)
    assert err.type == "user_unauthorized"
    err = error_of(call, "tablesDB.createRows", alice, **T, rows=[{"name": "x"}], transactionId=tx)
    assert err.type in ("user_unauthorized", "general_unauthorized_scope")
    stage(call, tx, op("create", "a1", {"name": "mine"}), auth=alice)
    assert info(call, tx)["operations"] == 1


# ---------------------------------------------------------------------------------------------
# writes that would fail are refused at staging


def test_staged_structure_error_refused(call, items):
    tx = begin(call)
    err = error_of(call, "tablesDB.createRow", **T, rowId="bad", data={"count": 1}, transactionId=tx)
    assert err.type == "row_invalid_structure"
    err = error_of(call, "tablesDB.updateRow", **T, rowId="r1", data={"nope": 1}, transactionId=tx)
    assert err.type == "row_invalid_structure"
    err = error_of(stage, call, tx, op("create", "bad", {"name": "x", "count": "many"}))
    assert err.type == "row_invalid_structure"
    assert info(call, tx)["operations"] == 0
    commit(call, tx)
    assert state(call) == SEED


def test_staged_write_on_missing_row_refused(call, items):
    tx = begin(call)
    for operation, params in [
        ("tablesDB.updateRow", {"data": {"name": "x"}}),
        ("tablesDB.deleteRow", {}),
        ("tablesDB.incrementRowColumn", {"column": "count"}),
        ("tablesDB.decrementRowColumn", {"column": "count"}),
    ]:
        err = error_of(call, operation, **T, rowId="ghost", transactionId=tx, **params)
        assert err.type == "row_not_found", operation
    for action in ("update", "delete", "increment", "decrement"):
        data = {"column": "count"} if action in ("increment", "decrement") else {"name": "x"}
        err = error_of(stage, call, tx, op(action, "ghost", None if action == "delete" else data))
        assert err.type == "row_not_found", action
    assert info(call, tx)["operations"] == 0


def test_staged_duplicate_create_refused(call, items):
    tx = begin(call)
    err = error_of(call, "tablesDB.createRow", **T, rowId="r1", data={"name": "again"}, transactionId=tx)
    assert err.type == "row_already_exists"
    call("tablesDB.createRow", **T, rowId="r3", data={"name": "three"}, transactionId=tx)
    err = error_of(call, "tablesDB.createRow", **T, rowId="r3", data={"name": "again"}, transactionId=tx)
    assert err.type == "row_already_exists"
    assert info(call, tx)["operations"] == 1


def test_staged_write_after_staged_delete_refused(call, items):
    tx = begin(call)
    call("tablesDB.deleteRow", **T, rowId="r1", transactionId=tx)
    err = error_of(call, "tablesDB.updateRow", **T, rowId="r1", data={"name": "x"}, transactionId=tx)
    assert err.type == "row_not_found"
    assert info(call, tx)["operations"] == 1


def test_staged_increment_on_text_column_refused(call, items):
    tx = begin(call)
    err = error_of(call, "tablesDB.incrementRowColumn", **T, rowId="r1", column="name", transactionId=tx)
    assert err.type == "attribute_type_invalid"
    assert info(call, tx)["operations"] == 0


# ---------------------------------------------------------------------------------------------
# the operation limit


def test_operation_limit(call, items):
    tx = begin(call)
    model = stage(call, tx, *[op("create", f"n{i}", {"name": f"n{i}"}) for i in range(100)])
    assert model["operations"] == 100
    err = error_of(call, "tablesDB.createRow", **T, rowId="extra", data={"name": "x"}, transactionId=tx)
    assert err.type == "transaction_limit_exceeded"
    assert error_of(stage, call, tx, op("delete", "r1")).type == "transaction_limit_exceeded"
    assert info(call, tx)["operations"] == 100
    commit(call, tx)
    assert total(call) == 102


def test_operation_limit_in_one_batch(call, items):
    tx = begin(call)
    err = error_of(stage, call, tx, *[op("create", f"n{i}", {"name": f"n{i}"}) for i in range(101)])
    assert err.type == "transaction_limit_exceeded"
    assert info(call, tx)["operations"] == 0


def test_operation_limit_across_batches(call, items):
    tx = begin(call)
    stage(call, tx, *[op("create", f"n{i}", {"name": f"n{i}"}) for i in range(60)])
    err = error_of(stage, call, tx, *[op("create", f"m{i}", {"name": f"m{i}"}) for i in range(41)])
    assert err.type == "transaction_limit_exceeded"
    assert info(call, tx)["operations"] == 60
    assert stage(call, tx, *[op("create", f"m{i}", {"name": f"m{i}"}) for i in range(40)])["operations"] == 100


def test_bulk_operation_counts_once(call, items):
    tx = begin(call, KEY)
    call("tablesDB.createRows", KEY, **T, rows=[{"name": f"x{i}"} for i in range(50)], transactionId=tx)
    assert info(call, tx)["operations"] == 1


# ---------------------------------------------------------------------------------------------
# commit, rollback


def test_commit_applies_everything(call, items):
    tx = begin(call)
    call("tablesDB.createRow", **T, rowId="r3", data={"name": "three"}, transactionId=tx)
    call("tablesDB.updateRow", **T, rowId="r1", data={"count": 10}, transactionId=tx)
    call("tablesDB.deleteRow", **T, rowId="r2", transactionId=tx)
    model = commit(call, tx)
    assert model["status"] == "committed"
    assert model["operations"] == 3
    assert model["$id"] == tx
    assert state(call) == {"r1": ("one", 10), "r3": ("three", None)}
    assert info(call, tx)["status"] == "committed"


def test_commit_with_no_operations(call, items):
    tx = begin(call)
    assert commit(call, tx)["status"] == "committed"
    assert state(call) == SEED


def test_commit_failure_applies_nothing(call, items):
    tx = begin(call)
    call("tablesDB.createRow", **T, rowId="r3", data={"name": "three"}, transactionId=tx)
    call("tablesDB.updateRow", **T, rowId="r2", data={"name": "deux"}, transactionId=tx)
    call("tablesDB.updateRow", **T, rowId="r1", data={"name": "uno"}, transactionId=tx)
    call("tablesDB.deleteRow", **T, rowId="r1")  # the staged update of r1 can no longer apply
    err = error_of(commit, call, tx)
    assert err.type in ("row_not_found", "document_not_found")
    assert info(call, tx)["status"] == "failed"
    assert state(call) == {"r2": ("two", 2)}


def test_commit_failure_on_schema_change(call, items):
    tx = begin(call)
    call("tablesDB.updateRow", **T, rowId="r1", data={"count": 5}, transactionId=tx)
    call("tablesDB.createRow", **T, rowId="r3", data={"name": "three"}, transactionId=tx)
    call("tablesDB.createStringColumn", **T, key="code", size=5, required=True)
    err = error_of(commit, call, tx)
    assert err.type in ("row_invalid_structure", "document_invalid_structure")
    assert info(call, tx)["status"] == "failed"
    assert {row["$id"]: row["count"] for row in call("tablesDB.listRows", **T)["rows"]} == {"r1": 1, "r2": 2}


def test_commit_failure_on_duplicate_id(call, items):
    tx = begin(call)
    call("tablesDB.updateRow", **T, rowId="r1", data={"count": 5}, transactionId=tx)
    call("tablesDB.createRow", **T, rowId="r3", data={"name": "staged"}, transactionId=tx)
    call("tablesDB.createRow", **T, rowId="r3", data={"name": "outside"})
    err = error_of(commit, call, tx)
    assert err.type in ("transaction_conflict", "row_already_exists", "document_already_exists")
    assert info(call, tx)["status"] == "failed"
    assert state(call) == {**SEED, "r3": ("outside", None)}


def test_rollback_discards(call, items):
    tx = begin(call)
    call("tablesDB.createRow", **T, rowId="r3", data={"name": "three"}, transactionId=tx)
    call("tablesDB.deleteRow", **T, rowId="r1", transactionId=tx)
    model = rollback(call, tx)
    assert model["status"] == "failed"
    assert info(call, tx)["status"] == "failed"
    assert state(call) == SEED
    err = error_of(commit, call, tx)
    assert err.type == "transaction_not_ready"
    assert state(call) == SEED


def test_update_transaction_needs_exactly_one_flag(call, items):
    tx = begin(call)
    call("tablesDB.createRow", **T, rowId="r3", data={"name": "three"}, transactionId=tx)
    err = error_of(call, "tablesDB.updateTransaction", transactionId=tx)
    assert err.type == "general_bad_request"
    err = error_of(call, "tablesDB.updateTransaction", transactionId=tx, commit=False, rollback=False)
    assert err.type == "general_bad_request"
    err = error_of(call, "tablesDB.updateTransaction", transactionId=tx, commit=True, rollback=True)
    assert err.type == "general_bad_request"
    model = info(call, tx)
    assert model["status"] == "pending" and model["operations"] == 1
    assert state(call) == SEED
    commit(call, tx)
    assert total(call) == 3


@pytest.mark.parametrize("finish", ["commit", "rollback"])
def test_finished_transaction_is_not_ready(call, items, finish):
    tx = begin(call)
    call("tablesDB.createRow", **T, rowId="r3", data={"name": "three"}, transactionId=tx)
    call("tablesDB.updateTransaction", transactionId=tx, **{finish: True})
    after = state(call)
    attempts = [
        lambda: call("tablesDB.createRow", **T, rowId="r4", data={"name": "four"}, transactionId=tx),
        lambda: call("tablesDB.updateRow", **T, rowId="r1", data={"name": "x"}, transactionId=tx),
        lambda: call("tablesDB.deleteRow", **T, rowId="r1", transactionId=tx),
        lambda: call("tablesDB.incrementRowColumn", **T, rowId="r1", column="count", transactionId=tx),
        lambda: call("tablesDB.createRows", **T, rows=[{"name": "x"}], transactionId=tx),
        lambda: stage(call, tx, op("create", "r5", {"name": "five"})),
        lambda: commit(call, tx),
        lambda: rollback(call, tx),
    ]
    for attempt in attempts:
        assert error_of(attempt).type == "transaction_not_ready"
    assert state(call) == after
    assert info(call, tx)["operations"] == 1


@pytest.mark.parametrize("finish", ["commit", "rollback"])
def test_reading_through_finished_transaction_shows_stored_rows(call, items, finish):
    """Once committed or rolled back, a transaction has no staged changes left to overlay (as in Appwrite,
    whose TransactionState ignores transactions that are not pending)."""
    tx = begin(call)
    call("tablesDB.incrementRowColumn", **T, rowId="r1", column="count", value=10, transactionId=tx)
    call("tablesDB.createRow", **T, rowId="r3", data={"name": "three"}, transactionId=tx)
    call("tablesDB.updateTransaction", transactionId=tx, **{finish: True})
    stored = state(call)
    assert state(call, tx) == stored
    assert call("tablesDB.getRow", **T, rowId="r1", transactionId=tx)["count"] == stored["r1"][1]
    assert total(call, tx) == len(stored)


def test_row_deleted_outside_does_not_break_the_transaction_until_commit(call, items):
    """A staged update whose row is deleted by someone else fails the commit, but reading other rows
    through the transaction and staging unrelated writes still work (as in Appwrite)."""
    tx = begin(call)
    call("tablesDB.updateRow", **T, rowId="r1", data={"name": "uno"}, transactionId=tx)
    call("tablesDB.deleteRow", **T, rowId="r1")
    assert call("tablesDB.getRow", **T, rowId="r2", transactionId=tx)["name"] == "two"
    call("tablesDB.createRow", **T, rowId="r3", data={"name": "three"}, transactionId=tx)
    assert info(call, tx)["operations"] == 2
    err = error_of(commit, call, tx)
    assert err.type in ("row_not_found", "document_not_found", "transaction_conflict")
    assert state(call) == {"r2": ("two", 2)}


def test_committed_rows_keep_the_permissions_shown_when_staged(call, items):
    """A user's staged row gets that user's default permissions, whoever commits the transaction."""
    call("tablesDB.updateTable", **T, permissions=['create("users")'], rowSecurity=True)
    alice = user_auth("alice")
    tx = begin(call, alice)
    staged = call("tablesDB.createRow", alice, **T, rowId="a1", data={"name": "mine"}, transactionId=tx)
    assert 'read("user:alice")' in staged["$permissions"]
    commit(call, tx, KEY)
    stored = call("tablesDB.getRow", **T, rowId="a1")
    assert sorted(stored["$permissions"]) == sorted(staged["$permissions"])
    assert call("tablesDB.getRow", alice, **T, rowId="a1")["name"] == "mine"


# ---------------------------------------------------------------------------------------------
# expiry


def test_expired_transaction(call, engine, items):
    tx = begin(call, ttl=60)
    call("tablesDB.createRow", **T, rowId="r3", data={"name": "three"}, transactionId=tx)
    set_expired(engine, tx)
    attempts = [
        lambda: call("tablesDB.createRow", **T, rowId="r4", data={"name": "four"}, transactionId=tx),
        lambda: call("tablesDB.updateRow", **T, rowId="r1", data={"name": "x"}, transactionId=tx),
        lambda: call("tablesDB.deleteRow", **T, rowId="r1", transactionId=tx),
        lambda: call("tablesDB.decrementRowColumn", **T, rowId="r1", column="count", transactionId=tx),
        lambda: stage(call, tx, op("create", "r5", {"name": "five"})),
        lambda: commit(call, tx),
    ]
    for attempt in attempts:
        assert error_of(attempt).type == "transaction_expired"
    assert state(call) == SEED
    assert info(call, tx)["operations"] == 1


def test_expired_transaction_by_clock(call, monkeypatch, items):
    """A transaction with the shortest ttl expires once its ttl has passed."""
    from mcp_server.engine.databases import transactions

    tx = begin(call, ttl=60)
    call("tablesDB.createRow", **T, rowId="r3", data={"name": "three"}, transactionId=tx)
    later = (datetime.now(UTC) + timedelta(seconds=61)).isoformat(timespec="milliseconds")
    monkeypatch.setattr(transactions, "now_iso", lambda: later)
    assert error_of(commit, call, tx).type == "transaction_expired"
    assert state(call) == SEED


def test_transaction_not_expired_before_ttl(call, monkeypatch, items):
    from mcp_server.engine.databases import transactions

    tx = begin(call, ttl=60)
    soon = (datetime.now(UTC) + timedelta(seconds=50)).isoformat(timespec="milliseconds")
    monkeypatch.setattr(transactions, "now_iso", lambda: soon)
    call("tablesDB.createRow", **T, rowId="r3", data={"name": "three"}, transactionId=tx)
    monkeypatch.undo()
    assert commit(call, tx)["status"] == "committed"


# ---------------------------------------------------------------------------------------------
# conflicts


def test_conflict_on_update(call, items):
    tx = begin(call)
    call("tablesDB.createRow", **T, rowId="r3", data={"name": "three"}, transactionId=tx)
    call("tablesDB.updateRow", **T, rowId="r1", data={"name": "from tx"}, transactionId=tx)
    time.sleep(0.01)
    call("tablesDB.updateRow", **T, rowId="r1", data={"name": "outside"})
    err = error_of(commit, call, tx)
    assert err.type == "transaction_conflict"
    assert info(call, tx)["status"] == "failed"
    assert state(call) == {"r1": ("outside", 1), "r2": ("two", 2)}


@pytest.mark.parametrize("action", ["delete", "increment", "decrement", "upsert"])
def test_conflict_on_other_writes(call, items, action):
    tx = begin(call)
    data = {"column": "count"} if action in ("increment", "decrement") else {"name": "tx"}
    stage(call, tx, op(action, "r2", None if action == "delete" else data))
    time.sleep(0.01)
    call("tablesDB.updateRow", **T, rowId="r2", data={"count": 50})
    assert error_of(commit, call, tx).type == "transaction_conflict"
    assert state(call) == {"r1": ("one", 1), "r2": ("two", 50)}


def test_change_before_staging_is_no_conflict(call, items):
    call("tablesDB.updateRow", **T, rowId="r1", data={"name": "first"})
    time.sleep(0.01)
    tx = begin(call)
    call("tablesDB.updateRow", **T, rowId="r1", data={"count": 9}, transactionId=tx)
    assert commit(call, tx)["status"] == "committed"
    assert state(call)["r1"] == ("first", 9)


def test_change_to_an_unrelated_row_is_no_conflict(call, items):
    tx = begin(call)
    call("tablesDB.updateRow", **T, rowId="r1", data={"count": 9}, transactionId=tx)
    time.sleep(0.01)
    call("tablesDB.updateRow", **T, rowId="r2", data={"count": 20})
    assert commit(call, tx)["status"] == "committed"
    assert state(call) == {"r1": ("one", 9), "r2": ("two", 20)}


def test_second_write_to_same_row_in_transaction_is_no_conflict(call, items):
    tx = begin(call)
    call("tablesDB.updateRow", **T, rowId="r1", data={"name": "a"}, transactionId=tx)
    time.sleep(0.01)
    call("tablesDB.updateRow", **T, rowId="r1", data={"count": 5}, transactionId=tx)
    assert commit(call, tx)["status"] == "committed"
    assert state(call)["r1"] == ("a", 5)


def test_conflict_between_two_transactions(call, items):
    first, second = begin(call), begin(call)
    call("tablesDB.updateRow", **T, rowId="r1", data={"name": "first"}, transactionId=first)
    call("tablesDB.updateRow", **T, rowId="r1", data={"name": "second"}, transactionId=second)
    time.sleep(0.01)
    commit(call, first)
    assert error_of(commit, call, second).type == "transaction_conflict"
    assert state(call)["r1"] == ("first", 1)


# ---------------------------------------------------------------------------------------------
# scope: tables, databases, services


def test_transaction_across_tables_and_databases(call, items):
    make_items(call, DB, "others")
    call("tablesDB.create", databaseId="second", name="Second")
    make_items(call, "second", "things")
    others = {"databaseId": DB, "tableId": "others"}
    things = {"databaseId": "second", "tableId": "things"}
    tx = begin(call)
    call("tablesDB.createRow", **others, rowId="o1", data={"name": "o"}, transactionId=tx)
    call("tablesDB.createRow", **things, rowId="t1", data={"name": "t"}, transactionId=tx)
    stage(call, tx, {"action": "update", **things, "rowId": "t1", "data": {"count": 3}})
    call("tablesDB.deleteRow", **T, rowId="r1", transactionId=tx)
    assert state(call, where=others) == {} and state(call, where=things) == {}
    assert state(call, tx, where=things) == {"t1": ("t", 3)}
    assert state(call, tx, where=others) == {"o1": ("o", None)}
    commit(call, tx)
    assert state(call, where=others) == {"o1": ("o", None)}
    assert state(call, where=things) == {"t1": ("t", 3)}
    assert state(call) == {"r2": ("two", 2)}


def test_failure_across_databases_applies_nothing(call, items):
    call("tablesDB.create", databaseId="second", name="Second")
    make_items(call, "second", "things")
    things = {"databaseId": "second", "tableId": "things"}
    tx = begin(call)
    call("tablesDB.createRow", **things, rowId="t1", data={"name": "t"}, transactionId=tx)
    call("tablesDB.updateRow", **T, rowId="r1", data={"name": "x"}, transactionId=tx)
    time.sleep(0.01)
    call("tablesDB.updateRow", **T, rowId="r1", data={"name": "outside"})
    assert error_of(commit, call, tx).type == "transaction_conflict"
    assert state(call, where=things) == {}


def test_legacy_transaction_used_through_tables_db(call, items):
    tx = call("databases.createTransaction")["$id"]
    call("tablesDB.createRow", **T, rowId="r3", data={"name": "three"}, transactionId=tx)
    assert info(call, tx)["operations"] == 1
    assert info(call, tx, "databases")["operations"] == 1
    doc = call("databases.getDocument", databaseId=DB, collectionId="items", documentId="r3", transactionId=tx)
    assert doc["name"] == "three" and doc["$collectionId"] == "items"
    assert commit(call, tx)["status"] == "committed"
    assert call("databases.getDocument", databaseId=DB, collectionId="items", documentId="r3")["name"] == "three"


def test_tables_db_transaction_used_through_legacy(call, items):
    tx = begin(call)
    legacy = {"databaseId": DB, "collectionId": "items"}
    created = call("databases.createDocument", **legacy, documentId="d1", data={"name": "doc"}, transactionId=tx)
    assert created["$collectionId"] == "items"
    call(
        "databases.incrementDocumentAttribute", **legacy, documentId="r1", attribute="count", value=4, transactionId=tx
    )
    call(
        "databases.createOperations",
        transactionId=tx,
        operations=[
            {"action": "update", **legacy, "documentId": "r2", "data": {"name": "deux"}},
            {"action": "increment", **legacy, "documentId": "r2", "data": {"attribute": "count", "value": 3}},
        ],
    )
    listed = call("databases.listDocuments", **legacy, transactionId=tx)
    assert listed["total"] == 3
    assert {doc["$id"]: doc["count"] for doc in listed["documents"]} == {"r1": 5, "r2": 5, "d1": None}
    assert state(call, tx) == {"r1": ("one", 5), "r2": ("deux", 5), "d1": ("doc", None)}
    assert info(call, tx, "databases")["operations"] == 4
    model = call("databases.updateTransaction", transactionId=tx, commit=True)
    assert model["status"] == "committed"
    assert state(call) == {"r1": ("one", 5), "r2": ("deux", 5), "d1": ("doc", None)}


def test_legacy_create_operations_validation(call, items):
    tx = call("databases.createTransaction")["$id"]
    err = error_of(
        call,
        "databases.createOperations",
        transactionId=tx,
        operations=[{"action": "update", "databaseId": DB, "collectionId": "items", "data": {"name": "x"}}],
    )
    assert err.type == "general_argument_invalid"
    assert "documentId" in err.message
    err = error_of(
        call,
        "databases.createOperations",
        transactionId=tx,
        operations=[
            {
                "action": "update",
                "databaseId": DB,
                "collectionId": "items",
                "documentId": "ghost",
                "data": {"name": "x"},
            }
        ],
    )
    assert err.type == "document_not_found"


def test_legacy_list_and_delete_transaction(call, items):
    tx = begin(call)
    listed = call("databases.listTransactions")
    assert listed["total"] == 1 and listed["transactions"][0]["$id"] == tx
    call("databases.deleteTransaction", transactionId=tx)
    assert error_of(info, call, tx).type == "transaction_not_found"


# ---------------------------------------------------------------------------------------------
# get, list, delete


def test_get_list_delete_transaction(call, items):
    first, second = begin(call), begin(call)
    call("tablesDB.createRow", **T, rowId="r3", data={"name": "three"}, transactionId=second)
    listed = call("tablesDB.listTransactions")
    assert listed["total"] == 2
    assert {t["$id"]: t["operations"] for t in listed["transactions"]} == {first: 0, second: 1}
    assert all(t["status"] == "pending" for t in listed["transactions"])
    assert info(call, second)["operations"] == 1

    assert call("tablesDB.deleteTransaction", transactionId=second) is None
    assert error_of(info, call, second).type == "transaction_not_found"
    assert call("tablesDB.listTransactions")["total"] == 1
    err = error_of(call, "tablesDB.createRow", **T, rowId="r4", data={"name": "x"}, transactionId=second)
    assert err.type == "transaction_not_found"
    assert error_of(commit, call, second).type == "transaction_not_found"
    assert state(call) == SEED


def test_list_transactions_with_queries(call, items):
    first, second = begin(call), begin(call)
    commit(call, first)
    pending = call("tablesDB.listTransactions", queries=[q("equal", "status", ["pending"])])
    assert [t["$id"] for t in pending["transactions"]] == [second]
    committed = call("tablesDB.listTransactions", queries=[q("equal", "status", ["committed"])])
    assert [t["$id"] for t in committed["transactions"]] == [first]
    assert call("tablesDB.listTransactions", queries=[q("limit", values=[1])])["total"] == 2


def test_unknown_transaction(call, items):
    assert error_of(info, call, "nope").type == "transaction_not_found"
    assert error_of(commit, call, "nope").type == "transaction_not_found"
    assert error_of(call, "tablesDB.deleteTransaction", transactionId="nope").type == "transaction_not_found"
    assert error_of(stage, call, "nope", op("delete", "r1")).type == "transaction_not_found"
    err = error_of(call, "tablesDB.createRow", **T, rowId="x", data={"name": "x"}, transactionId="nope")
    assert err.type == "transaction_not_found"
    assert state(call) == SEED


def test_deleted_transaction_operations_are_discarded(call, items):
    tx = begin(call)
    call("tablesDB.createRow", **T, rowId="r3", data={"name": "three"}, transactionId=tx)
    call("tablesDB.deleteTransaction", transactionId=tx)
    other = begin(call)
    assert info(call, other)["operations"] == 0
    assert state(call) == SEED


# ---------------------------------------------------------------------------------------------
# users


@pytest.fixture
def shared(call, items):
    """`items` readable and writable by every signed-in user."""
    call(
        "tablesDB.updateTable",
        **T,
        permissions=['create("users")', 'read("users")', 'update("users")', 'delete("users")'],
    )


def test_user_transaction_invisible_to_other_users(call, shared):
    alice, bob = user_auth("alice"), user_auth("bob")
    tx = begin(call, alice)
    call("tablesDB.createRow", alice, **T, rowId="a1", data={"name": "alice's"}, transactionId=tx)
    assert call("tablesDB.getTransaction", alice, transactionId=tx)["operations"] == 1

    assert error_of(call, "tablesDB.getTransaction", bob, transactionId=tx).type == "transaction_not_found"
    assert call("tablesDB.listTransactions", bob)["total"] == 0
    # bob cannot read through alice's transaction: refused, or shown without her staged rows
    for read in (
        lambda: call("tablesDB.getRow", bob, **T, rowId="a1", transactionId=tx),
        lambda: call("tablesDB.listRows", bob, **T, transactionId=tx)["rows"],
    ):
        try:
            seen = read()
        except AppwriteError as err:
            assert err.type in ("transaction_not_found", "row_not_found")
        else:
            assert "alice's" not in str(seen)
    attempts = [
        lambda: call("tablesDB.createRow", bob, **T, rowId="b1", data={"name": "bob's"}, transactionId=tx),
        lambda: stage(call, tx, op("delete", "r1"), auth=bob),
        lambda: call("tablesDB.updateTransaction", bob, transactionId=tx, commit=True),
        lambda: call("tablesDB.updateTransaction", bob, transactionId=tx, rollback=True),
        lambda: call("tablesDB.deleteTransaction", bob, transactionId=tx),
    ]
    for attempt in attempts:
        assert error_of(attempt).type == "transaction_not_found"

    bobs = begin(call, bob)
    listed = call("tablesDB.listTransactions", alice)
    assert [t["$id"] for t in listed["transactions"]] == [tx]
    assert {t["$id"] for t in call("tablesDB.listTransactions")["transactions"]} == {tx, bobs}

    assert call("tablesDB.getRow", alice, **T, rowId="a1", transactionId=tx)["name"] == "alice's"
    assert commit(call, tx, alice)["status"] == "committed"
    assert state(call) == {**SEED, "a1": ("alice's", None)}


def test_user_staging_checks_permissions(call, items):
    call("tablesDB.updateTable", **T, permissions=['read("users")'])
    alice = user_auth("alice")
    tx = begin(call, alice)
    err = error_of(call, "tablesDB.createRow", alice, **T, rowId="a1", data={"name": "x"}, transactionId=tx)
    assert err.type == "user_unauthorized"
    err = error_of(stage, call, tx, op("update", "r1", {"name": "x"}), auth=alice)
    assert err.type == "user_unauthorized"
    assert call("tablesDB.getTransaction", alice, transactionId=tx)["operations"] == 0


def test_api_key_sees_user_transactions(call, shared):
    alice = user_auth("alice")
    tx = begin(call, alice)
    assert call("tablesDB.getTransaction", KEY, transactionId=tx)["$id"] == tx
