"""The official command-line client (appwrite-cli, pinned in cli_node/package.json) against `baas-mcp api`.

The CLI is set up without prompts (`appwrite client --endpoint --project-id --key`, with HOME in a temporary folder so
no user's configuration is read or written), pushes an appwrite.config.json (a database, two related tables with
columns of several types and indexes, a bucket), pulls it back, and pushes the pulled file again: the second push must
find nothing to change, and the project's schema must read back exactly as before, `$updatedAt` included. The CLI is
installed with `npm ci` from the committed lock file the first time (see node_packages.py).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.rest.node_packages import assert_pinned, install, installed_version, node_commands

CLI_DIR = Path(__file__).resolve().parent / "cli_node"
# The newest appwrite-cli made for Appwrite server 1.8.x that the npm registry serves.
CLI_VERSION = "12.0.1"
CLI_TIMEOUT = 120


def column(key: str, kind: str, **settings) -> dict:
    return {"key": key, "type": kind, "required": False, "array": False, "default": None, **settings}


def index(key: str, kind: str, columns: list[str], orders: list[str] | None = None) -> dict:
    made = {"key": key, "type": kind, "status": "available", "columns": columns}
    return made if orders is None else {**made, "orders": orders}


PRODUCTS = {
    "$id": "products",
    "$permissions": ['read("any")', 'create("users")'],
    "databaseId": "shop",
    "name": "Products",
    "enabled": True,
    "rowSecurity": False,
    "columns": [
        column("title", "string", required=True, size=128, encrypt=False),
        column("price", "double", min=0, max=10000, default=1.5),
        column("stock", "integer", min=0, max=1000000, default=0),
        column("active", "boolean", default=True),
        column("released", "datetime", format="datetime"),
        column("category", "string", format="enum", elements=["book", "game"], default="book"),
        column("contact", "string", format="email"),
        column("homepage", "string", format="url", default="https://example.com"),
        column("origin", "string", format="ip"),
        column("tags", "string", array=True, size=32, encrypt=False),
        column("location", "point"),
        column(
            "maker",
            "relationship",
            relatedTable="makers",
            relationType="manyToOne",
            twoWay=True,
            twoWayKey="products",
            onDelete="setNull",
            side="parent",
        ),
    ],
    "indexes": [
        index("by_title", "key", ["title"], ["ASC"]),
        index("by_price_stock", "key", ["price", "stock"], ["DESC", "asc"]),
        index("unique_contact", "unique", ["contact"], []),
        index("title_search", "fulltext", ["title"]),
    ],
}
MAKERS = {
    "$id": "makers",
    "$permissions": [],
    "databaseId": "shop",
    "name": "Makers",
    "enabled": True,
    "rowSecurity": True,
    "columns": [column("name", "string", required=True, size=64)],
    "indexes": [index("by_name", "unique", ["name"], ["desc"])],
}
IMAGES = {
    "$id": "images",
    "$permissions": ['read("any")'],
    "fileSecurity": False,
    "name": "Images",
    "enabled": True,
    "maximumFileSize": 5000000,
    "allowedFileExtensions": ["png", "jpg"],
    "compression": "gzip",
    "encryption": True,
    "antivirus": True,
}
CONFIG = {
    "projectId": "default",
    "tablesDB": [{"$id": "shop", "name": "Shop", "enabled": True}],
    "tables": [PRODUCTS, MAKERS],
    "buckets": [IMAGES],
}
# What the CLI asks before it applies a change; with no terminal to answer, asking ends the command.
CONFIRMATION = "Are you sure you want to apply these changes?"


def snapshot(endpoint: str, headers: dict) -> dict:
    """Every list answer that describes the project's schema and buckets, as the server gives it."""
    with httpx.Client(base_url=endpoint, headers=headers, timeout=60) as client:

        def get(path: str) -> dict:
            response = client.get(path)
            assert response.status_code == 200, response.text
            return response.json()

        answers = {"/tablesdb": get("/tablesdb"), "/storage/buckets": get("/storage/buckets")}
        for database in answers["/tablesdb"]["databases"]:
            tables = f"/tablesdb/{database['$id']}/tables"
            answers[tables] = get(tables)
            for table in answers[tables]["tables"]:
                for part in ("columns", "indexes"):
                    answers[f"{tables}/{table['$id']}/{part}"] = get(f"{tables}/{table['$id']}/{part}")
        return answers


@pytest.fixture(scope="module")
def appwrite(tmp_path_factory) -> Callable[..., subprocess.CompletedProcess]:
    """Runs `appwrite ARGS` in a project folder of its own, with a HOME of its own and no terminal."""
    node, npm = node_commands()
    install(npm, CLI_DIR, {"appwrite-cli": CLI_VERSION})
    folder = tmp_path_factory.mktemp("cli")
    (folder / "home").mkdir()
    (folder / "project").mkdir()
    env = os.environ | {"HOME": str(folder / "home"), "FORCE_COLOR": "0", "NO_COLOR": "1"}
    entry = CLI_DIR / "node_modules" / "appwrite-cli" / "index.js"

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [node, str(entry), *args],
            cwd=folder / "project",
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
        )

    run.home = folder / "home"
    run.project = folder / "project"
    return run


