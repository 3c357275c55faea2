"""A function's deployments: its code as a `tar.gz`, with the file to run (`entrypoint`) and the build `commands`;
the machinery they share with sites' deployments is code_deployments.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import AppwriteError, invalid_argument
from ..registry import Call, handles
from . import code_deployments, store
from .code_deployments import FUNCTIONS, Build
from .functions import BUILD_TIMEOUT, runtime_of, with_variables


@handles("functions.createDeployment", own_transactions=True)
def create_deployment(call: Call) -> dict:
    """Receive the archive, then unpack and build the code outside the write lock; answer with the deployment once
    built."""
    function_id = call.params["functionId"]
    function = call.engine.change(
        call.project.id, lambda project: store.require(project.connection, "function", function_id)
    )
    runtime = runtime_of(function["runtime"])
    entrypoint = call.params.get("entrypoint") or function["entrypoint"]
    if not entrypoint:
        raise invalid_argument("Invalid `entrypoint` param: the function has no entrypoint; give the file to run")
    commands = call.params.get("commands")

    def check_entrypoint(code: Path) -> None:
        if not (code / entrypoint).resolve().is_relative_to(code.resolve()):
            raise invalid_argument(f"Invalid `entrypoint` param: {entrypoint!r} leads out of the deployment's code")
        if not (code / entrypoint).is_file():
            raise AppwriteError(
                "function_entrypoint_missing", f"Entrypoint file {entrypoint!r} is not in the code archive."
            )

    build = Build(
        commands=function["commands"] if commands is None else commands,
        runtime=runtime,
        timeout=BUILD_TIMEOUT,
        entrypoint=entrypoint,
        unpacked=check_entrypoint,
    )
    return code_deployments.deploy(call, FUNCTIONS, call.params["code"], call.params.get("activate", False), build)


@handles("functions.listDeployments")
def list_deployments(call: Call) -> dict:
    total, page = store.listed(
        call,
        "deployment",
        {"entrypoint", "size", "buildId", "activate", "status", "type", "sourceSize", "buildSize", "totalSize"},
    )
    return {"total": total, "deployments": page}


@handles("functions.getDeployment")
def get_deployment(call: Call) -> dict:
    return code_deployments.get(call, FUNCTIONS)


@handles("functions.updateFunctionDeployment", announces=True)
def activate_deployment(call: Call) -> dict:
    return code_deployments.activate(call, FUNCTIONS, lambda function: with_variables(call, function))


@handles("functions.deleteDeployment", announces=True)
def delete_deployment(call: Call) -> None:
    code_deployments.delete(call, FUNCTIONS)


@handles("functions.getDeploymentDownload")
def download_deployment(call: Call) -> Any:
    return code_deployments.download(call, FUNCTIONS)


@handles("functions.createDuplicateDeployment", own_transactions=True)
def duplicate_deployment(call: Call) -> dict:
    """A new deployment of the same code (rebuilt), as Appwrite's redeploy does."""
    return code_deployments.duplicate(
        call, FUNCTIONS, create_deployment, lambda original: {"entrypoint": original["entrypoint"]}
    )


@handles("functions.updateDeploymentStatus", announces=True)
def cancel_deployment(call: Call) -> dict:
    return code_deployments.cancel(call, FUNCTIONS)
