"""Permissions as a caller sees them: roles, table- and row-level permissions, API keys and scopes,
default row permissions, permission validation, and disabled databases and tables.

Facts from Appwrite (engine-facts §6, appwrite-api §4):
- create needs the table's create permission; row permissions never grant create;
- without table read: no rowSecurity -> listRows is user_unauthorized and getRow row_not_found;
  rowSecurity -> rows are filtered to those whose own permissions grant read;
- update/delete need the table permission, or rowSecurity and the row permission;
- API keys and the local administrator bypass permissions but not scopes;
- a user's row gets read/update/delete("user:ID") by default; a key's row gets none;
- a user may only grant roles they hold; invalid permission strings are general_argument_invalid.
"""

from __future__ import annotations

import contextlib

import pytest

from mcp_server.engine.errors import AppwriteError
from mcp_server.engine.permissions import ADMIN, GUEST, USER_SCOPES, Auth, key_auth, user_auth
from tests.engine.conftest import error_of, q

DB = "db"

ROWS_KEY = key_auth(frozenset({"rows.read", "rows.write"}))
SCHEMA_KEY = key_auth(frozenset({"databases.read", "databases.write", "tables.read", "tables.write"}))
# A caller holding no role at all: the only way to be a caller "not holding" `any`.
NOBODY = Auth(scopes=USER_SCOPES, roles=frozenset(), user_id=None, label="user")


@pytest.fixture
def db(call):
    call("tablesDB.create", databaseId=DB, name="Permissions")
    return DB


@pytest.fixture
def make_table(call, db):
    """make_table(table_id, permissions=[...], row_security=False) -> the table model (as ADMIN)."""

    def make(table_id: str = "t", permissions: list[str] | None = None, row_security: bool = False) -> dict:
        return call(
            "tablesDB.createTable",
            databaseId=db,
            tableId=table_id,
            name=table_id,
            permissions=permissions or [],
            rowSecurity=row_security,
            columns=[{"key": "name", "type": "string", "size": 64}, {"key": "n", "type": "integer"}],
        )

    return make


def list_ids(call, auth, table_id="t", queries=None) -> tuple[int, list[str]]:
    params = {"databaseId": DB, "tableId": table_id}
    if queries is not None:
        params["queries"] = queries
    result = call("tablesDB.listRows", auth, **params)
    return result["total"], [row["$id"] for row in result["rows"]]


def get_row(call, auth, row_id, table_id="t"):
    return call("tablesDB.getRow", auth, databaseId=DB, tableId=table_id, rowId=row_id)


def add_row(call, row_id, permissions=None, auth=ADMIN, table_id="t", **data):
    params = {"databaseId": DB, "tableId": table_id, "rowId": row_id, "data": {"name": row_id, **data}}
    if permissions is not None:
        params["permissions"] = permissions
    return call("tablesDB.createRow", auth, **params)


def raw_rows(engine, table_id="t") -> list[str]:
    """Row ids as stored, read behind the engine's back (to prove a refused call changed nothing)."""
    from mcp_server.engine.databases.dialects import DIALECTS
    from mcp_server.engine.databases.schema import cached_table

    table = cached_table(engine.project(), DB, table_id, DIALECTS["tablesDB"])
    return [r[0] for r in engine.project().connection.execute(f"SELECT _uid FROM {table.sql_name} ORDER BY _seq")]


# --------------------------------------------------------------------------------------------------
# Every role kind: a holder can read, a non-holder cannot (table-level and row-level)
# --------------------------------------------------------------------------------------------------

ROLE_CASES = {
    # role: (a caller holding it, a caller not holding it)
    "any": (GUEST, NOBODY),
    "guests": (GUEST, user_auth("u1")),
    "users": (user_auth("u1"), GUEST),
    "users/verified": (user_auth("u1", verified=True), user_auth("u1", verified=False)),
    "users/unverified": (user_auth("u1", verified=False), user_auth("u1", verified=True)),
    "user:u1": (user_auth("u1"), user_auth("u2")),
    "user:u1/verified": (user_auth("u1", verified=True), user_auth("u1", verified=False)),
    "team:t1": (user_auth("u1", teams={"t1": ()}), user_auth("u2", teams={"t2": ()})),
    "team:t1/editor": (user_auth("u1", teams={"t1": ("editor",)}), user_auth("u2", teams={"t1": ("viewer",)})),
    "member:m1": (user_auth("u1", memberships=("m1",)), user_auth("u2", memberships=("m2",))),
    "label:vip": (user_auth("u1", labels=("vip",)), user_auth("u2", labels=("basic",))),
}


@pytest.mark.parametrize("role", list(ROLE_CASES))
def test_table_level_read_by_role(call, make_table, role):
    holder, other = ROLE_CASES[role]
    make_table(permissions=[f'read("{role}")'])
    add_row(call, "r1", permissions=[])
    add_row(call, "r2", permissions=[])

    assert list_ids(call, holder) == (2, ["r1", "r2"])
    assert get_row(call, holder, "r1")["$id"] == "r1"

    assert error_of(list_ids, call, other).type == "user_unauthorized"
    assert error_of(get_row, call, other, "r1").type == "row_not_found"
    # The administrator always sees everything.
    assert list_ids(call, ADMIN) == (2, ["r1", "r2"])


