"""Progress of a migration: a bar per resource with the overall share, rate and ETA on a terminal
(rewritten in place with \\r), JSON lines with --json, nothing otherwise."""

from __future__ import annotations

import json
import time
from typing import TextIO

REFRESH_S = 0.2


class Progress:
    def __init__(self, stream: TextIO, mode: str) -> None:
        """`mode`: "bar" (a terminal, redrawn at most every REFRESH_S), "json" (one JSON line per step), or
        "quiet"."""
        self.stream = stream
        self.mode = mode
        self.totals: dict[str, int] = {}
        self.done: dict[str, int] = {}
        self.started: dict[str, float] = {}
        self.shown = 0.0

    def start(self, task: str, total: int) -> None:
        self.totals[task] = self.totals.get(task, 0) + total
        self.done.setdefault(task, 0)
        self.started.setdefault(task, time.monotonic())
        self.show(task, force=True)

    def advance(self, task: str, amount: int = 1) -> None:
        self.done[task] = self.done.get(task, 0) + amount
        self.totals[task] = max(self.totals.get(task, 0), self.done[task])
        self.started.setdefault(task, time.monotonic())
        self.show(task, force=self.done[task] == self.totals[task])

    def show(self, task: str, force: bool = False) -> None:
        if self.mode == "quiet":
            return
        now = time.monotonic()
        if not force and self.mode == "bar" and now - self.shown < REFRESH_S:
            return
        self.shown = now
        done, total = self.done[task], self.totals[task]
        elapsed = max(now - self.started[task], 1e-6)
        rate = done / elapsed
        eta = (total - done) / rate if rate > 0 else None
        overall = sum(self.done.values()) / max(sum(self.totals.values()), 1)
        if self.mode == "json":
            line = {
                "event": "progress",
                "resource": task,
                "done": done,
                "total": total,
                "rate": round(rate, 1),
                "eta": None if eta is None else round(eta, 1),
                "overall": round(overall, 4),
            }
            self.stream.write(json.dumps(line) + "\n")
        else:
            filled = int(20 * done / total) if total else 20
            bar = "#" * filled + "-" * (20 - filled)
            left = "" if eta is None else f" ETA {eta:.0f}s"
            self.stream.write(
                f"\r{task[:32]:<32} [{bar}] {done:,}/{total:,} {rate:,.0f}/s{left}  overall {overall:.0%}\033[K"
            )
        self.stream.flush()

    def close(self) -> None:
        if self.mode == "bar" and self.totals:
            self.stream.write("\n")
            self.stream.flush()
