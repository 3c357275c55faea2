"""The project's event stream: every committed change, named as Appwrite names it.

An operation's route carries an event label such as `databases.[databaseId].tables.[tableId].rows.[rowId].update`
(the catalog's `events`). `event_names` expands a label with the ids of one change into every name
Appwrite gives it (Appwrite's `Event::generateEvents`): the specific name, every form with some ids
replaced by `*`, the shorter forms (`databases.db1.tables.t1.rows.r1`, …), and the legacy mirrors
(tables ⇄ collections, rows ⇄ documents, columns ⇄ attributes).

`record` writes an event into the project database's `_events` table on the write connection, inside
the transaction of the change itself: it commits with the change or disappears with it, so a
rolled-back write has no event and a committed one always has. Events are read back in order by
their sequence number (`read_after`), by the in-process stream (stream.py) and by workers that keep
their own cursor; old events are pruned by age and count (`prune`).
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from .datetimes import format_datetime

compact = json.JSONEncoder(separators=(",", ":")).encode
PLACEHOLDER = re.compile(r"\[(\w+)\]")
STAND_IN = re.compile("\x00(\\d+)\x00")
# Words Appwrite's mirroring finds inside event names (as text, not as whole segments).
MIRROR_WORDS = ("tables", "collections", "rows", "documents", "columns", "attributes", "databases")
COLLECTIONS_TO_TABLES = {"documents": "rows", "collections": "tables", "attributes": "columns"}
TABLES_TO_COLLECTIONS = {"rows": "documents", "tables": "collections", "columns": "attributes"}
TABLESDB_TO_DATABASES = {"tablesdb": "databases", "tables": "collections", "rows": "documents", "columns": "attributes"}
DEFAULT_MAX_AGE_DAYS = 7.0
DEFAULT_MAX_COUNT = 100_000
DEFAULT_PRUNE_EVERY = 1000


@dataclass(frozen=True)
class Event:
    """One committed change: its names (the specific one first), the resource as the API returns it,
    the roles that may see it, who made it, when, and its place in the stream."""

    seq: int
    time: str
    names: tuple[str, ...]
    payload: dict
    roles: tuple[str, ...]
    user_id: str

    @property
    def name(self) -> str:
        return self.names[0]

    def as_json(self, project: str) -> dict:
        return {
            "seq": self.seq,
            "time": self.time,
            "project": project,
            "events": list(self.names),
            "userId": self.user_id,
            "roles": list(self.roles),
            "payload": self.payload,
        }


def placeholders(label: str) -> list[str]:
    """The ids a label needs, in order: `users.[userId].sessions.[sessionId].create` -> userId, sessionId."""
    return PLACEHOLDER.findall(label)


def parse_label(label: str) -> dict[str, str | None]:
    """The sections of a label, as Appwrite's `Event::parseEventPattern` finds them."""
    parts = label.split(".")
    count = len(parts)
    has_sub = count > 3 and parts[3].startswith("[")
    has_sub_sub = count > 5 and parts[5].startswith("[") and has_sub
    attribute = None
    if has_sub_sub and count == 8:
        attribute = parts[7]
    if has_sub and not has_sub_sub and count == 6:
        attribute = parts[5]
    if not has_sub and count == 4:
        attribute = parts[3]
    if not has_sub and count > 2:
        action = parts[2]
    elif has_sub_sub:
        action = parts[6] if count > 6 else None
    elif has_sub and count > 4:
        action = parts[4]
    else:
        action = None
    return {
        "type": parts[0],
        "resource": parts[1] if count > 1 else None,
        "sub_type": parts[2] if has_sub else None,
        "sub_resource": parts[3] if has_sub else None,
        "sub_sub_type": parts[4] if has_sub_sub else None,
        "sub_sub_resource": parts[5] if has_sub_sub else None,
        "action": action,
        "attribute": attribute,
    }


def label_patterns(label: str) -> list[str]:
    """Every form of a label Appwrite emits, placeholders still in place, longest first."""
    p = parse_label(label)
    head = [p["type"], p["resource"]]
    sub = [p["sub_type"], p["sub_resource"]]
    sub_sub = [p["sub_sub_type"], p["sub_sub_resource"]]
    action, attribute = p["action"], p["attribute"]
    patterns: list[list[str]] = []
    if action:
        if p["sub_sub_resource"]:
            if attribute:
                patterns.append([*head, *sub, *sub_sub, action, attribute])
            patterns.append([*head, *sub, *sub_sub, action])
            patterns.append([*head, *sub, *sub_sub])
        elif p["sub_resource"]:
            if attribute:
                patterns.append([*head, *sub, action, attribute])
            patterns.append([*head, *sub, action])
            patterns.append([*head, *sub])
        else:
            patterns.append([*head, action])
        if attribute:
            patterns.append([*head, action, attribute])
    if p["sub_sub_resource"]:
        patterns.append([*head, *sub, *sub_sub])
    if p["sub_resource"]:
        patterns.append([*head, *sub])
    patterns.append(head)
    return unique(".".join(pattern) for pattern in patterns)


def fill(pattern: str, ids: dict[str, str], starred: Iterable[str] = ()) -> str:
    """A pattern with each placeholder replaced by its id, or by `*` for the names in `starred`."""
    hidden = set(starred)
    return PLACEHOLDER.sub(lambda m: "*" if m.group(1) in hidden else ids[m.group(1)], pattern)