@pytest.mark.parametrize("role", list(ROLE_CASES))
def test_row_level_read_by_role(call, make_table, role):
    holder, other = ROLE_CASES[role]
    make_table(permissions=[], row_security=True)
    add_row(call, "mine", permissions=[f'read("{role}")'])
    add_row(call, "nobodys", permissions=[])

    assert list_ids(call, holder) == (1, ["mine"])
    assert get_row(call, holder, "mine")["$id"] == "mine"
    assert error_of(get_row, call, holder, "nobodys").type == "row_not_found"

    assert list_ids(call, other) == (0, [])
    assert error_of(get_row, call, other, "mine").type == "row_not_found"
    assert list_ids(call, ADMIN) == (2, ["mine", "nobodys"])


def test_user_roles_do_not_leak_between_teams_and_roles(call, make_table):
    """team:t1/editor is not granted by team:t1 membership alone, nor by the editor role in another team."""
    make_table(permissions=[], row_security=True)
    add_row(call, "r", permissions=['read("team:t1/editor")'])
    assert list_ids(call, user_auth("a", teams={"t1": ()})) == (0, [])
    assert list_ids(call, user_auth("b", teams={"t2": ("editor",)})) == (0, [])
    assert list_ids(call, user_auth("c", teams={"t1": ("editor",)})) == (1, ["r"])


# --------------------------------------------------------------------------------------------------
# Table-level versus row-level
# --------------------------------------------------------------------------------------------------


def test_create_needs_table_create_permission(call, make_table, engine):
    make_table(permissions=['read("any")'], row_security=True)
    user = user_auth("u1")
    assert error_of(add_row, call, "r1", auth=user).type == "user_unauthorized"
    assert error_of(add_row, call, "r2", permissions=['read("user:u1")'], auth=user).type == "user_unauthorized"
    assert raw_rows(engine) == []


def test_table_create_permission_lets_a_user_create(call, make_table):
    make_table(permissions=['create("users")'])
    row = add_row(call, "r1", auth=user_auth("u1"))
    assert row["$id"] == "r1"
    assert list_ids(call, ADMIN) == (1, ["r1"])
    # Guests do not hold `users`.
    assert error_of(add_row, call, "r2", auth=GUEST).type == "user_unauthorized"


def test_row_permissions_cannot_carry_create(call, make_table, engine):
    make_table(permissions=['create("any")'], row_security=True)
    error = error_of(add_row, call, "r1", permissions=['create("any")'])
    assert error.type == "general_argument_invalid"
    assert raw_rows(engine) == []


def test_without_table_read_and_row_security_list_fails_and_get_is_not_found(call, make_table):
    make_table(permissions=['create("any")', 'update("any")', 'delete("any")'], row_security=False)
    add_row(call, "r1", permissions=['read("any")'])
    for auth in (GUEST, user_auth("u1")):
        error = error_of(list_ids, call, auth)
        assert error.type == "user_unauthorized"
        assert error.code == 401
        error = error_of(get_row, call, auth, "r1")
        assert error.type == "row_not_found"
        assert error.code == 404


def test_get_of_unreadable_row_is_indistinguishable_from_a_missing_row(call, make_table):
    make_table(permissions=[], row_security=True)
    add_row(call, "hidden", permissions=[])
    hidden = error_of(get_row, call, user_auth("u1"), "hidden")
    missing = error_of(get_row, call, user_auth("u1"), "absent")
    assert hidden.type == missing.type == "row_not_found"


def test_row_security_filters_rows_and_total(call, make_table):
    make_table(permissions=[], row_security=True)
    user = user_auth("u1")
    add_row(call, "a", permissions=['read("user:u1")'])
    add_row(call, "b", permissions=['read("user:u2")'])
    add_row(call, "c", permissions=['read("users")'])
    add_row(call, "d", permissions=[])
    add_row(call, "e", permissions=['update("user:u1")', 'delete("user:u1")'])  # no read

    assert list_ids(call, user) == (2, ["a", "c"])
    # Paging and filters apply only to the readable rows; the total counts only them.
    assert list_ids(call, user, queries=[q("limit", values=[1])]) == (2, ["a"])
    assert list_ids(call, user, queries=[q("limit", values=[1]), q("offset", values=[1])]) == (2, ["c"])
    assert list_ids(call, user, queries=[q("notEqual", "name", ["a"])]) == (1, ["c"])
    assert list_ids(call, user, queries=[q("equal", "name", ["b"])]) == (0, [])
    assert list_ids(call, GUEST) == (0, [])
    assert list_ids(call, ADMIN)[0] == 5


def test_table_read_with_row_security_shows_every_row(call, make_table):
    make_table(permissions=['read("users")'], row_security=True)
    add_row(call, "a", permissions=[])
    add_row(call, "b", permissions=['read("user:u2")'])
    assert list_ids(call, user_auth("u1")) == (2, ["a", "b"])
    assert get_row(call, user_auth("u1"), "a")["$id"] == "a"


