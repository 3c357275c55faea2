"""The `sites` service on the embedded engine (Appwrite 1.9.6's src/Appwrite/Platform/Modules/Sites): sites
themselves, here; their deployments, request logs and variables in the modules beside this one.

A site declares a framework (frameworks.py) and may pick one of its adapters; builds run with the machine's tools
(its `node` and `npm`), whatever `buildRuntime` names. Git (VCS) and template deployments need network access:
they answer `general_not_implemented` (unimplemented.py), and a site cannot be linked to an installation.
"""

from __future__ import annotations

import shutil

from ..errors import AppwriteError, invalid_argument
from ..events import announce
from ..functions import code_variables, executor, store
from ..functions.code_deployments import SITES, SPECIFICATION
from ..functions.code_variables import SITE_VARIABLES
from ..ids import resolve_id
from ..listing import list_models
from ..registry import Call, handles
from .frameworks import FRAMEWORKS

DEFAULT_TIMEOUT = 30
MAX_TIMEOUT = 30
MAX_RETENTION_DAYS = 100 * 365
QUERYABLE_SITES = {
    "name",
    "enabled",
    "framework",
    "deploymentId",
    "buildCommand",
    "installCommand",
    "outputDirectory",
    "installationId",
}


def check_params(params: dict) -> None:
    """What Appwrite checks of a site's parameters beyond their types (its Create and Update routes)."""
    framework, adapter = params["framework"], params.get("adapter", "")
    if adapter and adapter not in FRAMEWORKS[framework][2]:
        raise invalid_argument("Invalid `adapter` param: Adapter not supported for the selected framework.")
    timeout = params.get("timeout", DEFAULT_TIMEOUT)
    if not 1 <= timeout <= MAX_TIMEOUT:
        raise invalid_argument(f"Invalid `timeout` param: Value must be a valid range between 1 and {MAX_TIMEOUT}")
    if not 0 <= params.get("deploymentRetention", 0) <= MAX_RETENTION_DAYS:
        raise invalid_argument(
            f"Invalid `deploymentRetention` param: Value must be a valid range between 0 and {MAX_RETENTION_DAYS}"
        )
    for name in ("buildSpecification", "runtimeSpecification"):
        if params.get(name, SPECIFICATION["slug"]) != SPECIFICATION["slug"]:
            raise invalid_argument(
                f"Invalid `{name}` param: Specification must be one of: {SPECIFICATION['slug']} (the only one here)"
            )
    if params.get("installationId"):
        raise AppwriteError(
            "installation_not_found",
            "Installation with the requested ID could not be found: the embedded engine connects to no git provider.",
        )
    if params.get("providerRepositoryId"):
        raise invalid_argument(
            'When connecting to VCS (Version Control System), you need to provide "installationId" and '
            '"providerBranch".'
        )


def site_body(call: Call, current: dict | None = None) -> dict:
    params = call.params
    check_params(params)
    kept = current or {}
    return {
        "name": params["name"],
        "enabled": params.get("enabled", True),
        "live": True,
        "logging": params.get("logging", True),
        "framework": params["framework"],
        "deploymentRetention": params.get("deploymentRetention", 0),
        "deploymentId": kept.get("deploymentId", ""),
        "deploymentCreatedAt": kept.get("deploymentCreatedAt", ""),
        "deploymentScreenshotLight": "",
        "deploymentScreenshotDark": "",
        "latestDeploymentId": kept.get("latestDeploymentId", ""),
        "latestDeploymentCreatedAt": kept.get("latestDeploymentCreatedAt", ""),
        "latestDeploymentStatus": kept.get("latestDeploymentStatus", ""),
        "vars": [],
        "timeout": params.get("timeout", DEFAULT_TIMEOUT),
        "installCommand": params.get("installCommand", ""),
        "buildCommand": params.get("buildCommand", ""),
        "startCommand": params.get("startCommand", ""),
        "outputDirectory": params.get("outputDirectory", ""),
        "installationId": "",
        "providerRepositoryId": "",
        "providerBranch": params.get("providerBranch", ""),
        "providerRootDirectory": params.get("providerRootDirectory", ""),
        "providerSilentMode": params.get("providerSilentMode", False),
        "providerBranches": params.get("providerBranches") or [],
        "providerPaths": params.get("providerPaths") or [],
        "buildSpecification": SPECIFICATION["slug"],
        "runtimeSpecification": SPECIFICATION["slug"],
        "buildRuntime": params.get("buildRuntime") or kept.get("buildRuntime", ""),
        "adapter": params.get("adapter", ""),
        "fallbackFile": params.get("fallbackFile", ""),
    }


def with_variables(call: Call, site: dict) -> dict:
    rows = code_variables.rows(call.project.connection, SITE_VARIABLES, site["$id"])
    site["vars"] = [code_variables.model(row, SITE_VARIABLES) for row in rows]
    return site


def announced(call: Call, label: str, site_id: str, payload: dict) -> dict:
    announce(call.project, call.auth, label, {"siteId": site_id}, payload)
    return payload


@handles("sites.list")
def list_sites(call: Call) -> dict:
    models = [with_variables(call, model) for model in store.all_of(call.project.connection, "site")]
    total, page = list_models(
        models,
        call.params.get("queries"),
        QUERYABLE_SITES,
        search=call.params.get("search"),
        search_fields=("$id", "name", "framework"),
        count=call.params.get("total", True),
        noun="site",
    )
    return {"total": total, "sites": page}


@handles("sites.create", announces=True)
def create_site(call: Call) -> dict:
    connection = call.project.connection
    site_id = resolve_id(call.params["siteId"], "siteId")
    body = site_body(call)
    if connection.execute("SELECT 1 FROM _sites WHERE id = ?", (site_id,)).fetchone():
        raise AppwriteError(
            "site_already_exists",
            "Site with the requested ID already exists. Try again with a different ID or use ID.unique() to "
            "generate a unique ID.",
        )
    site = store.insert(connection, "site", site_id, body)
    return announced(call, "sites.[siteId].create", site_id, with_variables(call, site))


@handles("sites.get")
def get_site(call: Call) -> dict:
    return with_variables(call, store.require(call.project.connection, "site", call.params["siteId"]))


@handles("sites.update", announces=True)
def update_site(call: Call) -> dict:
    site_id = call.params["siteId"]
    current = store.require(call.project.connection, "site", site_id)
    site = store.update(call.project.connection, "site", site_id, site_body(call, current))
    return announced(call, "sites.[siteId].update", site_id, with_variables(call, site))


@handles("sites.delete", announces=True)
def delete_site(call: Call) -> None:
    connection = call.project.connection
    site_id = call.params["siteId"]
    site = with_variables(call, store.require(connection, "site", site_id))
    for table in ("_site_deployments", "_site_logs", "_site_variables"):
        connection.execute(f"DELETE FROM {table} WHERE site_id = ?", (site_id,))
    connection.execute("DELETE FROM _sites WHERE id = ?", (site_id,))
    executor.retire(store.owner_folder(call.project, site_id, SITES.service))
    shutil.rmtree(call.project.db.path.parent / SITES.service / site_id, ignore_errors=True)
    announced(call, "sites.[siteId].delete", site_id, site)


@handles("sites.listSpecifications")
def list_specifications(call: Call) -> dict:
    return {"total": 1, "specifications": [dict(SPECIFICATION)]}
