"""File tokens (the tokens service): shareable access to one file, for anyone holding the token.

A token belongs to one file (bucket and file ids, and the file's internal number, so a file deleted
and uploaded again under the same id does not inherit the old file's tokens; deleting the file or
its bucket deletes its tokens). Its `secret` is a JWT (HS256, under a key derived from the project
key) carrying the token's id, as in Appwrite; the same token always shows the same secret. Passed
as the `token` parameter of getFileDownload, getFileView or getFilePreview, a token that exists and
has not expired lets any caller, a guest included, read that file; one that expired or was deleted
gives nothing, and the caller's own permissions decide. `expire` is an ISO 8601 date-time in the
future, or null for a token that never expires. `accessedAt` records the token's use, at most once
every 24 hours (Appwrite's rule).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from ..datetimes import format_datetime, now_iso, parse_datetime
from ..errors import AppwriteError, invalid_argument
from ..ids import new_id
from ..listing import list_models
from ..permissions import granted
from ..registry import Call, handles
from . import buckets

RESOURCE_TYPE = "files"
# Appwrite signs resource tokens for ten years; whether a token still works is decided by its `expire`.
SECRET_LIFETIME = timedelta(days=3650)
LEEWAY_SECONDS = 10
ACCESS_INTERVAL = timedelta(hours=24)


# A token with the file and bucket it belongs to.
SELECT = (
    "SELECT t.*, f.id AS file_id, f.bucket_seq AS bucket_seq, b.id AS bucket_id FROM _file_tokens t "
    "JOIN _files f ON f.seq = t.file_seq JOIN _buckets b ON b.seq = f.bucket_seq"
)


@dataclass(frozen=True)
class Grant:
    """What a valid token gives: read access to one file of one bucket (internal numbers)."""

    bucket_seq: int
    file_seq: int


def signing_key(call: Call) -> bytes:
    return call.project.cipher.derive(b"file-tokens")


def secret_of(call: Call, record: sqlite3.Row) -> str:
    issued = parse_datetime(record["created"]) or datetime.now(UTC)
    claims = {
        "tokenId": record["id"],
        "resourceId": f"{record['bucket_id']}:{record['file_id']}",
        "resourceType": RESOURCE_TYPE,
        "resourceInternalId": f"{record['bucket_seq']}:{record['file_seq']}",
        "iat": int(issued.timestamp()),
        "exp": int((issued + SECRET_LIFETIME).timestamp()),
    }
    return jwt.encode(claims, signing_key(call), algorithm="HS256")


def token_model(call: Call, record: sqlite3.Row) -> dict:
    return {
        "$id": record["id"],
        "$createdAt": record["created"],
        "resourceId": f"{record['bucket_id']}:{record['file_id']}",
        "resourceType": RESOURCE_TYPE,
        "expire": record["expire"] or "",
        "secret": secret_of(call, record),
        "accessedAt": record["accessed"],
    }


def token_not_found(token_id: str) -> AppwriteError:
    return AppwriteError("token_not_found", f"Token with the requested ID '{token_id}' could not be found.", 404)


def require_token(connection: sqlite3.Connection, token_id: str) -> sqlite3.Row:
    record = connection.execute(f"{SELECT} WHERE t.id = ?", (token_id,)).fetchone()
    if record is None:
        raise token_not_found(token_id)
    return record


def check_expire(value: object) -> str | None:
    """null (never expires) or a date-time in the future, in canonical form."""
    if value is None:
        return None
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None:
        raise invalid_argument(f"Invalid `expire` param: expected an ISO 8601 date-time or null, got {value!r}")
    if moment <= datetime.now(UTC):
        raise invalid_argument(f"Invalid `expire` param: {value!r} is not in the future")
    try:
        return format_datetime(moment)
    except OverflowError:
        raise invalid_argument(f"Invalid `expire` param: {value!r} is out of range") from None


def file_of(call: Call) -> tuple[buckets.Bucket, sqlite3.Row]:
    """The bucket and file a token call names, as Appwrite finds them: the caller must be able to read
    the bucket, and (with fileSecurity) the file."""
    bucket = buckets.open_bucket(call, call.params["bucketId"])
    if not granted(bucket.permissions, "read", call.auth):
        raise buckets.unauthorized("read")
    file_id = call.params["fileId"]
    record = buckets.find_file(call.project.connection, bucket, file_id)
    if record is None or (
        bucket.file_security and not buckets.may(bucket, "read", call.auth, buckets.file_permissions(record))
    ):
        raise buckets.file_not_found(file_id)
    return bucket, record


@handles("tokens.createFileToken")
def create_file_token(call: Call) -> dict:
    bucket, record = file_of(call)
    if not buckets.may(bucket, "update", call.auth, buckets.file_permissions(record)):
        raise buckets.unauthorized("update")
    expire = check_expire(call.params.get("expire"))
    token_id = new_id()
    with call.project.db.transaction() as connection:
        connection.execute(
            "INSERT INTO _file_tokens (id, file_seq, expire, created) VALUES (?, ?, ?, ?)",
            (token_id, record["seq"], expire, now_iso()),
        )
        return token_model(call, require_token(connection, token_id))


@handles("tokens.list")
def list_tokens(call: Call) -> dict:
    _, record = file_of(call)
    rows = call.project.connection.execute(f"{SELECT} WHERE t.file_seq = ? ORDER BY t.seq", (record["seq"],))
    models = [token_model(call, row) for row in rows.fetchall()]
    # A token that never expires has a null expire for queries (isNull), and "" in its model.
    for model in models:
        model["expire"] = model["expire"] or None
    total, page = list_models(
        models, call.params.get("queries"), {"expire"}, count=call.params.get("total", True), noun="token"
    )
    for model in page:
        model["expire"] = model["expire"] or ""
    return {"total": total, "tokens": page}


@handles("tokens.get")
def get_token(call: Call) -> dict:
    return token_model(call, require_token(call.project.connection, call.params["tokenId"]))


@handles("tokens.update")
def update_token(call: Call) -> dict:
    expire = check_expire(call.params.get("expire"))
    with call.project.db.transaction() as connection:
        record = require_token(connection, call.params["tokenId"])
        connection.execute("UPDATE _file_tokens SET expire = ? WHERE seq = ?", (expire, record["seq"]))
        return token_model(call, require_token(connection, record["id"]))


@handles("tokens.delete")
def delete_token(call: Call) -> None:
    with call.project.db.transaction() as connection:
        record = require_token(connection, call.params["tokenId"])
        connection.execute("DELETE FROM _file_tokens WHERE seq = ?", (record["seq"],))


def redeem(call: Call, secret: str) -> Grant | None:
    """The file a token's secret opens, or None when it is not a token of this project, was deleted,
    or has expired. A valid token's use is recorded (accessedAt)."""
    if not secret:
        return None
    try:
        claims = jwt.decode(secret, signing_key(call), algorithms=["HS256"], leeway=LEEWAY_SECONDS)
    except jwt.PyJWTError:
        return None
    token_id = claims.get("tokenId")
    if not isinstance(token_id, str) or not token_id:
        return None
    record = call.project.connection.execute(f"{SELECT} WHERE t.id = ?", (token_id,)).fetchone()
    now = now_iso()
    if record is None or (record["expire"] is not None and record["expire"] <= now):
        return None
    last = parse_datetime(record["accessed"]) if record["accessed"] else None
    if last is None or datetime.now(UTC) - last >= ACCESS_INTERVAL:
        with call.project.db.transaction() as connection:
            connection.execute("UPDATE _file_tokens SET accessed = ? WHERE seq = ?", (now, record["seq"]))
    return Grant(record["bucket_seq"], record["file_seq"])
