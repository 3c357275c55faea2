"""Databases, tables, columns and indexes: their metadata rows, and the SQL objects behind them.

A table `<n>` (its `_tables.seq`) is stored as:
  rows_<n>   _seq (the row's $sequence), _uid ($id), _created, _updated, _permissions, col_<m> per column
  perms_<n>  one (action, role, row) entry per row permission, so reads filter by role in SQL
  _data      (schemaless tables, documentsDB) the row's fields as one JSON object
  idx_<k>    a SQL index per key/unique index (over json_extract of `_data` for schemaless tables, each field
             with idx_<k>_arrays<n> beside it: whether the field holds an array or one lies on its path);
             fts_<k> an FTS5 table (kept in sync by triggers) per fulltext index;
  junction_<m> the pairs of a many-to-many relationship
  vlog_<k>   per hnsw_* index (vectorsDB), the rows whose vector changed, each under the number of its latest
             change (kept by triggers), from which every process brings its HNSW graph up to date
             (vector_index.py); object indexes have no SQL object
Schema changes bump `_meta.schema_epoch`, which tells every process to reload its cached schema.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import AppwriteError
from ..registry import Call
from .column_types import Column
from .dialects import DOCUMENTS_DB, Dialect
from .schemaless import DATA_COLUMN, fan_out_sql, path_sql, text_sql

# vectorsDB's index types: the hnsw_* ones on its `embeddings` vector, object on its `metadata`.
VECTOR_INDEXES = ("hnsw_euclidean", "hnsw_dot", "hnsw_cosine")
UNSTORED_INDEXES = (*VECTOR_INDEXES, "object")
SYSTEM_ATTRIBUTES = {"$id": "_uid", "$sequence": "_seq", "$createdAt": "_created", "$updatedAt": "_updated"}


@dataclass
class Index:
    seq: int
    table_seq: int
    key: str
    type: str
    columns: list[str]
    orders: list[str | None]
    lengths: list[int | None]
    status: str
    error: str
    created: str
    updated: str

    @property
    def sql_name(self) -> str:
        if self.type in VECTOR_INDEXES:
            return f"vlog_{self.seq}"
        return f"fts_{self.seq}" if self.type == "fulltext" else f"idx_{self.seq}"


@dataclass
class Database:
    seq: int
    id: str
    name: str
    enabled: bool
    type: str
    created: str
    updated: str


@dataclass
class Table:
    seq: int
    database_id: str
    id: str
    name: str
    enabled: bool
    row_security: bool
    permissions: list[str]
    created: str
    updated: str
    columns: list[Column] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    database_type: str = ""
    # (columns list, visible columns, visible by key), rebuilt whenever `columns` is replaced.
    _visible: tuple | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def sql_name(self) -> str:
        return f"rows_{self.seq}"

    @property
    def schemaless(self) -> bool:
        return self.database_type == DOCUMENTS_DB.database_type

    @property
    def perms_name(self) -> str:
        return f"perms_{self.seq}"

    def visible(self) -> tuple:
        if self._visible is None or self._visible[0] is not self.columns:
            shown = [column for column in self.columns if not column.spec.get("hidden")]
            self._visible = (self.columns, shown, {column.key: column for column in shown})
        return self._visible

    def visible_columns(self) -> list[Column]:
        """Columns the API shows: every column but the hidden store of a one-way relationship."""
        return self.visible()[1]

    def column(self, key: str) -> Column | None:
        return self.visible()[2].get(key)

    def index(self, key: str) -> Index | None:
        return next((index for index in self.indexes if index.key == key), None)

    def has_relationships(self) -> bool:
        return any(column.is_relationship for column in self.columns)


def database_from_row(row: sqlite3.Row) -> Database:
    return Database(
        row["seq"], row["id"], row["name"], bool(row["enabled"]), row["type"], row["created"], row["updated"]
    )


def table_from_row(row: sqlite3.Row) -> Table:
    return Table(
        seq=row["seq"],
        database_id=row["database_id"],
        id=row["id"],
        name=row["name"],
        enabled=bool(row["enabled"]),
        row_security=bool(row["row_security"]),
        permissions=json.loads(row["permissions"]),
        created=row["created"],
        updated=row["updated"],
    )


def column_from_row(row: sqlite3.Row) -> Column:
    return Column(
        seq=row["seq"],
        table_seq=row["table_seq"],
        key=row["key"],
        kind=row["type"],
        spec=json.loads(row["spec"]),
        status=row["status"],
        error=row["error"],
        created=row["created"],
        updated=row["updated"],
    )


def index_from_row(row: sqlite3.Row) -> Index:
    return Index(
        seq=row["seq"],
        table_seq=row["table_seq"],
        key=row["key"],
        type=row["type"],
        columns=json.loads(row["columns"]),
        orders=written_orders(json.loads(row["orders"])),
        lengths=json.loads(row["lengths"]),
        status=row["status"],
        error=row["error"],
        created=row["created"],
        updated=row["updated"],
    )


def load_database(connection: sqlite3.Connection, database_id: str) -> Database | None:
    row = connection.execute("SELECT * FROM _databases WHERE id = ?", (database_id,)).fetchone()
    return database_from_row(row) if row else None


def require_database(connection: sqlite3.Connection, database_id: str, dialect: Dialect) -> Database:
    """The database, if the dialect's operations reach its type."""
    database = load_database(connection, database_id)
    if database is None or not dialect.reaches(database.type):
        raise database_not_found(database_id)
    return database


