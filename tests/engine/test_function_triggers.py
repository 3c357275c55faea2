"""What starts a function besides a call, on the embedded engine with the real executor: its events (each matching
event runs it once, with Appwrite's headers and the payload as body, and never its own executions' events), its cron
schedule (at each tick, with the scheduler's clock given), executions scheduled with scheduledAt, and what each
execution gets to call back with (a short-lived key with the function's scopes, the user's JWT); --no-code."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from mcp_server.engine.datetimes import format_datetime, parse_datetime
from mcp_server.engine.errors import AppwriteError
from mcp_server.engine.functions.schedules import check_schedule, latest_tick
from mcp_server.engine.keys import KeyStore
from mcp_server.engine.permissions import GUEST
from tests.engine.conftest import error_of
from tests.engine.test_functions import PYTHON, archive, deployed

ECHO = """
import json, os

def main(context):
    return context.res.json({
        "method": context.req.method,
        "path": context.req.path,
        "headers": context.req.headers,
        "body": context.req.body_text,
        "endpoint": os.environ.get("APPWRITE_FUNCTION_API_ENDPOINT"),
        "commit": os.environ.get("APPWRITE_VCS_COMMIT_HASH"),
    })
"""


def drain(engine, now: datetime | None = None) -> dict:
    return asyncio.run(engine.drain_background(["default"], now))


def executions(call, function_id: str) -> list[dict]:
    return call("functions.listExecutions", functionId=function_id)["executions"]


def answer(execution: dict) -> dict:
    assert execution["status"] == "completed", execution["errors"]
    return json.loads(execution["responseBody"])


def shop(call) -> None:
    call("tablesDB.create", databaseId="shop", name="Shop")
    call("tablesDB.createTable", databaseId="shop", tableId="orders", name="Orders")
    call("tablesDB.createStringColumn", databaseId="shop", tableId="orders", key="item", size=20, required=False)


def test_a_row_created_runs_the_function_listening_once_with_the_event_as_its_request(engine, call):
    shop(call)
    deployed(call, "on-order", PYTHON, "main.py", ECHO, events=["databases.*.tables.*.rows.*.create"])
    deployed(call, "on-user", PYTHON, "main.py", ECHO, events=["users.*.create"])
    row = call("tablesDB.createRow", databaseId="shop", tableId="orders", rowId="r1", data={"item": "tea"})
    call("tablesDB.updateRow", databaseId="shop", tableId="orders", rowId="r1", data={"item": "tea!"})
    report = drain(engine)
    assert report["functions"]["default"].executed == {"on-order": 1}
    (execution,) = executions(call, "on-order")
    assert (execution["trigger"], execution["requestMethod"], execution["requestPath"]) == ("event", "POST", "/")
    seen = answer(execution)
    assert json.loads(seen["body"]) == row
    headers = seen["headers"]
    assert headers["x-appwrite-trigger"] == "event"
    assert headers["x-appwrite-event"] == "databases.shop.tables.orders.rows.r1.create"
    assert headers["user-agent"] == "Appwrite/1.9.6" and headers["content-type"] == "application/json"
    assert headers["x-appwrite-execution-id"] == execution["$id"]
    assert headers["x-appwrite-key"].startswith("ephemeral_") and headers["x-appwrite-user-jwt"] == ""
    assert executions(call, "on-user") == []
    # Nothing is pending any more: a second pass runs nothing.
    assert drain(engine)["functions"]["default"].executed == {}


def test_a_function_never_triggers_on_function_events_so_its_executions_do_not_loop(engine, call):
    error = error_of(
        call, "functions.create", functionId="f", name="f", runtime=PYTHON, events=["functions.*.executions.*.update"]
    )
    assert error.type == "general_argument_invalid" and "`events`" in error.message
    assert "Triggering a function on a function event is not allowed." in error.message
    bad = error_of(call, "functions.create", functionId="f", name="f", runtime=PYTHON, events=["rows.made"])
    assert bad.type == "general_argument_invalid" and "`events`" in bad.message
    deployed(call, "busy", PYTHON, "main.py", ECHO, events=["users.*"])
    call("users.create", userId="u1", email="u1@example.com")
    assert drain(engine)["functions"]["default"].executed == {"busy": 1}
    # Its execution's own events (create, update) start nothing more, pass after pass.
    assert drain(engine)["functions"]["default"].executed == {}
    assert len(executions(call, "busy")) == 1


def test_a_function_given_events_later_hears_only_the_events_after_that(engine, call):
    deployed(call, "late", PYTHON, "main.py", ECHO)
    call("users.create", userId="before", email="before@example.com")
    call("functions.update", functionId="late", name="late", runtime=PYTHON, events=["users.*.create"])
    call("users.create", userId="after", email="after@example.com")
    assert drain(engine)["functions"]["default"].executed == {"late": 1}
    assert json.loads(answer(executions(call, "late")[0])["body"])["$id"] == "after"


def test_an_event_made_by_a_user_runs_the_function_with_that_users_id_and_jwt(engine, call):
    deployed(call, "welcome", PYTHON, "main.py", ECHO, events=["users.*.update.name"])
    call("account.create", GUEST, userId="ada", email="ada@example.com", password="a long password 1")
    session = call("account.createEmailPasswordSession", GUEST, email="ada@example.com", password="a long password 1")
    call("account.updateName", engine.identify("default", session=session["secret"]), name="Ada")
    drain(engine)
    headers = answer(executions(call, "welcome")[0])["headers"]
    assert headers["x-appwrite-user-id"] == "ada"
    assert engine.identify("default", jwt=headers["x-appwrite-user-jwt"]).user_id == "ada"


def test_an_event_for_a_function_without_deployment_is_recorded_as_failed(engine, call):
    call("functions.create", functionId="bare", name="bare", runtime=PYTHON, events=["users.*.create"])
    call("users.create", userId="u1", email="u1@example.com")
    drain(engine)
    (execution,) = executions(call, "bare")
    assert execution["status"] == "failed" and "deployment was not found" in execution["errors"]


@pytest.mark.parametrize("schedule", ["61 * * * *", "0 0 * * * *", "0 0 30 2 *", "@reboot", "every minute", "* * *"])
def test_a_schedule_that_is_not_a_cron_expression_is_refused_naming_the_param(call, schedule):
    error = error_of(call, "functions.create", functionId="f", name="f", runtime=PYTHON, schedule=schedule)
    assert error.type == "general_argument_invalid"
    assert error.message == "Invalid `schedule` param: String must be a valid cron expression"


def test_cron_expressions_and_their_ticks():
    assert check_schedule("*/5 * * * *") == "*/5 * * * *" and check_schedule("@hourly") == "@hourly"
    assert check_schedule("") == ""
    moment = datetime(2030, 1, 1, 10, 7, 3, tzinfo=UTC)
    assert latest_tick("*/5 * * * *", moment) == datetime(2030, 1, 1, 10, 5, tzinfo=UTC)
    on_the_tick = datetime(2030, 1, 1, 10, 10, tzinfo=UTC)
    assert latest_tick("*/5 * * * *", on_the_tick) == on_the_tick


def test_a_cron_function_fires_at_each_tick_while_enabled_and_missed_ticks_fire_once(engine, call):
    deployed(call, "cron", PYTHON, "main.py", ECHO, schedule="* * * * *")
    start = datetime.now(UTC)
    assert drain(engine, start)["functions"]["default"].executed == {}
    # Just past the next tick: it fires, once.
    tick = latest_tick("* * * * *", start) + timedelta(minutes=1)
    assert drain(engine, tick + timedelta(seconds=1))["functions"]["default"].executed == {"cron": 1}
    assert drain(engine, tick + timedelta(seconds=30))["functions"]["default"].executed == {}
    (execution,) = executions(call, "cron")
    assert execution["trigger"] == "schedule"
    assert answer(execution)["headers"]["x-appwrite-trigger"] == "schedule"
    # A day without a look (no server ran): the ticks missed fire once, not once each.
    later = tick + timedelta(days=1, seconds=1)
    assert drain(engine, later)["functions"]["default"].executed == {"cron": 1}
    # A tick passed while the function is disabled is skipped, even once it is enabled again.
    call("functions.update", functionId="cron", name="cron", runtime=PYTHON, schedule="* * * * *", enabled=False)
    assert drain(engine, later + timedelta(minutes=1))["functions"]["default"].executed == {}
    call("functions.update", functionId="cron", name="cron", runtime=PYTHON, schedule="* * * * *", enabled=True)
    assert drain(engine, later + timedelta(minutes=1, seconds=5))["functions"]["default"].executed == {}
    assert drain(engine, later + timedelta(minutes=2))["functions"]["default"].executed == {"cron": 1}
    assert len(executions(call, "cron")) == 3


def whole_minute(ahead: timedelta) -> datetime:
    return (datetime.now(UTC) + ahead).replace(second=0, microsecond=0)


def test_scheduled_at_is_checked_as_appwrite_checks_it(engine, call):
    deployed(call, "later", PYTHON, "main.py", ECHO)
    soon = format_datetime(whole_minute(timedelta(minutes=5)))
    sync = error_of(call, "functions.createExecution", functionId="later", scheduledAt=soon)
    assert sync.type == "general_bad_request" and "must run asynchronously" in sync.message
    for bad in (
        format_datetime(datetime.now(UTC) + timedelta(seconds=30)),
        format_datetime(whole_minute(timedelta(minutes=5)) + timedelta(seconds=7)),
        format_datetime(whole_minute(-timedelta(minutes=5))),
        "soon",
        "10000-01-01T00:00:00Z",
    ):
        error = error_of(call, "functions.createExecution", functionId="later", scheduledAt=bad, **{"async": True})
        assert error.type == "general_bad_request" and "at least 1 minute from now" in error.message, bad
    assert executions(call, "later") == []


def test_a_scheduled_execution_runs_at_its_time_with_its_request_and_can_be_deleted_before(engine, call):
    deployed(call, "later", PYTHON, "main.py", ECHO)
    due = whole_minute(timedelta(minutes=3))
    scheduled = call(
        "functions.createExecution",
        functionId="later",
        scheduledAt=format_datetime(due),
        path="/report?x=1",
        method="PUT",
        body="hello",
        headers={"Content-Type": "text/plain", "X-Custom": "1"},
        **{"async": True},
    )
    assert (scheduled["status"], scheduled["trigger"]) == ("scheduled", "schedule")
    assert parse_datetime(scheduled["scheduledAt"]) == due
    assert scheduled["requestHeaders"] == [{"name": "content-type", "value": "text/plain"}]
    assert drain(engine, due - timedelta(seconds=1))["functions"]["default"].executed == {}
    assert drain(engine, due + timedelta(seconds=1))["functions"]["default"].executed == {"later": 1}
    ran = call("functions.getExecution", functionId="later", executionId=scheduled["$id"])
    seen = answer(ran)
    assert (seen["method"], seen["path"], seen["body"]) == ("PUT", "/report", "hello")
    assert seen["headers"]["x-custom"] == "1" and seen["headers"]["x-appwrite-trigger"] == "schedule"
    assert drain(engine, due + timedelta(minutes=5))["functions"]["default"].executed == {}
    # Deleted while it waits, it never runs.
    other = call("functions.createExecution", functionId="later", scheduledAt=format_datetime(due), **{"async": True})
    call("functions.deleteExecution", functionId="later", executionId=other["$id"])
    assert drain(engine, due + timedelta(minutes=6))["functions"]["default"].executed == {}
    assert [execution["$id"] for execution in executions(call, "later")] == [scheduled["$id"]]


def test_every_execution_gets_a_key_with_the_functions_scopes_valid_for_its_timeout(engine, call):
    deployed(call, "keyed", PYTHON, "main.py", ECHO, scopes=["users.read"], timeout=20)
    seen = answer(call("functions.createExecution", functionId="keyed"))
    key, _ = KeyStore(engine.project().db).check(seen["headers"]["x-appwrite-key"])
    assert set(key["scopes"]) == {"users.read"}
    # Appwrite also reads such a key under its former name.
    legacy = seen["headers"]["x-appwrite-key"].replace("ephemeral_", "dynamic_", 1)
    assert KeyStore(engine.project().db).check(legacy)[0]["scopes"] == key["scopes"]
    lifetime = parse_datetime(key["expire"]) - datetime.now(UTC)
    assert timedelta(seconds=60) < lifetime <= timedelta(seconds=80)
    assert seen["endpoint"] is None  # this engine was not told its URL
    assert seen["commit"] == ""  # as Appwrite sets it for a deployment that is not from git
    with pytest.raises(AppwriteError):
        KeyStore(engine.project().db).check("ephemeral_" + "x" * 40)


def test_a_user_calling_with_a_session_gives_the_execution_their_jwt(engine, call):
    deployed(call, "mine", PYTHON, "main.py", ECHO, execute=["users"])
    call("account.create", GUEST, userId="ada", email="ada@example.com", password="a long password 1")
    session = call("account.createEmailPasswordSession", GUEST, email="ada@example.com", password="a long password 1")
    ada = engine.identify("default", session=session["secret"])
    seen = answer(call("functions.createExecution", ada, functionId="mine"))
    assert seen["headers"]["x-appwrite-user-id"] == "ada"
    assert engine.identify("default", jwt=seen["headers"]["x-appwrite-user-jwt"]).user_id == "ada"
    assert answer(call("functions.createExecution", functionId="mine"))["headers"]["x-appwrite-user-jwt"] == ""


def test_an_engine_that_runs_no_code_refuses_deployments_and_executions(tmp_path):
    from mcp_server.engine import Engine

    data = tmp_path / "data"
    with_code = Engine(data)
    with_code.call("functions.create", {"functionId": "f", "name": "f", "runtime": PYTHON, "events": ["users.*"]})
    code = archive({"main.py": ECHO})
    deployment = with_code.call(
        "functions.createDeployment", {"functionId": "f", "code": code, "entrypoint": "main.py", "activate": True}
    )
    with_code.close()
    engine = Engine(data, no_code=True)
    try:
        for operation, params in (
            (
                "functions.createDeployment",
                {"functionId": "f", "code": code, "entrypoint": "main.py", "activate": True},
            ),
            ("functions.createDuplicateDeployment", {"functionId": "f", "deploymentId": deployment["$id"]}),
            ("functions.createExecution", {"functionId": "f"}),
        ):
            error = error_of(engine.call, operation, params)
            assert error.type == "general_access_forbidden" and "--no-code" in error.message, operation
        assert len(engine.call("functions.listDeployments", {"functionId": "f"})["deployments"]) == 1
        engine.call("users.create", {"userId": "u1", "email": "u1@example.com"})
        assert "functions" not in drain(engine) and not engine.background_needed()
        assert engine.call("functions.listExecutions", {"functionId": "f"})["total"] == 0
    finally:
        engine.close()
