"""A site's request logs: one execution-shaped entry per request its hosting served (method, path, status,
duration), the oldest pruned beyond LOG_LIMIT per site. Appwrite keeps them as executions of the site."""

from __future__ import annotations

from typing import Any

from ..events import announce
from ..functions import store
from ..ids import resolve_id
from ..registry import Call, handles

LOG_LIMIT = 1000


def log_body(site_id: str, deployment_id: str, method: str, path: str, status: int, duration: float) -> dict:
    return {
        "$permissions": [],
        "functionId": site_id,
        "deploymentId": deployment_id,
        "trigger": "http",
        "status": "completed" if status < 500 else "failed",
        "requestMethod": method,
        "requestPath": path,
        "requestHeaders": [],
        "responseStatusCode": status,
        "responseBody": "",
        "responseHeaders": [],
        "logs": "",
        "errors": "",
        "duration": round(duration, 6),
        "scheduledAt": None,
    }


def record(
    project: Any, site_id: str, deployment_id: str, method: str, path: str, status: int, duration: float
) -> None:
    """Keep a log of a request served (in the project's write transaction), dropping the oldest past LOG_LIMIT."""
    body = log_body(site_id, deployment_id, method, path, status, duration)
    store.insert(project.connection, "site_log", resolve_id("unique()", "logId"), body, site_id)
    project.connection.execute(
        "DELETE FROM _site_logs WHERE site_id = ? AND seq <= "
        "(SELECT seq FROM _site_logs WHERE site_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
        (site_id, site_id, LOG_LIMIT),
    )


@handles("sites.listLogs")
def list_logs(call: Call) -> dict:
    total, page = store.listed(
        call,
        "site_log",
        {"trigger", "status", "responseStatusCode", "duration", "requestMethod", "requestPath", "deploymentId"},
    )
    return {"total": total, "executions": page}


@handles("sites.getLog")
def get_log(call: Call) -> dict:
    store.require(call.project.connection, "site", call.params["siteId"])
    return store.require(call.project.connection, "site_log", call.params["logId"], call.params["siteId"])


@handles("sites.deleteLog", announces=True)
def delete_log(call: Call) -> None:
    log = get_log(call)
    call.project.connection.execute("DELETE FROM _site_logs WHERE id = ?", (log["$id"],))
    ids = {"siteId": call.params["siteId"], "logId": log["$id"]}
    announce(call.project, call.auth, "sites.[siteId].logs.[logId].delete", ids, log)
