"""Folders and files only their owner may open.

A project's folder holds its database (password hashes, personal data), its key material, its
stored files and its outbox; downloads hold copies of stored files. All of it is created readable
by the owner alone: folders 0700, files 0600 (SQLite gives its -wal and -shm files the database
file's mode). A project folder or database left wider by an older version is narrowed when opened.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def make_private_dirs(path: Path) -> Path:
    """`path` and any missing parents, each folder created 0700 (folders already there are left alone)."""
    missing = []
    for folder in (path, *path.parents):
        if folder.is_dir():
            break
        missing.append(folder)
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=PRIVATE_DIR)
    return path


def narrow(path: Path, mode: int) -> None:
    """Take away group and other permissions from an existing file or folder of ours."""
    with contextlib.suppress(FileNotFoundError):
        current = stat.S_IMODE(path.stat().st_mode)
        if current & ~mode:
            path.chmod(current & mode)


def prepare_database(path: Path) -> None:
    """The folder of a database and the database file itself, private, before SQLite opens it."""
    make_private_dirs(path.parent)
    narrow(path.parent, PRIVATE_DIR)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        narrow(file, PRIVATE_FILE)


def create_private(path: Path) -> int:
    """A new file at `path` (it must not exist), open for writing, readable by its owner only."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), PRIVATE_FILE)
