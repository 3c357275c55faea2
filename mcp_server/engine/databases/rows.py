"""Handlers of the row operations (tablesDB rows, legacy documents): list, get, and every write,
directly or staged in a transaction. The work is done by row_operations.py.
"""

from __future__ import annotations

import json
from typing import Any

from ..datetimes import normalize_datetime
from ..errors import AppwriteError, invalid_argument
from ..ids import resolve_id, validate_id
from ..registry import Call, handles
from . import relationships, transactions
from .row_operations import (
    change_number,
    delete,
    delete_many,
    find,
    get,
    insert,
    update,
    update_many,
    upsert,
    write_many,
)
from .row_records import fetch_record, open_table
from .schema import Table


def table_of(call: Call) -> Table:
    return open_table(
        call.project, call.auth, call.dialect, call.params["databaseId"], call.params[call.dialect.table_id]
    )


def cache_key(call: Call, table: Table) -> tuple:
    roles = "*" if call.auth.bypasses_permissions else ",".join(sorted(call.auth.roles or ()))
    return (table.seq, call.dialect.service, json.dumps(call.params.get("queries")), call.params.get("total"), roles)


@handles("tablesDB.listRows", "databases.listDocuments", "documentsDB.listDocuments", "vectorsDB.listDocuments")
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
    ttl = call.params.get("ttl") or 0
    # Kept for the caller's ttl (Appwrite 1.9), fresh or not; a new schema (epoch) makes a new key.
    kept_key = (*key, call.project.epoch()) if ttl else None
    if kept_key is not None:
        kept = call.project.kept.get(kept_key, ttl)
        if kept is not None:
            return json.loads(kept)
    cached = call.project.cached(key)
    if cached is not None:
        result = json.loads(cached)
    else:
        result = find(
            call.project, call.auth, call.dialect, table, call.params.get("queries"), call.params.get("total", True)
        )
        cached = json.dumps(result)
        call.project.remember(key, cached, relationships.reachable(call.project.connection, table))
    if kept_key is not None:
        call.project.kept.put(kept_key, cached)
    return result


@handles("tablesDB.getRow", "databases.getDocument", "documentsDB.getDocument", "vectorsDB.getDocument")
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


@handles("tablesDB.createRow", "databases.createDocument", "documentsDB.createDocument", "vectorsDB.createDocument")
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


@handles("tablesDB.createRows", "databases.createDocuments", "documentsDB.createDocuments", "vectorsDB.createDocuments")
def create_rows(call: Call) -> dict:
    table = table_of(call)
    items = call.params[call.dialect.rows]
    if call.params.get("transactionId"):
        return transactions.stage_call(call, "bulkCreate")
    with call.project.db.transaction():
        created = write_many(call.project, call.auth, call.dialect, table, items, "create")
    return {"total": len(created), call.dialect.rows: created}


@handles("tablesDB.upsertRows", "databases.upsertDocuments", "documentsDB.upsertDocuments", "vectorsDB.upsertDocuments")
def upsert_rows(call: Call) -> dict:
    table = table_of(call)
    if call.params.get("transactionId"):
        return transactions.stage_call(call, "bulkUpsert")
    with call.project.db.transaction():
        done = write_many(call.project, call.auth, call.dialect, table, call.params[call.dialect.rows], "upsert")
    return {"total": len(done), call.dialect.rows: done}


@handles("tablesDB.updateRows", "databases.updateDocuments", "documentsDB.updateDocuments", "vectorsDB.updateDocuments")
def update_rows(call: Call) -> dict:
    table = table_of(call)
    return run_write(
        call,
        "bulkUpdate",
        lambda: update_many(
            call.project, call.auth, call.dialect, table, call.params.get("data"), call.params.get("queries")
        ),
    )


@handles("tablesDB.deleteRows", "databases.deleteDocuments", "documentsDB.deleteDocuments", "vectorsDB.deleteDocuments")
def delete_rows(call: Call) -> dict:
    table = table_of(call)
    return run_write(
        call,
        "bulkDelete",
        lambda: delete_many(call.project, call.auth, call.dialect, table, call.params.get("queries")),
    )


@handles("tablesDB.updateRow", "databases.updateDocument", "documentsDB.updateDocument", "vectorsDB.updateDocument")
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


@handles("tablesDB.upsertRow", "databases.upsertDocument", "documentsDB.upsertDocument", "vectorsDB.upsertDocument")
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


@handles(
    "tablesDB.deleteRow",
    "databases.deleteDocument",
    "documentsDB.deleteDocument",
    "vectorsDB.deleteDocument",
    announces=True,
)
def delete_row(call: Call) -> None:
    table = table_of(call)
    row_id = call.params[call.dialect.row_id]
    run_write(call, "delete", lambda: delete(call.project, call.auth, call.dialect, table, row_id), (table, row_id))


@handles(
    "tablesDB.incrementRowColumn", "databases.incrementDocumentAttribute", "documentsDB.incrementDocumentAttribute"
)
def increment(call: Call) -> dict:
    return change_number_call(call, "increment", 1)


@handles(
    "tablesDB.decrementRowColumn", "databases.decrementDocumentAttribute", "documentsDB.decrementDocumentAttribute"
)
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
