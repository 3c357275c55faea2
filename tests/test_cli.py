"""The `baas-mcp` command as a user runs it: a real subprocess, its stdout, stderr and exit code."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from mcp_server.catalog import load_catalog
from mcp_server.engine import Engine
from mcp_server.engine.keys import SCOPES as KEY_CHOICES
from tests.commands import ServeProcess, create_key, start_api_server

COMMAND = Path(sys.executable).with_name("baas-mcp")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(COMMAND), *args], capture_output=True, text=True, timeout=60)


def test_the_console_script_is_installed():
    assert COMMAND.exists(), "install the package (pip install .) to get the baas-mcp command"


def test_search_json_puts_create_file_first_for_an_upload():
    result = run("search", "upload a file to a bucket", "--json")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert hits[0]["id"] == "storage.createFile"
    assert len(hits) == 5
    for hit in hits:
        assert {"id", "summary", "access", "params"} <= set(hit)
    assert hits[0]["params"].startswith("bucketId: string, fileId: string, file: file")


@pytest.mark.parametrize(
    ("query", "first"),
    [("create a webhook", "webhooks.create"), ("add an allowed web origin", "project.createWebPlatform")],
)
def test_search_finds_what_appwrite_1_9_added(query: str, first: str):
    result = run("search", query, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["id"] == first


def test_search_limit_and_service():
    result = run("search", "team membership", "--limit", "3", "--service", "teams", "--json")
    hits = json.loads(result.stdout)
    assert len(hits) == 3
    assert {hit["id"].split(".")[0] for hit in hits} == {"teams"}


def test_search_text_output_lists_ranked_hits_with_signatures():
    result = run("search", "list users", "--limit", "2")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("1. users.list  [read]")
    assert "queries?: string[]" in result.stdout


def test_search_marks_deprecated_hits():
    hits = json.loads(run("search", "databases.createDocument", "--json").stdout)
    legacy = next(hit for hit in hits if hit["id"] == "databases.createDocument")
    assert legacy["deprecated"] == "use tablesDB.createRow"


def test_search_with_a_key_offers_only_what_that_key_may_run(tmp_path: Path):
    catalog = load_catalog()
    narrow = create_key(tmp_path, "rows.read")["secret"]
    every = create_key(tmp_path, ",".join(sorted(KEY_CHOICES)))["secret"]

    def found(query: str, *key: str) -> list[str]:
        result = run("search", query, "--json", *key, "--data-dir", str(tmp_path))
        assert result.returncode == 0, result.stderr
        return [hit["id"] for hit in json.loads(result.stdout)]

    for query in ("read rows", "list rows in a table", "what is in the orders table"):
        hits = found(query, "--key", narrow)
        assert hits[0] == "tablesDB.listRows", query
        assert all("rows.read" in catalog.get(op_id).scopes for op_id in hits), (query, hits)
    assert found("health check", "--key", narrow)[0].startswith("health.")
    for query in ("verify email", "accept a team invitation"):
        user_only = [op_id for op_id in found(query, "--key", every) if set(catalog.get(op_id).scopes) <= {"public"}]
        assert user_only == [], query
    assert "account.updateEmailVerification" in found("verify email")


def test_describe_json_shows_the_full_parameter_schema():
    result = run("describe", "tablesDB.createRow", "--json")
    assert result.returncode == 0, result.stderr
    entry = json.loads(result.stdout)
    assert entry["id"] == "tablesDB.createRow"
    assert entry["http"] == {"method": "POST", "path": "/tablesdb/{databaseId}/tables/{tableId}/rows"}
    schema = entry["input_schema"]
    assert schema["required"] == ["databaseId", "tableId", "rowId", "data"]
    assert schema["properties"]["permissions"]["type"] == ["array", "null"]
    assert entry["params"]["databaseId"] == "path" and entry["params"]["data"] == "body"


def test_describe_text_output():
    result = run("describe", "storage.createFile")
    assert result.returncode == 0
    assert result.stdout.startswith("storage.createFile — ")
    assert "POST /storage/buckets/{bucketId}/files" in result.stdout
    assert "file: file  (form, required)" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("search", ""), "query is empty"),
        (("search", "a" * 10_240), "query is 10240 characters long; the limit is 1000"),
        (("search", "list\x07users"), "control character (U+0007) at position 4"),
        (("search", "list users", "--service", "storag"), "unknown service 'storag'; did you mean storage"),
        (("search", "list users", "--limit", "0"), "expected a whole number from 1 to 100, got 0"),
        (("describe", "tablesDB.createRw"), "did you mean tablesDB.createRow"),
        (("describe", "nothing"), "unknown operation 'nothing'"),
        (("search",), "the following arguments are required: query"),
        (("serve-forever",), "invalid choice"),
        (
            ("serve", "--allow-private-urls", "--endpoint", "http://127.0.0.1:9", "--api-key", "k", "--project", "p"),
            "--allow-private-urls applies only to the embedded engine, not with --endpoint",
        ),
        (
            (
                "serve",
                "--events-max-count",
                "9",
                "--endpoint",
                "http://127.0.0.1:9",
                "--api-key",
                "k",
                "--project",
                "p",
            ),
            "--events-max-count applies only to the embedded engine, not with --endpoint",
        ),
        (("api", "--events-max-count", "0"), "expected a whole number from 1 to 10,000,000, got 0"),
        (("api", "--events-max-age", "-1"), "expected a number of days above 0 (at most 3650), got -1"),
        (("api", "--events-max-age", "nan"), "expected a number of days above 0 (at most 3650), got nan"),
        (("events", "--after", "x"), "expected an event's sequence number (0 or more), got 'x'"),
        (("events", "--last", "3", "--after", "1"), "--last and --after both say where to start"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(args, message):
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_errors_are_json_too_when_json_was_asked_for():
    result = run("describe", "users.lst", "--json")
    assert result.returncode == 2
    error = json.loads(result.stdout)
    assert error["type"] == "general_argument_invalid" and "users.list" in error["message"]


def test_module_entry_point_works_like_the_script():
    result = subprocess.run(
        [sys.executable, "-m", "mcp_server", "search", "create team", "--limit", "1", "--json"],
        capture_output=True,
        text=True,
    )
    assert json.loads(result.stdout)[0]["id"] == "teams.create"


def call_cli(tmp_path, *args: str, env: dict | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(COMMAND), "call", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        input=stdin,
        env={**os.environ, **(env or {})},
    )


def test_call_runs_operations_on_the_embedded_backend(tmp_path):
    data = ["--data-dir", str(tmp_path / "data")]
    made = call_cli(tmp_path, "tablesDB.create", "--params", '{"databaseId": "main", "name": "Main"}', *data)
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["type"] == "tablesdb"
    table = {
        "databaseId": "main",
        "tableId": "todos",
        "name": "Todos",
        "columns": [{"key": "title", "type": "varchar", "size": 50, "required": True}],
    }
    (tmp_path / "table.json").write_text(json.dumps(table))
    assert call_cli(tmp_path, "tablesDB.createTable", "--params", "@table.json", *data).returncode == 0
    row = '{"databaseId": "main", "tableId": "todos", "rowId": "t1", "data": {"title": "Ship it"}}'
    created = call_cli(tmp_path, "tablesDB.createRow", "--params", "-", *data, stdin=row)
    assert json.loads(created.stdout)["title"] == "Ship it"
    listed = call_cli(tmp_path, "tablesDB.listRows", "--params", '{"databaseId": "main", "tableId": "todos"}', *data)
    assert json.loads(listed.stdout)["total"] == 1
    assert (tmp_path / "data" / "default" / "project.sqlite3").exists()


def test_call_failures_print_the_appwrite_error_and_exit_1(tmp_path):
    result = call_cli(tmp_path, "tablesDB.get", "--params", '{"databaseId": "nope"}')
    assert result.returncode == 1
    assert json.loads(result.stdout) == {
        "type": "database_not_found",
        "message": "Database with the requested ID 'nope' could not be found.",
        "code": 404,
    }
    assert "database_not_found" in result.stderr and "Traceback" not in result.stderr
    invalid = call_cli(tmp_path, "tablesDB.create", "--params", '{"databaseId": "x"}')
    assert invalid.returncode == 1 and "missing required parameter 'name'" in json.loads(invalid.stdout)["message"]
    unknown = call_cli(tmp_path, "tablesDB.createRw", "--params", "{}")
    assert unknown.returncode == 1 and "did you mean tablesDB.createRow" in json.loads(unknown.stdout)["message"]


def test_call_uses_the_data_dir_from_the_environment(tmp_path):
    env = {"BAAS_MCP_DATA_DIR": str(tmp_path / "elsewhere")}
    assert (
        call_cli(tmp_path, "tablesDB.create", "--params", '{"databaseId": "m", "name": "M"}', env=env).returncode == 0
    )
    assert (tmp_path / "elsewhere" / "default" / "project.sqlite3").exists()
    assert not (tmp_path / ".baas").exists()


def test_call_needs_confirm_to_delete(tmp_path):
    call_cli(tmp_path, "tablesDB.create", "--params", '{"databaseId": "m", "name": "M"}')
    refused = call_cli(tmp_path, "tablesDB.delete", "--params", '{"databaseId": "m"}')
    assert refused.returncode == 1 and "--confirm" in json.loads(refused.stdout)["message"]
    assert call_cli(tmp_path, "tablesDB.get", "--params", '{"databaseId": "m"}').returncode == 0
    done = call_cli(tmp_path, "tablesDB.delete", "--params", '{"databaseId": "m"}', "--confirm")
    assert done.returncode == 0 and done.stdout.strip() == "null"
    assert call_cli(tmp_path, "tablesDB.get", "--params", '{"databaseId": "m"}').returncode == 1


@pytest.mark.parametrize(
    ("params", "message"),
    [("{bad", "--params is not valid JSON"), ("@missing.json", "cannot read 'missing.json'")],
)
def test_call_bad_params_exit_2(tmp_path, params, message):
    result = call_cli(tmp_path, "tablesDB.list", "--params", params)
    assert result.returncode == 2 and message in result.stderr


def test_events_prints_the_stream_and_follows_it(tmp_path):
    data = str(tmp_path)
    assert (
        run("call", "teams.create", "--params", '{"teamId": "crew", "name": "Crew"}', "--data-dir", data).returncode
        == 0
    )
    assert (
        run("call", "teams.updateName", "--params", '{"teamId": "crew", "name": "C"}', "--data-dir", data).returncode
        == 0
    )
    text = run("events", "--data-dir", data)
    assert text.returncode == 0
    assert [line.split()[2] for line in text.stdout.splitlines()] == ["teams.crew.create", "teams.crew.update"]
    last = run("events", "--data-dir", data, "--json", "--last", "1")
    [event] = [json.loads(line) for line in last.stdout.splitlines()]
    assert event["seq"] == 2 and event["project"] == "default" and event["roles"] == ["team:crew"]
    assert "teams.*.update" in event["events"] and event["payload"]["name"] == "C"
    follower = ServeProcess("--data-dir", data, "--json", "--follow", "--event", "teams.*.create", command="events",
                            stdout=subprocess.PIPE)  # fmt: skip
    try:
        assert json.loads(follower.stdout.next_line())["events"][0] == "teams.crew.create"
        run("call", "teams.create", "--params", '{"teamId": "late", "name": "Late"}', "--data-dir", data)
        assert json.loads(follower.stdout.next_line())["events"][0] == "teams.late.create"
    finally:
        assert follower.stop(signal.SIGINT) == 0


def test_the_event_retention_given_to_the_api_is_kept_by_the_project(tmp_path):
    server = start_api_server(tmp_path, "--events-max-count", "2", "--events-max-age", "0.5")
    try:
        # The server sets it on each project it opens: a first request opens the default project.
        assert httpx.get(server.url("/v1/locale"), headers={"X-Appwrite-Project": "default"}).status_code == 200
    finally:
        server.stop()
    # Any later process on the data dir (baas-mcp call, serve) prunes with the project's setting.
    engine = Engine(tmp_path)
    try:
        assert (engine.project().retention.max_count, engine.project().retention.max_age_days) == (2, 0.5)
    finally:
        engine.close()
