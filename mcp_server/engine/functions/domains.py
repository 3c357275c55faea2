"""A function reached at a domain a proxy rule gives it, as Appwrite 1.9.6's router runs one (app/controllers/
general.php): the request as it came (method, path and query, headers, body) becomes a synchronous execution with
trigger `http`, and the function's response is the answer, status, headers and bytes as it gave them, with
`x-appwrite-execution-id`.

Only a function anyone may run (`any` or `guests` in its `execute`) answers at a domain, as on Appwrite: the
caller is nobody in particular. A function that is missing or disabled answers `function_not_found`, one without
an active deployment `deployment_not_found`, one that takes longer than 30 s `function_synchronous_timeout`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import AppwriteError
from ..events import announce
from ..ids import resolve_id
from ..permissions import GUEST
from . import store
from .executions import Trigger, execution_body, run_for_result
from .functions import SYNCHRONOUS_TIMEOUT

# The response headers the answer does not take from the function (the server frames the body itself).
FRAMING = frozenset({"content-length", "transfer-encoding", "connection"})
ERROR_PAGE = (
    "<!doctype html><html><head><meta charset=utf-8><title>{code}</title></head><body><h1>{code}</h1></body></html>"
)


@dataclass(frozen=True)
class DomainResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def run_request(
    engine, project_id: str, function_id: str, method: str, path: str, headers: dict[str, str], body: bytes
) -> DomainResponse:
    """Run the function on the request its domain received (`path` with its query string, `headers` by lower-case
    name); what to answer."""
    if not engine.runs_code:
        raise AppwriteError(
            "general_access_forbidden", "This server was started with --no-code: it runs no function.", 401
        )
    trigger = Trigger(kind="http", method=method, path=path, headers=headers, body=body)

    def start(project) -> tuple[dict, dict]:
        function = store.find(project.connection, "function", function_id)
        if function is None or not function["enabled"]:
            raise AppwriteError("function_not_found", "Function with the requested ID could not be found.")
        if not {"any", "guests"} & set(function["execute"]):
            raise AppwriteError(
                "function_execute_permission_missing",
                'To execute function using domain, execute permissions must include "any" or "guests".',
            )
        deployment = store.find(project.connection, "deployment", function["deploymentId"] or "")
        if deployment is None:
            raise AppwriteError("deployment_not_found", "Deployment with the requested ID could not be found.")
        execution_id = resolve_id("unique()", "executionId")
        body = execution_body(function, trigger, "processing")
        execution = store.insert(project.connection, "execution", execution_id, body, function_id)
        ids = {"functionId": function_id, "executionId": execution_id}
        announce(project, GUEST, "functions.[functionId].executions.[executionId].create", ids, execution)
        return function, execution

    function, execution = engine.change(project_id, start)
    timeout = min(float(function["timeout"]), SYNCHRONOUS_TIMEOUT)
    execution, result = run_for_result(engine, project_id, function, execution, trigger, timeout)
    if result.failure == "timeout":
        raise AppwriteError(
            "function_synchronous_timeout",
            "Synchronous function execution timed out. Use asynchronous execution instead, or ensure the execution "
            "duration doesn't exceed 30 seconds.",
        )
    answer = {name.lower(): value for name, value in result.headers.items() if name.lower() not in FRAMING}
    content = result.body
    if result.status_code >= 400 and not content:
        content = ERROR_PAGE.format(code=result.status_code).encode()
        answer["content-type"] = "text/html"
    answer.setdefault("content-type", "text/plain")
    answer["x-appwrite-execution-id"] = execution["$id"]
    return DomainResponse(result.status_code, list(answer.items()), content)
