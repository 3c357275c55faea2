"""Rows (and the documents of documentsDB and vectorsDB collections, which are copied alike): a page at a time
keeping `$id`, `$permissions`, `$createdAt` and `$updatedAt` (in bulk where the table allows it, one by one where
it has relationships), then the relationships once every row of both tables exists. A page already in the target
is skipped; a row that differs is brought in line.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from .context import Migration
from .endpoint import Endpoint, query
from .report import CREATE, SKIP, UPDATE

SYSTEM = ("$sequence", "$tableId", "$databaseId", "$collectionId")
MODULUS = 2**256


@dataclass(frozen=True)
class Records:
    """Where one kind of record lives: a service, its parent's id parameter, and its noun (its operations are
    named after it: listRows, createRows, createRow, updateRow; listDocuments, …)."""

    service: str
    parent: str
    noun: str

    @property
    def items(self) -> str:
        return f"{self.noun.lower()}s"

    def operation(self, verb: str, many: bool = False) -> str:
        return f"{self.service}.{verb}{self.noun}{'s' if many else ''}"


ROWS = Records("tablesDB", "tableId", "Row")


async def relationship_keys(endpoint: Endpoint, database: str, table: str) -> tuple[set[str], list[str]]:
    """(every relationship column of the table, those on the side that sets them: the parent)."""
    ids = {"databaseId": database, "tableId": table}
    columns = await endpoint.all("tablesDB.listColumns", ids, "columns", f"table {database}/{table}")
    related = [column for column in columns if column.get("type") == "relationship"]
    return {column["key"] for column in related}, [column["key"] for column in related if column["side"] != "child"]


def plain(row: dict, relationships: set[str]) -> dict:
    """The row as it is written: its data and $-attributes a key may set, no relationship."""
    return {key: value for key, value in row.items() if key not in SYSTEM and key not in relationships}


def linked_ids(value: object) -> object:
    """A relationship value as the ids it points to (a row, a list of rows, or nothing)."""
    if isinstance(value, dict):
        return value.get("$id")
    if isinstance(value, list):
        return sorted(linked_ids(item) for item in value)
    return value


def links(row: dict, keys: list[str]) -> dict:
    return {key: linked_ids(row.get(key)) for key in keys}


def link_select(keys: list[str]) -> list[str]:
    return [query("select", "*", *(f"{key}.$id" for key in keys))] if keys else []


async def migrate_rows(m: Migration, tables: list[tuple[str, str]]) -> None:
    """Every row of the tables, then their relationships."""
    shapes = {ids: await relationship_keys(m.source, *ids) for ids in tables}
    await m.each(tables, lambda ids: copy_records(m, ROWS, *ids, shapes[ids][0]))
    await m.each([ids for ids in tables if shapes[ids][1]], lambda ids: copy_links(m, *ids, shapes[ids][1]))


async def copy_records(m: Migration, kind: Records, database: str, parent: str, relationships: set[str]) -> None:
    """Every row (or document) of one table (or collection), relationships left out."""
    task = f"{kind.items} {database}/{parent}"
    ids = {"databaseId": database, kind.parent: parent}
    listing = kind.operation("list", many=True)
    first = await m.source.call(listing, ids | {"queries": [query("limit", 1)]}, task)
    if m.state.done(task):
        m.plan(kind.items, SKIP, first["total"])
        return
    m.progress.start(task, first["total"])
    async for page in m.source.pages(listing, ids, kind.items, task, after=m.state.cursor(task)):
        rows = [plain(row, relationships) for row in page]
        present = await target_rows(m.target, kind, ids, [row["$id"] for row in rows], task, [])
        missing = [row for row in rows if row["$id"] not in present]
        changed = [row for row in rows if row["$id"] in present and plain(present[row["$id"]], relationships) != row]
        m.plan(kind.items, SKIP, len(rows) - len(missing) - len(changed))
        if missing and m.plan(kind.items, CREATE, len(missing)):
            if relationships:
                for row in missing:
                    label = f"{kind.noun.lower()} {database}/{parent}/{row['$id']}"
                    await m.target.call(kind.operation("create"), row_params(kind, ids, row), label)
            else:
                await m.target.call(
                    kind.operation("create", many=True),
                    ids | {kind.items: missing},
                    f"{kind.items} of {database}/{parent} from {missing[0]['$id']} to {missing[-1]['$id']}",
                )
        for row in changed:
            if m.plan(kind.items, UPDATE):
                label = f"{kind.noun.lower()} {database}/{parent}/{row['$id']}"
                await m.target.call(kind.operation("update"), row_params(kind, ids, row), label)
        if not m.dry_run:
            m.state.advance(task, page[-1]["$id"])
        m.progress.advance(task, len(page))
    if not m.dry_run:
        m.state.mark(task)


def row_params(kind: Records, ids: dict, row: dict) -> dict:
    data = {key: value for key, value in row.items() if key not in ("$id", "$permissions")}
    return ids | {f"{kind.noun.lower()}Id": row["$id"], "data": data, "permissions": row.get("$permissions", [])}


async def target_rows(
    target: Endpoint, kind: Records, ids: dict, row_ids: list[str], task: str, keys: list[str]
) -> dict[str, dict]:
    """The target's rows (or documents) of these ids (none when their parent is missing, as in a dry run)."""
    queries = [query("equal", *row_ids, attribute="$id"), query("limit", len(row_ids)), *link_select(keys)]
    found = await target.find(kind.operation("list", many=True), ids | {"queries": queries}, task)
    return {row["$id"]: row for row in found[kind.items]} if found else {}


