"""API keys of a project: creating, listing, changing and revoking them, and checking a secret.

A standard secret is `standard_<key id>_<64 hex characters>`, shown once when the key is created. Only
its SHA-256 hash is stored (the secret is 256 random bits, so a fast hash is enough); checking compares
hashes in constant time. A key carries scopes from Appwrite's project scope list and may expire.

An ephemeral secret (Appwrite's `project.createEphemeralKey`) is `ephemeral_<JWT>`: an HS256 token
naming the project, its scopes and its expiry (at most an hour ahead), signed with a key derived from
the project's key material. Nothing of it is stored: it is valid wherever the signature checks out,
until it expires, and cannot be revoked. Every execution of a function is given one carrying the function's
`scopes` (functions/executions.py); `dynamic_<JWT>`, their former name, is read too, as Appwrite 1.9 reads it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt

from .datetimes import format_datetime, normalize_datetime, now_iso
from .encryption import Cipher
from .errors import AppwriteError, invalid_argument
from .ids import new_id
from .permissions import IMPLICIT_KEY_SCOPES
from .projectdb import TOMBSTONE

PREFIX = "standard_"
EPHEMERAL_PREFIX = "ephemeral_"
# Appwrite reads its former name for ephemeral keys, `dynamic_`, as well.
EPHEMERAL_PREFIXES = (EPHEMERAL_PREFIX, "dynamic_")
SELECT_KEY = "SELECT * FROM _keys WHERE id = ?"
# A key, and whether its project's deletion is committed (another process may have deleted it under us).
SELECT_LIVE_KEY = f"SELECT *, EXISTS (SELECT 1 FROM _meta WHERE key = '{TOMBSTONE}') AS deleted FROM _keys WHERE id = ?"
MAX_NAME = 128
MAX_SCOPES = 100
MAX_EXPIRE_DAYS = 36_500
MAX_EPHEMERAL_SECONDS = 3600
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


def key_model(record: sqlite3.Row, secret: str = "") -> dict:
    """Appwrite's Key model. Its secret is known only when the key is created: elsewhere it is empty."""
    return {
        "$id": record["id"],
        "$createdAt": record["created"],
        "$updatedAt": record["updated"],
        "name": record["name"],
        "expire": record["expire"] or "",
        "scopes": json.loads(record["scopes"]),
        "secret": secret,
        "accessedAt": record["accessed"] or "",
        "sdks": [],
    }


def check_scopes(scopes: object, *, required: bool = True, known: frozenset[str] = SCOPES) -> list[str]:
    """The scopes, each once and sorted; every one must be one of Appwrite's project scopes, or of `known`
    (and, when `required`, at least one must be given)."""
    if (
        not isinstance(scopes, list)
        or (required and not scopes)
        or len(scopes) > MAX_SCOPES
        or not all(isinstance(scope, str) for scope in scopes)
    ):
        raise invalid_argument(
            f"Invalid `scopes` param: expected {int(required)} to {MAX_SCOPES} scopes, e.g. rows.read,rows.write"
        )
    unknown = sorted(set(scopes) - known)
    if unknown:
        shown = ", ".join(scope[:64] for scope in unknown[:5])
        raise invalid_argument(
            f"Invalid `scopes` param: unknown scope(s) {shown}; scopes are Appwrite's project scopes, "
            "such as databases.read, tables.write, rows.read, rows.write, users.read, files.write"
        )
    return sorted(set(scopes))


def check_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise invalid_argument(f"Invalid `name` param: expected a name of 1 to {MAX_NAME} characters")
    return name


def check_expire(expire: object) -> str | None:
    """An expiry date-time in Appwrite's form, or None (never); a moment already past is allowed, as in
    Appwrite: the key is then expired from the start."""
    if expire is None or expire == "":
        return None
    normalized = normalize_datetime(expire) if isinstance(expire, str) and len(expire) <= 64 else None
    if normalized is None:
        raise invalid_argument("Invalid `expire` param: expected an ISO 8601 date-time, or null for no expiry")
    return normalized


def days_ahead(expire_days: object) -> str | None:
    if expire_days is None:
        return None
    if not isinstance(expire_days, int) or isinstance(expire_days, bool) or not 1 <= expire_days <= MAX_EXPIRE_DAYS:
        raise invalid_argument(f"Invalid `expire` param: expected a whole number of days from 1 to {MAX_EXPIRE_DAYS}")
    return format_datetime(datetime.now(UTC) + timedelta(days=expire_days))


