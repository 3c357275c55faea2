"""API keys of a project: creating, listing and revoking them, and checking a secret.

A secret is `standard_<key id>_<64 hex characters>`, shown once when the key is created. Only its
SHA-256 hash is stored (the secret is 256 random bits, so a fast hash is enough); checking compares
hashes in constant time. A key carries scopes from Appwrite's project scope list and may expire.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from .datetimes import format_datetime, now_iso
from .errors import AppwriteError, invalid_argument
from .ids import new_id

PREFIX = "standard_"
SELECT_KEY = "SELECT * FROM _keys WHERE id = ?"
MAX_NAME = 128
MAX_EXPIRE_DAYS = 36_500
# How stale `accessed` may get before a use of the key records it again (saves a write per request).
ACCESS_RESOLUTION_S = 60

# Appwrite's project API key scopes (app/config/scopes/project.php).
SCOPES = frozenset(
    """
    project.read project.write keys.read keys.write platforms.read platforms.write mocks.read mocks.write
    policies.read policies.write project.policies.read project.policies.write templates.read templates.write
    oauth2.read oauth2.write users.read users.write sessions.read sessions.write teams.read teams.write
    databases.read databases.write tables.read tables.write columns.read columns.write indexes.read
    indexes.write rows.read rows.write collections.read collections.write attributes.read attributes.write
    documents.read documents.write buckets.read buckets.write files.read files.write tokens.read tokens.write
    functions.read functions.write executions.read executions.write execution.read execution.write
    sites.read sites.write log.read log.write providers.read providers.write topics.read topics.write
    subscribers.read subscribers.write targets.read targets.write messages.read messages.write rules.read
    rules.write webhooks.read webhooks.write locale.read avatars.read health.read assistant.read
    migrations.read migrations.write schedules.read schedules.write vcs.read vcs.write insights.read
    insights.write reports.read reports.write presences.read presences.write
    """.split()
)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def key_model(record: sqlite3.Row) -> dict:
    return {
        "$id": record["id"],
        "$createdAt": record["created"],
        "$updatedAt": record["updated"],
        "name": record["name"],
        "scopes": json.loads(record["scopes"]),
        "expire": record["expire"],
        "accessedAt": record["accessed"],
    }


def check_scopes(scopes: object) -> list[str]:
    if not isinstance(scopes, list) or not scopes or not all(isinstance(scope, str) for scope in scopes):
        raise invalid_argument("Invalid `scopes` param: expected at least one scope, e.g. rows.read,rows.write")
    unknown = sorted(set(scopes) - SCOPES)
    if unknown:
        raise invalid_argument(
            f"Invalid `scopes` param: unknown scope(s) {', '.join(unknown)}; scopes are Appwrite's project scopes, "
            "such as databases.read, tables.write, rows.read, rows.write, users.read, files.write"
        )
    return sorted(set(scopes))


def create(db, name: object, scopes: object, expire_days: object = None) -> tuple[dict, str]:
    """A new key and its secret (the only time the secret is available)."""
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise invalid_argument(f"Invalid `name` param: expected a name of 1 to {MAX_NAME} characters")
    chosen = check_scopes(scopes)
    expire = None
    if expire_days is not None:
        if not isinstance(expire_days, int) or isinstance(expire_days, bool) or not 1 <= expire_days <= MAX_EXPIRE_DAYS:
            raise invalid_argument(
                f"Invalid `expire` param: expected a whole number of days from 1 to {MAX_EXPIRE_DAYS}"
            )
        expire = format_datetime(datetime.now(UTC) + timedelta(days=expire_days))
    key_id = new_id()
    secret = f"{PREFIX}{key_id}_{secrets.token_hex(32)}"
    now = now_iso()
    with db.transaction() as connection:
        connection.execute(
            "INSERT INTO _keys (id, name, scopes, expire, accessed, secret_hash, created, updated) "
            "VALUES (?, ?, ?, ?, NULL, ?, ?, ?)",
            (key_id, name, json.dumps(chosen), expire, digest(secret), now, now),
        )
        record = connection.execute("SELECT * FROM _keys WHERE id = ?", (key_id,)).fetchone()
    return key_model(record), secret


def list_all(db) -> list[dict]:
    with db.transaction() as connection:
        return [key_model(record) for record in connection.execute("SELECT * FROM _keys ORDER BY seq")]


def revoke(db, key_id: str) -> None:
    with db.transaction() as connection:
        if connection.execute("DELETE FROM _keys WHERE id = ?", (key_id,)).rowcount == 0:
            raise AppwriteError("key_not_found", f"Key with the requested ID '{key_id}' could not be found.", 404)


def check(secret: str, read: Callable[[str], sqlite3.Row | None]) -> tuple[dict, bool]:
    """The key a valid, unexpired secret belongs to (read with `read(key_id)`), and whether its last-used
    time is due to be recorded; unknown, revoked and malformed secrets all get the same refusal."""
    refused = AppwriteError("user_unauthorized", "The API key is not valid: it is unknown, revoked or malformed.", 401)
    if not isinstance(secret, str) or not secret.startswith(PREFIX):
        raise refused
    key_id, _, _ = secret[len(PREFIX) :].partition("_")
    record = read(key_id)
    stored = record["secret_hash"] if record else digest("")
    if not hmac.compare_digest(stored, digest(secret)) or record is None:
        raise refused
    now = now_iso()
    if record["expire"] is not None and record["expire"] <= now:
        raise AppwriteError("api_key_expired", f"The API key '{key_id}' expired at {record['expire']}.", 401)
    due = (
        record["accessed"] is None
        or (datetime.fromisoformat(now) - datetime.fromisoformat(record["accessed"])).total_seconds()
        > ACCESS_RESOLUTION_S
    )
    return key_model(record), due


def record_use(db, key: dict) -> dict:
    """Set the key's last-used time to now; the key as it now is."""
    now = now_iso()
    with db.transaction() as connection:
        connection.execute("UPDATE _keys SET accessed = ? WHERE id = ?", (now, key["$id"]))
    return key | {"accessedAt": now}


def read_key(db, key_id: str) -> sqlite3.Row | None:
    """The stored key, read on a read connection: never waiting for the engine's writes."""
    with db.readers.lend() as connection:
        return connection.execute(SELECT_KEY, (key_id,)).fetchone()


def authenticate(db, secret: str) -> dict:
    """The key a valid, unexpired secret belongs to (recording its use), or AppwriteError (401)."""
    key, due = check(secret, lambda key_id: read_key(db, key_id))
    return record_use(db, key) if due else key


class KeyStore:
    """Checks secrets for one project, for a server that checks one per request.

    A check reads on a read connection (SQLite's WAL lets readers run alongside a writer), so it never
    waits for the engine's writes and is quick enough to run on an event loop; recording a key's use
    is a write, left to the caller to run where writes may wait.
    """

    def __init__(self, db) -> None:
        self.db = db

    def check(self, secret: str) -> tuple[dict, bool]:
        return check(secret, lambda key_id: read_key(self.db, key_id))

    def record_use(self, key: dict) -> dict:
        return record_use(self.db, key)

    def close(self) -> None:
        self.db.close()
