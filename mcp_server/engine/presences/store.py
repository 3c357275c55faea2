"""A project's presences as kept in its database, and the Presence model the API answers with.

A presence is a row of `_presences` (Appwrite's `presenceLogs`): a user has at most one, so writing a
user's presence again overwrites theirs and keeps its id. A presence whose `expiresAt` has passed
counts as gone: reads skip it, and each write removes the lapsed ones first, announcing nothing (as
Appwrite's maintenance job prunes them). What presences.list keeps for a caller's `ttl` is retired by
bumping a generation kept in `_meta` (a delete, or an update with `purge`), which every process sees.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from ..datetimes import now_iso
from ..errors import AppwriteError
from ..permissions import Auth, granted
from ..projectdb import read_setting, write_setting

LIST_GENERATION = "presences.list_generation"


@dataclass(frozen=True)
class Presence:
    seq: int
    id: str
    user_id: str
    status: str | None
    source: str
    expires_at: str
    metadata: dict
    permissions: list[str]
    created: str
    updated: str

    @property
    def lapsed(self) -> bool:
        return self.expires_at <= now_iso()

    def model(self) -> dict:
        """Appwrite's Presence model."""
        return {
            "$id": self.id,
            "$createdAt": self.created,
            "$updatedAt": self.updated,
            "$permissions": list(self.permissions),
            "userId": self.user_id,
            "status": self.status,
            "source": self.source,
            "expiresAt": self.expires_at,
            "metadata": self.metadata,
        }


def from_row(row: sqlite3.Row) -> Presence:
    return Presence(
        seq=row["seq"],
        id=row["id"],
        user_id=row["user_id"],
        status=row["status"],
        source=row["source"],
        expires_at=row["expires_at"],
        metadata=json.loads(row["metadata"]),
        permissions=json.loads(row["permissions"]),
        created=row["created"],
        updated=row["updated"],
    )


def not_found(presence_id: str) -> AppwriteError:
    return AppwriteError("presence_not_found", f"Presence with the requested ID '{presence_id}' could not be found.")


def already_exists(presence_id: str) -> AppwriteError:
    return AppwriteError(
        "presence_already_exists",
        f"Presence with the requested ID '{presence_id}' already exists. Try again with a different ID or use "
        "ID.unique() to generate a unique ID.",
    )


def find(connection: sqlite3.Connection, presence_id: str) -> Presence | None:
    """The presence by id, lapsed or not."""
    row = connection.execute("SELECT * FROM _presences WHERE id = ?", (presence_id,)).fetchone()
    return from_row(row) if row else None


def of_user(connection: sqlite3.Connection, user_id: str) -> Presence | None:
    row = connection.execute("SELECT * FROM _presences WHERE user_id = ?", (user_id,)).fetchone()
    return from_row(row) if row else None


def current(connection: sqlite3.Connection) -> list[Presence]:
    """The presences that have not lapsed, in order of creation."""
    rows = connection.execute("SELECT * FROM _presences WHERE expires_at > ? ORDER BY seq", (now_iso(),)).fetchall()
    return [from_row(row) for row in rows]


def prune(connection: sqlite3.Connection) -> None:
    """Remove the presences that have lapsed."""
    connection.execute("DELETE FROM _presences WHERE expires_at <= ?", (now_iso(),))


def insert(connection: sqlite3.Connection, values: dict) -> Presence:
    """A new presence of `values` (the stored columns, metadata and permissions as Python values)."""
    now = now_iso()
    stored = stored_values(values)
    connection.execute(
        f"INSERT INTO _presences ({', '.join(stored)}, created, updated) VALUES ({', '.join('?' * len(stored))}, ?, ?)",
        (*stored.values(), now, now),
    )
    return find(connection, values["id"])


def update(connection: sqlite3.Connection, presence: Presence, values: dict) -> Presence:
    """The presence with `values` written over its columns; another user's presence in the way is a conflict."""
    stored = stored_values(values)
    assignments = ", ".join(f"{column} = ?" for column in stored)
    try:
        connection.execute(
            f"UPDATE _presences SET {assignments}, updated = ? WHERE seq = ?",
            (*stored.values(), now_iso(), presence.seq),
        )
    except sqlite3.IntegrityError:
        raise already_exists(presence.id) from None
    return find(connection, presence.id)


def stored_values(values: dict) -> dict:
    """Column -> value as stored (metadata and permissions as JSON text)."""
    return {
        column: json.dumps(value) if column in ("metadata", "permissions") else value
        for column, value in values.items()
    }


def save(connection: sqlite3.Connection, auth: Auth, presence_id: str, user_id: str, values: dict) -> Presence:
    """Write a user's presence: theirs, overwritten and keeping its id, when they have one, else a new one with
    `presence_id` (refused when another user's presence has that id). A user caller must be able to read and
    update the presence they overwrite; one they cannot read is in the way, as in Appwrite."""
    existing = of_user(connection, user_id)
    if existing is None:
        if find(connection, presence_id) is not None:
            raise already_exists(presence_id)
        return insert(connection, {**values, "id": presence_id, "user_id": user_id})
    if not granted(existing.permissions, "read", auth):
        raise already_exists(presence_id)
    require_allowed(existing, "update", auth)
    return update(connection, existing, values)


def require_allowed(presence: Presence, action: str, auth: Auth) -> None:
    """Refuse a user whose roles the presence's permissions do not give `action`."""
    if not granted(presence.permissions, action, auth):
        raise AppwriteError(
            "user_unauthorized", f"The current user is not authorized to perform the requested action ({action})."
        )


def readable(connection: sqlite3.Connection, presence_id: str, auth: Auth) -> Presence:
    """The presence by id if the caller may read it (else presence_not_found, lapsed or not)."""
    presence = find(connection, presence_id)
    if presence is None or not granted(presence.permissions, "read", auth):
        raise not_found(presence_id)
    return presence


def delete(connection: sqlite3.Connection, presence: Presence) -> None:
    connection.execute("DELETE FROM _presences WHERE seq = ?", (presence.seq,))


def list_generation(connection: sqlite3.Connection) -> int:
    """Which generation of kept list answers is current."""
    return read_setting(connection, LIST_GENERATION, 0)


def purge_lists(connection: sqlite3.Connection) -> None:
    """Retire every list answer kept so far (inside the caller's transaction)."""
    write_setting(connection, LIST_GENERATION, list_generation(connection) + 1)
