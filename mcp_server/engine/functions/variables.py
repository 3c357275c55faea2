"""A function's variables: its environment in every execution; a secret one's value is never shown again."""

from __future__ import annotations

from typing import Any

from ..datetimes import now_iso
from ..errors import AppwriteError, invalid_argument
from ..ids import resolve_id
from ..listing import list_models
from ..registry import Call, handles
from . import executor, store


def variable_rows(connection, function_id: str) -> list:
    return connection.execute(
        "SELECT * FROM _function_variables WHERE function_id = ? ORDER BY seq", (function_id,)
    ).fetchall()


def variable_model(row) -> dict:
    return {
        "$id": row["id"],
        "$createdAt": row["created"],
        "$updatedAt": row["updated"],
        "key": row["key"],
        "value": "" if row["secret"] else row["value"],
        "secret": bool(row["secret"]),
        "resourceType": "function",
        "resourceId": row["function_id"],
    }


def require_variable(call: Call) -> Any:
    store.require(call.project.connection, "function", call.params["functionId"])
    row = call.project.connection.execute(
        "SELECT * FROM _function_variables WHERE id = ? AND function_id = ?",
        (call.params["variableId"], call.params["functionId"]),
    ).fetchone()
    if row is None:
        raise AppwriteError("variable_not_found", "Variable with the requested ID could not be found.")
    return row


def check_key_free(call: Call, key: str, except_id: str = "") -> None:
    taken = call.project.connection.execute(
        "SELECT 1 FROM _function_variables WHERE function_id = ? AND key = ? AND id != ?",
        (call.params["functionId"], key, except_id),
    ).fetchone()
    if taken:
        raise AppwriteError("variable_already_exists", "Variable with the same ID already exists in this project.")


@handles("functions.listVariables")
def list_variables(call: Call) -> dict:
    store.require(call.project.connection, "function", call.params["functionId"])
    models = [variable_model(row) for row in variable_rows(call.project.connection, call.params["functionId"])]
    total, page = list_models(
        models,
        call.params.get("queries"),
        {"key", "resourceType", "resourceId", "secret"},
        count=call.params.get("total", True),
        noun="variable",
    )
    return {"total": total, "variables": page}


@handles("functions.createVariable")
def create_variable(call: Call) -> dict:
    connection = call.project.connection
    function_id = call.params["functionId"]
    store.require(connection, "function", function_id)
    variable_id = resolve_id(call.params["variableId"], "variableId")
    check_key_free(call, call.params["key"])
    now = now_iso()
    connection.execute(
        "INSERT INTO _function_variables (id, function_id, key, value, secret, created, updated) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            variable_id,
            function_id,
            call.params["key"],
            call.params["value"],
            int(call.params.get("secret", False)),
            now,
            now,
        ),
    )
    call.params["variableId"] = variable_id
    executor.retire(store.function_folder(call.project, function_id))
    return variable_model(require_variable(call))


@handles("functions.getVariable")
def get_variable(call: Call) -> dict:
    return variable_model(require_variable(call))


@handles("functions.updateVariable")
def update_variable(call: Call) -> dict:
    row = require_variable(call)
    key = call.params["key"]
    check_key_free(call, key, row["id"])
    value = call.params.get("value")
    secret = call.params.get("secret")
    if row["secret"] and secret is False:
        raise invalid_argument("Invalid `secret` param: a secret variable cannot be made visible again")
    call.project.connection.execute(
        "UPDATE _function_variables SET key = ?, value = ?, secret = ?, updated = ? WHERE id = ?",
        (key, row["value"] if value is None else value, int(bool(secret) or bool(row["secret"])), now_iso(), row["id"]),
    )
    executor.retire(store.function_folder(call.project, call.params["functionId"]))
    return variable_model(require_variable(call))


@handles("functions.deleteVariable")
def delete_variable(call: Call) -> None:
    row = require_variable(call)
    call.project.connection.execute("DELETE FROM _function_variables WHERE id = ?", (row["id"],))
    executor.retire(store.function_folder(call.project, call.params["functionId"]))
