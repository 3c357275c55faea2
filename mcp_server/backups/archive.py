"""The backups folder of a data directory and what one backup holds, checked before anything trusts it.

`<data dir>/.backups/<backup id>/` holds `backup.json` (the backup's `$id`, project, `$createdAt`, file count, total
size, and the SHA-256 of its manifest), `manifest.jsonl` (one line per file: its path in the project folder, size
and SHA-256) and `project/`, the files themselves as they lie in a project folder. A backup is written under a
dot-name beside its place and renamed into it once whole, so a backup listed is a complete one.

Everything read from a backup may lie: ids are checked before they name a folder, the header and each manifest line
are read with a bounded size, a manifest path is a plain relative path inside the project folder (no `..`, no
absolute path), files are opened without following symbolic links and read in bounded chunks up to their declared
size, and a backup with a symbolic link (or any entry that is not a plain file or folder) is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ..engine.errors import AppwriteError
from ..engine.private_files import create_private, make_private_dirs

BACKUPS = ".backups"
HEADER = "backup.json"
MANIFEST = "manifest.jsonl"
CONTENT = "project"
DATABASE = "project.sqlite3"
KEY = "encryption.key"
# What a project folder holds that a backup keeps: the database, the key material, stored files, deployments and
# the outbox (lock files, pending chunked uploads and the trash are left out).
KEPT = (DATABASE, KEY, "storage", "functions", "sites", "outbox")
FORMAT = 1
CHUNK = 1 << 20
MAX_HEADER = 64 * 1024
MAX_LINE = 8 * 1024
MAX_DEPTH = 32
MAX_FILES = 50_000_000
MAX_SIZE = 1 << 50
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,35}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Entry:
    """One file of a backup: its path inside the project folder, its size and its SHA-256."""

    path: str
    size: int
    sha256: str


def invalid(message: str) -> AppwriteError:
    return AppwriteError("general_argument_invalid", message)


def check_id(backup_id: str) -> str:
    if not isinstance(backup_id, str) or not _ID.fullmatch(backup_id):
        raise invalid(
            f"Invalid backup ID {str(backup_id)[:80]!r}: use up to 36 characters a-z A-Z 0-9 . - _, "
            "not starting with a special character."
        )
    return backup_id


def not_found(backup_id: str) -> AppwriteError:
    return AppwriteError(
        "general_argument_invalid", f"Backup with the requested ID '{backup_id}' could not be found.", 404
    )


def backups_root(data_dir: Path) -> Path:
    return Path(data_dir) / BACKUPS


def backup_folder(data_dir: Path, backup_id: str) -> Path:
    """The folder of an existing backup (a real folder, never a symbolic link)."""
    folder = backups_root(data_dir) / check_id(backup_id)
    try:
        mode = os.lstat(folder).st_mode
    except FileNotFoundError:
        raise not_found(backup_id) from None
    if stat.S_ISLNK(mode):
        raise damaged(backup_id, "its folder is a symbolic link")
    if not stat.S_ISDIR(mode):
        raise not_found(backup_id)
    return folder


def damaged(backup_id: str, what: str) -> AppwriteError:
    return invalid(f"Backup '{backup_id}' is damaged and was not used: {what}.")


# --- files -----------------------------------------------------------------------------------------------------


def open_plain(path: Path) -> BinaryIO:
    """A plain file opened for reading, never through a symbolic link."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise IsADirectoryError(f"{path} is not a plain file")
    return os.fdopen(descriptor, "rb")


def copy_file(source: BinaryIO, target: Path | None, limit: int = MAX_SIZE) -> tuple[int, str]:
    """Read `source` to its end (at most `limit` + 1 bytes), writing it to the new file `target` when given (flushed
    to disk by the caller's `settle`); its size and SHA-256."""
    digest = hashlib.sha256()
    size = 0
    output = None
    if target is not None:
        make_private_dirs(target.parent)
        output = os.fdopen(create_private(target), "wb")
    try:
        while size <= limit:
            chunk = source.read(min(CHUNK, limit + 1 - size))
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
            if output is not None:
                output.write(chunk)
    finally:
        if output is not None:
            output.close()
    return size, digest.hexdigest()