def test_row_security_off_ignores_row_permissions(call, make_table):
    make_table(permissions=[], row_security=False)
    owner = user_auth("u1")
    add_row(call, "r1", permissions=['read("user:u1")', 'update("user:u1")', 'delete("user:u1")'])

    assert error_of(list_ids, call, owner).type == "user_unauthorized"
    assert error_of(get_row, call, owner, "r1").type == "row_not_found"
    update = error_of(
        call, "tablesDB.updateRow", owner, databaseId=DB, tableId="t", rowId="r1", data={"name": "changed"}
    )
    assert update.type == "user_unauthorized"
    assert error_of(call, "tablesDB.deleteRow", owner, databaseId=DB, tableId="t", rowId="r1").type == (
        "user_unauthorized"
    )
    # The permissions are still stored and returned.
    assert get_row(call, ADMIN, "r1")["$permissions"] == [
        'read("user:u1")',
        'update("user:u1")',
        'delete("user:u1")',
    ]
    assert get_row(call, ADMIN, "r1")["name"] == "r1"


def test_turning_row_security_on_and_off_changes_access(call, make_table):
    make_table(permissions=[], row_security=False)
    owner = user_auth("u1")
    add_row(call, "r1", permissions=['read("user:u1")'])
    assert error_of(list_ids, call, owner).type == "user_unauthorized"

    call("tablesDB.updateTable", databaseId=DB, tableId="t", name="t", rowSecurity=True)
    assert list_ids(call, owner) == (1, ["r1"])
    assert get_row(call, owner, "r1")["$id"] == "r1"

    call("tablesDB.updateTable", databaseId=DB, tableId="t", name="t", rowSecurity=False)
    assert error_of(list_ids, call, owner).type == "user_unauthorized"
    assert error_of(get_row, call, owner, "r1").type == "row_not_found"


def update_name(call, auth, row_id, name, table_id="t"):
    return call("tablesDB.updateRow", auth, databaseId=DB, tableId=table_id, rowId=row_id, data={"name": name})


def delete_row(call, auth, row_id, table_id="t"):
    return call("tablesDB.deleteRow", auth, databaseId=DB, tableId=table_id, rowId=row_id)


def stored_name(call, row_id):
    return get_row(call, ADMIN, row_id)["name"]


@pytest.mark.parametrize("row_security", [False, True])
def test_table_update_permission_allows_updating_any_row(call, make_table, row_security):
    make_table(permissions=['update("users")'], row_security=row_security)
    add_row(call, "r1", permissions=[])
    assert update_name(call, user_auth("u1"), "r1", "changed")["name"] == "changed"
    assert stored_name(call, "r1") == "changed"
    assert error_of(update_name, call, GUEST, "r1", "guest").type == "user_unauthorized"
    assert stored_name(call, "r1") == "changed"


def test_row_update_permission_needs_row_security(call, make_table):
    make_table(permissions=[], row_security=True)
    add_row(call, "mine", permissions=['update("user:u1")'])
    add_row(call, "theirs", permissions=['update("user:u2")'])
    u1 = user_auth("u1")

    assert update_name(call, u1, "mine", "by u1")["name"] == "by u1"
    assert error_of(update_name, call, u1, "theirs", "by u1").type == "user_unauthorized"
    assert stored_name(call, "theirs") == "theirs"

    call("tablesDB.updateTable", databaseId=DB, tableId="t", name="t", rowSecurity=False)
    assert error_of(update_name, call, u1, "mine", "again").type == "user_unauthorized"
    assert stored_name(call, "mine") == "by u1"


def test_row_update_permission_does_not_grant_delete(call, make_table):
    make_table(permissions=[], row_security=True)
    add_row(call, "r1", permissions=['update("user:u1")', 'read("user:u1")'])
    assert error_of(delete_row, call, user_auth("u1"), "r1").type == "user_unauthorized"
    assert get_row(call, ADMIN, "r1")["$id"] == "r1"


def test_increment_needs_update_permission(call, make_table):
    make_table(permissions=[], row_security=True)
    add_row(call, "mine", permissions=['update("user:u1")'], n=1)
    add_row(call, "theirs", permissions=['read("user:u1")'], n=1)
    u1 = user_auth("u1")
    params = {"databaseId": DB, "tableId": "t", "column": "n", "value": 2}
    assert call("tablesDB.incrementRowColumn", u1, rowId="mine", **params)["n"] == 3
    assert error_of(call, "tablesDB.incrementRowColumn", u1, rowId="theirs", **params).type == "user_unauthorized"
    assert get_row(call, ADMIN, "theirs")["n"] == 1


@pytest.mark.parametrize("row_security", [False, True])
def test_table_delete_permission_allows_deleting_any_row(call, make_table, engine, row_security):
    make_table(permissions=['delete("users")'], row_security=row_security)
    add_row(call, "r1", permissions=[])
    add_row(call, "r2", permissions=[])
    assert error_of(delete_row, call, GUEST, "r1").type == "user_unauthorized"
    delete_row(call, user_auth("u1"), "r1")
    assert raw_rows(engine) == ["r2"]


