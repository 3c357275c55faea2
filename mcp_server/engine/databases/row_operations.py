"""Row operations: reading with permissions applied in SQL, and every kind of write.

They are plain functions over (project, auth, dialect, table, ...) that run inside the caller's
SQLite transaction; the handlers in rows.py wrap them, and committing a transaction replays staged
operations through the same functions (transactions.py). A caller without the table's read
permission sees only rows whose own permissions let it read them (when row security is on); API
keys see every row. Writing a relationship value writes the related rows it nests (`write_links`).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from ..datetimes import normalize_datetime, now_iso
from ..errors import AppwriteError, invalid_argument
from ..events import announce
from ..ids import resolve_id
from ..permissions import (
    ROW_ACTIONS,
    Auth,
    check_grantable,
    default_row_permissions,
    format_permissions,
    parse_permissions,
    parse_stored,
)
from ..queries import DEFAULT_LIMIT, QueryPlan, invalid, parse_queries, plan
from . import relationships, vector_search
from .column_types import INT64_MAX, INT64_MIN, WHOLE_KINDS, Column, check_value, encode, structure_error
from .dialects import Dialect
from .field_queries import order_expressions
from .query_sql import DOCUMENT_FIELD, resolve, where_clause
from .relationships import holds_many, related_table, set_links
from .row_records import (
    MISSING,
    fetch_record,
    may,
    read_access,
    row_model,
    row_not_found,
    row_readers,
    select_sql,
    unauthorized,
)
from .schema import Table
from .schemaless import DATA_COLUMN, document_data, numeric_field, valid_path, with_field

MAX_COUNT = 5000
# The key under which `prepare` gives a schemaless row's JSON object (its other keys are columns).
DATA = "data"


# Rows one bulk call may write (Appwrite's default is 100; its paid plans raise it), and how many
# affected rows a bulk update or delete lists in its response (Appwrite's 100).
MAX_BULK_ROWS = 1000


LISTED_BULK_ROWS = 100


SYSTEM_INPUT = {
    "$id",
    "$sequence",
    "$databaseId",
    "$tableId",
    "$collectionId",
    "$permissions",
    "$createdAt",
    "$updatedAt",
}


def models_of(
    project, auth: Auth, table: Table, records: list, dialect: Dialect, select: list[str] | None
) -> list[dict]:
    own = None if select is None or "*" in select else {key for key in select if table.schemaless or "." not in key}
    models = [row_model(project, table, record, dialect, own) for record in records]
    relationships.attach(project, auth, table, models, dialect, select)
    return models


def parse_select(table: Table, select: list[str] | None) -> list[str] | None:
    """Check the attributes a select names; relationship paths (author.name, author.*) are kept."""
    if select is None:
        return None
    for key in select:
        head = key.split(".", 1)[0]
        if key == "*" or key in ("$id", "$sequence", "$createdAt", "$updatedAt", "$permissions"):
            continue
        if table.schemaless:
            if not valid_path(key):
                raise invalid(f"Invalid select: {key}")
            continue
        column = table.column(head)
        if column is None or ("." in key and not column.is_relationship):
            raise invalid(f"Attribute not found in schema: {key}")
    return select


def order_terms(table: Table, query_plan: QueryPlan) -> list[tuple[str, str, str]]:
    """(sql, direction, attribute) per order query, with $sequence last as the tie-breaker."""
    terms = []
    for query in query_plan.orders:
        if query.method == "orderRandom":
            continue
        if not table.schemaless and "." in query.attribute and table.column(query.attribute) is None:
            raise invalid(f"Cannot order by nested attribute: {query.attribute.split('.', 1)[0]}")
        target = resolve(table, query.attribute)
        if target.array or (
            target.column is not None and (target.column.is_relationship or target.column.type.spatial)
        ):
            raise invalid(f"Cannot order by attribute {query.attribute!r}")
        direction = "ASC" if query.method == "orderAsc" else "DESC"
        expressions = order_expressions(query.attribute) if target.kind == DOCUMENT_FIELD else [target.sql]
        terms += [(sql, direction, query.attribute) for sql in expressions]
    if not any(sql in ("_seq", "_uid") for sql, _, _ in terms):
        terms.append(("_seq", "ASC", "$sequence"))
    return terms


def cursor_condition(
    connection: sqlite3.Connection,
    table: Table,
    terms: list[tuple[str, str, str]],
    query_plan: QueryPlan,
    dialect: Dialect,
) -> tuple[str, list]:
    """Rows strictly after the cursor row in the (possibly reversed) order of `terms`."""
    cursor_id = query_plan.cursor.values[0]  # type: ignore[union-attr]
    selected = ", ".join(sql for sql, _, _ in terms)
    record = connection.execute(f"SELECT {selected} FROM {table.sql_name} WHERE _uid = ?", (cursor_id,)).fetchone()
    if record is None:
        raise AppwriteError(
            "general_cursor_not_found", f"{dialect.title('row')} '{cursor_id}' for the 'cursor' value not found."
        )
    ors, params = [], []
    for position, (sql, direction, attribute) in enumerate(terms):
        value = record[position]
        if value is None:
            raise AppwriteError(
                "database_query_order_null",
                f"The order {dialect.column} '{attribute}' had a null value. Cursor pagination requires all "
                f"{dialect.rows} order {dialect.column} values are non-null.",
            )
        ands = [f"{earlier} = ?" for earlier, _, _ in terms[:position]]
        params += [record[earlier] for earlier in range(position)]
        ands.append(f"{sql} > ?" if direction == "ASC" else f"({sql} < ? OR {sql} IS NULL)")
        params.append(value)
        ors.append("(" + " AND ".join(ands) + ")")
    return "(" + " OR ".join(ors) + ")", params


def find(project, auth: Auth, dialect: Dialect, table: Table, raw_queries: object, count: bool) -> dict:
    """listRows: filtered, ordered, paged rows the caller may read, and their total."""
    query_plan = plan(parse_queries(raw_queries))
    access = read_access(table, auth)
    if not access.allowed:
        raise unauthorized("read")
    select = parse_select(table, query_plan.select)
    filters, filter_params = where_clause(table, query_plan.filters)
    connection = project.connection
    base = f"FROM {table.sql_name} WHERE {access.sql} AND {filters}"
    base_params = access.params + filter_params
    total = 0
    if count:
        total = connection.execute(
            f"SELECT COUNT(*) FROM (SELECT 1 {base} LIMIT ?)", [*base_params, MAX_COUNT]
        ).fetchone()[0]
    limit = query_plan.limit if query_plan.limit is not None else DEFAULT_LIMIT
    if query_plan.vector is not None:
        records = nearest_records(project, table, dialect, query_plan, base, base_params, limit)
        return {"total": total, dialect.rows: models_of(project, auth, table, records, dialect, select)}
    random_order = any(query.method == "orderRandom" for query in query_plan.orders)
    terms = order_terms(table, query_plan)
    backwards = query_plan.cursor is not None and query_plan.cursor.method == "cursorBefore"
    if backwards:
        terms = [(sql, "DESC" if direction == "ASC" else "ASC", attribute) for sql, direction, attribute in terms]
    sql, params = f"SELECT {select_sql(table)} {base}", list(base_params)
    if query_plan.cursor is not None:
        condition, values = cursor_condition(connection, table, terms, query_plan, dialect)
        sql += f" AND {condition}"
        params += values
    ordering = ", ".join(f"{term} {direction}" for term, direction, _ in terms)
    sql += f" ORDER BY {'RANDOM()' if random_order else ordering} LIMIT ? OFFSET ?"
    records = connection.execute(sql, [*params, limit, query_plan.skip]).fetchall()
    if backwards:
        records.reverse()
    return {"total": total, dialect.rows: models_of(project, auth, table, records, dialect, select)}


def nearest_records(
    project, table: Table, dialect: Dialect, query_plan: QueryPlan, base: str, params: list, limit: int
) -> list[sqlite3.Row]:
    """The rows of a vector query's page, nearest first, among those `base` selects."""
    if dialect.service != "vectorsDB":
        raise invalid(f"{query_plan.vector.method} is not supported here; vector queries work on vector databases only")
    method, attribute = query_plan.vector.method, query_plan.vector.attribute
    vector = vector_search.query_vector(table, query_plan.vector)
    seqs = vector_search.search(project, table, method, attribute, vector, base, params, query_plan.skip + limit)
    seqs = seqs[query_plan.skip :]
    if not seqs:
        return []
    marks = ", ".join("?" * len(seqs))
    found = project.connection.execute(
        f"SELECT {select_sql(table)} FROM {table.sql_name} WHERE _seq IN ({marks})", seqs
    ).fetchall()
    by_seq = {record["_seq"]: record for record in found}
    return [by_seq[seq] for seq in seqs]


