"""Sending messages in the servers' background work (background.py, `baas-mcp background`), durably.

A message accepted for sending is a row in `processing` status, one scheduled a row in `scheduled` status with its
`scheduledAt`: the database is the queue, so nothing acknowledged is lost when the work stops, even killed, and a
scheduled message fires at its time or, when no server ran then, at the first look after the start. Every `TICK`
seconds the worker takes what is due at its clock's time: a scheduled message whose time came becomes
`processing` (announced), then every message in `processing` is sent (sending.py), one after the other. A message
whose sending was cut short stays `processing` and is sent again (at least once). One process does this for a
project at a time: the one holding its `messaging.lock`. `drain` makes one pass (`baas-mcp background --once`).

Nothing is sent in the caller's process: `baas-mcp call` leaves a message `processing` (or `scheduled`) until a
server's background work or `baas-mcp background --once` sends it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from ..stream_worker import POLL, StreamWorker
from .message_store import due, pending, start
from .sending import send

logger = logging.getLogger("baas_mcp")
LOCK_FILE = "messaging.lock"
TICK = 1.0  # seconds between looks for messages to send


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Tally:
    """What one pass sent: the status each message ended in, by message id."""

    messages: dict[str, str] = field(default_factory=dict)


def has_work(project: Any) -> bool:
    """Whether a message of the project waits to be sent, now or at its time."""
    with project.db.reading() as connection:
        return pending(connection)


def due_now(project: Any, now: datetime) -> list[str]:
    with project.db.reading() as connection:
        return due(connection, now)


class MessageWorker(StreamWorker):
    """Sends the messages of every project of an engine when they are due."""

    lock_file = LOCK_FILE
    what = "send messages"

    def __init__(self, engine: Any, poll: float = POLL, clock: Callable[[], datetime] = utc_now) -> None:
        super().__init__(engine, poll)
        self.clock = clock

    async def send_due(self, project: Any, tally: Tally | None = None) -> None:
        """Send every message due at the clock's time; one whose sending raised is logged and left `processing`."""
        now = self.clock()
        for message_id in await self.thread(due_now, project, now):
            if not await self.change(project, partial(start, message_id=message_id, now=now)):
                continue
            try:
                status = await self.thread(send, self.engine, project, message_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("message %s of project %s could not be sent", message_id, project.id)
                continue
            if tally is not None and status is not None:
                tally.messages[message_id] = status

    async def work(self, project: Any) -> None:
        while not project.deleted:
            await self.send_due(project)
            await asyncio.sleep(TICK)

    async def drain_project(self, project: Any) -> Tally:
        tally = Tally()
        await self.send_due(project, tally)
        return tally