def test_row_delete_permission_needs_row_security(call, make_table, engine):
    make_table(permissions=[], row_security=True)
    add_row(call, "mine", permissions=['delete("user:u1")'])
    add_row(call, "theirs", permissions=['delete("user:u2")'])
    add_row(call, "later", permissions=['delete("user:u1")'])
    u1 = user_auth("u1")

    delete_row(call, u1, "mine")
    assert error_of(delete_row, call, u1, "theirs").type == "user_unauthorized"
    assert raw_rows(engine) == ["theirs", "later"]

    call("tablesDB.updateTable", databaseId=DB, tableId="t", name="t", rowSecurity=False)
    assert error_of(delete_row, call, u1, "later").type == "user_unauthorized"
    assert raw_rows(engine) == ["theirs", "later"]


def test_table_write_expands_to_create_update_delete(call, make_table, engine):
    table = make_table(permissions=['write("users")'])
    assert sorted(table["$permissions"]) == sorted(['create("users")', 'update("users")', 'delete("users")'])
    assert call("tablesDB.getTable", databaseId=DB, tableId="t")["$permissions"] == table["$permissions"]
    u1 = user_auth("u1")
    add_row(call, "r1", auth=u1)
    assert update_name(call, u1, "r1", "changed")["name"] == "changed"
    # write does not include read.
    assert error_of(list_ids, call, u1).type == "user_unauthorized"
    delete_row(call, u1, "r1")
    assert raw_rows(engine) == []


def test_row_write_expands_to_update_and_delete(call, make_table, engine):
    make_table(permissions=[], row_security=True)
    row = add_row(call, "r1", permissions=['write("user:u1")'])
    assert sorted(row["$permissions"]) == sorted(['update("user:u1")', 'delete("user:u1")'])
    u1 = user_auth("u1")
    assert update_name(call, u1, "r1", "changed")["name"] == "changed"
    assert list_ids(call, u1) == (0, [])  # write does not include read
    delete_row(call, u1, "r1")
    assert raw_rows(engine) == []


def test_row_write_does_not_grant_create(call, make_table, engine):
    """A row-level write("any") gives no create: creating still needs the table's create permission."""
    make_table(permissions=[], row_security=True)
    add_row(call, "r1", permissions=['write("any")'])
    assert error_of(add_row, call, "r2", permissions=['write("user:u1")'], auth=user_auth("u1")).type == (
        "user_unauthorized"
    )
    assert raw_rows(engine) == ["r1"]


def test_legacy_documents_api_applies_the_same_rules(call, make_table):
    make_table(permissions=[], row_security=True)
    add_row(call, "mine", permissions=['read("user:u1")'])
    add_row(call, "theirs", permissions=['read("user:u2")'])
    result = call("databases.listDocuments", user_auth("u1"), databaseId=DB, collectionId="t")
    assert result["total"] == 1
    assert [d["$id"] for d in result["documents"]] == ["mine"]
    error = error_of(
        call, "databases.getDocument", user_auth("u1"), databaseId=DB, collectionId="t", documentId="theirs"
    )
    assert error.type == "document_not_found"


# --------------------------------------------------------------------------------------------------
# API keys, the administrator, and scopes
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("auth", [ROWS_KEY, ADMIN], ids=["key", "admin"])
@pytest.mark.parametrize("row_security", [False, True])
def test_keys_and_admin_bypass_permissions(call, make_table, engine, auth, row_security):
    make_table(permissions=[], row_security=row_security)
    add_row(call, "seed", permissions=[])
    created = add_row(call, "r1", permissions=[], auth=auth)
    assert created["$permissions"] == []
    assert list_ids(call, auth) == (2, ["seed", "r1"])
    assert get_row(call, auth, "seed")["$id"] == "seed"
    assert update_name(call, auth, "seed", "changed")["name"] == "changed"
    params = {"databaseId": DB, "tableId": "t", "rowId": "seed", "column": "n", "value": 1}
    assert call("tablesDB.incrementRowColumn", auth, **params)["n"] == 1
    delete_row(call, auth, "seed")
    assert raw_rows(engine) == ["r1"]


def test_keys_may_grant_any_role(call, make_table):
    make_table(permissions=[], row_security=True)
    row = add_row(call, "r1", permissions=['read("user:someone")', 'update("team:x/owner")'], auth=ROWS_KEY)
    assert row["$permissions"] == ['read("user:someone")', 'update("team:x/owner")']
    assert list_ids(call, user_auth("someone")) == (1, ["r1"])


