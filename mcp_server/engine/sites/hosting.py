"""What a site serves: the output directory of its active deployment and its SPA fallback file, and for a site
rendered on the server (ssr.py) the server answering its requests. The REST face asks the engine
(Engine.site_to_serve, Engine.site_server_port) and serves the files, or passes the request on to the server
(mcp_server/rest/hosting.py).

The server runs with the site's variables and Appwrite's `APPWRITE_SITE_*` values (its deployment's id included),
under the functions' limits (functions/servers.py), one per active deployment.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AppwriteError
from ..functions import executor, store
from ..functions.code_deployments import MEMORY_MB, SITES
from ..functions.servers import SERVERS, ServerFailed, ServerKey
from .deployments import build_runtime, inside, served, site_environment


@dataclass(frozen=True)
class SiteServer:
    key: ServerKey
    # The output's folder of static files answered ahead of the server (None: every request goes to it).
    static: Path | None
    # How long the server may take to answer a request, in seconds (the site's `timeout`).
    timeout: int


@dataclass(frozen=True)
class ServedSite:
    site_id: str
    deployment_id: str
    # The output directory, resolved: nothing outside it is served.
    root: Path
    # The file answered for a path that matches none (single-page apps), "" for a 404.
    fallback: str
    # The server of a site rendered on the server, None for a static site.
    server: SiteServer | None = None


def site_to_serve(project: Any, site_id: str, api_endpoint: str = "") -> ServedSite:
    """The active deployment a site serves; site_not_found (also when disabled), deployment_not_found or
    build_not_ready when there is nothing to serve."""
    with project.db.reading() as connection:
        site = store.require(connection, "site", site_id)
        if not site["enabled"]:
            raise AppwriteError("site_not_found", "Site with the requested ID could not be found.")
        if not site["deploymentId"]:
            raise AppwriteError(
                "deployment_not_found", "This site has no active deployment yet: deploy its code and activate it."
            )
        deployment = store.require(connection, SITES.deployment_kind, site["deploymentId"], site_id)
        env = site_environment(connection, project.id, site)
    if deployment["status"] != "ready":
        raise AppwriteError("build_not_ready", "The site's active deployment is not built.")
    code = SITES.folder(project, site_id, deployment["$id"]) / "code"
    root, fallback, server = served(code)
    if server is None:
        return ServedSite(site_id, deployment["$id"], root, fallback)
    env |= {"APPWRITE_SITE_DEPLOYMENT": deployment["$id"]}
    if api_endpoint:
        env["APPWRITE_SITE_API_ENDPOINT"] = api_endpoint
    key = ServerKey(
        code.resolve(),
        root,
        server["command"],
        build_runtime(),
        frozenset(env.items()),
        MEMORY_MB,
        executor.MAX_PROCESSES,
    )
    static = inside(root, server["static"]) if server["static"] else None
    return ServedSite(site_id, deployment["$id"], root, fallback, SiteServer(key, static, site["timeout"]))


def server_port(server: SiteServer) -> int:
    """The port of the site's server, started now when it is not running; general_server_error (502) when it
    cannot be started."""
    try:
        return SERVERS.port(server.key)
    except ServerFailed as error:
        raise AppwriteError("general_server_error", str(error), 502) from None


def restart_server(server: SiteServer, port: int) -> None:
    """Stop the site's server on `port` (it failed a request): the next request starts it again."""
    SERVERS.restart(server.key.directory, port)
