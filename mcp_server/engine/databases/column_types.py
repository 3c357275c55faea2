"""Column types: what each accepts when created or updated, how its values are checked, stored in
SQLite and returned.

Integers are stored as exact 64-bit SQLite INTEGERs, floats as REAL, booleans as 0/1, date-times as
canonical UTC text (so text order is time order), arrays, points, lines, polygons and objects as JSON
text, vectors as float32 blobs, and encrypted strings sealed with the project's key.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import numpy

from ..datetimes import normalize_datetime
from ..encryption import Cipher
from ..errors import AppwriteError
from . import geometry
from .dialects import Dialect

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
FLOAT_MAX = 1.7976931348623157e308
ENCRYPTED_MIN_SIZE = 150
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+"
)


@dataclass(frozen=True)
class Kind:
    """A column type: its name in method names, its `type` in responses, its storage and abilities."""

    name: str
    model_type: str
    sql: str
    format: str | None = None
    sized: bool = False
    max_size: int | None = None
    ranged: bool = False
    spatial: bool = False
    textual: bool = False
    encryptable: bool = False
    arrays: bool = True
    # Whole numbers (integer, bigint: exact signed 64-bit), and how method names spell the type.
    whole: bool = False
    spelled: str | None = None

    @property
    def method_name(self) -> str:
        """The type as method names write it: createIntegerColumn, createBigIntColumn."""
        return self.spelled or self.name.capitalize()


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("string", "string", "TEXT", sized=True, max_size=1_073_741_824, textual=True, encryptable=True),
        Kind("varchar", "varchar", "TEXT", sized=True, max_size=16_381, textual=True, encryptable=True),
        Kind("text", "text", "TEXT", max_size=65_535, textual=True, encryptable=True),
        Kind("mediumtext", "mediumtext", "TEXT", max_size=16_777_215, textual=True, encryptable=True),
        Kind("longtext", "longtext", "TEXT", max_size=4_294_967_295, textual=True, encryptable=True),
        Kind("integer", "integer", "INTEGER", ranged=True, whole=True),
        Kind("bigint", "bigint", "INTEGER", ranged=True, whole=True, spelled="BigInt"),
        Kind("float", "double", "REAL", ranged=True),
        Kind("boolean", "boolean", "INTEGER"),
        Kind("datetime", "datetime", "TEXT", format="datetime"),
        Kind("email", "string", "TEXT", format="email", max_size=254, textual=True),
        Kind("enum", "string", "TEXT", format="enum", textual=True),
        Kind("ip", "string", "TEXT", format="ip", max_size=45, textual=True),
        Kind("url", "string", "TEXT", format="url", max_size=2000, textual=True),
        Kind("point", "point", "TEXT", spatial=True, arrays=False),
        Kind("line", "linestring", "TEXT", spatial=True, arrays=False),
        Kind("polygon", "polygon", "TEXT", spatial=True, arrays=False),
        Kind("relationship", "relationship", "TEXT", arrays=False),
        # vectorsDB's fixed schema: `embeddings` (float32 blob of the collection's dimension) and `metadata`.
        Kind("vector", "vector", "BLOB", sized=True, max_size=16_000, arrays=False),
        Kind("object", "object", "TEXT", arrays=False),
    )
}
WHOLE_KINDS = frozenset(name for name, kind in KINDS.items() if kind.whole)
# Names a column type goes by in createTable's inline definitions.
# vectorsDB's fixed columns (vector, object) are not created by hand.
NOT_INLINE = ("relationship", "vector", "object")
INLINE_TYPES = {**{name: name for name in KINDS if name not in NOT_INLINE}, "double": "float", "linestring": "line"}


@dataclass(eq=False)
class Column:
    """One column of a table as stored in `_columns`."""

    seq: int
    table_seq: int
    key: str
    kind: str
    spec: dict
    status: str
    error: str
    created: str
    updated: str

    @property
    def sql_name(self) -> str:
        return f"col_{self.seq}"

    @property
    def type(self) -> Kind:
        return KINDS[self.kind]

    @property
    def required(self) -> bool:
        return bool(self.spec.get("required"))

    @property
    def array(self) -> bool:
        return bool(self.spec.get("array"))

    @property
    def default(self) -> Any:
        return self.spec.get("default")

    @property
    def encrypted(self) -> bool:
        return bool(self.spec.get("encrypt"))

    @property
    def is_relationship(self) -> bool:
        return self.kind == "relationship"

    @property
    def stored(self) -> bool:
        """Whether the column has a physical SQL column (virtual relationship sides do not)."""
        return not self.is_relationship or bool(self.spec.get("stored"))


def format_number(value: float) -> str:
    if isinstance(value, int) or (float(value).is_integer() and abs(value) < 1e16):
        return f"{int(value):,}"
    return f"{value:g}"


def schema_error(dialect: Dialect, suffix: str, message: str) -> AppwriteError:
    return AppwriteError(dialect.error("column", suffix), message)


def build_spec(kind_name: str, params: dict, dialect: Dialect) -> dict:
    """The stored spec of a new column from the create parameters, or an error saying what is wrong."""
    kind = KINDS[kind_name]
    spec: dict[str, Any] = {"required": bool(params.get("required", False)), "array": bool(params.get("array", False))}
    if spec["array"] and not kind.arrays:
        raise schema_error(dialect, "type_invalid", f"{kind_name} columns cannot be arrays")
    if kind.sized:
        spec["size"] = check_size(params.get("size"), kind, dialect)
    if kind.ranged:
        spec["min"], spec["max"] = check_range(kind, params.get("min"), params.get("max"), dialect)
    if kind_name == "enum":
        spec["elements"] = check_elements(params.get("elements"), dialect)
    if params.get("encrypt"):
        if not kind.encryptable:
            raise schema_error(dialect, "type_invalid", f"{kind_name} columns cannot be encrypted")
        if kind.sized and spec["size"] < ENCRYPTED_MIN_SIZE:
            raise AppwriteError(
                "general_bad_request",
                f"Size too small. Encrypted strings require a minimum size of {ENCRYPTED_MIN_SIZE} characters.",
            )
        spec["encrypt"] = True
    spec["default"] = check_default(kind, spec, params.get("default"), dialect)
    return spec


def updated_spec(column: Column, params: dict, dialect: Dialect) -> dict:
    """The spec after an update: required, default, and where the type has them size, range, elements."""
    kind = column.type
    spec = dict(column.spec)
    spec["required"] = bool(params.get("required", spec.get("required")))
    if kind.sized and params.get("size") is not None:
        spec["size"] = check_size(params["size"], kind, dialect)
    if kind.ranged:
        low = params["min"] if params.get("min") is not None else spec.get("min")
        high = params["max"] if params.get("max") is not None else spec.get("max")
        spec["min"], spec["max"] = check_range(kind, low, high, dialect)
    if column.kind == "enum" and params.get("elements") is not None:
        spec["elements"] = check_elements(params["elements"], dialect)
    spec["default"] = check_default(kind, spec, params.get("default"), dialect)
    return spec


def check_size(size: object, kind: Kind, dialect: Dialect) -> int:
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= (kind.max_size or INT64_MAX):
        raise schema_error(
            dialect, "value_invalid", f"size must be a whole number from 1 to {format_number(kind.max_size or 0)}"
        )
    return size


def check_range(kind: Kind, low: object, high: object, dialect: Dialect) -> tuple[float, float]:
    floor, ceiling = (INT64_MIN, INT64_MAX) if kind.whole else (-FLOAT_MAX, FLOAT_MAX)
    low = floor if low is None else low
    high = ceiling if high is None else high
    if kind.whole and not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)):
        raise schema_error(dialect, "value_invalid", "min and max of an integer column must be whole numbers")
    if not floor <= low <= ceiling or not floor <= high <= ceiling:
        raise schema_error(dialect, "value_invalid", f"min and max must lie between {floor} and {ceiling}")
    if low > high:
        raise schema_error(dialect, "value_invalid", "Minimum value must be lesser than maximum value")
    return low, high


def check_elements(elements: object, dialect: Dialect) -> list[str]:
    if not isinstance(elements, list) or not elements:
        raise schema_error(dialect, "value_invalid", "Enum elements must not be empty")
    if not all(isinstance(element, str) and element for element in elements):
        raise schema_error(dialect, "value_invalid", "Each enum element must not be empty")
    if len(set(elements)) != len(elements):
        raise schema_error(dialect, "value_invalid", "Enum elements must be unique")
    return list(elements)


def check_default(kind: Kind, spec: dict, default: object, dialect: Dialect) -> Any:
    if default is None:
        return None
    if spec["required"]:
        raise schema_error(dialect, "default_unsupported", f"Cannot set default value for required {dialect.column}")
    if spec["array"]:
        raise schema_error(dialect, "default_unsupported", "Cannot set default value for array columns")
    problem = value_problem(kind, spec, default)
    if problem:
        raise schema_error(dialect, "value_invalid", f"Default value is invalid: {problem[1]}")
    return normalize(kind, default)


def value_problem(kind: Kind, spec: dict, value: object) -> tuple[str, str] | None:
    """Why a single (non-array) value does not fit the column, as ("type" or "format", message)."""
    name = kind.name
    if kind.textual or name == "datetime":
        if not isinstance(value, str):
            return ("type", "Value must be a valid string") if kind.textual else ("format", "Value must be valid date.")
        limit = spec.get("size") or kind.max_size
        if name in ("string", "varchar", "text", "mediumtext", "longtext") and limit and len(value) > limit:
            return "type", f"Value must be a valid string and no longer than {limit} chars"
    if kind.whole:
        if not isinstance(value, int) or isinstance(value, bool):
            return "type", "Value must be a valid integer"
        return range_problem(value, spec)
    if name == "float":
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
            return "type", "Value must be a valid float"
        return range_problem(value, spec)
    if name == "boolean" and not isinstance(value, bool):
        return "type", "Value must be a valid boolean"
    if name == "vector":
        return vector_problem(value, spec["size"])
    if name == "object" and not isinstance(value, dict):
        return "type", "Value must be a valid object"
    checks = {
        "datetime": (lambda v: normalize_datetime(v) is not None, "Value must be valid date."),
        "email": (lambda v: _EMAIL.fullmatch(v) is not None, "Value must be a valid email address"),
        "url": (valid_url, "Value must be a valid URL"),
        "ip": (valid_ip, "Value must be a valid IP address"),
        "enum": (lambda v: v in spec["elements"], f"Value must be one of ({', '.join(spec.get('elements', []))})"),
    }
    if name in checks and not checks[name][0](value):
        return "format", checks[name][1]
    if kind.spatial:
        try:
            geometry.PARSERS[name](value)
        except geometry.GeometryError as exc:
            return "format", str(exc)
    return None


def vector_problem(value: object, dimension: int) -> tuple[str, str] | None:
    if not isinstance(value, list) or not all(
        isinstance(item, int | float) and not isinstance(item, bool) and math.isfinite(item) for item in value
    ):
        return "type", "Value must be an array of finite numbers"
    if len(value) != dimension:
        return "type", f"Vector must have exactly {dimension} elements, got {len(value)}"
    return None


def range_problem(value: float, spec: dict) -> tuple[str, str] | None:
    if not spec["min"] <= value <= spec["max"]:
        bounds = f"{format_number(spec['min'])} and {format_number(spec['max'])}"
        return "format", f"Value must be a valid range between {bounds}"
    return None


def valid_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return bool(parts.scheme) and bool(parts.netloc) and " " not in value


def valid_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def normalize(kind: Kind, value: Any) -> Any:
    """The canonical form of a valid value: date-times in UTC with milliseconds, shapes as lists."""
    if kind.name == "datetime":
        return normalize_datetime(value)
    if kind.name == "float":
        return float(value)
    if kind.spatial:
        return geometry.PARSERS[kind.name](value)
    return value


def check_value(column: Column, value: Any, dialect: Dialect) -> Any:
    """The canonical value to store for a column, or row_invalid_structure naming the column."""
    what = f'{dialect.column.capitalize()} "{column.key}"'
    if value is None:
        return None
    if column.array:
        if not isinstance(value, list):
            raise structure_error(dialect, f"{what} must be an array")
        checked = []
        for index, item in enumerate(value):
            if item is None:
                checked.append(None)
                continue
            problem = value_problem(column.type, column.spec, item)
            if problem:
                element = f"{dialect.column.capitalize()} \"{column.key}['{index}']\""
                raise structure_error(dialect, f"{element} has invalid {problem[0]}. {problem[1]}")
            checked.append(normalize(column.type, item))
        return checked
    problem = value_problem(column.type, column.spec, value)
    if problem:
        raise structure_error(dialect, f"{what} has invalid {problem[0]}. {problem[1]}")
    return normalize(column.type, value)


def structure_error(dialect: Dialect, detail: str) -> AppwriteError:
    return AppwriteError(dialect.error("row", "invalid_structure"), f"Invalid {dialect.row} structure: {detail}")


def encode(column: Column, value: Any, cipher: Cipher) -> Any:
    """A canonical value as SQLite stores it."""
    if value is None:
        return None
    if column.kind == "vector":
        return numpy.asarray(value, dtype=numpy.float32).tobytes()
    if column.array or column.type.spatial or column.kind == "object":
        text = json.dumps(value, separators=(",", ":"))
    elif column.kind == "boolean":
        return int(value)
    else:
        text = value
    return cipher.encrypt(text) if column.encrypted else text


def decode(column: Column, raw: Any, cipher: Cipher) -> Any:
    """A stored SQLite value back as the API returns it."""
    if raw is None:
        return None
    if column.encrypted:
        raw = cipher.decrypt(raw)
    if column.kind == "vector":
        # Each single-precision number as its shortest decimal (0.7 stays 0.7), as pgvector prints them.
        return [float(str(number)) for number in numpy.frombuffer(raw, dtype=numpy.float32)]
    if column.array or column.type.spatial or column.kind == "object":
        return json.loads(raw)
    if column.kind == "boolean":
        return bool(raw)
    if column.kind == "float":
        return float(raw)
    return raw


def column_model(column: Column, dialect: Dialect) -> dict:
    """The column as the API returns it (columnString, columnInteger, ... or attribute* models)."""
    kind = column.type
    model: dict[str, Any] = {
        "key": column.key,
        "type": kind.model_type,
        "status": column.status,
        "error": column.error,
        "required": column.required,
        "array": column.array,
        "$createdAt": column.created,
        "$updatedAt": column.updated,
    }
    spec = column.spec
    if column.is_relationship:
        model.update(
            {
                dialect.related_table: spec["relatedTable"],
                "relationType": spec["relationType"],
                "twoWay": spec["twoWay"],
                "twoWayKey": spec["twoWayKey"],
                "onDelete": spec["onDelete"],
                "side": spec["side"],
            }
        )
        return model
    if kind.sized:
        model["size"] = spec["size"]
    if kind.ranged:
        model["min"], model["max"] = spec["min"], spec["max"]
    if kind.format:
        model["format"] = kind.format
    if column.kind == "enum":
        model["elements"] = spec["elements"]
    if kind.encryptable:
        model["encrypt"] = bool(spec.get("encrypt"))
    model["default"] = spec.get("default")
    return model