def get(project, auth: Auth, dialect: Dialect, table: Table, row_id: str, raw_queries: object) -> dict:
    query_plan = plan(parse_queries(raw_queries))
    if query_plan.filters or query_plan.orders or query_plan.cursor or query_plan.limit is not None:
        raise invalid(f"only select queries apply when getting one {dialect.row}")
    select = parse_select(table, query_plan.select)
    access = read_access(table, auth)
    record = project.connection.execute(
        f"SELECT {select_sql(table)} FROM {table.sql_name} WHERE _uid = ? AND {access.sql}", [row_id, *access.params]
    ).fetchone()
    if record is None:
        raise row_not_found(dialect, row_id)
    return models_of(project, auth, table, [record], dialect, select)[0]


def prepare(
    project, auth: Auth, dialect: Dialect, table: Table, data: object, existing: sqlite3.Row | None
) -> tuple[dict[Column | str, Any], dict[Column, Any], dict[str, str]]:
    """Check row data: (column values to store, relationship values, timestamp overrides).

    A new row (existing is None) takes defaults for missing values and must have every required
    column; an update only checks the columns it names.
    """
    if not isinstance(data, dict):
        raise structure_error(dialect, f"data must be an object of {dialect.column} keys to values")
    stamps = given_stamps(auth, dialect, data)
    if table.schemaless:
        stored = existing[DATA_COLUMN] if existing is not None else None
        return {DATA: document_data(data, SYSTEM_INPUT, dialect, stored)}, {}, stamps
    creating = existing is None
    columns = {column.key: column for column in table.visible_columns()}
    given = {}
    for key, column in columns.items():
        value = data.get(key, MISSING)
        if creating and (value is MISSING or value is None) and not column.is_relationship:
            value = column.default
        if value is not MISSING:
            given[key] = value
    for key, column in columns.items():
        if column.required and (creating or key in data) and given.get(key) is None:
            raise structure_error(dialect, f'Missing required {dialect.column} "{key}"')
    unknown = [key for key in data if key not in columns and key not in SYSTEM_INPUT]
    if unknown:
        raise structure_error(dialect, f'Unknown {dialect.column}: "{unknown[0]}"')
    values: dict[Column | str, Any] = {}
    links: dict[Column, Any] = {}
    for key, value in given.items():
        column = columns[key]
        if column.is_relationship:
            links[column] = value
        else:
            values[column] = check_value(column, value, dialect)
    return values, links, stamps


