"""Compiling parsed queries to parameterised SQL over a table's storage.

Values never enter SQL text: they travel as parameters; attribute names are looked up in the
table's schema and replaced by their generated column names. String matching is case-sensitive
(GLOB with escaped patterns, never LIKE). Spatial and regex conditions call the Python functions
registered on the connection by `register_functions`; regex patterns run on RE2 (regex.py).
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from typing import Any

from ...nesting import depth_of
from .. import regex
from ..datetimes import normalize_datetime
from ..errors import AppwriteError
from ..queries import Query, invalid
from ..registry import on_connection
from . import geometry
from .column_types import INT64_MAX, INT64_MIN, WHOLE_KINDS, Column
from .field_queries import METHODS as FIELD_METHODS
from .field_queries import field_condition, presence
from .relationships import holds_many
from .schema import SYSTEM_ATTRIBUTES, Table
from .schemaless import MAX_DEPTH, json_path, path_sql, valid_path

MAX_QUERY_VALUES = 500
SPATIAL_METHODS = frozenset(
    "intersects notIntersects crosses notCrosses overlaps notOverlaps touches notTouches distanceEqual "
    "distanceNotEqual distanceGreaterThan distanceLessThan".split()
)
_WORD = re.compile(r"\w+", re.UNICODE)
SEQUENCE = re.compile(r"[0-9]{1,19}")
# The kind of a schemaless row's field: any JSON scalar compares, strings match text queries.
DOCUMENT_FIELD = "field"
# What an object attribute (vectorsDB's metadata) takes as a whole, as Appwrite 1.9.6's Postgres adapter does: each
# is JSON containment; a path into it (`metadata.topic`) takes every filter on its value as text.
OBJECT_METHODS = ("equal", "notEqual", "contains", "containsAny", "containsAll", "notContains")


@dataclass(frozen=True)
class Target:
    """What a query's attribute refers to: a system field or a column, and how it is stored."""

    sql: str
    kind: str
    array: bool = False
    column: Column | None = None

    @property
    def textual(self) -> bool:
        """Strings of any kind ($id included) take startsWith, endsWith, contains and regex."""
        return self.column.type.textual if self.column is not None else self.kind == "string"

    @property
    def spatial(self) -> bool:
        return self.column is not None and self.column.type.spatial


@on_connection
def register_functions(connection: sqlite3.Connection) -> None:
    connection.create_function("regexp", 2, regex.search, deterministic=True)
    connection.create_function("text_match", 3, _text_match, deterministic=True)
    connection.create_function("geo_match", 3, _geo_match, deterministic=True)
    connection.create_function("geo_distance", 3, _geo_distance, deterministic=True)
    connection.create_function("json_contains", 2, _json_contains, deterministic=True)


def _json_contains(stored: str | None, needle: str) -> bool | None:
    """Whether a stored JSON value contains another, as Postgres's jsonb `@>` decides it; NULL when none is stored."""
    return None if stored is None else contains_json(json.loads(stored), json.loads(needle))


def contains_json(stored: Any, needle: Any) -> bool:
    """An object holds each key of the needle with a value containing the needle's; an array holds, for each element
    of the needle, an element containing it; anything else is equal (true and 1 are not)."""
    if isinstance(needle, dict):
        return isinstance(stored, dict) and all(
            key in stored and contains_json(stored[key], needle[key]) for key in needle
        )
    if isinstance(needle, list):
        return isinstance(stored, list) and all(
            any(contains_json(item, wanted) for item in stored) for wanted in needle
        )
    if isinstance(stored, dict | list) or isinstance(stored, bool) != isinstance(needle, bool):
        return False
    return stored == needle


def _text_match(kind: str, value: object, text: object) -> bool | None:
    """Case-sensitive substring, prefix and suffix tests that see a whole string, NUL characters included."""
    if not isinstance(value, str) or not isinstance(text, str):  # a schemaless field may hold any JSON value
        return None
    if kind == "contains":
        return text in value
    return value.startswith(text) if kind == "startsWith" else value.endswith(text)


def _geo_match(predicate: str, stored: str | None, other: str) -> bool:
    if stored is None:
        return False
    kind_a, a = geometry.parse_shape(json.loads(stored))
    kind_b, b = geometry.parse_shape(json.loads(other))
    return geometry.PREDICATES[predicate](kind_a, a, kind_b, b)


def _geo_distance(stored: str | None, other: str, meters: int) -> float | None:
    if stored is None:
        return None
    kind_a, a = geometry.parse_shape(json.loads(stored))
    kind_b, b = geometry.parse_shape(json.loads(other))
    return geometry.distance(kind_a, a, kind_b, b, bool(meters))


