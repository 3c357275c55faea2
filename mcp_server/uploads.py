"""A file that arrives with a request: its name, type and bytes, and the slice of the whole file
they are when a large upload comes in chunks (Content-Range)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes
    # (first byte, last byte, total size) of a chunk, from the Content-Range header; None for a whole file.
    chunk: tuple[int, int, int] | None = None
