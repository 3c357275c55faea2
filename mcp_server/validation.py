"""Checking an operation's parameters against its catalog schema before anything runs.

Errors name the operation, the parameter, what was expected and what came, in Appwrite's error
shape (general_argument_invalid). Defaults from the schema are filled in for missing parameters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from .catalog import Operation, suggest
from .engine.errors import AppwriteError
from .uploads import LocalFile, Upload

SHOWN_VALUE = 80
SURROGATE = re.compile("[\ud800-\udfff]")
NOT_UNICODE = "a \\ud800 to \\udfff escape without its pair"


VALIDATORS: dict[str, Draft202012Validator] = {}


def validator_for(op: Operation) -> Draft202012Validator:
    """The compiled schema of an operation (operations are immutable, so one per id)."""
    validator = VALIDATORS.get(op.id)
    if validator is None:
        validator = VALIDATORS[op.id] = Draft202012Validator(op.input_schema)
    return validator


# Keywords that a quick check understands; the others carry no constraint (description, default,
# format, which is not asserted, writeOnly). A schema with anything else always goes to jsonschema.
QUICK_KEYWORDS = frozenset({"type", "minLength", "minimum", "maximum", "enum", "items"})
ANNOTATIONS = frozenset({"description", "default", "format", "writeOnly"})
JSON_TYPES: dict[str, Callable[[object], bool]] = {
    "string": lambda value: isinstance(value, str),
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "number": lambda value: isinstance(value, int | float) and not isinstance(value, bool),
    "boolean": lambda value: isinstance(value, bool),
    "array": lambda value: isinstance(value, list),
    "object": lambda value: isinstance(value, dict),
    "null": lambda value: value is None,
}


def plainly_valid(op: Operation, params: dict) -> bool:
    """True when the parameters clearly satisfy the schema's common keywords (types, lengths, ranges,
    string enums): the quick path for well-formed calls. False means "ask jsonschema", which either
    accepts after all or explains what is wrong; so this never accepts what jsonschema would refuse."""
    schema = op.input_schema
    if any(name not in params for name in schema["required"]):
        return False
    properties = schema["properties"]
    return all(quick_match(properties[name], value) for name, value in params.items())


def quick_match(schema: dict, value: object) -> bool:
    if not schema.keys() <= QUICK_KEYWORDS | ANNOTATIONS:
        return False
    kinds = schema.get("type")
    if kinds is None:
        return False
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if not any(JSON_TYPES[kind](value) for kind in kinds if kind in JSON_TYPES):
        return False
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            return False
        if "enum" in schema and value not in schema["enum"]:
            return False
    elif "enum" in schema:
        return False
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number and not schema.get("minimum", value) <= value <= schema.get("maximum", value):
        return False
    if isinstance(value, list) and "items" in schema:
        return all(quick_match(schema["items"], item) for item in value)
    return True


def validate_params(op: Operation, params: object, *, fill_defaults: bool = True) -> dict:
    """The parameters (with the schema's defaults filled in, unless told not to), or AppwriteError saying
    what is wrong."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise argument_error(op, f"params must be an object of parameter names to values, got {describe(params)}")
    field = lone_surrogate_field(params)
    if field is not None:
        raise argument_error(op, not_unicode(field))
    properties = op.input_schema["properties"]
    unknown = [name for name in params if name not in properties]
    if unknown:
        name = unknown[0]
        hint = suggest(name, list(properties), 1)
        known = ", ".join(properties) or "none"
        raise argument_error(
            op,
            f"unknown parameter {name!r}" + (f"; did you mean {hint[0]!r}?" if hint else "") + f" Parameters: {known}",
        )
    validator = validator_for(op)
    # An uploaded file stands where the schema has a binary string: its name is what gets checked.
    checked = {
        name: value.filename if isinstance(value, Upload | LocalFile) else value for name, value in params.items()
    }
    if not plainly_valid(op, checked):
        errors = sorted(validator.iter_errors(checked), key=lambda error: (len(error.path), str(error.path)))
        if errors:
            raise argument_error(op, explain(errors[0], properties))
    filled = dict(params)
    if not fill_defaults:
        return filled
    for name, schema in properties.items():
        if name not in filled and "default" in schema:
            filled[name] = json.loads(json.dumps(schema["default"]))
    return filled


def explain(error: ValidationError, properties: dict) -> str:
    """One sentence: which parameter, what it must be, what it was."""
    if error.validator == "required":
        name = error.message.split("'")[1]
        return f"missing required parameter {name!r} ({expected(properties.get(name, {}))})"
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path).lstrip(".")
    top = str(error.absolute_path[0]) if error.absolute_path else ""
    schema = error.schema
    where = f"parameter {path!r}" if path else "params"
    note = properties.get(top, {}).get("description", "") if top == path else ""
    said = f" ({note})" if note else ""
    if error.validator == "enum":
        allowed = ", ".join(json.dumps(value) for value in schema["enum"] if value is not None)
        return f"{where} must be one of {allowed}; got {describe(error.instance)}"
    if error.validator == "pattern":
        return f"{where} must match {schema['pattern']}; got {describe(error.instance)}{said}"
    if error.validator in ("minimum", "maximum"):
        return f"{where} must be between {schema.get('minimum')} and {schema.get('maximum')}; got {error.instance}"
    if error.validator == "minLength":
        return f"{where} must not be empty"
    if error.validator == "maxLength":
        return f"{where} must be at most {schema['maxLength']} characters; got {len(error.instance)}"
    return f"{where} must be {expected(schema)}; got {describe(error.instance)}{said}"


