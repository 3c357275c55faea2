"""Transactions: row writes staged under a transaction id, then committed all-or-nothing.

A write carrying `transactionId` (or an entry of createOperations) is staged, not applied. Staging
checks it by replaying the transaction so far plus the new operation inside a savepoint that is then
rolled back, so a write that would fail is refused when it is staged, and the response shows the
row as it would be. Reads with `transactionId` see the staged changes the same way. Committing
replays every operation in order inside one SQLite transaction: all apply or none. A row changed
by someone else after an operation on it was staged makes the commit fail with transaction_conflict.
Transactions expire after their ttl (default 300 s, 60 to 3600). Staged operations are kept sealed with
the project's cipher, as they may hold values of encrypted columns.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from ..datetimes import format_datetime, now_iso
from ..errors import AppwriteError, invalid_argument
from ..ids import new_id
from ..listing import list_models
from ..permissions import Auth
from ..registry import Call, handles
from .dialects import DIALECTS, Dialect
from .row_operations import change_number, delete, delete_many, insert, update, update_many, upsert, write_many
from .row_records import open_table

DEFAULT_TTL, MIN_TTL, MAX_TTL = 300, 60, 3600
MAX_OPERATIONS = 100
ROW_ACTIONS = ("create", "update", "upsert", "delete", "increment", "decrement")
BULK_ACTIONS = ("bulkCreate", "bulkUpdate", "bulkUpsert", "bulkDelete")


def transaction_model(record: sqlite3.Row, operations: int) -> dict:
    return {
        "$id": record["id"],
        "$createdAt": record["created"],
        "$updatedAt": record["updated"],
        "status": record["status"],
        "operations": operations,
        "expiresAt": record["expires"],
    }


def not_found(transaction_id: str) -> AppwriteError:
    return AppwriteError(
        "transaction_not_found", f"Transaction with the requested ID '{transaction_id}' could not be found."
    )


def load(connection: sqlite3.Connection, transaction_id: str, auth: Auth) -> sqlite3.Row:
    record = connection.execute("SELECT * FROM _transactions WHERE id = ?", (transaction_id,)).fetchone()
    if record is None or (
        record["owner"] is not None and record["owner"] != auth.user_id and not auth.bypasses_permissions
    ):
        raise not_found(transaction_id)
    return record


def pending(connection: sqlite3.Connection, transaction_id: str, auth: Auth) -> sqlite3.Row:
    """The transaction, if operations may still be staged on it or it may still be committed."""
    record = load(connection, transaction_id, auth)
    if record["status"] != "pending":
        raise AppwriteError(
            "transaction_not_ready", f"Transaction '{transaction_id}' is {record['status']}, not pending."
        )
    if record["expires"] < now_iso():
        raise AppwriteError("transaction_expired", f"Transaction '{transaction_id}' expired at {record['expires']}.")
    return record


def staged(project, connection: sqlite3.Connection, transaction_seq: int) -> list[dict]:
    """The operations staged on a transaction, in order (unsealed: staged values may be of encrypted columns)."""
    rows = connection.execute(
        "SELECT operation FROM _transaction_operations WHERE transaction_seq = ? ORDER BY position", (transaction_seq,)
    )
    return [json.loads(project.cipher.unseal(row[0])) for row in rows]


def count(connection: sqlite3.Connection, transaction_seq: int) -> int:
    return connection.execute(
        "SELECT COUNT(*) FROM _transaction_operations WHERE transaction_seq = ?", (transaction_seq,)
    ).fetchone()[0]


def auth_record(auth: Auth) -> dict:
    """Who staged an operation, kept with it so it applies with their rights whoever commits."""
    scopes = None if auth.scopes is None else sorted(auth.scopes)
    roles = None if auth.roles is None else sorted(auth.roles)
    return {"scopes": scopes, "roles": roles, "user": auth.user_id, "label": auth.label}


def auth_of(record: dict) -> Auth:
    scopes, roles = record["scopes"], record["roles"]
    return Auth(
        scopes=None if scopes is None else frozenset(scopes),
        roles=None if roles is None else frozenset(roles),
        user_id=record["user"],
        label=record["label"],
    )


def apply(project, operation: dict, touched: set | None = None) -> Any:
    """Carry out one staged operation, with the rights of whoever staged it, through the same row
    functions a direct call uses.

    With `touched` (during a commit), a row not yet changed by this transaction must not have been
    changed by anyone else since the operation was staged.
    """
    dialect = DIALECTS[operation["service"]]
    auth = auth_of(operation["auth"])
    table = open_table(project, auth, dialect, operation["databaseId"], operation["tableId"])
    action, row_id, data = operation["action"], operation.get("rowId"), operation.get("data")
    since = None
    if touched is not None and action in ("update", "upsert", "delete", "increment", "decrement"):
        since = None if (table.seq, row_id) in touched else operation["staged"]
        touched.add((table.seq, row_id))
    if action == "create":
        if touched is not None:
            touched.add((table.seq, row_id))
        return insert(project, auth, dialect, table, row_id, data, operation.get("permissions"))
    if action == "update":
        return update(project, auth, dialect, table, row_id, data, operation.get("permissions"), since)
    if action == "upsert":
        return upsert(project, auth, dialect, table, row_id, data, operation.get("permissions"), since)
    if action == "delete":
        return delete(project, auth, dialect, table, row_id, since)
    if action in ("increment", "decrement"):
        sign = 1 if action == "increment" else -1
        bound = data.get("max" if sign > 0 else "min")
        key = data.get("column", data.get("attribute"))
        return change_number(project, auth, dialect, table, row_id, key, data.get("value", 1), bound, sign, since)
    if action in ("bulkCreate", "bulkUpsert"):
        return write_many(project, auth, dialect, table, data, "create" if action == "bulkCreate" else "upsert")
    if action == "bulkUpdate":
        return update_many(project, auth, dialect, table, data.get("data"), data.get("queries"))
    return delete_many(project, auth, dialect, table, data.get("queries"))


def replay(project, operations: list[dict], touched: set | None = None) -> list[Any]:
    return [apply(project, operation, touched) for operation in operations]


def replay_what_applies(project, operations: list[dict]) -> None:
    """Apply staged operations for a preview, skipping any that no longer apply (a row deleted
    outside the transaction, say): those fail when the transaction commits."""
    for operation in operations:
        try:
            with project.db.transaction():
                apply(project, operation)
        except AppwriteError:
            continue


def preview(call: Call, read: Callable[[], Any]) -> Any:
    """A read as it would be once the transaction commits (its changes are undone afterwards).

    A transaction that is no longer pending (committed, rolled back or expired) has nothing left
    to show: the read sees the stored rows.
    """
    connection = call.project.connection
    record = load(connection, call.params["transactionId"], call.auth)
    if record["status"] != "pending" or record["expires"] < now_iso():
        return read()
    with call.project.db.rolled_back():
        replay_what_applies(call.project, staged(call.project, connection, record["seq"]))
        return read()


def new_operation(action: str, dialect: Dialect, database_id: str, table_id: str, auth: Auth) -> dict:
    """A staged operation's header: what, where (in tablesDB names), when, and by whom."""
    return {
        "action": action,
        "service": dialect.service,
        "databaseId": database_id,
        "tableId": table_id,
        "staged": now_iso(),
        "auth": auth_record(auth),
    }


