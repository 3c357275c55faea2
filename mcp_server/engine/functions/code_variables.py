"""The variables of a function or a site: its environment when it builds and runs; a secret one's value is never
shown again. Sites use this module through the engine's service interfaces (tests/test_layout.py)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from ..datetimes import now_iso
from ..errors import AppwriteError, invalid_argument
from ..ids import resolve_id
from ..listing import list_models
from ..registry import Call
from . import executor, store


@dataclass(frozen=True)
class Variables:
    """Whose variables: a function's or a site's (the store kind of the owner, and the table keeping them)."""

    kind: str
    table: str

    @property
    def column(self) -> str:
        return f"{self.kind}_id"

    @property
    def id_param(self) -> str:
        return f"{self.kind}Id"


FUNCTION_VARIABLES = Variables("function", "_function_variables")
SITE_VARIABLES = Variables("site", "_site_variables")


def rows(connection: sqlite3.Connection, of: Variables, owner_id: str) -> list[sqlite3.Row]:
    return connection.execute(f"SELECT * FROM {of.table} WHERE {of.column} = ? ORDER BY seq", (owner_id,)).fetchall()


def model(row: sqlite3.Row, of: Variables) -> dict:
    return {
        "$id": row["id"],
        "$createdAt": row["created"],
        "$updatedAt": row["updated"],
        "key": row["key"],
        "value": "" if row["secret"] else row["value"],
        "secret": bool(row["secret"]),
        "resourceType": of.kind,
        "resourceId": row[of.column],
    }


def environment(connection: sqlite3.Connection, of: Variables, owner_id: str) -> dict[str, str]:
    """The variables as environment variables (secret ones too)."""
    return {row["key"]: row["value"] for row in rows(connection, of, owner_id)}


def require(call: Call, of: Variables) -> sqlite3.Row:
    owner_id = call.params[of.id_param]
    store.require(call.project.connection, of.kind, owner_id)
    row = call.project.connection.execute(
        f"SELECT * FROM {of.table} WHERE id = ? AND {of.column} = ?", (call.params["variableId"], owner_id)
    ).fetchone()
    if row is None:
        raise AppwriteError("variable_not_found", "Variable with the requested ID could not be found.")
    return row


def changed(call: Call, of: Variables) -> None:
    """Warm workers hold the old environment: they go (executor.retire)."""
    executor.retire(store.owner_folder(call.project, call.params[of.id_param], f"{of.kind}s"))


def check_id_free(call: Call, of: Variables, variable_id: str) -> None:
    """Variable ids are the project's, as in Appwrite's one collection of variables."""
    if call.project.connection.execute(f"SELECT 1 FROM {of.table} WHERE id = ?", (variable_id,)).fetchone():
        raise AppwriteError("variable_already_exists", "Variable with the same ID already exists in this project.")


def check_key_free(call: Call, of: Variables, key: str, except_id: str = "") -> None:
    taken = call.project.connection.execute(
        f"SELECT 1 FROM {of.table} WHERE {of.column} = ? AND key = ? AND id != ?",
        (call.params[of.id_param], key, except_id),
    ).fetchone()
    if taken:
        raise AppwriteError("variable_already_exists", "Variable with the same ID already exists in this project.")


def list_variables(call: Call, of: Variables) -> dict:
    owner_id = call.params[of.id_param]
    store.require(call.project.connection, of.kind, owner_id)
    models = [model(row, of) for row in rows(call.project.connection, of, owner_id)]
    total, page = list_models(
        models,
        call.params.get("queries"),
        {"key", "resourceType", "resourceId", "secret"},
        count=call.params.get("total", True),
        noun="variable",
    )
    return {"total": total, "variables": page}


def create_variable(call: Call, of: Variables) -> dict:
    owner_id = call.params[of.id_param]
    store.require(call.project.connection, of.kind, owner_id)
    variable_id = resolve_id(call.params["variableId"], "variableId")
    check_id_free(call, of, variable_id)
    check_key_free(call, of, call.params["key"])
    now = now_iso()
    call.project.connection.execute(
        f"INSERT INTO {of.table} (id, {of.column}, key, value, secret, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            variable_id,
            owner_id,
            call.params["key"],
            call.params["value"],
            int(call.params.get("secret", False)),
            now,
            now,
        ),
    )
    call.params["variableId"] = variable_id
    changed(call, of)
    return model(require(call, of), of)


def get_variable(call: Call, of: Variables) -> dict:
    return model(require(call, of), of)


def update_variable(call: Call, of: Variables) -> dict:
    row = require(call, of)
    key = call.params["key"]
    check_key_free(call, of, key, row["id"])
    value = call.params.get("value")
    secret = call.params.get("secret")
    if row["secret"] and secret is False:
        raise invalid_argument("Invalid `secret` param: a secret variable cannot be made visible again")
    call.project.connection.execute(
        f"UPDATE {of.table} SET key = ?, value = ?, secret = ?, updated = ? WHERE id = ?",
        (key, row["value"] if value is None else value, int(bool(secret) or bool(row["secret"])), now_iso(), row["id"]),
    )
    changed(call, of)
    return model(require(call, of), of)


def delete_variable(call: Call, of: Variables) -> None:
    row = require(call, of)
    call.project.connection.execute(f"DELETE FROM {of.table} WHERE id = ?", (row["id"],))
    changed(call, of)
