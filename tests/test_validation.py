"""Parameter validation: the quick path never accepts what the full JSON Schema check refuses."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcp_server.catalog import load_catalog
from mcp_server.engine.errors import AppwriteError
from mcp_server.validation import plainly_valid, validate_params, validator_for

CATALOG = load_catalog()
OPERATIONS = CATALOG.operations

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=6,
)


@st.composite
def calls(draw):
    """An operation and parameters for it: known names, with values of any JSON shape."""
    op = draw(st.sampled_from(OPERATIONS))
    names = list(op.input_schema["properties"])
    chosen = draw(st.lists(st.sampled_from(names), unique=True)) if names else []
    enums = {
        name: op.input_schema["properties"][name]["enum"]
        for name in chosen
        if "enum" in op.input_schema["properties"][name]
    }
    params = {}
    for name in chosen:
        schema = op.input_schema["properties"][name]
        if name in enums and draw(st.booleans()):
            params[name] = draw(st.sampled_from(enums[name]))
        elif draw(st.booleans()):
            params[name] = draw(typed_value(schema))
        else:
            params[name] = draw(json_values)
    if draw(st.booleans()):
        for name in op.input_schema["required"]:
            params.setdefault(name, draw(typed_value(op.input_schema["properties"][name])))
    return op, params


def typed_value(schema: dict) -> st.SearchStrategy:
    """Values of the type a schema names (still free to break its lengths, ranges and enums)."""
    kinds = schema.get("type", [])
    kinds = kinds if isinstance(kinds, list) else [kinds]
    by_kind = {
        "string": st.text(max_size=4),
        "integer": st.integers(-3, 3) | st.integers(),
        "number": st.floats(allow_nan=False) | st.integers(),
        "boolean": st.booleans(),
        "array": st.lists(st.text(max_size=3) | st.integers(), max_size=3),
        "object": st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
        "null": st.none(),
    }
    return st.one_of([by_kind[kind] for kind in kinds if kind in by_kind] or [json_values])


@settings(max_examples=3000, suppress_health_check=[HealthCheck.too_slow])
@given(calls())
def test_the_quick_path_accepts_only_what_the_schema_accepts(call):
    op, params = call
    if plainly_valid(op, params):
        assert not list(validator_for(op).iter_errors(params)), (op.id, params)


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("tablesDB.createRow", {"databaseId": "d", "tableId": "t", "rowId": "unique()", "data": {"a": 1}}),
        ("tablesDB.listRows", {"databaseId": "d", "tableId": "t", "queries": ['{"method":"limit","values":[5]}']}),
        ("tablesDB.createIntegerColumn", {"databaseId": "d", "tableId": "t", "key": "n", "required": False}),
    ],
)
def test_well_formed_calls_take_the_quick_path(operation, params):
    assert plainly_valid(CATALOG.get(operation), params)


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"databaseId": "d", "tableId": "t", "rowId": "r"}, "'data'"),
        ({"databaseId": 5, "tableId": "t", "rowId": "r", "data": {}}, "'databaseId'"),
        ({"databaseId": "", "tableId": "t", "rowId": "r", "data": {}}, "'databaseId'"),
        ({"databaseId": "d", "tableId": "t", "rowId": "r", "data": {}, "permissions": "read"}, "'permissions'"),
    ],
)
def test_malformed_calls_still_get_the_full_explanation(params, named):
    op = CATALOG.get("tablesDB.createRow")
    assert not plainly_valid(op, params)
    with pytest.raises(AppwriteError) as caught:
        validate_params(op, params)
    assert caught.value.type == "general_argument_invalid"
    assert named in caught.value.message
