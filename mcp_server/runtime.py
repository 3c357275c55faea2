"""What a running MCP server holds: its settings, its tools (built on first use), and its key checks.

The catalog, the search index and the engine load in a background thread once the server has
answered its first request, so that initialize and tools/list come back as fast as a bare server.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from .settings import Settings

if TYPE_CHECKING:
    from .engine.storage import ProjectDB
    from .tools import Tools

logger = logging.getLogger("baas_mcp")


class Runtime:
    """One server's state: the project it serves, its settings, and the lazily built tools."""

    def __init__(self, data_dir: Path, project: str, settings: Settings) -> None:
        self.data_dir = data_dir
        self.project = project
        self.settings = settings
        self.lock = threading.Lock()
        self.built: Tools | None = None
        self.keys_db: ProjectDB | None = None
        self.warming = False

    def tools(self) -> Tools:
        """The two tools over the embedded backend, built once (thread-safe)."""
        with self.lock:
            if self.built is None:
                from .backends.embedded import EmbeddedBackend
                from .catalog import load_catalog
                from .search import default_index
                from .tools import Tools

                catalog = load_catalog()
                self.built = Tools(EmbeddedBackend(self.data_dir, self.project, catalog), catalog, default_index())
            return self.built

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
        from .engine.storage import ProjectDB, project_path

        with self.lock:
            if self.keys_db is None:
                self.keys_db = ProjectDB(project_path(self.data_dir, self.project))
            db = self.keys_db
        return keys.authenticate(db, secret)

    def close(self) -> None:
        """Close the backend and the key store (waiting for an operation in progress); safe to repeat."""
        with self.lock:
            if self.built is not None:
                self.built.backend.close()
            if self.keys_db is not None:
                self.keys_db.close()
            self.built = self.keys_db = None
