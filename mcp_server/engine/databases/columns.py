"""Handlers for a table's columns (a collection's attributes): create and update each type, get,
list, delete, and the inline column definitions of createTable.

Columns are created synchronously, so they are `available` as soon as the call returns. Renaming a
column (newKey) only changes metadata: SQL names are generated, and indexes follow the new key.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import replace

from ..datetimes import now_iso
from ..errors import AppwriteError, invalid_argument
from ..listing import list_models
from ..projectdb import bump_schema_epoch
from ..registry import Call, handles
from . import relationships
from .column_types import (
    INLINE_TYPES,
    KINDS,
    NOT_INLINE,
    Column,
    build_spec,
    check_value,
    column_model,
    encode,
    updated_spec,
)
from .dialects import Dialect
from .schema import (
    Table,
    add_column_storage,
    column_from_row,
    create_index_storage,
    drop_column_storage,
    drop_index_storage,
    named_table,
    with_schema,
)

MAX_COLUMNS = 1000
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,35}")
_METHOD = re.compile(r"(create|update)(?P<kind>[A-Z][A-Za-z]*?)(Column|Attribute)")
# Stored width of each type, for the table's bytesUsed estimate.
WIDTHS = {"integer": 8, "bigint": 8, "float": 8, "boolean": 1, "datetime": 8, "point": 25, "line": 256, "polygon": 256}


def model(column: Column, dialect: Dialect) -> dict:
    return column_model(column, dialect)


def width(column: Column) -> int:
    if column.kind in WIDTHS:
        return WIDTHS[column.kind]
    return min(4 * int(column.spec.get("size") or 16), 1024) if column.stored else 0


def kind_of(method: str) -> str:
    match = _METHOD.fullmatch(method)
    assert match, method
    return match["kind"].lower()


def check_key(key: object, param: str = "key") -> str:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise invalid_argument(
            f"Invalid `{param}` param: {key!r} is not a valid key; use up to 36 characters a-z, A-Z, 0-9, period, "
            "hyphen and underscore, not starting with a special character"
        )
    return key


def ensure_free_key(table: Table, key: str, dialect: Dialect) -> None:
    if any(column.key.lower() == key.lower() for column in table.visible_columns()):
        raise AppwriteError(
            dialect.error("column", "already_exists"),
            f"{dialect.title('column')} with the requested key '{key}' already exists.",
        )
    if len(table.columns) >= MAX_COLUMNS:
        raise AppwriteError(
            dialect.error("column", "limit_exceeded"), f"The maximum number of {dialect.columns} has been reached."
        )


def require_column(table: Table, key: str, dialect: Dialect) -> Column:
    column = table.column(key)
    if column is None:
        raise AppwriteError(
            dialect.error("column", "not_found"),
            f"{dialect.title('column')} with the requested key '{key}' could not be found.",
        )
    return column


def insert_column(connection: sqlite3.Connection, table: Table, key: str, kind: str, spec: dict) -> Column:
    now = now_iso()
    cursor = connection.execute(
        "INSERT INTO _columns (table_seq, key, type, spec, status, error, created, updated) "
        "VALUES (?, ?, ?, ?, 'available', '', ?, ?)",
        (table.seq, key, kind, json.dumps(spec), now, now),
    )
    return column_from_row(connection.execute("SELECT * FROM _columns WHERE seq = ?", (cursor.lastrowid,)).fetchone())


def add_column(
    connection: sqlite3.Connection, project, table: Table, key: str, kind: str, spec: dict, dialect: Dialect
) -> Column:
    column = insert_column(connection, table, key, kind, spec)
    add_column_storage(connection, table, column)
    if spec.get("default") is not None:
        # Rows that exist when a column with a default is added take the default.
        value = encode(column, check_value(column, spec["default"], dialect), project.cipher)
        connection.execute(f"UPDATE {table.sql_name} SET {column.sql_name} = ?", (value,))
    return column


def create_inline(
    connection: sqlite3.Connection, project, table: Table, definition: object, position: int, dialect: Dialect
) -> None:
    """One entry of createTable's `columns`: {key, type, size, required, default, array, elements, min, max}."""
    where = f"Invalid `columns` param: {dialect.columns}[{position}]"
    if not isinstance(definition, dict):
        raise invalid_argument(f"{where} must be an object with key and type")
    kind = INLINE_TYPES.get(str(definition.get("format") or definition.get("type", "")).lower())
    if str(definition.get("type", "")).lower() == "relationship":
        raise invalid_argument(
            "Relationship attributes cannot be created inline. Use the create relationship endpoint instead."
        )
    if kind is None:
        raise invalid_argument(
            f"{where} has an unknown type {definition.get('type')!r}; types: {', '.join(sorted(INLINE_TYPES))}"
        )
    key = check_key(definition.get("key"), f"{dialect.columns}[{position}].key")
    ensure_free_key(table, key, dialect)
    known = {
        "key",
        "type",
        "format",
        "size",
        "required",
        "default",
        "array",
        "elements",
        "min",
        "max",
        "encrypt",
        "signed",
    }
    unknown = set(definition) - known
    if unknown:
        raise invalid_argument(f"{where} has unknown fields {sorted(unknown)}")
    add_column(connection, project, table, key, kind, build_spec(kind, definition, dialect), dialect)