def given_stamps(auth: Auth, dialect: Dialect, data: dict) -> dict[str, str]:
    """The $createdAt/$updatedAt a write sets (API keys only)."""
    stamps = {}
    if auth.bypasses_permissions:
        for key in ("$createdAt", "$updatedAt"):
            if data.get(key) is not None:
                stamp = normalize_datetime(data[key]) if isinstance(data[key], str) else None
                if stamp is None:
                    raise structure_error(dialect, f'"{key}" must be an ISO 8601 date-time')
                stamps[key] = stamp
    return stamps


def stored_pairs(project, values: dict) -> list[tuple[str, Any]]:
    """(SQL column, stored value) of the values `prepare` checked."""
    return [
        (DATA_COLUMN, value) if column == DATA else (column.sql_name, encode(column, value, project.cipher))
        for column, value in values.items()
    ]


def check_permissions(raw: object, auth: Auth) -> list[str]:
    pairs = parse_permissions(raw, ROW_ACTIONS)
    check_grantable(pairs, auth)
    return format_permissions(pairs)


def write_permissions(connection: sqlite3.Connection, table: Table, row_seq: int, permissions: list[str]) -> None:
    connection.execute(f"DELETE FROM {table.perms_name} WHERE row = ?", (row_seq,))
    connection.executemany(
        f"INSERT OR IGNORE INTO {table.perms_name} (action, role, row) VALUES (?, ?, ?)",
        [(action, role, row_seq) for action, role in parse_stored(permissions)],
    )