def operation_from_call(call: Call, action: str) -> dict:
    """The staged form of a write call: tablesDB names, with the service to replay it through."""
    params, dialect = call.params, call.dialect
    operation = new_operation(action, dialect, params["databaseId"], params[dialect.table_id], call.auth)
    if action in ROW_ACTIONS:
        operation["rowId"] = params[dialect.row_id]
    if action in ("create", "update", "upsert"):
        operation["data"] = params.get("data") or {}
        if params.get("permissions") is not None:
            operation["permissions"] = params["permissions"]
    elif action in ("increment", "decrement"):
        key = "column" if dialect.service == "tablesDB" else "attribute"
        bound = "max" if action == "increment" else "min"
        operation["data"] = {"column": params[key], "value": params.get("value", 1), bound: params.get(bound)}
    elif action in ("bulkCreate", "bulkUpsert"):
        operation["data"] = params[dialect.rows]
    elif action == "bulkUpdate":
        operation["data"] = {"data": params.get("data"), "queries": params.get("queries") or []}
    elif action == "bulkDelete":
        operation["data"] = {"queries": params.get("queries") or []}
    return operation


def stage(project, auth: Auth, transaction_id: str, operations: list[dict]) -> list[Any]:
    """Append operations to a pending transaction after checking that they would apply."""
    with project.db.transaction() as connection:
        record = pending(connection, transaction_id, auth)
        existing = staged(project, connection, record["seq"])
        if len(existing) + len(operations) > MAX_OPERATIONS:
            raise AppwriteError(
                "transaction_limit_exceeded",
                f"Transaction already has {len(existing)} operations, adding {len(operations)} would exceed the "
                f"maximum of {MAX_OPERATIONS}",
            )
        with project.db.rolled_back():
            replay_what_applies(project, existing)
            results = replay(project, operations)
        connection.executemany(
            "INSERT INTO _transaction_operations (transaction_seq, position, operation) VALUES (?, ?, ?)",
            [
                (record["seq"], len(existing) + i, project.cipher.encrypt(json.dumps(op)))
                for i, op in enumerate(operations)
            ],
        )
        connection.execute("UPDATE _transactions SET updated = ? WHERE seq = ?", (now_iso(), record["seq"]))
    return results


