"""The operation catalog: loading it, looking operations up, scope filtering, parameter signatures.

The catalog JSON (built by catalog/build_catalog.py from the Appwrite spec) is the single source of
truth for every operation: search, validation and the backends read it through this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from rapidfuzz import fuzz, process

from .engine.permissions import key_auth

# Inside an installed wheel the catalog sits next to this module; in a source checkout it is
# catalog/operations.json at the repository root.
PACKAGED_CATALOG = Path(__file__).with_name("operations.json")
SOURCE_CATALOG = Path(__file__).resolve().parent.parent / "catalog" / "operations.json"

ENUM_SHOWN = 6


@dataclass(frozen=True)
class Operation:
    """One SDK method of the API, as the catalog describes it."""

    id: str
    service: str
    method: str
    group: str | None
    summary: str
    description: str
    http_method: str
    path: str
    access: str
    scopes: tuple[str, ...]
    auth: tuple[str, ...]
    content_type: str | None
    returns: dict
    replacement: str | None
    deprecated_since: str | None
    params: dict[str, str]
    input_schema: dict
    keywords: tuple[str, ...]
    rate_limit: dict | None
    # Appwrite's event labels of the operation's route, e.g. "teams.[teamId].memberships.[membershipId].create".
    events: tuple[str, ...]
    # The Appwrite API version that has it: "1.8", or "1.9" for the methods Appwrite 1.9 added.
    since: str
    entry: dict = field(repr=False, compare=False)

    @property
    def deprecated(self) -> bool:
        return self.replacement is not None

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(self.input_schema["required"])

    @property
    def file_params(self) -> tuple[str, ...]:
        """The parameters that carry file content (binary strings in the schema)."""
        properties = self.input_schema["properties"]
        return tuple(name for name, schema in properties.items() if schema.get("format") == "binary")

    def to_dict(self) -> dict:
        """The catalog entry as published by `describe`."""
        return self.entry


@dataclass(frozen=True)
class Service:
    name: str
    summary: str
    keywords: tuple[str, ...]


@dataclass
class Catalog:
    """All operations, by id and in catalog order, with the services they belong to."""

    operations: list[Operation]
    services: dict[str, Service]
    version: str
    # Appwrite's event tree (app/config/events.php): the event patterns webhooks and functions accept.
    event_grammar: dict = field(default_factory=dict)
    # Each response model's fields (catalog/build_catalog.py response_models): what GraphQL types results by.
    models: dict = field(default_factory=dict)
    by_id: dict[str, Operation] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {op.id: op for op in self.operations}

    def get(self, op_id: str) -> Operation | None:
        return self.by_id.get(op_id)

    def suggest_ids(self, text: str, limit: int = 3) -> list[str]:
        """Ids that look like `text`, best first, for "did you mean" messages."""
        return suggest(text, list(self.by_id), limit)

    def suggest_services(self, text: str, limit: int = 3) -> list[str]:
        return suggest(text, list(self.services), limit)


def suggest(text: str, choices: list[str], limit: int = 3) -> list[str]:
    """The choices closest to `text` (case-insensitive), for "did you mean" messages."""
    lowered = {choice.lower(): choice for choice in choices}
    hits = process.extract(text.lower(), list(lowered), scorer=fuzz.WRatio, limit=limit, score_cutoff=60)
    return [lowered[hit[0]] for hit in hits]


def operation_from_entry(entry: dict) -> Operation:
    deprecation = entry["deprecated"] or {}
    return Operation(
        id=entry["id"],
        service=entry["service"],
        method=entry["method"],
        group=entry["group"],
        summary=entry["summary"],
        description=entry["description"],
        http_method=entry["http"]["method"],
        path=entry["http"]["path"],
        access=entry["access"],
        scopes=tuple(entry["scopes"]),
        auth=tuple(entry["auth"]),
        content_type=entry["content_type"],
        returns=entry["returns"],
        replacement=deprecation.get("replacement"),
        deprecated_since=deprecation.get("since"),
        params=entry["params"],
        input_schema=entry["input_schema"],
        keywords=tuple(entry["keywords"]),
        rate_limit=entry["rate_limit"],
        events=tuple(entry["events"]),
        since=entry["since"],
        entry=entry,
    )


def catalog_path() -> Path:
    return PACKAGED_CATALOG if PACKAGED_CATALOG.exists() else SOURCE_CATALOG


def parse_catalog(data: dict) -> Catalog:
    services = {
        name: Service(name=name, summary=info["summary"], keywords=tuple(info["keywords"]))
        for name, info in data["services"].items()
    }
    operations = [operation_from_entry(entry) for entry in data["operations"]]
    return Catalog(
        operations=operations,
        services=services,
        version=data["source"]["version"],
        event_grammar=data["event_grammar"],
        models=data.get("models", {}),
    )


@cache
def load_catalog() -> Catalog:
    """The shipped catalog, parsed once per process."""
    return parse_catalog(json.loads(catalog_path().read_text(encoding="utf-8")))


def allowed(op: Operation, scopes: frozenset[str] | None, read_only: bool = False) -> bool:
    """Whether an API key with `scopes` (None: every scope) may run `op`, as Appwrite decides it.

    An operation lists alternative scopes; any one of them suffices, and a key also holds the scopes
    Appwrite gives every key (so health checks pass) and never `public` or `account`.
    """
    if read_only and op.access != "read":
        return False
    return scopes is None or key_auth(scopes).has_scope(op.scopes)


def type_signature(schema: dict) -> str:
    """A short TypeScript-like rendering of a parameter's JSON Schema type."""
    types = schema.get("type", "any")
    types = types if isinstance(types, list) else [types]
    nullable = "null" in types
    base = [t for t in types if t != "null"] or ["any"]
    if "enum" in schema:
        values = [v for v in schema["enum"] if v is not None]
        shown = "|".join(json.dumps(v) for v in values[:ENUM_SHOWN])
        text = shown + (f"|…(+{len(values) - ENUM_SHOWN})" if len(values) > ENUM_SHOWN else "")
    elif schema.get("format") == "binary":
        text = "file"
    elif base == ["array"] and schema.get("items"):
        inner = type_signature(schema["items"])
        text = f"({inner})[]" if "|" in inner else f"{inner}[]"
    else:
        text = "|".join(base)
    return f"{text}|null" if nullable else text


def param_signature(op: Operation) -> str:
    """Every parameter as `name: type` (`name?:` when optional), required ones first."""
    properties = op.input_schema["properties"]
    required = set(op.required)
    ordered = [n for n in properties if n in required] + [n for n in properties if n not in required]
    parts = []
    for name in ordered:
        schema = properties[name]
        mark = "" if name in required else "?"
        default = f"={json.dumps(schema['default'])}" if schema.get("default") not in (None, "", [], {}) else ""
        parts.append(f"{name}{mark}: {type_signature(schema)}{default}")
    return ", ".join(parts)


def brief(op: Operation) -> dict:
    """What a search hit shows of an operation: enough to call it without another look-up."""
    out = {"id": op.id, "summary": op.summary, "access": op.access, "params": param_signature(op)}
    if op.replacement:
        out["deprecated"] = f"use {op.replacement}"
    return out