@pytest.mark.parametrize(
    "operation,params,scope",
    [
        ("tablesDB.createRow", {"rowId": "x", "data": {"name": "x"}}, "rows.write"),
        ("tablesDB.updateRow", {"rowId": "r1", "data": {"name": "x"}}, "rows.write"),
        ("tablesDB.deleteRow", {"rowId": "r1"}, "rows.write"),
        ("tablesDB.upsertRow", {"rowId": "x", "data": {"name": "x"}}, "rows.write"),
        ("tablesDB.incrementRowColumn", {"rowId": "r1", "column": "n"}, "rows.write"),
        ("tablesDB.createRows", {"rows": [{"name": "x"}]}, "rows.write"),
        ("tablesDB.deleteRows", {}, "rows.write"),
        ("tablesDB.createTable", {"tableId": "t2", "name": "t2"}, "tables.write"),
        ("tablesDB.updateTable", {"name": "renamed"}, "tables.write"),
        ("tablesDB.deleteTable", {}, "tables.write"),
        ("tablesDB.createStringColumn", {"key": "extra", "size": 10, "required": False}, "tables.write"),
        ("tablesDB.getTable", {}, "tables.read"),
    ],
)
def test_read_only_key_cannot_write(call, make_table, engine, operation, params, scope):
    make_table(permissions=[])
    add_row(call, "r1", permissions=[], n=5)
    reader = key_auth(frozenset({"rows.read"}))
    base = {"databaseId": DB} if operation in ("tablesDB.createTable",) else {"databaseId": DB, "tableId": "t"}
    error = error_of(call, operation, reader, **base, **params)
    assert error.type == "general_unauthorized_scope"
    assert error.code == 401
    assert scope in error.message
    # Nothing changed.
    assert raw_rows(engine) == ["r1"]
    assert get_row(call, ADMIN, "r1")["name"] == "r1"
    assert get_row(call, ADMIN, "r1")["n"] == 5
    table = call("tablesDB.getTable", databaseId=DB, tableId="t")
    assert table["name"] == "t"
    assert [c["key"] for c in table["columns"]] == ["name", "n"]
    assert call("tablesDB.listTables", databaseId=DB)["total"] == 1
    # ...and what the key may do, it can.
    assert list_ids(call, reader) == (1, ["r1"])
    assert get_row(call, reader, "r1")["$id"] == "r1"


def test_key_without_rows_read_cannot_list(call, make_table):
    make_table(permissions=['read("any")'])
    writer = key_auth(frozenset({"rows.write"}))
    add_row(call, "r1", auth=writer)
    error = error_of(list_ids, call, writer)
    assert error.type == "general_unauthorized_scope"
    assert "rows.read" in error.message
    assert error_of(get_row, call, writer, "r1").type == "general_unauthorized_scope"


def test_key_with_schema_scopes_only_cannot_touch_rows(call, db):
    call(
        "tablesDB.createTable",
        SCHEMA_KEY,
        databaseId=db,
        tableId="t",
        name="t",
        permissions=['read("any")'],
        columns=[{"key": "name", "type": "string", "size": 10}],
    )
    error = error_of(add_row, call, "r1", auth=SCHEMA_KEY)
    assert error.type == "general_unauthorized_scope"
    assert "rows.write" in error.message
    assert list_ids(call, ADMIN) == (0, [])


def test_key_with_tables_write_can_create_a_table(call, db):
    table = call(
        "tablesDB.createTable", SCHEMA_KEY, databaseId=db, tableId="t2", name="t2", permissions=['write("any")']
    )
    assert table["$id"] == "t2"


@pytest.mark.parametrize(
    "auth", [user_auth("u1", verified=True, teams={"t": ("owner",)}), GUEST], ids=["user", "guest"]
)
@pytest.mark.parametrize(
    "operation,params,scope",
    [
        ("tablesDB.create", {"databaseId": "other", "name": "other"}, "databases.write"),
        ("tablesDB.createTable", {"databaseId": DB, "tableId": "t2", "name": "t2"}, "tables.write"),
        (
            "tablesDB.updateTable",
            {"databaseId": DB, "tableId": "t", "name": "renamed", "rowSecurity": True},
            "tables.write",
        ),
        ("tablesDB.deleteTable", {"databaseId": DB, "tableId": "t"}, "tables.write"),
        (
            "tablesDB.createStringColumn",
            {"databaseId": DB, "tableId": "t", "key": "extra", "size": 10, "required": False},
            "tables.write",
        ),
    ],
)
def test_sessions_cannot_run_schema_operations(call, make_table, auth, operation, params, scope):
    make_table(permissions=['write("any")', 'read("any")'])
    error = error_of(call, operation, auth, **params)
    assert error.type == "general_unauthorized_scope"
    assert scope in error.message
    table = call("tablesDB.getTable", databaseId=DB, tableId="t")
    assert table["name"] == "t"
    assert table["rowSecurity"] is False
    assert [c["key"] for c in table["columns"]] == ["name", "n"]
    assert call("tablesDB.listTables", databaseId=DB)["total"] == 1
    assert call("tablesDB.list")["total"] == 1


def test_sessions_cannot_run_bulk_row_operations(call, make_table, engine):
    make_table(permissions=['write("any")', 'read("any")'])
    add_row(call, "r1", permissions=[])
    u1 = user_auth("u1")
    error = error_of(call, "tablesDB.createRows", u1, databaseId=DB, tableId="t", rows=[{"name": "x"}])
    assert error.type == "general_unauthorized_scope"
    error = error_of(call, "tablesDB.deleteRows", u1, databaseId=DB, tableId="t")
    assert error.type == "general_unauthorized_scope"
    assert raw_rows(engine) == ["r1"]


