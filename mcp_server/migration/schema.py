"""The schema step: databases, tables, columns and indexes, in that order, relationship columns once both
of their tables exist; columns and indexes are waited for until `available` (a bounded poll).

`migrate_schema` is the one entry point; `snapshot` reads one end's schema for verification.
"""

from __future__ import annotations

import re

import anyio

from ..catalog import Catalog
from ..engine.errors import AppwriteError
from .context import Migration, checksum, pick, sync_model
from .endpoint import Endpoint, MigrationFailure, creation_params
from .report import CANNOT_MOVE, CREATE, FAILED, SKIP

COLUMN_PATH = re.compile(r"^/tablesdb/\{databaseId\}/tables/\{tableId\}/columns/(\w+)$")
# A relationship column's model names two of the create parameters differently.
RELATIONSHIP_ALIASES = {"relatedTableId": "relatedTable", "type": "relationType"}
DATABASE_FIELDS = ("$id", "name", "enabled")
TABLE_FIELDS = ("$id", "name", "$permissions", "rowSecurity", "enabled")
UNMOVED_SERVICES = ("documentsDB", "vectorsDB")
SCHEMA_LATER = ("columns", "indexes")  # made one by one after the table
TRANSIENT = {"status", "error", "$createdAt", "$updatedAt", "$id", "$sequence"}
WAIT_S = 120.0
POLL_S = 0.2


def column_operations(catalog: Catalog) -> dict[str, str]:
    """{column kind (path segment: string, float, email, relationship, …): the operation id that creates it}."""
    found = {}
    for op in catalog.operations:
        matched = COLUMN_PATH.match(op.path)
        if op.service == "tablesDB" and op.http_method == "POST" and matched:
            found[matched.group(1)] = op.id
    return found


def column_kind(column: dict, kinds: dict[str, str]) -> str:
    """The kind of create operation a column model came from (`double` columns are made as `float`)."""
    if column.get("format") in kinds:
        return column["format"]
    return "float" if column["type"] == "double" else column["type"]


def is_relationship(column: dict) -> bool:
    return column.get("type") == "relationship"


async def migrate_schema(m: Migration) -> list[tuple[str, str]]:
    """Databases, tables, columns and indexes made in the target as they are in the source; the tables moved
    as (databaseId, tableId)."""
    moved: list[tuple[str, str]] = []
    for database in await m.source.all("tablesDB.list", {}, "databases", "databases"):
        await sync_model(
            m,
            "databases",
            f"database {database['$id']}",
            database,
            {"databaseId": database["$id"]},
            ("tablesDB.get", "tablesDB.create", "tablesDB.update"),
            SCHEMA_LATER,
        )
        tables = await m.source.all(
            "tablesDB.listTables", {"databaseId": database["$id"]}, "tables", f"database {database['$id']}"
        )
        for table in tables:
            ids = {"databaseId": database["$id"], "tableId": table["$id"]}
            await sync_model(
                m,
                "tables",
                f"table {database['$id']}/{table['$id']}",
                table,
                ids,
                ("tablesDB.getTable", "tablesDB.createTable", "tablesDB.updateTable"),
                SCHEMA_LATER,
            )
            moved.append((database["$id"], table["$id"]))
    await name_unmoved_databases(m)
    for relationships in (False, True):
        await m.each(moved, lambda ids, later=relationships: sync_columns(m, *ids, later))
    await m.each(moved, lambda ids: sync_indexes(m, *ids))
    return moved


async def name_unmoved_databases(m: Migration) -> None:
    """documentsDB and vectorsDB databases are not moved: each is named in the report (none when the source
    server has no such service)."""
    for service in UNMOVED_SERVICES:
        try:
            listed = await m.source.all(f"{service}.list", {}, "databases", f"{service} databases")
        except MigrationFailure:
            continue
        for database in listed:
            m.report.note(CANNOT_MOVE, f"{service} database {database['$id']}", "not moved by baas-mcp migrate yet")


