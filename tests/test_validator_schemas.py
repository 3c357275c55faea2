"""Appwrite 1.9.6's parameter validators, read from the route table, as JSON Schemas."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

CATALOG = Path(__file__).resolve().parent.parent / "catalog"
sys.path.insert(0, str(CATALOG))

from route_table import method_params, server_methods  # noqa: E402
from validator_schemas import UnmappedValidator, schema_of  # noqa: E402


@pytest.fixture(scope="module")
def routes() -> dict:
    return json.loads((CATALOG / "appwrite-spec" / "routes-1.9.6.json").read_text(encoding="utf-8"))


def test_the_table_has_the_615_server_methods(routes):
    assert len({f"{m['namespace']}.{m['name']}" for _, m in server_methods(routes)}) == 615


def test_every_validator_of_every_server_method_has_a_schema(routes):
    """No validator class is left unmapped, and none becomes "anything"."""
    seen = 0
    for route, method in server_methods(routes):
        for param in method_params(route, method):
            schema = schema_of(param["validator"])
            Draft202012Validator.check_schema(schema)
            assert schema.get("type") or schema.get("anyOf"), (method["name"], param["name"], param["validator"])
            seen += 1
    assert seen > 2000


@pytest.mark.parametrize(
    ("validator", "schema"),
    [
        ("new Text(128)", {"type": "string", "maxLength": 128}),
        ("new Text(0)", {"type": "string"}),
        ("new Text(6, 6, Text::NUMBERS)", {"type": "string", "maxLength": 6, "minLength": 6, "pattern": "^[0-9]*$"}),
        ("new Nullable(new Boolean())", {"type": ["boolean", "null"]}),
        ("new Range(min: 0, max: 86400)", {"type": "integer", "minimum": 0, "maximum": 86400}),
        ("new Range(0.1, 3, Range::TYPE_FLOAT)", {"type": "number", "minimum": 0.1, "maximum": 3}),
        (
            "new Nullable(new WhiteList(['tls', 'ssl'], true))",
            {"type": ["string", "null"], "enum": ["tls", "ssl", None]},
        ),
        ("new WhiteList([301, 302, 307, 308])", {"type": "integer", "enum": [301, 302, 307, 308]}),
        (
            "new Nullable(new Integer(false, 64))",
            {"type": ["integer", "null"], "minimum": -(2**63), "maximum": 2**63 - 1},
        ),
        (
            "fn (array $plan) => new ArrayList(new JSON(), $plan['databasesBatchSize'] ?? APP_LIMIT_DATABASE_BATCH)",
            {"type": "array", "items": {"type": "object"}, "maxItems": 100},
        ),
        (
            "new ArrayList(new WhiteList(['ASC', 'DESC'], false, Database::VAR_STRING), APP_LIMIT_ARRAY_PARAMS_SIZE)",
            {"type": "array", "items": {"type": "string", "enum": ["ASC", "DESC"]}, "maxItems": 100},
        ),
        ("new Multiple([new AnyOf([new URL(), new Domain()]), new PublicDomain()])", {"type": "string"}),
        ("fn ($redirectValidator) => $redirectValidator", {"type": "string", "format": "uri"}),
    ],
)
def test_validators_become_the_schema_of_what_they_accept(validator, schema):
    assert schema_of(validator) == schema


def test_ids_follow_appwrite_s_rules():
    uid = schema_of("fn (Database $dbForProject) => new UID($dbForProject->getAdapter()->getMaxUIDLength())")
    custom = schema_of("new CustomId()")
    check, check_custom = Draft202012Validator(uid), Draft202012Validator(custom)
    assert check.is_valid("order_1.a-b") and not check.is_valid("_hidden") and not check.is_valid("x" * 37)
    assert check_custom.is_valid("unique()") and not check.is_valid("unique()")


def test_an_unknown_validator_is_an_error_not_anything():
    with pytest.raises(UnmappedValidator, match="Mystery"):
        schema_of("new Nullable(new Mystery(3))")