# --------------------------------------------------------------------------------------------------
# Default permissions and granting
# --------------------------------------------------------------------------------------------------


def test_user_row_defaults_to_owner_permissions(call, make_table):
    make_table(permissions=['create("users")'], row_security=True)
    row = add_row(call, "r1", auth=user_auth("u1"))
    expected = ['read("user:u1")', 'update("user:u1")', 'delete("user:u1")']
    assert row["$permissions"] == expected
    assert get_row(call, ADMIN, "r1")["$permissions"] == expected
    # The defaults are effective: the owner can read it back, another user cannot.
    assert list_ids(call, user_auth("u1")) == (1, ["r1"])
    assert list_ids(call, user_auth("u2")) == (0, [])
    assert update_name(call, user_auth("u1"), "r1", "mine")["name"] == "mine"


def test_user_upsert_creating_a_row_gets_owner_permissions(call, make_table):
    make_table(permissions=['create("users")'], row_security=True)
    row = call("tablesDB.upsertRow", user_auth("u1"), databaseId=DB, tableId="t", rowId="r1", data={"name": "x"})
    assert row["$permissions"] == ['read("user:u1")', 'update("user:u1")', 'delete("user:u1")']


@pytest.mark.parametrize("auth", [ROWS_KEY, ADMIN], ids=["key", "admin"])
def test_key_row_defaults_to_no_permissions(call, make_table, auth):
    make_table(permissions=['read("any")'], row_security=True)
    row = add_row(call, "r1", auth=auth)
    assert row["$permissions"] == []
    assert get_row(call, ADMIN, "r1")["$permissions"] == []


def test_guest_row_defaults_to_no_permissions(call, make_table):
    make_table(permissions=['create("any")'], row_security=True)
    assert add_row(call, "r1", auth=GUEST)["$permissions"] == []


def test_explicit_empty_permissions_are_kept(call, make_table):
    make_table(permissions=['create("users")'], row_security=True)
    row = add_row(call, "r1", permissions=[], auth=user_auth("u1"))
    assert row["$permissions"] == []
    assert list_ids(call, user_auth("u1")) == (0, [])


def test_update_without_permissions_keeps_them(call, make_table):
    make_table(permissions=['create("users")'], row_security=True)
    add_row(call, "r1", auth=user_auth("u1"))
    updated = update_name(call, user_auth("u1"), "r1", "changed")
    assert updated["$permissions"] == ['read("user:u1")', 'update("user:u1")', 'delete("user:u1")']


def test_user_may_grant_roles_they_hold(call, make_table):
    make_table(permissions=['create("users")'], row_security=True)
    u1 = user_auth("u1", verified=True, teams={"t1": ("editor",)}, labels=("vip",))
    permissions = [
        'read("any")',
        'read("users/verified")',
        'update("user:u1/verified")',
        'delete("team:t1/editor")',
        'read("label:vip")',
    ]
    assert add_row(call, "r1", permissions=permissions, auth=u1)["$permissions"] == permissions


@pytest.mark.parametrize(
    "permission",
    [
        'read("user:u2")',
        'read("guests")',
        'read("users/unverified")',
        'update("team:t2")',
        'update("team:t1/owner")',
        'delete("member:m9")',
        'read("label:admin")',
        'write("user:u2")',
    ],
)
def test_user_cannot_grant_a_role_they_do_not_hold(call, make_table, engine, permission):
    make_table(permissions=['create("users")', 'update("users")'], row_security=True)
    u1 = user_auth("u1", verified=True, teams={"t1": ("editor",)})
    error = error_of(add_row, call, "r1", permissions=['read("user:u1")', permission], auth=u1)
    assert error.type == "user_unauthorized"
    assert error.code == 401
    assert raw_rows(engine) == []

    add_row(call, "r2", auth=u1)
    error = error_of(
        call,
        "tablesDB.updateRow",
        u1,
        databaseId=DB,
        tableId="t",
        rowId="r2",
        data={"name": "changed"},
        permissions=[permission],
    )
    assert error.type == "user_unauthorized"
    row = get_row(call, ADMIN, "r2")
    assert row["name"] == "r2"
    assert row["$permissions"] == ['read("user:u1")', 'update("user:u1")', 'delete("user:u1")']


def test_user_can_revoke_their_own_access(call, make_table):
    make_table(permissions=['create("users")'], row_security=True)
    u1 = user_auth("u1")
    add_row(call, "r1", auth=u1)
    call("tablesDB.updateRow", u1, databaseId=DB, tableId="t", rowId="r1", permissions=['read("user:u1")'])
    assert get_row(call, ADMIN, "r1")["$permissions"] == ['read("user:u1")']
    assert error_of(update_name, call, u1, "r1", "x").type == "user_unauthorized"