def resolve(table: Table, attribute: str) -> Target:
    """The storage behind a query attribute, or general_query_invalid when there is none."""
    if attribute in SYSTEM_ATTRIBUTES:
        kind = {"$sequence": "sequence", "$createdAt": "datetime", "$updatedAt": "datetime"}.get(attribute, "string")
        return Target(SYSTEM_ATTRIBUTES[attribute], kind)
    if table.schemaless:
        return Target(path_sql(attribute), DOCUMENT_FIELD)
    column = table.column(attribute)
    if column is None and "." in attribute:
        return nested_target(table, attribute)
    if column is None:
        raise invalid(f"Attribute not found in schema: {attribute}")
    if column.encrypted:
        raise invalid(f"Cannot query encrypted attribute: {attribute}")
    if column.is_relationship and not column.stored:
        return Target(linked_id_sql(table, column), "string", False, None)
    return Target(column.sql_name, "string" if column.is_relationship else column.kind, column.array, column)


def nested_target(table: Table, attribute: str) -> Target:
    """A path into an object attribute (`metadata.topic`): its value as text, as Postgres's `->>` gives it (true and
    false as words, objects and arrays as JSON, null as NULL). The path is checked, then written into the SQL."""
    base, path = attribute.split(".", 1)
    column = table.column(base)
    if column is None or column.kind != "object":
        raise invalid(f"Cannot query nested attribute on: {base}")
    if not valid_path(path):
        raise invalid(f"Invalid JSON key in attribute: {attribute}")
    where = f"{column.sql_name}, '{json_path(path.split('.'))}'"
    sql = (
        f"(CASE json_type({where}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
        f"ELSE CAST(json_extract({where}) AS TEXT) END)"
    )
    return Target(sql, "string")


def linked_id_sql(table: Table, column: Column) -> str:
    """The related $id of a one-row side whose link the related table holds (a two-way one-to-one child)."""
    link = column.spec["link"]
    if holds_many(column.spec) or link["kind"] != "column":
        raise invalid(f"Cannot query on virtual relationship attribute: {column.key}")
    holder = f"rows_{column.spec['relatedTableSeq']}"
    return f"(SELECT _uid FROM {holder} WHERE {link['column']} = {table.sql_name}._uid LIMIT 1)"


def query_value(target: Target, attribute: str, value: Any) -> Any:
    """A filter value checked against the attribute's type and put in its stored form."""
    bad = AppwriteError("general_query_invalid", f'Invalid query: Query value is invalid for attribute "{attribute}"')
    kind = target.kind
    if kind == "sequence":
        # Rows show $sequence as a string since Appwrite 1.9; filters take it as a string of digits or a number.
        if isinstance(value, str) and SEQUENCE.fullmatch(value):
            value = int(value)
        kind = "integer"
    if kind in ("datetime",):
        normalized = normalize_datetime(value) if isinstance(value, str) else None
        if normalized is None:
            raise bad
        return normalized
    if kind in WHOLE_KINDS:
        if not isinstance(value, int) or isinstance(value, bool) or not INT64_MIN <= value <= INT64_MAX:
            raise bad
        return value
    if kind == "float":
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise bad
        return float(value)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise bad
        return int(value)
    if target.spatial:
        try:
            return json.dumps(geometry.PARSERS[kind](value), separators=(",", ":"))
        except geometry.GeometryError:
            raise bad from None
    if not isinstance(value, str):
        raise bad
    return value


