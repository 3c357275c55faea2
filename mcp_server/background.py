"""The servers' background work, in a process of its own: `baas-mcp webhooks deliver` started beside
`baas-mcp api` and `baas-mcp serve` (embedded backend), so that delivering webhooks takes neither the
server's interpreter lock nor its time, and goes on at full speed on another core.

The process starts once a project of the data directory has a webhook (looked for every
`LOOK_EVERY` seconds) and is started again should it end (after 1 s, doubling up to 30 s). It ends
with the server: asked to stop when the server stops, and by itself when the server's end of its
standard input closes, which happens however the server ends, `kill -9` included. It hears the
server's commits by looking at the project's stream every 20 ms (a read beside the writes).
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
LOOK_EVERY = 2.0  # seconds between looks for a first webhook
FIRST_RESTART, LAST_RESTART = 1.0, 30.0  # seconds before starting again a process that ended
STOP_GRACE = 5.0  # seconds a stopping process has to write down where it is


def worker_command(data_dir: Path, allow_private_urls: bool) -> list[str]:
    command = [sys.executable, "-m", "mcp_server", "webhooks", "deliver", "--data-dir", str(data_dir), "--supervised"]
    return [*command, "--allow-private-urls"] if allow_private_urls else command


async def run_worker_process(data_dir: Path, allow_private_urls: bool, needed: Callable[[], bool]) -> None:
    """Keep the delivery process running beside the server once `needed()` (blocking: it runs on a thread) says
    there is work for it, until cancelled; then stop it."""
    while not await asked_for(needed):
        await asyncio.sleep(LOOK_EVERY)
    pause = FIRST_RESTART
    while True:
        process = await asyncio.create_subprocess_exec(
            *worker_command(data_dir, allow_private_urls), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL
        )
        try:
            code = await process.wait()
        finally:
            if process.returncode is None:
                await stop(process)
        logger.warning("the webhook delivery process ended (exit code %s); starting it again", code)
        await asyncio.sleep(pause)
        pause = min(pause * 2, LAST_RESTART)


async def asked_for(needed: Callable[[], bool]) -> bool:
    """Whether `needed()` says so; a look that fails is logged and counts as no."""
    try:
        return await anyio.to_thread.run_sync(needed)
    except Exception:
        logger.exception("looking for webhooks to deliver failed; looking again")
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
