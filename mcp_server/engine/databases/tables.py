"""Handlers for databases and tables (collections), including tables created with inline columns
and indexes. Columns and indexes on their own are in columns.py and indexes.py.
"""

from __future__ import annotations

import json

from ..datetimes import now_iso
from ..errors import AppwriteError, invalid_argument
from ..ids import resolve_id
from ..listing import list_models
from ..permissions import ACTIONS, normalize_permissions
from ..projectdb import bump_schema_epoch, update_record
from ..registry import Call, handles
from . import columns as table_columns
from . import indexes, relationships
from .dialects import DOCUMENTS_DB, VECTORS_DB, Dialect
from .schema import (
    Database,
    Table,
    cached_table,
    create_storage,
    database_from_row,
    drop_storage,
    load_table,
    named_table,
    require_database,
    table_from_row,
    with_schema,
)

ROW_BYTES_MAX = 65535


def database_model(database: Database) -> dict:
    # policies and archives (backups) are part of the model the Appwrite 1.8 SDKs read; there are none here.
    return {
        "$id": database.id,
        "name": database.name,
        "$createdAt": database.created,
        "$updatedAt": database.updated,
        "enabled": database.enabled,
        "type": database.type,
        "policies": [],
        "archives": [],
    }


def table_model(table: Table, dialect: Dialect) -> dict:
    columns = [table_columns.model(column, dialect) for column in table.visible_columns()]
    return {
        "$id": table.id,
        "$createdAt": table.created,
        "$updatedAt": table.updated,
        "$permissions": table.permissions,
        "databaseId": table.database_id,
        "name": table.name,
        "enabled": table.enabled,
        dialect.row_security: table.row_security,
        dialect.columns: columns,
        "indexes": [indexes.model(index, dialect) for index in table.indexes],
        "bytesMax": ROW_BYTES_MAX,
        "bytesUsed": sum(table_columns.width(column) for column in table.columns),
    } | vector_fields(table, dialect)


def vector_fields(table: Table, dialect: Dialect) -> dict:
    """A vectorsDB collection's `dimension`: the size of its `embeddings`."""
    if dialect is not VECTORS_DB:
        return {}
    embeddings = table.column("embeddings")
    return {"dimension": embeddings.spec["size"] if embeddings else 0}


