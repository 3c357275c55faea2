"""The functions service on the embedded engine: functions, variables, deployments of a tar.gz built here, and
executions run for real by the executor (Python and Node), synchronous and asynchronous, with their logs, errors,
limits and isolation."""

from __future__ import annotations

import io
import json
import os
import tarfile
import threading
import time

from mcp_server.engine.permissions import GUEST
from mcp_server.engine.realtime_channels import channels_of
from mcp_server.uploads import Upload
from tests.engine.conftest import error_of

PYTHON = "python-{}.{}".format(*os.sys.version_info[:2])
NODE = "node-20.0"

PYTHON_MAIN = """
import os

def main(context):
    context.log("hello from python")
    if context.req.path == "/fail":
        raise ValueError("it broke")
    if context.req.path == "/loop":
        while True:
            pass
    return context.res.json({
        "method": context.req.method,
        "path": context.req.path,
        "body": context.req.body_json if context.req.body_text else None,
        "greeting": os.environ.get("GREETING"),
        "server_secret": os.environ.get("BAAS_MCP_KEY"),
        "function": os.environ.get("APPWRITE_FUNCTION_ID"),
    })
"""

NODE_MAIN = """
module.exports = async (context) => {
  context.log("hello from node");
  return context.res.text("node says " + context.req.method + " " + context.req.path, 201, {"x-made-by": "node"});
};
"""


def archive(files: dict[str, str], extra: tarfile.TarInfo | None = None) -> Upload:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if extra is not None:
            tar.addfile(extra, io.BytesIO(b"x" * extra.size))
    return Upload("code.tar.gz", "application/gzip", buffer.getvalue())


def deployed(call, function_id: str, runtime: str, entrypoint: str, source: str, **function) -> dict:
    call("functions.create", functionId=function_id, name=function_id, runtime=runtime, **function)
    deployment = call(
        "functions.createDeployment",
        functionId=function_id,
        code=archive({entrypoint: source}),
        entrypoint=entrypoint,
        activate=True,
    )
    assert deployment["status"] == "ready", deployment["buildLogs"]
    return deployment


def test_runtimes_are_the_ones_this_machine_has(call):
    runtimes = {runtime["$id"] for runtime in call("functions.listRuntimes")["runtimes"]}
    assert PYTHON in runtimes and NODE in runtimes
    error = error_of(call, "functions.create", functionId="f", name="f", runtime="php-8.2")
    assert error.type == "function_runtime_unsupported" and PYTHON in error.message
    assert call("functions.listSpecifications")["specifications"][0]["slug"] == "s-1vcpu-512mb"


def test_a_python_function_runs_with_its_variables_and_without_the_servers_environment(call, monkeypatch):
    monkeypatch.setenv("BAAS_MCP_KEY", "server-secret")
    deployed(call, "hello", PYTHON, "main.py", PYTHON_MAIN)
    call("functions.createVariable", functionId="hello", variableId="unique()", key="GREETING", value="hi", secret=True)
    function = call("functions.get", functionId="hello")
    assert function["deploymentId"] and function["vars"][0]["value"] == ""
    execution = call(
        "functions.createExecution",
        functionId="hello",
        body=json.dumps({"n": 1}),
        path="/items?x=1",
        method="PUT",
    )
    assert execution["status"] == "completed" and execution["responseStatusCode"] == 200
    answer = json.loads(execution["responseBody"])
    assert answer == {
        "method": "PUT",
        "path": "/items",
        "body": {"n": 1},
        "greeting": "hi",
        "server_secret": None,
        "function": "hello",
    }
    assert "hello from python" in execution["logs"] and execution["duration"] > 0
    assert call("functions.listExecutions", functionId="hello")["total"] == 1
    failed = call("functions.createExecution", functionId="hello", path="/fail")
    assert failed["status"] == "failed" and failed["responseStatusCode"] == 500 and "it broke" in failed["errors"]


def test_a_node_function_answers_text_with_its_status_and_headers(call):
    deployed(call, "greeter", NODE, "index.js", NODE_MAIN)
    execution = call("functions.createExecution", functionId="greeter", path="/hi", method="GET")
    assert (execution["responseStatusCode"], execution["responseBody"]) == (201, "node says GET /hi")
    assert {"name": "x-made-by", "value": "node"} in execution["responseHeaders"]
    assert "hello from node" in execution["logs"]


def test_async_executions_finish_later_and_timeouts_are_enforced(call):
    deployed(call, "slow", PYTHON, "main.py", PYTHON_MAIN, timeout=1)
    started = call("functions.createExecution", functionId="slow", path="/loop", **{"async": True})
    assert started["status"] == "waiting"
    deadline = time.monotonic() + 30
    while (found := call("functions.getExecution", functionId="slow", executionId=started["$id"]))["status"] in (
        "waiting",
        "processing",
    ):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert found["status"] == "failed" and found["responseStatusCode"] == 500
    assert found["duration"] < 10


