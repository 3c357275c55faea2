"""Uploading files (storage.createFile): whole files, and Appwrite's chunked upload protocol for larger ones.

- A whole file comes in one request; a larger one in chunks of 5 MB with a Content-Range of the
  total size (`Upload.chunk`), the later chunks naming the file they belong to with X-Appwrite-ID
  (`Upload.upload_id`). Chunk n (from 1) starts at byte (n - 1) * 5 MB; every chunk but the last is
  exactly 5 MB. Chunks may arrive in any order and be sent again.
- Received chunks wait under `<project dir>/storage/.uploads/<bucketId>/<fileId>/` until every byte
  is there, and each answer is the file model with chunksTotal and chunksUploaded. An incomplete
  upload is not listed; getFile shows its progress (the SDKs resume an upload from it). Uploads left
  incomplete for a day are removed when another upload starts in their bucket.
- The bucket's size limit applies to the total the Content-Range announces (or the size of a local
  file, before any of it is read), and its allowed extensions to the file's name, so nothing of a
  refused upload is ever stored or read.
- The file comes as an Upload (a multipart file part, or a data URL through the MCP tools) or a
  LocalFile (a path the MCP face opened for a caller allowed to name one); text is refused.
- Uploading needs the bucket's create permission; a user's upload without permissions gets
  read/update/delete("user:ID"), a key's none.
- A stored file keeps its MD5 (`signature`), its type and its sizes; its content goes into place
  inside the transaction that lists it (stored_files.py).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ...uploads import Upload, check_chunk, invalid_range, received_file
from ..datetimes import now_iso
from ..errors import AppwriteError
from ..events import withhold
from ..ids import UNIQUE, new_id, validate_id
from ..permissions import default_row_permissions, granted
from ..private_files import make_private_dirs
from ..registry import Call, handles
from .buckets import (
    Bucket,
    bucket_not_found,
    check_file_permissions,
    file_model,
    find_bucket,
    find_file,
    open_bucket,
    safe_id,
    unauthorized,
)
from .stored_files import (
    clear_old,
    compress,
    content_path,
    fsync_directory,
    remove,
    seal,
    sniff_type,
    storage_root,
    write_atomically,
    write_temporary,
)

# Incomplete uploads untouched for this long are removed when another upload starts in their bucket.
PENDING_TTL = 24 * 3600


def store_file(
    call: Call,
    bucket: Bucket,
    file_id: str,
    name: str,
    data: bytes,
    permissions: list[str],
    declared_type: str,
    chunks: int,
) -> dict:
    """Record a complete file: its content goes into place inside the transaction that lists it."""
    signature = hashlib.md5(data).hexdigest()
    mime_type = sniff_type(data, declared_type, name)
    stored = compress(data, bucket.compression)
    if bucket.encryption:
        stored = seal(call, bucket.id, file_id, stored)
    target = content_path(storage_root(call), bucket.id, file_id)
    temporary = write_temporary(target, stored)
    placed = False
    now = now_iso()
    try:
        with call.project.db.transaction() as connection:
            current = find_bucket(connection, bucket.id)
            if current is None or current.seq != bucket.seq:
                raise bucket_not_found(bucket.id)
            if find_file(connection, bucket, file_id) is not None:
                raise already_exists(file_id)
            connection.execute(
                "INSERT INTO _files (bucket_seq, id, name, permissions, signature, mime_type, size_original, "
                "size_actual, chunks_total, chunks_uploaded, compression, encryption, created, updated) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    bucket.seq,
                    file_id,
                    name,
                    json.dumps(permissions),
                    signature,
                    mime_type,
                    len(data),
                    len(stored),
                    chunks,
                    chunks,
                    bucket.compression,
                    int(bucket.encryption),
                    now,
                    now,
                ),
            )
            os.replace(temporary, target)
            placed = True
            fsync_directory(target.parent)
            record = find_file(connection, bucket, file_id)
    except BaseException:
        (target if placed else temporary).unlink(missing_ok=True)
        raise
    return file_model(bucket, record)


def already_exists(file_id: str) -> AppwriteError:
    return AppwriteError(
        "storage_file_already_exists",
        f"A storage file with the requested ID '{file_id}' already exists. Try again with a different ID or use "
        "ID.unique() to generate a unique ID.",
    )


# --- uploads ----------------------------------------------------------------------------------------


class PendingUpload:
    """The chunks of one incomplete upload: `meta.json` and one `<n>.part` file per chunk received."""

    def __init__(self, root: Path, bucket: Bucket, file_id: str) -> None:
        self.bucket = bucket
        self.directory = root / ".uploads" / bucket.id / file_id

    def meta(self) -> dict | None:
        try:
            meta = json.loads((self.directory / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return meta if isinstance(meta, dict) and meta.get("bucketSeq") == self.bucket.seq else None

    def start(self, meta: dict) -> None:
        clear_old(self.directory.parent, PENDING_TTL)
        remove(self.directory)
        make_private_dirs(self.directory)
        write_atomically(self.directory / "meta.json", json.dumps(meta).encode())

    def put(self, index: int, data: bytes) -> None:
        write_atomically(self.directory / f"{index}.part", data)

    def received(self) -> set[int]:
        if not self.directory.is_dir():
            return set()
        return {int(path.stem) for path in self.directory.glob("*.part") if path.stem.isdigit()}

    def assemble(self, chunks: int) -> bytes:
        return b"".join((self.directory / f"{index}.part").read_bytes() for index in range(chunks))

    def discard(self) -> None:
        remove(self.directory)


def pending_model(bucket: Bucket, file_id: str, meta: dict, uploaded: int) -> dict:
    return {
        "$id": file_id,
        "bucketId": bucket.id,
        "$createdAt": meta["created"],
        "$updatedAt": now_iso(),
        "$permissions": meta["permissions"],
        "name": meta["name"],
        "signature": "",
        "mimeType": "",
        "sizeOriginal": meta["total"],
        "chunksTotal": meta["chunks"],
        "chunksUploaded": uploaded,
        "encryption": bucket.encryption,
        "compression": bucket.compression,
    }


def check_extension(bucket: Bucket, name: str) -> None:
    if not bucket.allowed_file_extensions:
        return
    extension = Path(name).suffix.lower().lstrip(".")
    if extension not in bucket.allowed_file_extensions:
        raise AppwriteError(
            "storage_file_type_unsupported",
            f"File extension not allowed: {name!r}; bucket '{bucket.id}' accepts "
            + ", ".join(bucket.allowed_file_extensions),
        )


def check_size(bucket: Bucket, size: int) -> None:
    if size > bucket.maximum_file_size:
        raise AppwriteError(
            "storage_invalid_file_size",
            f"File size not allowed: {size:,} bytes is over the {bucket.maximum_file_size:,} bytes bucket "
            f"'{bucket.id}' accepts.",
        )


@handles("storage.createFile")
def create_file(call: Call) -> dict:
    params, auth = call.params, call.auth
    bucket = open_bucket(call, params["bucketId"])
    if not granted(bucket.permissions, "create", auth):
        raise unauthorized("create")
    permissions = (
        check_file_permissions(params["permissions"], auth)
        if params.get("permissions") is not None
        else default_row_permissions(auth)
    )
    upload = received_file("file", params["file"])
    file_id = new_id() if params["fileId"] == UNIQUE else validate_id(params["fileId"], "fileId")
    if upload.chunk is None and not upload.size:
        raise AppwriteError("storage_file_empty", "Empty file passed to the endpoint.")
    if upload.chunk is not None:
        index, chunks, total = check_chunk(upload)
        if upload.upload_id:
            file_id = upload.upload_id
            if file_id == UNIQUE or safe_id(file_id) is None:
                raise AppwriteError(
                    "storage_invalid_appwrite_id",
                    "The value for x-appwrite-id header is invalid. Please check the value of the x-appwrite-id "
                    "header is a valid id and not unique().",
                )
    else:
        index, chunks, total = 0, 1, upload.size
    name = upload.filename or file_id
    check_extension(bucket, name)
    # Checked before any content is read: a local file is read only once it fits the bucket.
    check_size(bucket, total)
    if chunks == 1:
        return store_file(call, bucket, file_id, name, upload.read(), permissions, upload.content_type, 1)
    return receive_chunk(call, bucket, file_id, name, upload, permissions, index, chunks, total)


def receive_chunk(
    call: Call,
    bucket: Bucket,
    file_id: str,
    name: str,
    upload: Upload,
    permissions: list[str],
    index: int,
    chunks: int,
    total: int,
) -> dict:
    """Keep one chunk; with the last one in, assemble the file and store it."""
    existing = find_file(call.project.connection, bucket, file_id)
    if existing is not None:
        if index == 0:
            raise already_exists(file_id)
        # A chunk sent again after the upload completed (a retry): the file is there.
        withhold(call.project, call.op.events)
        return file_model(bucket, existing)
    pending = PendingUpload(storage_root(call), bucket, file_id)
    meta = pending.meta()
    if meta is not None and meta.get("owner") != call.auth.user_id and not call.auth.bypasses_permissions:
        raise unauthorized("create")
    if meta is None or (meta["total"] != total and index == 0):
        meta = {
            "bucketSeq": bucket.seq,
            "name": name,
            "total": total,
            "chunks": chunks,
            "type": upload.content_type,
            "permissions": permissions,
            "owner": call.auth.user_id,
            "created": now_iso(),
        }
        pending.start(meta)
    elif meta["total"] != total:
        raise invalid_range(f"the upload of '{file_id}' has {meta['total']} bytes, not {total}")
    pending.put(index, upload.data)
    received = pending.received()
    if len(received) < chunks:
        withhold(call.project, call.op.events)
        return pending_model(bucket, file_id, meta, len(received))
    data = pending.assemble(chunks)
    if len(data) != total:
        pending.discard()
        raise invalid_range(f"the chunks of '{file_id}' hold {len(data)} bytes, not {total}")
    model = store_file(call, bucket, file_id, meta["name"], data, meta["permissions"], meta["type"], chunks)
    pending.discard()
    return model
