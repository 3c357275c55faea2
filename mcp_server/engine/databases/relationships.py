"""Relationship columns: defining them, their links, loading related rows, and onDelete rules.

A relationship has a parent side (the table it was created on) and a child side (the related table,
a visible column when twoWay, hidden otherwise). Its links live in one place:
  manyToOne, oneToOne  a column on the parent rows holding the child's $id (unique for oneToOne)
  oneToMany            a column on the child rows holding the parent's $id
  manyToMany           a junction table of (parent $id, child $id) pairs
Reading a row without `select` shows the related $id on sides that hold one row (null when none);
sides that hold many are left out. `select(["*", "author.*"])` loads related rows (three levels at
most). Deleting a row on the owning side (the parent, or the child of manyToOne) applies onDelete:
restrict refuses while related rows exist, cascade deletes them, setNull unlinks them.
"""

from __future__ import annotations

import json
import re
import sqlite3

from ..datetimes import now_iso
from ..errors import AppwriteError, invalid_argument
from ..permissions import ADMIN, Auth
from ..projectdb import bump_schema_epoch
from ..registry import Call, handles
from .column_types import Column, column_model
from .dialects import Dialect
from .row_records import read_access, row_model, select_sql
from .schema import Table, column_from_row, load_table, load_table_by_seq, named_table

MAX_DEPTH = 3
TYPES = ("oneToOne", "oneToMany", "manyToOne", "manyToMany")
ON_DELETE = ("restrict", "cascade", "setNull")
# Which side's deletion applies onDelete: the side the other rows depend on.
OWNER = {"oneToOne": "parent", "oneToMany": "parent", "manyToOne": "child", "manyToMany": "parent"}
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,35}")


def holds_many(spec: dict) -> bool:
    """Whether this side of the relationship links to many rows."""
    kind, side = spec["relationType"], spec["side"]
    return (
        kind == "manyToMany" or (kind == "oneToMany" and side == "parent") or (kind == "manyToOne" and side == "child")
    )


def reachable(connection: sqlite3.Connection, table: Table) -> frozenset[int]:
    """The table and every table its rows can show through relationships (as deep as select loads)."""
    seen, frontier = {table.seq}, [table]
    for _ in range(MAX_DEPTH):
        frontier = [
            load_table_by_seq(connection, column.spec["relatedTableSeq"])
            for current in frontier
            for column in current.columns
            if column.is_relationship and column.spec["relatedTableSeq"] not in seen
        ]
        if not frontier:
            break
        seen.update(other.seq for other in frontier)
    return frozenset(seen)


def related_table(connection: sqlite3.Connection, column: Column) -> Table:
    return load_table_by_seq(connection, column.spec["relatedTableSeq"])


def related_ids(connection: sqlite3.Connection, table: Table, column: Column, uids: list[str]) -> dict[str, list[str]]:
    """For each row id, the ids it links to through `column` (in one query)."""
    found: dict[str, list[str]] = {uid: [] for uid in uids}
    if not uids:
        return found
    spec, link = column.spec, column.spec["link"]
    marks = ", ".join("?" * len(uids))
    if link["kind"] == "junction":
        mine, theirs = ("parent", "child") if spec["side"] == "parent" else ("child", "parent")
        sql = f"SELECT {mine}, {theirs} FROM {link['table']} WHERE {mine} IN ({marks})"
    elif link["holder"] == spec["side"]:
        holder = link["column"]
        sql = f"SELECT _uid, {holder} FROM {table.sql_name} WHERE _uid IN ({marks}) AND {holder} IS NOT NULL"
    else:
        other = related_table(connection, column)
        sql = f"SELECT {link['column']}, _uid FROM {other.sql_name} WHERE {link['column']} IN ({marks}) ORDER BY _seq"
    for mine_id, their_id in connection.execute(sql, uids):
        found[mine_id].append(their_id)
    return found


