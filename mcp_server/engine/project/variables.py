"""Project variables: environment variables every function and site of the project gets.

Each is a row of `_variables`, its value sealed with the project's encryption key (encryption.py), as
Appwrite keeps it encrypted. Keys are unique in the project. A secret variable (the default) never
shows its value again: reads answer an empty value, and it cannot be made non-secret (Appwrite 1.9.6,
Variables/*.php).
"""

from __future__ import annotations

import sqlite3

from ..datetimes import now_iso
from ..errors import AppwriteError, invalid_argument
from ..ids import resolve_id
from ..listing import list_models
from ..registry import Call, handles

MAX_KEY = 255
# What listVariables may filter and order on (Appwrite's Variables query validator).
QUERYABLE = {"key", "resourceType", "resourceId", "secret"}


def model(call: Call, row: sqlite3.Row) -> dict:
    secret = bool(row["secret"])
    return {
        "$id": row["id"],
        "$createdAt": row["created"],
        "$updatedAt": row["updated"],
        "key": row["key"],
        "value": "" if secret else call.project.cipher.decrypt(row["value"]),
        "secret": secret,
        "resourceType": "project",
        "resourceId": "",
    }


def require(connection: sqlite3.Connection, variable_id: str) -> sqlite3.Row:
    row = connection.execute("SELECT * FROM _variables WHERE id = ?", (variable_id,)).fetchone()
    if row is None:
        raise AppwriteError("variable_not_found", f"Variable with the requested ID '{variable_id}' could not be found.")
    return row


def check_key_free(connection: sqlite3.Connection, key: str, variable_id: str) -> None:
    taken = connection.execute("SELECT id FROM _variables WHERE key = ? AND id != ?", (key, variable_id)).fetchone()
    if taken is not None:
        raise AppwriteError(
            "variable_already_exists", f"A variable with the key '{key}' already exists in this project."
        )


@handles("project.listVariables")
def list_variables(call: Call) -> dict:
    rows = call.project.connection.execute("SELECT * FROM _variables ORDER BY seq").fetchall()
    total, page = list_models(
        [model(call, row) for row in rows],
        call.params.get("queries"),
        QUERYABLE,
        count=call.params.get("total", True),
        noun="variable",
    )
    return {"total": total, "variables": page}


@handles("project.createVariable")
def create_variable(call: Call) -> dict:
    params = call.params
    variable_id = resolve_id(params["variableId"], "variableId")
    key = params["key"]
    if not key:
        raise invalid_argument(
            f"Invalid `key` param: Value must be a valid string and at least 1 chars and no longer than {MAX_KEY} chars"
        )
    connection = call.project.connection
    if connection.execute("SELECT 1 FROM _variables WHERE id = ?", (variable_id,)).fetchone():
        raise AppwriteError(
            "variable_already_exists",
            f"Variable with the ID '{variable_id}' already exists in this project. Try again with a different ID.",
        )
    check_key_free(connection, key, variable_id)
    now = now_iso()
    connection.execute(
        "INSERT INTO _variables (id, key, value, secret, created, updated) VALUES (?, ?, ?, ?, ?, ?)",
        (variable_id, key, call.project.cipher.encrypt(params["value"]), int(params.get("secret", True)), now, now),
    )
    return model(call, require(connection, variable_id))


@handles("project.getVariable")
def get_variable(call: Call) -> dict:
    return model(call, require(call.project.connection, call.params["variableId"]))


@handles("project.updateVariable")
def update_variable(call: Call) -> dict:
    params = call.params
    connection = call.project.connection
    row = require(connection, params["variableId"])
    key, value, secret = params.get("key"), params.get("value"), params.get("secret")
    if row["secret"] and secret is False:
        raise AppwriteError(
            "variable_cannot_unset_secret",
            "Secret variables cannot be marked as non-secret. Please re-create the variable if this is your intention.",
        )
    if key is None and value is None and secret is None:
        raise invalid_argument("Give at least one of `key`, `value` and `secret` to change.")
    changes: dict[str, object] = {}
    if key is not None:
        check_key_free(connection, key, row["id"])
        changes["key"] = key
    if value is not None:
        changes["value"] = call.project.cipher.encrypt(value)
    if secret is not None:
        changes["secret"] = int(secret)
    assignments = ", ".join(f"{column} = ?" for column in changes)
    connection.execute(
        f"UPDATE _variables SET {assignments}, updated = ? WHERE seq = ?", (*changes.values(), now_iso(), row["seq"])
    )
    return model(call, require(connection, row["id"]))


@handles("project.deleteVariable")
def delete_variable(call: Call) -> None:
    row = require(call.project.connection, call.params["variableId"])
    call.project.connection.execute("DELETE FROM _variables WHERE seq = ?", (row["seq"],))
