"""A project's webhooks as kept in its database, and the Webhook model the API answers with.

A webhook is a row of `_webhooks`. Its signing secret and Basic auth password are kept sealed with the
project's cipher (the delivery needs them back, so they cannot be hashes). Where a webhook is in the
event stream is the cursor named `webhook:<id>` (event_stream.py's EventReader), created with it and
removed with it. The delivery worker reads the webhooks through the project's settings cache
(`current`), which any change here clears.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from ..datetimes import now_iso
from ..encryption import Cipher
from ..errors import AppwriteError

SETTING = "webhooks"
# Appwrite keeps the last failure's log, cut at 10 KB.
MAX_LOG_BYTES = 10_000


@dataclass(frozen=True)
class Webhook:
    seq: int
    id: str
    name: str
    url: str
    events: tuple[str, ...]
    enabled: bool
    tls: bool
    auth_username: str
    auth_password: str
    secret: str
    attempts: int
    logs: str
    created: str
    updated: str

    @property
    def cursor(self) -> str:
        """The name of its place in the event stream."""
        return cursor_name(self.id)

    def model(self, with_secret: bool = False) -> dict:
        """Appwrite's Webhook model; the secret shows only where Appwrite shows it (on creation and rotation)."""
        return {
            "$id": self.id,
            "$createdAt": self.created,
            "$updatedAt": self.updated,
            "name": self.name,
            "url": self.url,
            "events": list(self.events),
            "tls": self.tls,
            "authUsername": self.auth_username,
            "authPassword": self.auth_password,
            "secret": self.secret if with_secret else "",
            "enabled": self.enabled,
            "logs": self.logs,
            "attempts": self.attempts,
        }


def cursor_name(webhook_id: str) -> str:
    return f"webhook:{webhook_id}"


def from_row(row: sqlite3.Row, cipher: Cipher) -> Webhook:
    return Webhook(
        seq=row["seq"],
        id=row["id"],
        name=row["name"],
        url=row["url"],
        events=tuple(json.loads(row["events"])),
        enabled=bool(row["enabled"]),
        tls=bool(row["tls"]),
        auth_username=row["auth_username"],
        auth_password=cipher.unseal(row["auth_password"]),
        secret=cipher.unseal(row["secret"]),
        attempts=row["attempts"],
        logs=row["logs"],
        created=row["created"],
        updated=row["updated"],
    )


def read_all(connection: sqlite3.Connection, cipher: Cipher) -> dict[str, Webhook]:
    """Every webhook of the project by id, in order of creation."""
    rows = connection.execute("SELECT * FROM _webhooks ORDER BY seq").fetchall()
    return {row["id"]: from_row(row, cipher) for row in rows}


def current(project) -> dict[str, Webhook]:
    """The project's webhooks, from its settings cache (read again after any change, here or in another process)."""
    return project.setting(SETTING, lambda connection: read_all(connection, project.cipher))


def not_found(webhook_id: str) -> AppwriteError:
    return AppwriteError("webhook_not_found", f"Webhook with the requested ID '{webhook_id}' could not be found.")


def require(connection: sqlite3.Connection, cipher: Cipher, webhook_id: str) -> Webhook:
    row = connection.execute("SELECT * FROM _webhooks WHERE id = ?", (webhook_id,)).fetchone()
    if row is None:
        raise not_found(webhook_id)
    return from_row(row, cipher)


def record_failure(connection: sqlite3.Connection, webhook_id: str, log: str, max_failures: int) -> bool:
    """Count a failed attempt and keep its log; disable the webhook once `max_failures` attempts failed in a
    row. Whether this disabled it."""
    log = log.encode("utf-8")[:MAX_LOG_BYTES].decode("utf-8", "ignore")
    connection.execute(
        "UPDATE _webhooks SET attempts = attempts + 1, logs = ?, updated = ? WHERE id = ?",
        (log, now_iso(), webhook_id),
    )
    disabled = connection.execute(
        "UPDATE _webhooks SET enabled = 0 WHERE id = ? AND enabled = 1 AND attempts >= ? RETURNING id",
        (webhook_id, max_failures),
    ).fetchone()
    return disabled is not None


def record_success(connection: sqlite3.Connection, webhook_id: str) -> None:
    """A delivery went through: the count of failed attempts starts again from 0."""
    connection.execute(
        "UPDATE _webhooks SET attempts = 0, updated = ? WHERE id = ? AND attempts > 0", (now_iso(), webhook_id)
    )


def backlog(connection: sqlite3.Connection) -> int:
    """Events the enabled webhooks have still to go through, summed over them (health's webhooks queue)."""
    row = connection.execute(
        "SELECT COALESCE(SUM((SELECT COUNT(*) FROM _events WHERE _events.seq > cursor.seq)), 0) "
        "FROM _webhooks JOIN _event_cursors AS cursor ON cursor.name = 'webhook:' || _webhooks.id "
        "WHERE _webhooks.enabled = 1"
    ).fetchone()
    return row[0]
