"""The permission-aware list cache, seen from outside.

Cached listRows results are served within the TTL and recomputed after it; a write to a table drops
that table's cached lists (and only those); a caller never gets the cached rows of a caller with
other roles; a commit by another connection or process is seen at once.

To see whether a list came from the cache, tests change the stored rows behind the engine's back
with SQL on the engine's own connection (which the engine cannot notice): a cached list still shows
the old value, a recomputed one shows the new.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mcp_server.engine import Engine
from mcp_server.engine.databases.dialects import DIALECTS
from mcp_server.engine.databases.schema import cached_table
from mcp_server.engine.permissions import ADMIN, GUEST, key_auth, user_auth
from tests.engine.conftest import error_of, q

DB = "db"
REPO = Path(__file__).resolve().parents[2]
COLUMNS = [
    {"key": "name", "type": "string", "size": 64},
    {"key": "n", "type": "integer"},
    {"key": "note", "type": "string", "size": 64},
]


def make_engine(path: Path, ttl: float) -> Engine:
    return Engine(path, list_cache_ttl=ttl)


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def cached(data_dir):
    """An engine whose list cache lives long enough for no test to outlast it."""
    engine = make_engine(data_dir, 600)
    yield engine
    engine.close()


def run(engine: Engine, operation: str, auth=ADMIN, **params):
    return engine.call(operation, params, auth)


def setup_tables(engine: Engine, *table_ids: str, permissions=None, row_security=True) -> None:
    run(engine, "tablesDB.create", databaseId=DB, name="Cache")
    for table_id in table_ids:
        run(
            engine,
            "tablesDB.createTable",
            databaseId=DB,
            tableId=table_id,
            name=table_id,
            permissions=permissions if permissions is not None else ['read("any")'],
            rowSecurity=row_security,
            columns=COLUMNS,
        )


def add(engine: Engine, table_id: str, row_id: str, permissions=None, auth=ADMIN, **data) -> dict:
    params = {"databaseId": DB, "tableId": table_id, "rowId": row_id, "data": {"name": row_id, **data}}
    if permissions is not None:
        params["permissions"] = permissions
    return run(engine, "tablesDB.createRow", auth, **params)


def listing(engine: Engine, table_id: str, auth=ADMIN, queries=None, **params) -> dict:
    if queries is not None:
        params["queries"] = queries
    return run(engine, "tablesDB.listRows", auth, databaseId=DB, tableId=table_id, **params)


def ids(result: dict) -> list[str]:
    return [row["$id"] for row in result["rows"]]


def notes(result: dict) -> dict[str, str | None]:
    return {row["$id"]: row["note"] for row in result["rows"]}


def tamper(engine: Engine, table_id: str, row_id: str, note: str) -> None:
    """Change a stored value without telling the engine (same connection, so no data_version change)."""
    table = cached_table(engine.project(), DB, table_id, DIALECTS["tablesDB"])
    column = table.column("note")
    cursor = engine.project().connection.execute(
        f"UPDATE {table.sql_name} SET {column.sql_name} = ? WHERE _uid = ?", (note, row_id)
    )
    assert cursor.rowcount == 1


def stored_note(engine: Engine, table_id: str, row_id: str):
    """The value as stored (getRow is never cached)."""
    return run(engine, "tablesDB.getRow", databaseId=DB, tableId=table_id, rowId=row_id)["note"]


# --------------------------------------------------------------------------------------------------
# Within the TTL, and after it
# --------------------------------------------------------------------------------------------------


def test_cached_list_is_served_within_the_ttl(cached):
    setup_tables(cached, "a")
    add(cached, "a", "a1")
    add(cached, "a", "a2")
    first = listing(cached, "a")
    assert notes(first) == {"a1": None, "a2": None}

    tamper(cached, "a", "a1", "changed behind the engine's back")
    assert stored_note(cached, "a", "a1") == "changed behind the engine's back"
    assert listing(cached, "a") == first
    # Another request (other queries, other total flag) is its own entry and sees the stored value.
    assert notes(listing(cached, "a", queries=[q("limit", values=[10])]))["a1"] == "changed behind the engine's back"
    assert listing(cached, "a", total=False)["total"] == 0
    assert listing(cached, "a")["total"] == 2


def test_cached_list_is_refreshed_after_the_ttl(data_dir):
    engine = make_engine(data_dir, 0.3)
    try:
        setup_tables(engine, "a")
        add(engine, "a", "a1")
        assert notes(listing(engine, "a")) == {"a1": None}
        tamper(engine, "a", "a1", "late")
        assert notes(listing(engine, "a")) == {"a1": None}
        time.sleep(0.45)
        assert notes(listing(engine, "a")) == {"a1": "late"}
    finally:
        engine.close()


def test_ttl_zero_disables_the_cache(data_dir):
    engine = make_engine(data_dir, 0)
    try:
        setup_tables(engine, "a")
        add(engine, "a", "a1")
        assert notes(listing(engine, "a")) == {"a1": None}
        tamper(engine, "a", "a1", "now")
        assert notes(listing(engine, "a")) == {"a1": "now"}
    finally:
        engine.close()


def test_cache_entries_are_per_query(cached):
    setup_tables(cached, "a")
    add(cached, "a", "a1", n=1)
    add(cached, "a", "a2", n=2)
    only_a1 = [q("equal", "name", ["a1"])]
    assert ids(listing(cached, "a", queries=only_a1)) == ["a1"]
    assert ids(listing(cached, "a")) == ["a1", "a2"]
    assert ids(listing(cached, "a", queries=[q("orderDesc", "n")])) == ["a2", "a1"]
    assert ids(listing(cached, "a", queries=only_a1)) == ["a1"]


def test_legacy_and_tablesdb_lists_do_not_share_entries(cached):
    setup_tables(cached, "a")
    add(cached, "a", "a1")
    params = {"databaseId": DB, "queries": []}
    rows = cached.call("tablesDB.listRows", {**params, "tableId": "a"}, ADMIN)
    documents = cached.call("databases.listDocuments", {**params, "collectionId": "a"}, ADMIN)
    assert [row["$id"] for row in rows["rows"]] == ["a1"]
    assert rows["rows"][0]["$tableId"] == "a"
    assert [doc["$id"] for doc in documents["documents"]] == ["a1"]
    assert documents["documents"][0]["$collectionId"] == "a"
    assert "rows" not in documents


# --------------------------------------------------------------------------------------------------
# Writes drop the written table's lists, and only those
# --------------------------------------------------------------------------------------------------


def in_transaction(engine: Engine, *operations: dict) -> str:
    transaction = run(engine, "tablesDB.createTransaction")
    run(engine, "tablesDB.createOperations", transactionId=transaction["$id"], operations=list(operations))
    return transaction["$id"]


def commit(engine: Engine, transaction_id: str) -> None:
    run(engine, "tablesDB.updateTransaction", transactionId=transaction_id, commit=True)


def stage_create_row(engine: Engine) -> str:
    transaction = run(engine, "tablesDB.createTransaction")
    run(
        engine,
        "tablesDB.createRow",
        databaseId=DB,
        tableId="a",
        rowId="a3",
        data={"name": "a3"},
        transactionId=transaction["$id"],
    )
    return transaction["$id"]


A = {"databaseId": DB, "tableId": "a"}

# name -> (prepare (runs before the lists are cached; returns state), write(engine, state), expected ids of a)
WRITES = {
    "createRow": (None, lambda e, _: add(e, "a", "a3"), ["a1", "a2", "a3"]),
    "updateRow": (None, lambda e, _: run(e, "tablesDB.updateRow", **A, rowId="a1", data={"name": "x"}), None),
    "updateRow permissions": (
        None,
        lambda e, _: run(e, "tablesDB.updateRow", **A, rowId="a1", permissions=['read("users")']),
        None,
    ),
    "upsertRow create": (None, lambda e, _: run(e, "tablesDB.upsertRow", **A, rowId="a3", data={}), ["a1", "a2", "a3"]),
    "upsertRow update": (None, lambda e, _: run(e, "tablesDB.upsertRow", **A, rowId="a1", data={"name": "x"}), None),
    "deleteRow": (None, lambda e, _: run(e, "tablesDB.deleteRow", **A, rowId="a1"), ["a2"]),
    "incrementRowColumn": (
        None,
        lambda e, _: run(e, "tablesDB.incrementRowColumn", **A, rowId="a1", column="n", value=5),
        None,
    ),
    "decrementRowColumn": (
        None,
        lambda e, _: run(e, "tablesDB.decrementRowColumn", **A, rowId="a1", column="n", value=5),
        None,
    ),
    "createRows": (
        None,
        lambda e, _: run(e, "tablesDB.createRows", **A, rows=[{"$id": "a3", "name": "a3"}, {"$id": "a4"}]),
        ["a1", "a2", "a3", "a4"],
    ),
    "upsertRows": (
        None,
        lambda e, _: run(e, "tablesDB.upsertRows", **A, rows=[{"$id": "a1", "name": "x"}, {"$id": "a3"}]),
        ["a1", "a2", "a3"],
    ),
    "updateRows": (
        None,
        lambda e, _: run(e, "tablesDB.updateRows", **A, data={"n": 7}, queries=[q("equal", "$id", ["a1"])]),
        None,
    ),
    "deleteRows": (
        None,
        lambda e, _: run(e, "tablesDB.deleteRows", **A, queries=[q("equal", "$id", ["a1"])]),
        ["a2"],
    ),
    "transaction commit (staged createRow)": (stage_create_row, commit, ["a1", "a2", "a3"]),
    "transaction commit (createOperations)": (
        lambda e: in_transaction(
            e,
            {"action": "create", "databaseId": DB, "tableId": "a", "rowId": "a3", "data": {"name": "a3"}},
            {"action": "delete", "databaseId": DB, "tableId": "a", "rowId": "a1"},
        ),
        commit,
        ["a2", "a3"],
    ),
    "transaction commit (increment)": (
        lambda e: in_transaction(
            e,
            {
                "action": "increment",
                "databaseId": DB,
                "tableId": "a",
                "rowId": "a1",
                "data": {"column": "n", "value": 3},
            },
        ),
        commit,
        None,
    ),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_a_write_drops_the_tables_cached_lists_and_spares_other_tables(cached, write):
    prepare, act, expected_ids = WRITES[write]
    setup_tables(cached, "a", "b")
    add(cached, "a", "a1", n=10)
    add(cached, "a", "a2", n=20)
    add(cached, "b", "b1")
    state = prepare(cached) if prepare else None

    before_a = listing(cached, "a")
    before_b = listing(cached, "b")
    filtered_a = listing(cached, "a", queries=[q("equal", "$id", ["a2"])])
    # Tamper with a row of each table that the write does not touch: a list recomputed after the
    # write shows the tampered value, a list still cached does not.
    tamper(cached, "a", "a2", "tampered")
    tamper(cached, "b", "b1", "tampered")
    assert listing(cached, "a") == before_a, "the list was not cached to begin with"
    assert listing(cached, "b") == before_b

    act(cached, state)

    after_a = listing(cached, "a")
    assert notes(after_a)["a2"] == "tampered", "a's cached list survived a write to a"
    assert notes(listing(cached, "a", queries=[q("equal", "$id", ["a2"])])) == {"a2": "tampered"}
    assert filtered_a != listing(cached, "a", queries=[q("equal", "$id", ["a2"])])
    if expected_ids is not None:
        assert ids(after_a) == expected_ids
        assert after_a["total"] == len(expected_ids)
    else:
        assert ids(after_a) == ["a1", "a2"]
        changed = {row["$id"]: row for row in after_a["rows"]}["a1"]
        old = {row["$id"]: row for row in before_a["rows"]}["a1"]
        assert changed != old
        assert changed == run(cached, "tablesDB.getRow", **A, rowId="a1")
    # b was not written: its cached list is still served.
    assert listing(cached, "b") == before_b
    assert stored_note(cached, "b", "b1") == "tampered"


def test_a_refused_write_does_not_make_the_list_wrong(cached):
    setup_tables(cached, "a", permissions=['read("any")'])
    add(cached, "a", "a1")
    before = listing(cached, "a")
    error = error_of(add, cached, "a", "a1")  # duplicate id
    assert error.type == "row_already_exists"
    assert listing(cached, "a") == before


def test_a_write_by_a_user_drops_lists_cached_for_other_callers(cached):
    setup_tables(cached, "a", permissions=['read("any")', 'create("users")'])
    add(cached, "a", "a1")
    assert ids(listing(cached, "a", GUEST)) == ["a1"]
    assert ids(listing(cached, "a", ADMIN)) == ["a1"]
    add(cached, "a", "a2", auth=user_auth("u1"))
    assert ids(listing(cached, "a", GUEST)) == ["a1", "a2"]
    assert ids(listing(cached, "a", ADMIN)) == ["a1", "a2"]


def test_schema_change_drops_cached_lists(cached):
    setup_tables(cached, "a")
    add(cached, "a", "a1")
    before = listing(cached, "a")
    run(
        cached,
        "tablesDB.createStringColumn",
        databaseId=DB,
        tableId="a",
        key="extra",
        size=10,
        required=False,
        default="d",
    )
    after = listing(cached, "a")
    assert "extra" not in before["rows"][0]
    assert "extra" in after["rows"][0]


def test_a_read_inside_a_transaction_neither_uses_nor_fills_the_cache(cached):
    setup_tables(cached, "a")
    add(cached, "a", "a1")
    transaction_id = stage_create_row(cached)
    assert ids(listing(cached, "a")) == ["a1"]
    assert ids(listing(cached, "a", transactionId=transaction_id)) == ["a1", "a3"]
    assert ids(listing(cached, "a")) == ["a1"]
    assert ids(listing(cached, "a", transactionId=transaction_id)) == ["a1", "a3"]
    commit(cached, transaction_id)
    assert ids(listing(cached, "a")) == ["a1", "a3"]


def test_a_rolled_back_transaction_leaves_the_list_as_it_was(cached):
    setup_tables(cached, "a")
    add(cached, "a", "a1")
    transaction_id = stage_create_row(cached)
    assert ids(listing(cached, "a")) == ["a1"]
    run(cached, "tablesDB.updateTransaction", transactionId=transaction_id, rollback=True)
    assert ids(listing(cached, "a")) == ["a1"]
    assert listing(cached, "a")["total"] == 1


def test_a_write_to_a_related_table_refreshes_lists_that_embed_its_rows(cached):
    """Listing `a` with a relationship select embeds rows of `b`; changing such a row of `b` must show."""
    setup_tables(cached, "a", "b")
    run(
        cached,
        "tablesDB.createRelationshipColumn",
        databaseId=DB,
        tableId="a",
        relatedTableId="b",
        type="manyToOne",
        key="b",
    )
    add(cached, "b", "b1")
    add(cached, "a", "a1", b="b1")
    select = [q("select", values=["*", "b.*"])]
    before = listing(cached, "a", queries=select)
    assert before["rows"][0]["b"]["name"] == "b1"
    run(cached, "tablesDB.updateRow", databaseId=DB, tableId="b", rowId="b1", data={"name": "renamed"})
    got = run(cached, "tablesDB.getRow", databaseId=DB, tableId="a", rowId="a1", queries=select)
    assert got["b"]["name"] == "renamed"
    assert listing(cached, "a", queries=select)["rows"][0]["b"]["name"] == "renamed"


def test_revoking_read_on_a_related_row_hides_it_from_cached_lists(cached):
    """A user must stop seeing an embedded related row as soon as its read permission is revoked."""
    setup_tables(cached, "a", "b", permissions=[], row_security=True)
    run(
        cached,
        "tablesDB.createRelationshipColumn",
        databaseId=DB,
        tableId="a",
        relatedTableId="b",
        type="manyToOne",
        key="b",
    )
    add(cached, "b", "b1", permissions=['read("user:u1")'])
    add(cached, "a", "a1", permissions=['read("user:u1")'], b="b1")
    u1 = user_auth("u1")
    select = [q("select", values=["*", "b.*"])]
    assert listing(cached, "a", u1, queries=select)["rows"][0]["b"]["$id"] == "b1"
    run(cached, "tablesDB.updateRow", databaseId=DB, tableId="b", rowId="b1", permissions=[])
    assert run(cached, "tablesDB.getRow", u1, databaseId=DB, tableId="a", rowId="a1", queries=select)["b"] is None
    assert listing(cached, "a", u1, queries=select)["rows"][0]["b"] is None


# --------------------------------------------------------------------------------------------------
# Callers with other roles never share cached rows
# --------------------------------------------------------------------------------------------------


def permission_rows(engine: Engine) -> None:
    setup_tables(engine, "a", permissions=[], row_security=True)
    add(engine, "a", "u1_only", permissions=['read("user:u1")'])
    add(engine, "a", "u2_only", permissions=['read("user:u2")'])
    add(engine, "a", "users", permissions=['read("users")'])
    add(engine, "a", "team", permissions=['read("team:t1")'])
    add(engine, "a", "public", permissions=['read("any")'])
    add(engine, "a", "nobody", permissions=[])


EXPECTED = {
    "u1": ["u1_only", "users", "public"],
    "u2": ["u2_only", "users", "public"],
    "u1 in t1": ["u1_only", "users", "team", "public"],
    "guest": ["public"],
    "key": ["u1_only", "u2_only", "users", "team", "public", "nobody"],
    "admin": ["u1_only", "u2_only", "users", "team", "public", "nobody"],
}
CALLERS = {
    "u1": user_auth("u1"),
    "u2": user_auth("u2"),
    "u1 in t1": user_auth("u1", teams={"t1": ()}),
    "guest": GUEST,
    "key": key_auth(frozenset({"rows.read"})),
    "admin": ADMIN,
}


@pytest.mark.parametrize("first", list(CALLERS))
def test_callers_with_other_roles_never_get_each_others_cached_rows(cached, first):
    permission_rows(cached)
    queries = [q("limit", values=[50])]
    order = [first] + [name for name in CALLERS if name != first]
    for _ in range(2):  # the second round is served from the cache
        for name in order:
            result = listing(cached, "a", CALLERS[name], queries=queries)
            assert ids(result) == EXPECTED[name], name
            assert result["total"] == len(EXPECTED[name]), name


def test_same_user_with_different_roles_gets_a_different_list(cached):
    permission_rows(cached)
    assert ids(listing(cached, "a", user_auth("u1"))) == EXPECTED["u1"]
    assert ids(listing(cached, "a", user_auth("u1", teams={"t1": ()}))) == EXPECTED["u1 in t1"]
    assert ids(listing(cached, "a", user_auth("u1", verified=True))) == EXPECTED["u1"]
    assert ids(listing(cached, "a", user_auth("u1"))) == EXPECTED["u1"]


def test_changing_a_rows_permissions_takes_effect_despite_the_cache(cached):
    permission_rows(cached)
    u1 = user_auth("u1")
    assert ids(listing(cached, "a", u1)) == EXPECTED["u1"]
    run(cached, "tablesDB.updateRow", databaseId=DB, tableId="a", rowId="public", permissions=[])
    assert ids(listing(cached, "a", u1)) == ["u1_only", "users"]
    assert ids(listing(cached, "a", GUEST)) == []


def test_revoking_table_read_takes_effect_despite_the_cache(cached):
    setup_tables(cached, "a", permissions=['read("any")'], row_security=False)
    add(cached, "a", "a1")
    assert ids(listing(cached, "a", GUEST)) == ["a1"]
    run(cached, "tablesDB.updateTable", databaseId=DB, tableId="a", name="a", permissions=[])
    assert error_of(listing, cached, "a", GUEST).type == "user_unauthorized"


def test_disabling_a_table_takes_effect_despite_the_cache(cached):
    setup_tables(cached, "a", permissions=['read("any")'])
    add(cached, "a", "a1")
    assert ids(listing(cached, "a", GUEST)) == ["a1"]
    run(cached, "tablesDB.updateTable", databaseId=DB, tableId="a", name="a", enabled=False)
    assert error_of(listing, cached, "a", GUEST).type == "table_not_found"
    run(cached, "tablesDB.update", databaseId=DB, name="Cache", enabled=False)
    run(cached, "tablesDB.updateTable", databaseId=DB, tableId="a", name="a", enabled=True)
    assert error_of(listing, cached, "a", GUEST).type == "database_not_found"


def test_a_failed_list_is_not_cached_for_others(cached):
    setup_tables(cached, "a", permissions=[], row_security=False)
    add(cached, "a", "a1")
    assert error_of(listing, cached, "a", GUEST).type == "user_unauthorized"
    assert ids(listing(cached, "a", ADMIN)) == ["a1"]
    assert error_of(listing, cached, "a", GUEST).type == "user_unauthorized"


# --------------------------------------------------------------------------------------------------
# Commits by another connection or process
# --------------------------------------------------------------------------------------------------


def test_commit_through_a_second_engine_is_seen_at_once(cached, data_dir):
    setup_tables(cached, "a", "b")
    add(cached, "a", "a1")
    add(cached, "b", "b1")
    assert ids(listing(cached, "a")) == ["a1"]
    assert ids(listing(cached, "b")) == ["b1"]
    # The first engine's lists are cached (proved by tampering).
    tamper(cached, "b", "b1", "tampered")
    assert notes(listing(cached, "b")) == {"b1": None}

    other = make_engine(data_dir, 600)
    try:
        assert ids(listing(other, "a")) == ["a1"]
        add(other, "a", "a2")
        assert ids(listing(cached, "a")) == ["a1", "a2"]
        assert listing(cached, "a")["total"] == 2

        run(other, "tablesDB.updateRow", databaseId=DB, tableId="a", rowId="a1", data={"name": "renamed"})
        assert [row["name"] for row in listing(cached, "a")["rows"]] == ["renamed", "a2"]

        run(other, "tablesDB.deleteRow", databaseId=DB, tableId="a", rowId="a2")
        assert ids(listing(cached, "a")) == ["a1"]

        # And the other way round: the second engine's cache sees the first engine's commits.
        assert ids(listing(other, "a")) == ["a1"]
        add(cached, "a", "a3")
        assert ids(listing(other, "a")) == ["a1", "a3"]
    finally:
        other.close()


def test_schema_change_through_a_second_engine_is_seen(cached, data_dir):
    setup_tables(cached, "a")
    add(cached, "a", "a1")
    assert "extra" not in listing(cached, "a")["rows"][0]
    other = make_engine(data_dir, 600)
    try:
        run(other, "tablesDB.createStringColumn", databaseId=DB, tableId="a", key="extra", size=10, required=False)
        add(other, "a", "a2", extra="hello")
    finally:
        other.close()
    rows = listing(cached, "a")["rows"]
    assert [row["$id"] for row in rows] == ["a1", "a2"]
    assert rows[1]["extra"] == "hello"


def test_transaction_committed_by_a_second_engine_is_seen(cached, data_dir):
    setup_tables(cached, "a")
    add(cached, "a", "a1")
    assert ids(listing(cached, "a")) == ["a1"]
    other = make_engine(data_dir, 600)
    try:
        transaction_id = in_transaction(
            other,
            {"action": "create", "databaseId": DB, "tableId": "a", "rowId": "a2", "data": {"name": "a2"}},
            {"action": "create", "databaseId": DB, "tableId": "a", "rowId": "a3", "data": {"name": "a3"}},
        )
        assert ids(listing(cached, "a")) == ["a1"]
        commit(other, transaction_id)
    finally:
        other.close()
    assert ids(listing(cached, "a")) == ["a1", "a2", "a3"]


WRITER = textwrap.dedent(
    """
    import sys
    from mcp_server.engine import Engine

    engine = Engine(sys.argv[1])
    engine.call("tablesDB.createRow", {"databaseId": "db", "tableId": "a", "rowId": "from_process",
                                       "data": {"name": "from_process"}})
    engine.call("tablesDB.updateRow", {"databaseId": "db", "tableId": "a", "rowId": "a1",
                                       "data": {"name": "changed by process"}})
    engine.close()
    """
)


def test_commit_by_another_process_is_seen_at_once(cached, data_dir):
    setup_tables(cached, "a")
    add(cached, "a", "a1")
    assert ids(listing(cached, "a")) == ["a1"]
    assert ids(listing(cached, "a", GUEST)) == ["a1"]
    subprocess.run(
        [sys.executable, "-c", WRITER, str(data_dir)], cwd=REPO, check=True, capture_output=True, timeout=120
    )
    for auth in (ADMIN, GUEST):
        result = listing(cached, "a", auth)
        assert ids(result) == ["a1", "from_process"]
        assert result["rows"][0]["name"] == "changed by process"
        assert result["total"] == 2
