"""What starts a function besides a call, as part of the servers' background work (background.py): its events, its
cron schedule, and the executions scheduled with `scheduledAt`.

- Events: a function whose `events` match an event runs once for it, as Appwrite 1.9.6's functions worker runs
  it: trigger `event`, `POST /`, headers `x-appwrite-trigger: event`, `x-appwrite-event: <the event's name>`,
  `user-agent: Appwrite/1.9.6`, `content-type: application/json`, the event's payload as the JSON body, for the
  user who made the change (their id and a JWT). As in Appwrite, a disabled function is still triggered by its
  events. Each function follows the project's stream from its own cursor (`function:<id>` in `_event_cursors`,
  written as the webhooks' are: stream_worker.py), one event at a time, and moves past an event once its
  execution has ended: nothing is lost when the work stops, even killed (at-least-once: an execution under way
  then runs again). Functions run beside each other.
- Schedules and scheduled executions: every `TICK` seconds the functions whose schedule ticked and the
  executions whose time came (schedules.py) start, each on its own, with trigger `schedule`.

The clock is an argument (`clock`), so tests need not wait for a tick. One process does this work
for a project at a time: the one holding the project's `functions.lock`. `drain` makes one pass (`baas-mcp
background --once`): each function's pending events, then the schedules and executions due, all run to their end.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from ..event_stream import READ_LIMIT, EventReader
from ..events import Event
from ..stream_worker import POLL, Cursors, StreamWorker
from . import schedules, store
from .executions import Trigger, run_triggered

logger = logging.getLogger("baas_mcp")
LOCK_FILE = "functions.lock"
TICK = 1.0  # seconds between looks for schedules that ticked and executions whose time came
EVENT_HEADERS = {"user-agent": "Appwrite/1.9.6", "content-type": "application/json"}


@dataclass
class Tally:
    """What one pass ran: executions by function id."""

    executed: dict[str, int] = field(default_factory=dict)

    def count(self, function_id: str) -> None:
        self.executed[function_id] = self.executed.get(function_id, 0) + 1


def utc_now() -> datetime:
    return datetime.now(UTC)


def listening(project: Any) -> list[str]:
    """The functions of a project that have events."""
    with project.db.reading() as connection:
        return [function["$id"] for function in store.all_of(connection, "function") if function["events"]]


def has_work(project: Any) -> bool:
    """Whether a function of the project has events or a schedule, or an execution waits for its time."""
    with project.db.reading() as connection:
        return schedules.pending(connection) or any(
            function["events"] for function in store.all_of(connection, "function")
        )


def event_trigger(event: Event) -> Trigger:
    body = json.dumps(event.payload).encode()
    return Trigger("event", headers=dict(EVENT_HEADERS), body=body, user_id=event.user_id, event=event.name)


def due_now(now: datetime, project: Any) -> bool:
    """Whether anything is due at `now` (a read)."""
    with project.db.reading() as connection:
        functions = {function["$id"]: function for function in store.all_of(connection, "function")}
        return schedules.anything_due(connection, functions, now)


def take_due(now: datetime, project: Any) -> list[tuple[str, Trigger, str]]:
    """What is due at `now` (inside a write transaction): (function id, trigger, scheduled execution id or "")."""
    connection = project.connection
    functions = {function["$id"]: function for function in store.all_of(connection, "function")}
    due = [
        (function_id, Trigger("schedule"), "") for function_id in schedules.due_functions(connection, functions, now)
    ]
    for waiting in schedules.take_due_executions(connection, project.cipher, now):
        due.append((waiting.function_id, Trigger.scheduled(waiting.request, waiting.user_id), waiting.execution_id))
    return due


class EventFollower:
    """One function following the stream of its project."""

    def __init__(
        self, worker: FunctionWorker, project: Any, function_id: str, cursors: Cursors, tally: Tally | None = None
    ) -> None:
        self.worker = worker
        self.project = project
        self.function_id = function_id
        self.reader = EventReader(project, store.cursor_name(function_id))
        self.cursors = cursors
        self.cursor = 0
        # One pass (drain) counts here and stops once nothing is pending.
        self.tally = tally

    def events_wanted(self) -> frozenset[str] | None:
        """The function's events now (None once it is deleted)."""
        with self.project.db.reading() as connection:
            row = connection.execute("SELECT body FROM _functions WHERE id = ?", (self.function_id,)).fetchone()
        return None if row is None else frozenset(json.loads(row[0])["events"])

    async def run(self) -> None:
        """Run the function for its events until it is deleted or has none (or, in one pass, until none is left)."""
        await self.worker.change(self.project, lambda project: store.place_cursor(project.connection, self.function_id))
        self.cursor = await self.worker.thread(self.reader.position)
        with self.project.events.watching() as waiter:
            while await self.step() and self.tally is None:
                await waiter.wait(POLL)

    async def step(self) -> bool:
        """Run what is pending, batch after batch; False once the function is gone or has no events."""
        while True:
            wanted = await self.worker.thread(self.events_wanted)
            if not wanted:
                return False
            events = await self.worker.thread(self.project.events.read, self.cursor, READ_LIMIT)
            if not events:
                return True
            for event in events:
                if not wanted.isdisjoint(event.names):
                    await self.worker.execute(self.project, self.function_id, event_trigger(event))
                    if self.tally is not None:
                        self.tally.count(self.function_id)
                self.cursor = event.seq
                self.cursors.move(self.reader.name, event.seq)


