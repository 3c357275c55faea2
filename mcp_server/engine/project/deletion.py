"""Deleting the project (project.delete): all of it, at once, or nothing.

As Appwrite deletes a project and then all its data, the embedded project's whole folder goes: its
database (tables, users, keys, platforms, settings, events), stored files, outbox and key material.
The decision is one committed write, a tombstone in `_meta`; the engine then closes the project and
renames its folder aside (one atomic step) before removing it. A project found tombstoned when opened
(the process stopped in between, or another process deleted it) finishes its removal first, so no one
ever works in a half-deleted project. The `default` project starts again empty on its next use; any
other project is gone (the REST app answers project_not_found) until something creates it again.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from pathlib import Path

from ..datetimes import now_iso
from ..projectdb import TOMBSTONE
from ..registry import Call, handles


def remove_folder(folder: Path) -> None:
    """Move the project's folder aside in one rename (no one opens it half-removed), then delete it."""
    if not folder.exists():
        return
    aside = folder.with_name(f".deleted-{folder.name}-{secrets.token_hex(4)}")
    os.rename(folder, aside)
    with contextlib.suppress(OSError):
        shutil.rmtree(aside)


@handles("project.delete")
def delete_project(call: Call) -> None:
    call.project.connection.execute(
        "INSERT INTO _meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (TOMBSTONE, now_iso())
    )
    call.project.deleted = True
