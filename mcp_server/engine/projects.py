"""The state of one project in this process: its database, encryption key, schema and list caches,
the batches its row writes are committed in, its event stream, and its cached settings.

Writes run one at a time under the database's lock on its write connection; reads run beside them,
each on a read connection of its own (`reading`). The schema cache holds each table with the schema
epoch it was read at, and a read takes a cached table only from its own snapshot's epoch; list
results are cached only by reads that saw every commit so far (see list_cache.py). Settings read on
every request (which services and sign-in methods are on, the origins of its platforms) are cached
until a write here says it changed them (`settings_changed`) or another process commits. A project
whose deletion was committed (the tombstone in `_meta`, project/deletion.py) is marked `deleted`, here
or when another process's commit shows it, and is never used again. While open, its database holds the folder's
in-use lock, shared with the other processes that have it open (projectdb.py): a restore never replaces it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .batching import WriteBatches
from .encryption import Cipher
from .event_stream import EventStream
from .events import DEFAULT_RETENTION, Retention, store_retention, stored_retention
from .list_cache import KeptLists, ListCache
from .projectdb import ProjectDB, project_path, schema_epoch, tombstoned
from .registry import prepare_connection


def in_write_transaction(state: Project, function: Callable[[], Any]) -> Any:
    """Run `function` as one write transaction of a project, under its write lock, after learning what
    other processes committed."""
    with state.db.lock:
        state.refresh()
        with state.db.transaction():
            return function()


@dataclass
class View:
    """What a running read sees: the list cache's clock when it began, whether it may use the list
    cache (it saw every commit of other processes), and its snapshot's schema epoch once asked."""

    since: int
    fresh: bool
    epoch: int | None = None


class Project:
    def __init__(
        self, data_dir: Path, project_id: str, list_cache_ttl: float, retention: Retention | None = None
    ) -> None:
        """`retention`, when given, becomes the project's (kept in its database for every process);
        otherwise the project's own applies."""
        path = project_path(data_dir, project_id)
        self.id = project_id
        self.cache = ListCache(list_cache_ttl)
        self.kept = KeptLists()
        self.events = EventStream(self)
        self.retention = DEFAULT_RETENTION
        # The event labels the running write has announced (the engine announces the rest of its route's).
        self.announced: set[str] = set()
        # Settings by name, read with `setting`; a generation counts their invalidations, so a read that
        # began before one never stores what it read.
        self.settings: dict[str, Any] = {}
        self.settings_generation = 0
        self.settings_lock = threading.Lock()
        self.settings_dirty = False
        self.db = ProjectDB(path, prepare=prepare_connection, settled=self.settled)
        self.cipher = Cipher(path.parent / "encryption.key")
        # Tables with their columns and indexes, by (database id, table id): (schema epoch, table).
        self.tables: dict[tuple[str, str], tuple[int, Any]] = {}
        self.local = threading.local()
        self.refreshing = threading.Lock()
        self.seen_version = self.db.data_version()
        self.seen_epoch = schema_epoch(self.db.connection)
        self.writes = WriteBatches(self.db, self.refresh)
        self.deleted = tombstoned(self.db.connection)
        if retention is not None:
            with self.db.lock, self.db.transaction() as connection:
                store_retention(connection, retention)
        self.retention = retention or stored_retention(self.db.connection)

    @property
    def connection(self) -> sqlite3.Connection:
        return self.db.current()

    def settled(self) -> None:
        """After each outermost transaction (under the write lock): settle the list cache, and wake
        the event stream's subscribers."""
        self.cache.settle()
        self.events.committed()
        if self.settings_dirty:
            self.settings_dirty = False
            self.forget_settings()

    def refresh(self) -> None:
        """Forget cached lists, and learn the schema epoch, when another process has changed the database
        (under the write lock)."""
        version = self.db.data_version()
        if version == self.seen_version:
            return
        self.seen_version = version
        self.cache.clear()
        self.forget_settings()
        self.deleted = tombstoned(self.db.connection)
        self.seen_epoch = schema_epoch(self.db.connection)

    @contextmanager
    def reading(self, limit: float | None) -> Iterator[None]:
        """Run a read beside the writes, stopped after `limit` seconds (database_timeout)."""
        if getattr(self.local, "view", None) is not None:
            yield
            return
        with self.db.reading(limit):
            fresh = self.refresh_if_idle()
            # The read's snapshot starts with its first statement: after the clock is read.
            self.local.view = View(self.cache.clock, fresh)
            try:
                yield
            finally:
                self.local.view = None

    def refresh_if_idle(self) -> bool:
        """Refresh unless a write holds the lock (a read never waits for one); whether it did.

        Reads take turns at this first (each refresh is one quick statement), so a read is only ever
        turned away by a write, never by another read refreshing."""
        with self.refreshing:
            if not self.db.lock.acquire(blocking=False):
                return False
            try:
                self.refresh()
                return True
            finally:
                self.db.lock.release()

    def view(self) -> View:
        """This thread's read, or (on the write path, under the lock) the latest state."""
        view = getattr(self.local, "view", None)
        return view if view is not None else View(self.cache.clock, True, self.seen_epoch)

    def epoch(self) -> int:
        """The schema epoch the running call sees."""
        view = self.view()
        if view.epoch is None:
            view.epoch = schema_epoch(self.connection)
        return view.epoch

    def cached(self, key: tuple) -> Any | None:
        """A cached list result, if this read may use one."""
        return self.cache.get(key) if self.view().fresh else None

    def remember(self, key: tuple, value: Any, tables: frozenset[int]) -> None:
        view = self.view()
        if view.fresh:
            self.cache.put(key, value, tables, view.since)

    def schema_changed(self) -> None:
        """Called after a schema change made here: drop cached schemas and lists."""
        self.tables.clear()
        self.cache.clear()
        self.seen_epoch = schema_epoch(self.db.connection)

    def setting(self, name: str, read: Callable[[sqlite3.Connection], Any]) -> Any:
        """A setting read on every request, from the cache or else with `read` on a read connection
        (never waiting for writes); another process's commits are noticed first when no write runs."""
        self.refresh_if_idle()
        settings = self.settings
        if name in settings:
            return settings[name]
        generation = self.settings_generation
        with self.db.readers.lend() as connection:
            value = read(connection)
        with self.settings_lock:
            if generation == self.settings_generation:
                self.settings[name] = value
        return value

    def settings_changed(self) -> None:
        """Called by a write that changes cached settings: they are read again once it ends."""
        self.settings_dirty = True

    def forget_settings(self) -> None:
        with self.settings_lock:
            self.settings_generation += 1
            self.settings = {}

    def close(self) -> None:
        self.db.close()
