"""A site's deployments: its source as a `tar.gz`, built by the site's `installCommand` and `buildCommand` (run
with the machine's node and npm, in the deployment's folder, with the site's variables), after which its
`outputDirectory` is what is served (hosting.py). The machinery is the one functions use (code_deployments.py).

A site whose adapter is `ssr` is built with its framework's build environment and must leave the framework's
server in the output directory (ssr.py); its server then answers the site's requests (hosting.py). An empty
`outputDirectory` means the framework's default for its adapter.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import AppwriteError
from ..functions import code_deployments, code_variables, executor, store
from ..functions.code_deployments import CPUS, MEMORY_MB, SITES, Build
from ..functions.code_variables import SITE_VARIABLES
from ..registry import Call, handles
from .frameworks import FRAMEWORKS, STATIC
from .sites import with_variables
from .ssr import build_env, server_of

BUILD_TIMEOUT = 900.0
SSR = "ssr"
# What a built deployment serves, written beside its code once the build succeeded.
HOSTING_FILE = "hosting.json"


def build_runtime() -> executor.Runtime:
    """The machine's node (what sites build with), else the Python running the server (commands still run)."""
    installed = executor.installed_runtimes()
    return next((runtime for runtime in installed if runtime.language == "node"), installed[0])


def output_directory(site: dict, requested: str | None) -> str:
    chosen = site["outputDirectory"] if requested is None else requested
    if chosen:
        return chosen
    adapters = FRAMEWORKS[site["framework"]][2]
    return adapters.get(site["adapter"] or STATIC, adapters[STATIC])[2]


def inside(root: Path, relative: str) -> Path | None:
    """`root/relative` resolved, when it stays inside `root` (symbolic links followed)."""
    if relative.startswith("/") or "\0" in relative:
        return None
    path = (root / relative).resolve()
    return path if path.is_relative_to(root.resolve()) else None


def site_environment(connection: Any, project_id: str, site: dict) -> dict[str, str]:
    """The site's variables and Appwrite's values (app/controllers/general.php), as its build and server see them."""
    return {
        **code_variables.environment(connection, SITE_VARIABLES, site["$id"]),
        "APPWRITE_SITE_ID": site["$id"],
        "APPWRITE_SITE_NAME": site["name"],
        "APPWRITE_SITE_PROJECT_ID": project_id,
        "APPWRITE_SITE_RUNTIME_NAME": "Node.js",
        "APPWRITE_SITE_CPUS": str(CPUS),
        "APPWRITE_SITE_MEMORY": str(MEMORY_MB),
        "APPWRITE_VERSION": "1.9.6",
        "APPWRITE_REGION": "default",
        "APPWRITE_DEPLOYMENT_TYPE": "manual",
    }


@handles("sites.createDeployment", own_transactions=True)
def create_deployment(call: Call) -> dict:
    """Unpack and build the site outside the write lock; answer with the deployment once built."""
    site_id = call.params["siteId"]

    def read(project: Any) -> tuple[dict, dict[str, str]]:
        site = store.require(project.connection, "site", site_id)
        return site, site_environment(project.connection, project.id, site)

    site, env = call.engine.change(call.project.id, read)
    rendered = site["adapter"] == SSR
    if rendered:
        env = build_env(site["framework"]) | env
    output = output_directory(site, call.params.get("outputDirectory"))
    commands = [
        site[name] if call.params.get(name) is None else call.params[name]
        for name in ("installCommand", "buildCommand")
    ]

    def check_output(code: Path) -> None:
        if inside(code, output) is None:
            raise AppwriteError(
                "general_argument_invalid", f"Invalid `outputDirectory` param: {output!r} leads out of the site's code"
            )

    def built(code: Path) -> str:
        served = inside(code, output)
        if served is None or not served.is_dir():
            return f"Build output directory {output!r} was not found (or leads out of the site's code)."
        server = server_of(site["framework"], served, code, site["startCommand"]) if rendered else None
        if isinstance(server, str):
            return server
        hosting = {"outputDirectory": output, "fallbackFile": site["fallbackFile"], "server": server}
        (code.parent / HOSTING_FILE).write_text(json.dumps(hosting), encoding="utf-8")
        return ""

    build = Build(
        commands=" && ".join(command for command in commands if command.strip()),
        runtime=build_runtime(),
        timeout=BUILD_TIMEOUT,
        env=env,
        unpacked=check_output,
        built=built,
    )
    return code_deployments.deploy(call, SITES, call.params["code"], call.params.get("activate", False), build)


@handles("sites.listDeployments")
def list_deployments(call: Call) -> dict:
    total, page = store.listed(
        call, "site_deployment", {"buildSize", "sourceSize", "totalSize", "buildDuration", "status", "activate", "type"}
    )
    return {"total": total, "deployments": page}


@handles("sites.getDeployment")
def get_deployment(call: Call) -> dict:
    return code_deployments.get(call, SITES)


@handles("sites.updateSiteDeployment", announces=True)
def activate_deployment(call: Call) -> dict:
    return code_deployments.activate(call, SITES, lambda site: with_variables(call, site))


@handles("sites.deleteDeployment", announces=True)
def delete_deployment(call: Call) -> None:
    code_deployments.delete(call, SITES)


@handles("sites.getDeploymentDownload")
def download_deployment(call: Call) -> Any:
    return code_deployments.download(call, SITES, lambda code: served(code)[0])


@handles("sites.createDuplicateDeployment", own_transactions=True)
def duplicate_deployment(call: Call) -> dict:
    """A new deployment of the same source, built again with the site's current settings."""
    return code_deployments.duplicate(call, SITES, create_deployment)


@handles("sites.updateDeploymentStatus", announces=True)
def cancel_deployment(call: Call) -> dict:
    return code_deployments.cancel(call, SITES)


def served(code: Path) -> tuple[Path, str, dict | None]:
    """The folder a built deployment serves, its fallback file, and its server ({"command", "static"}, None for a
    static site), as recorded when it was built."""
    hosting = json.loads((code.parent / HOSTING_FILE).read_text(encoding="utf-8"))
    root = inside(code, hosting["outputDirectory"])
    if root is None:
        raise AppwriteError("deployment_not_found", "The deployment's output directory is gone.")
    return root, hosting["fallbackFile"], hosting.get("server")
