"""Taking a backup of a project while servers keep reading and writing it (`baas-mcp backup create`).

The database is copied with SQLite's online backup API from a read transaction: one committed state, every bulk
write in it whole or absent, taken beside the writers (WAL) without stopping them. The stored files copied are
exactly those the snapshot lists; each is there, because a file's content is moved into place inside the
transaction that records it (storage/stored_files.py). A file deleted after the snapshot may be gone, or its id
taken again, by the time it is copied: a file row's sequence number is never used again, so once the files are
copied, the live database still holding as many rows up to the snapshot's highest number as the snapshot did
proves none of them went in between, and every copy is the content of its row. Otherwise the backup is taken
again; the last try holds the database's write lock from the snapshot to the last file (writers wait, as they wait
for one another). The key material, the functions' and sites' deployments and the outbox are copied after the
snapshot. Each file's SHA-256 goes into the manifest as it is copied (archive.py).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from ..engine.datetimes import now_iso
from ..engine.errors import AppwriteError
from ..engine.ids import new_id
from ..engine.private_files import create_private, make_private_dirs
from ..engine.projectdb import project_path
from ..engine.storage.stored_files import content_path
from . import archive
from .archive import CONTENT, DATABASE, KEY, Entry, ManifestWriter

ATTEMPTS = 3
TREES = ("functions", "sites", "outbox")
WRITE_WAIT = 30.0  # seconds the last try waits for the write lock
STORED_FILES = "SELECT f.seq, b.id, f.id FROM _files AS f JOIN _buckets AS b ON b.seq = f.bucket_seq ORDER BY f.seq"


def create_backup(data_dir: Path, project_id: str) -> dict:
    """Back up one project of the data directory; the new backup's header."""
    database = project_path(data_dir, project_id)
    if not database.is_file():
        raise AppwriteError(
            "project_not_found", f"Project with the requested ID '{project_id}' could not be found.", 404
        )
    backup_id = new_id()
    root = make_private_dirs(archive.backups_root(data_dir))
    staging = root / f".partial-{backup_id}"
    try:
        for attempt in range(1, ATTEMPTS + 1):
            archive.remove_tree(staging)
            make_private_dirs(staging / CONTENT)
            manifest = ManifestWriter(staging)
            try:
                whole = take(database.parent, staging / CONTENT, manifest, locked=attempt == ATTEMPTS)
            finally:
                manifest.close()
            if whole:
                break
        header = {
            "format": archive.FORMAT,
            "$id": backup_id,
            "project": project_id,
            "$createdAt": now_iso(),
            "files": manifest.files,
            "size": manifest.size,
            "manifest": manifest.digest.hexdigest(),
        }
        archive.write_header(staging, header)
        archive.fsync_folder(staging)
        os.rename(staging, root / backup_id)
        archive.fsync_folder(root)
    except BaseException:
        archive.remove_tree(staging)
        raise
    return header


def take(project_dir: Path, content: Path, manifest: ManifestWriter, locked: bool) -> bool:
    """Copy the project into `content`; whether the copy is one consistent state (always, when `locked`)."""
    with connection(project_dir / DATABASE) as live, connection(project_dir / DATABASE) as source:
        if locked:
            live.execute("BEGIN IMMEDIATE")
        try:
            source.execute("BEGIN")
            source.execute("SELECT COUNT(*) FROM _files").fetchone()  # the snapshot starts here
            os.close(create_private(content / DATABASE))
            with contextlib.closing(sqlite3.connect(content / DATABASE)) as target:
                source.backup(target)
            manifest.add(copy(content, None, DATABASE))
            listed, highest, missing = copy_stored_files(source, project_dir, content, manifest)
            source.execute("ROLLBACK")
            if missing and locked:
                raise AppwriteError(
                    "storage_file_not_found",
                    f"The content of stored file {missing} is missing from the project folder.",
                )
            for path in kept_files(project_dir):
                with contextlib.suppress(FileNotFoundError, IsADirectoryError):
                    manifest.add(copy(project_dir, content, path))
            still = live.execute("SELECT COUNT(*) FROM _files WHERE seq <= ?", (highest,)).fetchone()[0]
            return missing is None and still == listed
        finally:
            if live.in_transaction:
                live.execute("ROLLBACK")


@contextlib.contextmanager
def connection(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection to an existing database (never creating one), in autocommit mode."""
    handle = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, isolation_level=None, timeout=WRITE_WAIT)
    try:
        yield handle
    finally:
        handle.close()


def copy_stored_files(
    source: sqlite3.Connection, project_dir: Path, content: Path, manifest: ManifestWriter
) -> tuple[int, int, str | None]:
    """Copy the content of every stored file the snapshot lists: how many it lists, their highest sequence number,
    and the first one whose content was not there (`bucket/file`), if any."""
    listed = highest = 0
    missing = None
    storage = project_dir / "storage"
    for seq, bucket_id, file_id in source.execute(STORED_FILES):
        listed += 1
        highest = seq
        path = content_path(storage, bucket_id, file_id).relative_to(project_dir).as_posix()
        try:
            manifest.add(copy(project_dir, content, path))
        except (FileNotFoundError, IsADirectoryError):
            missing = missing or f"{bucket_id}/{file_id}"
    return listed, highest, missing


def kept_files(project_dir: Path) -> Iterator[str]:
    """The key material and the plain files of the deployments and the outbox (files being written, `.*.tmp`, and
    symbolic links left out), as paths inside the project folder."""
    yield KEY
    for tree in TREES:
        for directory, _, files in os.walk(project_dir / tree):
            for name in files:
                path = Path(directory) / name
                relative = path.relative_to(project_dir).as_posix()
                writing = name.startswith(".") and name.endswith(".tmp")
                if not writing and not path.is_symlink() and archive.plain_path(relative):
                    yield relative


def copy(project_dir: Path, content: Path | None, path: str) -> Entry:
    """The manifest entry of a file of the project folder, copied into `content` (or, None, only read)."""
    with archive.open_plain(project_dir / path) as handle:
        size, digest = archive.copy_file(handle, None if content is None else content / path)
    return Entry(path, size, digest)
