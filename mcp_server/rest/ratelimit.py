"""Rate limits for callers without an API key, as the catalog gives them per operation.

An operation's limit is `limit` calls per `seconds`, counted per key: each key is a template such
as `url:{url},email:{param-email}` filled from the request (the route, the caller's address and
user id, the method, a parameter). A call counts against every key of its operation, whether it
succeeds or not (so guessing passwords is slowed down too); one key over its limit refuses the call
with 429 `general_rate_limit_exceeded`. Windows slide: a call is forgotten `seconds` after it was
made. Counts live in this process.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque

from ..catalog import Operation
from ..engine.errors import AppwriteError

PLACEHOLDER = re.compile(r"\{([^}]+)\}")
FORGET_EVERY = 10_000


class RateLimiter:
    def __init__(self, clock=time.monotonic) -> None:
        self.clock = clock
        self.calls: dict[str, deque[float]] = {}
        self.lock = threading.Lock()
        self.counted = 0

    def count(self, op: Operation, params: dict, ip: str, user_id: str | None) -> None:
        """Count this call against its operation's limit; AppwriteError (429) when over it."""
        limit = op.rate_limit
        if not limit:
            return
        values = {"url": op.path, "method": op.http_method, "ip": ip, "userId": user_id or ""}
        now = self.clock()
        keys = [f"{op.id}|{fill(template, values, params)}" for template in limit["keys"]]
        with self.lock:
            self.counted += 1
            if self.counted % FORGET_EVERY == 0:
                self.forget(now)
            windows = [self.window(key, now, limit["seconds"]) for key in keys]
            if any(len(window) >= limit["limit"] for window in windows):
                raise AppwriteError(
                    "general_rate_limit_exceeded",
                    "Rate limit for the current endpoint has been exceeded. Please try again after some time.",
                    429,
                )
            for window in windows:
                window.append(now)

    def window(self, key: str, now: float, seconds: float) -> deque[float]:
        window = self.calls.setdefault(key, deque())
        while window and window[0] <= now - seconds:
            window.popleft()
        return window

    def forget(self, now: float, longest: float = 3600) -> None:
        """Drop keys with no call in the longest window, so memory stays bounded."""
        for key in [key for key, window in self.calls.items() if not window or window[-1] <= now - longest]:
            del self.calls[key]


def fill(template: str, values: dict[str, str], params: dict) -> str:
    def value(found: re.Match) -> str:
        name = found.group(1)
        if name.startswith("param-"):
            return str(params.get(name[len("param-") :], "")).lower()
        return str(values.get(name, ""))

    return PLACEHOLDER.sub(value, template)
