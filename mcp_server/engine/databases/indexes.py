"""Handlers for a table's indexes: key and unique indexes are SQL indexes (with prefix lengths as
substr expressions), fulltext indexes are FTS5 tables that `search` queries use, spatial indexes
mark point, line and polygon columns for spatial queries, vectorsDB's hnsw_* indexes keep a change log that
their HNSW graphs follow (vector_index.py) and its object indexes mark its metadata.
"""

from __future__ import annotations

import json
import re
import sqlite3

from ..datetimes import now_iso
from ..errors import AppwriteError, invalid_argument
from ..listing import list_models
from ..projectdb import bump_schema_epoch
from ..registry import Call, handles
from .column_types import Column
from .dialects import Dialect
from .schema import (
    UNSTORED_INDEXES,
    VECTOR_INDEXES,
    Index,
    Table,
    create_index_storage,
    drop_index_storage,
    index_from_row,
    named_table,
)
from .schemaless import valid_path

MAX_INDEXES = 64
MAX_INDEX_COLUMNS = 100
TYPES = ("key", "unique", "fulltext", "spatial", *UNSTORED_INDEXES)
# documentsDB takes these only (Appwrite 1.9.6's route whitelist); its MongoDB adapter has one fulltext index at most.
SCHEMALESS_TYPES = ("key", "fulltext", "unique")
ORDERS = ("ASC", "DESC")
INDEXABLE_SYSTEM = ("$id", "$createdAt", "$updatedAt")
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,35}")


def model(index: Index, dialect: Dialect) -> dict:
    return {
        "$id": index.key,
        "$createdAt": index.created,
        "$updatedAt": index.updated,
        "key": index.key,
        "type": index.type,
        "status": index.status,
        "error": index.error,
        dialect.columns: index.columns,
        "lengths": index.lengths,
        "orders": index.orders,
    }


def index_error(dialect: Dialect, suffix: str, message: str) -> AppwriteError:
    return AppwriteError(dialect.error("index", suffix), message)


def require_index(table: Table, key: str, dialect: Dialect) -> Index:
    index = table.index(key)
    if index is None:
        raise index_error(dialect, "not_found", f"Index with the requested key '{key}' could not be found.")
    return index