@pytest.fixture(scope="module")
def round_trip(api, appwrite) -> dict:
    """client, push, pull and push again, each step's result, the files and the server's answers between them."""
    steps = {"client": appwrite("client", "--endpoint", api.endpoint, "--project-id", "default", "--key", api.key)}
    config_file = appwrite.project / "appwrite.config.json"
    config_file.write_text(json.dumps(CONFIG, indent=4))
    steps["push"] = appwrite("push", "all", "--force")
    pushed = snapshot(api.endpoint, api.headers())
    steps["pull tables"] = appwrite("pull", "tables", "--all")
    steps["pull buckets"] = appwrite("pull", "buckets", "--all")
    pulled = json.loads(config_file.read_text())
    # Without --force: the CLI would ask before applying any change it found.
    steps["push again"] = appwrite("push", "all")
    return {"steps": steps, "pushed": pushed, "pulled": pulled, "after": snapshot(api.endpoint, api.headers())}


def step(round_trip: dict, name: str) -> str:
    """What a step printed; it must have succeeded."""
    result = round_trip["steps"][name]
    assert result.returncode == 0, f"`appwrite {name}` failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def by_key(items: list[dict]) -> dict[str, dict]:
    return {item["key"]: item for item in items}


def test_the_cli_is_pinned_in_the_manifest_and_the_lock_file():
    assert_pinned(CLI_DIR, {"appwrite-cli": CLI_VERSION})


def test_the_cli_is_configured_against_the_endpoint(api, appwrite, round_trip):
    """`appwrite client --endpoint` checks the endpoint with GET /v1/health/version (project `console`, no key)."""
    step(round_trip, "client")
    assert installed_version(CLI_DIR, "appwrite-cli") == CLI_VERSION
    prefs = json.loads((appwrite.home / ".appwrite" / "prefs.json").read_text())
    session = prefs[prefs["current"]]
    assert (session["endpoint"], session["key"]) == (api.endpoint, api.key)


def test_the_push_creates_the_database_tables_indexes_and_bucket(round_trip):
    step(round_trip, "push")
    pushed = round_trip["pushed"]
    assert [database["$id"] for database in pushed["/tablesdb"]["databases"]] == ["shop"]
    tables = "/tablesdb/shop/tables"
    assert sorted(table["$id"] for table in pushed[tables]["tables"]) == ["makers", "products"]
    for table in (PRODUCTS, MAKERS):
        columns = by_key(pushed[f"{tables}/{table['$id']}/columns"]["columns"])
        for wanted in table["columns"]:
            assert (columns[wanted["key"]]["type"], columns[wanted["key"]]["status"]) == (wanted["type"], "available")
        indexes = by_key(pushed[f"{tables}/{table['$id']}/indexes"]["indexes"])
        # Orders read back as they were written, in any case; an index given none has none.
        assert {key: made["orders"] for key, made in indexes.items()} == {
            wanted["key"]: wanted.get("orders", []) for wanted in table["indexes"]
        }
    assert [bucket["$id"] for bucket in pushed["/storage/buckets"]["buckets"]] == ["images"]


def test_the_pull_gives_back_what_was_pushed(round_trip):
    step(round_trip, "pull tables")
    step(round_trip, "pull buckets")
    pulled = round_trip["pulled"]
    assert pulled["tablesDB"] == CONFIG["tablesDB"]
    tables = {table["$id"]: table for table in pulled["tables"]}
    for table in (PRODUCTS, MAKERS):
        got = tables[table["$id"]]
        for name in ("$permissions", "databaseId", "name", "enabled", "rowSecurity"):
            assert got[name] == table[name], name
        columns = by_key(got["columns"])
        for wanted in table["columns"]:
            assert {name: columns[wanted["key"]].get(name) for name in wanted} == wanted
        assert got["indexes"] == [{**wanted, "orders": wanted.get("orders", [])} for wanted in table["indexes"]]
    # The other side of the two-way relationship comes back too.
    assert by_key(tables["makers"]["columns"])["products"]["side"] == "child"
    assert pulled["buckets"] == [IMAGES]


def test_pushing_the_pulled_file_changes_nothing(round_trip):
    printed = step(round_trip, "push again")
    assert CONFIRMATION not in printed
    assert "No changes found in tablesDB resource" in printed
    assert "Successfully pushed 0 tables" in printed
    assert round_trip["after"] == round_trip["pushed"]
