"""Property tests: documentsDB queries on random nested documents against a plain-Python evaluation of the
same queries with the semantics of Appwrite's MongoDB adapter (engine/databases/field_queries.py):

- a field is read along its dotted path through objects; a comparison also reaches, as MongoDB's do, the
  elements of an array the path ends on, and through the first array of objects on the path, the rest of
  the path in each of its objects (and the elements of an array found there);
- values compare only within their type (numbers together, strings, booleans); objects and arrays match
  no comparison, and `true` is not 1;
- a comparison matches when any value reached matches; negations are complements (they match documents
  without the field, or whose array holds no match); between is "some value at least the first bound and
  some value at most the second", notBetween "some value below the first bound or some above the second";
- isNull, isNotNull, contains, exists and ordering read the field through objects only;
- contains matches an array's element of the value's type, or a substring of a string;
- isNull matches a null or missing field; exists / notExists test presence (a null is present) of any
  one of the fields named;
- ordering: missing and null, numbers, strings, objects, arrays (by their JSON text), booleans; ties
  by $sequence.
"""

from __future__ import annotations

import itertools
import json
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcp_server.engine import Engine
from tests.engine.query_properties import assert_cursor_pages_concatenate, query_list

DB = "docs"
KEYS = ("a", "b", "c")
PATHS = ("a", "b", "c", "a.b", "c.a", "a.b.c")
ALPHABET = 'ab{["1 .é😀\U0010ffff'
MISSING = object()

ints = st.one_of(st.integers(-3, 3), st.integers(-(2**63), 2**63 - 1))
floats = st.one_of(st.sampled_from([0.0, -0.0, 1.0, 1.5, -2.25]), st.floats(allow_nan=False, allow_infinity=False))
texts = st.one_of(st.text(ALPHABET, max_size=6), st.sampled_from(["[1]", "{}", "true", "1", "a.b", ""]))
scalars = st.one_of(st.none(), st.booleans(), ints, floats, texts)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.sampled_from(KEYS), children, max_size=3)
    ),
    max_leaves=8,
)
documents = st.dictionaries(st.sampled_from(KEYS), values, max_size=3)


def lookup(document: dict, path: str):
    value = document
    for segment in path.split("."):
        if not isinstance(value, dict) or segment not in value:
            return MISSING
        value = value[segment]
    return value


def reached(document: dict, path: str) -> list:
    """The values a comparison on `path` looks at (see the module docstring)."""
    segments = path.split(".")
    found = [lookup(document, path)]
    for length in range(1, len(segments)):
        head = lookup(document, ".".join(segments[:length]))
        if isinstance(head, list):
            rest = ".".join(segments[length:])
            found += [lookup(item, rest) for item in head if isinstance(item, dict)]
    values = []
    for value in found:
        if value is not MISSING:
            values += [value, *value] if isinstance(value, list) else [value]
    return values


def kind(value) -> str:
    if value is None or value is MISSING:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", dict: "object", list: "array"}[type(value)]


def compare(value, operator: str, other) -> bool:
    if kind(value) != kind(other) or kind(value) in ("null", "object", "array"):
        return False
    return {
        "=": value == other,
        "<": value < other,
        "<=": value <= other,
        ">": value > other,
        ">=": value >= other,
    }[operator]


def contains(value, other) -> bool:
    if isinstance(value, list):
        return any(compare(element, "=", other) for element in value)
    return isinstance(value, str) and isinstance(other, str) and other in value