def settle() -> None:
    """Flush what was written to disk: one sync for all the files of a backup or a restore, before the rename that
    puts it in place, is far quicker than one per file (where the system has no sync, Windows, it writes them back
    in its own time)."""
    sync = getattr(os, "sync", None)
    if sync is not None:
        sync()


def remove_tree(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


# --- the header and the manifest -------------------------------------------------------------------------------


def summary(header: dict) -> dict:
    """A backup as `backup list --json` shows it."""
    return {name: header[name] for name in ("$id", "project", "$createdAt", "size", "files")}


def write_header(folder: Path, header: dict) -> None:
    with os.fdopen(create_private(folder / HEADER), "w", encoding="utf-8") as handle:
        json.dump(header, handle)


def read_header(folder: Path, backup_id: str) -> dict:
    """The header of a backup, checked field by field."""
    try:
        with open_plain(folder / HEADER) as handle:
            text = handle.read(MAX_HEADER + 1)
    except OSError:
        raise damaged(backup_id, f"{HEADER} is missing or not a plain file") from None
    if len(text) > MAX_HEADER:
        raise damaged(backup_id, f"{HEADER} is larger than {MAX_HEADER} bytes")
    try:
        header = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise damaged(backup_id, f"{HEADER} is not JSON") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("$id") != backup_id:
        raise damaged(backup_id, f"{HEADER} is not the header of backup format {FORMAT} with this ID")
    project, created = header.get("project"), header.get("$createdAt")
    if not isinstance(project, str) or not _ID.fullmatch(project) or not isinstance(created, str) or len(created) > 64:
        raise damaged(backup_id, f"{HEADER} names no valid project or creation time")
    for name, high in (("files", MAX_FILES), ("size", MAX_SIZE)):
        value = header.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= high:
            raise damaged(backup_id, f"{HEADER} has no valid {name}")
    if not isinstance(header.get("manifest"), str) or not _SHA256.fullmatch(header["manifest"]):
        raise damaged(backup_id, f"{HEADER} has no valid manifest checksum")
    return header


class ManifestWriter:
    """Writes a backup's manifest as files are added, counting them and hashing what it writes."""

    def __init__(self, folder: Path) -> None:
        self.handle = os.fdopen(create_private(folder / MANIFEST), "wb")
        self.digest = hashlib.sha256()
        self.files = 0
        self.size = 0

    def add(self, entry: Entry) -> None:
        line = json.dumps({"path": entry.path, "size": entry.size, "sha256": entry.sha256}).encode() + b"\n"
        self.handle.write(line)
        self.digest.update(line)
        self.files += 1
        self.size += entry.size

    def close(self) -> None:
        self.handle.close()


def entries(folder: Path, backup_id: str) -> Iterator[Entry]:
    """The manifest's entries, each checked: a plain relative path under a kept name, a size, a SHA-256."""
    with open_plain(folder / MANIFEST) as handle:
        number = 0
        while True:
            line = handle.readline(MAX_LINE + 1)
            if not line:
                return
            number += 1
            if len(line) > MAX_LINE or not line.endswith(b"\n"):
                raise damaged(backup_id, f"{MANIFEST} line {number} is too long or cut short")
            yield entry_of(line, f"{MANIFEST} line {number}", backup_id)


def entry_of(line: bytes, where: str, backup_id: str) -> Entry:
    try:
        fields: Any = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        raise damaged(backup_id, f"{where} is not JSON") from None
    if not isinstance(fields, dict) or not plain_path(fields.get("path")):
        raise damaged(backup_id, f"{where} names no plain path inside the project folder")
    size, digest = fields.get("size"), fields.get("sha256")
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_SIZE:
        raise damaged(backup_id, f"{where} has no valid size")
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise damaged(backup_id, f"{where} has no valid sha256")
    return Entry(fields["path"], size, digest)


def plain_path(path: object) -> bool:
    """A relative path inside a project folder, under a name a backup keeps: no `.`, `..` or empty part."""
    if not isinstance(path, str) or not 0 < len(path) <= 1024 or "\x00" in path or "\\" in path:
        return False
    parts = path.split("/")
    if len(parts) > MAX_DEPTH or any(part in ("", ".", "..") for part in parts):
        return False
    return parts[0] in KEPT and (len(parts) == 1) == (parts[0] in (DATABASE, KEY))


def plain_files(folder: Path, backup_id: str) -> int:
    """How many plain files are under `folder`; a symbolic link or any other kind of entry there is refused."""
    count = 0
    for directory, folders, files in os.walk(folder):
        for name in (*folders, *files):
            path = Path(directory) / name
            mode = os.lstat(path).st_mode
            shown = path.relative_to(folder.parent).as_posix()
            if stat.S_ISLNK(mode):
                raise damaged(backup_id, f"{shown} is a symbolic link")
            if stat.S_ISREG(mode):
                count += 1
            elif not stat.S_ISDIR(mode):
                raise damaged(backup_id, f"{shown} is not a plain file")
    return count


def verify(folder: Path, backup_id: str) -> dict:
    """Check a whole backup against its manifest without writing anything; its header. The first fault found is
    refused with an error naming the file."""
    header = read_header(folder, backup_id)
    try:
        with open_plain(folder / MANIFEST) as handle:
            _, digest = copy_file(handle, None)
    except OSError:
        raise damaged(backup_id, f"{MANIFEST} is missing or not a plain file") from None
    if digest != header["manifest"]:
        raise damaged(backup_id, f"{MANIFEST} does not match its checksum")
    content = folder / CONTENT
    if not content.is_dir() or content.is_symlink():
        raise damaged(backup_id, f"{CONTENT}/ is missing")
    on_disk = plain_files(content, backup_id)
    files = size = 0
    database = False
    for entry in entries(folder, backup_id):
        check_file(content, entry, backup_id)
        files += 1
        size += entry.size
        database = database or entry.path == DATABASE
    if not database:
        raise damaged(backup_id, f"{MANIFEST} lists no {DATABASE}")
    if (files, size) != (header["files"], header["size"]) or on_disk != files:
        raise damaged(
            backup_id, f"{CONTENT}/ holds {on_disk} files, {MANIFEST} lists {files}, {HEADER} says {header['files']}"
        )
    return header


def check_file(content: Path, entry: Entry, backup_id: str, target: Path | None = None) -> None:
    """Read one file of a backup (copying it to `target` when given) and check it against its entry."""
    shown = f"{CONTENT}/{entry.path}"
    try:
        with open_plain(content / entry.path) as handle:
            size, digest = copy_file(handle, target, entry.size)
    except FileExistsError:
        raise damaged(backup_id, f"{shown} is listed twice") from None
    except OSError:
        raise damaged(backup_id, f"{shown} is missing or not a plain file") from None
    if size != entry.size or digest != entry.sha256:
        raise damaged(backup_id, f"{shown} does not match its checksum (sha256)")


# --- the backups of a data directory ---------------------------------------------------------------------------


def headers(data_dir: Path) -> Iterator[tuple[str, dict | AppwriteError]]:
    """Each backup's id with its header (or why it cannot be read), in order of creation."""
    root = backups_root(data_dir)
    found = []
    for name in sorted(os.listdir(root)) if root.is_dir() else []:
        if not _ID.fullmatch(name):
            continue
        try:
            found.append((name, read_header(backup_folder(data_dir, name), name)))
        except AppwriteError as error:
            found.append((name, error))
    found.sort(key=lambda item: (item[1]["$createdAt"] if isinstance(item[1], dict) else "", item[0]))
    return iter(found)


def delete(data_dir: Path, backup_id: str) -> None:
    """Remove a backup: renamed aside at once (it is never seen half removed), then deleted."""
    folder = backup_folder(data_dir, backup_id)
    aside = folder.with_name(f".deleting-{backup_id}-{os.urandom(4).hex()}")
    os.rename(folder, aside)
    remove_tree(aside)


def keep_newest(data_dir: Path, project: str, keep: int) -> list[str]:
    """Delete the project's backups beyond the `keep` newest; the ids deleted."""
    mine = [
        backup_id
        for backup_id, header in headers(data_dir)
        if isinstance(header, dict) and header["project"] == project
    ]
    gone = mine[: max(0, len(mine) - keep)]
    for backup_id in gone:
        delete(data_dir, backup_id)
    return gone
