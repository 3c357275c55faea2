"""Deployments of code, for functions and sites alike: a `tar.gz` unpacked safely, built (its commands run in its
folder, bounded by a timeout, their output kept as the build log) outside the project's write lock, then ready to
activate; duplicates rebuild the same archive, downloads give the archive (`source`) or what the build left
(`output`), and a build not done yet can be canceled (its end then leaves it canceled).

Each deployment lives in `<project folder>/<service>/<owner id>/<deployment id>/`: `code.tar.gz` as uploaded and
`code/` unpacked. Sites use this module through the engine's service interfaces (tests/test_layout.py).
"""

from __future__ import annotations

import io
import shutil
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...uploads import Media, Upload
from ..code_policy import require_code
from ..datetimes import now_iso
from ..errors import AppwriteError, invalid_argument
from ..events import announce, withhold
from ..registry import Call
from . import deployment_uploads, executor, store

# The one compute specification local builds and runs get (Appwrite's default, s-1vcpu-512mb).
MEMORY_MB = 512
CPUS = 1.0
SPECIFICATION = {"memory": MEMORY_MB, "cpus": CPUS, "enabled": True, "slug": "s-1vcpu-512mb"}


@dataclass(frozen=True)
class Owner:
    """What deployments belong to: a function or a site (its store kind, service name and id parameter)."""

    kind: str
    service: str
    deployment_kind: str

    @property
    def id_param(self) -> str:
        return f"{self.kind}Id"

    def event(self, action: str) -> str:
        return f"{self.service}.[{self.kind}Id].deployments.[deploymentId].{action}"

    def folder(self, project: Any, owner_id: str, deployment_id: str) -> Path:
        return store.code_folder(project, owner_id, deployment_id, self.service)


FUNCTIONS = Owner("function", "functions", "deployment")
SITES = Owner("site", "sites", "site_deployment")


@dataclass(frozen=True)
class Build:
    """How a new deployment is checked and built.

    `unpacked(code)` may refuse the code (raising an AppwriteError) before anything is recorded; `built(code)`
    says what is wrong with a finished build ("" when nothing), which fails it.
    """

    commands: str
    runtime: executor.Runtime
    timeout: float
    entrypoint: str = ""
    env: dict[str, str] = field(default_factory=dict)
    unpacked: Callable[[Path], None] | None = None
    built: Callable[[Path], str] | None = None


