"""A permission-aware cache of list results with a time to live.

Entries are keyed by (table, request, roles): a caller with other roles never sees another caller's
cached rows. Each entry records the tables whose rows it shows (its own, and tables it reaches
through relationships); a write to any of them drops it. A schema change, or a commit by another
process, drops every entry.

Reads run beside writes, so a read may finish after a write it did not see has committed. A read
therefore notes the cache's clock before it starts (`clock`), and its result is kept only if none
of its tables was written to since, nor is being written to now: a write marks its tables when it
makes its change (`invalidate`) and stamps them with the clock once its transaction has ended
(`settle`).

KeptLists is the other cache, the one a caller asks for with `ttl` on listRows/listDocuments (Appwrite 1.9):
an answer is kept for the caller's ttl whatever is written meanwhile (as in Appwrite, row writes do not drop
it, so it may be that stale); the key holds the schema epoch, so a schema change (and updateTable, with or
without `purge`) retires it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

MAX_ENTRIES = 1024


class ListCache:
    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.entries: OrderedDict[tuple, tuple[float, frozenset[int], Any]] = OrderedDict()
        self.lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.clock = 0
        self.cleared = 0
        self.written: dict[int, int] = {}
        self.writing: set[int] = set()

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def get(self, key: tuple) -> Any | None:
        if not self.enabled:
            return None
        with self.lock:
            entry = self.entries.get(key)
            if entry is None or entry[0] < time.monotonic():
                if entry is not None:
                    del self.entries[key]
                self.misses += 1
                return None
            self.entries.move_to_end(key)
            self.hits += 1
            return entry[2]

    def put(self, key: tuple, value: Any, tables: frozenset[int], since: int) -> None:
        """Cache `value`, read from a snapshot taken after the clock read `since`; it is dropped when
        any of `tables` is written to, and not kept at all if one was written to after `since`."""
        if not self.enabled:
            return
        with self.lock:
            if self.cleared > since or any(
                table in self.writing or self.written.get(table, 0) > since for table in tables
            ):
                return
            self.entries[key] = (time.monotonic() + self.ttl, tables, value)
            self.entries.move_to_end(key)
            while len(self.entries) > MAX_ENTRIES:
                self.entries.popitem(last=False)

    def invalidate(self, table_seq: int) -> None:
        """A write is changing this table: drop every entry that shows its rows, until it has settled."""
        with self.lock:
            self.writing.add(table_seq)
            self.drop(table_seq)

    def settle(self) -> None:
        """The transaction of the tables being written to has ended: results read before now are stale."""
        with self.lock:
            if not self.writing:
                return
            self.clock += 1
            for table_seq in self.writing:
                self.written[table_seq] = self.clock
                self.drop(table_seq)
            self.writing.clear()

    def drop(self, table_seq: int) -> None:
        for key in [key for key, entry in self.entries.items() if table_seq in entry[1]]:
            del self.entries[key]

    def clear(self) -> None:
        with self.lock:
            self.clock += 1
            self.cleared = self.clock
            self.entries.clear()


class KeptLists:
    """List answers kept for a caller-chosen time: (when kept, value) by key, the oldest dropped past MAX_ENTRIES."""

    def __init__(self) -> None:
        self.entries: OrderedDict[tuple, tuple[float, Any]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple, ttl: float) -> Any | None:
        """The answer kept under `key` less than `ttl` seconds ago, if any."""
        with self.lock:
            entry = self.entries.get(key)
            if entry is None or time.monotonic() - entry[0] >= ttl:
                return None
            self.entries.move_to_end(key)
            return entry[1]

    def put(self, key: tuple, value: Any) -> None:
        with self.lock:
            self.entries[key] = (time.monotonic(), value)
            self.entries.move_to_end(key)
            while len(self.entries) > MAX_ENTRIES:
                self.entries.popitem(last=False)
