"""Warm workers: executions reuse a long-lived process per deployment (module state persists, as on Appwrite), each
with its own logs and per-execution values, within the pool's bounds; and no worker outlives the engine or the server.

Executor-level tests use a pool of their own (small bounds); engine-level ones go through `functions.createExecution`.
Worker processes are found in /proc by a marker in their environment (a function variable)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from mcp_server.engine import Engine
from mcp_server.engine.errors import AppwriteError
from mcp_server.engine.functions.executor import ExecutionRequest, execute, installed_runtimes
from mcp_server.engine.functions.workers import POOL, WorkerPool
from tests.engine.test_executor import processes_with
from tests.engine.test_functions import NODE, PYTHON, archive, deployed

RUNTIMES = {r.language: r for r in installed_runtimes()}
needs_node = pytest.mark.skipif("node" not in RUNTIMES, reason="node is not installed")
LANGUAGES = ["python", pytest.param("node", marks=needs_node)]

PY_COUNTER = """
import os, time, uuid
calls = 0
token = uuid.uuid4().hex

def main(context):
    global calls
    calls += 1
    path = context.req.path
    if path == "/hang":
        time.sleep(60)
    if path == "/memory":
        data = bytearray(2 * 1024 ** 3)
    if path == "/exit":
        os._exit(3)
    if path == "/sleep":
        time.sleep(0.5)
    if path == "/burn":
        start = time.process_time()
        while time.process_time() - start < float(context.req.query.get("seconds", "0.7")):
            pass
    context.log("call", calls)
    print("print", calls)
    return context.res.json({"calls": calls, "token": token, "greeting": os.environ.get("GREETING"),
        "execution": os.environ.get("APPWRITE_FUNCTION_EXECUTION_ID")})