def stage_call(call: Call, action: str) -> Any:
    """Stage a write call; respond with the row as the transaction would leave it."""
    result = stage(call.project, call.auth, call.params["transactionId"], [operation_from_call(call, action)])[0]
    if action in ("bulkCreate", "bulkUpsert"):
        return {"total": len(result), call.dialect.rows: result}
    return None if action == "delete" else result


def check_operation(item: object, position: int, dialect: Dialect, auth: Auth) -> dict:
    """One entry of createOperations, checked and put in staged form."""
    where = f"Invalid `operations` param: operations[{position}]"
    if not isinstance(item, dict):
        raise invalid_argument(f"{where} must be an object")
    for key in ("action", "databaseId", dialect.table_id):
        if not isinstance(item.get(key), str) or not item[key]:
            raise invalid_argument(f"{where}: Missing required key: {key}")
    action = item["action"]
    if action not in ROW_ACTIONS + BULK_ACTIONS:
        raise invalid_argument(f"{where}: Key 'action' must be one of: {', '.join(ROW_ACTIONS + BULK_ACTIONS)}")
    if action in BULK_ACTIONS and not auth.bypasses_permissions:
        raise AppwriteError("user_unauthorized", "Only API keys may stage bulk operations.")
    operation = new_operation(action, dialect, item["databaseId"], item[dialect.table_id], auth)
    if action in ROW_ACTIONS:
        row_id = item.get(dialect.row_id)
        if not isinstance(row_id, str) or not row_id:
            raise invalid_argument(f"{where}: Key '{dialect.row_id}' is required for action '{action}'")
        operation["rowId"] = row_id
    data = item.get("data")
    if action != "delete":
        if not isinstance(data, dict | list):
            raise invalid_argument(f"{where}: Key 'data' is required for action '{action}'")
        if action in ("increment", "decrement") and not (
            isinstance(data, dict) and (data.get("column") or data.get("attribute"))
        ):
            raise invalid_argument(f"{where}: Key 'column' is required in data for {action}")
        if action in ("bulkUpdate", "bulkDelete") and not (isinstance(data, dict) and "queries" in data):
            raise invalid_argument(f"{where}: Key 'queries' is required in data for {action}")
        operation["data"] = data
    if item.get("permissions") is not None:
        operation["permissions"] = item["permissions"]
    return operation


