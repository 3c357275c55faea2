"""The servers' background work, in a process of its own: `baas-mcp background` started beside `baas-mcp api` and
`baas-mcp serve` (embedded backend), so that delivering webhooks, sending messages and starting functions on their
events, schedules and scheduled executions take neither the server's interpreter lock nor its time, and go on at
full speed on another core.

The process starts once a project of the data directory has such work (a webhook, a message to send, a function
with events or a schedule, a scheduled execution: `Engine.background_needed`, looked for every `LOOK_EVERY` seconds)
and is started again should it end (after 1 s, doubling up to 30 s). It ends with the server: asked to stop when the
server stops, and by itself when the server's end of its standard input closes, which happens however the server
ends, `kill -9` included. It hears the server's commits by looking at the project's stream every 20 ms (a read
beside the writes). It carries the server's `--allow-private-urls` and `--no-code`, and the server's own /v1 URL
for functions to call back (`baas-mcp api` knows it; `baas-mcp serve` has no REST API, so its functions get none).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import anyio.to_thread

logger = logging.getLogger("baas_mcp")
LOOK_EVERY = 2.0  # seconds between looks for a first piece of background work
FIRST_RESTART, LAST_RESTART = 1.0, 30.0  # seconds before starting again a process that ended
STOP_GRACE = 5.0  # seconds a stopping process has to write down where it is


def worker_options(allow_private_urls: bool, no_code: bool, api_endpoint: str | None = None) -> list[str]:
    """The options of `baas-mcp background` that carry a server's own."""
    options = ["--allow-private-urls"] if allow_private_urls else []
    options += ["--no-code"] if no_code else []
    return [*options, "--api-endpoint", api_endpoint] if api_endpoint else options


def worker_command(data_dir: Path, options: list[str]) -> list[str]:
    return [sys.executable, "-m", "mcp_server", "background", "--data-dir", str(data_dir), "--supervised", *options]


async def run_worker_process(data_dir: Path, options: list[str], needed: Callable[[], bool]) -> None:
    """Keep the background process (started with `options`, worker_options) running beside the server once
    `needed()` (blocking: it runs on a thread) says there is work for it, until cancelled; then stop it."""
    while not await asked_for(needed):
        await asyncio.sleep(LOOK_EVERY)
    pause = FIRST_RESTART
    while True:
        process = await asyncio.create_subprocess_exec(
            *worker_command(data_dir, options), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL
        )
        try:
            code = await process.wait()
        finally:
            if process.returncode is None:
                await stop(process)
        logger.warning("the background work process ended (exit code %s); starting it again", code)
        await asyncio.sleep(pause)
        pause = min(pause * 2, LAST_RESTART)


async def asked_for(needed: Callable[[], bool]) -> bool:
    """Whether `needed()` says so; a look that fails is logged and counts as no."""
    try:
        return await anyio.to_thread.run_sync(needed)
    except Exception:
        logger.exception("looking for background work failed; looking again")
        return False


async def stop(process: asyncio.subprocess.Process) -> None:
    """Ask the process to stop (closing its input), and kill it if it has not within STOP_GRACE seconds."""
    if process.stdin is not None:
        process.stdin.close()
    try:
        await asyncio.wait_for(asyncio.shield(process.wait()), STOP_GRACE)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