async def sync_columns(m: Migration, database: str, table: str, relationships: bool) -> None:
    """The table's columns (its ordinary ones, or its relationship columns on the side that owns them)."""
    name = f"table {database}/{table}"
    ids = {"databaseId": database, "tableId": table}
    creators = column_operations(m.target.catalog)
    present = {column["key"]: column for column in await m.target.all("tablesDB.listColumns", ids, "columns", name)}
    created = []
    for column in await m.source.all("tablesDB.listColumns", ids, "columns", name):
        if is_relationship(column) != relationships or (relationships and column.get("side") == "child"):
            continue
        label = f"column {database}/{table}.{column['key']}"
        if column["key"] in present:
            already_there(m, "columns", label, present[column["key"]], column)
            continue
        kind = column_kind(column, creators)
        if kind not in creators:
            m.report.note(FAILED, label, f"no operation creates a {kind} column")
            continue
        if m.plan("columns", CREATE):
            aliases = RELATIONSHIP_ALIASES if relationships else None
            params = creation_params(m.target.operation(creators[kind]), column, ids | {"key": column["key"]}, aliases)
            await m.target.call(creators[kind], params, label)
            created.append(column["key"])
    if created:
        await wait_available(m.target, "tablesDB.listColumns", ids, "columns", "key", name)


async def sync_indexes(m: Migration, database: str, table: str) -> None:
    name = f"table {database}/{table}"
    ids = {"databaseId": database, "tableId": table}
    present = {index["key"]: index for index in await m.target.all("tablesDB.listIndexes", ids, "indexes", name)}
    created = False
    for index in await m.source.all("tablesDB.listIndexes", ids, "indexes", name):
        label = f"index {database}/{table}.{index['key']}"
        if index["key"] in present:
            already_there(m, "indexes", label, present[index["key"]], index)
        elif m.plan("indexes", CREATE):
            create = m.target.operation("tablesDB.createIndex")
            params = creation_params(create, index, ids | {"key": index["key"]})
            if not any(params.get("lengths") or []):
                params.pop("lengths", None)  # listed as nulls: no length given
            await m.target.call(create.id, params, label)
            created = True
    if created:
        await wait_available(m.target, "tablesDB.listIndexes", ids, "indexes", "key", name)


def already_there(m: Migration, resource: str, label: str, there: dict, wanted: dict) -> None:
    """A column or index the target has: skipped when defined alike, else a failure to settle by hand (a column's
    type or an index's columns cannot change in place)."""
    same = comparable(there) == comparable(wanted)
    m.plan(resource, SKIP if same else FAILED)
    if not same:
        m.report.note(FAILED, label, "exists in the target with another definition; change it by hand")


def comparable(model: dict) -> dict:
    return {key: value for key, value in model.items() if key not in TRANSIENT}


async def wait_available(endpoint: Endpoint, operation: str, ids: dict, items: str, key: str, name: str) -> None:
    """Poll until every column (or index) of the table is `available`; a failed one or the time limit is an error."""
    with anyio.move_on_after(WAIT_S):
        while True:
            listed = await endpoint.all(operation, ids, items, name)
            failed = [item for item in listed if item.get("status") == "failed"]
            if failed:
                raise MigrationFailure(
                    f"{name} {items}",
                    operation,
                    build_error(f"{failed[0][key]} failed to build: {failed[0].get('error') or 'no reason given'}"),
                )
            if all(item.get("status", "available") == "available" for item in listed):
                return
            await anyio.sleep(POLL_S)
    raise MigrationFailure(f"{name} {items}", operation, build_error(f"not available after {WAIT_S:g} s"))


def build_error(message: str) -> AppwriteError:
    return AppwriteError("general_server_error", message, 500)


async def snapshot(endpoint: Endpoint) -> dict[str, tuple[int, str]]:
    """{resource: (count, checksum)}: each database (its tables) and each table's schema (its columns)."""
    found = {}
    for database in await endpoint.all("tablesDB.list", {}, "databases", "databases"):
        tables = await endpoint.all("tablesDB.listTables", {"databaseId": database["$id"]}, "tables", "tables")
        found[f"database {database['$id']}"] = (
            len(tables),
            checksum([pick(database, DATABASE_FIELDS)] + [pick(table, TABLE_FIELDS) for table in tables]),
        )
        for table in tables:
            ids = {"databaseId": database["$id"], "tableId": table["$id"]}
            columns = await endpoint.all("tablesDB.listColumns", ids, "columns", "columns")
            indexes = await endpoint.all("tablesDB.listIndexes", ids, "indexes", "indexes")
            found[f"table {database['$id']}/{table['$id']}"] = (
                len(columns),
                checksum([comparable(column) for column in columns] + [comparable(index) for index in indexes]),
            )
    return found
