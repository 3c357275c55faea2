"""Delivering webhooks from the project's event stream, so that no committed event is lost.

Each webhook follows the stream from its own cursor (`webhook:<id>` in `_event_cursors`) and is sent
the events whose names include one of its patterns, one at a time and in the order they were committed.
The cursor moves past an event only once its delivery has an outcome; the cursors that moved are
written to the database together every `COMMIT_EVERY` seconds and when delivering stops: a process
that stops, even killed, starts again from the last cursors written, sending again at most the events
of that last moment (at-least-once; `X-Appwrite-Webhook-Delivery-Id` lets a receiver drop repeats).

Outcomes, as Appwrite counts them: every failed try adds one to the webhook's `attempts` and keeps its
log; a delivered one sets `attempts` back to 0; once `attempts` reaches `max_failures` (10), the webhook
is disabled and `webhooks.[id].update` is announced. Beyond Appwrite, which never tries again, a try
that may succeed later (no answer, 408, 429, 5xx) is tried again after a backoff (delivery.py) until it
goes through or the webhook is disabled; the webhook keeps its place then, so turning it on again
delivers from that event on. An answer the receiver meant (another 4xx) is final: the event is passed.
A disabled webhook keeps its place too (the events of the time it is off wait, within the event
retention). Each try reads the webhook as it is then: a change (its URL, secret, TLS) applies from the
next try, and saving it by hand ends a wait for a retry. The worker's blocking work (database reads
and writes, requests) runs on threads of its own.

A follower is woken by every commit of its own process, and by the worker's look at the project's stream
every `poll` seconds for the commits of others (20 ms in the delivery process of a server, background.py).
One process delivers a project's webhooks at a time: the one holding the lock on the project's
`webhooks.lock` (process_lock.py); another waits to take over when that process ends. `drain` makes one
pass instead (baas-mcp webhooks deliver --once): each webhook gets its pending events once, and a try
that fails stops that webhook until the next pass.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import anyio.to_thread

from ..datetimes import now_iso
from ..event_stream import READ_LIMIT, EventReader
from ..events import Event, announce
from ..http_sender import Sender
from ..permissions import ADMIN
from ..process_lock import ProcessLock
from ..projects import in_write_transaction
from .delivery import DeliveryPolicy, Outcome, deliver, new_sender
from .store import Webhook, current, cursor_name, record_failure, record_success, require

logger = logging.getLogger("baas_mcp")
LOCK_FILE = "webhooks.lock"
DISCOVER_EVERY = 1.0  # seconds between looks for new projects and for a lock another process let go
POLL = 0.5  # seconds between looks for what other processes committed (and for new webhooks)
CROSS_PROCESS_POLL = 0.02  # the same, for a process that delivers what another one commits
COMMIT_EVERY = 0.1  # seconds between writes of the cursors that moved
THREADS = 16  # threads the worker's blocking work (database, requests) may take at once


@dataclass
class Tally:
    """What one pass delivered, by webhook id: events delivered, failed, and still waiting."""

    delivered: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    pending: dict[str, int] = field(default_factory=dict)

    def count(self, kind: dict[str, int], webhook_id: str) -> None:
        kind[webhook_id] = kind.get(webhook_id, 0) + 1


class Cursors:
    """The places of a project's webhooks in its stream, written together, in one transaction, at most every
    `COMMIT_EVERY` seconds (and when asked): a busy project with many webhooks costs one small write a tick."""

    def __init__(self, worker: WebhookWorker, project: Any) -> None:
        self.worker = worker
        self.project = project
        self.moved: dict[str, int] = {}

    def move(self, name: str, seq: int) -> None:
        self.moved[name] = seq

    async def write(self) -> None:
        if self.moved:
            moved, self.moved = self.moved, {}
            await self.worker.change(self.project, partial(write_cursors, moved))

    async def run(self) -> None:
        """Write what moved, every tick, until cancelled (and once more then)."""
        try:
            while True:
                await asyncio.sleep(COMMIT_EVERY)
                await self.write()
        finally:
            await asyncio.shield(self.write())


def write_cursors(moved: dict[str, int], project: Any) -> None:
    """Move the cursors forward; a webhook deleted meanwhile took its cursor with it, and none is made again."""
    stamp = now_iso()
    project.connection.executemany(
        "UPDATE _event_cursors SET seq = MAX(seq, ?), updated = ? WHERE name = ?",
        [(seq, stamp, name) for name, seq in moved.items()],
    )


class Follower:
    """One webhook following the stream of its project."""

    def __init__(
        self, worker: WebhookWorker, project: Any, webhook_id: str, cursors: Cursors, tally: Tally | None = None
    ) -> None:
        self.worker = worker
        self.project = project
        self.webhook_id = webhook_id
        self.reader = EventReader(project, cursor_name(webhook_id))
        self.cursors = cursors
        self.cursor = 0
        self.sender: Sender | None = None
        # One pass (drain) counts here and never waits for a retry.
        self.tally = tally

    def current(self) -> Webhook | None:
        """The webhook as it is now (from the project's settings cache, read again after any change)."""
        return current(self.project).get(self.webhook_id)

    async def run(self) -> None:
        """Deliver until the webhook is deleted (or, in one pass, until nothing is left to try)."""
        self.cursor = await self.worker.thread(self.reader.position)
        missed = await self.worker.thread(self.reader.missed)
        if missed:
            logger.warning(
                "webhook %s of project %s: %d events were dropped by the event retention before delivery",
                self.webhook_id,
                self.project.id,
                missed,
            )
        try:
            with self.project.events.watching() as waiter:
                while await self.step() and self.tally is None:
                    await waiter.wait(POLL)
        finally:
            if self.sender is not None:
                self.sender.close()

    async def step(self) -> bool:
        """Deliver what is pending, batch after batch; False once the webhook is gone (or this pass is over)."""
        while True:
            hook = await self.worker.thread(self.current)
            if hook is None:
                return False
            if not hook.enabled:
                return True
            events = await self.worker.thread(self.project.events.read, self.cursor, READ_LIMIT)
            if not events:
                return True
            wanted = frozenset(hook.events)
            for event in events:
                if not wanted.isdisjoint(event.names):
                    hook = await self.settle(event)
                    if hook is None:
                        if self.tally is not None:
                            self.tally.pending[self.webhook_id] = await self.remaining()
                            return False
                        return True
                    wanted = frozenset(hook.events)
                self.cursor = event.seq
                self.cursors.move(self.reader.name, event.seq)

    async def settle(self, event: Event) -> Webhook | None:
        """Try `event` until it has an outcome; the webhook as it is then, or None when it must stop here
        (disabled, deleted, or a failed try in one pass)."""
        tries = 0
        while True:
            tries += 1
            # A server stopping does not wait for a request under way: its event is sent again after a restart.
            hook, outcome = await self.worker.thread(self.send, event, tries, abandon=True)
            if hook is None or outcome is None:
                return None
            if outcome.delivered:
                if self.tally is not None:
                    self.tally.count(self.tally.delivered, hook.id)
                if hook.attempts:
                    await self.change(succeeded, hook.id)
                return hook
            disabled = await self.change(self.failed, hook, outcome)
            if self.tally is not None:
                self.tally.count(self.tally.failed, hook.id)
            if not outcome.retry:
                return await self.worker.thread(self.current)
            if disabled or self.tally is not None:
                return None
            if not await self.wait_to_retry(self.worker.policy.retry_delay(tries, outcome.retry_after)):
                return None

    def send(self, event: Event, attempt: int) -> tuple[Webhook | None, Outcome | None]:
        """One try with the webhook as it is now (blocking); no try when it was deleted or turned off."""
        hook = self.current()
        if hook is None or not hook.enabled:
            return hook, None
        if self.sender is None or self.sender.verify != hook.tls:
            if self.sender is not None:
                self.sender.close()
            self.sender = new_sender(self.worker.outbound, hook.tls)
        return hook, deliver(self.sender, hook, self.project.id, event, self.worker.policy, attempt)

    def failed(self, hook: Webhook, outcome: Outcome, project: Any) -> bool:
        """Record a failed try (in a write transaction); whether it disabled the webhook, which is announced."""
        project.settings_changed()
        if not record_failure(project.connection, hook.id, outcome.log, self.worker.policy.max_failures):
            return False
        changed = require(project.connection, project.cipher, hook.id).model()
        announce(project, ADMIN, "webhooks.[webhookId].update", {"webhookId": hook.id}, changed)
        logger.warning(
            "webhook %s of project %s was disabled after %d failed attempts in a row",
            hook.id,
            project.id,
            self.worker.policy.max_failures,
        )
        return True

    async def wait_to_retry(self, delay: float) -> bool:
        """Wait `delay` seconds before trying again, or less when the webhook is changed by hand (turned off,
        or saved again, which starts its count of attempts again); whether to try again."""
        deadline = time.monotonic() + delay
        while (left := deadline - time.monotonic()) > 0:
            await asyncio.sleep(min(left, POLL))
            latest = await self.worker.thread(self.current)
            if latest is None or not latest.enabled:
                return False
            if latest.attempts == 0:
                return True
        return True

    async def change(self, function: Callable[..., Any], *args: Any) -> Any:
        return await self.worker.change(self.project, partial(function, *args))

    async def remaining(self) -> int:
        """How many events the webhook has still to be sent (read a page at a time)."""
        hook = await self.worker.thread(self.current)
        if hook is None:
            return 0
        wanted, count, cursor = frozenset(hook.events), 0, self.cursor
        while events := await self.worker.thread(self.project.events.read, cursor, READ_LIMIT):
            count += sum(1 for event in events if not wanted.isdisjoint(event.names))
            cursor = events[-1].seq
        return count


def succeeded(webhook_id: str, project: Any) -> None:
    project.settings_changed()
    record_success(project.connection, webhook_id)


class WebhookWorker:
    """Delivers the webhooks of every project of an engine, in the background of a server. Its blocking work
    runs on threads of its own (at most `THREADS` at once), never taking those that answer calls."""

    def __init__(self, engine: Any, policy: DeliveryPolicy | None = None, poll: float = POLL) -> None:
        self.engine = engine
        self.outbound = engine.outbound
        self.policy = policy or DeliveryPolicy()
        # Seconds between looks for commits of other processes (a commit of this process wakes the followers).
        self.poll = poll
        self.limiter: anyio.CapacityLimiter | None = None

    async def change(self, project: Any, function: Callable[[Any], Any]) -> Any:
        """`function(project)` as a write transaction of the project; nothing once it is deleted."""

        def run() -> Any:
            return None if project.deleted else function(project)

        return await self.thread(in_write_transaction, project, run)

    async def thread(self, function: Callable[..., Any], *args: Any, abandon: bool = False) -> Any:
        """`function(*args)` on one of the worker's threads; `abandon`: a cancel does not wait for it to end."""
        if self.limiter is None:
            self.limiter = anyio.CapacityLimiter(THREADS)
        return await anyio.to_thread.run_sync(function, *args, limiter=self.limiter, abandon_on_cancel=abandon)

    async def run(self, projects: list[str] | None = None) -> None:
        """Deliver until cancelled: every project found in the data dir (looked for again every second), or
        `projects`."""
        tasks: dict[str, asyncio.Task] = {}
        try:
            while True:
                try:
                    found = projects or await self.thread(self.engine.project_ids)
                except OSError:
                    logger.exception("looking for projects to deliver webhooks of failed; trying again")
                    found = []
                for project_id in found:
                    task = tasks.get(project_id)
                    if task is None or task.done():
                        tasks[project_id] = asyncio.create_task(self.run_project(project_id))
                await asyncio.sleep(DISCOVER_EVERY)
        finally:
            for task in tasks.values():
                task.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)

    async def run_project(self, project_id: str) -> None:
        """Deliver one project's webhooks, once this process holds its lock, until the project is gone."""
        try:
            project = await self.thread(self.engine.project, project_id)
            lock = ProcessLock(project.db.path.parent / LOCK_FILE)
            while not lock.acquire():
                await asyncio.sleep(DISCOVER_EVERY)
            try:
                await self.deliver(project)
            finally:
                lock.release()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("delivering the webhooks of project %s stopped; trying again", project_id)

    async def deliver(self, project: Any) -> None:
        """A follower for each webhook of the project (started again should one fail), until it is deleted."""
        cursors = Cursors(self, project)
        writer = asyncio.create_task(cursors.run())
        watcher = asyncio.create_task(self.watch(project))
        followers: dict[str, asyncio.Task] = {}
        try:
            while not project.deleted:
                for webhook_id in await self.thread(current, project):
                    task = followers.get(webhook_id)
                    if task is not None and task.done() and not task.cancelled() and task.exception():
                        logger.error(
                            "delivering webhook %s of project %s failed; starting again",
                            webhook_id,
                            project.id,
                            exc_info=task.exception(),
                        )
                    if task is None or task.done():
                        follower = Follower(self, project, webhook_id, cursors)
                        followers[webhook_id] = asyncio.create_task(follower.run())
                await asyncio.sleep(POLL)
        finally:
            for task in followers.values():
                task.cancel()
            await asyncio.gather(*followers.values(), return_exceptions=True)
            watcher.cancel()
            writer.cancel()
            await asyncio.gather(watcher, writer, return_exceptions=True)

    async def watch(self, project: Any) -> None:
        """Wake the project's followers when its stream grows by another process's commits (looked at every
        `poll` seconds; a commit of this process wakes them itself)."""
        seen = await self.thread(project.events.last)
        while True:
            await asyncio.sleep(self.poll)
            last = await self.thread(project.events.last)
            if last != seen:
                seen = last
                project.events.committed()

    async def drain(self, project_ids: list[str]) -> dict[str, Tally | None]:
        """One pass over the projects' webhooks; by project, what it did (None: another process holds the lock)."""
        report: dict[str, Tally | None] = {}
        for project_id in project_ids:
            project = await self.thread(self.engine.project, project_id)
            lock = ProcessLock(project.db.path.parent / LOCK_FILE)
            if not lock.acquire():
                report[project_id] = None
                continue
            try:
                tally, cursors = Tally(), Cursors(self, project)
                for webhook_id in await self.thread(current, project):
                    await Follower(self, project, webhook_id, cursors, tally).run()
                await cursors.write()
                report[project_id] = tally
            finally:
                lock.release()
        return report