def database_not_found(database_id: str) -> AppwriteError:
    return AppwriteError("database_not_found", f"Database with the requested ID '{database_id}' could not be found.")


def load_table(connection: sqlite3.Connection, database_id: str, table_id: str) -> Table | None:
    row = connection.execute(
        "SELECT * FROM _tables WHERE database_id = ? AND id = ?", (database_id, table_id)
    ).fetchone()
    return with_schema(connection, table_from_row(row)) if row else None


def load_table_by_seq(connection: sqlite3.Connection, seq: int) -> Table:
    return with_schema(
        connection, table_from_row(connection.execute("SELECT * FROM _tables WHERE seq = ?", (seq,)).fetchone())
    )


def with_schema(connection: sqlite3.Connection, table: Table) -> Table:
    """A copy of the table with its columns and indexes as stored (cached tables are never changed in place)."""
    columns = [
        column_from_row(row)
        for row in connection.execute("SELECT * FROM _columns WHERE table_seq = ? ORDER BY seq", (table.seq,))
    ]
    indexes = [
        index_from_row(row)
        for row in connection.execute("SELECT * FROM _indexes WHERE table_seq = ? ORDER BY seq", (table.seq,))
    ]
    kind = connection.execute("SELECT type FROM _databases WHERE id = ?", (table.database_id,)).fetchone()
    return replace(table, columns=columns, indexes=indexes, database_type=kind[0] if kind else "")


def require_table(connection: sqlite3.Connection, database_id: str, table_id: str, dialect: Dialect) -> Table:
    require_database(connection, database_id, dialect)
    table = load_table(connection, database_id, table_id)
    if table is None:
        raise AppwriteError(
            dialect.error("table", "not_found"),
            f"{dialect.title('table')} with the requested ID '{table_id}' could not be found.",
        )
    return table