def set_links(connection: sqlite3.Connection, table: Table, column: Column, uid: str, targets: list[str]) -> None:
    """Make row `uid` link, through `column`, to exactly `targets`."""
    spec, link = column.spec, column.spec["link"]
    if link["kind"] == "junction":
        mine, theirs = ("parent", "child") if spec["side"] == "parent" else ("child", "parent")
        connection.execute(f"DELETE FROM {link['table']} WHERE {mine} = ?", (uid,))
        connection.executemany(
            f"INSERT OR IGNORE INTO {link['table']} ({mine}, {theirs}) VALUES (?, ?)", [(uid, t) for t in targets]
        )
        return
    if link["holder"] == spec["side"]:
        connection.execute(
            f"UPDATE {table.sql_name} SET {link['column']} = ? WHERE _uid = ?", (targets[0] if targets else None, uid)
        )
        return
    other = related_table(connection, column)
    connection.execute(f"UPDATE {other.sql_name} SET {link['column']} = NULL WHERE {link['column']} = ?", (uid,))
    if targets:
        marks = ", ".join("?" * len(targets))
        connection.execute(f"UPDATE {other.sql_name} SET {link['column']} = ? WHERE _uid IN ({marks})", [uid, *targets])


def attach(
    project, auth: Auth, table: Table, models: list[dict], dialect: Dialect, select: list[str] | None, depth: int = 1
) -> None:
    """Fill in relationship keys: ids on single sides, and related rows where `select` asks for them."""
    columns = [column for column in table.visible_columns() if column.is_relationship]
    if not columns or not models:
        return
    connection = project.connection
    uids = [model["$id"] for model in models]
    plain = select is None or "*" in select
    for column in columns:
        paths = [key.split(".", 1)[1] for key in (select or []) if key.startswith(column.key + ".")]
        named = select is not None and column.key in select
        if not paths and not named and not (plain and not holds_many(column.spec)):
            continue
        links = related_ids(connection, table, column, uids)
        if not paths or depth >= MAX_DEPTH:
            for model in models:
                ids = links[model["$id"]]
                model[column.key] = ids if holds_many(column.spec) else (ids[0] if ids else None)
            continue
        loaded = load(
            project,
            auth,
            related_table(connection, column),
            sorted({i for ids in links.values() for i in ids}),
            dialect,
            paths,
            depth,
        )
        for model in models:
            rows_found = [loaded[i] for i in links[model["$id"]] if i in loaded]
            model[column.key] = rows_found if holds_many(column.spec) else (rows_found[0] if rows_found else None)


def load(project, auth: Auth, table: Table, uids: list[str], dialect: Dialect, paths: list[str], depth: int) -> dict:
    """Related rows the caller may read, by id, with the nested select of `paths` applied."""
    if not uids:
        return {}
    access = read_access(table, auth)
    marks = ", ".join("?" * len(uids))
    records = project.connection.execute(
        f"SELECT {select_sql(table)} FROM {table.sql_name} WHERE _uid IN ({marks}) AND {access.sql}",
        [*uids, *access.params],
    ).fetchall()
    nested = ["*" if path == "*" else path for path in paths]
    own = None if "*" in nested else {path for path in nested if "." not in path}
    models = [row_model(project, table, record, dialect, own) for record in records]
    attach(project, auth, table, models, dialect, nested, depth + 1)
    return {model["$id"]: model for model in models}


def before_delete(project, dialect: Dialect, table: Table, uid: str, deleting: set, delete_row) -> None:
    """Apply onDelete for every relationship of the row about to be deleted, and unlink it.

    Cascades delete related rows with full rights (the caller chose to delete their parent); rows in
    `deleting` are already on their way out, so a cycle of cascades stops.
    """
    connection = project.connection
    for column in [column for column in table.columns if column.is_relationship]:
        spec = column.spec
        targets = related_ids(connection, table, column, [uid])[uid]
        if not targets:
            continue
        other = related_table(connection, column)
        if spec["side"] == OWNER[spec["relationType"]]:
            if spec["onDelete"] == "restrict":
                raise AppwriteError(
                    dialect.error("row", "delete_restricted"),
                    f"Cannot delete {dialect.row} because it has at least one related {dialect.row}.",
                )
            if spec["onDelete"] == "cascade":
                for target in targets:
                    if (other.seq, target) not in deleting and rows_exists(connection, other, target):
                        delete_row(project, ADMIN, dialect, other, target, deleting=deleting, quiet=True)
                project.cache.invalidate(other.seq)
                continue
        set_links(connection, table, column, uid, [])
        project.cache.invalidate(other.seq)