def duplicate_error(dialect: Dialect, error: sqlite3.IntegrityError, row_id: str) -> AppwriteError:
    if "._uid" in str(error):
        message = (
            f"{dialect.title('row')} with the requested ID '{row_id}' already exists. "
            "Try again with a different ID or use unique()."
        )
    else:
        message = f"{dialect.title('row')} with the same values in a unique index already exists."
    return AppwriteError(dialect.error("row", "already_exists"), message)


def insert(
    project, auth: Auth, dialect: Dialect, table: Table, row_id: str, data: object, permissions: object,
    *, quiet: bool = False,
) -> dict:  # fmt: skip
    """Create one row; runs inside the caller's transaction. Announced unless `quiet` (a related row
    written through a relationship is part of the row that names it)."""
    connection = project.connection
    if not may(connection, table, auth, "create"):
        raise unauthorized("create")
    values, links, stamps = prepare(project, auth, dialect, table, data, None)
    stored = check_permissions(permissions, auth) if permissions is not None else default_row_permissions(auth)
    now = now_iso()
    pairs = stored_pairs(project, values)
    columns = ["_uid", "_created", "_updated", "_permissions"] + [name for name, _ in pairs]
    row = [row_id, stamps.get("$createdAt", now), stamps.get("$updatedAt", now), json.dumps(stored)]
    row += [value for _, value in pairs]
    try:
        cursor = connection.execute(
            f"INSERT INTO {table.sql_name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", row
        )
    except sqlite3.IntegrityError as exc:
        raise duplicate_error(dialect, exc, row_id) from None
    write_permissions(connection, table, cursor.lastrowid, stored)
    if links:
        write_links(project, auth, dialect, table, row_id, links, stored)
    project.cache.invalidate(table.seq)
    return announced_row(
        project, auth, dialect, table, "create", model_by_id(project, auth, dialect, table, row_id), quiet
    )


def model_by_id(project, auth: Auth, dialect: Dialect, table: Table, row_id: str) -> dict:
    record = fetch_record(project.connection, table, row_id)
    assert record is not None
    return models_of(project, auth, table, [record], dialect, None)[0]


def changeable_record(
    connection: sqlite3.Connection, table: Table, auth: Auth, dialect: Dialect, row_id: str, action: str,
    since: str | None,
) -> sqlite3.Row:  # fmt: skip
    """The row `auth` may update or delete (`action`): it exists, and did not change after `since` (when a
    transaction staged the change)."""
    record = fetch_record(connection, table, row_id)
    if record is None:
        raise row_not_found(dialect, row_id)
    if since is not None and record["_updated"] > since:
        raise AppwriteError("transaction_conflict", f"{dialect.title('row')} '{row_id}' changed after it was staged.")
    if not may(connection, table, auth, action, record["_seq"]):
        raise unauthorized(action)
    return record


def update(
    project,
    auth: Auth,
    dialect: Dialect,
    table: Table,
    row_id: str,
    data: object,
    permissions: object,
    since: str | None = None,
    *,
    quiet: bool = False,
    action: str = "update",
) -> dict:
    """Change some columns (and optionally the permissions) of one row; runs inside a transaction.
    Announced as `action` unless `quiet`."""
    connection = project.connection
    record = changeable_record(connection, table, auth, dialect, row_id, "update", since)
    data = {} if data is None else data
    if not data and permissions is None:
        raise AppwriteError(dialect.error("row", "missing_payload"), "The request needs data or permissions to update.")
    values, links, stamps = prepare(project, auth, dialect, table, data, record)
    pairs = stored_pairs(project, values)
    assignments = [f"{name} = ?" for name, _ in pairs]
    params = [value for _, value in pairs]
    assignments.append("_updated = ?")
    params.append(stamps.get("$updatedAt", now_iso()))
    if "$createdAt" in stamps:
        assignments.append("_created = ?")
        params.append(stamps["$createdAt"])
    stored = None
    if permissions is not None:
        stored = check_permissions(permissions, auth)
        assignments.append("_permissions = ?")
        params.append(json.dumps(stored))
    try:
        connection.execute(
            f"UPDATE {table.sql_name} SET {', '.join(assignments)} WHERE _seq = ?", [*params, record["_seq"]]
        )
    except sqlite3.IntegrityError as exc:
        raise duplicate_error(dialect, exc, row_id) from None
    if stored is not None:
        write_permissions(connection, table, record["_seq"], stored)
    if links:
        write_links(project, auth, dialect, table, row_id, links, json.loads(record["_permissions"]))
    project.cache.invalidate(table.seq)
    return announced_row(
        project, auth, dialect, table, action, model_by_id(project, auth, dialect, table, row_id), quiet
    )