"""

NODE_COUNTER = """
const crypto = require("crypto");
let calls = 0;
const token = crypto.randomUUID();
module.exports = async (context) => {
  calls += 1;
  const path = context.req.path;
  if (path === "/hang") await new Promise((resolve) => setTimeout(resolve, 60000));
  if (path === "/memory") { const a = []; for (;;) a.push(Buffer.alloc(64 * 1024 * 1024, 1)); }
  if (path === "/exit") process.exit(3);
  if (path === "/sleep") await new Promise((resolve) => setTimeout(resolve, 500));
  context.log("call", calls);
  console.log("print", calls);
  return context.res.json({ calls, token, greeting: process.env.GREETING ?? null,
    execution: process.env.APPWRITE_FUNCTION_EXECUTION_ID ?? null });
};
"""

SOURCES = {"python": ("main.py", PY_COUNTER), "node": ("index.js", NODE_COUNTER)}


@pytest.fixture
def pool():
    instance = WorkerPool(max_workers=2, idle_seconds=30, max_executions=100)
    yield instance
    instance.close()


def counter(tmp_path: Path, language: str, name: str = "code") -> Path:
    directory = tmp_path / name
    directory.mkdir()
    entrypoint, source = SOURCES[language]
    (directory / entrypoint).write_text(source)
    return directory


def run(pool, directory, language, path="/", timeout=20.0, variables=None, execution="e1"):
    runtime, entrypoint = RUNTIMES[language], SOURCES[language][0]
    env = {**(variables or {}), "APPWRITE_FUNCTION_EXECUTION_ID": execution}
    request = ExecutionRequest(path=path, headers={"host": "fn.local"})
    return execute(directory, runtime, entrypoint, request, env, timeout, 256, 1.0, pool=pool)


def answer(result) -> dict:
    assert (result.status_code, result.failure) == (200, None), result.errors
    return json.loads(result.body)


def workers_with(marker: str) -> list[int]:
    """The interpreters (not bubblewrap's own processes) whose environment holds `marker`."""
    return [pid for pid in processes_with(marker) if Path(f"/proc/{pid}/comm").read_text().strip() != "bwrap"]


def wait_until(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_worker_serves_the_next_execution_with_its_own_logs_and_values(tmp_path, pool, language):
    directory = counter(tmp_path, language)
    first = run(pool, directory, language, execution="first")
    second = run(pool, directory, language, execution="second")
    one, two = answer(first), answer(second)
    assert (one["calls"], two["calls"]) == (1, 2)
    assert one["token"] == two["token"]
    assert (one["execution"], two["execution"]) == ("first", "second")
    assert "call 1" in first.logs and "print 1" in first.logs
    assert "call 2" in second.logs and "print 2" in second.logs
    assert "call 1" not in second.logs and "print 1" not in second.logs


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_timeout_kills_the_worker_and_the_next_execution_gets_a_fresh_one(tmp_path, pool, language):
    directory = counter(tmp_path, language)
    marker = uuid.uuid4().hex
    assert answer(run(pool, directory, language, variables={"MARKER": marker}))["calls"] == 1
    hung = run(pool, directory, language, "/hang", timeout=1.0, variables={"MARKER": marker})
    assert (hung.status_code, hung.failure) == (500, "timeout")
    assert wait_until(lambda: processes_with(marker) == [], 5)
    assert answer(run(pool, directory, language, variables={"MARKER": marker}))["calls"] == 1


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("path", ["/memory", "/exit"])
def test_a_memory_bomb_or_an_exit_fails_only_its_execution(tmp_path, pool, language, path):
    directory = counter(tmp_path, language)
    token = answer(run(pool, directory, language))["token"]
    failed = run(pool, directory, language, path)
    assert failed.status_code == 500
    after = answer(run(pool, directory, language))
    if path == "/exit":
        assert failed.failure == "crashed" and "exit code 3" in failed.errors
        assert after["calls"] == 1 and after["token"] != token
    else:
        assert after["calls"] >= 1


def test_the_pool_is_bounded_and_evicts_the_least_recently_used_worker(tmp_path, pool):
    marker = uuid.uuid4().hex
    first, second, third = (counter(tmp_path, "python", name) for name in ("a", "b", "c"))
    tokens = {d: answer(run(pool, d, "python", variables={"MARKER": marker}))["token"] for d in (first, second)}
    assert answer(run(pool, first, "python", variables={"MARKER": marker}))["token"] == tokens[first]
    answer(run(pool, third, "python", variables={"MARKER": marker}))
    assert wait_until(lambda: len(workers_with(marker)) == 2)
    # The second deployment's worker was the least recently used: it went, the first one stayed.
    assert answer(run(pool, first, "python", variables={"MARKER": marker}))["token"] == tokens[first]
    assert answer(run(pool, second, "python", variables={"MARKER": marker}))["calls"] == 1


def test_concurrent_calls_never_share_a_worker_and_wait_at_the_cap(tmp_path, pool):
    directory = counter(tmp_path, "python")
    results = []

    def call() -> None:
        results.append(answer(run(pool, directory, "python", "/sleep")))

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 3
    by_token: dict[str, list[int]] = {}
    for result in results:
        by_token.setdefault(result["token"], []).append(result["calls"])
    # At most two workers (the cap); the third call waited for one and was its second execution.
    assert len(by_token) == 2
    assert sorted(calls for calls_of in by_token.values() for calls in calls_of) == [1, 1, 2]


def test_idle_workers_exit_and_workers_are_recycled_after_their_executions(tmp_path):
    pool = WorkerPool(max_workers=2, idle_seconds=0.3, max_executions=3)
    try:
        directory = counter(tmp_path, "python")
        marker = uuid.uuid4().hex
        calls = [answer(run(pool, directory, "python", variables={"MARKER": marker}))["calls"] for _ in range(4)]
        assert calls == [1, 2, 3, 1]
        assert processes_with(marker) != []
        assert wait_until(lambda: processes_with(marker) == [])
    finally:
        pool.close()


def test_a_worker_is_recycled_before_its_cpu_budget_could_cut_an_execution_short(tmp_path):
    # Budget: 2 x (timeout 4 s x 1 CPU) + 1 = 9 CPU seconds; each call burns 1.4 s; a worker takes a call only
    # when the call's whole allowance (4 s) and a second still fit. (A busy machine gives a call less than its
    # timeout's worth of CPU: the wall-clock timeout is kept well above what a call burns.)
    pool = WorkerPool(max_workers=1, cpu_budget_factor=2)
    try:
        directory = counter(tmp_path, "python")
        calls = [answer(run(pool, directory, "python", "/burn?seconds=1.4", timeout=4.0))["calls"] for _ in range(5)]
        assert calls == [1, 2, 3, 1, 2]
    finally:
        pool.close()


@pytest.mark.parametrize(("runtime", "entrypoint", "source"), [(PYTHON, *SOURCES["python"]), (NODE, *SOURCES["node"])])
def test_a_variable_change_or_a_new_deployment_is_seen_at_once(call, runtime, entrypoint, source):
    marker = uuid.uuid4().hex
    deployed(call, "counter", runtime, entrypoint, source)
    call("functions.createVariable", functionId="counter", variableId="marker", key="MARKER", value=marker)
    variable = call("functions.createVariable", functionId="counter", variableId="g", key="GREETING", value="hi")

    def body() -> dict:
        execution = call("functions.createExecution", functionId="counter")
        assert execution["status"] == "completed", execution["errors"]
        assert execution["responseBody"] and execution["$id"] == json.loads(execution["responseBody"])["execution"]
        return json.loads(execution["responseBody"])

    assert [body()["calls"], body()["calls"]] == [1, 2]
    workers = processes_with(marker)
    assert workers
    call("functions.updateVariable", functionId="counter", variableId=variable["$id"], key="GREETING", value="ho")
    changed = body()
    assert (changed["greeting"], changed["calls"]) == ("ho", 1)
    assert wait_until(lambda: not set(workers) & set(processes_with(marker)), 5)
    new_source = source.replace("calls += 1", "calls += 10")
    call("functions.createDeployment", functionId="counter", code=archive({entrypoint: new_source}),
         entrypoint=entrypoint, activate=True)
    assert body()["calls"] == 10
    call("functions.delete", functionId="counter")
    assert wait_until(lambda: processes_with(marker) == [], 5)


def test_engine_close_leaves_no_worker(tmp_path):
    engine = Engine(tmp_path / "data")
    marker = uuid.uuid4().hex

    def call(operation, **params):
        return engine.call(operation, params)

    deployed(call, "py", PYTHON, *SOURCES["python"])
    deployed(call, "js", NODE, *SOURCES["node"])
    for function_id in ("py", "js"):
        call("functions.createVariable", functionId=function_id, variableId=function_id, key="MARKER", value=marker)
        assert call("functions.createExecution", functionId=function_id)["status"] == "completed"
    hanging = []

    def hang() -> None:
        with contextlib.suppress(AppwriteError):
            hanging.append(call("functions.createExecution", functionId="py", path="/hang"))

    thread = threading.Thread(target=hang)
    thread.start()
    # Once the Python worker is busy hanging, the other execution gets a worker of its own.
    assert wait_until(lambda: any(tmp_path in worker.key.directory.parents for worker in list(POOL.busy)), 30)
    assert call("functions.createExecution", functionId="py")["status"] == "completed"
    assert wait_until(lambda: len(workers_with(marker)) == 3, 30)
    engine.close()
    assert wait_until(lambda: processes_with(marker) == [], 5)
    thread.join(timeout=10)
    assert hanging == []  # the hanging execution ended with the engine (it cannot be recorded any more)


SERVER = """
import sys
import time
from mcp_server.engine import Engine
from mcp_server.engine.errors import AppwriteError
from mcp_server.engine.functions.workers import POOL
from tests.engine.test_functions import deployed
from tests.engine.test_warm_workers import PYTHON, NODE, SOURCES

engine = Engine(sys.argv[1])
call = lambda operation, **params: engine.call(operation, params)
deployed(call, "py", PYTHON, *SOURCES["python"])
deployed(call, "js", NODE, *SOURCES["node"])
for function_id in ("py", "js"):
    call("functions.createVariable", functionId=function_id, variableId=function_id, key="MARKER", value=sys.argv[2])
    assert call("functions.createExecution", functionId=function_id)["status"] == "completed"
call("functions.createExecution", functionId="py", path="/hang", **{"async": True})
deadline = time.monotonic() + 30
while not POOL.busy and time.monotonic() < deadline:  # the hanging execution holds its worker
    time.sleep(0.05)
assert call("functions.createExecution", functionId="py")["status"] == "completed"
print("ready", flush=True)
sys.stdin.read()
"""


def test_workers_die_with_a_server_killed_outright(tmp_path):
    marker = uuid.uuid4().hex
    root = Path(__file__).resolve().parents[2]
    server = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(SERVER), str(tmp_path / "data"), marker],
        cwd=root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    try:
        assert server.stdout.readline() == b"ready\n"
        assert wait_until(lambda: len(workers_with(marker)) == 3, 30)
        server.send_signal(signal.SIGKILL)
        server.wait()
        assert wait_until(lambda: processes_with(marker) == [])
    finally:
        server.kill()
        server.wait()


def test_concurrent_executions_through_the_engine_all_finish(call):
    # Executions on several threads at once: reading the function's variables must not use the project's
    # connection beside another thread's write (SQLite's lock and the interpreter's then wait on each other).
    deployed(call, "hello", PYTHON, *SOURCES["python"])
    call("functions.createVariable", functionId="hello", variableId="g", key="GREETING", value="hi")
    finished = []

    def caller() -> None:
        for _ in range(40):
            execution = call("functions.createExecution", functionId="hello")
            finished.append(json.loads(execution["responseBody"])["greeting"])

    threads = [threading.Thread(target=caller, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert finished == ["hi"] * 160