def rows_exists(connection: sqlite3.Connection, table: Table, uid: str) -> bool:
    return connection.execute(f"SELECT 1 FROM {table.sql_name} WHERE _uid = ?", (uid,)).fetchone() is not None


def check_key(key: object, param: str) -> str:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise invalid_argument(f"Invalid `{param}` param: {key!r} is not a valid key")
    return key


def key_taken(table: Table, key: str) -> bool:
    return any(column.key.lower() == key.lower() for column in table.columns)


def insert_side(connection: sqlite3.Connection, table: Table, key: str, spec: dict) -> Column:
    now = now_iso()
    cursor = connection.execute(
        "INSERT INTO _columns (table_seq, key, type, spec, status, error, created, updated) "
        "VALUES (?, ?, 'relationship', ?, 'available', '', ?, ?)",
        (table.seq, key, json.dumps(spec), now, now),
    )
    return column_from_row(connection.execute("SELECT * FROM _columns WHERE seq = ?", (cursor.lastrowid,)).fetchone())


def save_spec(connection: sqlite3.Connection, column: Column) -> None:
    connection.execute(
        "UPDATE _columns SET spec = ?, updated = ? WHERE seq = ?", (json.dumps(column.spec), now_iso(), column.seq)
    )


@handles("tablesDB.createRelationshipColumn", "databases.createRelationshipAttribute")
def create_column(call: Call) -> dict:
    params, dialect = call.params, call.dialect
    table = named_table(call)
    related_id = params["relatedTableId" if dialect.service == "tablesDB" else "relatedCollectionId"]
    kind, on_delete = params["type"], params.get("onDelete") or "restrict"
    two_way = bool(params.get("twoWay", False))
    key = check_key(params.get("key") or related_id, "key")
    two_way_key = check_key(params.get("twoWayKey") or table.id, "twoWayKey")
    connection = call.project.connection
    other = load_table(connection, table.database_id, related_id)
    if other is None:
        raise AppwriteError(dialect.error("table", "not_found"), f"The related {dialect.table} was not found.")
    already = AppwriteError(
        dialect.error("column", "already_exists"), f"{dialect.title('column')} '{key}' already exists."
    )
    if key_taken(table, key):
        raise already
    if key_taken(other, two_way_key) or (other.seq == table.seq and two_way_key.lower() == key.lower()):
        raise AppwriteError(
            dialect.error("column", "already_exists"),
            f"{dialect.title('column')} '{two_way_key}' already exists in the related {dialect.table}.",
        )
    if kind == "manyToMany" and any(
        c.is_relationship and c.spec["relationType"] == "manyToMany" and c.spec["relatedTableSeq"] == other.seq
        for c in table.columns
    ):
        raise AppwriteError(
            dialect.error("column", "already_exists"),
            f'Creating more than one "manyToMany" relationship on the same {dialect.table} is currently not permitted.',
        )
    base = {
        "required": False,
        "array": False,
        "default": None,
        "relationType": kind,
        "twoWay": two_way,
        "onDelete": on_delete,
    }
    with call.project.db.transaction() as connection:
        parent = insert_side(
            connection,
            table,
            key,
            {
                **base,
                "side": "parent",
                "relatedTable": other.id,
                "relatedTableSeq": other.seq,
                "twoWayKey": two_way_key,
            },
        )
        child = insert_side(
            connection,
            other,
            two_way_key,
            {
                **base,
                "side": "child",
                "relatedTable": table.id,
                "relatedTableSeq": table.seq,
                "twoWayKey": key,
                "hidden": not two_way,
            },
        )
        if kind == "manyToMany":
            link = {"kind": "junction", "table": f"junction_{parent.seq}"}
            connection.execute(
                f"CREATE TABLE {link['table']} (parent TEXT NOT NULL, child TEXT NOT NULL, "
                "PRIMARY KEY (parent, child)) WITHOUT ROWID"
            )
            connection.execute(f"CREATE INDEX {link['table']}_child ON {link['table']} (child)")
        else:
            holder, holder_table, holder_column = (
                ("child", other, child) if kind == "oneToMany" else ("parent", table, parent)
            )
            link = {"kind": "column", "holder": holder, "column": holder_column.sql_name}
            holder_column.spec["stored"] = True
            connection.execute(f"ALTER TABLE {holder_table.sql_name} ADD COLUMN {holder_column.sql_name} TEXT")
            unique = "UNIQUE " if kind == "oneToOne" else ""
            connection.execute(
                f"CREATE {unique}INDEX link_{holder_column.seq} ON {holder_table.sql_name} ({holder_column.sql_name})"
            )
        for side in (parent, child):
            side.spec.update({"link": link, "partner": (child if side is parent else parent).seq})
            save_spec(connection, side)
        bump_schema_epoch(connection)
    call.project.schema_changed()
    return column_model(parent, dialect)


