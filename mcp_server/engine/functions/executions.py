"""A function's executions: run by the executor in a process of their own, synchronously (the call answers with
the response), asynchronously (on a thread of their own), at a `scheduledAt` moment, or started by the background
work (function events and schedules: triggers.py); each recorded with its request, response, logs, errors and
duration, and announced when done.

Every execution is given, as Appwrite 1.9.6 gives it, `x-appwrite-key`: an ephemeral key carrying the function's
`scopes`, valid for its timeout and a minute more; `x-appwrite-user-jwt`: a JWT of the user who started it (for a
call, when they called with a session), as long-lived; and `APPWRITE_FUNCTION_API_ENDPOINT`: the server's own /v1
URL, when the engine knows it (`Engine.api_endpoint`, which `baas-mcp api` sets). Only the request headers
Appwrite keeps are recorded (`content-type`, `agent`, `content-length`, `host`, `x-appwrite-client-ip`).
"""

from __future__ import annotations

import base64
import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..code_policy import require_code
from ..errors import AppwriteError
from ..events import announce, event_roles
from ..identity.identities import make_jwt
from ..ids import resolve_id
from ..keys import SCOPES, ephemeral_secret
from ..permissions import Auth, read_roles
from ..registry import Call, handles
from . import executor, schedules, store
from .code_deployments import CPUS, MEMORY_MB
from .functions import SYNCHRONOUS_TIMEOUT, announced, runtime_of
from .variables import variable_rows

logger = logging.getLogger("baas_mcp")
# What an asynchronous execution meets when its function was deleted while it ran.
GONE = frozenset({"execution_not_found", "function_not_found", "deployment_not_found"})
RECORDED_REQUEST_HEADERS = frozenset({"content-type", "agent", "content-length", "host", "x-appwrite-client-ip"})
VCS_VARIABLES = tuple(
    f"APPWRITE_VCS_{name}"
    for name in (
        "REPOSITORY_ID", "REPOSITORY_NAME", "REPOSITORY_OWNER", "REPOSITORY_URL", "REPOSITORY_BRANCH",
        "REPOSITORY_BRANCH_URL", "COMMIT_HASH", "COMMIT_MESSAGE", "COMMIT_URL", "COMMIT_AUTHOR_NAME",
        "COMMIT_AUTHOR_URL", "ROOT_DIRECTORY",
    )
)  # fmt: skip
KEY_EXTRA_SECONDS = 60  # how much longer than the function's timeout its key and user JWT stay valid
NO_DEPLOYMENT = (
    "The execution could not be completed because a corresponding deployment was not found. A function deployment "
    "needs to be created before it can be executed. Please create a deployment for your function and try again."
)


@dataclass(frozen=True)
class Trigger:
    """What starts an execution: its kind (http, event, schedule), its request, and the user behind it (and
    their session, for a call made with one); `event` names the event that started it."""

    kind: str
    method: str = "POST"
    path: str = "/"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    user_id: str = ""
    session_id: str = ""
    event: str = ""

    def stored(self) -> dict:
        """The trigger as a scheduled execution keeps it (schedules.py)."""
        body = base64.b64encode(self.body).decode("ascii")
        return {"method": self.method, "path": self.path, "headers": self.headers, "body": body}

    @classmethod
    def scheduled(cls, request: dict, user_id: str) -> Trigger:
        return cls(
            "schedule", request["method"], request["path"], request["headers"], base64.b64decode(request["body"]),
            user_id,
        )  # fmt: skip


@event_roles("functions.[functionId].executions.")
def execution_event_roles(project, ids: dict[str, str], payload: dict) -> list[str]:
    """Who hears an execution's events (realtime's `executions` channels): those its permissions let read it, the
    user who started it."""
    return read_roles(payload.get("$permissions", []))


def may_execute(auth: Auth, function: dict) -> bool:
    if auth.roles is None:
        return True
    roles = set(function["execute"])
    return "any" in roles or not roles.isdisjoint(auth.roles)


def execution_body(function: dict, trigger: Trigger, status: str, scheduled_at: str | None = None) -> dict:
    return {
        "$permissions": [f'read("user:{trigger.user_id}")'] if trigger.user_id else [],
        "functionId": function["$id"],
        "deploymentId": function["deploymentId"],
        "trigger": trigger.kind,
        "status": status,
        "requestMethod": trigger.method,
        "requestPath": trigger.path,
        "requestHeaders": [
            {"name": name, "value": value}
            for name, value in trigger.headers.items()
            if name in RECORDED_REQUEST_HEADERS
        ],
        "responseStatusCode": 0,
        "responseBody": "",
        "responseHeaders": [],
        "logs": "",
        "errors": "",
        "duration": 0.0,
        "scheduledAt": scheduled_at,
    }


