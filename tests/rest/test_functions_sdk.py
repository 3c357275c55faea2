"""Functions end to end through the official Python SDK (appwrite 16.0.0) against `baas-mcp api`: code archives
built here go up with createDeployment (a large one in the SDK's 5 MB chunks), executions run for real in Python and
Node, synchronously and asynchronously, and their responses, logs and errors parse into the SDK's models. The server
runs with secrets in its own environment that no function may see, and keeps answering while functions misbehave.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from appwrite.client import Client
from appwrite.enums.execution_method import ExecutionMethod
from appwrite.input_file import InputFile
from appwrite.models.deployment import Deployment
from appwrite.models.execution import Execution
from appwrite.services.account import Account
from appwrite.services.functions import Functions
from appwrite.services.health import Health
from appwrite.services.users import Users

from tests.commands import API_LINE, ServeProcess, create_key, serve_env, serving
from tests.rest.sdk_errors import raised

PROJECT = "default"
PYTHON = "python-{}.{}".format(*sys.version_info[:2])
NODE = "node-20.0"
SCOPES = (
    "functions.read,functions.write,execution.read,execution.write,executions.read,executions.write,"
    "users.read,users.write,sessions.write,health.read"
)
SERVER_SECRETS = {"BAAS_MCP_KEY": "the-servers-own-key", "APPWRITE_API_KEY": "the-servers-appwrite-key"}
MB = 1024 * 1024

PYTHON_MAIN = """
import json
import os
import time


def main(context):
    req = context.req
    context.log("python got", req.method, req.path)
    if req.path == "/echo":
        return context.res.json({
            "method": req.method,
            "path": req.path,
            "query": req.query,
            "queryString": req.query_string,
            "header": req.headers.get("x-test"),
            "body": req.body_json if req.body_text else None,
        }, 201, {"x-made-by": "python"})
    if req.path == "/binary":
        return context.res.binary(bytes(range(256)), 200, {"content-type": "application/octet-stream"})
    if req.path == "/fail":
        context.error("about to fail")
        raise ValueError("it broke on purpose")
    if req.path == "/sleep":
        time.sleep(30)
    if req.path == "/env":
        names = ["BAAS_MCP_KEY", "APPWRITE_API_KEY", "GREETING", "APPWRITE_FUNCTION_ID"]
        return context.res.json({"env": {name: os.environ.get(name) for name in names}, "all": sorted(os.environ)})
    if req.path == "/memory":
        hoard = []
        while True:
            hoard.append(bytearray(64 * 1024 * 1024))
    if req.path == "/fork":
        while True:
            try:
                os.fork()
            except OSError:
                pass
    if req.path == "/loop":
        while True:
            pass
    return context.res.text("hello from python")
