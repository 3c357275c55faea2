"""`baas-mcp pull | plan | push --endpoint` against `baas-mcp api` in a subprocess (standing in for an Appwrite
server: the HTTP backend's path), side by side with the official appwrite-cli (pinned in cli_node/).

One way round, appwrite-cli pushes its file and both tools pull it: their files must agree for every key both write.
The other way round, `baas-mcp push --endpoint` applies a file, `plan` then finds nothing to do, and appwrite-cli
pulls exactly what the file states.
"""

from __future__ import annotations

import copy
import json

import pytest

from tests.commands import create_key
from tests.project_files import FULL, NOTES, project_file, succeeded, write
from tests.rest.test_appwrite_cli import CONFIG, appwrite  # noqa: F401 (a fixture: the appwrite-cli runner)

SCOPES = (
    "databases.read databases.write tables.read tables.write columns.read columns.write indexes.read indexes.write "
    "collections.read collections.write attributes.read attributes.write buckets.read buckets.write teams.read "
    "teams.write topics.read topics.write"
).replace(" ", ",")


@pytest.fixture(scope="module")
def journey(api, appwrite, tmp_path_factory) -> dict:  # noqa: F811
    folder = tmp_path_factory.mktemp("baas")
    key = create_key(api.data_dir, SCOPES)["secret"]
    target = ["--endpoint", api.endpoint, "--project", "default", "--api-key", key]
    steps = {"client": appwrite("client", "--endpoint", api.endpoint, "--project-id", "default", "--key", key)}
    cli_file = appwrite.project / "appwrite.config.json"
    cli_file.write_text(json.dumps(CONFIG, indent=4))
    steps["cli push"] = appwrite("push", "all", "--force")
    steps["pull"] = project_file("pull", *target, "--config", str(folder / "ours.json"))
    for part in ("tables", "buckets"):
        steps[f"cli pull {part}"] = appwrite("pull", part, "--all")
    theirs = json.loads(cli_file.read_text())
    ours = json.loads((folder / "ours.json").read_text()) if steps["pull"].returncode == 0 else {}

    # The other way: our file, grown by a database, a table, a team and a topic, pushed over HTTP.
    grown = copy.deepcopy(ours)
    grown["tablesDB"] = [*grown.get("tablesDB", []), {"$id": "blog", "name": "Blog", "enabled": True}]
    grown["tables"] = [*grown.get("tables", []), NOTES]
    grown.update(teams=FULL["teams"], topics=FULL["topics"])
    config = write(folder, "grown.json", grown)
    steps["push"] = project_file("push", *target, "--config", str(config))
    steps["plan"] = project_file("plan", *target, "--config", str(config), "--json")
    functions = write(folder, "functions.json", {**grown, "functions": FULL["functions"]})
    steps["plan functions"] = project_file("plan", *target, "--config", str(functions), "--json")
    for part in ("tables", "teams", "topics"):
        steps[f"cli pull {part} again"] = appwrite("pull", part, "--all")
    return {"steps": steps, "ours": ours, "theirs": theirs, "grown": grown, "pulled": json.loads(cli_file.read_text())}


def step(journey: dict, name: str) -> str:
    """What a step printed; it must have succeeded."""
    return succeeded(journey["steps"][name])


def by_id(entries: list[dict]) -> dict[str, dict]:
    return {entry["$id"]: entry for entry in entries}


def test_a_file_pushed_by_appwrite_cli_pulls_with_baas_mcp_as_appwrite_cli_pulls_it(journey):
    for name in ("client", "cli push", "pull", "cli pull tables", "cli pull buckets"):
        step(journey, name)
    ours, theirs = journey["ours"], journey["theirs"]
    assert ours["tablesDB"] == theirs["tablesDB"]
    assert by_id(ours["tables"]) == by_id(theirs["tables"])
    assert ours["buckets"] == theirs["buckets"]


def test_push_over_http_applies_the_file_and_plan_then_finds_nothing(journey):
    printed = step(journey, "push")
    assert "+ table blog/notes: created" in printed and "+ team staff: created" in printed
    assert "Push complete." in printed
    assert json.loads(step(journey, "plan")) == []


def test_appwrite_cli_pulls_what_baas_mcp_pushed(journey):
    for name in ("cli pull tables again", "cli pull teams again", "cli pull topics again"):
        step(journey, name)
    pulled, grown = journey["pulled"], journey["grown"]
    tables = by_id(pulled["tables"])
    notes = tables["notes"]
    for name in ("$permissions", "databaseId", "name", "enabled", "rowSecurity"):
        assert notes[name] == NOTES[name], name
    columns = {column["key"]: column for column in notes["columns"]}
    for wanted in NOTES["columns"]:
        assert {name: columns[wanted["key"]].get(name) for name in wanted} == wanted
    assert [(index["key"], index["columns"]) for index in notes["indexes"]] == [("by_code", ["code"])]
    assert pulled["teams"] == grown["teams"]
    assert pulled["topics"] == grown["topics"]


def test_a_pull_leaves_out_what_the_key_may_not_read_and_says_so(journey):
    """The key has no functions, sites or webhooks scopes: those sections are left as the file had them."""
    said = journey["steps"]["pull"].stderr
    for name in ("functions", "sites", "webhooks"):
        assert f"baas-mcp pull: {name} left as the file had it: " in said
    assert "functions.list needs the scope functions.read" in said
    assert not {"functions", "sites", "webhooks"} & set(journey["ours"])


def test_a_plan_of_a_section_the_key_may_not_read_is_an_appwrite_error(journey):
    result = journey["steps"]["plan functions"]
    assert result.returncode == 1
    error = json.loads(result.stdout)
    assert (error["type"], error["code"]) == ("general_unauthorized_scope", 401)
    assert "functions.read" in error["message"]
    assert "Traceback" not in result.stderr
