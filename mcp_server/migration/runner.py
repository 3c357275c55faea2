"""The migration from start to end: both ends opened, each resource family moved in order (schema and rows,
users, teams, storage, functions, sites, messaging, webhooks, project), then verified.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from ..backends.embedded import EmbeddedBackend
from ..backends.http import HttpBackend
from ..catalog import Catalog, load_catalog
from ..engine.errors import AppwriteError
from ..engine.projectdb import project_path
from . import code, rows, schema, storage, teams, users
from .context import Migration
from .endpoint import Endpoint, MigrationFailure
from .progress import Progress
from .report import FAILED, Report
from .state import State, state_name

RESOURCES = ("databases", "users", "teams", "storage", "functions", "sites", "messaging", "webhooks", "project")
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
            return EmbeddedBackend(self.data_dir, self.project, catalog)
        return HttpBackend(self.endpoint or "", self.project, self.api_key or "", catalog, downloads)


class Absent:
    """An embedded target project that does not exist yet, seen by a dry run: everything in it is missing."""

    async def call(self, operation_id: str, params: dict, auth: Any, as_user: str | None = None) -> Any:
        raise AppwriteError("general_not_found", f"{operation_id}: the target project does not exist yet", 404)

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
    try:
        tables = await step(m, lambda: schema.migrate_schema(m)) if "databases" in options.resources else None
        if tables:
            await step(m, lambda: rows.migrate_rows(m, tables))
        if "users" in options.resources:
            await step(m, lambda: users.migrate_users(m))
        if "teams" in options.resources:
            await step(m, lambda: teams.migrate_teams(m))
        if "storage" in options.resources:
            await step(m, lambda: storage.migrate_storage(m))
        for service in ("functions", "sites"):
            if service in options.resources:
                await step(m, lambda service=service: code.migrate_code(m, service))
        progress.close()
        if not options.dry_run:
            await step(m, lambda: verify(m, options.resources))
    finally:
        await source_backend.aclose()
        await target_backend.aclose()
    return m.report


async def step(m: Migration, work: Callable[[], Awaitable[Any]]) -> Any:
    """One family's work; a failure that stops it is reported (the resource it names) and the next goes on."""
    try:
        return await work()
    except MigrationFailure as failure:
        m.report.note(FAILED, failure.resource, failure.reason)
        return None


async def verify(m: Migration, resources: tuple[str, ...]) -> None:
    """Counts and checksums of every migrated resource, compared between source and target."""
    snapshots: list[Callable[[Endpoint], Awaitable[dict]]] = []
    if "databases" in resources:
        tables = [(database, table) for database, table in await listed_tables(m.source)]
        snapshots += [schema.snapshot, lambda endpoint: rows.snapshot(endpoint, tables)]
    if "users" in resources:
        snapshots.append(users.snapshot)
    if "teams" in resources:
        snapshots.append(teams.snapshot)
    if "storage" in resources:
        snapshots.append(storage.snapshot)
    for service in ("functions", "sites"):
        if service in resources:
            snapshots.append(lambda endpoint, service=service: code.snapshot(endpoint, service))
    for snapshot in snapshots:
        source, target = await snapshot(m.source), await snapshot(m.target)
        for resource in sorted(source.keys() | target.keys()):
            m.report.check(resource, source.get(resource), target.get(resource))


async def listed_tables(endpoint: Endpoint) -> list[tuple[str, str]]:
    found = []
    for database in await endpoint.all("tablesDB.list", {}, "databases", "databases"):
        for table in await endpoint.all("tablesDB.listTables", {"databaseId": database["$id"]}, "tables", "tables"):
            found.append((database["$id"], table["$id"]))
    return found
