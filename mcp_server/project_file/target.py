"""Reading a project's schema through the catalog's list operations, on whichever backend serves the project.

Lists are read page by page (a bounded number of pages); a section whose list operation the server lacks (an older
Appwrite) is left out, and `skipped` says which.
"""

from __future__ import annotations

import json
from typing import Any

from ..engine.permissions import ADMIN
from .layout import COLUMN_KEYS, DATABASE_KEYS, INDEX_KEYS, SECTIONS, TABLE_KEYS, shaped
from .schema import DATABASES, TABLES, Schema

PAGE = 100
MAX_PAGES = 1000
# Databases of other kinds (documentsDB, vectorsDB) are no part of the file.
TABLE_DATABASE_TYPES = (None, "tablesdb", "legacy")


async def read_target(backend: Any, skipped: list[str] | None = None) -> Schema:
    """The project's schema; the names of sections the server cannot list are added to `skipped`."""
    databases = {}
    tables = {}
    for database in await list_all(backend, "tablesDB.list", {}, "databases"):
        if database.get("type") not in TABLE_DATABASE_TYPES:
            continue
        databases[database["$id"]] = shaped(database, DATABASE_KEYS)
        for table in await list_all(backend, "tablesDB.listTables", {"databaseId": database["$id"]}, "tables"):
            tables[database["$id"], table["$id"]] = {
                **shaped(table, TABLE_KEYS),
                "columns": [shaped(column, COLUMN_KEYS) for column in table.get("columns", [])],
                "indexes": [shaped(index, INDEX_KEYS) for index in table.get("indexes", [])],
            }
    flat: dict[str, dict[str, dict]] = {}
    models: dict[str, dict[str, dict]] = {}
    for section in SECTIONS:
        if await backend.unavailable(section.listing):
            if skipped is not None:
                skipped.append(section.name)
            continue
        listed = await list_all(backend, section.listing, {}, section.field)
        models[section.name] = {model["$id"]: model for model in listed}
        flat[section.name] = {model["$id"]: shaped(model, ("$id", *section.keys)) for model in listed}
    managed = frozenset({DATABASES, TABLES, *flat})
    return Schema(databases, tables, flat, managed, models)


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
