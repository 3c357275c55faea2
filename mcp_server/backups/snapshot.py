"""Taking a backup of a project while servers keep reading and writing it (`baas-mcp backup create`).

The database is copied with SQLite's online backup API from a read transaction: one committed state, every bulk
write in it whole or absent, taken beside the writers (WAL) without stopping them. The stored files taken are
exactly those the snapshot lists; each is there, because a file's content is moved into place inside the
transaction that records it (storage/stored_files.py), and is never changed in place after, only removed. Right
after the snapshot begins, each is hard-linked into the backup (a quick step; copied where hard links cannot be
made). A file deleted since the snapshot may be gone, or its id taken again, by then: a file row's sequence number
is never used again, so the live database still holding as many rows up to the snapshot's highest number as the
snapshot did proves none went in between, and every link holds the content of its row. Otherwise the backup is
taken again; the last try holds the database's write lock while it links (writers wait, as they wait for one
another). Then, from the same snapshot, the database is copied and each link replaced by a copy of its own. The key
material, the functions' and sites' deployments and the outbox are copied after. Each file's SHA-256 goes into the
manifest as it is copied (archive.py).
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
        archive.settle()
        os.rename(staging, root / backup_id)
        archive.settle()
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
            listed, highest, missing = link_stored_files(source, project_dir, content)
            if missing and locked:
                raise AppwriteError(
                    "storage_file_not_found",
                    f"The content of stored file {missing} is missing from the project folder.",
                )
            still = live.execute("SELECT COUNT(*) FROM _files WHERE seq <= ?", (highest,)).fetchone()[0]
            if missing or still != listed:
                return False
        finally:
            if live.in_transaction:
                live.execute("ROLLBACK")
        os.close(create_private(content / DATABASE))
        with contextlib.closing(sqlite3.connect(content / DATABASE)) as target:
            source.backup(target)
        manifest.add(copy(content, None, DATABASE))
        for path in stored_paths(source, project_dir):
            manifest.add(detach(content, path))
        source.execute("ROLLBACK")
    for path in kept_files(project_dir):
        with contextlib.suppress(FileNotFoundError, IsADirectoryError):
            manifest.add(copy(project_dir, content, path))
    return True


@contextlib.contextmanager
def connection(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection to an existing database (never creating one), in autocommit mode."""
    handle = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, isolation_level=None, timeout=WRITE_WAIT)
    try:
        yield handle
    finally:
        handle.close()


def stored_paths(source: sqlite3.Connection, project_dir: Path) -> Iterator[str]:
    """The paths (inside the project folder) of the stored files the snapshot lists, in order."""
    storage = project_dir / "storage"
    for _, bucket_id, file_id in source.execute(STORED_FILES):
        yield content_path(storage, bucket_id, file_id).relative_to(project_dir).as_posix()


def link_stored_files(source: sqlite3.Connection, project_dir: Path, content: Path) -> tuple[int, int, str | None]:
    """Take the content of every stored file the snapshot lists into `content`, as a hard link (quick: the content
    of a stored file is never changed in place, only replaced or removed), else as a copy: how many files the
    snapshot lists, their highest sequence number, and the first whose content was not there, if any."""
    listed = highest = 0
    missing = None
    storage = project_dir / "storage"
    for seq, bucket_id, file_id in source.execute(STORED_FILES):
        listed += 1
        highest = seq
        live = content_path(storage, bucket_id, file_id)
        target = content / live.relative_to(project_dir)
        try:
            link_or_copy(live, target)
        except FileNotFoundError:
            missing = missing or f"{bucket_id}/{file_id}"
    return listed, highest, missing


def link_or_copy(source: Path, target: Path) -> None:
    make_private_dirs(target.parent)
    try:
        os.link(source, target, follow_symlinks=False)
    except FileNotFoundError:
        raise
    except OSError:  # no hard links here (another file system, or one without them)
        with archive.open_plain(source) as handle:
            archive.copy_file(handle, target)


def detach(content: Path, path: str) -> Entry:
    """The manifest entry of a stored file taken into `content`, made a copy of its own if it is a hard link."""
    target = content / path
    if os.lstat(target).st_nlink == 1:
        return copy(content, None, path)
    temporary = target.with_name(f".{target.name}.copy")
    with archive.open_plain(target) as handle:
        size, digest = archive.copy_file(handle, temporary)
    os.replace(temporary, target)
    return Entry(path, size, digest)


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