def upsert(
    project,
    auth: Auth,
    dialect: Dialect,
    table: Table,
    row_id: str,
    data: object,
    permissions: object,
    since: str | None = None,
) -> dict:
    if fetch_record(project.connection, table, row_id) is None:
        model = insert(project, auth, dialect, table, row_id, data if data is not None else {}, permissions, quiet=True)
        return announced_row(project, auth, dialect, table, "upsert", model)
    return update(project, auth, dialect, table, row_id, data or {}, permissions, since, action="upsert")


def delete(
    project, auth: Auth, dialect: Dialect, table: Table, row_id: str, since: str | None = None,
    *, deleting: set | None = None, quiet: bool = False,
) -> dict:  # fmt: skip
    """Delete one row, applying its relationships' onDelete rules; returns the deleted row, announced
    unless `quiet` (rows a cascade deletes).

    `deleting` holds the rows a cascade is already deleting, so a cycle of cascades ends.
    """
    connection = project.connection
    record = changeable_record(connection, table, auth, dialect, row_id, "delete", since)
    snapshot = models_of(project, auth, table, [record], dialect, None)[0]
    deleting = set() if deleting is None else deleting
    deleting.add((table.seq, row_id))
    relationships.before_delete(project, dialect, table, row_id, deleting, delete)
    connection.execute(f"DELETE FROM {table.sql_name} WHERE _seq = ?", (record["_seq"],))
    project.cache.invalidate(table.seq)
    return announced_row(project, auth, dialect, table, "delete", snapshot, quiet)


def change_number(
    project,
    auth: Auth,
    dialect: Dialect,
    table: Table,
    row_id: str,
    key: str,
    value: object,
    bound: object,
    sign: int,
    since: str | None = None,
) -> dict:
    """Atomically add (sign 1) or subtract (sign -1) `value` to a numeric column, within `bound`."""
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        raise invalid_argument("Value must be numeric and greater than 0")
    if table.schemaless:
        return change_field(project, auth, dialect, table, row_id, key, value, bound, sign, since)
    column = table.column(key)
    if column is None:
        raise AppwriteError(
            dialect.error("column", "not_found"),
            f"{dialect.title('column')} with the requested key '{key}' could not be found.",
        )
    if (column.kind not in WHOLE_KINDS and column.kind != "float") or column.array:
        raise AppwriteError("attribute_type_invalid", f'{dialect.title("column")} "{key}" is not a number')
    if column.kind in WHOLE_KINDS and not float(value).is_integer():
        raise invalid_argument(f'Value must be a whole number for integer {dialect.column} "{key}"')
    connection = project.connection
    record = changeable_record(connection, table, auth, dialect, row_id, "update", since)
    amount = int(value) if column.kind in WHOLE_KINDS else float(value)
    current = record[column.sql_name] or 0
    result = current + sign * amount
    limit = column.spec["max"] if sign > 0 else column.spec["min"]
    if bound is not None:
        limit = min(limit, bound) if sign > 0 else max(limit, bound)
    check_limit(dialect, key, result, limit, sign)
    connection.execute(
        f"UPDATE {table.sql_name} SET {column.sql_name} = COALESCE({column.sql_name}, 0) + ?, _updated = ? "
        "WHERE _seq = ?",
        (sign * amount, now_iso(), record["_seq"]),
    )
    return counted(project, auth, dialect, table, row_id)


