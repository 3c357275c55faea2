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
and writes, requests) runs on threads of its own; what it shares with the other workers following the stream
(cursors written together, projects found and locked, one pass) is in stream_worker.py.

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

from ..event_stream import READ_LIMIT, EventReader
from ..events import Event, announce
from ..http_sender import Sender
from ..permissions import ADMIN
from ..stream_worker import POLL, Cursors, StreamWorker
from .delivery import DeliveryPolicy, Outcome, deliver, new_sender
from .store import Webhook, current, cursor_name, record_failure, record_success, require

logger = logging.getLogger("baas_mcp")
LOCK_FILE = "webhooks.lock"


@dataclass
class Tally:
    """What one pass delivered, by webhook id: events delivered, failed, and still waiting."""

    delivered: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    pending: dict[str, int] = field(default_factory=dict)

    def count(self, kind: dict[str, int], webhook_id: str) -> None:
        kind[webhook_id] = kind.get(webhook_id, 0) + 1


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


class WebhookWorker(StreamWorker):
    """Delivers the webhooks of every project of an engine, in the background of a server (stream_worker.py)."""

    lock_file = LOCK_FILE
    what = "deliver webhooks"

    def __init__(self, engine: Any, policy: DeliveryPolicy | None = None, poll: float = POLL) -> None:
        super().__init__(engine, poll)
        self.outbound = engine.outbound
        self.policy = policy or DeliveryPolicy()

    async def work(self, project: Any) -> None:
        """A follower for each webhook of the project (started again should one fail), until it is deleted."""
        await self.follow(project, partial(current, project), partial(Follower, self, project))

    async def drain_project(self, project: Any) -> Tally:
        """One pass: each webhook of the project gets its pending events once."""
        tally, cursors = Tally(), Cursors(self, project)
        for webhook_id in await self.thread(current, project):
            await Follower(self, project, webhook_id, cursors, tally).run()
        await cursors.write()
        return tally