@handles("tablesDB.updateRelationshipColumn", "databases.updateRelationshipAttribute")
def update_column(call: Call) -> dict:
    params, dialect = call.params, call.dialect
    table = named_table(call)
    cached = table.column(params["key"])
    if cached is None or not cached.is_relationship:
        raise AppwriteError(
            dialect.error("column", "not_found"),
            f"{dialect.title('column')} with the requested key '{params['key']}' could not be found.",
        )
    with call.project.db.transaction() as connection:
        # Changed below: a copy, not the cached schema that other reads share.
        column = column_from_row(connection.execute("SELECT * FROM _columns WHERE seq = ?", (cached.seq,)).fetchone())
        partner = column_from_row(
            connection.execute("SELECT * FROM _columns WHERE seq = ?", (column.spec["partner"],)).fetchone()
        )
        if params.get("onDelete") is not None:
            column.spec["onDelete"] = partner.spec["onDelete"] = params["onDelete"]
        new_key = params.get("newKey")
        if new_key is not None and new_key != column.key:
            check_key(new_key, "newKey")
            if key_taken(table, new_key):
                raise AppwriteError(
                    dialect.error("column", "already_exists"), f"{dialect.title('column')} '{new_key}' already exists."
                )
            connection.execute("UPDATE _columns SET key = ? WHERE seq = ?", (new_key, column.seq))
            partner.spec["twoWayKey"] = new_key
            column.key = new_key
        save_spec(connection, column)
        save_spec(connection, partner)
        bump_schema_epoch(connection)
    call.project.schema_changed()
    return column_model(column, dialect)


def drop(connection: sqlite3.Connection, table: Table, column: Column) -> None:
    """Remove both sides of a relationship and where its links were kept."""
    link = column.spec["link"]
    partner_row = connection.execute("SELECT * FROM _columns WHERE seq = ?", (column.spec["partner"],)).fetchone()
    sides = [column] + ([column_from_row(partner_row)] if partner_row else [])
    for side in sides:
        if side.spec.get("stored"):
            holder = load_table_by_seq(connection, side.table_seq)
            connection.execute(f"DROP INDEX IF EXISTS link_{side.seq}")
            connection.execute(f"ALTER TABLE {holder.sql_name} DROP COLUMN {side.sql_name}")
        connection.execute("DELETE FROM _columns WHERE seq = ?", (side.seq,))
    if link["kind"] == "junction":
        connection.execute(f"DROP TABLE IF EXISTS {link['table']}")
