"""Appwrite's query language: parsing the JSON strings of `queries[]` into validated Query objects.

Each string is `{"method": ..., "attribute": ..., "values": [...]}`; `and`/`or` nest query objects
in `values`. Parsing checks the method, the attribute and the number of values, and splits a list
of queries into filters, selection, ordering and paging. Compiling to SQL is `query_sql`'s job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .errors import AppwriteError

MAX_QUERIES = 100
MAX_QUERY_LENGTH = 4096
MAX_LIMIT = 5000
DEFAULT_LIMIT = 25

COMPARISONS = ("equal", "notEqual", "lessThan", "lessThanEqual", "greaterThan", "greaterThanEqual")
TEXT_MATCHES = ("startsWith", "notStartsWith", "endsWith", "notEndsWith", "regex")
CONTAINMENT = ("contains", "containsAny", "containsAll", "notContains")
FULLTEXT = ("search", "notSearch")
NULLS = ("isNull", "isNotNull")
RANGES = ("between", "notBetween")
PRESENCE = ("exists", "notExists")
SPATIAL = (
    "crosses",
    "notCrosses",
    "intersects",
    "notIntersects",
    "overlaps",
    "notOverlaps",
    "touches",
    "notTouches",
)
DISTANCES = ("distanceEqual", "distanceNotEqual", "distanceGreaterThan", "distanceLessThan")
LOGICAL = ("and", "or")
ORDERS = ("orderAsc", "orderDesc", "orderRandom")
PAGING = ("limit", "offset", "cursorAfter", "cursorBefore")
FILTERS = COMPARISONS + TEXT_MATCHES + CONTAINMENT + FULLTEXT + NULLS + RANGES + PRESENCE + SPATIAL + DISTANCES
# Older SDKs send these helpers as methods of their own; they mean comparisons on the timestamps.
TIMESTAMP_HELPERS = {
    "createdBefore": ("lessThan", "$createdAt"),
    "createdAfter": ("greaterThan", "$createdAt"),
    "createdBetween": ("between", "$createdAt"),
    "updatedBefore": ("lessThan", "$updatedAt"),
    "updatedAfter": ("greaterThan", "$updatedAt"),
    "updatedBetween": ("between", "$updatedAt"),
}
UNSUPPORTED = {"elemMatch": "elemMatch works on schemaless collections only"}
# Nearest-neighbour ordering by a vector attribute (vectorsDB); the one value is the query vector.
VECTORS = ("vectorDot", "vectorCosine", "vectorEuclidean")
# How many values each method takes: (minimum, maximum); None is no maximum.
VALUE_COUNTS = {
    **{method: (1, None) for method in ("equal", "contains", "containsAny", "containsAll", "notContains")},
    **{method: (1, 1) for method in ("notEqual", "lessThan", "lessThanEqual", "greaterThan", "greaterThanEqual")},
    **{method: (1, 1) for method in TEXT_MATCHES + FULLTEXT + SPATIAL + DISTANCES},
    **{method: (2, 2) for method in RANGES},
    **{method: (0, 0) for method in NULLS},
    **{method: (1, 1) for method in VECTORS},
    **{method: (1, None) for method in PRESENCE},
    "select": (1, None),
    "limit": (1, 1),
    "offset": (1, 1),
    "cursorAfter": (1, 1),
    "cursorBefore": (1, 1),
    "orderAsc": (0, 0),
    "orderDesc": (0, 0),
    "orderRandom": (0, 0),
    "and": (2, None),
    "or": (2, None),
}


@dataclass(frozen=True)
class Query:
    method: str
    attribute: str = ""
    values: tuple = ()
    children: tuple[Query, ...] = ()


@dataclass
class QueryPlan:
    """A list of queries, sorted by what each does."""

    filters: list[Query] = field(default_factory=list)
    select: list[str] | None = None
    orders: list[Query] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None
    cursor: Query | None = None
    vector: Query | None = None

    @property
    def skip(self) -> int:
        return self.offset or 0


def invalid(message: str) -> AppwriteError:
    return AppwriteError("general_query_invalid", f"Invalid query: {message}")


def parse_queries(raw: object) -> list[Query]:
    """Parse `queries[]` (JSON strings) into Query objects, or raise general_query_invalid."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise invalid(f"queries must be an array of query strings, got {type(raw).__name__}")
    if len(raw) > MAX_QUERIES:
        raise AppwriteError("general_query_invalid", f"Invalid query: at most {MAX_QUERIES} queries are allowed")
    parsed = []
    for index, text in enumerate(raw):
        if not isinstance(text, str):
            raise invalid(f'queries[{index}] must be a JSON string like \'{{"method":"limit","values":[10]}}\'')
        if len(text) > MAX_QUERY_LENGTH:
            raise invalid(f"queries[{index}] is longer than {MAX_QUERY_LENGTH} characters")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise invalid(f"queries[{index}] is not valid JSON ({exc.msg} at character {exc.pos})") from None
        parsed.append(parse_query(data, f"queries[{index}]"))
    return parsed