INVALID_PERMISSIONS = [
    'read("*")',
    'read("role:all")',
    'read("member")',
    'read("user")',
    'read("user:")',
    'read("any:x")',
    'read("guests/verified")',
    'read("users/admins")',
    'read("users/")',
    'read("user:u1/admin")',
    'read("user:u1/")',
    'read("member:m1/owner")',
    'read("label:not-alnum")',
    'read("label:a/b")',
    'read("team:")',
    'read("team:t1/")',
    'read("user:_leading")',
    'read("user:' + "x" * 37 + '")',
    'read("nobody")',
    "read(any)",
    "read('any')",
    'read("any"',
    'fetch("any")',
    'READ("any")',
    "any",
    "",
]


@pytest.mark.parametrize("permission", INVALID_PERMISSIONS)
def test_invalid_row_permission_is_refused_and_changes_nothing(call, make_table, engine, permission):
    make_table(permissions=[], row_security=True)
    error = error_of(add_row, call, "r1", permissions=['read("any")', permission])
    assert error.type == "general_argument_invalid"
    assert error.code == 400
    assert raw_rows(engine) == []

    add_row(call, "r2", permissions=['read("any")'])
    error = error_of(
        call,
        "tablesDB.updateRow",
        ADMIN,
        databaseId=DB,
        tableId="t",
        rowId="r2",
        data={"name": "changed"},
        permissions=[permission],
    )
    assert error.type == "general_argument_invalid"
    row = get_row(call, ADMIN, "r2")
    assert row["name"] == "r2"
    assert row["$permissions"] == ['read("any")']


@pytest.mark.parametrize(
    "permissions", ['read("any")', [1], [None], [['read("any")']]], ids=["string", "int", "null", "nested"]
)
def test_malformed_permissions_param_is_refused(call, make_table, engine, permissions):
    make_table(permissions=[], row_security=True)
    error = error_of(add_row, call, "r1", permissions=permissions)
    assert error.type == "general_argument_invalid"
    assert raw_rows(engine) == []


def test_more_than_100_permissions_are_refused(call, make_table, engine):
    make_table(permissions=[], row_security=True)
    too_many = [f'read("user:u{i}")' for i in range(101)]
    assert error_of(add_row, call, "r1", permissions=too_many).type == "general_argument_invalid"
    assert raw_rows(engine) == []
    assert len(add_row(call, "r2", permissions=too_many[:100])["$permissions"]) == 100


@pytest.mark.parametrize("permission", [*INVALID_PERMISSIONS[:12], 'write("any:x")', 'create("label:a_b")'])
def test_invalid_table_permission_is_refused_and_changes_nothing(call, db, make_table, permission):
    error = error_of(
        call, "tablesDB.createTable", databaseId=db, tableId="bad", name="bad", permissions=['read("any")', permission]
    )
    assert error.type == "general_argument_invalid"
    assert call("tablesDB.listTables", databaseId=db)["total"] == 0

    make_table(permissions=['read("any")'])
    error = error_of(call, "tablesDB.updateTable", databaseId=db, tableId="t", name="renamed", permissions=[permission])
    assert error.type == "general_argument_invalid"
    table = call("tablesDB.getTable", databaseId=db, tableId="t")
    assert table["name"] == "t"
    assert table["$permissions"] == ['read("any")']


def test_valid_role_grammar_is_accepted(call, make_table):
    make_table(permissions=[], row_security=True)
    permissions = [
        'read("any")',
        'read("guests")',
        'read("users")',
        'read("users/verified")',
        'read("users/unverified")',
        'read("user:abc")',
        'read("user:abc/verified")',
        'read("user:abc/unverified")',
        'read("team:t.1")',
        'read("team:t-1/any.role_x")',
        'read("member:m_1")',
        'read("label:VIP1")',
        'read("user:' + "x" * 36 + '")',
    ]
    assert add_row(call, "r1", permissions=permissions)["$permissions"] == permissions


def test_duplicate_permissions_are_stored_once(call, make_table):
    make_table(permissions=[], row_security=True)
    row = add_row(call, "r1", permissions=['read("any")', 'read("any")', 'write("users")', 'update("users")'])
    assert row["$permissions"] == ['read("any")', 'update("users")', 'delete("users")']


# --------------------------------------------------------------------------------------------------
# Disabled databases and tables
# --------------------------------------------------------------------------------------------------

OPEN = ['read("any")', 'create("any")', 'update("any")', 'delete("any")']


def user_operations(call, auth):
    """Every row operation a user might try, each returning its error (or None when it succeeded)."""
    attempts = {
        "list": lambda: list_ids(call, auth),
        "get": lambda: get_row(call, auth, "r1"),
        "create": lambda: add_row(call, "new", permissions=[], auth=auth),
        "update": lambda: update_name(call, auth, "r1", "changed"),
        "delete": lambda: delete_row(call, auth, "r1"),
        "upsert": lambda: call(
            "tablesDB.upsertRow", auth, databaseId=DB, tableId="t", rowId="r1", data={"name": "changed"}
        ),
    }
    return {name: error_of(attempt) for name, attempt in attempts.items()}