def change_field(
    project, auth: Auth, dialect: Dialect, table: Table, row_id: str, key: str, value: int | float, bound: object,
    sign: int, since: str | None,
) -> dict:  # fmt: skip
    """`change_number` on a schemaless row: a missing field counts from 0; only `bound` limits the result
    (and the 64-bit range for whole numbers)."""
    if not valid_path(key):
        raise invalid_argument("Invalid `attribute` param: expected a field name or a dotted path of them")
    if bound is not None and (not isinstance(bound, int | float) or isinstance(bound, bool)):
        raise invalid_argument("Invalid bound: expected a number")
    connection = project.connection
    record = changeable_record(connection, table, auth, dialect, row_id, "update", since)
    result = numeric_field(record[DATA_COLUMN], key, dialect) + sign * value
    limit = bound if bound is not None else (INT64_MAX if sign > 0 else INT64_MIN)
    check_limit(dialect, key, result, limit, sign)
    connection.execute(
        f"UPDATE {table.sql_name} SET {DATA_COLUMN} = ?, _updated = ? WHERE _seq = ?",
        (with_field(record[DATA_COLUMN], key, result), now_iso(), record["_seq"]),
    )
    return counted(project, auth, dialect, table, row_id)


def check_limit(dialect: Dialect, key: str, result: int | float, limit: int | float, sign: int) -> None:
    """An increment past `limit` (a decrement below it) is refused."""
    if (sign > 0 and result > limit) or (sign < 0 and result < limit):
        reached = "maximum" if sign > 0 else "minimum"
        raise AppwriteError(
            dialect.error("column", "limit_exceeded"),
            f'{dialect.service} "{key}" has reached the {reached} value of {limit}',
        )


def counted(project, auth: Auth, dialect: Dialect, table: Table, row_id: str) -> dict:
    """The row after an increment or decrement, announced as the counter's update."""
    project.cache.invalidate(table.seq)
    return announced_row(
        project, auth, dialect, table, "update", model_by_id(project, auth, dialect, table, row_id), counter=True
    )


def require_bulk(auth: Auth, dialect: Dialect, table: Table, what: str) -> None:
    if auth.user_id is not None or auth.label in ("user", "guest"):
        raise AppwriteError("general_unauthorized_scope", f"Bulk {what} needs an API key; sessions cannot run it")
    if table.has_relationships():
        raise AppwriteError(
            "general_bad_request",
            f"Bulk {what} is not supported for {dialect.tables} with relationship {dialect.columns}",
        )


def bulk_items(items: object, dialect: Dialect) -> list[dict]:
    if not isinstance(items, list) or not items:
        raise AppwriteError(dialect.error("row", "missing_data"), f"Send at least one {dialect.row} in {dialect.rows}")
    if len(items) > MAX_BULK_ROWS:
        raise invalid_argument(f"Invalid `{dialect.rows}` param: at most {MAX_BULK_ROWS} {dialect.rows} per call")
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise invalid_argument(f"Invalid `{dialect.rows}` param: {dialect.rows}[{position}] must be an object")
    return items


def write_many(project, auth: Auth, dialect: Dialect, table: Table, items: object, action: str) -> list[dict]:
    """Bulk create (action "create") or upsert ("upsert"): each item is one row, with `$id` and `$permissions`."""
    require_bulk(auth, dialect, table, action)
    write = insert if action == "create" else upsert
    return [
        write(
            project,
            auth,
            dialect,
            table,
            resolve_id(item.get("$id", "unique()"), "$id"),
            item,
            item.get("$permissions"),
        )
        for item in bulk_items(items, dialect)
    ]


def matching_ids(project, auth: Auth, table: Table, raw_queries: object) -> list[str]:
    """Ids of every row the queries select (filters only; order, cursor and paging are honoured too)."""
    query_plan = plan(parse_queries(raw_queries))
    filters, params = where_clause(table, query_plan.filters)
    sql = f"SELECT _uid FROM {table.sql_name} WHERE {filters} ORDER BY _seq LIMIT ? OFFSET ?"
    limit = query_plan.limit if query_plan.limit is not None else -1
    return [row[0] for row in project.connection.execute(sql, [*params, limit, query_plan.skip])]