def environment(engine, project, function: dict, execution_id: str, runtime: executor.Runtime) -> dict[str, str]:
    variables = {row["key"]: row["value"] for row in variable_rows(project.db.connection, function["$id"])}
    endpoint = {"APPWRITE_FUNCTION_API_ENDPOINT": engine.api_endpoint} if engine.api_endpoint else {}
    return {
        **variables,
        **endpoint,
        "APPWRITE_FUNCTION_ID": function["$id"],
        "APPWRITE_FUNCTION_NAME": function["name"],
        "APPWRITE_FUNCTION_DEPLOYMENT": function["deploymentId"],
        "APPWRITE_FUNCTION_PROJECT_ID": project.id,
        "APPWRITE_FUNCTION_RUNTIME_NAME": runtime.language.capitalize(),
        "APPWRITE_FUNCTION_RUNTIME_VERSION": runtime.version,
        "APPWRITE_FUNCTION_CPUS": str(CPUS),
        "APPWRITE_FUNCTION_MEMORY": str(MEMORY_MB),
        "APPWRITE_VERSION": "1.9.6",
        "APPWRITE_REGION": "default",
        "APPWRITE_DEPLOYMENT_TYPE": "manual",
        "APPWRITE_FUNCTION_EXECUTION_ID": execution_id,
        # What Appwrite says of a git deployment's repository and commit: empty for the archives deployed here.
        **dict.fromkeys(VCS_VARIABLES, ""),
    }


def request_of(project, function: dict, execution_id: str, trigger: Trigger) -> executor.ExecutionRequest:
    """The request the function is given: the trigger's, with Appwrite's x-appwrite-* headers (a fresh key)."""
    seconds = int(function["timeout"]) + KEY_EXTRA_SECONDS
    scopes = sorted(set(function["scopes"]) & SCOPES)
    key = ephemeral_secret(project.cipher, project.id, scopes, seconds)[3]
    jwt = make_jwt(project, trigger.user_id, trigger.session_id, seconds) if trigger.user_id else ""
    return executor.ExecutionRequest(
        method=trigger.method,
        path=trigger.path,
        headers={
            **trigger.headers,
            "x-appwrite-execution-id": execution_id,
            "x-appwrite-key": key,
            "x-appwrite-trigger": trigger.kind,
            "x-appwrite-event": trigger.event,
            "x-appwrite-user-id": trigger.user_id,
            "x-appwrite-user-jwt": jwt,
            "x-appwrite-country-code": "",
            "x-appwrite-continent-code": "",
            "x-appwrite-continent-eu": "false",
        },
        body=trigger.body,
    )


def run(engine, project_id: str, function: dict, execution: dict, trigger: Trigger, timeout: float) -> dict:
    """Run an execution to its end and record how it went; the execution then."""
    return run_for_result(engine, project_id, function, execution, trigger, timeout)[0]


def run_for_result(
    engine, project_id: str, function: dict, execution: dict, trigger: Trigger, timeout: float
) -> tuple[dict, executor.ExecutionResult]:
    """Run an execution to its end and record how it went; the execution then, and the response as the function
    gave it (its body as bytes)."""
    project = engine.project(project_id)
    runtime = runtime_of(function["runtime"])
    ids = {"functionId": function["$id"], "executionId": execution["$id"]}
    folder = store.code_folder(project, function["$id"], function["deploymentId"]) / "code"
    # Read under the write lock: the project's connection must not be used beside a write on another thread.
    deployment, env, request = engine.change(
        project_id,
        lambda p: (
            store.require(p.connection, "deployment", function["deploymentId"]),
            environment(engine, p, function, execution["$id"], runtime),
            request_of(p, function, execution["$id"], trigger),
        ),
    )
    result = executor.execute(folder, runtime, deployment["entrypoint"], request, env, timeout, MEMORY_MB, CPUS)
    failed = result.status_code >= 500 or result.failure is not None
    changes = {
        "status": "failed" if failed else "completed",
        "responseStatusCode": result.status_code,
        "responseBody": result.body.decode("utf-8", "replace"),
        "responseHeaders": [{"name": name, "value": value} for name, value in result.headers.items()],
        "logs": result.logs if function["logging"] else "",
        "errors": result.errors if function["logging"] else "",
        "duration": round(result.duration, 3),
    }
    return engine.change(project_id, lambda p: finish(p, ids, changes, trigger.user_id)), result


def run_detached(engine, project_id: str, function: dict, execution: dict, trigger: Trigger, timeout: float) -> None:
    """An asynchronous execution, on its own thread: its function deleted meanwhile (the execution with it) or the
    server closing end it quietly, as nothing is left to record it in."""
    try:
        run(engine, project_id, function, execution, trigger, timeout)
    except AppwriteError as error:
        if error.type not in GONE and not engine.closed:
            logger.exception("the execution %s of %s failed", execution["$id"], function["$id"])


def finish(project, ids: dict[str, str], changes: dict, user_id: str) -> dict:
    """Record how an execution went and announce it (as the user who started it)."""
    finished = store.update(project.connection, "execution", ids["executionId"], changes)
    auth = Auth(scopes=None, roles=None, user_id=user_id or None)
    announce(project, auth, "functions.[functionId].executions.[executionId].update", ids, finished)
    return finished


