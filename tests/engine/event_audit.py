"""An engine that checks the events of every call it runs, as the engine tests use it.

After each call it reads the events the call added to the stream and notes what is wrong:
- a write whose route has event labels must have added, for each label, events with every name
  Appwrite makes of it, its ids filled in (`databases.[databaseId].tables.[tableId].create` is
  announced as `databases.shop.tables.orders.create`, `databases.shop.tables.orders`, …);
- a read adds no event, and neither does a call that fails (a failed call changes nothing), nor a
  write staged in a transaction (its events come when the transaction commits), nor a write whose
  labels the engine withheld (a chunk of an upload still incomplete).
Calls made while another call is running are not judged (their events mix). Every operation whose
events were checked is remembered, so a test can see that every write operation was walked.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from typing import Any

from mcp_server.engine import Engine
from mcp_server.engine.event_names import label_patterns
from mcp_server.engine.events import Event, last_seq, read_after
from mcp_server.engine.projectdb import project_path

# Operation ids whose announced events were checked in this test session, and whether the session
# runs every engine test (conftest.py decides).
WALKED: set[str] = set()
COMPLETE_RUN = False


def label_matches(label: str, name: str) -> bool:
    """Whether an event name is the label with ids in place of its placeholders."""
    pattern = re.escape(label)
    pattern = re.sub(r"\\\[\w+\\\]", r"[^.*]+", pattern)
    return re.fullmatch(pattern, name) is not None


class AuditedEngine(Engine):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.problems: list[str] = []
        self.running = 0
        self.counting = threading.Lock()
        self.connections: dict = {}

    def audit_connection(self, project: str) -> sqlite3.Connection:
        """A connection of the audit's own to the project's database (the engine's are left alone)."""
        path = project_path(self.data_dir, project)
        # A deleted project's database is a new file once the project is used again.
        try:
            inode = path.stat().st_ino
        except OSError:  # out of reach for now (a test made its folder unusable): the file is the one open
            inode = self.connections[path][0]
        if path not in self.connections or self.connections[path][0] != inode:
            if path in self.connections:
                self.connections[path][1].close()
            self.connections[path] = (inode, sqlite3.connect(path, check_same_thread=False))
        return self.connections[path][1]

    def events_after(self, project: str, seq: int) -> list[Event]:
        if not project_path(self.data_dir, project).exists():  # the call deleted the project
            return []
        return read_after(self.audit_connection(project), seq, 100_000, self.project(project).cipher)

    def last_seq(self, project: str) -> int:
        self.project(project)
        return last_seq(self.audit_connection(project))

    def close(self) -> None:
        super().close()
        for _, connection in self.connections.values():
            connection.close()

    def call(self, operation_id: str, params: dict | None = None, *args: Any, **kwargs: Any) -> Any:
        project = kwargs.get("project") or (args[1] if len(args) > 1 else "default")
        op = self.catalog.get(operation_id)
        staged = op is not None and op.group in ("rows", "documents") and bool((params or {}).get("transactionId"))
        with self.counting:
            self.running += 1
            alone = self.running == 1
        try:
            before = self.last_seq(project) if op is not None else 0
            try:
                result = super().call(operation_id, params, *args, **kwargs)
            except Exception:
                self.judge(op, project, before, alone, failed=True, staged=staged)
                raise
            self.judge(op, project, before, alone, failed=False, staged=staged)
            return result
        finally:
            with self.counting:
                self.running -= 1

    def judge(self, op, project: str, before: int, alone: bool, failed: bool, staged: bool) -> None:
        if op is None or self.closed:
            return
        with self.counting:
            alone = alone and self.running == 1
        if not alone:
            return
        added = self.events_after(project, before)
        if failed or op.access == "read":
            if added:
                why = "failed" if failed else "is a read"
                self.problems.append(f"{op.id} {why} but announced {[event.name for event in added]}")
            return
        if staged:
            if added:
                self.problems.append(f"{op.id} was staged in a transaction but announced {[e.name for e in added]}")
            return
        names = {name for event in added for name in event.names}
        # Labels the engine withheld on purpose (a chunk of an upload still incomplete) announce nothing.
        withheld = {label for label in self.project(project).announced if not added} if op.events else set()
        for label in op.events:
            if label in withheld:
                continue
            for pattern in label_patterns(label):
                if not any(label_matches(pattern, name) for name in names):
                    self.problems.append(f"{op.id} did not announce {pattern} (it announced {[e.name for e in added]})")
        WALKED.add(op.id)
