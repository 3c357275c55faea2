"""Messages as kept in `_messages`, the Message model the API answers with, and the changes of status their
sending makes.

A message's status is `draft`, `scheduled` (with `scheduledAt`), `processing` (accepted for sending: the
background work sends it, scheduler.py), then `sent` or `failed`. Its `data` is what its kind carries (email:
subject, content, html, cc, bcc, attachments; sms: content; push: title, body, data, action, image, …).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from ..datetimes import format_datetime, now_iso
from ..errors import AppwriteError
from ..events import announce
from ..permissions import ADMIN

DRAFT, SCHEDULED, PROCESSING, SENT, FAILED = "draft", "scheduled", "processing", "sent", "failed"
UPDATED = "messages.[messageId].update"


def not_found() -> AppwriteError:
    return AppwriteError("message_not_found", "Message with the requested ID could not be found.", 404)


def find(connection: sqlite3.Connection, message_id: str) -> sqlite3.Row | None:
    return connection.execute("SELECT * FROM _messages WHERE id = ?", (message_id,)).fetchone()


def require(connection: sqlite3.Connection, message_id: str) -> sqlite3.Row:
    record = find(connection, message_id)
    if record is None:
        raise not_found()
    return record


def model(record: sqlite3.Row) -> dict:
    return {
        "$id": record["id"],
        "$createdAt": record["created"],
        "$updatedAt": record["updated"],
        "providerType": record["provider_type"],
        "topics": json.loads(record["topics"]),
        "users": json.loads(record["users"]),
        "targets": json.loads(record["targets"]),
        "scheduledAt": record["scheduled_at"],
        "deliveredAt": record["delivered_at"],
        "deliveryErrors": json.loads(record["delivery_errors"]),
        "deliveredTotal": record["delivered_total"],
        "data": json.loads(record["data"]),
        "status": record["status"],
    }


def read(connection: sqlite3.Connection, message_id: str) -> dict:
    return model(require(connection, message_id))


def due(connection: sqlite3.Connection, now: Any) -> list[str]:
    """The messages to send at `now`: those accepted for sending, and those scheduled whose time came."""
    rows = connection.execute(
        "SELECT id FROM _messages WHERE status = ? OR (status = ? AND scheduled_at <= ?) ORDER BY seq",
        (PROCESSING, SCHEDULED, format_datetime(now)),
    ).fetchall()
    return [row[0] for row in rows]


def pending(connection: sqlite3.Connection) -> bool:
    """Whether a message waits to be sent, now or at its time."""
    row = connection.execute("SELECT EXISTS (SELECT 1 FROM _messages WHERE status IN (?, ?))", (PROCESSING, SCHEDULED))
    return bool(row.fetchone()[0])


def start(project: Any, message_id: str, now: Any) -> bool:
    """Take a due message for sending (inside a write transaction): a scheduled one becomes `processing`, its
    update announced. Whether it is (still) to be sent."""
    connection = project.connection
    record = find(connection, message_id)
    if record is None:
        return False
    if record["status"] == SCHEDULED and record["scheduled_at"] <= format_datetime(now):
        connection.execute(
            "UPDATE _messages SET status = ?, updated = ? WHERE seq = ?", (PROCESSING, now_iso(), record["seq"])
        )
        announced(project, message_id)
        return True
    return record["status"] == PROCESSING


def finish(project: Any, message_id: str, status: str, delivered: int, errors: list[str], attempted: bool) -> None:
    """Record how sending went (inside a write transaction) and announce the update; `deliveredAt` is set when a
    delivery was attempted. A message deleted meanwhile stays deleted."""
    stamp = now_iso()
    changed = project.connection.execute(
        "UPDATE _messages SET status = ?, delivered_total = ?, delivery_errors = ?, delivered_at = ?, updated = ? "
        "WHERE id = ? AND status = ?",
        (status, delivered, json.dumps(errors), stamp if attempted else None, stamp, message_id, PROCESSING),
    ).rowcount
    if changed:
        announced(project, message_id)


def announced(project: Any, message_id: str) -> None:
    project.announced = set()
    announce(project, ADMIN, UPDATED, {"messageId": message_id}, read(project.connection, message_id))