def insert(
    connection: sqlite3.Connection,
    key_id: str,
    name: object,
    scopes: object,
    expire: str | None,
    *,
    required=True,
    known: frozenset[str] = SCOPES,
) -> tuple[dict, str]:
    """Store a new key (inside the caller's transaction); its model and its secret."""
    chosen = check_scopes(scopes, required=required, known=known)
    name = check_name(name)
    if connection.execute(SELECT_KEY, (key_id,)).fetchone() is not None:
        raise AppwriteError("key_already_exists", f"A key with the ID '{key_id}' already exists.", 409)
    secret = f"{PREFIX}{key_id}_{secrets.token_hex(32)}"
    now = now_iso()
    connection.execute(
        "INSERT INTO _keys (id, name, scopes, expire, accessed, secret_hash, created, updated) "
        "VALUES (?, ?, ?, ?, NULL, ?, ?, ?)",
        (key_id, name, json.dumps(chosen), expire, digest(secret), now, now),
    )
    return key_model(connection.execute(SELECT_KEY, (key_id,)).fetchone()), secret


def create(db, name: object, scopes: object, expire_days: object = None) -> tuple[dict, str]:
    """A new key and its secret (the only time the secret is available). Besides Appwrite's project scopes it may
    name those every key holds anyway (graphql, health.read, global), which change nothing."""
    expire = days_ahead(expire_days)
    with db.transaction() as connection:
        return insert(connection, new_id(), name, scopes, expire, known=SCOPES | IMPLICIT_KEY_SCOPES)


def require(connection: sqlite3.Connection, key_id: str) -> sqlite3.Row:
    record = connection.execute(SELECT_KEY, (key_id,)).fetchone()
    if record is None:
        raise AppwriteError("key_not_found", f"Key with the requested ID '{key_id}' could not be found.", 404)
    return record


def update(connection: sqlite3.Connection, key_id: str, name: object, scopes: object, expire: str | None) -> dict:
    """Replace a key's name, scopes and expiry (inside the caller's transaction); the key as it now is."""
    record = require(connection, key_id)
    chosen = check_scopes(scopes, required=False)
    values = (check_name(name), json.dumps(chosen), expire)
    if (record["name"], record["scopes"], record["expire"]) != values:
        connection.execute(
            "UPDATE _keys SET name = ?, scopes = ?, expire = ?, updated = ? WHERE id = ?",
            (*values, now_iso(), key_id),
        )
    return key_model(require(connection, key_id))


def key_models(connection: sqlite3.Connection) -> list[dict]:
    """Every key of the project, oldest first (never their secrets)."""
    return [key_model(record) for record in connection.execute("SELECT * FROM _keys ORDER BY seq")]


def list_all(db) -> list[dict]:
    with db.transaction() as connection:
        return key_models(connection)


def remove(connection: sqlite3.Connection, key_id: str) -> None:
    if connection.execute("DELETE FROM _keys WHERE id = ?", (key_id,)).rowcount == 0:
        raise AppwriteError("key_not_found", f"Key with the requested ID '{key_id}' could not be found.", 404)


def revoke(db, key_id: str) -> None:
    with db.transaction() as connection:
        remove(connection, key_id)


# --- ephemeral keys --------------------------------------------------------------------------------------


def signing_key(cipher: Cipher) -> bytes:
    return cipher.derive(b"ephemeral-keys")


def mint_ephemeral(cipher: Cipher, project_id: str, scopes: object, duration: object) -> dict:
    """A new ephemeral key (Appwrite's EphemeralKey model, with its secret): valid for `duration` seconds."""
    chosen = check_scopes(scopes, required=False)
    if not isinstance(duration, int) or isinstance(duration, bool) or not 1 <= duration <= MAX_EPHEMERAL_SECONDS:
        raise invalid_argument(
            f"Invalid `duration` param: Value must be a valid range between 1 and {MAX_EPHEMERAL_SECONDS}"
        )
    key_id, issued, expire, secret = ephemeral_secret(cipher, project_id, chosen, duration)
    now = format_datetime(issued)
    return {
        "$id": key_id,
        "$createdAt": now,
        "$updatedAt": now,
        "name": "",
        "expire": format_datetime(expire),
        "scopes": chosen,
        "secret": secret,
        "accessedAt": "",
        "sdks": [],
    }