def expected(schema: dict) -> str:
    """A short phrase for the type a schema allows: 'a string', 'an array of strings or null'."""
    types = schema.get("type", "any value")
    types = types if isinstance(types, list) else [types]
    names = []
    for kind in types:
        if kind == "array" and "type" in schema.get("items", {}):
            names.append(f"an array of {plural(schema['items']['type'])}")
        elif kind == "integer":
            names.append("a whole number")
        else:
            names.append({"null": "null", "object": "an object", "array": "an array"}.get(kind, f"a {kind}"))
    return " or ".join(names)


def plural(kind: object) -> str:
    kind = kind[0] if isinstance(kind, list) else kind
    return {"integer": "whole numbers", "object": "objects", "boolean": "booleans"}.get(str(kind), f"{kind}s")


def describe(value: object) -> str:
    kind = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}.get(
        type(value), type(value).__name__
    )
    return f"{kind} {clip(json.dumps(value, default=str))}" if value is not None else "null"


def clip(text: str) -> str:
    """`text`, cut to at most SHOWN_VALUE characters for an error message."""
    return text[: SHOWN_VALUE - 1] + "…" if len(text) > SHOWN_VALUE else text


def argument_error(op: Operation, message: str) -> AppwriteError:
    return AppwriteError("general_argument_invalid", f"{op.id}: {message}")


def lone_surrogate_field(arguments: dict) -> str | None:
    """The first field of `arguments`, at any depth, whose name or text holds a lone surrogate; None if none.

    JSON can carry one (an escape such as \\ud800 without its pair), but it is no character: it cannot
    be stored, compared or sent on as text."""
    try:  # the common case, all text, checked in one pass of the C encoder
        json.dumps(arguments, ensure_ascii=False, default=lambda _: None).encode("utf-8")
        return None
    except (UnicodeEncodeError, TypeError, ValueError):
        pass
    pending: list[tuple[str, object]] = [("", arguments)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str) and SURROGATE.search(value):
            return path
        if isinstance(value, dict):
            for key in value:
                if SURROGATE.search(key):
                    return member(path, key.encode("utf-8", "backslashreplace").decode())
            pending.extend((member(path, key), child) for key, child in reversed(value.items()))
        elif isinstance(value, list):
            pending.extend((f"{path}[{index}]", child) for index, child in reversed(list(enumerate(value))))
    return None


def member(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def not_unicode(field: str) -> str:
    return f"{field} is not Unicode text: it holds a lone surrogate ({NOT_UNICODE})"