def glob_escape(text: str) -> str:
    """A GLOB pattern matching `text` literally."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def fulltext_index(table: Table, attribute: str) -> str:
    for index in table.indexes:
        # A schemaless table's one fulltext index serves each of its fields and searches them all, as MongoDB's does.
        covers = attribute in index.columns if table.schemaless else index.columns == [attribute]
        if index.type == "fulltext" and covers:
            return index.sql_name
    raise invalid(f'Searching by attribute "{attribute}" requires a fulltext index.')


def match_expression(text: str) -> str | None:
    """An FTS5 query matching any of the words of `text`, each as a prefix; None when it has no words."""
    words = _WORD.findall(text)
    return " OR ".join(f'"{word}"*' for word in words) if words else None


def condition(table: Table, query: Query) -> tuple[str, list]:
    """SQL for one filter (or and/or group) and its parameters."""
    if query.method in ("and", "or"):
        parts = [condition(table, child) for child in query.children]
        joiner = " AND " if query.method == "and" else " OR "
        return "(" + joiner.join(sql for sql, _ in parts) + ")", [p for _, params in parts for p in params]
    if query.method in ("exists", "notExists"):
        parts = []
        for attribute in query.values:
            if not isinstance(attribute, str):
                raise invalid(f"{query.method} takes attribute names")
            target = resolve(table, attribute)
            present = presence(attribute) if target.kind == DOCUMENT_FIELD else f"{target.sql} IS NOT NULL"
            parts.append(present if query.method == "exists" else f"NOT {present}")
        # Appwrite's MongoDB adapter (documentsDB) matches when any of the fields is present (or missing).
        return "(" + (" OR " if table.schemaless else " AND ").join(parts) + ")", []
    if len(query.values) > MAX_QUERY_VALUES:
        raise invalid(f"Query on attribute has greater than {MAX_QUERY_VALUES} values: {query.attribute}")
    target = resolve(table, query.attribute)
    method, column = query.method, target.sql
    if target.kind == "object":
        return object_condition(target, query)
    if method in ("isNull", "isNotNull"):
        return f"{column} IS {'NOT ' if method == 'isNotNull' else ''}NULL", []
    if target.kind == DOCUMENT_FIELD and method in FIELD_METHODS:
        return field_condition(query)
    spatial = target.spatial
    if target.array and method not in ("contains", "containsAny", "containsAll", "notContains"):
        raise invalid(f'Cannot query {method} on attribute "{query.attribute}" because it is an array.')
    if method in ("contains", "containsAny", "containsAll", "notContains"):
        return containment(table, target, query)
    if method in ("search", "notSearch"):
        return fulltext(table, query)
    if method in SPATIAL_METHODS:
        return spatial_condition(target, query, spatial)
    values = [query_value(target, query.attribute, value) for value in query.values]
    if method == "equal":
        return f"{column} IN ({', '.join('?' * len(values))})", values
    operators = {"notEqual": "!=", "lessThan": "<", "lessThanEqual": "<=", "greaterThan": ">", "greaterThanEqual": ">="}
    if method in operators:
        if spatial and method != "notEqual":
            raise invalid(f'Cannot query {method} on spatial attribute "{query.attribute}"')
        return f"{column} {operators[method]} ?", values
    if method == "between":
        return f"{column} BETWEEN ? AND ?", values
    if method == "notBetween":
        return f"({column} < ? OR {column} > ?)", values
    if method in ("startsWith", "notStartsWith", "endsWith", "notEndsWith", "regex"):
        if not target.textual:
            raise invalid(f'Cannot query {method} on attribute "{query.attribute}" because it is not a string.')
        if method == "regex":
            try:
                regex.compiled(values[0])
            except regex.PatternError as exc:
                raise invalid(f'Cannot query regex on attribute "{query.attribute}": {exc}') from None
            return f"regexp(?, {column})", values
        negate = "NOT " if method.startswith("not") else ""
        if method.lower().endswith("startswith") and "\x00" not in values[0]:
            # A prefix GLOB can use an index on the column, and is exact for a pattern without NUL.
            return f"{negate}({column} GLOB ?)", [glob_escape(values[0]) + "*"]
        kind = "startsWith" if method.lower().endswith("startswith") else "endsWith"
        return f"{negate}text_match('{kind}', {column}, ?)", values
    raise invalid(f"{method} is not supported on attribute {query.attribute!r}")


def object_condition(target: Target, query: Query) -> tuple[str, list]:
    """A filter on a whole object attribute (vectorsDB's metadata): equal holds when the object contains one of the
    given objects (`Query.equal("metadata", [{"topic": "cats"}])`), contains likewise, a lone scalar standing for an
    array holding it (`Query.contains("metadata", [{"tags": "red"}])`); notEqual and notContains when it contains
    none of them. A row without the object matches neither kind."""
    method = query.method
    if method not in OBJECT_METHODS:
        raise invalid(
            f'Cannot query {method} on object attribute "{query.attribute}"; use {", ".join(OBJECT_METHODS)}, '
            f'or a path into it such as "{query.attribute}.key"'
        )
    needles = []
    for value in query.values:
        if not isinstance(value, dict) or not value or depth_of(value) > MAX_DEPTH:
            raise invalid(f'Query values on object attribute "{query.attribute}" must be objects of keys to values')
        if method != "equal" and method != "notEqual" and len(value) == 1:
            key, wanted = next(iter(value.items()))
            value = {key: wanted if isinstance(wanted, dict | list) else [wanted]}
        needles.append(json.dumps(value))
    matches = " OR ".join(f"json_contains({target.sql}, ?)" for _ in needles)
    return (
        f"({matches})" if method in ("equal", "contains", "containsAny", "containsAll") else f"NOT ({matches})"
    ), needles


def containment(table: Table, target: Target, query: Query) -> tuple[str, list]:
    method, column = query.method, target.sql
    if target.spatial:
        if method not in ("contains", "notContains"):
            raise invalid(f"{method} is not supported on spatial attribute {query.attribute!r}")
        shape = spatial_value(query, query.values[0])
        sql = f"geo_match('contains', {column}, ?)"
        return (f"({column} IS NOT NULL AND NOT {sql})" if method == "notContains" else sql), [shape]
    if target.array:
        element = array_element_target(target)
        values = [query_value(element, query.attribute, value) for value in query.values]
        if method == "containsAll":
            sql = " AND ".join(f"EXISTS (SELECT 1 FROM json_each({column}) WHERE value = ?)" for _ in values)
            return f"({sql})", values
        sql = f"EXISTS (SELECT 1 FROM json_each({column}) WHERE value IN ({', '.join('?' * len(values))}))"
        return (f"({column} IS NOT NULL AND NOT {sql})" if method == "notContains" else sql), values
    if not target.textual:
        raise invalid(f'Cannot query contains on attribute "{query.attribute}" because it is not an array or string.')
    values = [query_value(target, query.attribute, value) for value in query.values]
    joiner = " AND " if method == "containsAll" else " OR "
    sql = "(" + joiner.join(f"text_match('contains', {column}, ?)" for _ in values) + ")"
    return (f"({column} IS NOT NULL AND NOT {sql})" if method == "notContains" else sql), values


def array_element_target(target: Target) -> Target:
    return Target("value", target.kind, False, None)


def fulltext(table: Table, query: Query) -> tuple[str, list]:
    fts = fulltext_index(table, query.attribute)
    if not isinstance(query.values[0], str):
        raise invalid(f'{query.method} takes a text value for attribute "{query.attribute}"')
    expression = match_expression(query.values[0])
    negate = query.method == "notSearch"
    if expression is None:
        return ("1" if negate else "0"), []
    return f"_seq {'NOT ' if negate else ''}IN (SELECT rowid FROM {fts} WHERE {fts} MATCH ?)", [expression]


def spatial_condition(target: Target, query: Query, spatial: bool) -> tuple[str, list]:
    if not spatial:
        raise invalid(f'{query.method} needs a point, line or polygon attribute; "{query.attribute}" is not one')
    method = query.method
    if method.startswith("distance"):
        argument = query.values[0]
        if not (isinstance(argument, list) and 2 <= len(argument) <= 3):
            raise invalid(f"{method} takes [[geometry, distance, meters?]]")
        shape, limit = argument[0], argument[1]
        meters = argument[2] if len(argument) == 3 else True
        if not isinstance(limit, int | float) or isinstance(limit, bool) or not isinstance(meters, bool):
            raise invalid(f"{method} takes a numeric distance and a boolean meters flag")
        try:
            geometry.parse_shape(shape)
        except geometry.GeometryError as exc:
            raise invalid(f"{method}: {exc}") from None
        operator = {
            "distanceEqual": "=",
            "distanceNotEqual": "!=",
            "distanceGreaterThan": ">",
            "distanceLessThan": "<",
        }[method]
        return f"geo_distance({target.sql}, ?, ?) {operator} ?", [json.dumps(shape), int(meters), limit]
    shape = json.loads(spatial_value(query, query.values[0]))
    predicate = method[3:].lower() if method.startswith("not") else method
    sql = f"geo_match(?, {target.sql}, ?)"
    if method.startswith("not"):
        return f"({target.sql} IS NOT NULL AND NOT {sql})", [predicate, json.dumps(shape)]
    return sql, [predicate, json.dumps(shape)]


def spatial_value(query: Query, value: Any) -> str:
    """A point, line or polygon given to a spatial query, as stored JSON text."""
    try:
        return json.dumps(geometry.parse_shape(value)[1], separators=(",", ":"))
    except geometry.GeometryError as exc:
        raise invalid(f"{query.method} on {query.attribute!r}: {exc}") from None


def where_clause(table: Table, filters: list[Query]) -> tuple[str, list]:
    parts, params = [], []
    for query in filters:
        sql, values = condition(table, query)
        parts.append(sql)
        params += values
    return (" AND ".join(parts) if parts else "1"), params