def check_dimension(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 16_000:
        raise invalid_argument("Invalid `dimension` param: Value must be a valid range between 1 and 16,000")
    return value


def resize_embeddings(connection, table: Table, dimension: int) -> None:
    """A new dimension for a collection that holds no documents yet (stored vectors would no longer fit)."""
    embeddings = table.column("embeddings")
    if embeddings.spec["size"] == dimension:
        return
    if connection.execute(f"SELECT 1 FROM {table.sql_name} LIMIT 1").fetchone():
        raise invalid_argument(
            f"Invalid `dimension` param: the collection holds documents of dimension {embeddings.spec['size']}; "
            "delete them before changing it"
        )
    update_record(connection, "_columns", embeddings.seq, {"spec": json.dumps({**embeddings.spec, "size": dimension})})


def add_vector_schema(connection, project, table: Table, dimension: int) -> Table:
    """vectorsDB's fixed schema: a required `embeddings` vector of the dimension and a `metadata` object, with
    Appwrite's default object index on the metadata."""
    required = {"required": True, "array": False, "size": dimension, "default": None}
    table_columns.add_column(connection, project, table, "embeddings", "vector", required, VECTORS_DB)
    table = with_schema(connection, table)
    optional = {"required": False, "array": False, "default": {}}
    table_columns.add_column(connection, project, table, "metadata", "object", optional, VECTORS_DB)
    table = with_schema(connection, table)
    indexes.insert_index(connection, table, ("_key_metadata", "object", ["metadata"], [], []), VECTORS_DB)
    return with_schema(connection, table)


def check_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 128:
        raise invalid_argument("Invalid `name` param: expected a name of 1 to 128 characters")
    return name


@handles("tablesDB.list", "databases.list", "documentsDB.list", "vectorsDB.list")
def list_databases(call: Call) -> dict:
    # documentsDB and vectorsDB list their own databases; tablesDB and the legacy API list each other's, as
    # Appwrite does.
    own = (DOCUMENTS_DB.database_type, VECTORS_DB.database_type)
    if call.dialect.database_type in own:
        rows = call.project.connection.execute(
            "SELECT * FROM _databases WHERE type = ? ORDER BY seq", (call.dialect.database_type,)
        ).fetchall()
    else:
        rows = call.project.connection.execute(
            "SELECT * FROM _databases WHERE type NOT IN (?, ?) ORDER BY seq", own
        ).fetchall()
    models = [database_model(database_from_row(row)) for row in rows]
    total, page = list_models(
        models,
        call.params.get("queries"),
        {"name", "enabled", "type"},
        search=call.params.get("search"),
        count=call.params.get("total", True),
        noun="database",
    )
    return {"total": total, "databases": page}


@handles("tablesDB.create", "databases.create", "documentsDB.create", "vectorsDB.create")
def create_database(call: Call) -> dict:
    params = call.params
    database_id = resolve_id(params["databaseId"], "databaseId")
    name = check_name(params["name"])
    now = now_iso()
    with call.project.db.transaction() as connection:
        if connection.execute("SELECT 1 FROM _databases WHERE id = ?", (database_id,)).fetchone():
            raise AppwriteError(
                "database_already_exists", f"Database with the requested ID '{database_id}' already exists."
            )
        connection.execute(
            "INSERT INTO _databases (id, name, enabled, type, created, updated) VALUES (?, ?, ?, ?, ?, ?)",
            (database_id, name, int(params.get("enabled", True)), call.dialect.database_type, now, now),
        )
        return database_model(require_database(connection, database_id, call.dialect))


@handles("tablesDB.get", "databases.get", "documentsDB.get", "vectorsDB.get")
def get_database(call: Call) -> dict:
    return database_model(require_database(call.project.connection, call.params["databaseId"], call.dialect))


@handles("tablesDB.update", "databases.update", "documentsDB.update", "vectorsDB.update")
def update_database(call: Call) -> dict:
    params = call.params
    with call.project.db.transaction() as connection:
        database = require_database(connection, params["databaseId"], call.dialect)
        name = check_name(params["name"]) if params.get("name") is not None else database.name
        enabled = params["enabled"] if params.get("enabled") is not None else database.enabled
        update_record(connection, "_databases", database.seq, {"name": name, "enabled": int(enabled)})
        return database_model(require_database(connection, database.id, call.dialect))


@handles("tablesDB.delete", "databases.delete", "documentsDB.delete", "vectorsDB.delete")
def delete_database(call: Call) -> None:
    with call.project.db.transaction() as connection:
        database = require_database(connection, call.params["databaseId"], call.dialect)
        for row in connection.execute("SELECT * FROM _tables WHERE database_id = ?", (database.id,)).fetchall():
            drop_table(connection, with_schema(connection, table_from_row(row)))
        connection.execute("DELETE FROM _databases WHERE seq = ?", (database.seq,))
        bump_schema_epoch(connection)
    call.project.schema_changed()


def drop_table(connection, table: Table) -> None:
    """Remove a table: its relationships (both sides, wherever their links live), storage and metadata."""
    for column in table.columns:
        if (
            column.is_relationship
            and connection.execute("SELECT 1 FROM _columns WHERE seq = ?", (column.seq,)).fetchone()
        ):
            relationships.drop(connection, table, column)
    table = with_schema(connection, table)
    drop_storage(connection, table)
    connection.execute("DELETE FROM _columns WHERE table_seq = ?", (table.seq,))
    connection.execute("DELETE FROM _indexes WHERE table_seq = ?", (table.seq,))
    connection.execute("DELETE FROM _tables WHERE seq = ?", (table.seq,))


@handles("tablesDB.listTables", "databases.listCollections", "documentsDB.listCollections", "vectorsDB.listCollections")
def list_tables(call: Call) -> dict:
    connection = call.project.connection
    database = require_database(connection, call.params["databaseId"], call.dialect)
    rows = connection.execute("SELECT * FROM _tables WHERE database_id = ? ORDER BY seq", (database.id,)).fetchall()
    models = [table_model(with_schema(connection, table_from_row(row)), call.dialect) for row in rows]
    total, page = list_models(
        models,
        call.params.get("queries"),
        {"name", "enabled", call.dialect.row_security},
        search=call.params.get("search"),
        count=call.params.get("total", True),
        noun=call.dialect.table,
    )
    return {"total": total, call.dialect.tables: page}


@handles(
    "tablesDB.createTable",
    "databases.createCollection",
    "documentsDB.createCollection",
    "vectorsDB.createCollection",
)
def create_table(call: Call) -> dict:
    params, dialect = call.params, call.dialect
    table_id = resolve_id(params[dialect.table_id], dialect.table_id)
    name = check_name(params["name"])
    dimension = check_dimension(params.get("dimension")) if dialect is VECTORS_DB else None
    permissions = normalize_permissions(params.get("permissions"), ACTIONS)
    if dialect.schemaless and params.get(dialect.columns):
        raise invalid_argument(
            f"Invalid `{dialect.columns}` param: {dialect.tables} of a {dialect.service} database are schemaless; "
            "documents take any fields"
        )
    now = now_iso()
    with call.project.db.transaction() as connection:
        database = require_database(connection, params["databaseId"], call.dialect)
        if load_table(connection, database.id, table_id) is not None:
            raise AppwriteError(
                dialect.error("table", "already_exists"),
                f"{dialect.title('table')} with the requested ID '{table_id}' already exists.",
            )
        cursor = connection.execute(
            "INSERT INTO _tables (database_id, id, name, enabled, row_security, permissions, created, updated) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                database.id,
                table_id,
                name,
                int(params.get("enabled", True)),
                int(params.get(dialect.row_security, False)),
                json.dumps(permissions),
                now,
                now,
            ),
        )
        table = with_schema(
            connection,
            table_from_row(connection.execute("SELECT * FROM _tables WHERE seq = ?", (cursor.lastrowid,)).fetchone()),
        )
        create_storage(connection, table)
        if dimension is not None:
            table = add_vector_schema(connection, call.project, table, dimension)
        for position, definition in enumerate(params.get(dialect.columns) or []):
            table_columns.create_inline(connection, call.project, table, definition, position, dialect)
            table = with_schema(connection, table)
        for position, definition in enumerate(params.get("indexes") or []):
            indexes.create_inline(connection, table, definition, position, dialect)
            table = with_schema(connection, table)
        bump_schema_epoch(connection)
    call.project.schema_changed()
    return table_model(table, dialect)


