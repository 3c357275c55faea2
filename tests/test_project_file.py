"""`baas-mcp pull | plan | push` on the embedded engine: round trips through appwrite.config.json, plans as
Terraform shows them, the refusal of destructive steps, and files that lie.

Every command runs as a subprocess on real data directories, with no terminal on standard input.
"""

from __future__ import annotations

import copy
import json
import os
import pty
import subprocess
from pathlib import Path

import pytest

from mcp_server.catalog import load_catalog
from mcp_server.project_file import plan as planning
from mcp_server.project_file.load import parse_schema
from mcp_server.project_file.schema import Schema
from tests.commands import COMMAND
from tests.project_files import FULL, project_file, succeeded, write

# The keys of a table as appwrite-cli writes them, in its order.
TABLE_ORDER = ["$id", "$permissions", "databaseId", "name", "enabled", "rowSecurity", "columns", "indexes"]


def pull(data_dir: Path, folder: Path, name: str = "pulled.json") -> dict:
    succeeded(project_file("pull", "--data-dir", str(data_dir), "--config", str(folder / name)))
    return json.loads((folder / name).read_text())


def plan(data_dir: Path, config: Path) -> list[dict]:
    return json.loads(succeeded(project_file("plan", "--data-dir", str(data_dir), "--config", str(config), "--json")))


def push(data_dir: Path, config: Path, *extra: str) -> subprocess.CompletedProcess:
    return project_file("push", "--data-dir", str(data_dir), "--config", str(config), *extra)


