"""The shipped catalog against the Appwrite spec it is built from."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, ValidationError

from mcp_server.catalog import allowed, param_signature

SERVICES = {
    "account",
    "avatars",
    "databases",
    "functions",
    "graphql",
    "health",
    "locale",
    "messaging",
    "sites",
    "storage",
    "tablesDB",
    "teams",
    "tokens",
    "users",
}
# The services Appwrite 1.9 added to the server API.
NEW_SERVICES = {
    "advisor",
    "documentsDB",
    "organization",
    "ping",
    "presences",
    "project",
    "proxy",
    "vectorsDB",
    "webhooks",
}
ROUTES_PATH = Path(__file__).resolve().parent.parent / "catalog" / "appwrite-spec" / "routes-1.9.6.json"


@pytest.fixture(scope="module")
def routes() -> dict:
    return json.loads(ROUTES_PATH.read_text(encoding="utf-8"))


def route_method_counts(routes: dict) -> Counter:
    """Server-platform SDK methods per namespace, counted straight from the 1.9.6 route table."""
    return Counter(
        sdk["namespace"]
        for route in routes["routes"]
        for sdk in route["sdk"]
        if "server" in (sdk.get("platforms") or [])
    )


def spec_method_counts(spec: dict) -> Counter:
    """SDK methods per service, counted straight from the spec."""
    counts: Counter = Counter()
    for item in spec["paths"].values():
        for op in item.values():
            counts[op["tags"][0]] += len(op["x-appwrite"].get("methods") or [None])
    return counts


def test_one_entry_per_sdk_method_of_each_service(catalog, spec, routes):
    """Every server method of Appwrite 1.9.6: the 419 of the 1.8.1 spec (since 1.8), and the ones 1.9 added."""
    counts = Counter(op.service for op in catalog.operations)
    assert counts == route_method_counts(routes)
    assert Counter(op.service for op in catalog.operations if op.since == "1.8") == spec_method_counts(spec)
    assert sum(counts.values()) == 615
    assert sum(1 for op in catalog.operations if op.since == "1.9") == 196
    assert set(counts) == SERVICES | NEW_SERVICES


def test_ids_are_unique_and_follow_service_dot_method(catalog):
    ids = [op.id for op in catalog.operations]
    assert len(ids) == len(set(ids))
    for op in catalog.operations:
        assert op.id == f"{op.service}.{op.method}"


def test_every_input_schema_is_valid_draft_2020_12(catalog):
    for op in catalog.operations:
        Draft202012Validator.check_schema(op.input_schema)
        assert op.input_schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert op.input_schema["additionalProperties"] is False
        assert set(op.required) <= set(op.input_schema["properties"])
        assert set(op.params) == set(op.input_schema["properties"])


def test_every_path_placeholder_is_a_required_path_parameter(catalog):
    for op in catalog.operations:
        for name in re.findall(r"{(\w+)}", op.path):
            assert op.params.get(name) == "path", op.id
            assert name in op.required, op.id
        for name, location in op.params.items():
            assert location in {"path", "query", "body", "form"}, op.id
            if location == "path":
                assert f"{{{name}}}" in op.path, op.id


def test_methods_sharing_a_route_keep_their_own_parameters(catalog):
    single, bulk = catalog.get("tablesDB.createRow"), catalog.get("tablesDB.createRows")
    assert (single.http_method, single.path) == (bulk.http_method, bulk.path)
    assert set(single.required) == {"databaseId", "tableId", "rowId", "data"}
    assert set(bulk.required) == {"databaseId", "tableId", "rows"}
    assert "rows" not in single.params and "rowId" not in bulk.params
    assert bulk.auth == ("key",)
    assert set(single.auth) == {"key", "session", "jwt"}


def test_schemas_carry_types_enums_defaults_formats_items_and_nullability(catalog):
    index = catalog.get("tablesDB.createIndex").input_schema["properties"]
    assert index["type"]["enum"] == ["key", "fulltext", "unique", "spatial"]
    rows = catalog.get("tablesDB.listRows").input_schema["properties"]
    assert rows["queries"] == {**rows["queries"], "type": "array", "items": {"type": "string"}, "default": []}
    assert rows["total"]["default"] is True
    user = catalog.get("users.create").input_schema["properties"]
    assert user["email"]["format"] == "email"
    assert user["email"]["type"] == ["string", "null"]
    login = catalog.get("account.createEmailPasswordSession").input_schema["properties"]
    assert login["password"]["format"] == "password" and login["password"]["writeOnly"] is True
    integer = catalog.get("tablesDB.createIntegerColumn").input_schema["properties"]
    assert integer["min"]["maximum"] == 2**63 - 1


def test_schemas_validate_real_arguments(catalog):
    validator = Draft202012Validator(catalog.get("tablesDB.createRow").input_schema)
    validator.validate({"databaseId": "db", "tableId": "t", "rowId": "unique()", "data": {"a": 1}})
    with pytest.raises(ValidationError):
        validator.validate({"databaseId": "db", "tableId": "t", "rowId": "r"})
    with pytest.raises(ValidationError):
        validator.validate({"databaseId": "db", "tableId": "t", "rowId": "r", "data": {}, "colour": "red"})
    with pytest.raises(ValidationError):
        validator.validate({"databaseId": "", "tableId": "t", "rowId": "r", "data": {}})


def test_access_class_follows_http_method_and_semantics(catalog):
    expected = {"GET": "read", "DELETE": "delete", "POST": "write", "PUT": "write", "PATCH": "write"}
    for op in catalog.operations:
        if op.id == "account.createOAuth2Token":
            continue
        assert op.access == expected[op.http_method], op.id
    # A GET that starts a sign-in flow issues a token: not a read.
    oauth = catalog.get("account.createOAuth2Token")
    assert (oauth.http_method, oauth.access) == ("GET", "write")
    assert catalog.get("tablesDB.deleteRows").access == "delete"
    assert catalog.get("storage.getFilePreview").access == "read"


def test_uploads_are_multipart_and_json_bodies_are_json(catalog):
    uploads = {op.id for op in catalog.operations if op.content_type == "multipart/form-data"}
    assert uploads == {"storage.createFile", "functions.createDeployment", "sites.createDeployment"}
    assert catalog.get("storage.createFile").params["file"] == "form"
    assert catalog.get("tablesDB.createRow").content_type == "application/json"
    assert catalog.get("tablesDB.listRows").content_type is None


def test_return_models(catalog):
    assert catalog.get("tablesDB.createRow").returns == {"status": 201, "model": "row"}
    assert catalog.get("tablesDB.createRows").returns["model"] == "rowList"
    assert catalog.get("tablesDB.deleteRow").returns["model"] is None
    assert catalog.get("storage.getFilePreview").returns["media"] == "image/*"
    assert "columnBoolean" in catalog.get("tablesDB.getColumn").returns["one_of"]


def test_deprecated_entries_name_a_live_replacement(catalog):
    deprecated = [op for op in catalog.operations if op.deprecated]
    assert len(deprecated) == 100
    for op in deprecated:
        replacement = catalog.get(op.replacement)
        assert replacement is not None, op.id
    assert catalog.get("databases.createDocument").replacement == "tablesDB.createRow"
    assert catalog.get("messaging.createSms").replacement == "messaging.createSMS"
    assert not catalog.get("messaging.createSMS").deprecated


def test_scopes_and_auth_kinds_come_from_the_spec(catalog):
    assert catalog.get("tablesDB.createRow").scopes == ("rows.write", "documents.write")
    assert catalog.get("users.list").scopes == ("users.read",)
    assert catalog.get("account.get").auth == ("session", "jwt")
    for op in catalog.operations:
        assert op.scopes and op.auth, op.id


def test_prose_is_our_own_and_short(catalog, spec, routes):
    upstream = {
        f"{sdk['namespace']}.{sdk['name']}": sdk.get("desc") or "" for r in routes["routes"] for sdk in r["sdk"]
    }
    for item in spec["paths"].values():
        for op in item.values():
            for method in op["x-appwrite"].get("methods") or [{"name": op["x-appwrite"]["method"]}]:
                upstream[f"{op['tags'][0]}.{method['name']}"] = method.get("desc") or op["summary"]
    for op in catalog.operations:
        assert len(op.description) <= 200, op.id
        assert op.summary and "\n" not in op.summary, op.id
        assert op.summary.lower() != upstream[op.id].lower(), op.id
        assert op.keywords, op.id


def test_committed_catalog_is_what_the_generator_builds(root):
    result = subprocess.run(
        [sys.executable, str(root / "catalog" / "build_catalog.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_generator_refuses_prose_copied_from_upstream(root, tmp_path, spec):
    prose = tmp_path / "prose"
    prose.mkdir()
    for source in (root / "catalog" / "prose").glob("*.json"):
        (prose / source.name).write_text(source.read_text())
    storage = json.loads((prose / "storage.json").read_text())
    storage["operations"]["createBucket"]["description"] = "Create a new storage bucket."
    (prose / "storage.json").write_text(json.dumps(storage))
    sys.path.insert(0, str(root / "catalog"))
    try:
        import build_catalog
    finally:
        sys.path.pop(0)
    with pytest.raises(build_catalog.CatalogError, match=r"storage\.createBucket: description is a near copy"):
        build_catalog.build_catalog(root / "catalog" / "appwrite-spec" / "open-api3-server.json", prose)


def test_scope_filter_and_read_only(catalog):
    list_rows, create_row = catalog.get("tablesDB.listRows"), catalog.get("tablesDB.createRow")
    assert allowed(list_rows, frozenset({"rows.read"}))
    assert allowed(list_rows, frozenset({"documents.read"}))  # either alternative scope is enough
    assert not allowed(create_row, frozenset({"rows.read"}))
    assert allowed(create_row, None)
    assert not allowed(create_row, None, read_only=True)
    # Appwrite gives every key global, health.read and graphql, and no key `public` (roles.php).
    assert allowed(catalog.get("health.getDB"), frozenset({"rows.read"}))
    assert allowed(catalog.get("graphql.query"), frozenset({"rows.read"}))
    runtimes = catalog.get("functions.listRuntimes")
    assert runtimes.scopes == ("public",) and not allowed(runtimes, frozenset({"functions.read"}))
    assert allowed(runtimes, None)


@pytest.mark.parametrize("operation", ["tablesDB.createIndex", "databases.createIndex"])
def test_index_orders_are_asc_or_desc_in_any_case(catalog, operation):
    """Appwrite matches index orders without regard to case (its spec lists only "asc" and "desc")."""
    validator = Draft202012Validator(catalog.get(operation).input_schema["properties"]["orders"])
    assert validator.is_valid(["ASC", "asc", "Desc", "DESC"])
    for wrong in (["up"], ["ascending"], ["as"], [None], [""], "ASC"):
        assert not validator.is_valid(wrong), wrong


def test_param_signature_marks_optional_parameters_and_shortens_enums(catalog):
    signature = param_signature(catalog.get("tablesDB.createIndex"))
    assert signature.startswith("databaseId: string, tableId: string, key: string, type: ")
    assert '"key"|"fulltext"|"unique"|"spatial"' in signature
    assert "orders?: string[]" in signature
    flags = param_signature(catalog.get("avatars.getFlag"))
    assert "…(+" in flags
    assert "file: file" in param_signature(catalog.get("storage.createFile"))


def test_rate_limits_follow_the_spec(catalog, spec):
    """Appwrite's limits for callers without a key: 50 routes have one; their keys are templates."""
    limited = {op.id: op.rate_limit for op in catalog.operations if op.rate_limit}
    assert limited["account.createEmailPasswordSession"] == {
        "limit": 10,
        "seconds": 3600,
        "keys": ["url:{url},email:{param-email}"],
    }
    assert limited["account.createRecovery"]["limit"] > 0
    assert "users.create" not in limited
    routes = {(op.http_method, op.path) for op in catalog.operations if op.rate_limit and op.since == "1.8"}
    in_spec = {
        (method.upper(), path)
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
        if operation.get("x-appwrite", {}).get("rate-limit")
    }
    assert routes == in_spec
    for limit in limited.values():
        assert limit["seconds"] > 0 and all(isinstance(key, str) and "{" in key for key in limit["keys"])