def deployment_body(owner: Owner, owner_id: str, entrypoint: str, size: int, activate: bool) -> dict:
    return {
        "type": "manual",
        "resourceId": owner_id,
        "resourceType": owner.service,
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


def deploy(call: Call, owner: Owner, code_param: object, activate: bool, build: Build) -> dict:
    """Receive the archive (whole, or the chunk of it this call brings: deployment_uploads.py), then unpack, record,
    build and finish a new deployment of the call's function or site; the deployment, built (or still `waiting` for
    the rest of its chunks, announced once all of it is in)."""
    require_code(call)
    engine, project_id = call.engine, call.project.id
    owner_id = call.params[owner.id_param]
    deployment_id = deployment_uploads.deployment_id_of(code_param)
    existing = engine.change(
        project_id, lambda project: store.find(project.connection, owner.deployment_kind, deployment_id)
    )
    if existing is not None:  # a chunk sent again after the upload completed
        if existing["resourceId"] != owner_id:
            raise AppwriteError(
                "storage_invalid_appwrite_id", f"The x-appwrite-id header names a deployment of another {owner.kind}."
            )
        withhold(call.project, call.op.events)
        return existing
    folder = owner.folder(call.project, owner_id, deployment_id)
    archive = deployment_uploads.receive(code_param, folder.parent, deployment_id)
    if archive is None:
        withhold(call.project, call.op.events)
        now = now_iso()
        waiting = deployment_body(owner, owner_id, build.entrypoint, 0, activate)
        return {"$id": deployment_id, "$createdAt": now, "$updatedAt": now, **waiting}
    code = folder / "code"
    try:
        executor.extract(archive, code)
        if build.unpacked:
            build.unpacked(code)
    except ValueError as error:
        shutil.rmtree(folder, ignore_errors=True)
        raise invalid_argument(f"Invalid `code` param: {error}") from None
    except AppwriteError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    (folder / "code.tar.gz").write_bytes(archive)
    body = deployment_body(owner, owner_id, build.entrypoint, len(archive), activate)
    ids = {owner.id_param: owner_id, "deploymentId": deployment_id}

    def record(project) -> dict:
        store.require(project.connection, owner.kind, owner_id)
        deployment = store.insert(
            project.connection, owner.deployment_kind, deployment_id, {**body, "status": "building"}, owner_id
        )
        announce(project, call.auth, owner.event("create"), ids, deployment)
        return deployment

    try:
        engine.change(project_id, record)
    except AppwriteError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    started = time.monotonic()
    result = executor.build(code, build.commands, build.runtime, build.timeout, build.env)
    problem = build.built(code) if result.ok and build.built else ""
    status = "ready" if result.ok and not problem else "failed"
    log = result.log + (("\n" if result.log else "") + problem if problem else "")

    def finish(project) -> dict:
        current = store.require(project.connection, owner.deployment_kind, deployment_id)
        final = "canceled" if current["status"] == "canceled" else status
        deployment = store.update(
            project.connection,
            owner.deployment_kind,
            deployment_id,
            {"status": final, "buildLogs": log, "buildDuration": round(time.monotonic() - started)},
        )
        changes = {
            "latestDeploymentId": deployment_id,
            "latestDeploymentCreatedAt": deployment["$createdAt"],
            "latestDeploymentStatus": final,
        }
        if activate and final == "ready":
            changes.update(deploymentId=deployment_id, deploymentCreatedAt=deployment["$createdAt"])
            executor.retire(store.owner_folder(project, owner_id, owner.service))
        store.update(project.connection, owner.kind, owner_id, changes)
        announce(project, call.auth, owner.event("update"), ids, deployment)
        return deployment

    return engine.change(project_id, finish)


def get(call: Call, owner: Owner) -> dict:
    owner_id = call.params[owner.id_param]
    store.require(call.project.connection, owner.kind, owner_id)
    return store.require(call.project.connection, owner.deployment_kind, call.params["deploymentId"], owner_id)


def activate(call: Call, owner: Owner, present: Callable[[dict], dict]) -> dict:
    """Make a ready deployment the active one; the function or site then, as `present` shows it (announced)."""
    owner_id = call.params[owner.id_param]
    deployment = get(call, owner)
    if deployment["status"] != "ready":
        raise AppwriteError("build_not_ready", "Build not ready")
    changes = {"deploymentId": deployment["$id"], "deploymentCreatedAt": deployment["$createdAt"]}
    updated = present(store.update(call.project.connection, owner.kind, owner_id, changes))
    executor.retire(store.owner_folder(call.project, owner_id, owner.service))
    ids = {owner.id_param: owner_id, "deploymentId": deployment["$id"]}
    announce(call.project, call.auth, owner.event("update"), ids, updated)
    return updated


def delete(call: Call, owner: Owner) -> None:
    connection = call.project.connection
    owner_id = call.params[owner.id_param]
    deployment = get(call, owner)
    connection.execute(f"DELETE FROM {store.KINDS[owner.deployment_kind].table} WHERE id = ?", (deployment["$id"],))
    if store.require(connection, owner.kind, owner_id)["deploymentId"] == deployment["$id"]:
        store.update(connection, owner.kind, owner_id, {"deploymentId": "", "deploymentCreatedAt": ""})
    executor.retire(owner.folder(call.project, owner_id, deployment["$id"]))
    shutil.rmtree(owner.folder(call.project, owner_id, deployment["$id"]), ignore_errors=True)
    ids = {owner.id_param: owner_id, "deploymentId": deployment["$id"]}
    announce(call.project, call.auth, owner.event("delete"), ids, deployment)


def download(call: Call, owner: Owner, output: Callable[[Path], Path] = lambda code: code) -> Media:
    """The deployment's archive (`type` source), or a tar.gz of what its build left in `output(code)` (`output`)."""
    deployment = get(call, owner)
    folder = owner.folder(call.project, call.params[owner.id_param], deployment["$id"])
    if call.params.get("type", "source") == "source":
        return Media((folder / "code.tar.gz").read_bytes(), "application/gzip", f"{deployment['$id']}.tar.gz")
    if deployment["status"] != "ready":
        raise AppwriteError("build_not_ready", "Build not ready")
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w:gz") as tar:
        tar.add(output(folder / "code"), arcname=".")
    return Media(packed.getvalue(), "application/gzip", f"{deployment['$id']}-output.tar.gz")


def duplicate(
    call: Call, owner: Owner, create: Callable[[Call], dict], carried: Callable[[dict], dict] = lambda original: {}
) -> dict:
    """A new deployment of the same code, rebuilt by `create` (the service's createDeployment) with the parameters
    `carried` takes from the original."""
    owner_id = call.params[owner.id_param]
    original = call.engine.change(
        call.project.id,
        lambda project: store.require(project.connection, owner.deployment_kind, call.params["deploymentId"], owner_id),
    )
    archive = owner.folder(call.project, owner_id, original["$id"]) / "code.tar.gz"
    call.params.update(code=Upload("code.tar.gz", "application/gzip", archive.read_bytes()), activate=False)
    call.params.update(carried(original))
    return create(call)


def cancel(call: Call, owner: Owner) -> dict:
    """Cancel a build under way (its end then leaves it canceled); a finished one cannot be."""
    deployment = get(call, owner)
    if deployment["status"] in ("ready", "failed", "canceled"):
        raise AppwriteError(
            "build_already_completed", "Build with the requested ID is already completed and cannot be canceled.", 400
        )
    canceled = store.update(call.project.connection, owner.deployment_kind, deployment["$id"], {"status": "canceled"})
    announce(
        call.project,
        call.auth,
        owner.event("update"),
        {owner.id_param: call.params[owner.id_param], "deploymentId": deployment["$id"]},
        canceled,
    )
    return canceled
