"""What the workers following a project's event stream share (webhooks, function triggers and schedules).

A `StreamWorker` finds the projects of an engine's data directory (looked for again every `DISCOVER_EVERY`
seconds), and works on each once this process holds the project's lock file (`lock_file`, process_lock.py):
one process at a time does a kind of work for a project, another takes over when that process ends. Its
blocking work (database reads and writes, requests, executions) runs on threads of its own. `watch` wakes
the followers of a project when another process commits (looked at every `poll` seconds); `drain` makes one
pass over the projects instead of running until cancelled.

`Cursors` keeps the places of a project's followers in the stream (rows of `_event_cursors`), written
together, in one transaction, every `COMMIT_EVERY` seconds and when asked: a busy project costs one small
write a tick, and a process that stops, even killed, starts again from the last places written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import anyio.to_thread

from .datetimes import now_iso
from .process_lock import ProcessLock
from .projects import in_write_transaction

logger = logging.getLogger("baas_mcp")
DISCOVER_EVERY = 1.0  # seconds between looks for new projects and for a lock another process let go
POLL = 0.5  # seconds between looks for what other processes committed
CROSS_PROCESS_POLL = 0.02  # the same, for a process that works on what another one commits
COMMIT_EVERY = 0.1  # seconds between writes of the cursors that moved
THREADS = 16  # threads a worker's blocking work may take at once


class Cursors:
    """The places of a project's followers in its stream, written together at most every `COMMIT_EVERY` seconds."""

    def __init__(self, worker: StreamWorker, project: Any) -> None:
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
    """Move the cursors forward; a follower deleted meanwhile took its cursor with it, and none is made again."""
    stamp = now_iso()
    project.connection.executemany(
        "UPDATE _event_cursors SET seq = MAX(seq, ?), updated = ? WHERE name = ?",
        [(seq, stamp, name) for name, seq in moved.items()],
    )


class StreamWorker:
    """One kind of background work on every project of an engine. Subclasses name their `lock_file` and what
    they do (`what`, for the logs), and give `work(project)` (until cancelled) and `drain_project(project)`."""

    lock_file = ""
    what = ""

    def __init__(self, engine: Any, poll: float = POLL) -> None:
        self.engine = engine
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

    def lock(self, project: Any) -> ProcessLock:
        return ProcessLock(project.db.path.parent / self.lock_file)

    async def run(self, projects: list[str] | None = None) -> None:
        """Work until cancelled: on every project found in the data dir (looked for again every second), or
        on `projects`."""
        tasks: dict[str, asyncio.Task] = {}
        try:
            while True:
                try:
                    found = projects or await self.thread(self.engine.project_ids)
                except OSError:
                    logger.exception("looking for projects to %s of failed; trying again", self.what)
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
        """Work on one project, once this process holds its lock, until the project is gone."""
        try:
            project = await self.thread(self.engine.project, project_id)
            lock = self.lock(project)
            while not lock.acquire():
                await asyncio.sleep(DISCOVER_EVERY)
            try:
                await self.work(project)
            finally:
                lock.release()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("the work to %s of project %s stopped; trying again", self.what, project_id)

    async def work(self, project: Any) -> None:
        raise NotImplementedError

    async def follow(
        self, project: Any, names: Callable[[], Iterable[str]], follower: Callable[[str, Cursors], Any]
    ) -> None:
        """Run `follower(name, cursors).run()` for each name `names()` gives (looked at every `POLL` seconds; one
        that fails is logged and started again), with the project's cursors written and its stream watched,
        until the project is deleted."""
        cursors = Cursors(self, project)
        writer = asyncio.create_task(cursors.run())
        watcher = asyncio.create_task(self.watch(project))
        followers: dict[str, asyncio.Task] = {}
        try:
            while not project.deleted:
                for name in await self.thread(names):
                    task = followers.get(name)
                    if task is not None and task.done() and not task.cancelled() and task.exception():
                        logger.error(
                            "the work to %s of project %s failed for %s; starting again",
                            self.what,
                            project.id,
                            name,
                            exc_info=task.exception(),
                        )
                    if task is None or task.done():
                        followers[name] = asyncio.create_task(follower(name, cursors).run())
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

    async def drain(self, project_ids: list[str]) -> dict[str, Any]:
        """One pass over the projects; by project, what `drain_project` reports (None: another process holds
        the lock)."""
        report: dict[str, Any] = {}
        for project_id in project_ids:
            project = await self.thread(self.engine.project, project_id)
            lock = self.lock(project)
            if not lock.acquire():
                report[project_id] = None
                continue
            try:
                report[project_id] = await self.drain_project(project)
            finally:
                lock.release()
        return report

    async def drain_project(self, project: Any) -> Any:
        raise NotImplementedError