@handles(
    "tablesDB.createTransaction",
    "databases.createTransaction",
    "documentsDB.createTransaction",
    "vectorsDB.createTransaction",
)
def create_transaction(call: Call) -> dict:
    ttl = call.params.get("ttl", DEFAULT_TTL)
    if not isinstance(ttl, int) or not MIN_TTL <= ttl <= MAX_TTL:
        raise invalid_argument(f"Invalid `ttl` param: Value must be a valid range between {MIN_TTL} and {MAX_TTL:,}")
    now = datetime.now(UTC)
    with call.project.db.transaction() as connection:
        connection.execute(
            "INSERT INTO _transactions (id, owner, status, created, updated, expires) "
            "VALUES (?, ?, 'pending', ?, ?, ?)",
            (
                new_id(),
                call.auth.user_id,
                format_datetime(now),
                format_datetime(now),
                format_datetime(now + timedelta(seconds=ttl)),
            ),
        )
        record = connection.execute("SELECT * FROM _transactions WHERE seq = last_insert_rowid()").fetchone()
    return transaction_model(record, 0)


@handles(
    "tablesDB.getTransaction",
    "databases.getTransaction",
    "documentsDB.getTransaction",
    "vectorsDB.getTransaction",
)
def get_transaction(call: Call) -> dict:
    record = load(call.project.connection, call.params["transactionId"], call.auth)
    return transaction_model(record, count(call.project.connection, record["seq"]))


@handles(
    "tablesDB.listTransactions",
    "databases.listTransactions",
    "documentsDB.listTransactions",
    "vectorsDB.listTransactions",
)
def list_transactions(call: Call) -> dict:
    connection = call.project.connection
    models = [
        transaction_model(record, count(connection, record["seq"]))
        for record in connection.execute("SELECT * FROM _transactions ORDER BY seq")
        if record["owner"] is None or record["owner"] == call.auth.user_id or call.auth.bypasses_permissions
    ]
    total, page = list_models(
        models, call.params.get("queries"), {"status", "operations", "expiresAt"}, noun="transaction"
    )
    return {"total": total, "transactions": page}


@handles(
    "tablesDB.createOperations",
    "databases.createOperations",
    "documentsDB.createOperations",
    "vectorsDB.createOperations",
)
def create_operations(call: Call) -> dict:
    items = call.params.get("operations") or []
    if not items:
        raise AppwriteError("general_bad_request", "Operations array cannot be empty")
    operations = [check_operation(item, i, call.dialect, call.auth) for i, item in enumerate(items)]
    stage(call.project, call.auth, call.params["transactionId"], operations)
    return get_transaction(call)


@handles(
    "tablesDB.updateTransaction",
    "databases.updateTransaction",
    "documentsDB.updateTransaction",
    "vectorsDB.updateTransaction",
)
def update_transaction(call: Call) -> dict:
    commit, rollback = bool(call.params.get("commit")), bool(call.params.get("rollback"))
    if commit == rollback:
        message = "Cannot commit and rollback at the same time" if commit else "Either commit or rollback must be true"
        raise AppwriteError("general_bad_request", message)
    project, failure = call.project, None
    with project.db.transaction() as connection:
        record = pending(connection, call.params["transactionId"], call.auth)
        status = "failed"
        if commit:
            try:
                with project.db.transaction():
                    replay(project, staged(project, connection, record["seq"]), touched=set())
                status = "committed"
            except AppwriteError as exc:
                failure = exc
        connection.execute(
            "UPDATE _transactions SET status = ?, updated = ? WHERE seq = ?", (status, now_iso(), record["seq"])
        )
    if failure is not None:
        if failure.type not in ("transaction_conflict",) and failure.code == 409:
            failure = AppwriteError("transaction_conflict", failure.message)
        call.failure = failure
        return None
    return get_transaction(call)


@handles(
    "tablesDB.deleteTransaction",
    "databases.deleteTransaction",
    "documentsDB.deleteTransaction",
    "vectorsDB.deleteTransaction",
)
def delete_transaction(call: Call) -> None:
    with call.project.db.transaction() as connection:
        record = load(connection, call.params["transactionId"], call.auth)
        connection.execute("DELETE FROM _transaction_operations WHERE transaction_seq = ?", (record["seq"],))
        connection.execute("DELETE FROM _transactions WHERE seq = ?", (record["seq"],))
