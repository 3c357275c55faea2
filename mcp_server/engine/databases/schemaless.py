"""Schemaless tables (documentsDB collections): each row keeps its fields as one JSON object in `_data`.

This module owns that object: checking and merging the data a write gives, the SQL expression that
reads a (nested) field for queries and indexes, and adding the fields to a row's model. Python's
json keeps integers exact at any size and objects and arrays as given, so documents round-trip.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ..errors import AppwriteError
from ..queries import invalid
from .column_types import INT64_MAX, INT64_MIN, structure_error
from .dialects import Dialect

DATA_COLUMN = "_data"
# One segment of a queried or indexed field's path.
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_\-]{0,254}")
MAX_DEPTH = 32
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024


def path_segments(attribute: str) -> list[str]:
    """The keys of a field's path (`address.city` is nested); they go in SQL text (index expressions take no
    parameters), so each must be a plain key."""
    if not valid_path(attribute):
        raise invalid(f"Invalid attribute: {attribute}")
    return attribute.split(".")


def path_sql(attribute: str) -> str:
    """SQL reading a field (`address.city` is nested) of the row's JSON object."""
    return f"json_extract({DATA_COLUMN}, '{json_path(path_segments(attribute))}')"


def fan_out_sql(attribute: str) -> str:
    """SQL that is 1 when a comparison on a field must look into an array: the field holds one, or an array
    lies on its path (`items` for `items.sku`). A key index keeps it beside the field's value, so a query
    on an indexed field reads both from indexes."""
    segments = path_segments(attribute)
    paths = [json_path(segments[:length]) for length in range(len(segments), 0, -1)]
    arrays = [f"json_type({DATA_COLUMN}, '{path}') = 'array'" for path in paths]
    return f"({' OR '.join(arrays)})"


def text_sql(attribute: str, row: str = "") -> str:
    """SQL giving the text a fulltext index holds for a field: its value when it is a string, the strings of an
    array (one level, space-separated), else NULL; `row` qualifies the data column (`new.` in a trigger)."""
    arguments = f"{row}{array_path_sql(attribute)}"
    strings = f"(SELECT group_concat(value, ' ') FROM json_each({arguments}) WHERE type = 'text')"
    return f"(CASE json_type({arguments}) WHEN 'text' THEN json_extract({arguments}) WHEN 'array' THEN {strings} END)"


def type_sql(attribute: str) -> str:
    """SQL giving the JSON type of a field ('integer', 'real', 'text', 'true', 'false', 'null', 'object',
    'array'), or NULL when the row has no such field."""
    path_segments(attribute)
    return f"json_type({array_path_sql(attribute)})"


def valid_path(attribute: object) -> bool:
    return isinstance(attribute, str) and all(_SEGMENT.fullmatch(segment) for segment in attribute.split("."))


def json_path(segments: list[str]) -> str:
    return "$" + "".join(f'."{segment}"' for segment in segments)


def array_path_sql(attribute: str) -> str:
    """The `_data, path` arguments of json_each/json_type for a field."""
    return f"{DATA_COLUMN}, '{json_path(attribute.split('.'))}'"


def _check(value: Any, dialect: Dialect, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise structure_error(dialect, f"{dialect.row} nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise structure_error(dialect, f"integer {value} is outside the 64-bit range")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise structure_error(dialect, "numbers must be finite")
        return
    if isinstance(value, list):
        for item in value:
            _check(item, dialect, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key or key.startswith("$"):
                raise structure_error(dialect, f'field name "{key}" is not allowed')
            _check(item, dialect, depth + 1)
        return
    raise structure_error(dialect, f"unsupported value of type {type(value).__name__}")


def document_data(data: dict, system_keys: set[str], dialect: Dialect, stored: str | None) -> str:
    """The JSON object to store for a write: the stored object (an update) with the given top-level
    fields replaced; a field given as null is kept as null, as Appwrite does."""
    fields = {key: value for key, value in data.items() if key not in system_keys}
    for key in fields:
        if key.startswith("$"):
            raise structure_error(dialect, f'Unknown {dialect.column}: "{key}"')
    _check(fields, dialect, 0)
    document = json.loads(stored) if stored else {}
    document.update(fields)
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    if len(text.encode()) > MAX_DOCUMENT_BYTES:
        raise structure_error(dialect, f"a {dialect.row} may hold at most {MAX_DOCUMENT_BYTES} bytes")
    return text


def add_fields(model: dict, stored: str, select: set[str] | None) -> None:
    """Put a stored row's fields in its model; with a select, only the selected (nested) fields, as a MongoDB
    projection keeps them: `address.city` gives `{"address": {"city": …}}`; through an array, each object
    keeps that field (an object without it stays, empty) and other items are left out."""
    fields = json.loads(stored)
    if select is None:
        model.update(fields)
        return
    for key in select:
        found, projected = _projection(fields, key.split("."))
        if found:
            model.update(_merged(model, projected))


def _projection(value: Any, segments: list[str]) -> tuple[bool, Any]:
    """Whether the path exists under `value`, and the part of `value` it keeps."""
    if not segments:
        return True, value
    if isinstance(value, dict):
        if segments[0] not in value:
            return False, None
        found, kept = _projection(value[segments[0]], segments[1:])
        return found, {segments[0]: kept} if found else None
    if isinstance(value, list):
        kept = [_projection(item, segments) for item in value if isinstance(item, dict)]
        return True, [part if found else {} for found, part in kept]
    return False, None


def _merged(into: Any, part: Any) -> Any:
    """Two projections of one document joined (objects key by key, arrays item by item)."""
    if isinstance(into, dict) and isinstance(part, dict):
        return {**into, **{key: _merged(into[key], value) if key in into else value for key, value in part.items()}}
    if isinstance(into, list) and isinstance(part, list) and len(into) == len(part):
        return [_merged(a, b) for a, b in zip(into, part, strict=True)]
    return part


def numeric_field(stored: str, key: str, dialect: Dialect) -> int | float:
    """The current value of a top-level or nested number field (0 when absent) for increment/decrement."""
    value: Any = json.loads(stored)
    for segment in key.split("."):
        value = value.get(segment) if isinstance(value, dict) else None
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AppwriteError("attribute_type_invalid", f'{dialect.title("column")} "{key}" is not a number')
    return value


def with_field(stored: str, key: str, value: int | float) -> str:
    """The stored object with a (possibly nested) field set, creating the objects on its path."""
    document = json.loads(stored)
    holder = document
    *parents, last = key.split(".")
    for segment in parents:
        if not isinstance(holder.get(segment), dict):
            holder[segment] = {}
        holder = holder[segment]
    holder[last] = value
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)