def ephemeral_secret(
    cipher: Cipher, project_id: str, scopes: list[str], seconds: int
) -> tuple[str, datetime, datetime, str]:
    """A new ephemeral secret for `scopes` (checked by the caller), valid `seconds`: its id, when it was issued,
    when it expires, and the secret (also what a function's execution is given as `x-appwrite-key`)."""
    key_id = new_id()
    issued = datetime.now(UTC)
    expire = issued + timedelta(seconds=seconds)
    claims = {"projectId": project_id, "scopes": scopes, "jti": key_id, "iat": issued, "exp": expire}
    return key_id, issued, expire, EPHEMERAL_PREFIX + jwt.encode(claims, signing_key(cipher), algorithm="HS256")


def check_ephemeral(token: str, key: bytes, project_id: str) -> dict:
    """The key an ephemeral secret stands for; expired ones are refused with api_key_expired."""
    try:
        claims = jwt.decode(token, key, algorithms=["HS256"], options={"require": ["exp", "jti"]})
    except jwt.ExpiredSignatureError:
        raise AppwriteError("api_key_expired", "The ephemeral API key has expired.", 401) from None
    except jwt.PyJWTError:
        raise refusal() from None
    scopes = claims.get("scopes")
    if claims.get("projectId") != project_id or not isinstance(scopes, list) or not set(scopes) <= SCOPES:
        raise refusal()
    expire = format_datetime(datetime.fromtimestamp(claims["exp"], UTC))
    return {"$id": str(claims["jti"]), "name": "", "scopes": scopes, "expire": expire, "accessedAt": ""}


# --- checking secrets ------------------------------------------------------------------------------------


def refusal() -> AppwriteError:
    return AppwriteError("user_unauthorized", "The API key is not valid: it is unknown, revoked or malformed.", 401)


def check(secret: str, read: Callable[[str], sqlite3.Row | None]) -> tuple[dict, bool]:
    """The key a valid, unexpired standard secret belongs to (read with `read(key_id)`, as SELECT_LIVE_KEY
    reads it), and whether its last-used time is due to be recorded; unknown, revoked and malformed secrets,
    and those of a deleted project, all get the same refusal."""
    if not isinstance(secret, str) or not secret.startswith(PREFIX):
        raise refusal()
    key_id, _, _ = secret[len(PREFIX) :].rpartition("_")
    record = read(key_id) if key_id else None
    stored = record["secret_hash"] if record else digest("")
    if not hmac.compare_digest(stored, digest(secret)) or record is None or record["deleted"]:
        raise refusal()
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
        return connection.execute(SELECT_LIVE_KEY, (key_id,)).fetchone()


class KeyStore:
    """Checks secrets for one project, for a server that checks one per request.

    A check reads on a read connection (SQLite's WAL lets readers run alongside a writer), so it never
    waits for the engine's writes and is quick enough to run on an event loop; recording a key's use
    is a write, left to the caller to run where writes may wait. Ephemeral secrets need no read at all.
    """

    def __init__(self, db) -> None:
        self.db = db
        path = Path(db.path)
        self.project_id = path.parent.name
        self.cipher = Cipher(path.parent / "encryption.key")
        self.ephemeral_key: bytes | None = None
        # Whether a check found the project deleted (by another process): the store is of no use any more.
        self.deleted = False

    def check(self, secret: str) -> tuple[dict, bool]:
        """The key a secret stands for, and whether its use is due to be recorded (never for ephemeral keys)."""
        prefix = next((p for p in EPHEMERAL_PREFIXES if isinstance(secret, str) and secret.startswith(p)), None)
        if prefix is not None:
            if self.ephemeral_key is None:
                if not self.cipher.key_path.exists():
                    raise refusal()
                self.ephemeral_key = signing_key(self.cipher)
            return check_ephemeral(secret[len(prefix) :], self.ephemeral_key, self.project_id), False
        return check(secret, self.read)

    def read(self, key_id: str) -> sqlite3.Row | None:
        record = read_key(self.db, key_id)
        self.deleted = self.deleted or (record is not None and bool(record["deleted"]))
        return record

    def record_use(self, key: dict) -> dict:
        return record_use(self.db, key)

    def close(self) -> None:
        self.db.close()


def authenticate(db, secret: str) -> dict:
    """The key a valid, unexpired secret belongs to (recording the use of a stored key), or AppwriteError (401)."""
    key, due = KeyStore(db).check(secret)
    return record_use(db, key) if due else key