async def copy_links(m: Migration, database: str, table: str, keys: list[str]) -> None:
    """Set the relationship columns the table owns, as in the source, keeping each row's $updatedAt."""
    task = f"links {database}/{table}"
    if m.state.done(task):
        return
    ids = {"databaseId": database, "tableId": table}
    m.progress.start(task, 0)
    pages = m.source.pages("tablesDB.listRows", ids, "rows", task, link_select(keys), after=m.state.cursor(task))
    async for page in pages:
        present = await target_rows(m.target, ROWS, ids, [row["$id"] for row in page], task, keys)
        for row in page:
            wanted = links(row, keys)
            there = present.get(row["$id"])
            if there is not None and links(there, keys) == wanted:
                continue
            if m.plan("relationships", UPDATE):
                data = wanted | {"$updatedAt": row["$updatedAt"]}
                await m.target.call(
                    "tablesDB.updateRow",
                    ids | {"rowId": row["$id"], "data": data},
                    f"relationships of row {database}/{table}/{row['$id']}",
                )
        if not m.dry_run:
            m.state.advance(task, page[-1]["$id"])
        m.progress.advance(task, len(page))
    if not m.dry_run:
        m.state.mark(task)


async def snapshot(
    endpoint: Endpoint, tables: list[tuple[str, str]], kind: Records = ROWS
) -> dict[str, tuple[int, str]]:
    """{"rows db/table": (count, checksum)}: the checksum adds up each row's digest (its data, $-attributes
    and the ids its owned relationships point to), so it does not depend on order and needs no memory."""
    found = {}
    for database, table in tables:
        every, owned = await relationship_keys(endpoint, database, table) if kind == ROWS else (set(), [])
        count, total = 0, 0
        ids = {"databaseId": database, kind.parent: table}
        task = f"{kind.items} {database}/{table}"
        async for page in endpoint.pages(kind.operation("list", many=True), ids, kind.items, task, link_select(owned)):
            for row in page:
                canonical = json.dumps(plain(row, every) | links(row, owned), sort_keys=True, ensure_ascii=False)
                total = (total + int(hashlib.sha256(canonical.encode()).hexdigest(), 16)) % MODULUS
            count += len(page)
        found[task] = (count, f"{total:064x}")
    return found