def matches(document: dict, query: dict) -> bool:
    method = query["method"]
    if method == "and":
        return all(matches(document, child) for child in query["values"])
    if method == "or":
        return any(matches(document, child) for child in query["values"])
    if method == "exists":
        return any(lookup(document, path) is not MISSING for path in query["values"])
    if method == "notExists":
        return any(lookup(document, path) is MISSING for path in query["values"])
    value = lookup(document, query["attribute"])
    given = query.get("values", [])
    values = reached(document, query["attribute"])

    def some(operator: str, other) -> bool:
        return any(compare(item, operator, other) for item in values)

    def text(test) -> bool:
        return any(isinstance(item, str) and test(item) for item in values)

    return {
        "isNull": lambda: value is None or value is MISSING,
        "isNotNull": lambda: value is not None and value is not MISSING,
        "equal": lambda: any(some("=", other) for other in given),
        "notEqual": lambda: not some("=", given[0]),
        "lessThan": lambda: some("<", given[0]),
        "lessThanEqual": lambda: some("<=", given[0]),
        "greaterThan": lambda: some(">", given[0]),
        "greaterThanEqual": lambda: some(">=", given[0]),
        "between": lambda: some(">=", given[0]) and some("<=", given[1]),
        "notBetween": lambda: some("<", given[0]) or some(">", given[1]),
        "startsWith": lambda: text(lambda item: item.startswith(given[0])),
        "notStartsWith": lambda: not text(lambda item: item.startswith(given[0])),
        "endsWith": lambda: text(lambda item: item.endswith(given[0])),
        "notEndsWith": lambda: not text(lambda item: item.endswith(given[0])),
        "regex": lambda: text(lambda item: re.search(given[0], item) is not None),
        "contains": lambda: any(contains(value, other) for other in given),
        "containsAny": lambda: any(contains(value, other) for other in given),
        "containsAll": lambda: all(contains(value, other) for other in given),
        "notContains": lambda: not any(contains(value, other) for other in given),
    }[method]()


RANKS = {"null": 0, "number": 1, "string": 2, "object": 3, "array": 4, "boolean": 5}


def sort_key(document: dict, attribute: str) -> tuple:
    if attribute == "$sequence":
        return (0, document["$sequence"])
    if attribute == "$id":
        return (0, document["$id"])
    value = lookup(document, attribute)
    if kind(value) in ("object", "array"):
        return (RANKS[kind(value)], json.dumps(value, separators=(",", ":"), ensure_ascii=False))
    return (RANKS[kind(value)], 0 if kind(value) == "null" else value)


def evaluate(stored: list[dict], queries: list[dict]) -> tuple[list[str], int]:
    """(ids of the page, total) that listDocuments should answer for `queries` over `stored` (in insertion order)."""
    filters = [query for query in queries if query["method"] not in ("orderAsc", "orderDesc", "limit", "offset")]
    orders = [query for query in queries if query["method"] in ("orderAsc", "orderDesc")]
    matching = [document for document in stored if all(matches(document, query) for query in filters)]
    if not any(order["attribute"] in ("$id", "$sequence") for order in orders):
        orders = [*orders, {"method": "orderAsc", "attribute": "$sequence"}]
    ordered = list(matching)
    for order in reversed(orders):
        descending = order["method"] == "orderDesc"
        ordered.sort(key=lambda document, name=order["attribute"]: sort_key(document, name), reverse=descending)
    limit = next((query["values"][0] for query in queries if query["method"] == "limit"), 25)
    offset = next((query["values"][0] for query in queries if query["method"] == "offset"), 0)
    return [document["$id"] for document in ordered[offset : offset + limit]], len(matching)


def stored_scalars(stored: list[dict]) -> list:
    """Every scalar the documents hold, at any depth (query values that hit)."""
    found = []

    def walk(value) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif value is not None:
            found.append(value)

    for document in stored:
        walk({key: document[key] for key in KEYS if key in document})
    return found


