"""A permission-aware cache of list results with a time to live.

Entries are keyed by (table, request, roles): a caller with other roles never sees another caller's
cached rows. Any write to a table drops that table's entries; a schema change, or a commit by
another process, drops them all.
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
        self.entries: OrderedDict[tuple, tuple[float, Any]] = OrderedDict()
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
            return entry[1]

    def put(self, key: tuple, value: Any) -> None:
        if not self.enabled:
            return
        with self.lock:
            self.entries[key] = (time.monotonic() + self.ttl, value)
            self.entries.move_to_end(key)
            while len(self.entries) > MAX_ENTRIES:
                self.entries.popitem(last=False)

    def invalidate(self, table_seq: int) -> None:
        """Drop every entry of one table (keys start with the table's sequence number)."""
        with self.lock:
            for key in [key for key in self.entries if key[0] == table_seq]:
                del self.entries[key]

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
