"""Appwrite's parameter validators as JSON Schemas.

The 1.9.6 route table (routes-1.9.6.json) gives each parameter's validator as the PHP source text
of its construction: `new Text(128)`, `new Nullable(new Boolean())`,
`fn (Database $dbForProject) => new UID($dbForProject->getAdapter()->getMaxUIDLength())`, …
`schema_of` reads that text (a small parser for the expressions validators are built with) and maps
each validator class to the JSON Schema of the values it accepts. A class with no mapping raises
UnmappedValidator: no validator silently becomes "anything".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# Appwrite's constants that validators are built with (app/init/constants.php, utopia-php/database).
CONSTANTS = {
    "APP_LIMIT_ARRAY_PARAMS_SIZE": 100,
    "APP_LIMIT_ARRAY_ELEMENT_SIZE": 4096,
    "APP_LIMIT_ARRAY_LABELS_SIZE": 1000,
    "APP_LIMIT_COUNT": 5000,
    "APP_LIMIT_DATABASE_BATCH": 100,
    "APP_DATABASE_TXN_TTL_MIN": 60,
    "APP_DATABASE_TXN_TTL_MAX": 3600,
    "MIN_VECTOR_DIMENSION": 1,
    "MAX_VECTOR_DIMENSION": 16000,
    "Database::LENGTH_KEY": 255,
    "Database::VAR_STRING": "string",
    "Database::INDEX_KEY": "key",
    "Database::INDEX_FULLTEXT": "fulltext",
    "Database::INDEX_UNIQUE": "unique",
    "Database::INDEX_SPATIAL": "spatial",
    "Database::INDEX_OBJECT": "object",
    "Database::INDEX_HNSW_EUCLIDEAN": "hnsw_euclidean",
    "Database::INDEX_HNSW_DOT": "hnsw_dot",
    "Database::INDEX_HNSW_COSINE": "hnsw_cosine",
    "Type::TOTP": "totp",
}
# Appwrite's ids: at most 36 of a-z A-Z 0-9 . - _, not starting with . - or _ (the database's UID length).
MAX_UID = 36
ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,35}"
INT64 = (-(2**63), 2**63 - 1)
INT32 = (-(2**31), 2**31 - 1)
TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")|(?P<number>-?\d+(?:\.\d+)?)"
    r"|(?P<name>\\?[A-Za-z_][\w\\]*(?:::[A-Za-z_]\w*)?)|(?P<punct>\.\.\.|=>|\?\?|->|::|[()\[\],:$?{};]))"
)


class UnmappedValidator(Exception):
    """A validator class, or a construction, this module does not know."""


@dataclass(frozen=True)
class New:
    """`new Name(args)`: positional args, and named args (`min: 0`)."""

    name: str
    args: tuple = ()
    named: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Opaque:
    """An expression that cannot be evaluated here (a variable, a call), with the constant after `??` if any."""

    text: str
    fallback: Any = None


def tokens(text: str) -> list[tuple[str, str]]:
    found, position = [], 0
    while position < len(text):
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            if text[position:].strip():
                found.append(("other", text[position]))
            position += 1
            continue
        kind = match.lastgroup
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


class Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.items = tokens(text)
        self.at = 0

    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        index = self.at + offset
        return self.items[index] if index < len(self.items) else None

    def take(self) -> tuple[str, str]:
        item = self.items[self.at]
        self.at += 1
        return item

    def expression(self) -> Any:
        item = self.peek()
        if item is None:
            raise UnmappedValidator(f"empty expression in {self.text!r}")
        kind, value = item
        if kind == "name" and value == "new" and self.peek(1) and self.peek(1)[0] == "name":
            self.take()
            name = self.take()[1].rsplit("\\", 1)[-1]
            args, named = self.arguments() if self.peek() == ("punct", "(") else ((), {})
            return self.tail(New(name, tuple(args), named))
        if (kind, value) == ("punct", "["):
            self.take()
            values = []
            while self.peek() != ("punct", "]"):
                if self.peek() == ("punct", "..."):
                    self.take()
                values.append(self.expression())
                if self.peek() == ("punct", ","):
                    self.take()
            self.take()
            return self.tail(values)
        if kind == "string":
            self.take()
            return self.tail(value[1:-1])
        if kind == "number":
            self.take()
            return self.tail(float(value) if "." in value else int(value))
        if kind == "name" and value in ("true", "false", "null"):
            self.take()
            return self.tail({"true": True, "false": False, "null": None}[value])
        if kind == "name" and value in ("fn", "function"):
            return self.function()
        if kind == "name" and value in CONSTANTS and self.ends_here(1):
            self.take()
            return CONSTANTS[value]
        return self.opaque()

    def ends_here(self, offset: int) -> bool:
        following = self.peek(offset)
        return following is None or following in (("punct", ","), ("punct", ")"), ("punct", "]"), ("punct", ";"))

    def tail(self, value: Any) -> Any:
        """A value followed by more (`->call()`, `?? x`) is opaque, keeping a constant fallback."""
        if self.ends_here(0):
            return value
        return self.opaque(prefix=repr(value))

    def opaque(self, prefix: str = "") -> Opaque:
        depth, parts, fallback = 0, [prefix] if prefix else [], None
        while self.peek() is not None:
            kind, value = self.peek()
            if depth == 0 and (kind, value) in (("punct", ","), ("punct", ")"), ("punct", "]"), ("punct", ";")):
                break
            if value in ("(", "["):
                depth += 1
            elif value in (")", "]"):
                depth -= 1
            if depth == 0 and (kind, value) == ("punct", "??"):
                self.take()
                fallback = self.expression()
                break
            parts.append(value)
            self.take()
        return Opaque(" ".join(parts), fallback)

    def arguments(self) -> tuple[list, dict]:
        self.take()
        args, named = [], {}
        while self.peek() != ("punct", ")"):
            if (
                self.peek()
                and self.peek()[0] == "name"
                and self.peek(1) == ("punct", ":")
                and self.peek(2)
                != (
                    "punct",
                    ":",
                )
            ):
                key = self.take()[1]
                self.take()
                named[key] = self.expression()
            else:
                if self.peek() == ("punct", "..."):
                    self.take()
                args.append(self.expression())
            if self.peek() == ("punct", ","):
                self.take()
        self.take()
        return args, named

    def function(self) -> Any:
        """`fn (...) => expr` or `function (...) use (...) { return expr; }`: the expression."""
        while self.peek() is not None and self.peek() not in (("punct", "=>"), ("name", "return")):
            self.take()
        if self.peek() is None:
            raise UnmappedValidator(f"a function without a result in {self.text!r}")
        self.take()
        return self.expression()


def parse(text: str) -> Any:
    return Parser(text).expression()


def number(value: Any, default: int | None = None) -> int | None:
    if isinstance(value, Opaque):
        value = value.fallback
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def numeric(value: Any) -> int | float | None:
    if isinstance(value, Opaque):
        value = value.fallback
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def argument(node: New, position: int, name: str, default: Any = None) -> Any:
    if name in node.named:
        return node.named[name]
    return node.args[position] if len(node.args) > position else default


def text_schema(node: New) -> dict:
    schema: dict = {"type": "string"}
    length, minimum = number(argument(node, 0, "length", 0), 0), number(argument(node, 1, "min", 1), 1)
    if length:
        schema["maxLength"] = length
    if minimum and minimum > 1:
        schema["minLength"] = minimum
    allowed = argument(node, 2, "allowList")
    if isinstance(allowed, Opaque) and "NUMBERS" in allowed.text and "ALPHABET" not in allowed.text:
        schema["pattern"] = "^[0-9]*$"
    return schema


# Appwrite's ProjectId validator: unique(), or lowercase letters, digits and hyphens, not starting with a hyphen.
PROJECT_ID = {
    "type": "string",
    "pattern": f"^(unique\\(\\)|[a-z0-9][a-z0-9-]{{0,{MAX_UID - 1}}})$",
    "maxLength": MAX_UID,
}


def id_schema(custom: bool) -> dict:
    pattern = f"^(unique\\(\\)|{ID_PATTERN})$" if custom else f"^{ID_PATTERN}$"
    return {"type": "string", "pattern": pattern, "maxLength": MAX_UID if not custom else max(MAX_UID, 8)}


def integer_schema(node: New) -> dict:
    low, high = INT64 if number(argument(node, 1, "bits", 32)) == 64 else INT32
    return {"type": "integer", "minimum": low, "maximum": high}


def range_schema(node: New) -> dict:
    low, high = numeric(argument(node, 0, "min")), numeric(argument(node, 1, "max"))
    kind = argument(node, 2, "format", "integer")
    floats = "FLOAT" in getattr(kind, "text", "") or kind in ("float", "double") or isinstance(low, float)
    schema: dict = {"type": "number" if floats or isinstance(high, float) else "integer"}
    if low is not None:
        schema["minimum"] = low
    if high is not None:
        schema["maximum"] = high
    return schema


def whitelist_schema(node: New) -> dict:
    values = argument(node, 0, "list")
    if (
        isinstance(values, list)
        and values
        and all(isinstance(v, str | int) and not isinstance(v, bool) for v in values)
    ):
        kinds = {"string" if isinstance(v, str) else "integer" for v in values}
        return {"type": kinds.pop() if len(kinds) == 1 else ["string", "integer"], "enum": values}
    # The allowed values come from the server's configuration (scopes, providers, locales…).
    return {"type": "string"}


def array_schema(node: New) -> dict:
    schema: dict = {"type": "array", "items": schema_from(argument(node, 0, "validator"))}
    limit = number(argument(node, 1, "length", 0), 0)
    if limit:
        schema["maxItems"] = limit
    return schema


def strings(limit: int | None = CONSTANTS["APP_LIMIT_ARRAY_PARAMS_SIZE"]) -> dict:
    schema: dict = {"type": "array", "items": {"type": "string"}}
    if limit:
        schema["maxItems"] = limit
    return schema


def any_of(schemas: list[dict]) -> dict:
    """Values any of the schemas accepts (one plain type when they all agree on it)."""
    kinds = {schema.get("type") for schema in schemas}
    if len(kinds) == 1 and isinstance(next(iter(kinds)), str):
        return {"type": kinds.pop()}
    return {"anyOf": schemas}


def nullable(node: New) -> dict:
    inner = dict(schema_from(argument(node, 0, "validator")))
    kinds = inner.get("type")
    if kinds is not None:
        inner["type"] = [*(kinds if isinstance(kinds, list) else [kinds]), "null"]
    if "enum" in inner:
        inner["enum"] = [*inner["enum"], None]
    return inner


STRING = {"type": "string"}
QUERY_VALIDATORS = {
    "Queries",
    "Databases",
    "Collections",
    "Tables",
    "Attributes",
    "Columns",
    "Indexes",
    "Transactions",
    "Identities",
    "Deployments",
    "Targets",
    "Memberships",
    "Functions",
    "Executions",
    "Messages",
    "Providers",
    "Topics",
    "Subscribers",
    "Projects",
    "Presences",
    "PresencesQueries",
    "Keys",
    "Platforms",
    "Rules",
    "Reports",
    "Insights",
    "Sites",
    "Logs",
    "Buckets",
    "Files",
    "FileTokens",
    "Teams",
    "Users",
    "Variables",
    "Webhooks",
}
# What each validator class accepts.
CLASSES = {
    "Text": text_schema,
    "Boolean": lambda node: {"type": "boolean"},
    "UID": lambda node: id_schema(custom=False),
    "Key": lambda node: id_schema(custom=False),
    "CustomId": lambda node: id_schema(custom=True),
    "CompoundUID": lambda node: {"type": "string", "pattern": f"^{ID_PATTERN}:{ID_PATTERN}$"},
    "ProjectId": lambda node: PROJECT_ID,
    "Nullable": nullable,
    "Range": range_schema,
    "Integer": integer_schema,
    "Numeric": lambda node: {"type": "number"},
    "WhiteList": whitelist_schema,
    "Whitelist": whitelist_schema,
    "ArrayList": array_schema,
    "JSON": lambda node: {"type": "object"},
    "Assoc": lambda node: {"type": "object"},
    "Operation": lambda node: {"type": "object"},
    "Email": lambda node: {"type": "string", "format": "email"},
    "EmailValidator": lambda node: {"type": "string", "format": "email"},
    "Phone": lambda node: {"type": "string", "pattern": "^\\+[1-9][0-9]{1,14}$"},
    "Password": lambda node: {"type": "string", "minLength": 8, "maxLength": 256},
    "PasswordFormat": lambda node: schema_from(argument(node, 0, "validator")),
    "AllOf": lambda node: schema_from(argument(node, 0, "validators")[0]),
    "Permissions": lambda node: strings(number(argument(node, 0, "length"), 100)),
    "Roles": lambda node: strings(number(argument(node, 0, "length"), 100)),
    "URL": lambda node: {"type": "string", "format": "uri"},
    "Domain": lambda node: STRING,
    "ValidatorDomain": lambda node: STRING,
    "PublicDomain": lambda node: STRING,
    "Hostname": lambda node: {"type": "string", "maxLength": 253, "pattern": "^[^/:]*$"},
    "Multiple": lambda node: schema_from(argument(node, 0, "rules")[0]),
    "AnyOf": lambda node: any_of([schema_from(child) for child in argument(node, 0, "validators")]),
    "HexColor": lambda node: {"type": "string", "pattern": "^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"},
    "File": lambda node: {"type": "string", "format": "binary"},
    "Cron": lambda node: STRING,
    "Event": lambda node: STRING,
    "Datetime": lambda node: {"type": "string", "format": "date-time"},
    "DatetimeValidator": lambda node: {"type": "string", "format": "date-time"},
    "Specification": lambda node: STRING,
    "FloatValidator": lambda node: {"type": "number"},
    "Spatial": lambda node: {"type": "array"},
    "PasswordStrength": lambda node: STRING,
    "IP": lambda node: STRING,
    "FunctionEvent": lambda node: STRING,
    **{name: lambda node: strings() for name in QUERY_VALIDATORS},
}
# Validators a route takes from a variable or a method (the text names them).
NAMED_VALIDATORS = {"redirectValidator": {"type": "string", "format": "uri"}, "getQueriesValidator": strings()}


def schema_from(node: Any) -> dict:
    if isinstance(node, New):
        mapper = CLASSES.get(node.name)
        if mapper is None:
            raise UnmappedValidator(f"no schema for validator class {node.name}")
        return mapper(node)
    if isinstance(node, Opaque):
        for name, schema in NAMED_VALIDATORS.items():
            if name in node.text:
                return schema
    raise UnmappedValidator(f"no schema for {node!r}")


def schema_of(validator: str) -> dict:
    """The JSON Schema of what a validator (its PHP construction text) accepts."""
    return schema_from(parse(validator))