def test_bad_archives_missing_entrypoints_and_permissions(call, engine):
    call("functions.create", functionId="f", name="f", runtime=PYTHON, execute=["users"])
    escape = tarfile.TarInfo("../outside.py")
    escape.size = 1
    error = error_of(
        call,
        "functions.createDeployment",
        functionId="f",
        code=archive({"main.py": ""}, escape),
        entrypoint="main.py",
        activate=False,
    )
    assert error.type == "general_argument_invalid" and "`code`" in error.message
    error = error_of(
        call,
        "functions.createDeployment",
        functionId="f",
        code=archive({"other.py": ""}),
        entrypoint="main.py",
        activate=False,
    )
    assert error.type == "function_entrypoint_missing"
    error = error_of(
        call,
        "functions.createDeployment",
        functionId="f",
        code=archive({"main.py": ""}),
        entrypoint="../../project.sqlite3",
        activate=False,
    )
    assert error.type == "general_argument_invalid" and "`entrypoint`" in error.message
    assert call("functions.listDeployments", functionId="f")["total"] == 0
    deployed_id = call(
        "functions.createDeployment",
        functionId="f",
        code=archive({"main.py": PYTHON_MAIN}),
        entrypoint="main.py",
        activate=True,
    )["$id"]
    # A guest holds no role of `execute` (users): refused; the project's own key may run it.
    assert error_of(engine.call, "functions.createExecution", {"functionId": "f"}, GUEST).type in (
        "user_unauthorized",
        "general_unauthorized_scope",
    )
    assert call("functions.createExecution", functionId="f")["deploymentId"] == deployed_id
    assert error_of(call, "functions.createVcsDeployment", functionId="f", type="branch", reference="main").type == (
        "general_not_implemented"
    )
    call("functions.delete", functionId="f")
    assert not (engine.project().db.path.parent / "functions" / "f").exists()


def test_deployments_variables_and_executions_are_managed(call):
    first = deployed(call, "managed", PYTHON, "main.py", PYTHON_MAIN, execute=["any"])
    call("functions.update", functionId="managed", name="Managed", runtime=PYTHON, timeout=5)
    variable = call("functions.createVariable", functionId="managed", variableId="v", key="A", value="1", secret=False)
    assert call("functions.updateVariable", functionId="managed", variableId="v", key="B", value="2")["value"] == "2"
    call("functions.deleteVariable", functionId="managed", variableId=variable["$id"])
    second = call("functions.createDuplicateDeployment", functionId="managed", deploymentId=first["$id"])
    assert second["status"] == "ready" and second["$id"] != first["$id"]
    assert (
        call("functions.updateFunctionDeployment", functionId="managed", deploymentId=second["$id"])["deploymentId"]
        == second["$id"]
    )
    error = error_of(call, "functions.updateDeploymentStatus", functionId="managed", deploymentId=second["$id"])
    assert error.type == "build_already_completed"
    assert (
        call("functions.getDeploymentDownload", functionId="managed", deploymentId=first["$id"]).data[:2] == b"\x1f\x8b"
    )
    call("functions.deleteDeployment", functionId="managed", deploymentId=first["$id"])
    assert call("functions.listDeployments", functionId="managed")["total"] == 1
    execution = call("functions.createExecution", functionId="managed")
    call("functions.deleteExecution", functionId="managed", executionId=execution["$id"])
    assert call("functions.listExecutions", functionId="managed")["total"] == 0


SLOW_MAIN = """
import time

def main(context):
    time.sleep(1)
    return context.res.text("late")
"""


def test_an_async_execution_whose_function_goes_meanwhile_ends_quietly(engine, call, monkeypatch):
    failures = []
    monkeypatch.setattr(threading, "excepthook", lambda hook: failures.append(hook.exc_value))
    deployed(call, "slow", PYTHON, "main.py", SLOW_MAIN)
    call("functions.createExecution", functionId="slow", **{"async": True})
    time.sleep(0.3)
    call("functions.delete", functionId="slow")
    for thread in threading.enumerate():
        if thread.name == "baas-mcp-execution":
            thread.join(timeout=20)
    assert failures == []


def test_an_execution_a_user_starts_is_heard_by_that_user_on_realtimes_execution_channels(engine, call):
    deployed(call, "hello", PYTHON, "main.py", PYTHON_MAIN, execute=["users"])
    call("users.create", userId="ada", email="ada@example.com", password="correct-horse-9")
    execution = call("functions.createExecution", engine.user_auth("default", "ada"), functionId="hello")
    call("functions.createExecution", functionId="hello")  # a key's: no one's to hear
    heard = [
        event
        for event in engine.project().events.read(0, 1000)
        if event.name.startswith("functions.hello.executions.")
    ]
    assert [(event.name.rsplit(".", 1)[-1], event.roles) for event in heard[:2]] == [
        ("create", ("user:ada",)),
        ("update", ("user:ada",)),
    ]
    assert set(channels_of(heard[0])) >= {
        "executions",
        f"executions.{execution['$id']}",
        "functions.hello",
        "executions.create",
    }
    assert [channels_of(event) for event in heard[2:]] == [[], []]
