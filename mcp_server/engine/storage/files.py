"""Stored files: listing, reading, renaming, re-permissioning and deleting them, and their content as
downloads and views.

- Reading a file needs the bucket's read permission, or with fileSecurity the file's own; a file
  the caller may not read is not found. A file token (file_tokens.py) passed as `token` to a
  download, view or preview lets its holder read that one file.
- A download is an attachment with the file's name and type. A view shows the file inline, with
  its own type only for the types Appwrite views (images, audio, video, office documents, PDF); any
  other file is sent as text/plain, so no uploaded HTML or script runs in the API's origin, and SVG
  (which can carry script) is always an attachment.
"""

from __future__ import annotations

import json
import sqlite3

from ...uploads import Media
from ..datetimes import now_iso
from ..errors import AppwriteError
from ..listing import list_models
from ..permissions import granted
from ..registry import Call, handles
from . import file_tokens
from .buckets import (
    Bucket,
    check_file_permissions,
    check_name,
    file_model,
    file_not_found,
    file_permissions,
    find_file,
    may,
    open_bucket,
    readable_file,
    safe_id,
    unauthorized,
    writable_file,
)
from .file_uploads import PendingUpload, pending_model
from .stored_files import content_path, read_content, set_aside, storage_root

MAX_FILE_NAME = 255
FILE_ATTRIBUTES = {"name", "signature", "mimeType", "sizeOriginal", "chunksTotal", "chunksUploaded"}

# Types a view shows inline with their own content type (Appwrite's storage mimes).
VIEWABLE = frozenset(
    """image/jpeg image/gif image/png image/webp image/avif image/heic image/svg+xml video/mp4 video/x-flv
    application/x-mpegURL video/MP2T video/3gpp video/quicktime video/x-msvideo video/x-ms-wmv video/webm
    audio/basic audio/mid audio/mpeg audio/mp4 audio/x-aiff audio/x-mpegurl audio/ogg audio/vorbis
    audio/vnd.wav audio/wav audio/flac application/msword
    application/vnd.openxmlformats-officedocument.wordprocessingml.document application/vnd.ms-excel
    application/vnd.openxmlformats-officedocument.spreadsheetml.sheet application/vnd.ms-powerpoint
    application/vnd.openxmlformats-officedocument.presentationml.presentation application/pdf""".split()
)


# --- files ------------------------------------------------------------------------------------------


@handles("storage.listFiles")
def list_files(call: Call) -> dict:
    bucket = open_bucket(call, call.params["bucketId"])
    readable = granted(bucket.permissions, "read", call.auth)
    if not bucket.file_security and not readable:
        raise unauthorized("read")
    records = call.project.connection.execute(
        "SELECT * FROM _files WHERE bucket_seq = ? ORDER BY seq", (bucket.seq,)
    ).fetchall()
    models = [
        file_model(bucket, record)
        for record in records
        if readable or granted(file_permissions(record), "read", call.auth)
    ]
    total, page = list_models(
        models,
        call.params.get("queries"),
        FILE_ATTRIBUTES,
        search=call.params.get("search"),
        search_fields=("$id", "name"),
        count=call.params.get("total", True),
        noun="file",
    )
    return {"total": total, "files": page}


@handles("storage.getFile")
def get_file(call: Call) -> dict:
    bucket = open_bucket(call, call.params["bucketId"])
    file_id = call.params["fileId"]
    try:
        return file_model(bucket, readable_file(call, bucket, file_id))
    except AppwriteError as error:
        if error.type != "storage_file_not_found" or safe_id(file_id) is None:
            raise
        # An upload still in progress shows how far it got (the SDKs resume from there).
        pending = PendingUpload(storage_root(call), bucket, file_id)
        meta = pending.meta()
        if meta is None or not may(bucket, "read", call.auth, meta["permissions"]):
            raise
        return pending_model(bucket, file_id, meta, len(pending.received()))


@handles("storage.updateFile")
def update_file(call: Call) -> dict:
    params = call.params
    bucket = open_bucket(call, params["bucketId"])
    record = writable_file(call, bucket, params["fileId"], "update")
    name = check_name(params["name"], "name", MAX_FILE_NAME) if params.get("name") is not None else record["name"]
    permissions = (
        check_file_permissions(params["permissions"], call.auth)
        if params.get("permissions") is not None
        else file_permissions(record)
    )
    with call.project.db.transaction() as connection:
        connection.execute(
            "UPDATE _files SET name = ?, permissions = ?, updated = ? WHERE seq = ?",
            (name, json.dumps(permissions), now_iso(), record["seq"]),
        )
        return file_model(bucket, find_file(connection, bucket, record["id"]))


@handles("storage.deleteFile")
def delete_file(call: Call) -> None:
    params = call.params
    bucket = open_bucket(call, params["bucketId"])
    record = writable_file(call, bucket, params["fileId"], "delete")
    root = storage_root(call)
    with set_aside(root) as aside, call.project.db.transaction() as connection:
        connection.execute("DELETE FROM _files WHERE seq = ?", (record["seq"],))
        aside(content_path(root, bucket.id, record["id"]))


# --- downloads --------------------------------------------------------------------------------------


def file_for_reading(call: Call, bucket: Bucket) -> sqlite3.Row:
    """The file a download, view or preview reads: by the caller's permissions, or by a file token
    (the `token` parameter) for this very file, as Appwrite decides it."""
    file_id = call.params["fileId"]
    grant = file_tokens.redeem(call, call.params.get("token") or "")
    by_token = grant is not None and grant.bucket_seq == bucket.seq
    readable = granted(bucket.permissions, "read", call.auth)
    if not bucket.file_security and not readable and not by_token:
        raise unauthorized("read")
    record = find_file(call.project.connection, bucket, file_id)
    if (
        record is not None
        and bucket.file_security
        and not readable
        and not by_token
        and not granted(file_permissions(record), "read", call.auth)
    ):
        record = None
    if grant is not None and (record is None or record["seq"] != grant.file_seq):
        raise unauthorized("read")
    if record is None:
        raise file_not_found(file_id)
    return record


@handles("storage.getFileDownload")
def get_file_download(call: Call) -> Media:
    bucket = open_bucket(call, call.params["bucketId"])
    record = file_for_reading(call, bucket)
    data = read_content(call, bucket.id, record)
    return Media(data, record["mime_type"] or "application/octet-stream", record["name"], download=True)


@handles("storage.getFileView")
def get_file_view(call: Call) -> Media:
    bucket = open_bucket(call, call.params["bucketId"])
    record = file_for_reading(call, bucket)
    data = read_content(call, bucket.id, record)
    content_type = record["mime_type"] if record["mime_type"] in VIEWABLE else "text/plain"
    return Media(data, content_type, record["name"], download=content_type == "image/svg+xml")
