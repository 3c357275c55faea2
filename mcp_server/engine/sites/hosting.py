"""What a site serves: the output directory of its active deployment, and its SPA fallback file. The REST face
asks the engine (Engine.site_to_serve) and serves the files itself (mcp_server/rest/hosting.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AppwriteError
from ..functions import store
from ..functions.code_deployments import SITES
from .deployments import served


@dataclass(frozen=True)
class ServedSite:
    site_id: str
    deployment_id: str
    # The output directory, resolved: nothing outside it is served.
    root: Path
    # The file answered for a path that matches none (single-page apps), "" for a 404.
    fallback: str


def site_to_serve(project: Any, site_id: str) -> ServedSite:
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
    if deployment["status"] != "ready":
        raise AppwriteError("build_not_ready", "The site's active deployment is not built.")
    root, fallback = served(SITES.folder(project, site_id, deployment["$id"]) / "code")
    return ServedSite(site_id, deployment["$id"], root, fallback)
