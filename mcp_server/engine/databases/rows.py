"""Rows (documents): reading with permissions applied in SQL, and every kind of write.

Row operations are plain functions over (project, auth, dialect, table, ...) that run inside the
caller's SQLite transaction; handlers wrap them, and committing a transaction replays staged
operations through the same functions. A caller without the table's read permission sees only rows
whose own permissions let it read them (when row security is on); API keys see every row.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from ..datetimes import normalize_datetime, now_iso
from ..errors import AppwriteError, invalid_argument
from ..ids import resolve_id, validate_id
from ..permissions import (
    ROW_ACTIONS,
    Auth,
    check_grantable,
    default_row_permissions,
    format_permissions,
    granted,
    parse_permissions,
    parse_stored,
)
from ..queries import DEFAULT_LIMIT, QueryPlan, invalid, parse_queries, plan
from ..registry import Call, handles
from . import relationships, transactions
from .column_types import Column, check_value, decode, encode, structure_error
from .dialects import Dialect
from .query_sql import resolve, where_clause
from .schema import Table

MAX_COUNT = 5000
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
    table = project.table(database_id, table_id, dialect)
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
    return ", ".join(names)


def fetch_record(connection: sqlite3.Connection, table: Table, row_id: str) -> sqlite3.Row | None:
    return connection.execute(f"SELECT {select_sql(table)} FROM {table.sql_name} WHERE _uid = ?", (row_id,)).fetchone()


def row_model(project, table: Table, record: sqlite3.Row, dialect: Dialect, select: set[str] | None = None) -> dict:
    """A stored row as the API returns it (relationship columns are filled in by `relationships.attach`)."""
    model: dict[str, Any] = {
        "$id": record["_uid"],
        "$sequence": record["_seq"],
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
    return model


def models_of(
    project, auth: Auth, table: Table, records: list, dialect: Dialect, select: list[str] | None
) -> list[dict]:
    own = None if select is None or "*" in select else {key for key in select if "." not in key}
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
        target = resolve(table, query.attribute)
        if target.array or (
            target.column is not None and (target.column.is_relationship or target.column.type.spatial)
        ):
            raise invalid(f"Cannot order by attribute {query.attribute!r}")
        terms.append((target.sql, "ASC" if query.method == "orderAsc" else "DESC", query.attribute))
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
    record = connection.execute(f"SELECT * FROM {table.sql_name} WHERE _uid = ?", (cursor_id,)).fetchone()
    if record is None:
        raise AppwriteError(
            "general_cursor_not_found", f"{dialect.title('row')} '{cursor_id}' for the 'cursor' value not found."
        )
    ors, params = [], []
    for position, (sql, direction, attribute) in enumerate(terms):
        value = record[sql]
        if value is None:
            raise AppwriteError(
                "database_query_order_null",
                f"The order {dialect.column} '{attribute}' had a null value. Cursor pagination requires all "
                f"{dialect.rows} order {dialect.column} values are non-null.",
            )
        ands = [f"{earlier} = ?" for earlier, _, _ in terms[:position]]
        params += [record[earlier] for earlier, _, _ in terms[:position]]
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
) -> tuple[dict[Column, Any], dict[Column, Any], dict[str, str]]:
    """Check row data: (column values to store, relationship values, timestamp overrides).

    A new row (existing is None) takes defaults for missing values and must have every required
    column; an update only checks the columns it names.
    """
    if not isinstance(data, dict):
        raise structure_error(dialect, f"data must be an object of {dialect.column} keys to values")
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
    values: dict[Column, Any] = {}
    links: dict[Column, Any] = {}
    for key, value in given.items():
        column = columns[key]
        if column.is_relationship:
            links[column] = value
        else:
            values[column] = check_value(column, value, dialect)
    stamps = {}
    if auth.bypasses_permissions:
        for key in ("$createdAt", "$updatedAt"):
            if data.get(key) is not None:
                stamp = normalize_datetime(data[key]) if isinstance(data[key], str) else None
                if stamp is None:
                    raise structure_error(dialect, f'"{key}" must be an ISO 8601 date-time')
                stamps[key] = stamp
    return values, links, stamps


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


def insert(project, auth: Auth, dialect: Dialect, table: Table, row_id: str, data: object, permissions: object) -> dict:
    """Create one row; runs inside the caller's transaction."""
    connection = project.connection
    if not may(connection, table, auth, "create"):
        raise unauthorized("create")
    values, links, stamps = prepare(project, auth, dialect, table, data, None)
    stored = check_permissions(permissions, auth) if permissions is not None else default_row_permissions(auth)
    now = now_iso()
    columns = ["_uid", "_created", "_updated", "_permissions"] + [column.sql_name for column in values]
    row = [row_id, stamps.get("$createdAt", now), stamps.get("$updatedAt", now), json.dumps(stored)]
    row += [encode(column, value, project.cipher) for column, value in values.items()]
    try:
        cursor = connection.execute(
            f"INSERT INTO {table.sql_name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", row
        )
    except sqlite3.IntegrityError as exc:
        raise duplicate_error(dialect, exc, row_id) from None
    write_permissions(connection, table, cursor.lastrowid, stored)
    if links:
        relationships.write(project, auth, dialect, table, row_id, links, stored)
    project.cache.invalidate(table.seq)
    return model_by_id(project, auth, dialect, table, row_id)


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
) -> dict:
    """Change some columns (and optionally the permissions) of one row; runs inside a transaction."""
    connection = project.connection
    record = changeable_record(connection, table, auth, dialect, row_id, "update", since)
    data = {} if data is None else data
    if not data and permissions is None:
        raise AppwriteError(dialect.error("row", "missing_payload"), "The request needs data or permissions to update.")
    values, links, stamps = prepare(project, auth, dialect, table, data, record)
    assignments = [f"{column.sql_name} = ?" for column in values]
    params = [encode(column, value, project.cipher) for column, value in values.items()]
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
        relationships.write(project, auth, dialect, table, row_id, links, json.loads(record["_permissions"]))
    project.cache.invalidate(table.seq)
    return model_by_id(project, auth, dialect, table, row_id)


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
        return insert(project, auth, dialect, table, row_id, data if data is not None else {}, permissions)
    return update(project, auth, dialect, table, row_id, data or {}, permissions, since)


