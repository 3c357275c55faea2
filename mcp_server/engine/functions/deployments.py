"""A function's deployments: a `tar.gz` of its code, unpacked and built (its `commands` run) outside the
project's write lock, then ready to activate; duplicates rebuild the same archive, and a build not done yet can be
canceled."""

from __future__ import annotations

import shutil
import time
from typing import Any

from ...uploads import Media, Upload
from ..code_policy import require_code
from ..datetimes import now_iso
from ..errors import AppwriteError, invalid_argument
from ..events import announce, withhold
from ..registry import Call, handles
from . import deployment_uploads, executor, store
from .functions import BUILD_TIMEOUT, announced, runtime_of, with_variables


def deployment_body(function_id: str, entrypoint: str, size: int, activate: bool) -> dict:
    return {
        "type": "manual",
        "resourceId": function_id,
        "resourceType": "functions",
        "entrypoint": entrypoint,
        "sourceSize": size,
        "buildSize": 0,
        "totalSize": size,
        "buildId": "",
        "activate": activate,
        "screenshotLight": "",
        "screenshotDark": "",
        "status": "waiting",
        "buildLogs": "",
        "buildDuration": 0,
        "providerRepositoryName": "",
        "providerRepositoryOwner": "",
        "providerRepositoryUrl": "",
        "providerCommitHash": "",
        "providerCommitAuthorUrl": "",
        "providerCommitAuthor": "",
        "providerCommitMessage": "",
        "providerCommitUrl": "",
        "providerBranch": "",
        "providerBranchUrl": "",
    }


@handles("functions.createDeployment", own_transactions=True)
def create_deployment(call: Call) -> dict:
    """Receive the archive (deployment_uploads.py), then unpack and build the code outside the write lock; answer
    with the deployment once built."""
    require_code(call)
    engine, project_id = call.engine, call.project.id
    function_id = call.params["functionId"]
    function = engine.change(project_id, lambda project: store.require(project.connection, "function", function_id))
    runtime = runtime_of(function["runtime"])
    entrypoint = call.params.get("entrypoint") or function["entrypoint"]
    if not entrypoint:
        raise invalid_argument("Invalid `entrypoint` param: the function has no entrypoint; give the file to run")
    commands = call.params.get("commands")
    commands = function["commands"] if commands is None else commands
    activate = call.params.get("activate", False)
    deployment_id = deployment_uploads.deployment_id_of(call.params["code"])
    existing = engine.change(project_id, lambda project: store.find(project.connection, "deployment", deployment_id))
    if existing is not None:  # a chunk sent again after the upload completed
        if existing["resourceId"] != function_id:
            raise AppwriteError(
                "storage_invalid_appwrite_id", "The x-appwrite-id header names a deployment of another function."
            )
        withhold(call.project, call.op.events)
        return existing
    folder = store.code_folder(call.project, function_id, deployment_id)
    data = deployment_uploads.receive(call.params["code"], folder.parent, deployment_id)
    if data is None:  # announced once all of it is in
        withhold(call.project, call.op.events)
        now = now_iso()
        waiting = deployment_body(function_id, entrypoint, 0, activate)
        return {"$id": deployment_id, "$createdAt": now, "$updatedAt": now, **waiting}
    code = folder / "code"
    try:
        executor.extract(data, code)
    except ValueError as error:
        shutil.rmtree(folder, ignore_errors=True)
        raise invalid_argument(f"Invalid `code` param: {error}") from None
    if not (code / entrypoint).resolve().is_relative_to(code.resolve()):
        shutil.rmtree(folder, ignore_errors=True)
        raise invalid_argument(f"Invalid `entrypoint` param: {entrypoint!r} leads out of the deployment's code")
    if not (code / entrypoint).is_file():
        shutil.rmtree(folder, ignore_errors=True)
        raise AppwriteError(
            "function_entrypoint_missing", f"Entrypoint file {entrypoint!r} is not in the code archive."
        )
    (folder / "code.tar.gz").write_bytes(data)
    body = deployment_body(function_id, entrypoint, len(data), activate)
    ids = {"functionId": function_id, "deploymentId": deployment_id}

    def record(project) -> dict:
        deployment = store.insert(
            project.connection, "deployment", deployment_id, {**body, "status": "building"}, function_id
        )
        announce(project, call.auth, "functions.[functionId].deployments.[deploymentId].create", ids, deployment)
        return deployment

    engine.change(project_id, record)
    started = time.monotonic()
    built = executor.build(code, commands, runtime, BUILD_TIMEOUT, {}) if commands else None
    status = "ready" if built is None or built.ok else "failed"

    def finish(project) -> dict:
        deployment = store.update(
            project.connection,
            "deployment",
            deployment_id,
            {
                "status": status,
                "buildLogs": built.log if built else "",
                "buildDuration": round(time.monotonic() - started),
            },
        )
        changes = {
            "latestDeploymentId": deployment_id,
            "latestDeploymentCreatedAt": deployment["$createdAt"],
            "latestDeploymentStatus": status,
        }
        if activate and status == "ready":
            changes.update(deploymentId=deployment_id, deploymentCreatedAt=deployment["$createdAt"])
        store.update(project.connection, "function", function_id, changes)
        announce(project, call.auth, "functions.[functionId].deployments.[deploymentId].update", ids, deployment)
        return deployment

    return engine.change(project_id, finish)


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
    store.require(call.project.connection, "function", call.params["functionId"])
    return store.require(call.project.connection, "deployment", call.params["deploymentId"], call.params["functionId"])


