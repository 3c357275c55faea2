"""A project's functions, deployments, executions and function variables as kept in its database, and the
folder holding each deployment's code (`<project folder>/functions/<functionId>/<deploymentId>/`).

Each row keeps its model's fields as JSON (`body`), beside the columns lookups need; `model` turns a row into
Appwrite's model. A secret variable's value is kept sealed with the project's cipher and never shown. Each function
has a place in the project's event stream (`function:<id>` in `_event_cursors`), from which its events trigger it.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from ..datetimes import now_iso
from ..errors import AppwriteError
from ..listing import list_models

# The model's fields kept in columns of their own; the others (an execution's `$permissions` included) are the body.
COLUMNS = frozenset({"$id", "$createdAt", "$updatedAt"})
TABLES = {"function": "_functions", "deployment": "_deployments", "execution": "_executions"}
# A model's fields kept in columns of their own rather than in its body.
COLUMNS = frozenset({"$id", "$createdAt", "$updatedAt"})
NOT_FOUND = {
    "function": ("function_not_found", "Function with the requested ID could not be found."),
    "deployment": ("deployment_not_found", "Deployment with the requested ID could not be found."),
    "execution": ("execution_not_found", "Execution with the requested ID could not be found."),
}


def model(row: sqlite3.Row) -> dict:
    body = json.loads(row["body"])
    return {"$id": row["id"], "$createdAt": row["created"], "$updatedAt": row["updated"], **body}


def require(connection: sqlite3.Connection, kind: str, item_id: str, function_id: str | None = None) -> dict:
    """The model of a function, deployment or execution (of `function_id`), or its not-found error."""
    found = find(connection, kind, item_id, function_id)
    if found is None:
        raise AppwriteError(*NOT_FOUND[kind])
    return found


def find(connection: sqlite3.Connection, kind: str, item_id: str, function_id: str | None = None) -> dict | None:
    """The model of a function, deployment or execution (of `function_id`), or None."""
    query = f"SELECT * FROM {TABLES[kind]} WHERE id = ?"
    values: tuple = (item_id,)
    if function_id is not None and kind != "function":
        query += " AND function_id = ?"
        values += (function_id,)
    row = connection.execute(query, values).fetchone()
    return None if row is None else model(row)


def all_of(connection: sqlite3.Connection, kind: str, function_id: str | None = None) -> list[dict]:
    if function_id is None:
        rows = connection.execute(f"SELECT * FROM {TABLES[kind]} ORDER BY seq").fetchall()
    else:
        rows = connection.execute(
            f"SELECT * FROM {TABLES[kind]} WHERE function_id = ? ORDER BY seq", (function_id,)
        ).fetchall()
    return [model(row) for row in rows]


def insert(connection: sqlite3.Connection, kind: str, item_id: str, body: dict, function_id: str = "") -> dict:
    now = now_iso()
    fields = {key: value for key, value in body.items() if key not in COLUMNS}
    if kind == "function":
        connection.execute(
            "INSERT INTO _functions (id, body, created, updated) VALUES (?, ?, ?, ?)",
            (item_id, json.dumps(fields), now, now),
        )
    else:
        connection.execute(
            f"INSERT INTO {TABLES[kind]} (id, function_id, body, created, updated) VALUES (?, ?, ?, ?, ?)",
            (item_id, function_id, json.dumps(fields), now, now),
        )
    return require(connection, kind, item_id)


def update(connection: sqlite3.Connection, kind: str, item_id: str, changes: dict[str, Any]) -> dict:
    current = require(connection, kind, item_id)
    fields = {key: value for key, value in {**current, **changes}.items() if key not in COLUMNS}
    connection.execute(
        f"UPDATE {TABLES[kind]} SET body = ?, updated = ? WHERE id = ?", (json.dumps(fields), now_iso(), item_id)
    )
    return require(connection, kind, item_id)


def function_folder(project: Any, function_id: str) -> Path:
    """Where a function's deployments live."""
    return project.db.path.parent / "functions" / function_id


def code_folder(project: Any, function_id: str, deployment_id: str) -> Path:
    """Where a deployment's archive and unpacked code live."""
    return function_folder(project, function_id) / deployment_id


def listed(call: Any, kind: str, queryable: set[str]) -> tuple[int, list[dict]]:
    """(total, page) of a function's deployments or executions, after the call's queries (and search)."""
    function_id = call.params["functionId"]
    require(call.project.connection, "function", function_id)
    models = all_of(call.project.connection, kind, function_id)
    return list_models(
        models, call.params.get("queries"), queryable, search=call.params.get("search"),
        count=call.params.get("total", True), noun=kind,
    )  # fmt: skip


def cursor_name(function_id: str) -> str:
    return f"function:{function_id}"


def place_cursor(connection: sqlite3.Connection, function_id: str, again: bool = False) -> None:
    """Give a function that has none (or, `again`, any function) a place in the event stream: after every event so
    far (its own creation's or change's included, once announced)."""
    conflict = "DO UPDATE SET seq = excluded.seq, updated = excluded.updated" if again else "DO NOTHING"
    connection.execute(
        "INSERT INTO _event_cursors (name, seq, updated) VALUES (?, (SELECT COALESCE(MAX(seq), 0) FROM _events), ?) "
        f"ON CONFLICT (name) {conflict}",
        (cursor_name(function_id), now_iso()),
    )