@handles("tablesDB.getTable", "databases.getCollection", "documentsDB.getCollection", "vectorsDB.getCollection")
def get_table(call: Call) -> dict:
    return table_model(named_table(call), call.dialect)


@handles(
    "tablesDB.updateTable",
    "databases.updateCollection",
    "documentsDB.updateCollection",
    "vectorsDB.updateCollection",
)
def update_table(call: Call) -> dict:
    params, dialect = call.params, call.dialect
    table = named_table(call)
    name = check_name(params["name"]) if params.get("name") is not None else table.name
    permissions = (
        normalize_permissions(params["permissions"], ACTIONS)
        if params.get("permissions") is not None
        else table.permissions
    )
    row_security = params[dialect.row_security] if params.get(dialect.row_security) is not None else table.row_security
    enabled = params["enabled"] if params.get("enabled") is not None else table.enabled
    with call.project.db.transaction() as connection:
        settings = {
            "name": name,
            "permissions": json.dumps(permissions),
            "row_security": int(row_security),
            "enabled": int(enabled),
        }
        update_record(connection, "_tables", table.seq, settings)
        if dialect is VECTORS_DB and params.get("dimension") is not None:
            resize_embeddings(connection, table, check_dimension(params["dimension"]))
        bump_schema_epoch(connection)
    call.project.schema_changed()
    return table_model(cached_table(call.project, params["databaseId"], table.id, dialect), dialect)


@handles(
    "tablesDB.deleteTable",
    "databases.deleteCollection",
    "documentsDB.deleteCollection",
    "vectorsDB.deleteCollection",
)
def delete_table(call: Call) -> None:
    table = named_table(call)
    with call.project.db.transaction() as connection:
        drop_table(connection, table)
        bump_schema_epoch(connection)
    call.project.schema_changed()
