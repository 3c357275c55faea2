"""Queries over small in-memory lists: databases, tables, columns, indexes, transactions.

These lists are metadata, a few hundred entries at most, so their filters, order and paging run
in Python over the response models. Only the attributes a list declares may be queried.
"""

from __future__ import annotations

import random
from typing import Any

from .datetimes import normalize_datetime
from .errors import AppwriteError
from .queries import DEFAULT_LIMIT, Query, invalid, parse_queries, plan

MAX_COUNT = 5000


def list_models(
    models: list[dict],
    raw_queries: object,
    attributes: set[str],
    *,
    search: str | None = None,
    search_fields: tuple[str, ...] = ("name",),
    count: bool = True,
    noun: str = "item",
) -> tuple[int, list[dict]]:
    """(total, page) of `models` after filters, search, order, cursor and paging."""
    queries = parse_queries(raw_queries)
    query_plan = plan(queries)
    allowed = attributes | {"$id", "$createdAt", "$updatedAt"}
    for query in query_plan.filters + query_plan.orders:
        check_attributes(query, allowed)
    matching = [model for model in models if all(matches(model, query) for query in query_plan.filters)]
    if search:
        needle = search.lower()
        matching = [m for m in matching if any(needle in str(m.get(f, "")).lower() for f in search_fields)]
    total = min(len(matching), MAX_COUNT) if count else 0
    ordered = order(matching, query_plan.orders)
    if query_plan.cursor is not None:
        ids = [model["$id"] for model in ordered]
        cursor_id = query_plan.cursor.values[0]
        if cursor_id not in ids:
            raise AppwriteError(
                "general_cursor_not_found", f"{noun.capitalize()} '{cursor_id}' for the 'cursor' value not found."
            )
        position = ids.index(cursor_id)
        ordered = ordered[position + 1 :] if query_plan.cursor.method == "cursorAfter" else ordered[:position]
        if query_plan.cursor.method == "cursorBefore":
            limit = query_plan.limit if query_plan.limit is not None else DEFAULT_LIMIT
            ordered = ordered[-limit:] if limit else []
    limit = query_plan.limit if query_plan.limit is not None else DEFAULT_LIMIT
    return total, ordered[query_plan.skip : query_plan.skip + limit]


def check_attributes(query: Query, allowed: set[str]) -> None:
    if query.method in ("and", "or"):
        for child in query.children:
            check_attributes(child, allowed)
    elif query.attribute and query.attribute not in allowed:
        raise invalid(f"Attribute not found in schema: {query.attribute}; queryable here: {', '.join(sorted(allowed))}")


def comparable(value: Any) -> Any:
    if isinstance(value, str):
        normalized = normalize_datetime(value) if "T" in value and value[:4].isdigit() else None
        return normalized or value
    return value


def matches(model: dict, query: Query) -> bool:
    if query.method == "and":
        return all(matches(model, child) for child in query.children)
    if query.method == "or":
        return any(matches(model, child) for child in query.children)
    value = model.get(query.attribute)
    values = [comparable(v) for v in query.values]
    current = comparable(value)
    method = query.method
    if method == "isNull":
        return value is None
    if method == "isNotNull":
        return value is not None
    if value is None:
        return method.startswith("not") and method not in ("notContains",)
    if isinstance(value, list):
        found = any(item in values for item in value)
        return {
            "contains": found,
            "containsAny": found,
            "containsAll": all(v in value for v in values),
            "notContains": not found,
        }.get(method, False)
    try:
        return {
            "equal": lambda: current in values,
            "notEqual": lambda: current != values[0],
            "lessThan": lambda: current < values[0],
            "lessThanEqual": lambda: current <= values[0],
            "greaterThan": lambda: current > values[0],
            "greaterThanEqual": lambda: current >= values[0],
            "between": lambda: values[0] <= current <= values[1],
            "notBetween": lambda: current < values[0] or current > values[1],
            "startsWith": lambda: str(current).startswith(values[0]),
            "notStartsWith": lambda: not str(current).startswith(values[0]),
            "endsWith": lambda: str(current).endswith(values[0]),
            "notEndsWith": lambda: not str(current).endswith(values[0]),
            "contains": lambda: any(str(v) in str(current) for v in values),
            "notContains": lambda: not any(str(v) in str(current) for v in values),
            "search": lambda: str(values[0]).lower() in str(current).lower(),
        }[method]()
    except KeyError:
        raise invalid(f"{method} is not supported on this list") from None
    except TypeError:
        raise invalid(f'Query value is invalid for attribute "{query.attribute}"') from None


def order(models: list[dict], orders: list[Query]) -> list[dict]:
    ordered = list(models)
    for query in reversed(orders):
        if query.method == "orderRandom":
            random.shuffle(ordered)
            continue
        reverse = query.method == "orderDesc"
        present = [m for m in ordered if m.get(query.attribute) is not None]
        missing = [m for m in ordered if m.get(query.attribute) is None]
        present.sort(key=lambda m: comparable(m[query.attribute]), reverse=reverse)
        ordered = missing + present if not reverse else present + missing
    return ordered


def limit_offset_page(items: list, raw_queries: object, *, count: bool = True) -> tuple[int, list]:
    """(total, page) of a list whose route takes only limit and offset queries (no default limit), as
    Appwrite's lists of project settings do; any other query is refused."""
    queries = parse_queries(raw_queries)
    for query in queries:
        if query.method not in ("limit", "offset"):
            raise invalid(f"{query.method} is not supported here: only limit and offset are")
    query_plan = plan(queries)
    end = None if query_plan.limit is None else query_plan.skip + query_plan.limit
    return (len(items) if count else 0), items[query_plan.skip : end]