@handles("functions.updateFunctionDeployment", announces=True)
def activate_deployment(call: Call) -> dict:
    connection = call.project.connection
    function_id = call.params["functionId"]
    deployment = store.require(connection, "deployment", call.params["deploymentId"], function_id)
    if deployment["status"] != "ready":
        raise AppwriteError("build_not_ready", "Build not ready")
    function = store.update(
        connection,
        "function",
        function_id,
        {"deploymentId": deployment["$id"], "deploymentCreatedAt": deployment["$createdAt"]},
    )
    executor.retire(store.function_folder(call.project, function_id))
    return announced(
        call,
        "functions.[functionId].deployments.[deploymentId].update",
        {"functionId": function_id, "deploymentId": deployment["$id"]},
        with_variables(call, function),
    )


@handles("functions.deleteDeployment", announces=True)
def delete_deployment(call: Call) -> None:
    connection = call.project.connection
    function_id = call.params["functionId"]
    deployment = store.require(connection, "deployment", call.params["deploymentId"], function_id)
    connection.execute("DELETE FROM _deployments WHERE id = ?", (deployment["$id"],))
    function = store.require(connection, "function", function_id)
    if function["deploymentId"] == deployment["$id"]:
        store.update(connection, "function", function_id, {"deploymentId": "", "deploymentCreatedAt": ""})
    executor.retire(store.code_folder(call.project, function_id, deployment["$id"]))
    shutil.rmtree(store.code_folder(call.project, function_id, deployment["$id"]), ignore_errors=True)
    announced(
        call,
        "functions.[functionId].deployments.[deploymentId].delete",
        {"functionId": function_id, "deploymentId": deployment["$id"]},
        deployment,
    )


@handles("functions.getDeploymentDownload")
def download_deployment(call: Call) -> Any:

    deployment = get_deployment(call)
    archive = store.code_folder(call.project, call.params["functionId"], deployment["$id"]) / "code.tar.gz"
    return Media(archive.read_bytes(), "application/gzip", f"{deployment['$id']}.tar.gz")


@handles("functions.createDuplicateDeployment", own_transactions=True)
def duplicate_deployment(call: Call) -> dict:
    """A new deployment of the same code (rebuilt), as Appwrite's redeploy does."""
    require_code(call)

    function_id = call.params["functionId"]
    original = call.engine.change(
        call.project.id,
        lambda project: store.require(project.connection, "deployment", call.params["deploymentId"], function_id),
    )
    archive = store.code_folder(call.project, function_id, original["$id"]) / "code.tar.gz"
    call.params.update(
        code=Upload("code.tar.gz", "application/gzip", archive.read_bytes()),
        entrypoint=original["entrypoint"],
        activate=False,
    )
    return create_deployment(call)


@handles("functions.updateDeploymentStatus", announces=True)
def cancel_deployment(call: Call) -> dict:
    deployment = get_deployment(call)
    if deployment["status"] in ("ready", "failed", "canceled"):
        raise AppwriteError(
            "build_already_completed", "Build with the requested ID is already completed and cannot be canceled.", 400
        )
    canceled = store.update(call.project.connection, "deployment", deployment["$id"], {"status": "canceled"})
    return announced(
        call,
        "functions.[functionId].deployments.[deploymentId].update",
        {"functionId": call.params["functionId"], "deploymentId": deployment["$id"]},
        canceled,
    )
