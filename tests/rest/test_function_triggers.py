"""Functions started by the servers' background work, over real HTTP: `baas-mcp api` runs a function when a row is
created with the official Python SDK (from its background process), a function calls the API back with its
`x-appwrite-key` (allowed what its scopes allow, refused the rest), `--no-code` refuses code, and a background
process killed in the middle of a run of events loses none of them (`baas-mcp background --once` runs the rest)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from appwrite.client import Client
from appwrite.exception import AppwriteException
from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB

from mcp_server.engine import Engine
from mcp_server.engine.datetimes import parse_datetime
from tests.commands import COMMAND, baas_mcp, create_key, serve_env, start_api_server
from tests.engine.test_functions import PYTHON, archive

RECORDER = """
import json

def main(context):
    return context.res.json({"event": context.req.headers["x-appwrite-event"], "body": context.req.body_text})
"""

CALLER = """
import json, os, urllib.error, urllib.request

def main(context):
    def status(path):
        request = urllib.request.Request(
            os.environ["APPWRITE_FUNCTION_API_ENDPOINT"] + path,
            headers={
                "x-appwrite-project": os.environ["APPWRITE_FUNCTION_PROJECT_ID"],
                "x-appwrite-key": context.req.headers["x-appwrite-key"],
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
    return context.res.json({"users": status("/users"), "databases": status("/tablesdb")})
"""

SLOW = """
import time

def main(context):
    time.sleep(0.3)
    return context.res.text(context.req.body_text)
"""


def with_function(data: Path, function_id: str, source: str, **function) -> None:
    """A function deployed in the data dir, before a server opens it."""
    engine = Engine(data)
    try:
        engine.call("functions.create", {"functionId": function_id, "name": function_id, "runtime": PYTHON, **function})
        code = archive({"main.py": source})
        engine.call(
            "functions.createDeployment",
            {"functionId": function_id, "code": code, "entrypoint": "main.py", "activate": True},
        )
    finally:
        engine.close()


def client(server, key: str) -> Client:
    return Client().set_endpoint(server.url("/v1")).set_project("default").set_key(key)


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, what
        time.sleep(0.1)
    return found


def test_a_row_created_with_the_sdk_runs_the_function_listening_in_the_api_servers_background(tmp_path: Path):
    data = tmp_path / "data"
    with_function(data, "on-order", RECORDER, events=["databases.*.tables.*.rows.*.create"])
    key = create_key(
        data, "databases.write,tables.write,columns.write,rows.write,rows.read,functions.read,executions.read"
    )
    server = start_api_server(data)
    try:
        sdk = client(server, key["secret"])
        tables = TablesDB(sdk)
        tables.create("shop", "Shop")
        tables.create_table("shop", "orders", "Orders")
        tables.create_text_column("shop", "orders", "item", False)
        row = tables.create_row("shop", "orders", "r1", {"item": "tea"})
        functions = Functions(sdk)
        listed = wait_for(
            lambda: [e for e in functions.list_executions("on-order").executions if e.status.value == "completed"],
            30,
            "the function did not run on the event",
        )
        (execution,) = listed
        assert execution.trigger.value == "event"
        seen = json.loads(execution.responsebody)
        assert seen["event"] == "databases.shop.tables.orders.rows.r1.create"
        assert json.loads(seen["body"])["$id"] == row.id
    finally:
        server.stop()


def test_a_function_calls_the_api_back_with_its_key_and_gets_only_its_scopes(tmp_path: Path):
    data = tmp_path / "data"
    with_function(data, "caller", CALLER, scopes=["users.read"])
    key = create_key(data, "functions.read,executions.read,executions.write")
    server = start_api_server(data)
    try:
        execution = Functions(client(server, key["secret"])).create_execution("caller")
        assert execution.status.value == "completed", execution.errors
        assert json.loads(execution.responsebody) == {"users": 200, "databases": 401}
    finally:
        server.stop()


def test_an_execution_scheduled_with_the_sdk_waits_and_can_be_deleted(tmp_path: Path):
    data = tmp_path / "data"
    with_function(data, "later", RECORDER)
    key = create_key(data, "functions.read,executions.read,executions.write")
    server = start_api_server(data)
    try:
        functions = Functions(client(server, key["secret"]))
        at = (datetime.now(UTC) + timedelta(minutes=10)).replace(second=0, microsecond=0).isoformat()
        scheduled = functions.create_execution("later", xasync=True, scheduled_at=at)
        assert (scheduled.status.value, scheduled.trigger.value) == ("scheduled", "schedule")
        assert parse_datetime(scheduled.scheduledat) == datetime.fromisoformat(at)
        with pytest.raises(AppwriteException) as refused:
            functions.create_execution("later", scheduled_at=at)
        assert refused.value.type == "general_bad_request"
        functions.delete_execution("later", scheduled.id)
        assert functions.list_executions("later").total == 0
    finally:
        server.stop()


def test_no_code_refuses_code_deployments_and_executions(tmp_path: Path):
    data = tmp_path / "data"
    with_function(data, "f", RECORDER)
    key = create_key(data, "functions.read,functions.write,executions.read,executions.write")
    server = start_api_server(data, "--no-code")
    try:
        functions = Functions(client(server, key["secret"]))
        with pytest.raises(AppwriteException) as refused:
            functions.create_execution("f")
        assert refused.value.type == "general_access_forbidden" and "--no-code" in refused.value.message
        assert functions.list_executions("f").total == 0
    finally:
        server.stop()
    mixed = baas_mcp("serve", "--no-code", "--endpoint", "https://example.com/v1", "--api-key", "k", "--project", "p")
    assert mixed.returncode == 2 and "--no-code applies only to the embedded engine" in mixed.stderr


def test_events_are_not_lost_when_the_background_process_is_killed_midway(tmp_path: Path):
    data = tmp_path / "data"
    with_function(data, "slow", SLOW, events=["users.*.create"])
    engine = Engine(data)
    count = 12
    try:
        for number in range(count):
            engine.call("users.create", {"userId": f"u{number}", "email": f"u{number}@example.com"})

        def done() -> set[str]:
            listed = engine.call("functions.listExecutions", {"functionId": "slow"})["executions"]
            return {json.loads(e["responseBody"])["$id"] for e in listed if e["status"] == "completed"}

        worker = subprocess.Popen(
            [str(COMMAND), "background", "--data-dir", str(data)], env=serve_env(), stderr=subprocess.DEVNULL
        )
        try:
            wait_for(lambda: len(done()) >= 3, 60, "the background process ran no function")
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
        assert len(done()) < count, "every event was handled before the kill: the test proves nothing"
        drained = baas_mcp("background", "--once", "--data-dir", str(data), "--json", timeout=120)
        assert drained.returncode == 0, drained.stderr
        assert done() == {f"u{number}" for number in range(count)}
    finally:
        engine.close()
