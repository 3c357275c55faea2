"""Following a project's event stream: in-process subscribers and cursor-keeping workers.

A subscriber (`EventStream.subscribe`, an async iterator) receives every event committed after it
started, or after a sequence number it names, filtered by event patterns. It is woken the moment a
write of this process commits (`committed`, called after every outermost commit), and looks for the
commits of other processes (`baas-mcp call` beside `baas-mcp api`) every `poll` seconds; either way
it reads the events from the database, so it only ever sees committed ones, in order.

A worker (webhooks, function triggers) reads with `EventReader`: a named cursor kept in the project
database, moved on only when the worker says an event is done, so a worker that stops picks up
where it stopped (at-least-once).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field

import anyio.to_thread

from .datetimes import now_iso
from .events import Event, first_seq, last_seq, read_after

DEFAULT_POLL = 0.5
READ_LIMIT = 500


@dataclass(eq=False)
class Waiter:
    """Woken (from any thread) when a write of this process commits; `wait` returns then, or after a timeout."""

    loop: asyncio.AbstractEventLoop
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self) -> None:
        self.loop.call_soon_threadsafe(self.ready.set)

    async def wait(self, timeout: float) -> None:
        """Until the next commit after the last `wait` (one since then returns at once), or `timeout` seconds."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.ready.wait(), timeout)
        self.ready.clear()


class EventStream:
    """The events of one project, as they are committed."""

    def __init__(self, project) -> None:
        self.project = project
        self.waiters: set[Waiter] = set()
        self.lock = threading.Lock()

    def committed(self) -> None:
        """Wake every subscriber (called after each outermost transaction of this process ends)."""
        with self.lock:
            waiters = list(self.waiters)
        for waiter in waiters:
            waiter.wake()

    def read(self, cursor: int, limit: int = READ_LIMIT) -> list[Event]:
        """Committed events after `cursor` (a read of its own, beside the writes)."""
        with self.project.db.reading() as connection:
            return read_after(connection, cursor, limit, self.project.cipher)

    def last(self) -> int:
        with self.project.db.reading() as connection:
            return last_seq(connection)

    @contextlib.contextmanager
    def watching(self) -> Iterator[Waiter]:
        """A Waiter woken by every commit of this process while the block runs (in an event loop)."""
        waiter = Waiter(asyncio.get_running_loop())
        with self.lock:
            self.waiters.add(waiter)
        try:
            yield waiter
        finally:
            with self.lock:
                self.waiters.discard(waiter)

    async def subscribe(
        self, patterns: Iterable[str] | None = None, after: int | None = None, poll: float = DEFAULT_POLL
    ) -> AsyncIterator[Event]:
        """Events committed from now on (or after sequence number `after`) whose names include one
        of `patterns` (all events when None)."""
        wanted = frozenset(patterns) if patterns is not None else None
        with self.watching() as waiter:
            cursor = after if after is not None else await anyio.to_thread.run_sync(self.last)
            while True:
                waiter.ready.clear()
                events = await anyio.to_thread.run_sync(self.read, cursor)
                for event in events:
                    cursor = event.seq
                    if wanted is None or not wanted.isdisjoint(event.names):
                        yield event
                if len(events) < READ_LIMIT:
                    await waiter.wait(poll)


class EventReader:
    """A worker's place in the stream, kept in the project database under its name."""

    def __init__(self, project, name: str) -> None:
        self.project = project
        self.name = name

    def position(self) -> int:
        with self.project.db.reading() as connection:
            row = connection.execute("SELECT seq FROM _event_cursors WHERE name = ?", (self.name,)).fetchone()
        return row[0] if row else 0

    def pending(self, limit: int = READ_LIMIT) -> list[Event]:
        """The events the worker has not finished yet, oldest first."""
        return self.project.events.read(self.position(), limit)

    def missed(self) -> int:
        """How many events were pruned before the worker read them (0 when none)."""
        with self.project.db.reading() as connection:
            first = first_seq(connection)
        return max(0, first - self.position() - 1) if first else 0

    def done(self, seq: int) -> None:
        """Move the cursor past event `seq`, durably."""
        with self.project.db.lock, self.project.db.transaction() as connection:
            connection.execute(
                "INSERT INTO _event_cursors (name, seq, updated) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET seq = MAX(seq, excluded.seq), updated = excluded.updated",
                (self.name, seq, now_iso()),
            )