@handles(
    *[f"tablesDB.create{kind.method_name}Column" for name, kind in KINDS.items() if name not in NOT_INLINE],
    *[f"databases.create{kind.method_name}Attribute" for name, kind in KINDS.items() if name not in NOT_INLINE],
)
def create_column(call: Call) -> dict:
    params, dialect = call.params, call.dialect
    kind = kind_of(call.op.method)
    table = named_table(call)
    key = check_key(params["key"])
    ensure_free_key(table, key, dialect)
    spec = build_spec(kind, params, dialect)
    with call.project.db.transaction() as connection:
        column = add_column(connection, call.project, table, key, kind, spec, dialect)
        bump_schema_epoch(connection)
    call.project.schema_changed()
    return model(column, dialect)


@handles(
    *[f"tablesDB.update{kind.method_name}Column" for name, kind in KINDS.items() if name not in NOT_INLINE],
    *[f"databases.update{kind.method_name}Attribute" for name, kind in KINDS.items() if name not in NOT_INLINE],
)
def update_column(call: Call) -> dict:
    params, dialect = call.params, call.dialect
    kind = kind_of(call.op.method)
    table = named_table(call)
    column = require_column(table, params["key"], dialect)
    if column.kind != kind:
        raise AppwriteError(
            dialect.error("column", "type_invalid"),
            f"{dialect.title('column')} '{column.key}' is a {column.kind} {dialect.column}, not {kind}; "
            f"use update{KINDS[column.kind].method_name}{dialect.column.capitalize()}",
        )
    spec = updated_spec(column, params, dialect)
    new_key = params.get("newKey")
    with call.project.db.transaction() as connection:
        if kind in ("string", "varchar") and spec["size"] < column.spec["size"]:
            longest = connection.execute(f"SELECT MAX(length({column.sql_name})) FROM {table.sql_name}").fetchone()[0]
            if not column.encrypted and longest and longest > spec["size"]:
                raise AppwriteError(
                    dialect.error("column", "invalid_resize"),
                    f"Resize would truncate data: a stored value has {longest} characters, more than {spec['size']}",
                )
        if new_key is not None and new_key != column.key:
            rename(connection, table, column, check_key(new_key, "newKey"), dialect)
        connection.execute(
            "UPDATE _columns SET spec = ?, updated = ? WHERE seq = ?", (json.dumps(spec), now_iso(), column.seq)
        )
        bump_schema_epoch(connection)
        updated = column_from_row(connection.execute("SELECT * FROM _columns WHERE seq = ?", (column.seq,)).fetchone())
    call.project.schema_changed()
    return model(updated, dialect)


def rename(connection: sqlite3.Connection, table: Table, column: Column, new_key: str, dialect: Dialect) -> None:
    """Give a column a new key; indexes that use it follow."""
    ensure_free_key(table, new_key, dialect)
    connection.execute("UPDATE _columns SET key = ? WHERE seq = ?", (new_key, column.seq))
    for index in table.indexes:
        if column.key in index.columns:
            renamed = [new_key if key == column.key else key for key in index.columns]
            connection.execute("UPDATE _indexes SET columns = ? WHERE seq = ?", (json.dumps(renamed), index.seq))


@handles("tablesDB.listColumns", "databases.listAttributes")
def list_columns(call: Call) -> dict:
    dialect = call.dialect
    table = named_table(call)
    models = [model(column, dialect) for column in table.visible_columns()]
    total, page = list_models(
        models,
        call.params.get("queries"),
        {"key", "type", "size", "required", "array", "status", "error"},
        count=call.params.get("total", True),
        noun=dialect.column,
    )
    return {"total": total, dialect.columns: page}


@handles("tablesDB.getColumn", "databases.getAttribute")
def get_column(call: Call) -> dict:
    dialect = call.dialect
    table = named_table(call)
    return model(require_column(table, call.params["key"], dialect), dialect)


@handles("tablesDB.deleteColumn", "databases.deleteAttribute")
def delete_column(call: Call) -> None:
    dialect = call.dialect
    table = named_table(call)
    column = require_column(table, call.params["key"], dialect)
    with call.project.db.transaction() as connection:
        if column.is_relationship:
            relationships.drop(connection, table, column)
        else:
            remove_from_indexes(connection, table, column)
            drop_column_storage(connection, table, column)
            connection.execute("DELETE FROM _columns WHERE seq = ?", (column.seq,))
        bump_schema_epoch(connection)
    call.project.schema_changed()


def remove_from_indexes(connection: sqlite3.Connection, table: Table, column: Column) -> None:
    """Indexes lose a deleted column; an index left with no columns is dropped."""
    for index in table.indexes:
        if column.key not in index.columns:
            continue
        drop_index_storage(connection, table, index)
        keep = [i for i, key in enumerate(index.columns) if key != column.key]
        if not keep:
            connection.execute("DELETE FROM _indexes WHERE seq = ?", (index.seq,))
            continue
        narrowed = replace(
            index,
            columns=[index.columns[i] for i in keep],
            orders=[index.orders[i] for i in keep if i < len(index.orders)],
            lengths=[index.lengths[i] for i in keep],
        )
        connection.execute(
            "UPDATE _indexes SET columns = ?, orders = ?, lengths = ? WHERE seq = ?",
            (json.dumps(narrowed.columns), json.dumps(narrowed.orders), json.dumps(narrowed.lengths), index.seq),
        )
        stored = with_schema(connection, table)
        remaining = replace(stored, columns=[c for c in stored.columns if c.seq != column.seq])
        create_index_storage(connection, remaining, narrowed)
