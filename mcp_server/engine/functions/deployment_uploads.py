"""A deployment's code archive as it arrives: whole (a multipart file part, a data URL or a local file through the
MCP tools), or in Appwrite's 5 MB chunks (Content-Range, the later chunks naming the deployment with X-Appwrite-ID),
as storage files do.

- The archive may hold at most ARCHIVE_LIMIT bytes (Appwrite's default `_APP_COMPUTE_SIZE_LIMIT`), checked against
  the size a Content-Range announces or a local file has, before any content is read.
- Chunks wait under `<function folder>/.uploads/<deploymentId>/` until every byte is there, in any order, sent again
  at will. Until then each answer is the deployment still `waiting` to be uploaded, not recorded yet; the last chunk
  makes it. Uploads left incomplete for a day are removed when another one starts.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from ...uploads import Upload, check_chunk, invalid_range, received_file
from ..errors import AppwriteError
from ..ids import new_id, validate_id
from ..private_files import make_private_dirs

ARCHIVE_LIMIT = 30_000_000
PENDING_TTL = 24 * 3600


def too_large(size: int) -> AppwriteError:
    return AppwriteError(
        "storage_invalid_file_size",
        f"File size not allowed: the code archive has {size:,} bytes, more than the {ARCHIVE_LIMIT:,} allowed.",
    )


def deployment_id_of(value: object) -> str:
    """The deployment a chunk belongs to: the one X-Appwrite-ID names, else a new one."""
    upload = received_file("code", value)
    if upload.upload_id is None:
        return new_id()
    return validate_id(upload.upload_id, "x-appwrite-id")


def receive(value: object, function_folder: Path, deployment_id: str) -> bytes | None:
    """The whole archive once all of it is in; None while chunks are missing."""
    upload = received_file("code", value)
    if upload.chunk is None:
        if upload.size > ARCHIVE_LIMIT:
            raise too_large(upload.size)
        if not upload.size:
            raise AppwriteError("storage_file_empty", "Empty file passed to the endpoint.")
        return upload.read()
    return receive_chunk(upload, function_folder / ".uploads" / deployment_id)


def receive_chunk(upload: Upload, folder: Path) -> bytes | None:
    index, chunks, total = check_chunk(upload)
    if total > ARCHIVE_LIMIT:
        raise too_large(total)
    meta_path = folder / "meta.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = None
    if meta is None or (index == 0 and meta.get("total") != total):
        clear_old(folder.parent)
        shutil.rmtree(folder, ignore_errors=True)
        make_private_dirs(folder)
        meta_path.write_text(json.dumps({"total": total, "chunks": chunks}), encoding="utf-8")
    elif meta.get("total") != total:
        raise invalid_range(f"the upload of this deployment has {meta.get('total')} bytes, not {total}")
    (folder / f"{index}.part").write_bytes(upload.read())
    if len(list(folder.glob("*.part"))) < chunks:
        return None
    data = b"".join((folder / f"{part}.part").read_bytes() for part in range(chunks))
    shutil.rmtree(folder, ignore_errors=True)
    if len(data) != total:
        raise invalid_range(f"the chunks hold {len(data)} bytes, not {total}")
    return data


def clear_old(uploads: Path) -> None:
    """Remove the incomplete uploads under `uploads` untouched for PENDING_TTL seconds."""
    if not uploads.is_dir():
        return
    now = time.time()
    for pending in uploads.iterdir():
        try:
            stale = now - pending.stat().st_mtime > PENDING_TTL
        except OSError:
            continue
        if stale:
            shutil.rmtree(pending, ignore_errors=True)