def call(data_dir: Path, operation: str, params: dict) -> dict:
    result = subprocess.run(
        [str(COMMAND), "call", operation, "--params", json.dumps(params), "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def column_of(document: dict, table: str, key: str) -> dict:
    found = next(entry for entry in document["tables"] if entry["$id"] == table)
    return next(column for column in found["columns"] if column["key"] == key)


@pytest.fixture(scope="module")
def pushed(tmp_path_factory) -> dict:
    """The full file pushed to one data dir, pulled, pushed to a fresh one and pulled again."""
    folder = tmp_path_factory.mktemp("files")
    first, second = folder / "first", folder / "second"
    config = write(folder, "appwrite.config.json", FULL)
    steps = {"push": push(first, config)}
    pulled = pull(first, folder, "first.json")
    steps["push pulled"] = push(second, folder / "first.json")
    return {
        "folder": folder,
        "first": first,
        "second": second,
        "config": config,
        "steps": steps,
        "pulled": pulled,
        "pulled again": pull(second, folder, "second.json"),
    }


def test_a_pushed_file_pulls_back_as_appwrite_cli_writes_it(pushed):
    succeeded(pushed["steps"]["push"])
    pulled = pushed["pulled"]
    assert list(pulled) == [
        "projectId", "settings", "functions", "sites", "tablesDB", "tables", "buckets", "teams", "webhooks",
        "platforms", "topics",
    ]  # fmt: skip
    # Every setting the file states, and the rest as a new project has them.
    settings = pulled["settings"]
    assert {key: settings["services"][key] for key in FULL["settings"]["services"]} == FULL["settings"]["services"]
    assert settings["services"]["databases"] is True and len(settings["services"]) > 10
    methods = settings["auth"]["methods"]
    assert {key: methods[key] for key in FULL["settings"]["auth"]["methods"]} == FULL["settings"]["auth"]["methods"]
    assert methods["email-password"] is True
    assert settings["auth"]["security"] == FULL["settings"]["auth"]["security"]
    assert pulled["tablesDB"] == FULL["tablesDB"]
    for name in ("buckets", "teams", "topics", "webhooks", "platforms"):
        assert pulled[name] == FULL[name], name
    assert {**pulled["functions"][0]} == FULL["functions"][0]
    assert pulled["sites"][0] == {**FULL["sites"][0], "adapter": "", "installCommand": "", "buildCommand": ""}
    for table in FULL["tables"]:
        got = next(entry for entry in pulled["tables"] if entry["$id"] == table["$id"])
        assert list(got) == TABLE_ORDER
        for wanted in table["columns"]:
            column = column_of(pulled, table["$id"], wanted["key"])
            assert {name: column.get(name) for name in wanted} == wanted
        assert [index["key"] for index in got["indexes"]] == [index["key"] for index in table["indexes"]]
    # The child side of the two-way relationship is written too, as appwrite-cli writes it.
    assert column_of(pulled, "makers", "products")["side"] == "child"


def test_engine_to_file_to_a_fresh_data_dir_to_file_is_identical(pushed):
    succeeded(pushed["steps"]["push pulled"])
    assert pushed["pulled again"] == pushed["pulled"]


def test_the_same_file_pushed_to_two_data_dirs_gives_identical_schemas(pushed, tmp_path):
    third = tmp_path / "third"
    succeeded(push(third, pushed["config"]))
    assert pull(third, tmp_path) == pushed["pulled"]
    tables = {"databaseId": "shop", "tableId": "products"}
    first = call(pushed["first"], "tablesDB.listColumns", tables)["columns"]
    again = call(third, "tablesDB.listColumns", tables)["columns"]
    moments = ("$createdAt", "$updatedAt")
    assert [{k: v for k, v in c.items() if k not in moments} for c in first] == [
        {k: v for k, v in c.items() if k not in moments} for c in again
    ]


def test_pushing_twice_changes_nothing(pushed):
    before = call(pushed["second"], "tablesDB.getTable", {"databaseId": "shop", "tableId": "products"})
    assert plan(pushed["second"], pushed["config"]) == []
    again = push(pushed["second"], pushed["config"])
    assert "No changes. The project matches the file." in succeeded(again)
    after = call(pushed["second"], "tablesDB.getTable", {"databaseId": "shop", "tableId": "products"})
    assert after == before


def changed_file(folder: Path, name: str, change) -> Path:
    document = copy.deepcopy(FULL)
    change(document)
    return write(folder, name, document)


def test_a_column_type_change_plans_a_recreate_with_data_loss_and_push_refuses_it(tmp_path):
    data = tmp_path / "data"
    succeeded(push(data, write(tmp_path, "full.json", FULL)))

    def retype(document: dict) -> None:
        column = column_of(document, "products", "stock")
        column.update(type="double", min=0.0, max=10.0, default=0.5)
        column_of(document, "products", "title")["required"] = False

    config = changed_file(tmp_path, "retyped.json", retype)
    actions = plan(data, config)
    recreate = next(action for action in actions if action["address"] == "shop/products/stock")
    assert recreate["action"] == "recreate"
    assert recreate["dataLoss"] == "the column's values in every row"
    assert {"key": "type", "from": "integer", "to": "double"} in recreate["changes"]
    # The index on the recreated column goes with it, and comes back.
    index = next(action for action in actions if action["address"] == "shop/products/by_price_stock")
    assert index["action"] == "recreate"
    text = succeeded(project_file("plan", "--data-dir", str(data), "--config", str(config)))
    assert "-/+ column shop/products/stock  (recreate)" in text
    assert "data loss: the column's values in every row" in text
    assert "Plan: 0 to create, 1 to update in place, 2 to recreate, 0 to delete." in text

    refused = push(data, config)
    assert refused.returncode == 1
    assert "--allow-destroy" in refused.stderr and "recreate column shop/products/stock" in refused.stderr
    # Nothing was applied, not even the change that needs no destruction.
    assert plan(data, config) == actions

    succeeded(push(data, config, "--allow-destroy"))
    assert plan(data, config) == []
    assert column_of(pull(data, tmp_path), "products", "stock")["type"] == "double"


def test_a_changeable_column_key_is_updated_in_place_and_rows_keep_their_values(tmp_path):
    data = tmp_path / "data"
    succeeded(push(data, write(tmp_path, "full.json", FULL)))
    row = {"title": "Dune", "price": 9.5, "stock": 7}
    call(data, "tablesDB.createRow", {"databaseId": "shop", "tableId": "products", "rowId": "dune", "data": row})

    def widen(document: dict) -> None:
        column_of(document, "products", "stock")["max"] = 5000000
        column_of(document, "products", "category")["elements"] = ["book", "game", "film"]

    config = changed_file(tmp_path, "widened.json", widen)
    actions = plan(data, config)
    assert [(action["action"], action["address"]) for action in actions] == [
        ("update", "shop/products/stock"),
        ("update", "shop/products/category"),
    ]
    assert actions[0]["changes"] == [{"key": "max", "from": 1000000, "to": 5000000}]
    assert "~ column shop/products/stock: updated in place" in succeeded(push(data, config))
    got = call(data, "tablesDB.getRow", {"databaseId": "shop", "tableId": "products", "rowId": "dune"})
    assert (got["title"], got["stock"]) == ("Dune", 7)
    assert plan(data, config) == []


def test_resources_missing_from_the_file_are_deleted_only_with_allow_destroy(tmp_path):
    data = tmp_path / "data"
    succeeded(push(data, write(tmp_path, "full.json", FULL)))

    def drop(document: dict) -> None:
        document["tables"] = [table for table in document["tables"] if table["$id"] != "notes"]
        document["teams"] = []
        del document["topics"]

    config = changed_file(tmp_path, "smaller.json", drop)
    actions = plan(data, config)
    # A section left out of the file is not managed by it: the topic stays.
    assert [(action["action"], action["resource"], action["address"]) for action in actions] == [
        ("delete", "table", "blog/notes"),
        ("delete", "team", "staff"),
    ]
    assert push(data, config).returncode == 1
    assert len(plan(data, config)) == 2
    applied = json.loads(succeeded(push(data, config, "--allow-destroy", "--json")))
    assert [action["address"] for action in applied] == ["blog/notes", "staff"]
    assert plan(data, config) == []
    assert call(data, "messaging.listTopics", {})["total"] == 1


def test_a_platform_is_updated_in_place_and_recreated_only_with_allow_destroy_when_its_type_changes(tmp_path):
    data = tmp_path / "data"
    succeeded(push(data, write(tmp_path, "full.json", FULL)))

    def rename(document: dict) -> None:
        document["platforms"][0].update(name="Shop", hostname="*.shop.example.com")

    renamed = changed_file(tmp_path, "renamed.json", rename)
    assert [(action["action"], action["address"]) for action in plan(data, renamed)] == [("update", "site")]
    succeeded(push(data, renamed))
    got = call(data, "project.getPlatform", {"platformId": "site"})
    assert (got["name"], got["hostname"]) == ("Shop", "*.shop.example.com")

    def to_android(document: dict) -> None:
        rename(document)
        document["platforms"][1] = {"$id": "ios", "name": "Shop app", "type": "android", "applicationId": "com.shop"}

    moved = changed_file(tmp_path, "android.json", to_android)
    actions = plan(data, moved)
    assert [(action["action"], action["resource"], action["address"]) for action in actions] == [
        ("recreate", "platform", "ios")
    ]
    assert push(data, moved).returncode == 1
    assert call(data, "project.getPlatform", {"platformId": "ios"})["type"] == "apple"
    succeeded(push(data, moved, "--allow-destroy"))
    got = call(data, "project.getPlatform", {"platformId": "ios"})
    assert (got["type"], got["applicationId"]) == ("android", "com.shop")
    assert plan(data, moved) == []


def test_settings_change_one_by_one_and_a_mock_number_goes_only_with_allow_destroy(tmp_path):
    data = tmp_path / "data"
    succeeded(push(data, write(tmp_path, "full.json", FULL)))

    def change(document: dict) -> None:
        document["settings"]["services"]["graphql"] = True
        security = document["settings"]["auth"]["security"]
        security.update(sessionsLimit=0, limit=50, mockNumbers=[{"phone": "+15550100002", "otp": "654321"}])

    config = changed_file(tmp_path, "changed.json", change)
    actions = plan(data, config)
    assert sorted((action["action"], action["resource"], action["address"]) for action in actions) == [
        ("create", "mock number", "+15550100002"),
        ("delete", "mock number", "+15550100001"),
        ("update", "auth security", "limit"),
        ("update", "auth security", "sessionsLimit"),
        ("update", "service", "graphql"),
    ]
    assert push(data, config).returncode == 1
    succeeded(push(data, config, "--allow-destroy"))
    assert plan(data, config) == []
    # 0 is "no limit" in the file, as appwrite-cli writes it; the policy holds no cap.
    assert call(data, "project.getPolicy", {"policyId": "session-limit"})["total"] == 0
    assert call(data, "project.getPolicy", {"policyId": "user-limit"})["total"] == 50
    numbers = call(data, "project.listMockPhones", {})["mockNumbers"]
    assert [(number["number"], number["otp"]) for number in numbers] == [("+15550100002", "654321")]
    services = {service["$id"]: service["enabled"] for service in call(data, "project.get", {})["services"]}
    assert services["graphql"] is True


def test_a_legacy_collections_file_gives_the_same_schema(tmp_path):
    """databases/collections/attributes (appwrite-cli's legacy words) state the same tables as tablesDB/tables."""
    legacy = {
        "projectId": "default",
        "databases": [{"$id": "blog", "name": "Blog", "enabled": True}],
        "collections": [
            {
                "$id": "posts",
                "$permissions": [],
                "databaseId": "blog",
                "name": "Posts",
                "enabled": True,
                "documentSecurity": True,
                "attributes": [
                    {"key": "title", "type": "string", "required": True, "array": False, "size": 64},
                    {
                        "key": "author",
                        "type": "relationship",
                        "relatedCollection": "authors",
                        "relationType": "manyToOne",
                        "twoWay": False,
                        "twoWayKey": "posts",
                        "onDelete": "restrict",
                        "side": "parent",
                    },
                ],
                "indexes": [{"key": "by_title", "type": "key", "attributes": ["title"], "orders": ["ASC"]}],
            },
            {
                "$id": "authors",
                "$permissions": [],
                "databaseId": "blog",
                "name": "Authors",
                "enabled": True,
                "documentSecurity": False,
                "attributes": [],
                "indexes": [],
            },
        ],
    }
    data = tmp_path / "data"
    succeeded(push(data, write(tmp_path, "legacy.json", legacy)))
    pulled = pull(data, tmp_path)
    posts = next(table for table in pulled["tables"] if table["$id"] == "posts")
    assert posts["rowSecurity"] is True
    assert column_of(pulled, "posts", "author")["relatedTable"] == "authors"
    assert posts["indexes"][0]["columns"] == ["title"]
    assert plan(data, tmp_path / "pulled.json") == []


def bad(tmp_path: Path, document: object, *extra: str) -> subprocess.CompletedProcess:
    data = tmp_path / "data"
    result = push(data, write(tmp_path, "bad.json", document), *extra)
    assert result.returncode == 2, result.stdout + result.stderr
    # Nothing was applied: the project is still as a new one.
    assert pull(data, tmp_path) == pull(tmp_path / "new", tmp_path, "new.json")
    return result


MOCK_NUMBER = {"phone": "+15550100001", "otp": "123456"}
SAME_PHONE_TWICE = [MOCK_NUMBER, {**MOCK_NUMBER, "otp": "654321"}]


def with_column(column: dict) -> dict:
    document = copy.deepcopy(FULL)
    document["tables"][0]["columns"][1] = column
    return document


@pytest.mark.parametrize(
    ("document", "where", "said"),
    [
        ('{"tablesDB": [', "bad.json: not valid JSON", "line 1 column"),
        ('{"tablesDB": [NaN]}', "bad.json: not valid JSON", "NaN is no JSON number"),
        ("[1, 2]", "bad.json: the file must hold a JSON object", ""),
        ('{"tables": {"a": 1}}', "tables: must be a list", "got an object"),
        (with_column({"key": "price", "type": "money"}), "tables[0].columns[1].type", 'unknown column type "money"'),
        (
            with_column({"key": "price", "type": "string", "format": "phone", "size": 3, "required": False}),
            "tables[0].columns[1].format",
            'unknown string format "phone"',
        ),
        (
            with_column({"key": "price", "type": "string", "size": "big", "required": False}),
            "tables[0].columns[1].size",
            'must be a whole number; got string "big"',
        ),
        (
            with_column({"key": "-price", "type": "double", "required": False}),
            "tables[0].columns[1].key",
            "must be up to 36 characters",
        ),
        (with_column({"key": "price", "type": "double"}), "tables[0].columns[1].required", "missing"),
        (
            with_column({"key": "price", "type": "double", "required": True, "default": 2.5}),
            "tables[0].columns[1].default",
            "a required column takes no default",
        ),
        (
            with_column({"key": "price", "type": "double", "required": False, "array": True, "default": 2.5}),
            "tables[0].columns[1].default",
            "an array column takes no default",
        ),
        (
            with_column({"key": "price", "type": "integer", "required": False, "min": 5, "max": 1}),
            "tables[0].columns[1].min",
            "5 is more than max 1",
        ),
        (
            with_column({"key": "price", "type": "integer", "required": False, "min": 0, "max": 9, "default": 10}),
            "tables[0].columns[1].default",
            "10 is outside min 0 to max 9",
        ),
        (
            with_column(
                {
                    "key": "price",
                    "type": "string",
                    "format": "enum",
                    "elements": ["a"],
                    "required": False,
                    "default": "b",
                }
            ),
            "tables[0].columns[1].default",
            '"b" is none of the elements',
        ),
        ({**FULL, "buckets": [{"$id": "x" * 37, "name": "Long"}]}, "buckets[0].$id", "must be up to 36 characters"),
        ({**FULL, "teams": [{"$id": "a"}, {"$id": "a", "name": "A"}]}, "teams[0].name", "missing"),
        ({**FULL, "teams": [{"$id": "a", "name": "A"}, {"$id": "a", "name": "A"}]}, "teams[1].$id", "given twice"),
        (
            {**FULL, "platforms": [{"$id": "p", "name": "P", "type": "ios", "bundleIdentifier": "a.b"}]},
            "platforms[0].type",
            'unknown platform type "ios"; one of web, apple, android, windows, linux',
        ),
        (
            {**FULL, "platforms": [{"$id": "p", "name": "P", "type": "web", "bundleIdentifier": "a.b"}]},
            "platforms[0].bundleIdentifier",
            "a platform of type web takes no bundleIdentifier",
        ),
        (
            {**FULL, "platforms": [{"$id": "p", "name": "P", "type": "apple"}]},
            "platforms[0].bundleIdentifier",
            "a platform of type apple needs its bundleIdentifier",
        ),
        (
            {**FULL, "platforms": [{"$id": "p", "name": "P", "type": "web", "hostname": "https://a.com/"}]},
            "platforms[0].hostname",
            "",
        ),
        (
            {**FULL, "settings": {"services": {"grapql": False}}},
            "settings.services.grapql",
            "unknown key; one of account, avatars",
        ),
        ({**FULL, "settings": {"services": {"graphql": "off"}}}, "settings.services.graphql", "must be true or false"),
        ({**FULL, "settings": {"auth": {"methods": {"phone": 0}}}}, "settings.auth.methods.phone", "true or false"),
        ({**FULL, "settings": {"auth": {"security": {"duration": 1}}}}, "settings.auth.security.duration", "between"),
        ({**FULL, "settings": {"auth": {"security": {"limit": -1}}}}, "settings.auth.security.limit", "between"),
        (
            {**FULL, "settings": {"auth": {"security": {"sessionAlert": True}}}},
            "settings.auth.security.sessionAlert",
            "unknown key",
        ),
        (
            {**FULL, "settings": {"auth": {"security": {"mockNumbers": [{"phone": "555", "otp": "123456"}]}}}},
            "settings.auth.security.mockNumbers[0]",
            "number",
        ),
        (
            {**FULL, "settings": {"auth": {"security": {"mockNumbers": [{"phone": "+15550100001"}]}}}},
            "settings.auth.security.mockNumbers[0].otp",
            "missing",
        ),
        (
            {**FULL, "settings": {"auth": {"security": {"mockNumbers": SAME_PHONE_TWICE}}}},
            "settings.auth.security.mockNumbers[1].phone",
            "given twice",
        ),
        ({**FULL, "settings": []}, "settings", "must be an object"),
        (
            {**FULL, "tables": [{**FULL["tables"][0], "databaseId": "nowhere"}]},
            "tables[0].databaseId",
            '"nowhere" is no database',
        ),
        (
            {**FULL, "tables": [FULL["tables"][0]]},
            "tables[0].columns[11].relatedTable",
            '"makers" is no table of database "shop"',
        ),
        (
            {**FULL, "tables": [{**FULL["tables"][1], "indexes": [{"key": "i", "type": "key", "columns": ["nope"]}]}]},
            "tables[0].indexes[0].columns[0]",
            '"nope" is no column of the table',
        ),
        (
            {**FULL, "tables": [{**FULL["tables"][1], "indexes": [{"key": "i", "type": "tree", "columns": ["name"]}]}]},
            "tables[0].indexes[0].type",
            "must be one of",
        ),
    ],
)
def test_a_file_that_lies_is_refused_naming_the_key_path_and_nothing_is_applied(tmp_path, document, where, said):
    result = bad(tmp_path, document)
    assert where in result.stderr and said in result.stderr, result.stderr


LEGACY = {
    "databases": [{"$id": "blog", "name": "Blog"}],
    "collections": [
        {"$id": "posts", "databaseId": "blog", "name": "Posts", "attributes": [
            {"key": "title", "type": "string", "size": 9, "required": True},
            {"key": "author", "type": "relationship", "relatedCollection": "people", "relationType": "manyToOne"},
        ]},
    ],
}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "where", "said"),
    [
        (lambda attributes: attributes[0].update(type="strnig"), "collections[0].attributes[0].type", "unknown"),
        (lambda attributes: None, "collections[0].attributes[1].relatedCollection", '"people" is no table'),
    ],
)
def test_a_legacy_collection_that_lies_is_refused_in_its_own_words(tmp_path, change, where, said):
    document = copy.deepcopy(LEGACY)
    change(document["collections"][0]["attributes"])
    result = bad(tmp_path, document)
    assert where in result.stderr and said in result.stderr, result.stderr


