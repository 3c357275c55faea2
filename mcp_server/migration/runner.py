"""The migration from start to end: both ends opened, each resource family moved in order (schema and rows,
users, teams, storage, functions, sites, messaging, webhooks, project), then verified.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import anyio

from ..backends.embedded import EmbeddedBackend
from ..backends.http import HttpBackend
from ..catalog import Catalog, load_catalog
from ..engine.errors import AppwriteError
from ..engine.projectdb import project_path
from . import (
    RESOURCES,
    code,
    collections,
    messaging,
    platforms,
    project_settings,
    rows,
    schema,
    storage,
    teams,
    users,
    webhooks,
)
from .context import Migration
from .endpoint import Endpoint
from .progress import Progress
from .report import Report
from .state import State, state_name

STATE_FOLDER = "migrations"


@dataclass(frozen=True)
class End:
    """One end as the command line names it: an embedded data dir and project, or a server."""

    project: str
    data_dir: Path | None = None
    endpoint: str | None = None
    api_key: str | None = None

    def describe(self) -> str:
        """Which end this is, without its key."""
        if self.data_dir is not None:
            return f"embedded:{self.data_dir.resolve()}#{self.project}"
        return f"{self.endpoint}#{self.project}"

    def backend(self, catalog: Catalog, downloads: Path, dry_run: bool = False) -> Any:
        """The backend of this end; for a dry run, an embedded project not made yet stays unmade (Absent)."""
        if self.data_dir is not None:
            if dry_run and not project_path(self.data_dir, self.project).exists():
                return Absent()
            return EmbeddedBackend(self.data_dir, self.project, catalog, downloads)  # never into a source data dir
        return HttpBackend(self.endpoint or "", self.project, self.api_key or "", catalog, downloads)


class Absent:
    """An embedded target project that does not exist yet, seen by a dry run: everything in it is missing."""

    async def call(self, operation_id: str, params: dict, auth: Any, as_user: str | None = None) -> Any:
        raise AppwriteError("general_not_found", f"{operation_id}: the target project does not exist yet", 404)

    async def unavailable(self, operation_id: str) -> str | None:
        return None

    async def aclose(self) -> None:
        return None


@dataclass(frozen=True)
class Options:
    source: End
    target: End
    resources: tuple[str, ...] = RESOURCES
    dry_run: bool = False
    json: bool = False
    concurrency: int = 4
    state_path: Path | None = None


def default_state_path(options: Options) -> Path:
    """Under the target data dir for the embedded engine, else in the current folder."""
    name = state_name(options.source.describe(), options.target.describe())
    folder = options.target.data_dir / STATE_FOLDER if options.target.data_dir is not None else Path.cwd()
    return folder / (name if options.target.data_dir is not None else f".baas-{name}")


def migrate(options: Options) -> Report:
    return anyio.run(run, options)


async def migrate_databases(m: Migration) -> None:
    tables = await schema.migrate_schema(m)
    await rows.migrate_rows(m, tables)
    await collections.migrate_collections(m)


async def snapshot_databases(endpoint: Endpoint) -> dict[str, tuple[int, str]]:
    tables = await rows.snapshot(endpoint, await listed_tables(endpoint))
    return await schema.snapshot(endpoint) | tables | await collections.snapshot(endpoint)


async def listed_tables(endpoint: Endpoint) -> list[tuple[str, str]]:
    return list((await schema.read(endpoint)).tables)


async def migrate_project(m: Migration) -> None:
    await platforms.migrate_platforms(m)
    await project_settings.migrate_settings(m)


async def snapshot_project(endpoint: Endpoint) -> dict[str, tuple[int, str]]:
    return await platforms.snapshot(endpoint) | await project_settings.snapshot(endpoint)


Snapshot = Callable[[Endpoint], Awaitable[dict[str, tuple[int, str]]]]
# Each family in the order it moves: what moves it, and what reads one end of it for the verification.
FAMILIES: dict[str, tuple[Callable[[Migration], Awaitable[None]], Snapshot]] = {
    "databases": (migrate_databases, snapshot_databases),
    "users": (users.migrate_users, users.snapshot),
    "teams": (teams.migrate_teams, teams.snapshot),
    "storage": (storage.migrate_storage, storage.snapshot),
    "functions": (partial(code.migrate_code, service="functions"), partial(code.snapshot, service="functions")),
    "sites": (partial(code.migrate_code, service="sites"), partial(code.snapshot, service="sites")),
    "messaging": (messaging.migrate_messaging, messaging.snapshot),
    "webhooks": (webhooks.migrate_webhooks, webhooks.snapshot),
    "project": (migrate_project, snapshot_project),
}


async def run(options: Options) -> Report:
    catalog = load_catalog()
    state_path = None if options.dry_run else options.state_path or default_state_path(options)
    state = State(state_path, options.source.describe(), options.target.describe())
    downloads = (state_path.parent if state_path else Path.cwd()) / ".baas-migrate-downloads"
    mode = "json" if options.json else "bar" if sys.stderr.isatty() else "quiet"
    progress = Progress(sys.stdout if options.json else sys.stderr, mode)
    source_backend = options.source.backend(catalog, downloads)
    target_backend = options.target.backend(catalog, downloads, options.dry_run)
    m = Migration(
        source=Endpoint(source_backend, catalog, "source"),
        target=Endpoint(target_backend, catalog, "target"),
        state=state,
        report=Report(dry_run=options.dry_run),
        progress=progress,
        dry_run=options.dry_run,
        concurrency=options.concurrency,
    )
    chosen = [name for name in FAMILIES if name in options.resources]
    try:
        for name in chosen:
            await m.guarded(FAMILIES[name][0](m))
        progress.close()
        if not options.dry_run:
            for name in chosen:
                await m.guarded(verify(m, FAMILIES[name][1]))
    finally:
        await source_backend.aclose()
        await target_backend.aclose()
    return m.report


async def verify(m: Migration, snapshot: Snapshot) -> None:
    """Counts and checksums of one family, compared between source and target."""
    source, target = await snapshot(m.source), await snapshot(m.target)
    for resource in sorted(source.keys() | target.keys()):
        m.report.check(resource, source.get(resource), target.get(resource))
