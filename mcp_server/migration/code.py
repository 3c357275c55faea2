"""Functions and sites: their settings, variables and the code of their active deployment (the source archive
downloaded and uploaded again, activated once built). A secret variable's value is never returned by the API:
it is listed to be set again."""

from __future__ import annotations

import os

import anyio

from ..engine.errors import AppwriteError
from ..uploads import LocalFile
from .context import Migration, checksum, pick, sync_model
from .endpoint import Endpoint, MigrationFailure, remove
from .report import CREATE, SET_AGAIN, SKIP, UPDATE

# service: (its id parameter, the noun of its items)
SERVICES = {"functions": ("functionId", "function"), "sites": ("siteId", "site")}
BUILD_WAIT_S = 600.0
POLL_S = 0.5
VARIABLE_FIELDS = ("key", "value", "secret")
# What a snapshot compares: the settings that move (ids, timestamps and deployment ids are the target's own).
SETTLED = {
    "$createdAt",
    "$updatedAt",
    "deploymentId",
    "deploymentCreatedAt",
    "deploymentDomain",
    "deploymentScreenshotLight",
    "deploymentScreenshotDark",
    "latestDeploymentId",
    "latestDeploymentCreatedAt",
    "latestDeploymentStatus",
    "vars",
    "live",
}


async def migrate_code(m: Migration, service: str) -> None:
    items = await m.source.all(f"{service}.list", {}, service, service)
    m.progress.start(service, len(items))
    await m.each(items, lambda item: move(m, service, item))


async def move(m: Migration, service: str, item: dict) -> None:
    id_param, noun = SERVICES[service]
    name = f"{noun} {item['$id']}"
    ids = {id_param: item["$id"]}
    ops = (f"{service}.get", f"{service}.create", f"{service}.update")
    there = await sync_model(m, service, name, item, ids, ops)
    await move_variables(m, service, ids, name)
    if not item.get("deploymentId"):
        m.progress.advance(service)
        return
    if there is not None and there.get("deploymentId"):
        m.plan("deployments", SKIP)
    elif m.plan("deployments", CREATE):
        await move_deployment(m, service, ids, item, name)
    m.progress.advance(service)


async def move_variables(m: Migration, service: str, ids: dict, name: str) -> None:
    present = {found["key"]: found for found in await m.target.all(f"{service}.listVariables", ids, "variables", name)}
    for variable in await m.source.all(f"{service}.listVariables", ids, "variables", name):
        label = f"{name} variable {variable['key']}"
        if variable.get("secret"):
            m.report.note(SET_AGAIN, label, "a secret variable: the API never returns its value")
            if variable["key"] in present:
                continue
            if m.plan("variables", CREATE):  # made with a blank value, to be set by hand
                params = ids | {"variableId": variable["$id"], "key": variable["key"], "value": "", "secret": True}
                await m.target.call(f"{service}.createVariable", params, label)
            continue
        there = present.get(variable["key"])
        if there is None:
            if m.plan("variables", CREATE):
                params = ids | {"variableId": variable["$id"]} | pick(variable, VARIABLE_FIELDS)
                await m.target.call(f"{service}.createVariable", params, label)
        elif there.get("value") == variable.get("value"):
            m.plan("variables", SKIP)
        elif m.plan("variables", UPDATE):
            params = ids | {"variableId": there["$id"]} | pick(variable, VARIABLE_FIELDS)
            await m.target.call(f"{service}.updateVariable", params, label)


async def move_deployment(m: Migration, service: str, ids: dict, item: dict, name: str) -> None:
    """The active deployment's source archive uploaded as a new, activated deployment; waited for until built."""
    label = f"{name} deployment {item['deploymentId']}"
    download = ids | {"deploymentId": item["deploymentId"], "type": "source"}
    archive = await m.source.download(f"{service}.getDeploymentDownload", download, label)
    try:
        descriptor = os.open(archive, os.O_RDONLY)
        code = LocalFile("code", descriptor, "code.tar.gz", os.fstat(descriptor).st_size)
        try:
            create = m.target.operation(f"{service}.createDeployment")
            settings = {key: item[key] for key, place in create.params.items() if place == "form" and item.get(key)}
            params = settings | ids | {"code": code, "activate": True}
            deployment = await m.target.call(create.id, params, label)
        finally:
            code.close()
    finally:
        remove(archive)
    await wait_built(m.target, service, ids | {"deploymentId": deployment["$id"]}, label)


async def wait_built(target: Endpoint, service: str, ids: dict, label: str) -> None:
    with anyio.move_on_after(BUILD_WAIT_S):
        while True:
            deployment = await target.call(f"{service}.getDeployment", ids, label)
            if deployment["status"] == "ready":
                return
            if deployment["status"] in ("failed", "canceled"):
                raise MigrationFailure(f"target {label}", f"{service}.createDeployment", build_failed(deployment))
            await anyio.sleep(POLL_S)
    raise MigrationFailure(f"target {label}", f"{service}.createDeployment", build_failed({"status": "still building"}))


def build_failed(deployment: dict) -> AppwriteError:
    logs = (deployment.get("buildLogs") or "")[-500:]
    return AppwriteError("build_failed", f"the build is {deployment['status']}: {logs}".strip(), 500)


async def snapshot(endpoint: Endpoint, service: str) -> dict[str, tuple[int, str]]:
    id_param, noun = SERVICES[service]
    found = {}
    for item in await endpoint.all(f"{service}.list", {}, service, service):
        variables = await endpoint.all(f"{service}.listVariables", {id_param: item["$id"]}, "variables", "variables")
        moved = sorted((pick(variable, ("key", "secret")) for variable in variables), key=lambda v: v["key"])
        settings = {key: value for key, value in item.items() if key not in SETTLED}
        found[f"{noun} {item['$id']}"] = (len(moved), checksum([settings, bool(item.get("deploymentId")), *moved]))
    return found