def parse_query(data: object, where: str) -> Query:
    if not isinstance(data, dict):
        raise invalid(f"{where} must be an object with method, attribute and values")
    method = data.get("method")
    if not isinstance(method, str):
        raise invalid(f"{where} has no method")
    if method in UNSUPPORTED:
        raise invalid(f"{where}: {method} is not supported here; {UNSUPPORTED[method]}")
    attribute = data.get("attribute", "")
    if method in TIMESTAMP_HELPERS:
        method, attribute = TIMESTAMP_HELPERS[method]
    if method not in VALUE_COUNTS and method not in FILTERS:
        raise invalid(f"{where}: unknown method {method!r}")
    values = data.get("values", [])
    if values is None:
        values = []
    if not isinstance(values, list):
        raise invalid(f"{where}: values must be an array")
    if attribute is None:
        attribute = ""
    if not isinstance(attribute, str):
        raise invalid(f"{where}: attribute must be a string")
    low, high = VALUE_COUNTS[method]
    if len(values) < low or (high is not None and len(values) > high):
        expected = f"exactly {low}" if low == high else f"at least {low}" if high is None else f"{low} to {high}"
        raise invalid(f"{where}: {method} takes {expected} value(s), got {len(values)}")
    needs_attribute = (method in FILTERS and method not in PRESENCE) or method in ("orderAsc", "orderDesc", *VECTORS)
    if needs_attribute and not attribute:
        raise invalid(f"{where}: {method} needs an attribute")
    if method in LOGICAL:
        children = tuple(parse_query(child, f"{where}.values[{i}]") for i, child in enumerate(values))
        for child in children:
            if child.method not in FILTERS + LOGICAL:
                raise invalid(f"{where}: {method} may only combine filters, not {child.method}")
        return Query(method, "", (), children)
    return Query(method, attribute, tuple(values))


def plan(queries: list[Query]) -> QueryPlan:
    """Sort parsed queries into a plan; paging values are checked here. As in Appwrite, the first
    limit, offset and cursor count and later ones are ignored."""
    result = QueryPlan()
    for query in queries:
        if query.method in FILTERS or query.method in LOGICAL:
            result.filters.append(query)
        elif query.method == "select":
            if not all(isinstance(value, str) and value for value in query.values):
                raise invalid("select takes attribute names")
            result.select = (result.select or []) + list(query.values)
        elif query.method in ORDERS:
            result.orders.append(query)
        elif query.method in VECTORS:
            if result.vector is not None:
                raise invalid("only one vector query is allowed")
            result.vector = query
        elif query.method == "limit":
            limit = paging_number(query, 1, MAX_LIMIT)
            result.limit = limit if result.limit is None else result.limit
        elif query.method == "offset":
            offset = paging_number(query, 0, None)
            result.offset = offset if result.offset is None else result.offset
        else:
            if not isinstance(query.values[0], str) or not query.values[0]:
                raise invalid(f"{query.method} takes the id of a row")
            result.cursor = result.cursor or query
    if any(order.method == "orderRandom" for order in result.orders) and result.cursor:
        raise invalid("orderRandom cannot be combined with a cursor")
    if result.vector is not None and result.cursor:
        raise invalid("a vector query orders by similarity; it cannot be combined with a cursor")
    return result


def paging_number(query: Query, low: int, high: int | None) -> int:
    value = query.values[0]
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bound = f" to {high}" if high is not None else " or more"
        raise invalid(f"{query.method} takes a whole number from {low}{bound}, got {value!r}")
    return value
