"""Reading appwrite.config.json and checking all of it before anything is compared or applied.

Every field can lie: the file's size and nesting are bounded, ids and keys must be Appwrite's, column and index types
must be known, references (a table's database, a relationship's table, an index's columns) must exist in the file,
and each resource's settings are checked against the parameters of the catalog operation that would create it. A
problem is a FileError naming the key path, such as `tables[0].columns[2].type`.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..catalog import Catalog, Operation
from ..nesting import depth_of
from ..validation import explain, validator_for
from .layout import (
    COLLECTION_KEYS,
    COLUMN_KEYS,
    COLUMN_TYPES,
    DATABASE_KEYS,
    ID_PATTERN,
    INDEX_KEYS,
    LEGACY_WORDS,
    SECTIONS,
    STRING_FORMATS,
    SYSTEM_COLUMNS,
    TABLE_KEYS,
    Section,
    column_method,
    parameter,
    shaped,
    stated,
)
from .schema import DATABASES, TABLES, Schema
from .settings import SETTINGS, SettingsError, check_settings

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 16
# Keys of a column or an index that are no parameter of the operation creating it.
NOT_COLUMN_PARAMETERS = ("type", "format", "side", "status")
TYPES_SHOWN = ", ".join(COLUMN_TYPES)
FORMATS_SHOWN = ", ".join(STRING_FORMATS)


class FileError(Exception):
    """A problem with the file: where it is (a key path, empty for the whole file) and what it is."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}" if where else problem)
        self.where = where
        self.problem = problem


