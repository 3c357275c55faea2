"""A function's executions: run by the executor in a process of their own, synchronously (the call answers with
the response) or asynchronously (on a thread of their own), each recorded with its request, response, logs,
errors and duration, and announced when created and when done."""

from __future__ import annotations

import base64
import threading

from ..errors import AppwriteError
from ..events import announce
from ..ids import resolve_id
from ..permissions import Auth
from ..registry import Call, handles
from . import executor, store
from .code_deployments import CPUS, MEMORY_MB
from .functions import SYNCHRONOUS_TIMEOUT, announced, runtime_of
from .variables import variable_rows


def may_execute(auth: Auth, function: dict) -> bool:
    if auth.roles is None:
        return True
    roles = set(function["execute"])
    return "any" in roles or not roles.isdisjoint(auth.roles)


def execution_body(call: Call, function: dict, status: str) -> dict:
    params = call.params
    headers = params.get("headers") or {}
    return {
        "$permissions": [],
        "functionId": function["$id"],
        "deploymentId": function["deploymentId"],
        "trigger": "http",
        "status": status,
        "requestMethod": params.get("method") or "POST",
        "requestPath": params.get("path") or "/",
        "requestHeaders": [{"name": str(name), "value": str(value)} for name, value in headers.items()],
        "responseStatusCode": 0,
        "responseBody": "",
        "responseHeaders": [],
        "logs": "",
        "errors": "",
        "duration": 0.0,
        "scheduledAt": None,
    }


def environment(project, function: dict, execution_id: str, runtime: executor.Runtime) -> dict[str, str]:
    variables = {row["key"]: row["value"] for row in variable_rows(project.db.connection, function["$id"])}
    return {
        **variables,
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
    }


def run(
    engine,
    project_id: str,
    auth: Auth,
    function: dict,
    execution: dict,
    request: executor.ExecutionRequest,
    timeout: float,
) -> dict:
    """Run an execution to its end and record how it went; the execution then."""
    project = engine.project(project_id)
    runtime = runtime_of(function["runtime"])
    ids = {"functionId": function["$id"], "executionId": execution["$id"]}
    folder = store.code_folder(project, function["$id"], function["deploymentId"]) / "code"
    deployment = engine.change(
        project_id, lambda p: store.require(p.connection, "deployment", function["deploymentId"])
    )
    env = environment(project, function, execution["$id"], runtime)
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

    def finish(p) -> dict:
        finished = store.update(p.connection, "execution", execution["$id"], changes)
        announce(p, auth, "functions.[functionId].executions.[executionId].update", ids, finished)
        return finished

    return engine.change(project_id, finish)


@handles("functions.createExecution", own_transactions=True)
def create_execution(call: Call) -> dict:
    engine, project_id, auth = call.engine, call.project.id, call.auth
    params = call.params
    if params.get("scheduledAt"):
        raise AppwriteError("general_not_implemented", "Scheduled executions (scheduledAt) do not run locally yet.")
    asynchronous = params.get("async", False)

    def start(project) -> tuple[dict, dict]:
        function = store.require(project.connection, "function", params["functionId"])
        if not may_execute(auth, function) or (not function["enabled"] and auth.roles is not None):
            raise AppwriteError(
                "user_unauthorized", "The current user is not authorized to perform the requested action."
            )
        if not function["deploymentId"]:
            raise AppwriteError("deployment_not_found", "The function has no active deployment: deploy its code first.")
        execution_id = resolve_id("unique()", "executionId")
        execution = store.insert(
            project.connection,
            "execution",
            execution_id,
            execution_body(call, function, "waiting" if asynchronous else "processing"),
            function["$id"],
        )
        ids = {"functionId": function["$id"], "executionId": execution_id}
        announce(project, auth, "functions.[functionId].executions.[executionId].create", ids, execution)
        return function, execution

    function, execution = engine.change(project_id, start)
    body = params.get("body") or ""
    request = executor.ExecutionRequest(
        method=params.get("method") or "POST",
        path=params.get("path") or "/",
        headers={
            **{str(k).lower(): str(v) for k, v in (params.get("headers") or {}).items()},
            "x-appwrite-trigger": "http",
            "x-appwrite-user-id": auth.user_id or "",
            "x-appwrite-execution-id": execution["$id"],
        },
        body=body.encode() if isinstance(body, str) else base64.b64decode(body),
    )
    timeout = float(function["timeout"])
    if asynchronous:
        threading.Thread(
            target=run,
            args=(engine, project_id, auth, function, execution, request, timeout),
            name="baas-mcp-execution",
            daemon=True,
        ).start()
        return execution
    return run(engine, project_id, auth, function, execution, request, min(timeout, SYNCHRONOUS_TIMEOUT))


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
    announced(
        call,
        "functions.[functionId].executions.[executionId].delete",
        {"functionId": execution["functionId"], "executionId": execution["$id"]},
        execution,
    )
