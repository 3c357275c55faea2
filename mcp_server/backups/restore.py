"""Putting a backup back (`baas-mcp backup restore`): into its own project or, `--as`, into another id.

Nothing is written before the whole backup has been checked against its manifest (archive.verify). The files are
then copied into a new folder beside the project's, each checked again as it is copied, and that folder takes the
project's place in one rename (the old folder renamed aside first, then removed). A project that a process has
open (a running `baas-mcp api` or `serve`, which hold its in-use lock: engine/process_lock.py) is never replaced,
`--force` or not; an existing project is replaced only with `--force`. The in-use lock is held alone from the check
to the rename, so a server starting meanwhile waits, then opens the restored project.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from ..engine.errors import AppwriteError
from ..engine.private_files import make_private_dirs
from ..engine.process_lock import IN_USE, ProcessLock
from ..engine.projectdb import project_path
from . import archive
from .archive import CONTENT


def restore_backup(data_dir: Path, backup_id: str, project_id: str | None = None, force: bool = False) -> dict:
    """Restore a backup into `project_id` (default: the project it was taken of); what was restored."""
    folder = archive.backup_folder(data_dir, backup_id)
    header = archive.read_header(folder, backup_id)
    target = project_id or header["project"]
    try:
        destination = project_path(data_dir, target).parent
    except ValueError as error:
        raise archive.invalid(f"Invalid project ID: {error}") from None
    with held(destination, force):
        header = archive.verify(folder, backup_id)
        staging = Path(data_dir) / f".restoring-{target}-{os.urandom(4).hex()}"
        try:
            make_private_dirs(staging)
            for entry in archive.entries(folder, backup_id):
                archive.check_file(folder / CONTENT, entry, backup_id, staging / entry.path)
            archive.settle()
            put_in_place(staging, destination)
        finally:
            archive.remove_tree(staging)
    return {
        "$id": backup_id,
        "project": target,
        "from": header["project"],
        "files": header["files"],
        "size": header["size"],
    }


@contextlib.contextmanager
def held(destination: Path, force: bool) -> Iterator[None]:
    """Hold the in-use lock of an existing project alone while it is replaced; refuse a project in use, and an
    existing one without `force`."""
    if not destination.exists():
        yield
        return
    if not (destination / archive.DATABASE).is_file():
        raise archive.invalid(f"'{destination.name}' in the data directory is not a project folder; nothing changed.")
    lock = ProcessLock(destination / IN_USE)
    if not lock.acquire():
        raise AppwriteError(
            "general_argument_invalid",
            f"Project '{destination.name}' is in use by a running baas-mcp process (api, serve or background); "
            "stop it before restoring into this project, or restore with --as into a new project.",
        )
    try:
        if not force:
            raise AppwriteError(
                "project_already_exists",
                f"Project '{destination.name}' already exists; restore with --force to replace its data, or with "
                "--as into a new project.",
            )
        yield
    finally:
        lock.release()


def put_in_place(staging: Path, destination: Path) -> None:
    """Give the restored folder the project's place: the old folder (if any) renamed aside, then removed."""
    if not destination.exists():
        try:
            os.rename(staging, destination)
        except OSError:
            raise AppwriteError(
                "project_already_exists", f"Project '{destination.name}' was created while restoring; nothing changed."
            ) from None
        archive.settle()
        return
    aside = destination.with_name(f".replaced-{destination.name}-{os.urandom(4).hex()}")
    os.rename(destination, aside)
    try:
        os.rename(staging, destination)
    except BaseException:
        os.rename(aside, destination)
        raise
    archive.settle()
    archive.remove_tree(aside)