def event_names(label: str, ids: dict[str, str]) -> list[str]:
    """Every name of one event, in Appwrite's order (its `Event::generateEvents`, with no database
    given: the names webhooks and functions receive).

    The names of a label are worked out once, with stand-ins for the ids, and filled in after; ids
    holding a word that Appwrite's table/collection mirroring looks for inside names are worked out
    one by one, as Appwrite does."""
    keys = placeholders(label)
    missing = [key for key in keys if not ids.get(key)]
    if missing:
        raise ValueError(f"{label}: no value for {', '.join(missing)}")
    values = [ids[key] for key in keys]
    if any(word in value for value in values for word in MIRROR_WORDS):
        return expand(label, ids)
    return unique(template.format(*values) for template in templates(label))


@lru_cache(maxsize=1024)
def templates(label: str) -> tuple[str, ...]:
    """The names of a label as format strings: `databases.{0}.tables.*.rows.{2}.create`, …"""
    stand_ins = {key: f"\x00{position}\x00" for position, key in enumerate(placeholders(label))}
    return tuple(STAND_IN.sub(r"{\1}", name) for name in expand(label, stand_ins))


def expand(label: str, ids: dict[str, str]) -> list[str]:
    """Appwrite's Event::generateEvents, step by step."""
    keys = placeholders(label)
    three = parse_label(label)["sub_sub_resource"] is not None
    names = []
    for pattern in label_patterns(label):
        names.append(fill(pattern, ids))
        names.append(fill(pattern, ids, keys))
        for key in keys:
            for current in keys:
                if three:
                    for sub_current in keys:
                        if sub_current in (current, key):
                            continue
                        names.append(fill(pattern, ids, [sub_current]))
                        names.append(fill(pattern, ids, [sub_current, current]))
                        names.append(fill(pattern, ids, [current]))
                elif current != key:
                    names.append(fill(pattern, ids, [current]))
    names = unique(names)
    return mirrored(label, names)


def mirrored(label: str, names: list[str]) -> list[str]:
    """Names with their table/collection counterparts (Appwrite's `mirrorCollectionEvents`)."""
    first = names[0]
    if not (("databases." in label and ("collections" in first or "tables" in first)) or "tablesdb." in first):
        return names
    paired = []
    for name in names:
        paired.append(name)
        if "tablesdb" in name:
            databases_side = replace_segments(name, TABLESDB_TO_DATABASES)
            paired.extend([databases_side, replace_segments(databases_side, COLLECTIONS_TO_TABLES)])
        elif "collections" in name:
            paired.append(replace_segments(name, COLLECTIONS_TO_TABLES))
        elif "tables" in name:
            paired.append(replace_segments(name, TABLES_TO_COLLECTIONS))
    return unique(paired)


def replace_segments(name: str, mapping: dict[str, str]) -> str:
    return ".".join(mapping.get(part, part) for part in name.split("."))


def unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def record(
    connection: sqlite3.Connection, label: str, ids: dict[str, str], payload: dict, roles: Iterable[str], user_id: str
) -> int:
    """Add one event to the stream, inside the transaction of the change it describes; its sequence number."""
    body = compact({"ids": ids, "roles": sorted(set(roles)), "payload": payload})
    cursor = connection.execute(
        "INSERT INTO _events (time, label, user_id, body) VALUES (?, ?, ?, ?)",
        (time.time_ns() // 1_000_000, label, user_id, body),
    )
    return cursor.lastrowid


def event_from_row(row: sqlite3.Row | tuple) -> Event:
    seq, milliseconds, label, user_id, body = row
    content = json.loads(body)
    names = tuple(event_names(label, content["ids"]))
    moment = format_datetime(datetime.fromtimestamp(milliseconds / 1000, UTC))
    return Event(seq, moment, names, content["payload"], tuple(content["roles"]), user_id)


def read_after(connection: sqlite3.Connection, cursor: int, limit: int = 500) -> list[Event]:
    """Events after sequence number `cursor`, oldest first, at most `limit`."""
    rows = connection.execute(
        "SELECT seq, time, label, user_id, body FROM _events WHERE seq > ? ORDER BY seq LIMIT ?",
        (cursor, limit),
    ).fetchall()
    return [event_from_row(tuple(row)) for row in rows]


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
    project: Any, auth: Any, label: str, ids: dict[str, str], payload: Any, roles: list[str] | None = None
) -> None:
    """Record the event of a change, inside the write transaction that makes the change; `roles`
    (who may see it) come from the rule registered for the label unless given."""
    connection = project.db.connection
    payload = payload if isinstance(payload, dict) else {}
    if roles is None:
        roles = roles_for(project, label, ids, payload)
    seq = record(connection, label, ids, payload, roles, auth.user_id or "")
    project.announced.add(label)
    if seq % project.retention.prune_every == 0:
        prune(connection, project.retention)


def withhold(project: Any, labels: Iterable[str]) -> None:
    """Announce nothing for these labels in the running write (a chunk of an upload still incomplete,
    as Appwrite announces a file once all of it is in)."""
    project.announced.update(labels)
