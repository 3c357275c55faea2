"""Reading an operation's parameters from a request the way the Appwrite SDKs send them.

Query strings and multipart forms carry strings, and arrays and objects as bracketed keys
(`queries[0]=…`, `queries[]=…`, `data[title]=…`); JSON bodies carry typed values. Strings become
the types the operation's schema asks for (booleans, integers, numbers, arrays, objects) where
they read as such; anything else is left for validation to report.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl

from ..engine.errors import AppwriteError, invalid_argument

BRACKETS = re.compile(r"\[([^\[\]]*)\]")
# How deep arrays and objects may nest in a parameter (JSON or bracketed names): far more than any
# operation needs, and shallow enough that no reader recurses into trouble.
MAX_DEPTH = 32
INTEGER = re.compile(r"-?\d+")
TRUE = frozenset({"true", "1"})
FALSE = frozenset({"false", "0"})


def key_path(key: str) -> list[str]:
    """`data[tags][]` -> ["data", "tags", ""]; a key without brackets is one step."""
    head = key.split("[", 1)[0]
    rest = key[len(head) :]
    steps = BRACKETS.findall(rest)
    if "".join(f"[{step}]" for step in steps) != rest:
        return [key]
    if len(steps) > MAX_DEPTH:
        raise invalid_argument(f"Parameter {head!r} nests deeper than {MAX_DEPTH} levels")
    return [head, *steps]


def nest(pairs: list[tuple[str, object]]) -> dict:
    """Bracketed keys built into nested values; objects whose keys are all indexes become arrays."""
    root: dict = {}
    for key, value in pairs:
        steps = key_path(key)
        node = root
        for position, step in enumerate(steps):
            last = position == len(steps) - 1
            if step == "":
                step = str(sum(1 for name in node if name.isdigit()))
            if last:
                node[step] = value
            else:
                child = node.get(step)
                if not isinstance(child, dict):
                    child = node[step] = {}
                node = child
    return listify(root)


def listify(value: object) -> object:
    if not isinstance(value, dict):
        return value
    items = {key: listify(child) for key, child in value.items()}
    if items and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items


def query_params(query_string: bytes) -> dict:
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    return nest(pairs)


def query_project(query_string: bytes) -> str | None:
    """The `project` a query string names (links opened in a browser carry it there), if any."""
    for key, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if key == "project":
            return value
    return None


def parse_json(text: str | bytes) -> object:
    """JSON whose arrays and objects nest at most MAX_DEPTH deep; ValueError otherwise."""
    too_deep = ValueError(f"arrays and objects nest deeper than {MAX_DEPTH} levels")
    try:
        data = json.loads(text)
    except RecursionError:
        raise too_deep from None
    if depth_of(data) > MAX_DEPTH:
        raise too_deep
    return data


def depth_of(value: object) -> int:
    """How deep arrays and objects nest in a parsed value (without recursing)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in children)
    return deepest


def json_body(body: bytes) -> dict:
    if not body.strip():
        return {}
    try:
        data = parse_json(body)
    except ValueError as error:
        raise AppwriteError("general_argument_invalid", f"The request body is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise invalid_argument("The request body must be a JSON object of parameter names to values")
    return data


def coerce(value: object, schema: dict) -> object:
    """`value` (from a query string or form field) in the type `schema` asks for, where it reads as one."""
    kinds = schema.get("type", [])
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if isinstance(value, str):
        lowered = value.lower()
        if "boolean" in kinds and lowered in TRUE | FALSE:
            return lowered in TRUE
        if "integer" in kinds and INTEGER.fullmatch(value):
            return int(value)
        if "number" in kinds:
            try:
                return float(value)
            except ValueError:
                pass
        if ("array" in kinds or "object" in kinds) and value[:1] in ("[", "{"):
            try:
                return parse_json(value)
            except ValueError:
                return value
        if "array" in kinds and "string" not in kinds:
            return [coerce(value, schema.get("items", {}))]
        if "null" in kinds and lowered == "null":
            return None
        return value
    if isinstance(value, list) and "array" in kinds:
        items = schema.get("items", {})
        return [coerce(item, items) for item in value]
    if isinstance(value, dict) and "array" in kinds and "object" not in kinds:
        return [coerce(item, schema.get("items", {})) for item in value.values()]
    return value


def coerced(params: dict, properties: dict) -> dict:
    """String-carried parameters in the types of the operation's schema (unknown names left alone)."""
    return {name: coerce(value, properties[name]) if name in properties else value for name, value in params.items()}