"""

NODE_MAIN = """
module.exports = async (context) => {
  context.log("node got " + context.req.method + " " + context.req.path);
  if (context.req.path === "/fail") {
    throw new Error("node broke on purpose");
  }
  const body = context.req.bodyText ? context.req.bodyJson : null;
  return context.res.json({ runtime: "node", query: context.req.query, body });
};
"""


def archive(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@dataclass
class Server:
    process: ServeProcess
    data_dir: Path
    endpoint: str
    key: str

    def client(self, *, key: bool = True, session: str | None = None) -> Client:
        client = Client().set_endpoint(self.endpoint).set_project(PROJECT)
        if key:
            client.set_key(self.key)
        if session:
            client.set_session(session)
        return client


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("functions") / "data"
    key = create_key(data_dir, SCOPES)
    process = serving(
        ServeProcess("--port", "0", "--data-dir", str(data_dir), command="api", env=serve_env(**SERVER_SECRETS),
                     line=API_LINE)
    )  # fmt: skip
    try:
        yield Server(process, data_dir, process.url("/v1"), key["secret"])
    finally:
        code = process.stop()
    assert code == 0, f"the API server did not shut down cleanly ({code}): {process.stderr.text()}"


@pytest.fixture(scope="module")
def functions(server) -> Functions:
    return Functions(server.client())


def deploy(functions: Functions, function_id: str, runtime: str, entrypoint: str, files: dict[str, bytes],
           **settings) -> Deployment:  # fmt: skip
    functions.create(function_id, function_id, runtime, entrypoint=entrypoint, **settings)
    code = archive(files)
    deployment = functions.create_deployment(
        function_id, InputFile.from_bytes(code, "code.tar.gz", "application/gzip"), True
    )
    assert isinstance(deployment, Deployment)
    return wait_ready(functions, function_id, deployment.id)


def wait_ready(functions: Functions, function_id: str, deployment_id: str) -> Deployment:
    deadline = time.monotonic() + 60
    while True:
        deployment = functions.get_deployment(function_id, deployment_id)
        if deployment.status.value in ("ready", "failed", "canceled") or time.monotonic() > deadline:
            assert deployment.status.value == "ready", deployment.buildlogs
            return deployment
        time.sleep(0.2)


@pytest.fixture(scope="module")
def python_function(functions) -> str:
    deploy(functions, "py", PYTHON, "main.py", {"main.py": PYTHON_MAIN.encode()}, execute=["users"], timeout=3)
    functions.create_variable("py", "GREETING", "hello from a variable")
    return "py"


@pytest.fixture(scope="module")
def node_function(functions) -> str:
    deploy(functions, "js", NODE, "index.js", {"index.js": NODE_MAIN.encode()})
    return "js"


def headers_of(execution: Execution) -> dict[str, str]:
    return {header.name: header.value for header in execution.responseheaders}


def wait_done(functions: Functions, function_id: str, execution_id: str) -> Execution:
    deadline = time.monotonic() + 60
    while True:
        execution = functions.get_execution(function_id, execution_id)
        if execution.status.value in ("completed", "failed") or time.monotonic() > deadline:
            return execution
        time.sleep(0.1)


# --- deploying ---------------------------------------------------------------------------------------------------


def test_a_deployment_goes_up_through_the_sdk_and_its_archive_comes_back(functions, python_function):
    listed = functions.list_deployments(python_function)
    assert listed.total == 1
    deployment = listed.deployments[0]
    assert (deployment.status.value, deployment.entrypoint, deployment.resourceid) == ("ready", "main.py", "py")
    assert functions.get(python_function).deploymentid == deployment.id
    downloaded = functions.get_deployment_download(python_function, deployment.id)
    with tarfile.open(fileobj=io.BytesIO(downloaded), mode="r:gz") as tar:
        assert tar.extractfile("main.py").read() == PYTHON_MAIN.encode()


def test_an_archive_larger_than_a_chunk_goes_up_in_chunks_and_runs(functions):
    filler = os.urandom(12 * MB)  # incompressible: the archive stays over two 5 MB chunks
    files = {"main.py": b"def main(context):\n    return context.res.text('big one')\n", "filler.bin": filler}
    assert len(archive(files)) > 10 * MB
    deployment = deploy(functions, "big", PYTHON, "main.py", files)
    assert deployment.sourcesize > 10 * MB
    assert functions.list_deployments("big").total == 1
    execution = functions.create_execution("big")
    assert (execution.status.value, execution.responsebody) == ("completed", "big one")
    downloaded = functions.get_deployment_download("big", deployment.id)
    with tarfile.open(fileobj=io.BytesIO(downloaded), mode="r:gz") as tar:
        assert tar.extractfile("filler.bin").read() == filler


# --- executing ---------------------------------------------------------------------------------------------------


def test_a_synchronous_execution_carries_the_request_and_answers_with_the_response(functions, python_function):
    execution = functions.create_execution(
        python_function,
        body=json.dumps({"order": 7}),
        path="/echo?size=large&color=red",
        method=ExecutionMethod.POST,
        headers={"x-test": "from the sdk", "content-type": "application/json"},
    )
    assert isinstance(execution, Execution)
    assert (execution.status.value, execution.trigger.value) == ("completed", "http")
    assert execution.responsestatuscode == 201
    assert (execution.requestmethod, execution.requestpath) == ("POST", "/echo?size=large&color=red")
    answer = json.loads(execution.responsebody)
    assert answer == {
        "method": "POST",
        "path": "/echo",
        "query": {"size": "large", "color": "red"},
        "queryString": "size=large&color=red",
        "header": "from the sdk",
        "body": {"order": 7},
    }
    headers = headers_of(execution)
    assert headers["x-made-by"] == "python"
    assert headers["content-type"].startswith("application/json")
    assert "python got POST /echo" in execution.logs
    assert execution.errors == ""
    assert execution.duration > 0


def test_a_get_with_no_body(functions, python_function, node_function):
    execution = functions.create_execution(python_function, method=ExecutionMethod.GET)
    assert (execution.responsestatuscode, execution.responsebody) == (200, "hello from python")
    assert execution.requestmethod == "GET"
    node = functions.create_execution(node_function, body='{"n": 1}', path="/?a=b", method=ExecutionMethod.PATCH)
    assert json.loads(node.responsebody) == {"runtime": "node", "query": {"a": "b"}, "body": {"n": 1}}
    assert "node got PATCH /" in node.logs


def test_a_binary_response(functions, python_function):
    execution = functions.create_execution(python_function, path="/binary", method=ExecutionMethod.GET)
    assert (execution.status.value, execution.responsestatuscode) == ("completed", 200)
    assert headers_of(execution)["content-type"].startswith("application/octet-stream")
    assert execution.responsebody.startswith(bytes(range(128)).decode("ascii"))


def test_an_asynchronous_execution_is_polled_until_it_completes(functions, python_function):
    execution = functions.create_execution(python_function, path="/echo", xasync=True, body="{}")
    assert execution.status.value in ("waiting", "processing")
    done = wait_done(functions, python_function, execution.id)
    assert done.status.value == "completed"
    assert done.responsestatuscode == 201
    assert "python got POST /echo" in done.logs


def test_a_raised_exception_fails_with_its_traceback(functions, python_function, node_function):
    execution = functions.create_execution(python_function, path="/fail")
    assert (execution.status.value, execution.responsestatuscode) == ("failed", 500)
    assert "ValueError: it broke on purpose" in execution.errors
    assert "Traceback" in execution.errors
    assert "about to fail" in execution.errors
    node = functions.create_execution(node_function, path="/fail")
    assert node.status.value == "failed"
    assert "node broke on purpose" in node.errors


def test_the_timeout_is_enforced(functions, python_function):
    started = time.monotonic()
    execution = functions.create_execution(python_function, path="/sleep")
    assert time.monotonic() - started < 15
    assert (execution.status.value, execution.responsestatuscode) == ("failed", 500)
    assert "timed out" in execution.errors


def test_the_function_sees_its_variables_and_never_the_servers_environment(functions, python_function):
    execution = functions.create_execution(python_function, path="/env", method=ExecutionMethod.GET)
    answer = json.loads(execution.responsebody)
    assert answer["env"] == {
        "BAAS_MCP_KEY": None,
        "APPWRITE_API_KEY": None,
        "GREETING": "hello from a variable",
        "APPWRITE_FUNCTION_ID": "py",
    }
    assert not set(SERVER_SECRETS) & set(answer["all"])


@pytest.mark.parametrize(
    ("path", "stopped_by"), [("/memory", "MemoryError"), ("/fork", "timed out"), ("/loop", "timed out")]
)
def test_a_misbehaving_function_is_contained_and_the_server_keeps_answering(
    server, functions, python_function, path, stopped_by
):
    health = Health(server.client())
    answered: list[tuple[str, float]] = []
    done = threading.Event()

    def ask() -> None:
        while not done.is_set():
            started = time.monotonic()
            answered.append((health.get().status.value, time.monotonic() - started))
            time.sleep(0.1)

    asker = threading.Thread(target=ask)
    asker.start()
    try:
        execution = functions.create_execution(python_function, path=path)
    finally:
        done.set()
        asker.join(30)
    assert execution.status.value == "failed", execution.errors
    assert stopped_by in execution.errors
    assert len(answered) >= 3, answered
    assert all(status == "pass" and took < 5 for status, took in answered), answered
    assert health.get().status.value == "pass"
    after = functions.create_execution(python_function, method=ExecutionMethod.GET)
    assert after.responsebody == "hello from python"


# --- executions ----------------------------------------------------------------------------------------------------


def test_executions_are_listed_and_deleted(functions, node_function):
    execution = functions.create_execution(node_function)
    listed = functions.list_executions(node_function)
    assert execution.id in [item.id for item in listed.executions]
    assert all(isinstance(item, Execution) for item in listed.executions)
    fetched = functions.get_execution(node_function, execution.id)
    assert (fetched.id, fetched.status.value, fetched.logs) == (execution.id, "completed", execution.logs)
    functions.delete_execution(node_function, execution.id)
    error = raised(functions.get_execution, node_function, execution.id)
    assert (error.code, error.type) == (404, "execution_not_found")
    assert execution.id not in [item.id for item in functions.list_executions(node_function).executions]


def test_a_user_needs_a_role_of_the_functions_execute_permissions(server, functions, python_function, node_function):
    runner = Users(server.client()).create("runner", email="runner@example.com", password="runner passphrase")
    session = Account(server.client()).create_email_password_session("runner@example.com", "runner passphrase")
    as_user = Functions(server.client(key=False, session=session.secret))
    # node_function's execute list is empty: no user may run it.
    error = raised(as_user.create_execution, node_function)
    assert (error.code, error.type) == (401, "user_unauthorized")
    # python_function may be run by any signed-in user.
    execution = as_user.create_execution(python_function, method=ExecutionMethod.GET)
    assert execution.responsebody == "hello from python"
    assert execution.permissions == [f'read("user:{runner.id}")']
    guest = Functions(server.client(key=False))
    error = raised(guest.create_execution, python_function)
    assert (error.code, error.type) == (401, "user_unauthorized")