def test_disabled_database_is_hidden_from_users(call, make_table, engine):
    make_table(permissions=OPEN, row_security=True)
    add_row(call, "r1", permissions=['read("any")'])
    call("tablesDB.update", databaseId=DB, name="Permissions", enabled=False)

    for auth in (GUEST, user_auth("u1")):
        for name, error in user_operations(call, auth).items():
            assert error.type == "database_not_found", name
            assert error.code == 404
    assert raw_rows(engine) == ["r1"]
    assert get_row(call, ADMIN, "r1")["name"] == "r1"

    for auth in (ROWS_KEY, ADMIN):
        assert list_ids(call, auth) == (1, ["r1"])
        assert get_row(call, auth, "r1")["$id"] == "r1"
    add_row(call, "by_key", permissions=[], auth=ROWS_KEY)
    assert raw_rows(engine) == ["r1", "by_key"]

    call("tablesDB.update", databaseId=DB, name="Permissions", enabled=True)
    assert list_ids(call, GUEST) == (2, ["r1", "by_key"])


def test_disabled_table_is_hidden_from_users(call, make_table, engine):
    make_table(permissions=OPEN, row_security=True)
    add_row(call, "r1", permissions=['read("any")'])
    call("tablesDB.updateTable", databaseId=DB, tableId="t", name="t", enabled=False)

    for auth in (GUEST, user_auth("u1")):
        for name, error in user_operations(call, auth).items():
            assert error.type == "table_not_found", name
            assert error.code == 404
    assert raw_rows(engine) == ["r1"]
    assert get_row(call, ADMIN, "r1")["name"] == "r1"

    for auth in (ROWS_KEY, ADMIN):
        assert list_ids(call, auth) == (1, ["r1"])
        assert get_row(call, auth, "r1")["$id"] == "r1"
    assert update_name(call, ROWS_KEY, "r1", "by key")["name"] == "by key"

    call("tablesDB.updateTable", databaseId=DB, tableId="t", name="t", enabled=True)
    assert list_ids(call, GUEST) == (1, ["r1"])


def test_disabled_collection_is_hidden_in_the_legacy_api(call, make_table):
    make_table(permissions=OPEN, row_security=True)
    add_row(call, "r1", permissions=['read("any")'])
    call("tablesDB.updateTable", databaseId=DB, tableId="t", name="t", enabled=False)
    error = error_of(call, "databases.listDocuments", GUEST, databaseId=DB, collectionId="t")
    assert error.type == "collection_not_found"
    documents_key = key_auth(frozenset({"documents.read"}))
    assert call("databases.listDocuments", documents_key, databaseId=DB, collectionId="t")["total"] == 1


@pytest.mark.parametrize(
    ("disable", "refusal"),
    [
        (("tablesDB.updateTable", {"databaseId": DB, "tableId": "t", "name": "t"}), "table_not_found"),
        (("tablesDB.update", {"databaseId": DB, "name": "Permissions"}), "database_not_found"),
    ],
    ids=["table", "database"],
)
def test_a_disabled_table_or_database_cannot_be_written_through_a_user_transaction(
    call, make_table, engine, disable, refusal
):
    """Staging operations through createOperations must not reach a table hidden from the user."""
    make_table(permissions=OPEN, row_security=True)
    operation_id, params = disable
    call(operation_id, **params, enabled=False)
    u1 = user_auth("u1")
    transaction = call("tablesDB.createTransaction", u1)
    operation = {"action": "create", "databaseId": DB, "tableId": "t", "rowId": "sneaky", "data": {"name": "x"}}
    refused = None
    try:  # refusing at staging or at commit is fine, as long as nothing is written and it says not found
        call("tablesDB.createOperations", u1, transactionId=transaction["$id"], operations=[operation])
        call("tablesDB.updateTransaction", u1, transactionId=transaction["$id"], commit=True)
    except AppwriteError as exc:
        refused = exc
    assert raw_rows(engine) == []
    assert refused is not None
    assert refused.type == refusal


# --------------------------------------------------------------------------------------------------
# Transactions respect permissions too
# --------------------------------------------------------------------------------------------------


def test_user_transaction_cannot_do_what_the_user_cannot(call, make_table, engine):
    make_table(permissions=['read("any")'], row_security=True)
    add_row(call, "r1", permissions=[])
    u1 = user_auth("u1")
    transaction = call("tablesDB.createTransaction", u1)
    for operation in (
        {"action": "create", "databaseId": DB, "tableId": "t", "rowId": "new", "data": {"name": "x"}},
        {"action": "update", "databaseId": DB, "tableId": "t", "rowId": "r1", "data": {"name": "x"}},
        {"action": "delete", "databaseId": DB, "tableId": "t", "rowId": "r1"},
    ):
        try:
            call("tablesDB.createOperations", u1, transactionId=transaction["$id"], operations=[operation])
        except AppwriteError as exc:
            assert exc.type == "user_unauthorized", exc
    with contextlib.suppress(AppwriteError):
        call("tablesDB.updateTransaction", u1, transactionId=transaction["$id"], commit=True)
    assert raw_rows(engine) == ["r1"]
    assert get_row(call, ADMIN, "r1")["name"] == "r1"