def create_storage(connection: sqlite3.Connection, table: Table) -> None:
    """The SQL tables behind a new table: its rows and their permission entries."""
    rows, perms = table.sql_name, table.perms_name
    connection.execute(
        f"CREATE TABLE {rows} (_seq INTEGER PRIMARY KEY AUTOINCREMENT, _uid TEXT NOT NULL UNIQUE, "
        "_created TEXT NOT NULL, _updated TEXT NOT NULL, _permissions TEXT NOT NULL DEFAULT '[]'"
        + (f", {DATA_COLUMN} TEXT NOT NULL DEFAULT '{{}}')" if table.schemaless else ")")
    )
    connection.execute(f"CREATE INDEX {rows}_created ON {rows} (_created)")
    connection.execute(f"CREATE INDEX {rows}_updated ON {rows} (_updated)")
    connection.execute(
        f"CREATE TABLE {perms} (action TEXT NOT NULL, role TEXT NOT NULL, row INTEGER NOT NULL, "
        "PRIMARY KEY (action, role, row)) WITHOUT ROWID"
    )
    connection.execute(f"CREATE INDEX {perms}_row ON {perms} (row)")
    connection.execute(
        f"CREATE TRIGGER {rows}_perms AFTER DELETE ON {rows} BEGIN DELETE FROM {perms} WHERE row = old._seq; END"
    )


def drop_storage(connection: sqlite3.Connection, table: Table) -> None:
    for index in table.indexes:
        drop_index_storage(connection, table, index)
    connection.execute(f"DROP TABLE IF EXISTS {table.sql_name}")
    connection.execute(f"DROP TABLE IF EXISTS {table.perms_name}")


def add_column_storage(connection: sqlite3.Connection, table: Table, column: Column) -> None:
    if column.stored:
        connection.execute(f"ALTER TABLE {table.sql_name} ADD COLUMN {column.sql_name} {column.type.sql}")


def drop_column_storage(connection: sqlite3.Connection, table: Table, column: Column) -> None:
    if column.stored:
        connection.execute(f"ALTER TABLE {table.sql_name} DROP COLUMN {column.sql_name}")


def physical_columns(table: Table, keys: list[str]) -> list[str]:
    """SQL names of columns named by key (system attributes included)."""
    names = []
    for key in keys:
        if key in SYSTEM_ATTRIBUTES:
            names.append(SYSTEM_ATTRIBUTES[key])
        elif table.schemaless:
            names.append(path_sql(key))
        else:
            column = table.column(key)
            assert column is not None, key
            names.append(column.sql_name)
    return names


def written_orders(stored: list[str | None]) -> list[str | None]:
    """The orders an index was created with: indexes made before orders were kept as written carry
    a trailing null for each column given none, which Appwrite never answers."""
    while stored and stored[-1] is None:
        stored.pop()
    return stored


def create_index_storage(connection: sqlite3.Connection, table: Table, index: Index) -> None:
    if index.type in VECTOR_INDEXES:
        create_change_log(connection, table, index)
        return
    if index.type in UNSTORED_INDEXES:
        return
    if index.type == "fulltext" and table.schemaless:
        create_field_fulltext(connection, table, index)
        return
    names = physical_columns(table, index.columns)
    rows = table.sql_name
    if index.type == "fulltext":
        fts = index.sql_name
        listed = ", ".join(names)
        new_values = ", ".join(f"new.{name}" for name in names)
        old_values = ", ".join(f"old.{name}" for name in names)
        connection.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5({listed}, content='{rows}', content_rowid='_seq')")
        keep_in_step(connection, fts, rows, listed, old_values, new_values)
        connection.execute(f"INSERT INTO {fts} ({fts}) VALUES ('rebuild')")
        return
    parts = []
    orders = [(order or "ASC").upper() for order in index.orders] + ["ASC"] * (len(names) - len(index.orders))
    for name, order, length in zip(names, orders, index.lengths, strict=True):
        expression = f"substr({name}, 1, {int(length)})" if length else name
        parts.append(f"{expression} {order}")
    unique = "UNIQUE " if index.type == "unique" else ""
    connection.execute(f"CREATE {unique}INDEX {index.sql_name} ON {rows} ({', '.join(parts)})")
    for position, key in enumerate(index.columns):
        if table.schemaless and key not in SYSTEM_ATTRIBUTES:
            connection.execute(f"CREATE INDEX {index.sql_name}_arrays{position} ON {rows} ({fan_out_sql(key)})")


