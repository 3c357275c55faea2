"""What a running MCP server holds: its settings, its tools (built on first use), and its key checks.

The tools run on the embedded engine, or on an Appwrite-compatible server when one is configured
(the HTTP backend). The catalog, the search index and the backend load in a background thread once
the server has answered its first request, so that initialize and tools/list come back as fast as a
bare server. API keys that callers present are always checked against the local data directory.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .settings import Settings

if TYPE_CHECKING:
    from .backends.versions import ApiVersion
    from .catalog import Catalog
    from .engine.projectdb import ProjectDB
    from .mcp.execute import Backend
    from .mcp.tools import Tools

logger = logging.getLogger("baas_mcp")
# Seconds a server waits for its first request before building the engine to start its background work.
BACKGROUND_START = 2.0


@dataclass(frozen=True)
class Remote:
    """An Appwrite-compatible server for the HTTP backend: its /v1 endpoint, project and API key, and its
    Appwrite version when given (otherwise the backend reads it from the server)."""

    endpoint: str
    project: str
    api_key: str
    verify: bool = True
    api_version: ApiVersion | None = None


class Runtime:
    """One server's state: the project it serves, its settings, and the lazily built tools (on the embedded
    engine, made with `engine_options`, or on the remote server)."""

    def __init__(
        self,
        data_dir: Path,
        project: str,
        settings: Settings,
        remote: Remote | None = None,
        engine_options: dict[str, Any] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.project = project
        self.settings = settings
        self.remote = remote
        self.engine_options = engine_options or {}
        self.lock = threading.Lock()
        self.built: Tools | None = None
        self.keys_db: ProjectDB | None = None
        self.warming = False

    def tools(self) -> Tools:
        """The two tools over the backend, built once (thread-safe)."""
        with self.lock:
            if self.built is None:
                from .catalog import load_catalog
                from .mcp.tools import Tools
                from .search.index import default_index

                catalog = load_catalog()
                self.built = Tools(self.backend(catalog), catalog, default_index())
            return self.built

    def backend(self, catalog: Catalog) -> Backend:
        """The embedded engine, or the HTTP backend when a remote server is configured."""
        if self.remote is None:
            from .backends.embedded import EmbeddedBackend

            return EmbeddedBackend(self.data_dir, self.project, catalog, **self.engine_options)
        from .backends.http import HttpBackend

        remote = self.remote
        downloads = self.data_dir / "downloads"
        return HttpBackend(
            remote.endpoint,
            remote.project,
            remote.api_key,
            catalog,
            downloads,
            verify=remote.verify,
            api_version=remote.api_version,
        )

    def warm_up(self) -> None:
        """Start building the tools in the background (once), so the first tool call does not wait for it."""
        with self.lock:
            if self.warming or self.built is not None:
                return
            self.warming = True
        threading.Thread(target=self.build_quietly, name="baas-mcp-warm-up", daemon=True).start()

    def build_quietly(self) -> None:
        try:
            self.tools()
        except Exception:
            logger.exception("loading the catalog and the engine failed; tool calls will report it")

    def check_key(self, secret: str) -> dict:
        """The key a secret belongs to (its $id and scopes), or AppwriteError if it is refused."""
        from .engine import keys
        from .engine.projectdb import ProjectDB, project_path

        with self.lock:
            if self.keys_db is None:
                self.keys_db = ProjectDB(project_path(self.data_dir, self.project))
            db = self.keys_db
        return keys.authenticate(db, secret)

    async def run_background(self) -> None:
        """The embedded engine's background work (webhooks, function triggers: the process of background.py) until
        cancelled, once the tools are built (by the first request, or after `BACKGROUND_START` seconds without
        one); none for a remote server."""
        import anyio

        from .background import run_worker_process, worker_options

        if self.remote is not None:
            return
        with anyio.move_on_after(BACKGROUND_START):
            while self.built is None:
                await anyio.sleep(0.1)
        try:
            tools = await anyio.to_thread.run_sync(self.tools)
        except Exception:
            logger.exception("loading the engine failed; no background work (webhooks, function triggers) is done")
            return
        engine = tools.backend.engine
        options = worker_options(engine.outbound.allow_private, not engine.runs_code)
        await run_worker_process(self.data_dir, options, engine.background_needed)

    async def aclose(self) -> None:
        """Close the backend (after an operation in progress) and the key store; safe to repeat."""
        with self.lock:
            built, self.built = self.built, None
        if built is not None:
            await built.backend.aclose()
        self.close()

    def close(self) -> None:
        """Close the key store; the backend closes with aclose, inside the event loop that used it."""
        with self.lock:
            if self.keys_db is not None:
                self.keys_db.close()
            self.keys_db = None
