"""The project's event stream: every committed change, recorded under its route's event label
with the ids, payload and roles of the change (its names are worked out when read: event_names.py).

`announce` records the event of a change into the project database's `_events` table, on the write
connection, inside the transaction of the change itself: it commits with the change or disappears
with it, so a rolled-back write has no event and a committed one always has. Who may see an event
comes from the rule its service registered for the label (`event_roles`). Events are read back in
order by their sequence number (`read_after`), by the in-process stream (event_stream.py) and by
workers that keep their own cursor; old events are pruned by age and count (`prune`).

An event whose payload may hold values of encrypted columns is kept sealed with the project's cipher
(`announce(..., sealed=True)`), so those values never reach the database file in plain; reading it back
takes the cipher. So is an event with sensitive fields: as in Appwrite, the events of a new recovery or
verification token carry its secret for webhooks (and functions), and `public_payload` empties it for
everyone else.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .datetimes import format_datetime
from .encryption import PREFIX as SEALED
from .encryption import Cipher
from .event_names import event_names

compact = json.JSONEncoder(separators=(",", ":")).encode
DEFAULT_MAX_AGE_DAYS = 7.0
DEFAULT_MAX_COUNT = 100_000
DEFAULT_PRUNE_EVERY = 1000


@dataclass(frozen=True)
class Event:
    """One committed change: its names (in Appwrite's order), the resource as the API returns it,
    the roles that may see it, who made it, when, and its place in the stream."""

    seq: int
    time: str
    names: tuple[str, ...]
    payload: dict
    roles: tuple[str, ...]
    user_id: str
    # Fields of the payload only webhooks and functions are given (a token's secret), as Appwrite marks them.
    sensitive: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.names[0]

    @property
    def public_payload(self) -> dict:
        """The payload with its sensitive fields emptied (what realtime and the events command show)."""
        if not self.sensitive:
            return self.payload
        return {**self.payload, **dict.fromkeys((key for key in self.sensitive if key in self.payload), "")}

    def as_json(self, project: str) -> dict:
        return {
            "seq": self.seq,
            "time": self.time,
            "project": project,
            "events": list(self.names),
            "userId": self.user_id,
            "roles": list(self.roles),
            "payload": self.public_payload,
        }


# A user's password hash and its options (the User model): for webhooks and functions only, never shown to
# realtime subscribers (the user themselves) or the events command, and sealed at rest.
PASSWORD_FIELDS = ("password", "hashOptions")


def record(
    connection: sqlite3.Connection,
    label: str,
    ids: dict[str, str],
    payload: dict,
    roles: Iterable[str],
    user_id: str,
    cipher: Cipher | None = None,
    sensitive: tuple[str, ...] = (),
) -> int:
    """Add one event to the stream, inside the transaction of the change it describes (sealed with `cipher`
    when one is given); its sequence number."""
    content = {"ids": ids, "roles": sorted(set(roles)), "payload": payload}
    if sensitive:
        content["sensitive"] = list(sensitive)
    body = compact(content)
    if cipher is not None:
        body = cipher.encrypt(body)
    cursor = connection.execute(
        "INSERT INTO _events (time, label, user_id, body) VALUES (?, ?, ?, ?)",
        (time.time_ns() // 1_000_000, label, user_id, body),
    )
    return cursor.lastrowid


def event_from_row(row: sqlite3.Row | tuple, cipher: Cipher | None) -> Event:
    seq, milliseconds, label, user_id, body = row
    if body.startswith(SEALED):
        if cipher is None:
            raise ValueError(f"event {seq} is sealed: reading it takes the project's cipher")
        body = cipher.decrypt(body)
    content = json.loads(body)
    names = tuple(event_names(label, content["ids"]))
    moment = format_datetime(datetime.fromtimestamp(milliseconds / 1000, UTC))
    sensitive = tuple(content.get("sensitive", ()))
    return Event(seq, moment, names, content["payload"], tuple(content["roles"]), user_id, sensitive)


def read_after(
    connection: sqlite3.Connection, cursor: int, limit: int = 500, cipher: Cipher | None = None
) -> list[Event]:
    """Events after sequence number `cursor`, oldest first, at most `limit` (sealed ones opened with `cipher`)."""
    rows = connection.execute(
        "SELECT seq, time, label, user_id, body FROM _events WHERE seq > ? ORDER BY seq LIMIT ?",
        (cursor, limit),
    ).fetchall()
    return [event_from_row(tuple(row), cipher) for row in rows]


def last_seq(connection: sqlite3.Connection) -> int:
    row = connection.execute("SELECT MAX(seq) FROM _events").fetchone()
    return row[0] or 0


def prune(connection: sqlite3.Connection, retention: Retention) -> None:
    """Drop the events beyond the retention limits. The newest event always stays, so a sequence
    number is never given twice."""
    connection.execute("DELETE FROM _events WHERE seq <= (SELECT MAX(seq) FROM _events) - ?", (retention.max_count,))
    cutoff = time.time_ns() // 1_000_000 - int(retention.max_age_days * 86_400_000)
    connection.execute(
        "DELETE FROM _events WHERE time < ? AND seq <= (SELECT COALESCE(MIN(seq), ?) FROM _event_cursors) "
        "AND seq < (SELECT MAX(seq) FROM _events)",
        (cutoff, 1 << 62),
    )


def first_seq(connection: sqlite3.Connection) -> int:
    row = connection.execute("SELECT MIN(seq) FROM _events").fetchone()
    return row[0] or 0


@dataclass(frozen=True)
class Retention:
    """How long events stay: at most `max_count` events, none older than `max_age_days` (a worker's
    cursor keeps the events it has not read from the age limit, never from the count limit); the
    old ones are pruned once every `prune_every` events. A project keeps its own in its database."""

    max_age_days: float = DEFAULT_MAX_AGE_DAYS
    max_count: int = DEFAULT_MAX_COUNT
    prune_every: int = DEFAULT_PRUNE_EVERY


DEFAULT_RETENTION = Retention()
RETENTION_KEYS = ("events_max_age_days", "events_max_count")


def stored_retention(connection: sqlite3.Connection) -> Retention:
    """The project's retention, as kept in its database (the defaults until one is set)."""
    stored = dict(connection.execute("SELECT key, value FROM _meta WHERE key IN (?, ?)", RETENTION_KEYS).fetchall())
    return Retention(
        max_age_days=float(stored.get(RETENTION_KEYS[0], DEFAULT_MAX_AGE_DAYS)),
        max_count=int(stored.get(RETENTION_KEYS[1], DEFAULT_MAX_COUNT)),
    )


def store_retention(connection: sqlite3.Connection, retention: Retention) -> None:
    connection.executemany(
        "INSERT INTO _meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        zip(RETENTION_KEYS, (repr(retention.max_age_days), str(retention.max_count)), strict=True),
    )


RolesOf = Callable[[Any, dict[str, str], dict], list[str]]
# Who may see an event, by the start of its label: a service registers the rule for its resources.
EVENT_ROLES: dict[str, RolesOf] = {}


def event_roles(*prefixes: str) -> Callable[[RolesOf], RolesOf]:
    """Register the function giving the roles that may see events whose label starts with a prefix."""

    def register(function: RolesOf) -> RolesOf:
        for prefix in prefixes:
            EVENT_ROLES[prefix] = function
        # The longest prefix is tried first.
        ordered = sorted(EVENT_ROLES.items(), key=lambda item: len(item[0]), reverse=True)
        EVENT_ROLES.clear()
        EVENT_ROLES.update(ordered)
        return function

    return register


def roles_for(project: Any, label: str, ids: dict[str, str], payload: dict) -> list[str]:
    """The roles that may see an event (none but keys and the console for unregistered labels)."""
    for prefix, roles in EVENT_ROLES.items():
        if label.startswith(prefix):
            return roles(project, ids, payload)
    return []


def announce(
    project: Any,
    auth: Any,
    label: str,
    ids: dict[str, str],
    payload: Any,
    roles: list[str] | None = None,
    sealed: bool = False,
    sensitive: tuple[str, ...] = (),
) -> None:
    """Record the event of a change, inside the write transaction that makes the change; `roles`
    (who may see it) come from the rule registered for the label unless given; `sealed` keeps it encrypted,
    as is every event with `sensitive` fields (payload fields only webhooks and functions are given)."""
    connection = project.db.connection
    payload = payload if isinstance(payload, dict) else {}
    sensitive = (*sensitive, *(field for field in PASSWORD_FIELDS if field in payload and "hash" in payload))
    if roles is None:
        roles = roles_for(project, label, ids, payload)
    cipher = project.cipher if sealed or sensitive else None
    seq = record(connection, label, ids, payload, roles, auth.user_id or "", cipher, sensitive)
    project.announced.add(label)
    if seq % project.retention.prune_every == 0:
        prune(connection, project.retention)


def withhold(project: Any, labels: Iterable[str]) -> None:
    """Announce nothing for these labels in the running write (a chunk of an upload still incomplete,
    as Appwrite announces a file once all of it is in)."""
    project.announced.update(labels)
