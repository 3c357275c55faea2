"""The rows of a project's code-running resources as kept in its database: functions and sites, their deployments,
and their executions (a site's are its request logs), and the folder holding each deployment's code
(`<project folder>/functions/<functionId>/<deploymentId>/`, `<project folder>/sites/<siteId>/<deploymentId>/`).

Each row keeps its model's fields as JSON (`body`), beside the columns lookups need; `model` turns a row into
Appwrite's model. Sites use this module through the engine's service interfaces (tests/test_layout.py). Each
function has a place in the project's event stream (`function:<id>` in `_event_cursors`), from which its events
trigger it.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..datetimes import now_iso
from ..errors import AppwriteError
from ..listing import list_models


@dataclass(frozen=True)
class Kind:
    """One kind of row: its table, the column naming the function or site it belongs to, and its not-found error."""

    table: str
    owner: str | None
    error: str
    message: str


KINDS = {
    "function": Kind("_functions", None, "function_not_found", "Function with the requested ID could not be found."),
    "deployment": Kind(
        "_deployments", "function", "deployment_not_found", "Deployment with the requested ID could not be found."
    ),
    "execution": Kind(
        "_executions", "function", "execution_not_found", "Execution with the requested ID could not be found."
    ),
    "site": Kind("_sites", None, "site_not_found", "Site with the requested ID could not be found."),
    "site_deployment": Kind(
        "_site_deployments", "site", "deployment_not_found", "Deployment with the requested ID could not be found."
    ),
    "site_log": Kind("_site_logs", "site", "log_not_found", "Log with the requested ID could not be found."),
}


# The fields the row's columns keep: every other one (`$permissions` among them) is kept in its body.
COLUMNS = ("$id", "$createdAt", "$updatedAt")


def body_of(model: dict) -> str:
    return json.dumps({key: value for key, value in model.items() if key not in COLUMNS})


def model(row: sqlite3.Row) -> dict:
    body = json.loads(row["body"])
    return {"$id": row["id"], "$createdAt": row["created"], "$updatedAt": row["updated"], **body}


def require(connection: sqlite3.Connection, kind: str, item_id: str, owner_id: str | None = None) -> dict:
    """The model of a row of `kind` (belonging to function or site `owner_id`), or its not-found error."""
    found = find(connection, kind, item_id, owner_id)
    if found is None:
        raise AppwriteError(KINDS[kind].error, KINDS[kind].message)
    return found


def find(connection: sqlite3.Connection, kind: str, item_id: str, owner_id: str | None = None) -> dict | None:
    """The model of a row of `kind` (belonging to function or site `owner_id`), or None."""
    spec = KINDS[kind]
    query = f"SELECT * FROM {spec.table} WHERE id = ?"
    values: tuple = (item_id,)
    if owner_id is not None and spec.owner:
        query += f" AND {spec.owner}_id = ?"
        values += (owner_id,)
    row = connection.execute(query, values).fetchone()
    return None if row is None else model(row)


def all_of(connection: sqlite3.Connection, kind: str, owner_id: str | None = None) -> list[dict]:
    spec = KINDS[kind]
    if owner_id is None or not spec.owner:
        rows = connection.execute(f"SELECT * FROM {spec.table} ORDER BY seq").fetchall()
    else:
        rows = connection.execute(
            f"SELECT * FROM {spec.table} WHERE {spec.owner}_id = ? ORDER BY seq", (owner_id,)
        ).fetchall()
    return [model(row) for row in rows]


def insert(connection: sqlite3.Connection, kind: str, item_id: str, body: dict, owner_id: str = "") -> dict:
    spec = KINDS[kind]
    now = now_iso()
    fields = body_of(body)
    if spec.owner:
        connection.execute(
            f"INSERT INTO {spec.table} (id, {spec.owner}_id, body, created, updated) VALUES (?, ?, ?, ?, ?)",
            (item_id, owner_id, fields, now, now),
        )
    else:
        connection.execute(
            f"INSERT INTO {spec.table} (id, body, created, updated) VALUES (?, ?, ?, ?)", (item_id, fields, now, now)
        )
    return require(connection, kind, item_id)


def update(connection: sqlite3.Connection, kind: str, item_id: str, changes: dict[str, Any]) -> dict:
    current = require(connection, kind, item_id)
    connection.execute(
        f"UPDATE {KINDS[kind].table} SET body = ?, updated = ? WHERE id = ?",
        (body_of({**current, **changes}), now_iso(), item_id),
    )
    return require(connection, kind, item_id)


def owner_folder(project: Any, owner_id: str, service: str = "functions") -> Path:
    """Where a function's (or site's) deployments live."""
    return project.db.path.parent / service / owner_id


def function_folder(project: Any, function_id: str) -> Path:
    return owner_folder(project, function_id)


def code_folder(project: Any, owner_id: str, deployment_id: str, service: str = "functions") -> Path:
    """Where a deployment's archive and unpacked code live."""
    return owner_folder(project, owner_id, service) / deployment_id


def listed(call: Any, kind: str, queryable: set[str]) -> tuple[int, list[dict]]:
    """(total, page) of a function's or site's deployments or executions, after the call's queries (and search)."""
    owner = KINDS[kind].owner
    owner_id = call.params[f"{owner}Id"]
    require(call.project.connection, owner, owner_id)
    models = all_of(call.project.connection, kind, owner_id)
    return list_models(
        models, call.params.get("queries"), queryable, search=call.params.get("search"),
        count=call.params.get("total", True), noun=kind.removeprefix("site_"),
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
