"""The content of stored files on disk: atomic writes, deletes that can be undone, compression, encryption
at rest, and the type a file's bytes show.

- The content of a file lives in `<project dir>/storage/<bucketId>/<fileId>`. It is written to a
  temporary file beside its place, flushed to disk, and moved into place (os.replace) inside the
  transaction that records the file: a file is listed only once all of its content is there. A
  crash leaves at most the unlisted content of the one upload it interrupted (which an upload under
  the same id replaces).
- Deleting moves content aside (into storage/.trash) inside the transaction and removes it after
  the commit; when the transaction fails, it is put back, so a failed delete loses nothing.
- A bucket's compression (gzip, or zstd) is applied first, then encryption at rest: AES-256-GCM
  under a key derived from the project key, a fresh nonce per file, and the bucket and file ids as
  associated data (content moved to another file does not decrypt). Reading reverses both and
  checks the file's MD5. Unlike Appwrite, which skips both above 20 MB, every file is compressed
  and encrypted as its bucket says (the engine's files are at most 30 MB).
- A file's type is sniffed from its first bytes, else taken from the upload's type or its name's.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import mimetypes
import os
import shutil
import sqlite3
import time
import uuid
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..errors import AppwriteError
from ..private_files import create_private, make_private_dirs
from ..registry import Call

TRASH_TTL = 3600
NONCE_BYTES = 12
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"\x00\x00\x01\x00", "image/x-icon"),
    (b"\x1f\x8b", "application/gzip"),
    (b"\x28\xb5\x2f\xfd", "application/zstd"),
    (b"PK\x03\x04", "application/zip"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"OggS", "audio/ogg"),
    (b"ID3", "audio/mpeg"),
    (b"fLaC", "audio/flac"),
    (b"\x1aE\xdf\xa3", "video/webm"),
)
GENERIC_TYPES = frozenset({"", "application/octet-stream", "application/zip", "binary/octet-stream"})


# --- files on disk ----------------------------------------------------------------------------------


def storage_root(call: Call) -> Path:
    return call.project.db.path.parent / "storage"


def content_path(root: Path, bucket_id: str, file_id: str) -> Path:
    return root / bucket_id / file_id


def fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def write_temporary(target: Path, data: bytes) -> Path:
    """`data` in a new file beside `target`, flushed to disk; the caller moves it into place."""
    make_private_dirs(target.parent)
    temporary = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
    with open(create_private(temporary), "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return temporary


def write_atomically(target: Path, data: bytes) -> None:
    temporary = write_temporary(target, data)
    try:
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_directory(target.parent)


@contextlib.contextmanager
def set_aside(root: Path):
    """Yields `aside(path)`, which moves a file or directory out of the way (into storage/.trash).

    When the block succeeds, what was set aside is removed; when it fails, it is put back, so a
    delete whose transaction does not commit loses nothing.
    """
    trash = root / ".trash"
    moved: list[tuple[Path, Path]] = []

    def aside(path: Path) -> None:
        if not path.exists():
            return
        make_private_dirs(trash)
        place = trash / uuid.uuid4().hex
        os.replace(path, place)
        moved.append((path, place))

    try:
        yield aside
    except BaseException:
        for path, place in reversed(moved):
            with contextlib.suppress(OSError):
                make_private_dirs(path.parent)
                os.replace(place, path)
        raise
    for _, place in moved:
        remove(place)
    clear_old(trash, TRASH_TTL)


def remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


def clear_old(directory: Path, age: float) -> None:
    """Remove entries of `directory` not modified for `age` seconds (left behind by a crash)."""
    if not directory.is_dir():
        return
    limit = time.time() - age
    for entry in directory.iterdir():
        with contextlib.suppress(OSError):
            if entry.stat().st_mtime < limit:
                remove(entry)


# --- content ----------------------------------------------------------------------------------------


def file_key(call: Call) -> AESGCM:
    return AESGCM(call.project.cipher.derive(b"files"))


def associated_data(bucket_id: str, file_id: str) -> bytes:
    return f"{bucket_id}/{file_id}".encode()


def compress(data: bytes, algorithm: str) -> bytes:
    if algorithm == "gzip":
        return gzip.compress(data, mtime=0)
    if algorithm == "zstd":
        import zstandard

        return zstandard.ZstdCompressor().compress(data)
    return data


def decompress(data: bytes, algorithm: str) -> bytes:
    if algorithm == "gzip":
        return gzip.decompress(data)
    if algorithm == "zstd":
        import zstandard

        return zstandard.ZstdDecompressor().decompress(data)
    return data


def seal(call: Call, bucket_id: str, file_id: str, data: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + file_key(call).encrypt(nonce, data, associated_data(bucket_id, file_id))


def unseal(call: Call, bucket_id: str, file_id: str, data: bytes) -> bytes:
    return file_key(call).decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], associated_data(bucket_id, file_id))


def read_content(call: Call, bucket_id: str, record: sqlite3.Row) -> bytes:
    """The original bytes of a stored file: decrypted, decompressed and checked against its MD5."""
    path = content_path(storage_root(call), bucket_id, record["id"])
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise AppwriteError("storage_file_not_found", f"The content of file '{record['id']}' is missing.") from None
    try:
        if record["encryption"]:
            data = unseal(call, bucket_id, record["id"], data)
        data = decompress(data, record["compression"])
    except Exception as error:  # InvalidTag, a gzip or zstd error: the bytes on disk were altered
        raise damaged(record["id"], f"it cannot be decoded ({type(error).__name__})") from None
    if hashlib.md5(data).hexdigest() != record["signature"]:
        raise damaged(record["id"], "its content does not match its signature")
    return data


def damaged(file_id: str, why: str) -> AppwriteError:
    return AppwriteError("general_server_error", f"The stored file '{file_id}' is damaged: {why}.", 500)


def sniff_type(data: bytes, declared: str, name: str) -> str:
    """The MIME type of a file: from its first bytes, else the upload's declared type, else its name's,
    else text/plain for text and application/octet-stream for anything else."""
    head = data[:512]
    sniffed = next((kind for magic, kind in SIGNATURES if head.startswith(magic)), "")
    if head[:2] == b"BM" and len(head) >= 26 and head[6:10] == b"\x00\x00\x00\x00":
        sniffed = "image/bmp"
    if head[:4] == b"RIFF" and len(head) >= 12:
        sniffed = {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}.get(head[8:12], sniffed)
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        sniffed = (
            "image/avif"
            if brand in (b"avif", b"avis")
            else "image/heic"
            if brand in (b"heic", b"heix", b"mif1", b"msf1")
            else "video/quicktime"
            if brand == b"qt  "
            else "audio/mp4"
            if brand == b"M4A "
            else "video/mp4"
        )
    guessed = mimetypes.guess_type(name)[0] or ""
    if sniffed and sniffed not in GENERIC_TYPES:
        return sniffed
    if sniffed == "application/zip" and guessed.startswith(("application/vnd.", "application/epub")):
        return guessed
    if sniffed:
        return sniffed
    text = text_type(data)
    if text in ("image/svg+xml", "text/html"):
        return text
    declared = declared.split(";")[0].strip().lower()
    if declared and declared not in GENERIC_TYPES:
        return declared
    if guessed:
        return guessed
    return text or "application/octet-stream"


def text_type(data: bytes) -> str:
    """text/plain (or SVG, HTML) when the start of `data` reads as UTF-8 text; "" otherwise."""
    head = data[:4096]
    if b"\x00" in head:
        return ""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:
            return ""
        text = head[: error.start].decode("utf-8")
    lowered = text.lstrip("\ufeff \t\r\n").lower()
    if lowered.startswith("<svg") or (lowered.startswith("<?xml") and "<svg" in lowered):
        return "image/svg+xml"
    if lowered.startswith(("<!doctype html", "<html")):
        return "text/html"
    return "text/plain"
