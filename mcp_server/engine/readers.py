"""Read connections to a project's database, and the time bound on every read.

A read borrows a connection of its own for as long as it runs (SQLite's WAL lets any number of them
read beside the one writer), so a slow read holds up neither the writes nor other reads. Idle
connections are kept for the next reads, up to MAX_IDLE. A read that runs longer than its limit is
stopped with Appwrite's `database_timeout`; closing stops every running read at once.
"""

from __future__ import annotations

import math
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import AppwriteError

# SQLite asks the guard whether to go on every this many virtual machine steps (well under a millisecond).
GUARD_STEPS = 10_000
# Idle read connections kept for the next reads: enough that a busy server's concurrent reads reuse them
# instead of opening (and parsing the schema on) a new connection each time.
MAX_IDLE = 16
Prepare = Callable[[sqlite3.Connection], None]


class Guard:
    """Stops one connection's statements once the read running on it is past its deadline, or the
    database is closing. Statements outside a bounded read (writes) are never stopped."""

    def __init__(self, connection: sqlite3.Connection, closing: threading.Event) -> None:
        self.connection = connection
        self.closing = closing
        self.deadline: float | None = None
        connection.set_progress_handler(self.expired, GUARD_STEPS)

    def expired(self) -> bool:
        deadline = self.deadline
        return deadline is not None and (self.closing.is_set() or time.monotonic() > deadline)

    @contextmanager
    def bounded(self, limit: float | None) -> Iterator[None]:
        """Statements inside stop after `limit` seconds (None: only when closing), with an AppwriteError."""
        self.deadline = math.inf if limit is None else time.monotonic() + limit
        try:
            yield
        except sqlite3.OperationalError as error:
            if str(error) != "interrupted":
                raise
            if self.closing.is_set():
                raise closed() from None
            raise AppwriteError(
                "database_timeout", "Database timed out. Try adjusting your queries or adding an index.", 408
            ) from None
        finally:
            self.deadline = None


def closed() -> AppwriteError:
    """What a call gets once the engine is closing: the server is going away."""
    return AppwriteError("general_server_error", "The server is shutting down: the database is closed.", 500)


class Readers:
    """The read connections of one database file."""

    def __init__(self, path: Path, prepare: Prepare | None, closing: threading.Event) -> None:
        self.path = path
        self.prepare = prepare
        self.closing = closing
        self.lock = threading.Lock()
        self.idle: list[Guard] = []
        self.lent: set[Guard] = set()

    def open(self) -> Guard:
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA query_only=ON")
        if self.prepare is not None:
            self.prepare(connection)
        return Guard(connection, self.closing)

    @contextmanager
    def lend(self, limit: float | None = None) -> Iterator[sqlite3.Connection]:
        """A connection for one read, bounded by `limit` seconds; it goes back to the idle ones after."""
        with self.lock:
            guard = self.idle.pop() if self.idle else None
        if guard is None:
            guard = self.open()
        with self.lock:
            if self.closing.is_set():
                guard.connection.close()
                raise closed()
            self.lent.add(guard)
        try:
            with guard.bounded(limit):
                yield guard.connection
        finally:
            with self.lock:
                self.lent.discard(guard)
                if self.closing.is_set() or len(self.idle) >= MAX_IDLE or guard.connection.in_transaction:
                    guard.connection.close()
                else:
                    self.idle.append(guard)

    def close(self) -> None:
        """Stop the running reads now (they fail with general_server_error) and close the idle connections."""
        with self.lock:
            self.closing.set()
            for guard in self.lent:
                guard.connection.interrupt()
            for guard in self.idle:
                guard.connection.close()
            self.idle.clear()