def test_a_refused_file_is_an_appwrite_shaped_error_with_json(tmp_path):
    result = bad(tmp_path, with_column({"key": "price", "type": "money"}), "--json")
    error = json.loads(result.stdout)
    assert error["type"] == "general_argument_invalid" and error["code"] == 400
    assert "tables[0].columns[1].type" in error["message"]


def test_an_oversized_file_is_refused_before_it_is_parsed(tmp_path):
    result = bad(tmp_path, '{"tables": [' + " " * (17 * 1024 * 1024) + "]}")
    assert "larger than 16 MiB" in result.stderr


def test_pushing_to_a_server_leaves_no_data_dir_behind(tmp_path):
    """--endpoint needs no local data: an unreachable server is an error, and no ./.baas is made."""
    write(tmp_path, "appwrite.config.json", {"projectId": "p", "teams": [{"$id": "t", "name": "T"}]})
    target = ["--endpoint", "http://127.0.0.1:9/v1", "--project", "p", "--api-key", "k", "--json"]
    result = project_file("push", *target, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    error = json.loads(result.stdout)
    assert (error["type"], error["code"]) == ("general_server_error", 503)
    assert "cannot reach http://127.0.0.1:9/v1" in error["message"]
    assert not (tmp_path / ".baas").exists()


def test_push_on_a_terminal_asks_and_applies_only_on_yes(tmp_path):
    config = write(tmp_path, "appwrite.config.json", {"projectId": "default", "teams": [{"$id": "t", "name": "T"}]})
    data = tmp_path / "data"
    for answer, code in ((b"no\n", 1), (b"yes\n", 0)):
        leader, follower = pty.openpty()
        try:
            process = subprocess.Popen(
                [str(COMMAND), "push", "--data-dir", str(data), "--config", str(config)],
                stdin=follower,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            os.write(leader, answer)
            out, err = process.communicate(timeout=60)
        finally:
            os.close(leader)
            os.close(follower)
        assert process.returncode == code, out + err
    assert plan(data, config) == []


@pytest.mark.parametrize(("encrypt", "planned"), [(False, []), (True, [("recreate", "shop/products/title")])])
def test_a_key_an_older_server_does_not_report_matches_a_file_that_leaves_it_unset(encrypt, planned):
    """An Appwrite server whose column model lacks `encrypt`: the file's encrypt false is no change, true is one."""
    catalog = load_catalog()
    title = {"key": "title", "type": "string", "required": True, "array": False, "size": 128, "default": None}
    table = {"$id": "products", "databaseId": "shop", "name": "P", "columns": [title], "indexes": []}
    database = {"$id": "shop", "name": "Shop", "enabled": True}
    found = Schema({"shop": database}, {("shop", "products"): table}, managed=frozenset({"tablesDB", "tables"}))
    file_table = {**table, "columns": [{**title, "encrypt": encrypt}]}
    wanted = parse_schema({"tablesDB": [database], "tables": [file_table]}, catalog)
    assert [(action.action, action.address) for action in planning.plan(wanted, found, catalog)] == planned
