"""The official Node SDK (node-appwrite, pinned in sdk_node/package.json) against `baas-mcp api`.

sdk_node/scenario.js runs the scenario and prints what it observed as JSON; the assertions are here. The SDK is
installed with `npm ci` from the committed lock file the first time (see node_packages.py).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.rest.node_packages import assert_pinned, install, installed_version, node_commands

SDK_DIR = Path(__file__).resolve().parent / "sdk_node"
SDK_VERSION = "22.1.3"
BIG = "9007199254740993"

EXPECTED = {
    "database": {"name": "Shop", "type": "tablesdb", "enabled": True},
    "databases.list": {"total": 1, "ours": True},
    "table": {
        "name": "products",
        "rowSecurity": True,
        "permissions": ['create("users")', 'read("any")'],
        "databaseId": True,
    },
    "columns.created": [
        ["name", "string", None, "available"],
        ["description", "string", None, "available"],
        ["price", "double", None, "available"],
        ["stock", "integer", None, "available"],
        ["active", "boolean", None, "available"],
        ["released", "datetime", "datetime", "available"],
        ["category", "string", "enum", "available"],
        ["contact", "string", "email", "available"],
        ["tags", "string", None, "available"],
        ["serial", "integer", None, "available"],
    ],
    "columns.list": {
        "total": 10,
        "keys": [
            "name",
            "description",
            "price",
            "stock",
            "active",
            "released",
            "category",
            "contact",
            "tags",
            "serial",
        ],
    },
    "columns.get": {"elements": ["book", "game", "tool"], "format": "enum"},
    "index.created": {"key": "by_price", "type": "key", "columns": ["price"], "orders": ["desc"]},
    "index.list": ["by_price", "text"],
    "index.get": {"type": "fulltext", "status": "available"},
    "rows.ids": {"distinct": 5, "lengths": [20]},
    "rows.get": {
        "tableId": True,
        "databaseId": True,
        "permissions": [],
        "data": [
            "Dune",
            9.5,
            10,
            True,
            "2020-01-15T10:00:00.000+00:00",
            "book",
            "dune@example.com",
            ["scifi", "classic"],
            None,
        ],
    },
    "queries": {
        "equal": ["Dune", "Neuromancer"],
        "notEqual": ["Chess", "Go", "Hammer"],
        "greaterThan": ["Chess", "Go", "Hammer"],
        "lessThanEqual": ["Chess", "Hammer", "Neuromancer"],
        "between": ["Go", "Hammer", "Neuromancer"],
        "startsWith": ["Neuromancer"],
        "endsWith": ["Hammer", "Neuromancer"],
        "search": ["Dune", "Neuromancer"],
        "isNull": ["Hammer"],
        "isNotNull": ["Chess", "Dune", "Neuromancer"],
        "contains": ["Dune", "Go"],
        "or": ["Dune", "Go"],
        "orderDesc": ["Chess", "Go", "Hammer", "Neuromancer", "Dune"],
        "limitOffset": ["Go", "Chess"],
    },
    "rows.total": [2, 5, 2, 0],
    "cursor": [["Dune", "Neuromancer"], ["Hammer", "Go"], ["Chess"]],
    "select": ["name", "price"],
    "update": [22.5, 1, 22.5],
    "update.permissions": ['read("guests")'],
    "upsert": [True, 2, 4, True],
    "increment": [4, 2],
    "bulk": {"created": 3, "updated": 2, "prices": [None, 1.5, 1.5], "deleted": 3, "left": 0},
    # json-bigint hands the SDK a native BigInt for an integer a double cannot hold.
    "bigint": {"createdType": "bigint", "created": BIG, "read": BIG, "found": [True]},
    "transaction": {
        "status": "pending",
        "before": {"code": 404, "type": "row_not_found"},
        "committed": "committed",
        "after": "Staged",
    },
    "guest.list": ["Chess", "Dune", "Go", "Hammer", "Neuromancer"],
    "guest.create": {"code": 401, "type": "user_unauthorized"},
    "error.rowNotFound": {"code": 404, "type": "row_not_found"},
    "error.duplicate": {"code": 409, "type": "row_already_exists"},
    "error.invalidStructure": {"code": 400, "type": "row_invalid_structure"},
    "error.unknownColumnQuery": {"code": 400, "type": "general_query_invalid"},
    "error.tableNotFound": {"code": 404, "type": "table_not_found"},
    "error.wrongKey": {"code": 401, "type": "user_unauthorized"},
    "error.wrongProject": {"code": 404, "type": "project_not_found"},
    "error.notImplemented": {"code": 405, "type": "general_not_implemented"},
    "narrow.read": "Go",
    "narrow.write": {"code": 401, "type": "general_unauthorized_scope"},
    "health": {"status": "pass", "db": ["pass"], "queue": 0},
    "delete.row": {"code": 404, "type": "row_not_found"},
    # A 204 answer has no JSON body; the SDK gives back its (empty) text.
    "delete.rowAnswer": {"message": ""},
    "delete.table": {"code": 404, "type": "table_not_found"},
    "delete.database": {"code": 404, "type": "database_not_found"},
}


@pytest.fixture(scope="module")
def scenario(api) -> dict:
    """scenario.js run once against the module's server: its exit code, stderr and the JSON it printed."""
    node, npm = node_commands()
    install(npm, SDK_DIR, {"node-appwrite": SDK_VERSION})
    env = os.environ | {"ENDPOINT": api.endpoint, "PROJECT": "default", "KEY": api.key, "NARROW_KEY": api.narrow_key}
    result = subprocess.run([node, "scenario.js"], cwd=SDK_DIR, capture_output=True, text=True, timeout=300, env=env)
    try:
        printed = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"scenario.js printed no JSON (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    return {"returncode": result.returncode, "stderr": result.stderr, **printed}


def test_node_and_npm_are_available():
    node_commands()


def test_the_sdk_is_pinned_in_the_manifest_and_the_lock_file():
    assert_pinned(SDK_DIR, {"node-appwrite": SDK_VERSION})


def test_the_scenario_completes_without_mismatches(scenario):
    assert scenario["mismatches"] == [], scenario["stderr"]
    assert scenario["returncode"] == 0, scenario["stderr"]
    assert installed_version(SDK_DIR, "node-appwrite") == SDK_VERSION


@pytest.mark.parametrize("label", list(EXPECTED))
def test_scenario_observation(scenario, label):
    assert label in scenario["checks"], f"the scenario stopped before {label!r}: {scenario['mismatches']}"
    assert scenario["checks"][label] == EXPECTED[label]


def test_the_scenario_checks_nothing_unexpected(scenario):
    """Every observation the script makes is asserted here too."""
    assert set(scenario["checks"]) == set(EXPECTED)
