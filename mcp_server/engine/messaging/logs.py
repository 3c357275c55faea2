"""What was done to a messaging resource, as Appwrite's audit keeps it by resource (`provider/<id>`, `topic/<id>`,
`message/<id>`): recorded with each change, and the page of it the `list…Logs` operations answer with (newest first,
limit and offset only, as Appwrite's take)."""

from __future__ import annotations

import sqlite3

from ..datetimes import now_iso
from ..identity.identities import log_model
from ..queries import invalid, parse_queries, plan
from ..registry import Call

DEFAULT_LIMIT = 25


def record(call: Call, resource: str, event: str) -> None:
    """Note that `event` (e.g. "provider.create") happened to `resource`, by whom and from where."""
    requester = call.requester
    call.project.connection.execute(
        "INSERT INTO _resource_logs (resource, user_id, event, mode, ip, user_agent, time) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            resource,
            call.auth.user_id or "",
            event,
            "admin" if call.auth.bypasses_permissions else "user",
            requester.ip if requester else "",
            requester.user_agent if requester else "",
            now_iso(),
        ),
    )


def forget(connection: sqlite3.Connection, resource: str) -> None:
    connection.execute("DELETE FROM _resource_logs WHERE resource = ?", (resource,))


def page(connection: sqlite3.Connection, resource: str, raw_queries: object, count: bool = True) -> dict:
    """The LogList of `resource`: newest first; only limit and offset queries apply."""
    queries = parse_queries(raw_queries)
    for query in queries:
        if query.method not in ("limit", "offset"):
            raise invalid(f"{query.method} is not supported here; the logs take only limit and offset")
    paging = plan(queries)
    limit = paging.limit if paging.limit is not None else DEFAULT_LIMIT
    records = connection.execute(
        "SELECT * FROM _resource_logs WHERE resource = ? ORDER BY seq DESC LIMIT ? OFFSET ?",
        (resource, limit, paging.skip),
    ).fetchall()
    total = 0
    if count:
        total = connection.execute("SELECT count(*) FROM _resource_logs WHERE resource = ?", (resource,)).fetchone()[0]
    return {"total": total, "logs": [log_model(row, None) for row in records]}
