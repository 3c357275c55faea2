"""The organization's projects: every project in the engine's data dir, listed, created, renamed and deleted.

A self-hosted Appwrite answers these to an organization's API key; the embedded engine has no
organization keys (a project key cannot hold `projects.*`), so they are for the local administrator
(the MCP server and `baas-mcp call` without `--key`). A project is a folder of the data dir: creating
one makes its database and keeps its name; deleting one removes its whole folder, as project.delete
does from inside it. The region is self-hosted Appwrite's only one, `default`.
"""

from __future__ import annotations

import threading

from ..errors import AppwriteError, invalid_argument
from ..ids import new_id
from ..listing import list_models
from ..permissions import ADMIN
from ..project.settings import project_model, store
from ..projects import Project
from ..registry import Call, handles

QUERYABLE = {"name", "teamId", "labels"}
REGIONS = ("default",)
RESERVED = "console"
# Creating a project checks that its id is free and makes it in one step.
CREATING = threading.Lock()


def require_administrator(call: Call) -> None:
    if call.auth.scopes is not None:
        raise AppwriteError(
            "general_unauthorized_scope",
            f"{call.auth.label} is not allowed to run {call.op.id}: the organization's projects are managed by the "
            "local administrator (the MCP server, or baas-mcp call without --key)",
            401,
        )


def model_of(call: Call, project_id: str) -> dict:
    state: Project = call.engine.project(project_id)
    with state.reading(call.engine.read_timeout):
        return project_model(state)


@handles("organization.listProjects", own_transactions=True)
def list_projects(call: Call) -> dict:
    require_administrator(call)
    total, page = list_models(
        [model_of(call, project_id) for project_id in call.engine.project_ids()],
        call.params.get("queries"),
        QUERYABLE,
        search=call.params.get("search"),
        search_fields=("$id", "name"),
        count=call.params.get("total", True),
        noun="project",
    )
    return {"total": total, "projects": page}


@handles("organization.getProject", own_transactions=True)
def get_project(call: Call) -> dict:
    require_administrator(call)
    return model_of(call, call.engine.require_project(call.params["projectId"]))


@handles("organization.createProject", own_transactions=True)
def create_project(call: Call) -> dict:
    require_administrator(call)
    params = call.params
    region = params.get("region", "default")
    if region not in REGIONS:
        raise invalid_argument(f"Invalid `region` param: Value must be one of ({', '.join(REGIONS)})")
    project_id = new_id() if params["projectId"] == "unique()" else params["projectId"]
    if project_id == RESERVED:
        raise AppwriteError("project_reserved_project", f"'{RESERVED}' is a reserved project.", 400)
    with CREATING:
        if call.engine.has_project(project_id):
            raise AppwriteError(
                "project_already_exists",
                f"Project with the requested ID '{project_id}' already exists. Try again with a different ID or use "
                "ID.unique() to generate a unique ID.",
                409,
            )
        call.engine.change(project_id, lambda state: store(state.connection, "name", params["name"]))
    return model_of(call, project_id)


@handles("organization.updateProject", own_transactions=True)
def update_project(call: Call) -> dict:
    require_administrator(call)
    project_id = call.engine.require_project(call.params["projectId"])
    call.engine.change(project_id, lambda state: store(state.connection, "name", call.params["name"]))
    return model_of(call, project_id)


@handles("organization.deleteProject", own_transactions=True)
def delete_project(call: Call) -> None:
    require_administrator(call)
    call.engine.call("project.delete", {}, ADMIN, call.engine.require_project(call.params["projectId"]))