def update_many(project, auth: Auth, dialect: Dialect, table: Table, data: object, raw_queries: object) -> dict:
    require_bulk(auth, dialect, table, "update")
    if not isinstance(data, dict) or not data:
        raise AppwriteError(dialect.error("row", "missing_payload"), "The request needs data to apply to each row.")
    changed = [
        update(project, auth, dialect, table, row_id, data, None)
        for row_id in matching_ids(project, auth, table, raw_queries)
    ]
    return {"total": len(changed), dialect.rows: changed[:LISTED_BULK_ROWS]}


def delete_many(project, auth: Auth, dialect: Dialect, table: Table, raw_queries: object) -> dict:
    require_bulk(auth, dialect, table, "delete")
    deleted = [
        delete(project, auth, dialect, table, row_id) for row_id in matching_ids(project, auth, table, raw_queries)
    ]
    return {"total": len(deleted), dialect.rows: deleted[:LISTED_BULK_ROWS]}


def resolve_targets(
    project, auth: Auth, dialect: Dialect, column: Column, value: Any, inherited: list[str]
) -> list[str]:
    """The related ids a written value names; nested objects are created or updated first."""
    connection = project.connection
    other = related_table(connection, column)
    many = holds_many(column.spec)
    if value is None:
        return []
    items = value if many else [value]
    if not many and isinstance(value, list):
        raise AppwriteError(
            "relationship_value_invalid", f'"{column.key}" links to one {dialect.row}; send an id or object'
        )
    if many and not isinstance(value, list):
        raise AppwriteError("relationship_value_invalid", f'"{column.key}" links to many {dialect.rows}; send an array')
    targets = []
    for item in items:
        if isinstance(item, str):
            if fetch_record(connection, other, item) is None:
                raise AppwriteError(
                    "relationship_value_invalid", f"Related {dialect.row} '{item}' was not found in '{other.id}'"
                )
            targets.append(item)
        elif isinstance(item, dict):
            raw_id = item.get("$id", "unique()")
            if not isinstance(raw_id, str):
                raise AppwriteError("relationship_value_invalid", "Relationship $id must be a string")
            target = resolve_id(raw_id, "$id")
            data = {key: value for key, value in item.items() if not key.startswith("$")}
            permissions = item.get("$permissions", inherited)
            if fetch_record(connection, other, target) is None:
                insert(project, auth, dialect, other, target, data, permissions, quiet=True)
            elif data:
                update(project, auth, dialect, other, target, data, item.get("$permissions"), quiet=True)
            targets.append(target)
        else:
            raise AppwriteError(
                "relationship_value_invalid",
                "Relationship value must be an object, document ID string, or associative array",
            )
    return targets


def write_links(
    project, auth: Auth, dialect: Dialect, table: Table, uid: str, links: dict, permissions: list[str]
) -> None:
    """Link row `uid` as its relationship values say; related rows' caches are dropped."""
    connection = project.connection
    for column, value in links.items():
        targets = resolve_targets(project, auth, dialect, column, value, permissions)
        try:
            set_links(connection, table, column, uid, targets)
        except sqlite3.IntegrityError:
            raise AppwriteError(
                "relationship_value_invalid",
                f'"{column.key}" is one-to-one: the related {dialect.row} is already linked to another {dialect.row}',
            ) from None
        project.cache.invalidate(column.spec["relatedTableSeq"])


def row_label(dialect: Dialect, action: str, root: str = "databases") -> str:
    """The event label of a row change: databases.[databaseId].tables.[tableId].rows.[rowId].create, …"""
    return f"{root}.[databaseId].{dialect.tables}.[{dialect.table_id}].{dialect.rows}.[{dialect.row_id}].{action}"


def announced_row(
    project, auth: Auth, dialect: Dialect, table: Table, action: str, model: dict, quiet: bool = False,
    *, counter: bool = False,
) -> dict:  # fmt: skip
    """Announce one row's change (one event per row, however many a call writes); the row. An increment
    or decrement (`counter`) is named under the dialect's counter event root."""
    if not quiet:
        ids = {"databaseId": table.database_id, dialect.table_id: table.id, dialect.row_id: model["$id"]}
        # Values of encrypted columns, here or in related rows, stay sealed in the event stream too.
        sealed = any(column.encrypted or column.is_relationship for column in table.columns)
        label = row_label(dialect, action, dialect.counter_event_root if counter else "databases")
        announce(project, auth, label, ids, model, row_readers(table, model), sealed)
    return model