class FunctionWorker(StreamWorker):
    """Starts the functions of every project of an engine on their events, schedules and scheduled executions."""

    lock_file = LOCK_FILE
    what = "run functions on events and schedules"

    def __init__(self, engine: Any, poll: float = POLL, clock: Callable[[], datetime] = utc_now) -> None:
        super().__init__(engine, poll)
        self.clock = clock

    async def execute(self, project: Any, function_id: str, trigger: Trigger, execution_id: str = "") -> None:
        """One execution, run to its end on a thread of the worker (a server stopping does not wait for it); one
        that cannot run (its runtime is gone from this machine) is logged and passed."""
        run = partial(run_triggered, self.engine, project.id, function_id, trigger, execution_id)
        try:
            await self.thread(run, abandon=True)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("function %s of project %s could not run (%s)", function_id, project.id, trigger.kind)

    async def take_due(self, project: Any) -> list[tuple[str, Trigger, str]]:
        """What is due at the clock's time, taken out (a write only when a read found something due)."""
        now = self.clock()
        if not await self.thread(due_now, now, project):
            return []
        return await self.change(project, partial(take_due, now)) or []

    async def work(self, project: Any) -> None:
        """Follow the stream for each function that has events, and start what is due every tick, until the
        project is deleted."""
        ticking = asyncio.create_task(self.tick_until_deleted(project))
        try:
            await self.follow(project, partial(listening, project), partial(EventFollower, self, project))
        finally:
            ticking.cancel()
            await asyncio.gather(ticking, return_exceptions=True)

    async def tick_until_deleted(self, project: Any) -> None:
        running: set[asyncio.Task] = set()
        try:
            while not project.deleted:
                for function_id, trigger, execution_id in await self.take_due(project):
                    task = asyncio.create_task(self.execute(project, function_id, trigger, execution_id))
                    running.add(task)
                    task.add_done_callback(running.discard)
                await asyncio.sleep(TICK)
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)

    async def drain_project(self, project: Any) -> Tally:
        """One pass: each function's pending events, then what is due at the clock's time."""
        tally, cursors = Tally(), Cursors(self, project)
        for function_id in await self.thread(listening, project):
            await EventFollower(self, project, function_id, cursors, tally).run()
        await cursors.write()
        due = await self.take_due(project)
        await asyncio.gather(*(self.execute(project, *item) for item in due))
        for function_id, _, _ in due:
            tally.count(function_id)
        return tally