def create_field_fulltext(connection: sqlite3.Connection, table: Table, index: Index) -> None:
    """A fulltext index on fields of a schemaless table: an FTS5 table holding each field's string value
    (column f<n> for the n-th field), kept in sync by triggers."""
    fts, rows = index.sql_name, table.sql_name
    listed = ", ".join(f"f{position}" for position in range(len(index.columns)))

    def values(row: str) -> str:
        return ", ".join(text_sql(attribute, row) for attribute in index.columns)

    connection.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5({listed}, content='')")
    keep_in_step(connection, fts, rows, listed, values("old."), values("new."))
    connection.execute(f"INSERT INTO {fts} (rowid, {listed}) SELECT _seq, {values('')} FROM {rows}")


def keep_in_step(connection: sqlite3.Connection, fts: str, rows: str, listed: str, old: str, new: str) -> None:
    """Triggers keeping an FTS5 table's entries (rowid = the row's _seq, columns `listed`) in step with its
    table's rows: `old` and `new` are the SQL of the values a row had and has."""
    delete_old = f"INSERT INTO {fts} ({fts}, rowid, {listed}) VALUES ('delete', old._seq, {old});"
    insert_new = f"INSERT INTO {fts} (rowid, {listed}) VALUES (new._seq, {new});"
    connection.execute(f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {rows} BEGIN {insert_new} END")
    connection.execute(f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {rows} BEGIN {delete_old} END")
    connection.execute(f"CREATE TRIGGER {fts}_update AFTER UPDATE ON {rows} BEGIN {delete_old} {insert_new} END")


def create_change_log(connection: sqlite3.Connection, table: Table, index: Index) -> None:
    """An hnsw_* index's change log: a row's latest change replaces its earlier ones (AUTOINCREMENT numbers
    rise with each commit), so the log holds one entry per row ever written, deleted rows included."""
    log, rows = index.sql_name, table.sql_name
    vector = physical_columns(table, index.columns)[0]
    connection.execute(f"CREATE TABLE {log} (change INTEGER PRIMARY KEY AUTOINCREMENT, row INTEGER NOT NULL UNIQUE)")
    for trigger, when, row in (
        ("insert", "INSERT", "new"),
        ("delete", "DELETE", "old"),
        ("update", f"UPDATE OF {vector}", "new"),
    ):
        connection.execute(
            f"CREATE TRIGGER {log}_{trigger} AFTER {when} ON {rows} "
            f"BEGIN INSERT OR REPLACE INTO {log} (row) VALUES ({row}._seq); END"
        )


def drop_index_storage(connection: sqlite3.Connection, table: Table, index: Index) -> None:
    if index.type in ("fulltext", *VECTOR_INDEXES):
        for trigger in ("insert", "delete", "update"):
            connection.execute(f"DROP TRIGGER IF EXISTS {index.sql_name}_{trigger}")
        connection.execute(f"DROP TABLE IF EXISTS {index.sql_name}")
    else:
        connection.execute(f"DROP INDEX IF EXISTS {index.sql_name}")
        for position in range(len(index.columns)):
            connection.execute(f"DROP INDEX IF EXISTS {index.sql_name}_arrays{position}")


def cached_table(project: Any, database_id: str, table_id: str, dialect: Dialect) -> Table:
    """The table with its columns and indexes, from the project's cache when the schema has not changed."""
    key = (database_id, table_id)
    epoch = project.epoch()
    entry = project.tables.get(key)
    if entry is not None and entry[0] == epoch:
        if not dialect.reaches(entry[1].database_type):
            raise database_not_found(database_id)
        return entry[1]
    table = require_table(project.connection, database_id, table_id, dialect)
    if entry is None or entry[0] < epoch:
        project.tables[key] = (epoch, table)
    return table


def named_table(call: Call) -> Table:
    """The table (or collection) that the call's databaseId and tableId/collectionId name."""
    return cached_table(call.project, call.params["databaseId"], call.params[call.dialect.table_id], call.dialect)