def run_triggered(engine, project_id: str, function_id: str, trigger: Trigger, execution_id: str = "") -> dict | None:
    """Run an execution the background work starts (an event, a schedule tick, a scheduled execution, which
    exists already as `execution_id`) to its end; the execution then (None: the function, or the scheduled
    execution, was deleted meanwhile). As in Appwrite, one without an active deployment is recorded as failed."""

    def start(project) -> tuple[dict, dict] | None:
        connection = project.connection
        wanted = [("_functions", function_id)] + ([("_executions", execution_id)] if execution_id else [])
        if any(
            connection.execute(f"SELECT 1 FROM {table} WHERE id = ?", (item,)).fetchone() is None
            for table, item in wanted
        ):
            return None
        function = store.require(connection, "function", function_id)
        ready = (
            function["deploymentId"]
            and connection.execute("SELECT 1 FROM _deployments WHERE id = ?", (function["deploymentId"],)).fetchone()
        )
        status = "processing" if ready else "failed"
        if execution_id:
            execution = store.update(connection, "execution", execution_id, {"status": status})
        else:
            body = execution_body(function, trigger, status)
            execution = store.insert(connection, "execution", resolve_id("unique()", "executionId"), body, function_id)
        if not ready:
            ids = {"functionId": function_id, "executionId": execution["$id"]}
            execution = finish(project, ids, {"deploymentId": "", "errors": NO_DEPLOYMENT}, trigger.user_id)
        return function, execution

    started = engine.change(project_id, start)
    if started is None:
        return None
    function, execution = started
    if execution["status"] == "failed":
        return execution
    return run(engine, project_id, function, execution, trigger, float(function["timeout"]))


@handles("functions.createExecution", own_transactions=True)
def create_execution(call: Call) -> dict:
    require_code(call)
    engine, project_id, auth = call.engine, call.project.id, call.auth
    params = call.params
    asynchronous = params.get("async", False)
    scheduled_at = schedules.check_scheduled_at(params.get("scheduledAt"), asynchronous, datetime.now(UTC))
    body = params.get("body") or ""
    trigger = Trigger(
        kind="schedule" if scheduled_at else "http",
        method=params.get("method") or "POST",
        path=params.get("path") or "/",
        headers={str(k).lower(): str(v) for k, v in (params.get("headers") or {}).items()},
        body=body.encode() if isinstance(body, str) else base64.b64decode(body),
        user_id=auth.user_id or "",
        session_id=auth.session_id or "",
    )
    status = "scheduled" if scheduled_at else "waiting" if asynchronous else "processing"

    def start(project) -> tuple[dict, dict]:
        function = store.require(project.connection, "function", params["functionId"])
        if not may_execute(auth, function) or (not function["enabled"] and auth.roles is not None):
            raise AppwriteError(
                "user_unauthorized", "The current user is not authorized to perform the requested action."
            )
        if not function["deploymentId"]:
            raise AppwriteError("deployment_not_found", "The function has no active deployment: deploy its code first.")
        execution_id = resolve_id("unique()", "executionId")
        body = execution_body(function, trigger, status, scheduled_at)
        execution = store.insert(project.connection, "execution", execution_id, body, function["$id"])
        if scheduled_at:
            waiting = schedules.Scheduled(execution_id, function["$id"], trigger.user_id, trigger.stored())
            schedules.schedule_execution(project.connection, project.cipher, waiting, scheduled_at)
        ids = {"functionId": function["$id"], "executionId": execution_id}
        announce(project, auth, "functions.[functionId].executions.[executionId].create", ids, execution)
        return function, execution

    function, execution = engine.change(project_id, start)
    if scheduled_at:
        return execution
    timeout = float(function["timeout"])
    if asynchronous:
        threading.Thread(
            target=run_detached,
            args=(engine, project_id, function, execution, trigger, timeout),
            name="baas-mcp-execution",
            daemon=True,
        ).start()
        return execution
    return run(engine, project_id, function, execution, trigger, min(timeout, SYNCHRONOUS_TIMEOUT))


@handles("functions.listExecutions")
def list_executions(call: Call) -> dict:
    total, page = store.listed(
        call,
        "execution",
        {"trigger", "status", "responseStatusCode", "duration", "requestMethod", "requestPath", "deploymentId"},
    )
    return {"total": total, "executions": page}


@handles("functions.getExecution")
def get_execution(call: Call) -> dict:
    return store.require(call.project.connection, "execution", call.params["executionId"], call.params["functionId"])


@handles("functions.deleteExecution", announces=True)
def delete_execution(call: Call) -> None:
    execution = get_execution(call)
    if execution["status"] in ("waiting", "processing"):
        raise AppwriteError("general_bad_request", "An execution still running cannot be deleted.", 400)
    call.project.connection.execute("DELETE FROM _executions WHERE id = ?", (execution["$id"],))
    schedules.forget_execution(call.project.connection, execution["$id"])
    announced(
        call,
        "functions.[functionId].executions.[executionId].delete",
        {"functionId": execution["functionId"], "executionId": execution["$id"]},
        execution,
    )
