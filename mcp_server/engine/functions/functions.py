"""The `functions` service on the embedded engine (Appwrite 1.9.6's src/Appwrite/Platform/Modules/Functions):
functions themselves, here; their variables, deployments and executions in the modules beside this one.

- A function's runtime must be one this machine has (`functions.listRuntimes`): the Python running the server
  and the Node on PATH; any other is refused with `function_runtime_unsupported`, naming those there are.
- Template and git (VCS) deployments need network access to their repositories: they answer
  `general_not_implemented` (unimplemented.py).
- `events` are checked as a webhook's are, and none may be a function event (`functions.*`), as in Appwrite: that
  rule keeps a function from triggering on its own executions. `schedule` is checked as a cron expression
  (schedules.py). What starts a function besides a call is the background work (triggers.py).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

from ...catalog import load_catalog
from ..errors import AppwriteError, invalid_argument
from ..event_grammar import check_events
from ..events import announce
from ..ids import resolve_id
from ..listing import list_models
from ..registry import Call, handles
from . import executor, schedules, store
from .code_deployments import SPECIFICATION
from .variables import variable_model, variable_rows

DEFAULT_TIMEOUT = 15
MAX_TIMEOUT = 900
SYNCHRONOUS_TIMEOUT = 30
BUILD_TIMEOUT = 900.0
QUERYABLE_FUNCTIONS = {
    "name",
    "enabled",
    "runtime",
    "deploymentId",
    "schedule",
    "scheduleNext",
    "schedulePrevious",
    "timeout",
    "entrypoint",
    "commands",
    "installationId",
}


def runtimes() -> dict[str, executor.Runtime]:
    """The runtimes this machine has, by Appwrite's runtime id (as the catalog's enum spells it)."""
    known = load_catalog().get("functions.create").input_schema["properties"]["runtime"].get("enum", [])
    found = {}
    for runtime in executor.installed_runtimes():
        for candidate in (runtime.id, f"{runtime.id}.0", runtime.id.removesuffix(".0")):
            if candidate in known:
                found[candidate] = runtime
                break
    return found


def runtime_of(runtime_id: str) -> executor.Runtime:
    available = runtimes()
    if runtime_id not in available:
        raise AppwriteError(
            "function_runtime_unsupported",
            f'Runtime "{runtime_id}" is not supported locally: this machine runs {", ".join(available) or "none"}. '
            "Run other runtimes on an Appwrite server through the HTTP backend.",
        )
    return available[runtime_id]


def function_body(call: Call, current: dict | None = None) -> dict:
    params = call.params
    timeout = params.get("timeout", DEFAULT_TIMEOUT)
    if not 1 <= timeout <= MAX_TIMEOUT:
        raise invalid_argument(f"Invalid `timeout` param: Value must be a valid range between 1 and {MAX_TIMEOUT}")
    runtime_of(params["runtime"])
    body = {
        "execute": params.get("execute", []),
        "name": params["name"],
        "enabled": params.get("enabled", True),
        "live": True,
        "logging": params.get("logging", True),
        "runtime": params["runtime"],
        "deploymentRetention": params.get("deploymentRetention", 0),
        "deploymentId": (current or {}).get("deploymentId", ""),
        "deploymentCreatedAt": (current or {}).get("deploymentCreatedAt", ""),
        "latestDeploymentId": (current or {}).get("latestDeploymentId", ""),
        "latestDeploymentCreatedAt": (current or {}).get("latestDeploymentCreatedAt", ""),
        "latestDeploymentStatus": (current or {}).get("latestDeploymentStatus", ""),
        "scopes": params.get("scopes", []),
        "vars": [],
        "events": check_function_events(params.get("events", [])),
        "schedule": schedules.check_schedule(params.get("schedule", "")),
        "timeout": timeout,
        "entrypoint": params.get("entrypoint", ""),
        "commands": params.get("commands", ""),
        "version": "v5",
        "installationId": "",
        "providerRepositoryId": "",
        "providerBranch": "",
        "providerRootDirectory": "",
        "providerSilentMode": False,
        "providerBranches": [],
        "providerPaths": [],
        "buildSpecification": SPECIFICATION["slug"],
        "runtimeSpecification": SPECIFICATION["slug"],
    }
    return body


def check_function_events(values: list[str]) -> list[str]:
    """A function's events: events Appwrite emits, none of them a function's (a function would trigger itself)."""
    for value in values:
        if isinstance(value, str) and value.startswith("functions."):
            raise invalid_argument("Invalid `events` param: Triggering a function on a function event is not allowed.")
    return check_events(load_catalog().event_grammar, "events", values)


def with_variables(call: Call, function: dict) -> dict:
    function["vars"] = [variable_model(row) for row in variable_rows(call.project.connection, function["$id"])]
    return function


def announced(call: Call, label: str, ids: dict[str, str], payload: dict) -> dict:
    announce(call.project, call.auth, label, ids, payload)
    return payload


@handles("functions.list")
def list_functions(call: Call) -> dict:
    models = [with_variables(call, model) for model in store.all_of(call.project.connection, "function")]
    total, page = list_models(
        models,
        call.params.get("queries"),
        QUERYABLE_FUNCTIONS,
        search=call.params.get("search"),
        count=call.params.get("total", True),
        noun="function",
    )
    return {"total": total, "functions": page}


@handles("functions.create", announces=True)
def create_function(call: Call) -> dict:
    connection = call.project.connection
    function_id = resolve_id(call.params["functionId"], "functionId")
    if connection.execute("SELECT 1 FROM _functions WHERE id = ?", (function_id,)).fetchone():
        raise AppwriteError("function_already_exists", "Function with the requested ID already exists.")
    function = store.insert(connection, "function", function_id, function_body(call))
    schedules.set_schedule(connection, function_id, function["schedule"], datetime.now(UTC))
    announced(call, "functions.[functionId].create", {"functionId": function_id}, with_variables(call, function))
    store.place_cursor(connection, function_id)
    return function


@handles("functions.get")
def get_function(call: Call) -> dict:
    return with_variables(call, store.require(call.project.connection, "function", call.params["functionId"]))


@handles("functions.update", announces=True)
def update_function(call: Call) -> dict:
    function_id = call.params["functionId"]
    connection = call.project.connection
    current = store.require(connection, "function", function_id)
    function = store.update(connection, "function", function_id, function_body(call, current))
    if function["schedule"] != current["schedule"]:
        schedules.set_schedule(connection, function_id, function["schedule"], datetime.now(UTC))
    executor.retire(store.function_folder(call.project, function_id))
    announced(call, "functions.[functionId].update", {"functionId": function_id}, with_variables(call, function))
    # A function given events anew hears them from now on, not from when it last had some.
    store.place_cursor(connection, function_id, again=not current["events"])
    return function


@handles("functions.delete", announces=True)
def delete_function(call: Call) -> None:
    connection = call.project.connection
    function_id = call.params["functionId"]
    function = with_variables(call, store.require(connection, "function", function_id))
    for table in ("_deployments", "_executions", "_function_variables"):
        connection.execute(f"DELETE FROM {table} WHERE function_id = ?", (function_id,))
    connection.execute("DELETE FROM _functions WHERE id = ?", (function_id,))
    executor.retire(store.function_folder(call.project, function_id))
    connection.execute("DELETE FROM _event_cursors WHERE name = ?", (store.cursor_name(function_id),))
    schedules.forget(connection, function_id)
    shutil.rmtree(store.function_folder(call.project, function_id), ignore_errors=True)
    announced(call, "functions.[functionId].delete", {"functionId": function_id}, function)


@handles("functions.listRuntimes")
def list_runtimes(call: Call) -> dict:
    models = [
        {
            "$id": runtime_id,
            "key": runtime.language,
            "name": runtime.language.capitalize(),
            "version": runtime.version,
            "base": "",
            "image": f"{runtime.command} (installed on this machine)",
            "logo": f"{runtime.language}.png",
            "supports": ["amd64", "arm64"],
        }
        for runtime_id, runtime in runtimes().items()
    ]
    return {"total": len(models), "runtimes": models}


@handles("functions.listSpecifications")
def list_specifications(call: Call) -> dict:
    return {"total": 1, "specifications": [dict(SPECIFICATION)]}
