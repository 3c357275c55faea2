"""A permission-aware cache of list results with a time to live.

Entries are keyed by (table, request, roles): a caller with other roles never sees another caller's
cached rows. Each entry records the tables whose rows it shows (its own, and tables it reaches
through relationships); a write to any of them drops it. A schema change, or a commit by another
process, drops every entry.
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

    def put(self, key: tuple, value: Any, tables: frozenset[int]) -> None:
        """Cache `value`, to be dropped when any of `tables` is written to."""
        if not self.enabled:
            return
        with self.lock:
            self.entries[key] = (time.monotonic() + self.ttl, tables, value)
            self.entries.move_to_end(key)
            while len(self.entries) > MAX_ENTRIES:
                self.entries.popitem(last=False)

    def invalidate(self, table_seq: int) -> None:
        """Drop every entry that shows rows of this table."""
        with self.lock:
            for key in [key for key, entry in self.entries.items() if table_seq in entry[1]]:
                del self.entries[key]

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