def check_definition(
    table: Table, key: object, kind: object, keys: object, orders: object, lengths: object, dialect: Dialect
) -> tuple[str, str, list[str], list[str], list[int | None]]:
    """A valid (key, type, columns, orders, lengths), or the error Appwrite gives for the first fault."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise invalid_argument(f"Invalid `key` param: {key!r} is not a valid index key")
    allowed = SCHEMALESS_TYPES if table.schemaless else TYPES
    if kind not in allowed:
        raise invalid_argument(f"Invalid `type` param: expected one of {', '.join(allowed)}, got {kind!r}")
    if table.schemaless and kind == "fulltext" and any(index.type == "fulltext" for index in table.indexes):
        raise index_error(dialect, "invalid", f"There is already a fulltext index in the {dialect.table}")
    if table.index(key) is not None:
        raise index_error(dialect, "already_exists", f"Index with the requested key '{key}' already exists.")
    if len(table.indexes) >= MAX_INDEXES:
        raise index_error(dialect, "limit_exceeded", f"The maximum number of indexes ({MAX_INDEXES}) has been reached.")
    if not isinstance(keys, list) or not keys or len(keys) > MAX_INDEX_COLUMNS:
        raise invalid_argument(
            f"Invalid `{dialect.columns}` param: expected 1 to {MAX_INDEX_COLUMNS} {dialect.column} keys"
        )
    if len(set(keys)) != len(keys):
        raise index_error(dialect, "invalid", f"An index cannot name the same {dialect.column} twice")
    if not isinstance(orders, list | None) or not isinstance(lengths, list | None):
        raise invalid_argument("Invalid `orders` or `lengths` param: expected an array")
    orders = list(orders or [])
    lengths = list(lengths or [])
    if len(orders) > len(keys) or len(lengths) > len(keys):
        raise index_error(dialect, "invalid", f"orders and lengths cannot be longer than {dialect.columns}")
    # As in Appwrite: each order is ASC or DESC in any case, kept as written and never padded (read back
    # unchanged, so a pulled schema pushes back as no change); lengths are padded with null, one per column.
    for order in orders:
        if not isinstance(order, str) or order.upper() not in ORDERS:
            raise invalid_argument(f"Invalid `orders` param: expected asc or desc, got {order!r}")
    lengths = lengths + [None] * (len(keys) - len(lengths))
    for position, column_key in enumerate(keys):
        column = check_column(table, column_key, kind, dialect)
        length = lengths[position]
        if length is not None:
            if not isinstance(length, int) or isinstance(length, bool) or length < 1:
                raise invalid_argument(f"Invalid `lengths` param: expected positive whole numbers, got {length!r}")
            if column is None or not column.type.textual or kind == "fulltext":
                raise index_error(
                    dialect, "invalid", f"A length applies to a string {dialect.column} only: {column_key}"
                )
    return key, kind, list(keys), orders, lengths


def check_column(table: Table, key: object, kind: str, dialect: Dialect) -> Column | None:
    if key in INDEXABLE_SYSTEM:
        if kind in ("fulltext", "spatial", *UNSTORED_INDEXES):
            raise index_error(dialect, "invalid", f"A {kind} index cannot include {key}")
        return None
    if table.schemaless:
        if not valid_path(key):
            raise index_error(dialect, "invalid", f"Invalid {dialect.column} path: {key}")
        return None
    column = table.column(key) if isinstance(key, str) else None
    if column is None:
        raise AppwriteError(dialect.error("column", "unknown"), f"Unknown {dialect.column}: {key}")
    if column.is_relationship:
        raise AppwriteError(
            dialect.error("column", "type_invalid"),
            f"Cannot create an index for a relationship {dialect.column}: {key}",
        )
    if column.status != "available":
        raise AppwriteError(dialect.error("column", "not_available"), f"{dialect.title('column')} not available: {key}")
    if column.array:
        raise AppwriteError("index_invalid", "Creating indexes on array attributes is not currently supported.")
    if column.encrypted:
        raise index_error(dialect, "invalid", f"Encrypted {dialect.columns} cannot be indexed: {key}")
    if kind == "fulltext" and not column.type.textual:
        raise index_error(
            dialect, "invalid", f"A fulltext index needs string {dialect.columns}; {key} is {column.kind}"
        )
    if (kind == "spatial") != column.type.spatial:
        needed = "point, line or polygon" if kind == "spatial" else "a spatial index"
        raise index_error(
            dialect, "invalid", f"{key}: {kind} index and {column.kind} {dialect.column} do not fit ({needed})"
        )
    if (kind in VECTOR_INDEXES) != (column.kind == "vector") or (kind == "object") != (column.kind == "object"):
        raise index_error(dialect, "invalid", f"{key}: a {kind} index does not fit a {column.kind} {dialect.column}")
    return column


def insert_index(connection: sqlite3.Connection, table: Table, definition: tuple, dialect: Dialect) -> Index:
    key, kind, keys, orders, lengths = definition
    now = now_iso()
    cursor = connection.execute(
        "INSERT INTO _indexes (table_seq, key, type, columns, orders, lengths, status, error, created, updated) "
        "VALUES (?, ?, ?, ?, ?, ?, 'available', '', ?, ?)",
        (table.seq, key, kind, json.dumps(keys), json.dumps(orders), json.dumps(lengths), now, now),
    )
    index = index_from_row(connection.execute("SELECT * FROM _indexes WHERE seq = ?", (cursor.lastrowid,)).fetchone())
    if kind != "spatial":
        try:
            create_index_storage(connection, table, index)
        except sqlite3.IntegrityError:
            raise index_error(
                dialect, "invalid", f"Cannot create unique index '{key}': existing {dialect.rows} have duplicate values"
            ) from None
    return index


def create_inline(
    connection: sqlite3.Connection, table: Table, definition: object, position: int, dialect: Dialect
) -> None:
    """One entry of createTable's `indexes`: {key, type, attributes (or columns), orders, lengths}."""
    if not isinstance(definition, dict):
        raise invalid_argument(f"Invalid `indexes` param: indexes[{position}] must be an object")
    keys = definition.get("attributes", definition.get("columns"))
    checked = check_definition(
        table,
        definition.get("key"),
        definition.get("type"),
        keys,
        definition.get("orders"),
        definition.get("lengths"),
        dialect,
    )
    insert_index(connection, table, checked, dialect)


@handles("tablesDB.createIndex", "databases.createIndex", "documentsDB.createIndex", "vectorsDB.createIndex")
def create_index(call: Call) -> dict:
    params, dialect = call.params, call.dialect
    table = named_table(call)
    checked = check_definition(
        table,
        params["key"],
        params["type"],
        params[dialect.columns],
        params.get("orders"),
        params.get("lengths"),
        dialect,
    )
    with call.project.db.transaction() as connection:
        index = insert_index(connection, table, checked, dialect)
        bump_schema_epoch(connection)
    call.project.schema_changed()
    return model(index, dialect)


@handles("tablesDB.listIndexes", "databases.listIndexes", "documentsDB.listIndexes", "vectorsDB.listIndexes")
def list_indexes(call: Call) -> dict:
    dialect = call.dialect
    table = named_table(call)
    models = [model(index, dialect) for index in table.indexes]
    total, page = list_models(
        models,
        call.params.get("queries"),
        {"key", "type", "status", "error", dialect.columns},
        count=call.params.get("total", True),
        noun="index",
    )
    return {"total": total, "indexes": page}


@handles("tablesDB.getIndex", "databases.getIndex", "documentsDB.getIndex", "vectorsDB.getIndex")
def get_index(call: Call) -> dict:
    dialect = call.dialect
    table = named_table(call)
    return model(require_index(table, call.params["key"], dialect), dialect)


@handles("tablesDB.deleteIndex", "databases.deleteIndex", "documentsDB.deleteIndex", "vectorsDB.deleteIndex")
def delete_index(call: Call) -> None:
    dialect = call.dialect
    table = named_table(call)
    index = require_index(table, call.params["key"], dialect)
    with call.project.db.transaction() as connection:
        drop_index_storage(connection, table, index)
        connection.execute("DELETE FROM _indexes WHERE seq = ?", (index.seq,))
        bump_schema_epoch(connection)
    call.project.schema_changed()
