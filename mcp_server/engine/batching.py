"""Group commit: row writes that arrive together share one transaction, and so one sync to disk.

A write that arrives while a batch is being written waits for the next batch; the first writer to
find no batch in progress writes everyone waiting, then commits. Each write runs in its own
savepoint, so one that fails is undone alone and its caller gets its error; every caller is
answered only after the shared commit, so a write that was acknowledged is on disk. A lone write is
a batch of one, exactly as if it had its own transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import AppwriteError
from .projectdb import ProjectDB

MAX_BATCH = 256


@dataclass
class Pending:
    work: Callable[[], Any]
    result: Any = None
    error: BaseException | None = None
    done: bool = False

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result


class WriteBatches:
    """The writes waiting for one project's database, and the one writing them."""

    def __init__(self, db: ProjectDB, before: Callable[[], None]) -> None:
        self.db = db
        self.before = before
        self.condition = threading.Condition()
        self.waiting: list[Pending] = []
        self.writing = False

    def run(self, work: Callable[[], Any]) -> Any:
        """The result of `work()` once it is committed (or its error, with nothing of it kept)."""
        pending = Pending(work)
        with self.condition:
            self.waiting.append(pending)
            while self.writing and not pending.done:
                self.condition.wait()
            if pending.done:
                return pending.outcome()
            self.writing = True
            batch, self.waiting = self.waiting[:MAX_BATCH], self.waiting[MAX_BATCH:]
        try:
            self.write(batch)
        finally:
            with self.condition:
                self.writing = False
                self.condition.notify_all()
        return pending.outcome()

    def write(self, batch: list[Pending]) -> None:
        with self.db.lock:
            try:
                self.before()
                if len(batch) == 1:
                    self.write_alone(batch[0])
                    return
                with self.db.transaction():
                    for pending in batch:
                        try:
                            with self.db.transaction():
                                pending.result = pending.work()
                        except Exception as error:
                            pending.error = error
            except Exception as error:
                failed = AppwriteError("general_server_error", f"The write could not be committed: {error}", 500)
                for pending in batch:
                    pending.result, pending.error = None, pending.error or failed
            finally:
                for pending in batch:
                    pending.done = True

    def write_alone(self, pending: Pending) -> None:
        """A batch of one: its own transaction, no savepoint needed."""
        try:
            with self.db.transaction():
                pending.result = pending.work()
        except Exception as error:
            pending.error = error
