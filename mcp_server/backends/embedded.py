"""The embedded backend: operations run in-process on the SQLite engine under the data dir."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio

from ..catalog import Catalog
from ..engine import Engine
from ..engine.permissions import Auth
from ..uploads import Media, save


class EmbeddedBackend:
    name = "embedded"

    def __init__(
        self, data_dir: Path, project: str, catalog: Catalog, downloads: Path | None = None, **engine_options: Any
    ) -> None:
        """`downloads`: where downloads are saved (default: the data dir's downloads folder)."""
        self.engine = Engine(data_dir, catalog=catalog, **engine_options)
        self.project = project
        self.downloads = downloads if downloads is not None else Path(data_dir) / "downloads"

    async def call(self, operation_id: str, params: dict, auth: Auth, as_user: str | None = None) -> Any:
        """The engine's result; it runs in a worker thread so other sessions keep being served."""
        return await anyio.to_thread.run_sync(self.run, operation_id, params, auth, as_user)

    def run(self, operation_id: str, params: dict, auth: Auth, as_user: str | None) -> Any:
        if as_user is not None:
            auth = self.engine.user_auth(self.project, as_user)
        result = self.engine.call(operation_id, params, auth, self.project)
        if isinstance(result, Media):
            return save(result, self.downloads, operation_id.split(".")[-1])
        return result

    async def unavailable(self, operation_id: str) -> str | None:
        """What a search hit says of an operation the engine does not run (it answers general_not_implemented)."""
        return None if self.engine.implemented(operation_id) else "needs an Appwrite server"

    async def aclose(self) -> None:
        await anyio.to_thread.run_sync(self.engine.close)
