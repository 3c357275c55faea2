"""Storage buckets: their records and settings, the access rules for the files in them, and the bucket operations.

- A bucket is a row of `_buckets`; its files are rows of `_files` (file_uploads.py and files.py
  handle them; stored_files.py keeps their content on disk).
- Permissions work as for tables and rows: the bucket's permissions, and with fileSecurity each
  file's own read, update and delete. API keys bypass permissions, and a disabled bucket is not
  found for anyone else.
- A bucket's maximumFileSize is at most Appwrite's default storage limit (30 MB); its allowed
  extensions are kept lowercase without a dot. Compression (gzip or zstd) and encryption apply to
  the files uploaded while they are set.
- Antivirus: no virus scanner is available to the embedded engine. A bucket's `antivirus` flag is
  accepted and kept, so a configuration moves to an Appwrite server unchanged, but files are not
  scanned.
- updateBucket keeps the current value of every setting it is not given (as updateTable does).
- Deleting a bucket deletes its files, their tokens and, once that commits, their content.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from ..datetimes import now_iso
from ..errors import AppwriteError, invalid_argument
from ..events import event_roles
from ..ids import resolve_id, validate_id
from ..listing import list_models
from ..permissions import (
    ACTIONS,
    ROW_ACTIONS,
    Auth,
    check_grantable,
    format_permissions,
    granted,
    normalize_permissions,
    parse_permissions,
    read_roles,
)
from ..projectdb import update_record
from ..registry import Call, handles
from .stored_files import set_aside, storage_root

# Appwrite's _APP_STORAGE_LIMIT default: the largest file, and the default and largest maximumFileSize.
STORAGE_LIMIT = 30_000_000
MAX_EXTENSIONS = 100
MAX_EXTENSION_LENGTH = 64
BUCKET_ATTRIBUTES = {
    "name",
    "enabled",
    "fileSecurity",
    "maximumFileSize",
    "encryption",
    "antivirus",
    "compression",
    "transformations",
}


# --- records ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    seq: int
    id: str
    name: str
    permissions: list[str]
    file_security: bool
    enabled: bool
    maximum_file_size: int
    allowed_file_extensions: list[str]
    compression: str
    encryption: bool
    antivirus: bool
    transformations: bool
    created: str
    updated: str


def bucket_from_row(row: sqlite3.Row) -> Bucket:
    return Bucket(
        seq=row["seq"],
        id=row["id"],
        name=row["name"],
        permissions=json.loads(row["permissions"]),
        file_security=bool(row["file_security"]),
        enabled=bool(row["enabled"]),
        maximum_file_size=row["maximum_file_size"],
        allowed_file_extensions=json.loads(row["allowed_file_extensions"]),
        compression=row["compression"],
        encryption=bool(row["encryption"]),
        antivirus=bool(row["antivirus"]),
        transformations=bool(row["transformations"]),
        created=row["created"],
        updated=row["updated"],
    )


def bucket_not_found(bucket_id: str) -> AppwriteError:
    return AppwriteError(
        "storage_bucket_not_found", f"Storage bucket with the requested ID '{bucket_id}' could not be found."
    )


def file_not_found(file_id: str) -> AppwriteError:
    return AppwriteError("storage_file_not_found", f"The requested file '{file_id}' could not be found.")


def unauthorized(action: str) -> AppwriteError:
    return AppwriteError(
        "user_unauthorized", f"The current user is not authorized to perform the requested action ({action})."
    )


def find_bucket(connection: sqlite3.Connection, bucket_id: str) -> Bucket | None:
    row = connection.execute("SELECT * FROM _buckets WHERE id = ?", (bucket_id,)).fetchone()
    return bucket_from_row(row) if row else None


def require_bucket(connection: sqlite3.Connection, bucket_id: str) -> Bucket:
    bucket = find_bucket(connection, bucket_id)
    if bucket is None:
        raise bucket_not_found(bucket_id)
    return bucket


def open_bucket(call: Call, bucket_id: str) -> Bucket:
    """The bucket as the caller may see it: a disabled bucket is not found but for keys."""
    bucket = require_bucket(call.project.connection, bucket_id)
    if not bucket.enabled and not call.auth.bypasses_permissions:
        raise bucket_not_found(bucket_id)
    return bucket


def find_file(connection: sqlite3.Connection, bucket: Bucket, file_id: str) -> sqlite3.Row | None:
    return connection.execute("SELECT * FROM _files WHERE bucket_seq = ? AND id = ?", (bucket.seq, file_id)).fetchone()


def file_permissions(record: sqlite3.Row) -> list[str]:
    return json.loads(record["permissions"])


def may(bucket: Bucket, action: str, auth: Auth, permissions: list[str] | None = None) -> bool:
    """Whether the bucket's permissions, or (with fileSecurity) a file's, give the caller `action`."""
    if granted(bucket.permissions, action, auth):
        return True
    return bucket.file_security and permissions is not None and granted(permissions, action, auth)


def readable_file(call: Call, bucket: Bucket, file_id: str) -> sqlite3.Row:
    """A file the caller may read: without the bucket's read permission, a bucket without fileSecurity
    is unauthorized and a file whose permissions do not grant read is not found."""
    if not bucket.file_security and not granted(bucket.permissions, "read", call.auth):
        raise unauthorized("read")
    record = find_file(call.project.connection, bucket, file_id)
    if record is None or not may(bucket, "read", call.auth, file_permissions(record)):
        raise file_not_found(file_id)
    return record


def writable_file(call: Call, bucket: Bucket, file_id: str, action: str) -> sqlite3.Row:
    """A file the caller may update or delete: the bucket's permission, or fileSecurity and the file's."""
    if not bucket.file_security and not granted(bucket.permissions, action, call.auth):
        raise unauthorized(action)
    record = find_file(call.project.connection, bucket, file_id)
    if record is None:
        raise file_not_found(file_id)
    if not may(bucket, action, call.auth, file_permissions(record)):
        raise unauthorized(action)
    return record


# --- models -----------------------------------------------------------------------------------------


def bucket_model(bucket: Bucket, total_size: int) -> dict:
    return {
        "$id": bucket.id,
        "$createdAt": bucket.created,
        "$updatedAt": bucket.updated,
        "$permissions": bucket.permissions,
        "fileSecurity": bucket.file_security,
        "name": bucket.name,
        "enabled": bucket.enabled,
        "maximumFileSize": bucket.maximum_file_size,
        "allowedFileExtensions": bucket.allowed_file_extensions,
        "compression": bucket.compression,
        "encryption": bucket.encryption,
        "antivirus": bucket.antivirus,
        "transformations": bucket.transformations,
        "totalSize": total_size,
    }


def bucket_sizes(connection: sqlite3.Connection) -> dict[int, int]:
    rows = connection.execute("SELECT bucket_seq, SUM(size_actual) FROM _files GROUP BY bucket_seq").fetchall()
    return {row[0]: row[1] or 0 for row in rows}


def bucket_model_of(connection: sqlite3.Connection, bucket: Bucket) -> dict:
    total = connection.execute(
        "SELECT COALESCE(SUM(size_actual), 0) FROM _files WHERE bucket_seq = ?", (bucket.seq,)
    ).fetchone()[0]
    return bucket_model(bucket, total)


def file_model(bucket: Bucket, record: sqlite3.Row) -> dict:
    return {
        "$id": record["id"],
        "bucketId": bucket.id,
        "$createdAt": record["created"],
        "$updatedAt": record["updated"],
        "$permissions": file_permissions(record),
        "name": record["name"],
        "signature": record["signature"],
        "mimeType": record["mime_type"],
        "sizeOriginal": record["size_original"],
        "sizeActual": record["size_actual"],
        "chunksTotal": record["chunks_total"],
        "chunksUploaded": record["chunks_uploaded"],
        "encryption": bool(record["encryption"]),
        "compression": record["compression"],
    }


# --- parameters -------------------------------------------------------------------------------------


def check_name(value: object, param: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise invalid_argument(f"Invalid `{param}` param: expected a name of 1 to {limit} characters")
    return value


def check_maximum_file_size(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= STORAGE_LIMIT:
        raise invalid_argument(
            f"Invalid `maximumFileSize` param: expected a size in bytes from 1 to {STORAGE_LIMIT:,} (30 MB)"
        )
    return value


def check_extensions(value: object) -> list[str]:
    """Allowed extensions, stored lowercase and without a leading dot; duplicates dropped."""
    if not isinstance(value, list) or len(value) > MAX_EXTENSIONS:
        raise invalid_argument(f"Invalid `allowedFileExtensions` param: expected at most {MAX_EXTENSIONS} extensions")
    extensions: list[str] = []
    for item in value:
        if not isinstance(item, str) or len(item) > MAX_EXTENSION_LENGTH:
            raise invalid_argument(
                f"Invalid `allowedFileExtensions` param: each extension is a string of at most "
                f"{MAX_EXTENSION_LENGTH} characters, got {item!r}"
            )
        extension = item.strip().lower().lstrip(".")
        if not extension:
            raise invalid_argument("Invalid `allowedFileExtensions` param: an extension cannot be empty")
        if extension not in extensions:
            extensions.append(extension)
    return extensions


def check_file_permissions(raw: object, auth: Auth) -> list[str]:
    pairs = parse_permissions(raw, ROW_ACTIONS)
    check_grantable(pairs, auth)
    return format_permissions(pairs)


def safe_id(value: object) -> str | None:
    """`value` when it is a valid id (and so safe in a path), else None."""
    try:
        return validate_id(value, "id")
    except AppwriteError:
        return None


# --- buckets ----------------------------------------------------------------------------------------


@handles("storage.listBuckets")
def list_buckets(call: Call) -> dict:
    connection = call.project.connection
    sizes = bucket_sizes(connection)
    rows = connection.execute("SELECT * FROM _buckets ORDER BY seq").fetchall()
    models = [bucket_model(bucket, sizes.get(bucket.seq, 0)) for bucket in map(bucket_from_row, rows)]
    total, page = list_models(
        models,
        call.params.get("queries"),
        BUCKET_ATTRIBUTES,
        search=call.params.get("search"),
        search_fields=("$id", "name"),
        count=call.params.get("total", True),
        noun="bucket",
    )
    return {"total": total, "buckets": page}


@handles("storage.createBucket")
def create_bucket(call: Call) -> dict:
    params = call.params
    bucket_id = resolve_id(params["bucketId"], "bucketId")
    name = check_name(params["name"], "name", 128)
    permissions = normalize_permissions(params.get("permissions"), ACTIONS)
    maximum = check_maximum_file_size(params.get("maximumFileSize", STORAGE_LIMIT))
    extensions = check_extensions(params.get("allowedFileExtensions") or [])
    now = now_iso()
    with call.project.db.transaction() as connection:
        if find_bucket(connection, bucket_id) is not None:
            raise AppwriteError(
                "storage_bucket_already_exists",
                f"A storage bucket with the requested ID '{bucket_id}' already exists. Try again with a different "
                "ID or use ID.unique() to generate a unique ID.",
            )
        connection.execute(
            "INSERT INTO _buckets (id, name, permissions, file_security, enabled, maximum_file_size, "
            "allowed_file_extensions, compression, encryption, antivirus, transformations, created, updated) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                bucket_id,
                name,
                json.dumps(permissions),
                int(params.get("fileSecurity", False)),
                int(params.get("enabled", True)),
                maximum,
                json.dumps(extensions),
                params.get("compression") or "none",
                int(params.get("encryption", True)),
                int(params.get("antivirus", True)),
                int(params.get("transformations", True)),
                now,
                now,
            ),
        )
        return bucket_model(require_bucket(connection, bucket_id), 0)


@handles("storage.getBucket")
def get_bucket(call: Call) -> dict:
    connection = call.project.connection
    return bucket_model_of(connection, require_bucket(connection, call.params["bucketId"]))


@handles("storage.updateBucket")
def update_bucket(call: Call) -> dict:
    params = call.params

    def given(name: str, current: object) -> object:
        return params[name] if params.get(name) is not None else current

    with call.project.db.transaction() as connection:
        bucket = require_bucket(connection, params["bucketId"])
        permissions = (
            normalize_permissions(params["permissions"], ACTIONS)
            if params.get("permissions") is not None
            else bucket.permissions
        )
        maximum = check_maximum_file_size(given("maximumFileSize", bucket.maximum_file_size))
        extensions = (
            check_extensions(params["allowedFileExtensions"])
            if params.get("allowedFileExtensions") is not None
            else bucket.allowed_file_extensions
        )
        settings = {
            "name": check_name(params["name"], "name", 128),
            "permissions": json.dumps(permissions),
            "file_security": int(given("fileSecurity", bucket.file_security)),
            "enabled": int(given("enabled", bucket.enabled)),
            "maximum_file_size": maximum,
            "allowed_file_extensions": json.dumps(extensions),
            "compression": given("compression", bucket.compression),
            "encryption": int(given("encryption", bucket.encryption)),
            "antivirus": int(given("antivirus", bucket.antivirus)),
            "transformations": int(given("transformations", bucket.transformations)),
        }
        update_record(connection, "_buckets", bucket.seq, settings)
        return bucket_model_of(connection, require_bucket(connection, bucket.id))


@handles("storage.deleteBucket")
def delete_bucket(call: Call) -> None:
    root = storage_root(call)
    bucket_id = call.params["bucketId"]
    with set_aside(root) as aside, call.project.db.transaction() as connection:
        bucket = require_bucket(connection, bucket_id)
        # Its files (and their tokens) go with it: the foreign keys cascade.
        connection.execute("DELETE FROM _buckets WHERE seq = ?", (bucket.seq,))
        aside(root / bucket.id)
        aside(root / ".uploads" / bucket.id)


@event_roles("buckets.[bucketId].files.")
def file_event_roles(project, ids: dict[str, str], payload: dict) -> list[str]:
    """Who may see a file's event: the bucket's readers, and with fileSecurity the file's own readers."""
    bucket = require_bucket(project.connection, ids["bucketId"])
    permissions = bucket.permissions + (payload.get("$permissions", []) if bucket.file_security else [])
    return read_roles(permissions)
