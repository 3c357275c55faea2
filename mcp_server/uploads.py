"""Files that travel with requests (Upload) and come back as answers (Media).

An upload arrives as a multipart part (the REST app), or, through the MCP tools and the command
line, as a string: the path of a local file, or a data URL (`data:image/png;name=cat.png;base64,…`)
for content without a file. A media answer (a file's bytes, a preview, an avatar) goes back as raw
bytes over REST, and is saved under the downloads directory when an agent asks for it, its answer
then saying where.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from .engine.errors import invalid_argument


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes
    # (first byte, last byte, total size) of a chunk, from the Content-Range header; None for a whole file.
    chunk: tuple[int, int, int] | None = None
    # X-Appwrite-ID: the id of the file a later chunk belongs to (the first chunk's answer gave it).
    upload_id: str | None = None


@dataclass(frozen=True)
class Media:
    """Bytes an operation answers with: their type, a file name, and whether to download or show them."""

    data: bytes
    content_type: str
    filename: str = ""
    download: bool = False


def upload_from(name: str, value: object) -> Upload:
    """An Upload from a multipart part (already one), a data URL, or the path of a local file."""
    if isinstance(value, Upload):
        return value
    if not isinstance(value, str) or not value:
        raise invalid_argument(f"Invalid `{name}` param: expected a file: a local path or a data: URL")
    if value.startswith("data:"):
        return from_data_url(name, value)
    path = Path(value).expanduser()
    try:
        data = path.read_bytes()
    except OSError as error:
        raise invalid_argument(
            f"Invalid `{name}` param: expected the path of a local file (or a data: URL); cannot read "
            f"{str(path)!r}: {error.strerror}"
        ) from None
    return Upload(path.name, mimetypes.guess_type(path.name)[0] or "application/octet-stream", data)


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


def save(media: Media, downloads: Path, stem: str) -> dict:
    """Write downloaded bytes to a new file under `downloads`; the answer an agent gets instead of bytes."""
    downloads.mkdir(parents=True, exist_ok=True)
    base_type = media.content_type.split(";")[0]
    suffix = Path(media.filename).suffix or mimetypes.guess_extension(base_type) or ".bin"
    name = Path(media.filename).stem if media.filename else stem
    path = downloads / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 10**6}{suffix}"
    path.write_bytes(media.data)
    return {"savedTo": str(path), "contentType": base_type, "bytes": len(media.data)}