def delete(
    project, auth: Auth, dialect: Dialect, table: Table, row_id: str, since: str | None = None,
    *, deleting: set | None = None,
) -> dict:  # fmt: skip
    """Delete one row, applying its relationships' onDelete rules; returns the deleted row.

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
    return snapshot


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
    column = table.column(key)
    if column is None:
        raise AppwriteError(
            dialect.error("column", "not_found"),
            f"{dialect.title('column')} with the requested key '{key}' could not be found.",
        )
    if column.kind not in ("integer", "float") or column.array:
        raise AppwriteError("attribute_type_invalid", f'{dialect.title("column")} "{key}" is not a number')
    if column.kind == "integer" and not float(value).is_integer():
        raise invalid_argument(f'Value must be a whole number for integer {dialect.column} "{key}"')
    connection = project.connection
    record = changeable_record(connection, table, auth, dialect, row_id, "update", since)
    amount = int(value) if column.kind == "integer" else float(value)
    current = record[column.sql_name] or 0
    result = current + sign * amount
    limit = column.spec["max"] if sign > 0 else column.spec["min"]
    if bound is not None:
        limit = min(limit, bound) if sign > 0 else max(limit, bound)
    if (sign > 0 and result > limit) or (sign < 0 and result < limit):
        reached = "maximum" if sign > 0 else "minimum"
        raise AppwriteError(
            dialect.error("column", "limit_exceeded"),
            f'{dialect.service} "{key}" has reached the {reached} value of {limit}',
        )
    connection.execute(
        f"UPDATE {table.sql_name} SET {column.sql_name} = COALESCE({column.sql_name}, 0) + ?, _updated = ? "
        "WHERE _seq = ?",
        (sign * amount, now_iso(), record["_seq"]),
    )
    project.cache.invalidate(table.seq)
    return model_by_id(project, auth, dialect, table, row_id)


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


def table_of(call: Call) -> Table:
    return open_table(
        call.project, call.auth, call.dialect, call.params["databaseId"], call.params[call.dialect.table_id]
    )


def cache_key(call: Call, table: Table) -> tuple:
    roles = "*" if call.auth.bypasses_permissions else ",".join(sorted(call.auth.roles or ()))
    return (table.seq, call.dialect.service, json.dumps(call.params.get("queries")), call.params.get("total"), roles)


@handles("tablesDB.listRows", "databases.listDocuments")
def list_rows(call: Call) -> dict:
    table = table_of(call)
    if call.params.get("transactionId"):
        return transactions.preview(
            call,
            lambda: find(
                call.project, call.auth, call.dialect, table, call.params.get("queries"), call.params.get("total", True)
            ),
        )
    key = cache_key(call, table)
    cached = call.project.cached(key)
    if cached is not None:
        return json.loads(cached)
    result = find(
        call.project, call.auth, call.dialect, table, call.params.get("queries"), call.params.get("total", True)
    )
    call.project.remember(key, json.dumps(result), relationships.reachable(call.project.connection, table))
    return result


@handles("tablesDB.getRow", "databases.getDocument")
def get_row(call: Call) -> dict:
    table = table_of(call)
    row_id = call.params[call.dialect.row_id]
    if call.params.get("transactionId"):
        return transactions.preview(
            call, lambda: get(call.project, call.auth, call.dialect, table, row_id, call.params.get("queries"))
        )
    return get(call.project, call.auth, call.dialect, table, row_id, call.params.get("queries"))


def run_write(call: Call, action: str, run, row: tuple[Table, str] | None = None) -> Any:
    """Stage the write in the caller's transaction when transactionId is given, else apply it now.

    `row` (table, id) names the one row the write changes, for the request-timestamp check.
    """
    if call.params.get("transactionId"):
        return transactions.stage_call(call, action)
    with call.project.db.transaction():
        if row is not None and call.request_timestamp is not None:
            refuse_if_newer(call, *row)
        return run()


def refuse_if_newer(call: Call, table: Table, row_id: str) -> None:
    """The client last saw the row at `request_timestamp`; a row changed since then is not touched."""
    moment = normalize_datetime(call.request_timestamp)
    if moment is None:
        raise invalid_argument(f"Invalid X-Appwrite-Timestamp {call.request_timestamp!r}: expected an ISO 8601 time")
    record = fetch_record(call.project.connection, table, row_id)
    if record is not None and record["_updated"] > moment:
        raise AppwriteError(
            call.dialect.error("row", "update_conflict"), f"Remote {call.dialect.row} is newer than local.", 409
        )


@handles("tablesDB.createRow", "databases.createDocument")
def create_row(call: Call) -> dict:
    params, dialect = call.params, call.dialect
    table = table_of(call)
    row_id = resolve_id(params[dialect.row_id], dialect.row_id)
    call.params[dialect.row_id] = row_id
    return run_write(
        call,
        "create",
        lambda: insert(call.project, call.auth, dialect, table, row_id, params["data"], params.get("permissions")),
    )


@handles("tablesDB.createRows", "databases.createDocuments")
def create_rows(call: Call) -> dict:
    table = table_of(call)
    items = call.params[call.dialect.rows]
    if call.params.get("transactionId"):
        return transactions.stage_call(call, "bulkCreate")
    with call.project.db.transaction():
        created = write_many(call.project, call.auth, call.dialect, table, items, "create")
    return {"total": len(created), call.dialect.rows: created}


@handles("tablesDB.upsertRows", "databases.upsertDocuments")
def upsert_rows(call: Call) -> dict:
    table = table_of(call)
    if call.params.get("transactionId"):
        return transactions.stage_call(call, "bulkUpsert")
    with call.project.db.transaction():
        done = write_many(call.project, call.auth, call.dialect, table, call.params[call.dialect.rows], "upsert")
    return {"total": len(done), call.dialect.rows: done}


@handles("tablesDB.updateRows", "databases.updateDocuments")
def update_rows(call: Call) -> dict:
    table = table_of(call)
    return run_write(
        call,
        "bulkUpdate",
        lambda: update_many(
            call.project, call.auth, call.dialect, table, call.params.get("data"), call.params.get("queries")
        ),
    )


@handles("tablesDB.deleteRows", "databases.deleteDocuments")
def delete_rows(call: Call) -> dict:
    table = table_of(call)
    return run_write(
        call,
        "bulkDelete",
        lambda: delete_many(call.project, call.auth, call.dialect, table, call.params.get("queries")),
    )


@handles("tablesDB.updateRow", "databases.updateDocument")
def update_row(call: Call) -> dict:
    params, dialect = call.params, call.dialect
    table = table_of(call)
    validate_id(params[dialect.row_id], dialect.row_id)
    return run_write(
        call,
        "update",
        lambda: update(
            call.project,
            call.auth,
            dialect,
            table,
            params[dialect.row_id],
            params.get("data"),
            params.get("permissions"),
        ),
        (table, params[dialect.row_id]),
    )


@handles("tablesDB.upsertRow", "databases.upsertDocument")
def upsert_row(call: Call) -> dict:
    params, dialect = call.params, call.dialect
    table = table_of(call)
    row_id = resolve_id(params[dialect.row_id], dialect.row_id)
    call.params[dialect.row_id] = row_id
    return run_write(
        call,
        "upsert",
        lambda: upsert(call.project, call.auth, dialect, table, row_id, params.get("data"), params.get("permissions")),
        (table, row_id),
    )


@handles("tablesDB.deleteRow", "databases.deleteDocument")
def delete_row(call: Call) -> None:
    table = table_of(call)
    row_id = call.params[call.dialect.row_id]
    run_write(call, "delete", lambda: delete(call.project, call.auth, call.dialect, table, row_id), (table, row_id))


@handles("tablesDB.incrementRowColumn", "databases.incrementDocumentAttribute")
def increment(call: Call) -> dict:
    return change_number_call(call, "increment", 1)


@handles("tablesDB.decrementRowColumn", "databases.decrementDocumentAttribute")
def decrement(call: Call) -> dict:
    return change_number_call(call, "decrement", -1)


def change_number_call(call: Call, action: str, sign: int) -> dict:
    params, dialect = call.params, call.dialect
    table = table_of(call)
    key = params["column" if dialect.service == "tablesDB" else "attribute"]
    bound = params.get("max" if sign > 0 else "min")
    return run_write(
        call,
        action,
        lambda: change_number(
            call.project, call.auth, dialect, table, params[dialect.row_id], key, params.get("value", 1), bound, sign
        ),
        (table, params[dialect.row_id]),
    )
