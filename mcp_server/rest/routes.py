"""Routing requests to catalog operations: every route comes from an operation's method and path.

Several SDK methods can share one route (`createRow` and `createRows` are both POST …/rows; some
methods have an old and a new name). The parameters a request carries pick among them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from ..catalog import Catalog, Operation

PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern
    operations: tuple[Operation, ...]


class Router:
    """All routes of the catalog, matched by HTTP method and path (relative to /v1)."""

    def __init__(self, catalog: Catalog) -> None:
        grouped: dict[tuple[str, str], list[Operation]] = {}
        for op in catalog.operations:
            grouped.setdefault((op.http_method, op.path), []).append(op)
        # Keyed by method and first path segment (every catalog path starts with a literal one).
        self.routes: dict[tuple[str, str], list[Route]] = {}
        for (method, path), operations in grouped.items():
            operations.sort(key=lambda op: op.deprecated)
            route = Route(method, compile_path(path), tuple(operations))
            self.routes.setdefault((method, first_segment(path)), []).append(route)
        for routes in self.routes.values():
            # Literal segments win over placeholders: /account/sessions/current before /account/sessions/{id}.
            routes.sort(key=lambda route: -literal_length(route.pattern.pattern))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes.get((method, first_segment(path)), ()):
            found = route.pattern.fullmatch(path)
            if found:
                return route, {name: unquote(value) for name, value in found.groupdict().items()}
        return None

    def allows(self, path: str) -> list[str]:
        """The methods some route serves at `path` (for a 405 answer and CORS preflight)."""
        segment = first_segment(path)
        return sorted(
            method
            for (method, first), routes in self.routes.items()
            if first == segment and any(route.pattern.fullmatch(path) for route in routes)
        )


def first_segment(path: str) -> str:
    return path.split("/", 2)[1] if path.startswith("/") else ""


def compile_path(path: str) -> re.Pattern:
    parts = PLACEHOLDER.split(path)
    regex = "".join(f"(?P<{part}>[^/]+)" if index % 2 else re.escape(part) for index, part in enumerate(parts))
    return re.compile(regex)


def literal_length(regex: str) -> int:
    return len(re.sub(r"\(\?P<\w+>\[\^/\]\+\)", "", regex))


def choose(route: Route, params: dict) -> Operation:
    """The operation of a shared route that the parameters fit: every required one present, nothing unknown."""
    if len(route.operations) == 1:
        return route.operations[0]
    given = set(params)
    for op in route.operations:
        properties = op.input_schema["properties"]
        if set(op.required) <= given and given <= set(properties):
            return op
    for op in route.operations:
        if set(op.required) <= given:
            return op
    return route.operations[0]
