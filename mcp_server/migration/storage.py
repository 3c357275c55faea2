"""Buckets and their files: each file downloaded from the source, uploaded to the target with the same id
and permissions (in 5 MB chunks when large), downloaded back and compared by SHA-256. A file already in the
target with the same size and signature is skipped; one that differs is replaced."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..engine.errors import AppwriteError
from ..uploads import READ_PIECE, LocalFile
from .context import Migration, checksum, pick, sync_model
from .endpoint import Endpoint, MigrationFailure, query, remove
from .report import CREATE, SKIP, UPDATE

FILE_FIELDS = ("$id", "name", "$permissions", "sizeOriginal", "signature", "mimeType")
BUCKET_OPS = ("storage.getBucket", "storage.createBucket", "storage.updateBucket")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while piece := handle.read(READ_PIECE):
            digest.update(piece)
    return digest.hexdigest()


async def migrate_storage(m: Migration) -> None:
    for bucket in await m.source.all("storage.listBuckets", {}, "buckets", "buckets"):
        name = f"bucket {bucket['$id']}"
        await sync_model(m, "buckets", name, bucket, {"bucketId": bucket["$id"]}, BUCKET_OPS)
        async for page in m.source.pages("storage.listFiles", {"bucketId": bucket["$id"]}, "files", name):
            m.progress.start("files", len(page))
            present = await target_files(m.target, bucket["$id"], [file["$id"] for file in page], name)
            await m.each(
                page, lambda file, bucket_id=bucket["$id"], there=present: move_file(m, bucket_id, file, there)
            )


async def target_files(target: Endpoint, bucket: str, file_ids: list[str], name: str) -> dict[str, dict]:
    """The target's files of these ids (none when its bucket is missing, as in a dry run)."""
    queries = [query("equal", *file_ids, attribute="$id"), query("limit", len(file_ids))]
    found = await target.find("storage.listFiles", {"bucketId": bucket, "queries": queries}, name)
    return {file["$id"]: file for file in found["files"]} if found else {}


async def move_file(m: Migration, bucket: str, file: dict, present: dict[str, dict]) -> None:
    name = f"file {bucket}/{file['$id']}"
    there = present.get(file["$id"])
    if there is not None and pick(there, FILE_FIELDS) == pick(file, FILE_FIELDS):
        m.plan("files", SKIP)
    elif m.plan("files", CREATE if there is None else UPDATE):
        ids = {"bucketId": bucket, "fileId": file["$id"]}
        if there is not None:
            await m.target.call("storage.deleteFile", ids, name)
        await transfer(m, ids, file, name)
    m.progress.advance("files")


async def transfer(m: Migration, ids: dict, file: dict, name: str) -> None:
    """Download, upload with the same id and permissions, download the copy and compare their SHA-256."""
    copy = None
    original = await m.source.download("storage.getFileDownload", ids, name)
    try:
        descriptor = os.open(original, os.O_RDONLY)
        upload = LocalFile("file", descriptor, file["name"], os.fstat(descriptor).st_size)
        try:
            params = ids | {"file": upload, "permissions": file.get("$permissions", [])}
            await m.target.call("storage.createFile", params, name)
        finally:
            upload.close()
        copy = await m.target.download("storage.getFileDownload", ids, name)
        if sha256(copy) != sha256(original):
            raise MigrationFailure(f"target {name}", "storage.createFile", checksum_error(name))
    finally:
        remove(original)
        if copy is not None:
            remove(copy)


def checksum_error(name: str) -> AppwriteError:
    return AppwriteError("general_server_error", f"{name}: the copy's SHA-256 differs from the original", 500)


async def snapshot(endpoint: Endpoint) -> dict[str, tuple[int, str]]:
    found = {}
    for bucket in await endpoint.all("storage.listBuckets", {}, "buckets", "buckets"):
        files = await endpoint.all("storage.listFiles", {"bucketId": bucket["$id"]}, "files", "files")
        found[f"bucket {bucket['$id']}"] = (
            len(files),
            checksum(sorted((pick(file, FILE_FIELDS) for file in files), key=lambda file: file["$id"])),
        )
    return found