@st.composite
def scenarios(draw):
    stored = draw(st.lists(documents, max_size=10))
    pool = stored_scalars(stored)
    plain = st.one_of(st.booleans(), ints, floats, texts)

    def value() -> object:
        return draw(st.one_of(st.sampled_from(pool), plain) if pool else plain)

    def text() -> str:
        strings = [item for item in pool if isinstance(item, str)]
        if strings and draw(st.booleans()):
            whole = draw(st.sampled_from(strings))
            start = draw(st.integers(0, len(whole)))
            return whole[start : draw(st.integers(start, len(whole)))]
        return draw(st.text(ALPHABET, max_size=3))

    def leaf() -> dict:
        method = draw(
            st.sampled_from(
                "equal notEqual lessThan lessThanEqual greaterThan greaterThanEqual between notBetween isNull "
                "isNotNull startsWith notStartsWith endsWith notEndsWith regex contains containsAny containsAll "
                "notContains exists notExists".split()
            )
        )
        if method in ("exists", "notExists"):
            return {"method": method, "values": draw(st.lists(st.sampled_from(PATHS), min_size=1, max_size=2))}
        query = {"method": method, "attribute": draw(st.sampled_from(PATHS))}
        if method in ("isNull", "isNotNull"):
            return query
        if method in ("startsWith", "notStartsWith", "endsWith", "notEndsWith"):
            query["values"] = [text()]
        elif method == "regex":
            query["values"] = [draw(st.sampled_from(["a", "^a", "b$", "[ab]", r"\[", "é", "^$", "😀", "^.?$"]))]
        elif method in ("between", "notBetween"):
            query["values"] = [value(), value()]
        elif method in ("equal", "contains", "containsAny", "containsAll", "notContains"):
            query["values"] = [value() if draw(st.booleans()) else text() for _ in range(draw(st.integers(1, 3)))]
        else:
            query["values"] = [value()]
        return query

    return stored, [query_list(draw, leaf, [*PATHS, "$id", "$sequence"]) for _ in range(draw(st.integers(1, 4)))]


@pytest.fixture(scope="module")
def shared_engine():
    with tempfile.TemporaryDirectory() as directory:
        instance = Engine(Path(directory) / "data", list_cache_ttl=0)
        instance.call("documentsDB.create", {"databaseId": DB, "name": "Properties"})
        yield instance
        instance.close()


_collections = itertools.count()


def fresh_collection(engine: Engine, stored: list[dict]) -> tuple[str, list[dict]]:
    """A new collection holding `stored` (ids d0, d1, …); returns its id and the documents with $id and $sequence."""
    collection_id = f"prop{next(_collections)}"
    engine.call("documentsDB.createCollection", {"databaseId": DB, "collectionId": collection_id, "name": "P"})
    given = [{**document, "$id": f"d{position}"} for position, document in enumerate(stored)]
    if not given:
        return collection_id, []
    made = engine.call(
        "documentsDB.createDocuments", {"databaseId": DB, "collectionId": collection_id, "documents": given}
    )["documents"]
    return collection_id, [
        {**document, "$sequence": int(model["$sequence"])} for document, model in zip(given, made, strict=True)
    ]


def drop_collection(engine: Engine, collection_id: str) -> None:
    engine.call("documentsDB.deleteCollection", {"databaseId": DB, "collectionId": collection_id})


def engine_page(engine: Engine, collection_id: str, queries: list[dict]) -> tuple[list[str], int]:
    result = engine.call(
        "documentsDB.listDocuments",
        {"databaseId": DB, "collectionId": collection_id, "queries": [json.dumps(query) for query in queries]},
    )
    return [document["$id"] for document in result["documents"]], result["total"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenario=scenarios())
def test_property_list_documents_agrees_with_python(shared_engine, scenario):
    stored, query_lists = scenario
    collection_id, stored = fresh_collection(shared_engine, stored)
    try:
        for queries in query_lists:
            assert engine_page(shared_engine, collection_id, queries) == evaluate(stored, queries), queries
    finally:
        drop_collection(shared_engine, collection_id)


@st.composite
def cursor_scenarios(draw):
    stored = draw(st.lists(documents, min_size=1, max_size=10))
    attributes = draw(st.lists(st.sampled_from([*PATHS, "$id"]), max_size=2, unique=True))
    orders = [{"method": draw(st.sampled_from(["orderAsc", "orderDesc"])), "attribute": name} for name in attributes]
    return stored, orders, draw(st.integers(1, 4))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=cursor_scenarios())
def test_property_cursor_pages_concatenate_to_the_ordered_list(shared_engine, scenario):
    stored, orders, size = scenario
    collection_id, stored = fresh_collection(shared_engine, stored)
    try:
        # A cursor document may not have a null order value, so the listing keeps documents that have them all.
        queries = [{"method": "isNotNull", "attribute": order["attribute"]} for order in orders] + orders
        expected, _ = evaluate(stored, [*queries, {"method": "limit", "values": [100]}])
        assert_cursor_pages_concatenate(
            lambda page: engine_page(shared_engine, collection_id, page)[0], queries, size, expected
        )
    finally:
        drop_collection(shared_engine, collection_id)
