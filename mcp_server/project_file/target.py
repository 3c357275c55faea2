"""Reading a project's schema through the catalog's list operations, on whichever backend serves the project.

Lists are read page by page (a bounded number of pages). A pull leaves out a section the server cannot list (an older
Appwrite) or the API key may not read, and says so; a plan needs every section its file states.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from ..engine.errors import AppwriteError
from ..engine.permissions import ADMIN
from .layout import COLUMN_KEYS, DATABASE_KEYS, INDEX_KEYS, SECTIONS, TABLE_KEYS, shaped
from .schema import DATABASES, TABLES, Schema
from .settings import READS, SETTINGS, read_settings

PAGE = 100
MAX_PAGES = 1000
# Databases of other kinds (documentsDB, vectorsDB) are no part of the file.
TABLE_DATABASE_TYPES = (None, "tablesdb", "legacy")
# What a server answers for a list the key may not read (401) or that it does not serve (404, 501).
REFUSED = (401, 404, 501)


async def read_target(backend: Any, sections: frozenset[str] | None = None, skipped: list | None = None) -> Schema:
    """The project's schema, of the file's `sections` (None: all of them). With a `skipped` list, a section the
    server lacks or the key may not read is left out and named there, with why; without one that is an error."""
    everything = {DATABASES, TABLES, SETTINGS, *(section.name for section in SECTIONS)}
    wanted = frozenset(everything) if sections is None else sections
    schema = Schema()
    read = set()
    if wanted & {DATABASES, TABLES}:
        databases = await listing(backend, "tablesDB.list", "databases", (DATABASES, TABLES), skipped)
        if databases is not None:
            await read_tables(backend, schema, databases)
            read |= {DATABASES, TABLES}
    for section in SECTIONS:
        if section.name in wanted:
            listed = await listing(backend, section.listing, section.field, (section.name,), skipped)
            if listed is not None:
                schema.models[section.name] = {model["$id"]: model for model in listed}
                schema.flat[section.name] = {model["$id"]: shaped(model, ("$id", *section.keys)) for model in listed}
                read.add(section.name)
    if SETTINGS in wanted:
        settings = await attempt(backend, READS, (SETTINGS,), skipped, lambda: read_settings(backend))
        if settings is not None:
            schema.settings = settings
            read.add(SETTINGS)
    schema.managed = frozenset(read)
    return schema


async def listing(
    backend: Any, operation: str, field: str, names: tuple[str, ...], skipped: list | None
) -> list | None:
    """Every item of a list operation, or (given `skipped`) None when the target cannot give them, with why."""
    return await attempt(backend, (operation,), names, skipped, lambda: list_all(backend, operation, {}, field))


async def attempt(
    backend: Any,
    operations: tuple[str, ...],
    names: tuple[str, ...],
    skipped: list | None,
    read: Callable[[], Awaitable[Any]],
) -> Any:
    """What `read` (which runs `operations`) gives, or (given `skipped`) None when the target cannot give it, with
    why."""
    lacking = [(operation, reason) for operation in operations if (reason := await backend.unavailable(operation))]
    if not lacking:
        try:
            return await read()
        except AppwriteError as error:
            if skipped is None or error.code not in REFUSED:
                raise
            lacking = [("", error.message)]
    operation, reason = lacking[0]
    if skipped is None:
        raise AppwriteError("general_not_implemented", f"{operation}: {reason}")
    skipped.extend((name, reason) for name in names)
    return None


async def read_tables(backend: Any, schema: Schema, databases: list[dict]) -> None:
    for database in databases:
        if database.get("type") not in TABLE_DATABASE_TYPES:
            continue
        schema.databases[database["$id"]] = shaped(database, DATABASE_KEYS)
        for table in await list_all(backend, "tablesDB.listTables", {"databaseId": database["$id"]}, "tables"):
            schema.tables[database["$id"], table["$id"]] = {
                **shaped(table, TABLE_KEYS),
                "columns": [shaped(column, COLUMN_KEYS) for column in table.get("columns", [])],
                "indexes": [shaped(index, INDEX_KEYS) for index in table.get("indexes", [])],
            }


async def list_all(backend: Any, operation: str, params: dict, field: str) -> list[dict]:
    """Every item a list operation gives, read in pages of PAGE after the last id seen."""
    items: list[dict] = []
    for _ in range(MAX_PAGES):
        queries = [json.dumps({"method": "limit", "values": [PAGE]})]
        if items:
            queries.append(json.dumps({"method": "cursorAfter", "values": [items[-1]["$id"]]}))
        page = (await backend.call(operation, {**params, "queries": queries}, ADMIN))[field]
        items.extend(page)
        if len(page) < PAGE:
            return items
    raise ValueError(f"{operation} gives more than {PAGE * MAX_PAGES} items")
