"""A lock one process at a time holds on a file, released by the system when that process ends however it
ends (a crash or SIGKILL included): which of the processes sharing a data directory does a project's
background work (delivering its webhooks). And the lock every process that has a project open shares
(`IN_USE`, held with `hold_shared`), which a restore of the project takes alone before it puts a new folder in place.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from .private_files import PRIVATE_FILE, make_private_dirs

IN_USE = "in-use.lock"


class ProcessLock:
    """The lock on `path` (created 0600 if missing), taken with `acquire` and given back with `release`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.descriptor: int | None = None

    def acquire(self) -> bool:
        """Take the lock without waiting; whether this process holds it now."""
        if self.descriptor is not None:
            return True
        try:
            descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), PRIVATE_FILE)
        except OSError:
            return False
        if not lock(descriptor):
            os.close(descriptor)
            return False
        self.descriptor = descriptor
        return True

    def release(self) -> None:
        if self.descriptor is not None:
            with contextlib.suppress(OSError):
                os.close(self.descriptor)
            self.descriptor = None


def lock(descriptor: int) -> bool:
    """An exclusive lock on an open file, if no other process holds one."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def hold_shared(path: Path) -> int | None:
    """Hold a shared lock on `path` (created 0600 with its folder if missing), waiting while a process holds it
    alone; the open descriptor, whose closing lets go (None where the system has no shared locks: Windows).

    Taken again when the file was replaced while waiting (a restore put a new folder in place), so the lock held is
    always the one at `path`."""
    try:
        import fcntl
    except ImportError:  # Windows
        return None
    while True:
        make_private_dirs(path.parent)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), PRIVATE_FILE)
        fcntl.flock(descriptor, fcntl.LOCK_SH)
        try:
            if os.stat(path).st_ino == os.fstat(descriptor).st_ino:
                return descriptor
        except FileNotFoundError:
            pass
        os.close(descriptor)
