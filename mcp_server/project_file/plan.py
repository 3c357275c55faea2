"""What it takes to bring a project to the schema a file states: actions (create, update in place, recreate,
delete) per resource, each made of the catalog operations that carry it out.

A column change is an update in place when the column type's update operation takes every key that changed (the
keys appwrite-cli calls changeable: required, default, elements, min, max, size, …); any other change means
deleting the column and creating it again, which loses its values. An index cannot be changed: it is recreated.
Flat resources (buckets, teams, topics, functions' and sites' settings, webhooks, platforms) are updated in place,
but for a platform whose type changes: its create and update operations are its type's, so it is recreated.
The project's settings are updated one by one, each by its own operation (settings.py).
A resource the target has and the file lacks is deleted only when the file states its section in full.

Each operation carries a phase, so that applying respects dependencies: deletions first (indexes, relationship
columns, columns, tables, databases), then databases, tables, columns, relationships (once both tables exist),
indexes (once their columns exist), then the flat sections.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..catalog import Catalog
from .layout import SECTIONS, Section, column_method, parameter, stated
from .schema import DATABASES, TABLES, Schema
from .settings import MOCK_NUMBERS, SECURITY, sent

(
    DELETE_INDEX, DELETE_RELATIONSHIP, DELETE_COLUMN, DELETE_TABLE, DELETE_DATABASE, DATABASE, TABLE, COLUMN,
    RELATIONSHIP, INDEX, FLAT,
) = range(11)  # fmt: skip
CREATE, UPDATE, RECREATE, DELETE = "create", "update", "recreate", "delete"
DESTRUCTIVE = (RECREATE, DELETE)
# Keys of a column that are no setting of it (its key names it, its side follows from the other table's).
NOT_SETTINGS = ("key", "side")
# Keys whose lists are sets: the server may give them in another order.
UNORDERED = ("$permissions",)
TABLE_SETTINGS = ("$permissions", "name", "enabled", "rowSecurity")
INDEX_SETTINGS = ("type", "columns", "orders")
TABLE_FIXED = ("$id", "databaseId", "columns", "indexes")


@dataclass(frozen=True)
class Step:
    """One operation of an action, in its phase; `wait` names the column or index whose state to wait for
    afterwards: ("column" | "index", database id, table id, key, "available" | "gone")."""

    phase: int
    operation: str
    params: dict
    wait: tuple[str, str, str, str, str] | None = None


@dataclass
class Action:
    """One resource's change: what (create, update, recreate, delete), which resource, the keys that change, and
    what is lost (None when nothing is), and why when no key of its own changes."""

    action: str
    resource: str
    address: str
    changes: list[dict] = field(default_factory=list)
    loses: str | None = None
    steps: list[Step] = field(default_factory=list)
    reason: str | None = None

    def as_json(self) -> dict:
        return {
            "action": self.action,
            "resource": self.resource,
            "address": self.address,
            "changes": self.changes,
            "dataLoss": self.loses,
            "reason": self.reason,
        }


def plan(wanted: Schema, found: Schema, catalog: Catalog) -> list[Action]:
    """The actions that turn the project `found` into the schema `wanted`, in apply order."""
    planner = Planner(catalog)
    actions = planner.databases(wanted, found)
    actions += planner.tables(wanted, found)
    for section in SECTIONS:
        actions += planner.flat(section, wanted, found)
    actions += planner.settings(wanted.settings, found.settings)
    return sorted(actions, key=lambda action: min((step.phase for step in action.steps), default=FLAT))


def same(key: str, have: object, want: object) -> bool:
    """Whether two values of a key are the same, as appwrite-cli compares them (null, absent and empty agree)."""
    if have in (None, "", []) and want in (None, "", []):
        return True
    if key in UNORDERED and isinstance(have, list) and isinstance(want, list):
        return sorted(map(str, have)) == sorted(map(str, want))
    if isinstance(have, bool) or isinstance(want, bool):
        return have is want
    return have == want


def unset(value: object) -> bool:
    return value is None or value is False or value == "" or value == []


def differences(have: dict, want: dict, keys: tuple[str, ...] | list[str]) -> list[dict]:
    """The keys `want` states that `have` does not match, each with both values. A key the target does not report
    (an older server's model lacks it) matches a file that leaves it unset: null, false, empty."""
    return [
        {"key": key, "from": have.get(key), "to": want[key]}
        for key in keys
        if key in want and not (key not in have and unset(want[key])) and not same(key, have.get(key), want[key])
    ]


class Planner:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def params(self, operation: str, values: dict, fixed: dict) -> dict:
        """The parameters of `operation` that `values` (keys of the file) give, with the `fixed` ones."""
        properties = self.catalog.get(operation).input_schema["properties"]
        given = {parameter(key): value for key, value in values.items()}
        return {**{name: value for name, value in given.items() if name in properties}, **fixed}

    def databases(self, wanted: Schema, found: Schema) -> list[Action]:
        actions = []
        for identity, database in wanted.databases.items():
            fixed = {"databaseId": identity}
            have = found.databases.get(identity)
            if have is None:
                step = Step(DATABASE, "tablesDB.create", self.params("tablesDB.create", database, fixed))
                actions.append(Action(CREATE, "database", identity, steps=[step]))
                continue
            changes = differences(have, database, ("name", "enabled"))
            if changes:
                step = Step(DATABASE, "tablesDB.update", self.params("tablesDB.update", {**have, **database}, fixed))
                actions.append(Action(UPDATE, "database", identity, changes, steps=[step]))
        if DATABASES in wanted.managed:
            for identity in found.databases.keys() - wanted.databases.keys():
                step = Step(DELETE_DATABASE, "tablesDB.delete", {"databaseId": identity})
                actions.append(Action(DELETE, "database", identity, loses="its tables and their rows", steps=[step]))
        return actions

    def tables(self, wanted: Schema, found: Schema) -> list[Action]:
        actions = []
        for (database, identity), table in wanted.tables.items():
            have = found.tables.get((database, identity))
            address = f"{database}/{identity}"
            fixed = {"databaseId": database, "tableId": identity}
            settings = {key: value for key, value in table.items() if key not in TABLE_FIXED}
            if have is None:
                step = Step(TABLE, "tablesDB.createTable", self.params("tablesDB.createTable", settings, fixed))
                actions.append(Action(CREATE, "table", address, steps=[step]))
                have = {"columns": [], "indexes": []}
            else:
                changes = differences(have, table, TABLE_SETTINGS)
                if changes:
                    merged = {**have, **settings}
                    update = self.params("tablesDB.updateTable", merged, fixed)
                    step = Step(TABLE, "tablesDB.updateTable", update)
                    actions.append(Action(UPDATE, "table", address, changes, steps=[step]))
            changed = self.columns(address, fixed, have["columns"], table["columns"])
            # Appwrite takes a deleted column out of its indexes: an index on a column recreated goes with it.
            dropped = {action.address.rsplit("/", 1)[1] for action in changed if action.action in DESTRUCTIVE}
            actions += changed + self.indexes(address, fixed, have["indexes"], table["indexes"], dropped)
        if TABLES in wanted.managed:
            for database, identity in found.tables.keys() - wanted.tables.keys():
                if database in wanted.databases:
                    step = Step(DELETE_TABLE, "tablesDB.deleteTable", {"databaseId": database, "tableId": identity})
                    address = f"{database}/{identity}"
                    actions.append(Action(DELETE, "table", address, loses="its rows", steps=[step]))
        return actions

    def columns(self, table: str, fixed: dict, have: list[dict], want: list[dict]) -> list[Action]:
        """Columns on the child side of a two-way relationship come and go with the parent side's column."""
        had = {column["key"]: column for column in have if column.get("side") != "child"}
        wanted = {column["key"]: column for column in want if column.get("side") != "child"}
        actions = []
        for key, column in wanted.items():
            address = f"{table}/{key}"
            old = had.get(key)
            if old is None:
                actions.append(Action(CREATE, "column", address, steps=[self.create_column(fixed, column)]))
                continue
            keys = [name for name in column if name not in NOT_SETTINGS]
            changes = differences(old, column, keys)
            if not changes:
                continue
            update = f"tablesDB.update{column_method(column)}Column"
            properties = self.catalog.get(update).input_schema["properties"]
            in_place = column_method(old) == column_method(column) and all(
                change["key"] != "type" and parameter(change["key"]) in properties for change in changes
            )
            if in_place:
                merged = {name: value for name, value in {**old, **column}.items() if name not in ("type", "format")}
                step = Step(self.column_phase(column), update, self.params(update, merged, {**fixed, "key": key}), (
                    "column", fixed["databaseId"], fixed["tableId"], key, "available"
                ))  # fmt: skip
                actions.append(Action(UPDATE, "column", address, changes, steps=[step]))
            else:
                steps = [self.delete_column(fixed, old), self.create_column(fixed, column)]
                loses = "the column's values in every row"
                actions.append(Action(RECREATE, "column", address, changes, loses, steps))
        for key in had.keys() - wanted.keys():
            step = self.delete_column(fixed, had[key])
            actions.append(Action(DELETE, "column", f"{table}/{key}", loses="its values in every row", steps=[step]))
        return actions

    def column_phase(self, column: dict) -> int:
        return RELATIONSHIP if column.get("type") == "relationship" else COLUMN

    def create_column(self, fixed: dict, column: dict) -> Step:
        operation = f"tablesDB.create{column_method(column)}Column"
        settings = {name: value for name, value in column.items() if name not in ("type", "format", "side")}
        wait = ("column", fixed["databaseId"], fixed["tableId"], column["key"], "available")
        return Step(self.column_phase(column), operation, self.params(operation, settings, fixed), wait)

    def delete_column(self, fixed: dict, column: dict) -> Step:
        phase = DELETE_RELATIONSHIP if column.get("type") == "relationship" else DELETE_COLUMN
        wait = ("column", fixed["databaseId"], fixed["tableId"], column["key"], "gone")
        return Step(phase, "tablesDB.deleteColumn", {**fixed, "key": column["key"]}, wait)

    def indexes(self, table: str, fixed: dict, have: list[dict], want: list[dict], dropped: set[str]) -> list[Action]:
        had = {index["key"]: index for index in have}
        wanted = {index["key"]: index for index in want}
        actions = []
        for key, index in wanted.items():
            address = f"{table}/{key}"
            create = Step(
                INDEX,
                "tablesDB.createIndex",
                self.params("tablesDB.createIndex", index, fixed),
                ("index", fixed["databaseId"], fixed["tableId"], key, "available"),
            )
            old = had.get(key)
            if old is None:
                actions.append(Action(CREATE, "index", address, steps=[create]))
                continue
            changes = differences(old, index, INDEX_SETTINGS)
            reason = None
            if not changes and dropped & set(old.get("columns") or []):
                reason = f"it covers {', '.join(sorted(dropped & set(old['columns'])))}, which is recreated"
            if changes or reason:
                actions.append(
                    Action(
                        RECREATE,
                        "index",
                        address,
                        changes,
                        reason=reason,
                        steps=[self.delete_index(fixed, key), create],
                    )
                )
        for key in had.keys() - wanted.keys():
            actions.append(Action(DELETE, "index", f"{table}/{key}", steps=[self.delete_index(fixed, key)]))
        return actions

    def delete_index(self, fixed: dict, key: str) -> Step:
        wait = ("index", fixed["databaseId"], fixed["tableId"], key, "gone")
        return Step(DELETE_INDEX, "tablesDB.deleteIndex", {**fixed, "key": key}, wait)

    def flat(self, section: Section, wanted: Schema, found: Schema) -> list[Action]:
        """An update sends every setting the update operation takes (it replaces them all): the file's, and the
        target's own for the rest (a function's repository, say), so that nothing the file does not state is
        reset."""
        want = wanted.flat.get(section.name, {})
        have = found.flat.get(section.name, {})
        actions = []
        for identity, entry in want.items():
            fixed = {section.id_param: identity}
            settings = {key: value for key, value in stated(entry).items() if key != section.variant}
            create = section.operation(section.create, entry)
            create_step = Step(FLAT, create, self.params(create, settings, fixed))
            old = have.get(identity)
            if old is None:
                actions.append(Action(CREATE, section.kind, identity, steps=[create_step]))
                continue
            changes = differences(old, entry, section.keys)
            if section.variant and old.get(section.variant) != entry.get(section.variant):
                steps = [Step(FLAT, section.delete, fixed), create_step]
                actions.append(Action(RECREATE, section.kind, identity, changes, section.loses, steps))
            elif changes:
                model = found.models.get(section.name, {}).get(identity, old)
                update = section.operation(section.update, entry)
                step = Step(FLAT, update, self.params(update, stated({**model, **entry}), fixed))
                actions.append(Action(UPDATE, section.kind, identity, changes, steps=[step]))
        if section.name in wanted.managed:
            for identity in have.keys() - want.keys():
                step = Step(FLAT, section.delete, {section.id_param: identity})
                actions.append(Action(DELETE, section.kind, identity, loses=section.loses, steps=[step]))
        return actions

    def settings(self, want: dict, have: dict) -> list[Action]:
        """Each setting the file states and the target does not have is set by its own operation; a mock number the
        file's list lacks is deleted."""
        actions = []
        switches = (
            ("service", want.get("services", {}), have.get("services", {}), "project.updateService", "serviceId"),
            (
                "auth method",
                want.get("auth", {}).get("methods", {}),
                have.get("auth", {}).get("methods", {}),
                "project.updateAuthMethod",
                "methodId",
            ),
        )
        for resource, wanted, had, operation, id_param in switches:
            for key, enabled in wanted.items():
                if had.get(key) is not enabled:
                    step = Step(FLAT, operation, {id_param: key, "enabled": enabled})
                    change = {"key": "enabled", "from": had.get(key), "to": enabled}
                    actions.append(Action(UPDATE, resource, key, [change], steps=[step]))
        wanted, had = want.get("auth", {}).get("security", {}), have.get("auth", {}).get("security", {})
        for key, (_, name, operation) in SECURITY.items():
            if key in wanted and not same(key, had.get(key), wanted[key]):
                step = Step(FLAT, operation, {name: sent(name, wanted[key])})
                change = {"key": key, "from": had.get(key), "to": wanted[key]}
                actions.append(Action(UPDATE, "auth security", key, [change], steps=[step]))
        if MOCK_NUMBERS in wanted:
            actions += self.mock_numbers(wanted[MOCK_NUMBERS], had.get(MOCK_NUMBERS, []))
        return actions

    def mock_numbers(self, want: list[dict], have: list[dict]) -> list[Action]:
        had = {entry["phone"]: entry["otp"] for entry in have}
        wanted = {entry["phone"]: entry["otp"] for entry in want}
        actions = []
        for phone, otp in wanted.items():
            params = {"number": phone, "otp": otp}
            if phone not in had:
                actions.append(
                    Action(CREATE, "mock number", phone, steps=[Step(FLAT, "project.createMockPhone", params)])
                )
            elif had[phone] != otp:
                step = Step(FLAT, "project.updateMockPhone", params)
                actions.append(
                    Action(UPDATE, "mock number", phone, [{"key": "otp", "from": had[phone], "to": otp}], steps=[step])
                )
        for phone in had.keys() - wanted.keys():
            step = Step(FLAT, "project.deleteMockPhone", {"number": phone})
            actions.append(Action(DELETE, "mock number", phone, steps=[step]))
        return actions
