"""Stored files as other services attach them (messaging's email attachments and push images): a file named by
bucket and file id, found whatever the caller's permissions, and its content."""

from __future__ import annotations

import sqlite3

from ..registry import Call
from .buckets import file_not_found, find_file, require_bucket
from .stored_files import read_content


def stored_file(connection: sqlite3.Connection, bucket_id: str, file_id: str) -> sqlite3.Row:
    """The record of a file (its name, mime_type, …); storage_bucket_not_found or storage_file_not_found."""
    record = find_file(connection, require_bucket(connection, bucket_id), file_id)
    if record is None:
        raise file_not_found(file_id)
    return record


def attachment(call: Call, bucket_id: str, file_id: str) -> tuple[str, str, bytes]:
    """(file name, content type, original bytes) of a stored file."""
    record = stored_file(call.project.connection, bucket_id, file_id)
    return record["name"], record["mime_type"], read_content(call, bucket_id, record)
