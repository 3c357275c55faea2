"""Reading an operation's parameters from a request the way the Appwrite SDKs send them.

Query strings and multipart forms carry strings, and arrays and objects as bracketed keys
(`queries[0]=…`, `queries[]=…`, `data[title]=…`); JSON bodies carry typed values. Strings become
the types the operation's schema asks for (booleans, integers, numbers, arrays, objects) where
they read as such; anything else is left for validation to report. Names that cannot be read as
parameters (empty, starting with a bracket, one name as both a value and an array) are refused by name.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl

from ..engine.errors import AppwriteError, invalid_argument
from ..nesting import depth_of

BRACKETS = re.compile(r"\[([^\[\]]*)\]")
# How deep arrays and objects may nest in a parameter (JSON or bracketed names): far more than any
# operation needs, and shallow enough that no reader recurses into trouble.
MAX_DEPTH = 32
# How many fields a query string or a form may carry (as many as PHP reads by default, `max_input_vars`).
MAX_FIELDS = 1000
# An array index: a decimal number as PHP writes one (no sign, no leading zero), short enough to be an integer.
INDEX = re.compile(r"0|[1-9][0-9]{0,17}")
# An integer as text: far longer than any 64-bit one (validation reports those), short enough for int() to read.
INTEGER = re.compile(r"-?[0-9]{1,100}")
TRUE = frozenset({"true", "1"})
FALSE = frozenset({"false", "0"})


def key_path(key: str) -> list[str]:
    """`data[tags][]` -> ["data", "tags", ""]; a key without brackets is one step."""
    head = key.split("[", 1)[0]
    rest = key[len(head) :]
    steps = BRACKETS.findall(rest)
    if "".join(f"[{step}]" for step in steps) != rest:
        return [key]
    if not head:
        reason = "a name must come before any brackets" if key else "a parameter must have a name"
        raise invalid_argument(f"Invalid parameter name {key!r}: {reason}")
    if len(steps) > MAX_DEPTH:
        raise invalid_argument(f"Parameter {head!r} nests deeper than {MAX_DEPTH} levels")
    return [head, *steps]


class Branch(dict):
    """An array or object being built from bracketed names, and where its next `[]` goes."""

    next_index = 0


def is_index(step: str) -> bool:
    return INDEX.fullmatch(step) is not None


def nest(pairs: list[tuple[str, object]]) -> dict:
    """Parameters by name from (name, value) pairs, bracketed names built into nested values.

    The top level is always an object of names; below it, `[]` appends after the highest index so far
    (as PHP reads it), and an object whose keys are all indexes becomes an array. A later value for
    the same place replaces an earlier one, but a name given both as a value and as an array or object
    is refused.
    """
    if len(pairs) > MAX_FIELDS:
        raise invalid_argument(f"Too many parameters: {len(pairs):,} (at most {MAX_FIELDS:,})")
    root: dict[str, object] = {}
    for key, value in pairs:
        head, *steps = key_path(key)
        node, place = root, head
        for step in steps:
            child = node.get(place)
            if child is None:
                child = node[place] = Branch()
            elif not isinstance(child, Branch):
                raise shapes_conflict(head)
            node, place = child, step or str(child.next_index)
            if is_index(place):
                node.next_index = max(node.next_index, int(place) + 1)
        if isinstance(node.get(place), Branch):
            raise shapes_conflict(head)
        node[place] = value
    return {name: listify(value) for name, value in root.items()}


def shapes_conflict(name: str) -> AppwriteError:
    return invalid_argument(f"Parameter {name!r} is given both as a value and as an array or object")


def listify(value: object) -> object:
    if not isinstance(value, Branch):
        return value
    items = {key: listify(child) for key, child in value.items()}
    if items and all(is_index(key) for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items


def query_pairs(query_string: bytes) -> list[tuple[str, str]]:
    """The (name, value) pairs of a query string, read once per request (see nest and query_project)."""
    return parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)


def query_project(pairs: list[tuple[str, str]]) -> str | None:
    """The `project` a query string names (links opened in a browser carry it there), if any."""
    return next((value for key, value in pairs if key == "project"), None)


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
