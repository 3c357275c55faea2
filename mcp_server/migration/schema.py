"""The schema step, through project_file's reading, planning and applying: the source's databases, tables, columns
and indexes read as a schema, planned against the target's with no deletions (a migration never deletes in the
target), and applied in dependency order, waiting until each column and index is `available`.

A change the target can only take by deleting and creating again (a column's type, an index's columns) is not
applied: it is reported as a conflict to settle by hand, since it would lose the target's data.

`migrate_schema` is the one entry point; `snapshot` reads one end's schema for verification.
"""

from __future__ import annotations

from collections import Counter

from ..project_file.apply import ApplyError, apply
from ..project_file.plan import RECREATE, Action, plan
from ..project_file.schema import DATABASES, TABLES, Schema
from ..project_file.target import read_target
from .context import Migration, checksum
from .endpoint import Endpoint
from .report import FAILED, SKIP

SECTIONS = frozenset({DATABASES, TABLES})
# How the report names each kind of resource the plan acts on.
RESOURCES = {"database": "databases", "table": "tables", "column": "columns", "index": "indexes"}
WAIT_S = 120.0
CONTENTS = ("columns", "indexes")  # a table's, verified with the table rather than with its database


async def read(endpoint: Endpoint, missing_is_empty: bool = False) -> Schema:
    """One end's databases and tables; with `missing_is_empty`, an end that cannot list them (a target project
    not made yet, seen by a dry run) has none."""
    return await read_target(endpoint.as_backend(), SECTIONS, [] if missing_is_empty else None)


async def migrate_schema(m: Migration) -> list[tuple[str, str]]:
    """Databases, tables, columns and indexes made (or brought in line) in the target as they are in the source;
    the tables moved as (databaseId, tableId)."""
    wanted = await read(m.source)
    wanted.managed = frozenset()  # nothing of the target is deleted for lacking in the source
    actions = plan(wanted, await read(m.target, m.dry_run), m.target.catalog)
    conflicts = [action for action in actions if action.action == RECREATE]
    for action in conflicts:
        m.report.note(
            FAILED,
            f"{action.resource} {action.address}",
            "exists in the target with another definition; change it by hand",
        )
    chosen = [action for action in actions if action.action != RECREATE]
    count(m, wanted, actions, chosen)
    if not m.dry_run and chosen:
        try:
            await apply(m.target.as_backend(), m.target.catalog, chosen, WAIT_S, lambda action: None)
        except ApplyError as error:
            m.report.note(FAILED, "target schema", str(error))
    return list(wanted.tables)


def count(m: Migration, wanted: Schema, actions: list[Action], chosen: list[Action]) -> None:
    """Each action planned in the report, and every resource of the source no action touches as already there."""
    touched = Counter(RESOURCES[action.resource] for action in actions)
    stated = Counter(
        databases=len(wanted.databases),
        tables=len(wanted.tables),
        columns=sum(len(owned(table["columns"])) for table in wanted.tables.values()),
        indexes=sum(len(table["indexes"]) for table in wanted.tables.values()),
    )
    for action in chosen:
        m.plan(RESOURCES[action.resource], action.action)
    for resource, amount in stated.items():
        m.plan(resource, SKIP, amount - touched[resource])


def owned(columns: list[dict]) -> list[dict]:
    """The columns a table makes itself (a two-way relationship's child side comes with its parent's column)."""
    return [column for column in columns if column.get("side") != "child"]


async def snapshot(endpoint: Endpoint) -> dict[str, tuple[int, str]]:
    """{resource: (count, checksum)}: each database (its tables' settings) and each table (its columns, then its
    indexes)."""
    schema = await read(endpoint)
    found = {}
    for identity, database in schema.databases.items():
        tables = [table for (parent, _), table in schema.tables.items() if parent == identity]
        settings = [{key: value for key, value in table.items() if key not in CONTENTS} for table in tables]
        found[f"database {identity}"] = (len(tables), checksum([database, *settings]))
    for (database, identity), table in schema.tables.items():
        found[f"table {database}/{identity}"] = (len(table["columns"]), checksum(table["columns"] + table["indexes"]))
    return found