def read_schema(path: Path, catalog: Catalog) -> Schema:
    """The schema the file at `path` states, or FileError."""
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise FileError("", f"cannot read {str(path)!r}: {error.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise FileError("", f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=not_a_number)
    except UnicodeDecodeError:
        raise FileError("", "the file is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise FileError("", f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
    except RecursionError:
        raise FileError("", f"the JSON nests deeper than {MAX_DEPTH} levels") from None
    if depth_of(data) > MAX_DEPTH:
        raise FileError("", f"the JSON nests deeper than {MAX_DEPTH} levels")
    return parse_schema(data, catalog)


def parse_schema(data: object, catalog: Catalog) -> Schema:
    """The schema a parsed appwrite.config.json states, or FileError."""
    if not isinstance(data, dict):
        raise FileError("", "the file must hold a JSON object, as appwrite-cli writes it")
    checker = Checker(catalog)
    databases = checker.databases(data)
    tables = checker.tables(data, databases)
    flat = {section.name: checker.flat(data, section) for section in SECTIONS if section.name in data}
    settings = checker.settings(data[SETTINGS]) if SETTINGS in data else {}
    managed = {name for name in (DATABASES, TABLES, SETTINGS) if name in data or LEGACY.get(name) in data}
    return Schema(databases, tables, flat, frozenset(managed | set(flat)), settings=settings)


# The legacy API's name for each section of the TablesDB API.
LEGACY = {DATABASES: "databases", TABLES: "collections"}


class Checker:
    """Checks the parts of a file against Appwrite's rules and the catalog's operations."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        # Relationship columns: where each names its table, its database and the table it names.
        self.relations: list[tuple[str, str, object]] = []

    def entries(self, data: dict, name: str) -> list[tuple[str, dict]]:
        """The objects of the section `name` with their key paths (none when the section is absent)."""
        section = data.get(name)
        if section is None:
            return []
        if not isinstance(section, list):
            raise FileError(name, f"must be a list, got {kind_of(section)}")
        for number, entry in enumerate(section):
            if not isinstance(entry, dict):
                raise FileError(f"{name}[{number}]", f"must be an object, got {kind_of(entry)}")
        return [(f"{name}[{number}]", entry) for number, entry in enumerate(section)]

    def databases(self, data: dict) -> dict[str, dict]:
        found: dict[str, dict] = {}
        for name in (LEGACY[DATABASES], DATABASES):
            seen: set[str] = set()
            for where, entry in self.entries(data, name):
                database = shaped(entry, DATABASE_KEYS)
                identity = self.identity(where, database, "$id", seen)
                self.check(where, self.catalog.get("tablesDB.create"), {"databaseId": identity}, database)
                if identity in found and found[identity] != database:
                    raise FileError(f"{where}.$id", f"database {identity!r} is also given, differently, in databases")
                found[identity] = database
        return found

    def tables(self, data: dict, databases: dict[str, dict]) -> dict[tuple[str, str], dict]:
        found: dict[tuple[str, str], dict] = {}
        for name in (LEGACY[TABLES], TABLES):
            seen: set[str] = set()
            for where, entry in self.entries(data, name):
                try:
                    table = self.table(where, entry, name, databases, seen)
                except FileError as error:
                    raise legacy_words(error) if name == LEGACY[TABLES] else error from None
                identity, database = table["$id"], table["databaseId"]
                if (database, identity) in found and found[database, identity] != table:
                    raise FileError(where, f"table {identity!r} is also given, differently, in collections")
                found[database, identity] = table
        for place, database, related in self.relations:
            if (database, related) not in found:
                raise FileError(place, f"{describe(related)} is no table of database {describe(database)}")
        return found

    def table(self, where: str, entry: dict, name: str, databases: dict[str, dict], seen: set[str]) -> dict:
        """One table of the file (a legacy collection in a table's words), checked with its columns and indexes."""
        table = table_words(entry) if name == LEGACY[TABLES] else shaped(entry, TABLE_KEYS)
        identity = self.identity(where, table, "$id", set())
        database = table.get("databaseId")
        if database not in databases:
            raise FileError(f"{where}.databaseId", f"{describe(database)} is no database of the file's tablesDB")
        if f"{database}/{identity}" in seen:
            raise FileError(f"{where}.$id", f"table {identity!r} is given twice in database {database!r}")
        seen.add(f"{database}/{identity}")
        fixed = {"databaseId": database, "tableId": identity}
        settings = {key: value for key, value in table.items() if key not in ("columns", "indexes")}
        self.check(where, self.catalog.get("tablesDB.createTable"), fixed, settings)
        table["columns"] = self.columns(where, table, fixed)
        table["indexes"] = self.indexes(where, table, fixed)
        if name == LEGACY[TABLES]:
            self.relations = [(legacy_path(place), *rest) for place, *rest in self.relations]
        return table

    def columns(self, where: str, table: dict, fixed: dict) -> list[dict]:
        columns = []
        seen: set[str] = set()
        for number, entry in enumerate(listed(f"{where}.columns", table.get("columns", []))):
            place = f"{where}.columns[{number}]"
            column = shaped(entry, COLUMN_KEYS)
            self.identity(place, column, "key", seen)
            kind = column.get("type")
            if kind not in COLUMN_TYPES:
                raise FileError(f"{place}.type", f"unknown column type {describe(kind)}; one of {TYPES_SHOWN}")
            if kind == "string" and column.get("format") not in (None, "", *STRING_FORMATS):
                raise FileError(
                    f"{place}.format", f"unknown string format {describe(column['format'])}; one of {FORMATS_SHOWN}"
                )
            method = column_method(column)
            if method is None:
                raise FileError(f"{place}.format", f"a {kind} column takes no format {describe(column.get('format'))}")
            if column.get("side") not in (None, "parent", "child"):
                raise FileError(f"{place}.side", f"must be parent or child, got {describe(column['side'])}")
            if column.get("side") != "child":
                settings = {name: value for name, value in column.items() if name not in NOT_COLUMN_PARAMETERS}
                self.check(place, self.catalog.get(f"tablesDB.create{method}Column"), fixed, settings)
                column_rules(place, column)
            if kind == "relationship":
                self.relations.append((f"{place}.relatedTable", fixed["databaseId"], column.get("relatedTable")))
            columns.append(column)
        return columns

    def indexes(self, where: str, table: dict, fixed: dict) -> list[dict]:
        known = {column["key"] for column in table["columns"]} | set(SYSTEM_COLUMNS)
        indexes = []
        seen: set[str] = set()
        for number, entry in enumerate(listed(f"{where}.indexes", table.get("indexes", []))):
            place = f"{where}.indexes[{number}]"
            index = {key: value for key, value in shaped(entry, INDEX_KEYS).items() if key != "status"}
            self.identity(place, index, "key", seen)
            self.check(place, self.catalog.get("tablesDB.createIndex"), fixed, index)
            for position, column in enumerate(index["columns"]):
                if column not in known:
                    raise FileError(f"{place}.columns[{position}]", f"{describe(column)} is no column of the table")
            indexes.append(index)
        return indexes

    def flat(self, data: dict, section: Section) -> dict[str, dict]:
        found: dict[str, dict] = {}
        for where, entry in self.entries(data, section.name):
            resource = shaped(entry, ("$id", *section.keys))
            identity = self.identity(where, resource, "$id", set(found))
            settings = {key: value for key, value in stated(resource).items() if key not in ("$id", section.variant)}
            if section.variant:
                self.variant(where, section, resource, settings)
            create = self.catalog.get(section.operation(section.create, resource))
            self.check(where, create, {section.id_param: identity}, settings)
            found[identity] = resource
        return found

    def variant(self, where: str, section: Section, resource: dict, settings: dict) -> None:
        """A resource whose kind names its operations (a platform's type) states a known kind, and only the keys
        that kind takes: a web platform its hostname, an Apple one its bundleIdentifier, and so on."""
        kind = resource.get(section.variant)
        if kind not in section.variants:
            known = ", ".join(section.variants)
            problem = f"unknown {section.kind} type {describe(kind)}; one of {known}"
            raise FileError(f"{where}.{section.variant}", problem)
        properties = self.catalog.get(section.operation(section.create, resource)).input_schema["properties"]
        for key in settings:
            if parameter(key) not in properties:
                raise FileError(f"{where}.{key}", f"a {section.kind} of type {kind} takes no {key}")
        needed = section.variants[kind]
        if needed not in settings:
            raise FileError(f"{where}.{needed}", f"a {section.kind} of type {kind} needs its {needed}")

    def settings(self, value: object) -> dict:
        try:
            return check_settings(value, self.valid)
        except SettingsError as error:
            raise FileError(error.where, error.problem) from None

    def valid(self, where: str, operation_id: str, params: dict) -> None:
        """`params` must be valid parameters of the operation; the problem is said at `where`."""
        operation = self.catalog.get(operation_id)
        errors = sorted(validator_for(operation).iter_errors(params), key=lambda error: len(error.path))
        if errors:
            raise FileError(where, explain(errors[0], operation.input_schema["properties"]))

    def identity(self, where: str, entry: dict, key: str, seen: set[str]) -> str:
        """The entry's id (or key), checked to be Appwrite's and not given before in its list."""
        value = entry.get(key)
        if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
            raise FileError(
                f"{where}.{key}",
                f"must be up to 36 characters a-z A-Z 0-9 . - _, not starting with . - or _; got {describe(value)}",
            )
        if value in seen:
            raise FileError(f"{where}.{key}", f"{value!r} is given twice")
        seen.add(value)
        return value

    def check(self, where: str, operation: Operation, fixed: dict, settings: dict) -> None:
        """The settings must be valid parameters of `operation` (which creates the resource)."""
        properties = operation.input_schema["properties"]
        params = {**{parameter(key): value for key, value in settings.items()}, **fixed}
        params = {name: value for name, value in params.items() if name in properties}
        errors = sorted(validator_for(operation).iter_errors(params), key=lambda error: len(error.path))
        if not errors:
            return
        error = errors[0]
        name = error.message.split("'")[1] if error.validator == "required" else str(error.absolute_path[0])
        key = {parameter(key): key for key in settings}.get(name, name)
        problem = explain(error, properties).replace(f"parameter {name!r}", key).replace(f"{name!r}", repr(key))
        raise FileError(f"{where}.{key}", problem)


def not_a_number(name: str) -> None:
    raise FileError("", f"not valid JSON: {name} is no JSON number")


def column_rules(place: str, column: dict) -> None:
    """Appwrite's rules that tie a column's settings together (its parameters were each checked already)."""
    default, low, high = column.get("default"), column.get("min"), column.get("max")
    if default is not None and column.get("required"):
        raise FileError(f"{place}.default", "a required column takes no default (null)")
    if default is not None and column.get("array"):
        raise FileError(f"{place}.default", "an array column takes no default (null)")
    if low is not None and high is not None and low > high:
        raise FileError(f"{place}.min", f"{low} is more than max {high}")
    ranged = isinstance(default, int | float) and not isinstance(default, bool)
    if ranged and ((low is not None and default < low) or (high is not None and default > high)):
        raise FileError(f"{place}.default", f"{default} is outside min {low} to max {high}")
    elements = column.get("elements")
    if column.get("format") == "enum" and default is not None and default not in elements:
        raise FileError(f"{place}.default", f"{describe(default)} is none of the elements")


def legacy_words(error: FileError) -> FileError:
    """A problem with a legacy collection, said in its own words (attributes, relatedCollection, documentSecurity)."""
    return FileError(legacy_path(error.where), error.problem)


def legacy_path(where: str) -> str:
    for word, table_word in LEGACY_WORDS.items():
        where = where.replace(f".{table_word}", f".{word}")
    return where


def table_words(collection: dict) -> dict:
    """A legacy collection as a table: documentSecurity, attributes and relatedCollection in a table's words."""
    table = {LEGACY_WORDS.get(key, key): value for key, value in shaped(collection, COLLECTION_KEYS).items()}
    if isinstance(table.get("columns"), list):
        table["columns"] = [words_of(column) for column in table["columns"]]
    if isinstance(table.get("indexes"), list):
        table["indexes"] = [
            {"columns" if key == "attributes" else key: value for key, value in index.items()}
            if isinstance(index, dict)
            else index
            for index in table["indexes"]
        ]
    return table


def words_of(attribute: object) -> object:
    if not isinstance(attribute, dict):
        return attribute
    return {LEGACY_WORDS.get(key, key): value for key, value in attribute.items()}


def listed(where: str, value: object) -> list[dict]:
    if not isinstance(value, list):
        raise FileError(where, f"must be a list, got {kind_of(value)}")
    for number, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise FileError(f"{where}[{number}]", f"must be an object, got {kind_of(entry)}")
    return value


def kind_of(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def describe(value: object) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:59] + "…"
