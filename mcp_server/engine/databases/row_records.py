"""A row as stored: who may read or change it (in SQL, for row security), how its columns are
selected, fetched, and turned into the model the API returns.

Relationship values are filled in by relationships.py on top of these; nothing here writes.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from ..errors import AppwriteError
from ..permissions import (
    Auth,
    granted,
    read_roles,
)
from .column_types import Column, decode
from .dialects import Dialect
from .schema import Table, cached_table
from .schemaless import DATA_COLUMN, add_fields

MISSING = object()


@dataclass
class Access:
    """How a caller may read a table: everything, only rows granting it read, or nothing."""

    sql: str
    params: list
    allowed: bool = True


def row_not_found(dialect: Dialect, row_id: str) -> AppwriteError:
    return AppwriteError(
        dialect.error("row", "not_found"),
        f"{dialect.title('row')} with the requested ID '{row_id}' could not be found.",
    )


def unauthorized(action: str) -> AppwriteError:
    return AppwriteError(
        "user_unauthorized", f"The current user is not authorized to perform the requested action ({action})."
    )


def open_table(project, auth: Auth, dialect: Dialect, database_id: str, table_id: str) -> Table:
    """The table, as the caller may see it: disabled databases and tables are hidden from non-keys."""
    table = cached_table(project, database_id, table_id, dialect)
    if not auth.bypasses_permissions:
        enabled = project.connection.execute("SELECT enabled FROM _databases WHERE id = ?", (database_id,)).fetchone()
        if not enabled or not enabled[0]:
            raise AppwriteError(
                "database_not_found", f"Database with the requested ID '{database_id}' could not be found."
            )
        if not table.enabled:
            raise AppwriteError(
                dialect.error("table", "not_found"),
                f"{dialect.title('table')} with the requested ID '{table_id}' could not be found.",
            )
    return table


def read_access(table: Table, auth: Auth) -> Access:
    if auth.bypasses_permissions or granted(table.permissions, "read", auth):
        return Access("1", [])
    if table.row_security:
        roles = sorted(auth.roles or ())
        marks = ", ".join("?" * len(roles))
        return Access(
            f"_seq IN (SELECT row FROM {table.perms_name} WHERE action = 'read' AND role IN ({marks}))", roles
        )
    return Access("0", [], allowed=False)


def may(connection: sqlite3.Connection, table: Table, auth: Auth, action: str, row_seq: int | None = None) -> bool:
    """Whether the caller may create, update or delete (a row of) the table."""
    if auth.bypasses_permissions or granted(table.permissions, action, auth):
        return True
    if action == "create" or not table.row_security or row_seq is None:
        return False
    roles = sorted(auth.roles or ())
    marks = ", ".join("?" * len(roles))
    sql = f"SELECT 1 FROM {table.perms_name} WHERE action = ? AND row = ? AND role IN ({marks}) LIMIT 1"
    return connection.execute(sql, [action, row_seq, *roles]).fetchone() is not None


def stored_columns(table: Table) -> list[Column]:
    return [column for column in table.columns if column.stored]


def select_sql(table: Table) -> str:
    names = ["_seq", "_uid", "_created", "_updated", "_permissions"] + [c.sql_name for c in stored_columns(table)]
    return ", ".join([*names, DATA_COLUMN] if table.schemaless else names)


def fetch_record(connection: sqlite3.Connection, table: Table, row_id: str) -> sqlite3.Row | None:
    return connection.execute(f"SELECT {select_sql(table)} FROM {table.sql_name} WHERE _uid = ?", (row_id,)).fetchone()


def row_model(project, table: Table, record: sqlite3.Row, dialect: Dialect, select: set[str] | None = None) -> dict:
    """A stored row as the API returns it (relationship columns are filled in by `relationships.attach`)."""
    model: dict[str, Any] = {
        "$id": record["_uid"],
        "$sequence": str(record["_seq"]),  # a string since Appwrite 1.9
        dialect.table_key: table.id,
        "$databaseId": table.database_id,
        "$createdAt": record["_created"],
        "$updatedAt": record["_updated"],
        "$permissions": json.loads(record["_permissions"]),
    }
    for column in table.visible_columns():
        if column.is_relationship or (select is not None and column.key not in select):
            continue
        model[column.key] = decode(column, record[column.sql_name], project.cipher)
    if table.schemaless:
        add_fields(model, record[DATA_COLUMN], select)
    return model


def row_readers(table: Table, model: dict) -> list[str]:
    """Who may see a row's event: the table's readers, and with row security the row's own readers."""
    readers = read_roles(table.permissions)
    return readers + read_roles(model["$permissions"]) if table.row_security else readers
