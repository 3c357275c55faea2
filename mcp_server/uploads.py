"""Files that travel with requests (Upload, LocalFile) and come back as answers (Media).

File content reaches an operation in one of three forms:
- an Upload: bytes in memory, from a multipart file part (the REST app, the only form Appwrite
  takes) or from a data URL (`data:image/png;name=cat.png;base64,…`) sent through the MCP tools;
- a LocalFile: a regular file on this machine, opened for the call by local_files.py under the
  rules of who is asking, and read in bounded pieces so its size is checked before its content;
- anything else (text where a file belongs) is refused by the operation: nothing is ever read from
  a path that a request merely names.
A media answer (a file's bytes, a preview, an avatar) goes back as raw bytes over REST, and is saved
under the downloads directory when an agent asks for it, its answer then saying where.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import math
import mimetypes
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar
from urllib.parse import unquote

from .engine.errors import AppwriteError, invalid_argument
from .engine.private_files import create_private, make_private_dirs

# Appwrite's chunked uploads (storage files, deployments): every chunk but the last is this long.
CHUNK_SIZE = 5 * 1024 * 1024
# How much of a local file is read at once.
READ_PIECE = 1024 * 1024
# A saved download's name: letters, digits and a few marks; at most this many bytes before its suffix.
UNSAFE_NAME_CHARACTERS = re.compile(r"[^\w.\- ]+")
SAVED_STEM_BYTES = 120
SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,12}")


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes
    # (first byte, last byte, total size) of a chunk, from the Content-Range header; None for a whole file.
    chunk: tuple[int, int, int] | None = None
    # X-Appwrite-ID: the id of the file a later chunk belongs to (the first chunk's answer gave it).
    upload_id: str | None = None

    @property
    def size(self) -> int:
        return len(self.data)

    def read(self, start: int = 0, length: int | None = None) -> bytes:
        return self.data[start:] if length is None else self.data[start : start + length]


def invalid_range(detail: str) -> AppwriteError:
    return AppwriteError("storage_invalid_content_range", f"The Content-Range is invalid: {detail}.")


def check_chunk(upload: Upload) -> tuple[int, int, int]:
    """(chunk index from 0, chunk count, total size) of a chunk, following Appwrite's 5 MB numbering."""
    first, last, total = upload.chunk  # type: ignore[misc]
    if not 0 <= first <= last < total:
        raise invalid_range(f"bytes {first}-{last}/{total} is not a range within the file")
    if last - first + 1 != len(upload.data):
        raise invalid_range(f"the range holds {last - first + 1} bytes but the chunk has {len(upload.data)}")
    if first % CHUNK_SIZE or (last != total - 1 and last - first + 1 != CHUNK_SIZE):
        raise invalid_range(f"chunks start every {CHUNK_SIZE} bytes (5 MB), and all but the last are that long")
    return first // CHUNK_SIZE, math.ceil(total / CHUNK_SIZE), total


class LocalFile:
    """A regular file opened for one call: its name, type and size as opened, read in bounded pieces.

    The owner of the call closes it when the call is over.
    """

    chunk: ClassVar[None] = None
    upload_id: ClassVar[None] = None

    def __init__(self, param: str, descriptor: int, filename: str, size: int) -> None:
        self.param = param
        self.handle = open(descriptor, "rb", buffering=0)  # noqa: SIM115 - closed by close()
        self.filename = filename
        self.size = size
        self.content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"

    def read(self, start: int = 0, length: int | None = None) -> bytes:
        """`length` bytes from `start` (the rest of the file as opened when None); never more than its size."""
        length = self.size - start if length is None else min(length, self.size - start)
        pieces = []
        self.handle.seek(start)
        while length > 0:
            piece = self.handle.read(min(length, READ_PIECE))
            if not piece:
                raise invalid_argument(
                    f"Invalid `{self.param}` param: {self.filename!r} became shorter while it was being read"
                )
            pieces.append(piece)
            length -= len(piece)
        return b"".join(pieces)

    def close(self) -> None:
        self.handle.close()


@dataclass(frozen=True)
class Media:
    """Bytes an operation answers with: their type, a file name, and whether to download or show them."""

    data: bytes
    content_type: str
    filename: str = ""
    download: bool = False


def received_file(name: str, value: object) -> Upload | LocalFile:
    """The content of file parameter `name`, which must have arrived as a file, never as text."""
    if isinstance(value, Upload | LocalFile):
        return value
    raise AppwriteError(
        "storage_file_empty",
        f"Empty file passed to the endpoint: `{name}` must be sent as a file (a multipart/form-data file part), "
        "not as text.",
    )


def from_data_url(name: str, value: str) -> Upload:
    """`data:[type][;name=file.ext];base64,<content>` (RFC 2397, with a name parameter)."""
    header, comma, payload = value[5:].partition(",")
    parts = header.split(";")
    if not comma or "base64" not in parts[1:]:
        raise invalid_argument(f"Invalid `{name}` param: a data URL must be base64, like data:text/plain;base64,SGk=")
    content_type = parts[0] or "application/octet-stream"
    filename = next((unquote(part[5:]) for part in parts[1:] if part.startswith("name=")), "")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise invalid_argument(f"Invalid `{name}` param: the data URL's content is not valid base64") from None
    if not filename:
        filename = "upload" + (mimetypes.guess_extension(content_type) or "")
    return Upload(filename, content_type, data)


def saved_name(filename: str, content_type: str, fallback: str) -> tuple[str, str]:
    """(stem, suffix) for a download saved under a name that came from stored data: no separators,
    control characters or NUL, a bounded length, and a suffix that is only letters and digits."""
    name = Path(filename.replace("\\", "/")).name if filename else ""
    suffix = Path(name).suffix
    if not SUFFIX.fullmatch(suffix):
        suffix = mimetypes.guess_extension(content_type) or ".bin"
    stem = UNSAFE_NAME_CHARACTERS.sub("_", Path(name).stem if name else "").strip(" ._")
    stem = stem.encode("utf-8")[:SAVED_STEM_BYTES].decode("utf-8", "ignore") or fallback
    return stem, suffix


def save(media: Media, downloads: Path, stem: str) -> dict:
    """Write downloaded bytes to a new private file under `downloads`; the answer an agent gets instead of bytes."""
    make_private_dirs(downloads)
    base_type = media.content_type.split(";")[0]
    name, suffix = saved_name(media.filename, base_type, stem)
    stamp = f"{name}-{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 10**6}"
    for attempt in itertools.count():
        path = downloads / f"{stamp}{f'-{attempt}' if attempt else ''}{suffix}"
        try:
            descriptor = create_private(path)
        except FileExistsError:
            continue
        with open(descriptor, "wb") as handle:
            handle.write(media.data)
        return {"savedTo": str(path), "contentType": base_type, "bytes": len(media.data)}
    raise AssertionError("unreachable")
