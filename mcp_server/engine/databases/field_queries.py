"""Filters and ordering on the fields of schemaless rows (documentsDB), with the semantics of Appwrite's
MongoDB adapter for documentsDB:

- values compare only with values of their own JSON type (MongoDB's type brackets): a number with
  numbers (integers and floats together), a string with strings, a boolean with booleans; objects and
  arrays match no comparison, and `true` is not 1;
- a negation (notEqual, notStartsWith, notEndsWith, notContains) is the complement of its positive
  query, so it also matches documents without the field; notBetween is "less than the first bound or
  greater than the second", so a missing field matches neither;
- a comparison fans out over arrays, as MongoDB's query predicates on array fields do ("Query an Array" in
  MongoDB's manual): equal, lessThan, startsWith, regex… match a field holding an array when any element
  matches; notEqual / notStartsWith… are their complements, so they match when no element does; between and
  notBetween are two comparisons (MongoDB's `$gte` + `$lte`, `$lt` or `$gt`), each of which any element may
  satisfy; an element that is itself an array is not opened (MongoDB opens one level);
- a path goes through an array of objects as MongoDB's dotted paths do: `items.sku` reaches the `sku` of each
  object in `items` (one array on the path is opened; positions such as `items.0` are not read);
- isNull, isNotNull, exists and ordering read the field along its path through objects only;
- contains looks into arrays (an element of the value's type equal to it) and into strings (a substring);
- exists / notExists test whether a field is present (a null counts as present) and, as the MongoDB
  adapter does, match a document when any one of the named fields is present (or missing);
- ordering puts types apart as MongoDB does: missing and null first, then numbers, strings, objects,
  arrays and booleans (false before true), each type in its own order.

Values never enter SQL text; paths do (they are checked plain keys, see schemaless.path_sql).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .. import regex
from ..errors import AppwriteError
from ..queries import Query, invalid
from .column_types import INT64_MAX, INT64_MIN
from .schemaless import DATA_COLUMN, array_path_sql, fan_out_sql, json_path, path_segments, path_sql, type_sql

NUMBER_TYPES = "'integer', 'real'"
# The order of JSON types in a sort (null and missing first), as MongoDB orders BSON types.
TYPE_RANKS = {"integer": 1, "real": 1, "text": 2, "object": 3, "array": 4, "false": 5, "true": 5}
COMPARISONS = {"lessThan": "<", "lessThanEqual": "<=", "greaterThan": ">", "greaterThanEqual": ">="}
METHODS = frozenset(
    (*COMPARISONS, "equal", "notEqual", "between", "notBetween", "regex", "startsWith", "notStartsWith")
) | frozenset(("endsWith", "notEndsWith", "contains", "containsAny", "containsAll", "notContains"))


def typed_value(attribute: str, value: Any) -> tuple[Any, str]:
    """A query value as json_extract gives it back, and the JSON types (SQL list) it compares with."""
    if isinstance(value, bool):
        return int(value), "'true', 'false'"
    if isinstance(value, int) and INT64_MIN <= value <= INT64_MAX:
        return value, NUMBER_TYPES
    if isinstance(value, float) and math.isfinite(value):
        return value, NUMBER_TYPES
    if isinstance(value, str):
        return value, "'text'"
    raise AppwriteError("general_query_invalid", f'Invalid query: Query value is invalid for attribute "{attribute}"')


def text_value(query: Query) -> str:
    value = query.values[0]
    if not isinstance(value, str):
        raise invalid(f'{query.method} takes a string value for attribute "{query.attribute}"')
    return value


def negation(sql: str) -> str:
    """The complement of a condition that may be NULL (a missing field): NULL counts as no match."""
    return f"NOT ifnull({sql}, 0)"


def field_condition(query: Query) -> tuple[str, list]:
    """SQL and parameters for one filter on a field (`a.b` is nested) of a schemaless row."""
    method, attribute = query.method, query.attribute

    def compare(operator: str, value: Any) -> tuple[str, list]:
        param, types = typed_value(attribute, value)
        return any_value(attribute, lambda kind, field: (f"({kind} IN ({types}) AND {field} {operator} ?)", [param]))

    if method in ("equal", "notEqual"):
        parts = [compare("=", value) for value in query.values]
        sql = "(" + " OR ".join(sql for sql, _ in parts) + ")"
        params = [param for _, values in parts for param in values]
        return (sql if method == "equal" else negation(sql)), params
    if method in COMPARISONS:
        return compare(COMPARISONS[method], query.values[0])
    if method in ("between", "notBetween"):
        low, high = query.values
        inside = method == "between"
        low_sql, low_params = compare(">=" if inside else "<", low)
        high_sql, high_params = compare("<=" if inside else ">", high)
        joiner = " AND " if inside else " OR "
        return f"({low_sql}{joiner}{high_sql})", low_params + high_params
    if method in ("contains", "containsAny", "containsAll", "notContains"):
        return containment(query)
    text = text_value(query)
    if method == "regex":
        try:
            regex.compiled(text)
        except regex.PatternError as exc:
            raise invalid(f'Cannot query regex on attribute "{attribute}": {exc}') from None
        return any_value(attribute, lambda kind, field: (f"({kind} = 'text' AND regexp(?, {field}))", [text]))
    if method.lower().endswith("startswith"):

        def test(kind: str, field: str) -> tuple[str, list]:
            sql, params = prefix_range(field, text)
            return f"({kind} = 'text' AND {sql})", params
    else:

        def test(kind: str, field: str) -> tuple[str, list]:
            return f"({kind} = 'text' AND text_match('endsWith', {field}, ?))", [text]

    sql, params = any_value(attribute, test)
    return (negation(sql) if method.startswith("not") else sql), params


def any_value(attribute: str, test: Callable[[str, str], tuple[str, list]]) -> tuple[str, list]:
    """SQL true when a value the field's path reaches passes `test` (given SQL for a value's JSON type and for the
    value, it gives a condition and its parameters): the field itself (served by an index on the field), and
    when an array is there or on the path (served by the index's fan-out companion, schema.py), each element
    of that array and, through the first array of objects on the path, the rest of the path in each of those
    objects (itself or its array's elements)."""
    segments = path_segments(attribute)
    scalar, elements = _values_at(DATA_COLUMN, segments, test, "e0")
    parts = [elements]
    for length in range(1, len(segments)):
        inner = _values_at("o.value", segments[length:], test, "e1")
        head = f"{DATA_COLUMN}, '{json_path(segments[:length])}'"
        sql = (
            f"(json_type({head}) = 'array' AND EXISTS (SELECT 1 FROM json_each({head}) AS o"
            f" WHERE o.type = 'object' AND ({' OR '.join(sql for sql, _ in inner)})))"
        )
        parts.append((sql, [param for _, params in inner for param in params]))
    arrays = " OR ".join(sql for sql, _ in parts)
    params = scalar[1] + [param for _, params in parts for param in params]
    return f"({scalar[0]} OR ({fan_out_sql(attribute)} = 1 AND ({arrays})))", params


def _values_at(source: str, segments: list[str], test: Callable, alias: str) -> list[tuple[str, list]]:
    """`test` on the value at `segments` of the JSON `source`, and on each element when it is an array."""
    arguments = f"{source}, '{json_path(segments)}'"
    scalar = test(f"json_type({arguments})", f"json_extract({arguments})")
    element_sql, element_params = test(f"{alias}.type", f"{alias}.value")
    elements = (
        f"(json_type({arguments}) = 'array' AND EXISTS (SELECT 1 FROM json_each({arguments}) AS {alias}"
        f" WHERE {element_sql}))"
    )
    return [scalar, (elements, element_params)]


def prefix_range(field: str, prefix: str) -> tuple[str, list]:
    """The strings that start with `prefix` as a range of code points, which an index on the field serves."""
    stem = prefix
    while stem and ord(stem[-1]) == 0x10FFFF:
        stem = stem[:-1]
    if not stem:
        return f"{field} >= ?", [prefix]
    upper = stem[:-1] + chr(ord(stem[-1]) + 1)
    if 0xD800 <= ord(upper[-1]) <= 0xDFFF:  # surrogates are not characters: the next one is U+E000
        upper = upper[:-1] + "\ue000"
    return f"{field} >= ? AND {field} < ?", [prefix, upper]


def containment(query: Query) -> tuple[str, list]:
    """contains on a field: an element of an array (of the value's type), or a substring of a string."""
    arguments = array_path_sql(query.attribute)
    parts, params = [], []
    for value in query.values:
        param, types = typed_value(query.attribute, value)
        element = f"EXISTS (SELECT 1 FROM json_each({arguments}) WHERE type IN ({types}) AND value = ?)"
        if isinstance(value, str):
            text = f"text_match('contains', {path_sql(query.attribute)}, ?)"
            params += [param, param]
        else:
            text = "0"
            params.append(param)
        parts.append(f"(CASE json_type({arguments}) WHEN 'array' THEN {element} WHEN 'text' THEN {text} ELSE 0 END)")
    sql = "(" + (" AND " if query.method == "containsAll" else " OR ").join(parts) + ")"
    return (negation(sql) if query.method == "notContains" else sql), params


def presence(attribute: str) -> str:
    """Whether a field is present in a row (with any value, null included)."""
    return f"{type_sql(attribute)} IS NOT NULL"


def order_expressions(attribute: str) -> list[str]:
    """What a field sorts by: the rank of its JSON type, then its value."""
    ranks = " ".join(f"WHEN '{name}' THEN {rank}" for name, rank in TYPE_RANKS.items())
    return [f"(CASE {type_sql(attribute)} {ranks} ELSE 0 END)", path_sql(attribute)]
