"""The organization service: the projects of the data dir, for the local administrator."""

from __future__ import annotations

import pytest

from mcp_server.engine.permissions import key_auth
from tests.engine.conftest import error_of, q


def test_projects_are_created_listed_renamed_and_deleted(engine, call):
    assert [p["$id"] for p in call("organization.listProjects")["projects"]] == ["default"]
    created = call("organization.createProject", projectId="shop-staging", name="Shop (staging)")
    assert (created["$id"], created["name"], created["region"], created["status"]) == (
        "shop-staging",
        "Shop (staging)",
        "default",
        "active",
    )
    # The new project is a project of its own: its data is apart from the default project's.
    call("tablesDB.create", databaseId="main", name="Main")
    assert engine.call("tablesDB.list", {}, project="shop-staging")["total"] == 0
    assert engine.call("project.get", {}, project="shop-staging")["name"] == "Shop (staging)"
    generated = call("organization.createProject", projectId="unique()", name="scratch")
    listed = call("organization.listProjects", queries=[q("orderDesc", "name")])
    assert [p["name"] for p in listed["projects"]] == ["scratch", "default", "Shop (staging)"]
    assert call("organization.listProjects", search="stag")["total"] == 1
    renamed = call("organization.updateProject", projectId="shop-staging", name="Shop staging")
    assert renamed["name"] == call("organization.getProject", projectId="shop-staging")["name"] == "Shop staging"
    assert call("organization.deleteProject", projectId=generated["$id"]) is None
    assert not (engine.data_dir / generated["$id"]).exists()
    assert error_of(call, "organization.getProject", projectId=generated["$id"]).type == "project_not_found"
    assert call("organization.listProjects")["total"] == 2


def test_deleting_the_default_project_starts_it_again_empty(engine, call):
    call("tablesDB.create", databaseId="main", name="Main")
    call("organization.deleteProject", projectId="default")
    assert call("tablesDB.list")["total"] == 0
    assert [p["$id"] for p in call("organization.listProjects")["projects"]] == ["default"]


@pytest.mark.parametrize(
    ("params", "error_type"),
    [
        ({"projectId": "default", "name": "Again"}, "project_already_exists"),
        ({"projectId": "console", "name": "Console"}, "project_reserved_project"),
        ({"projectId": "Upper", "name": "x"}, "general_argument_invalid"),
        ({"projectId": "dots.are.ids", "name": "x"}, "general_argument_invalid"),
        ({"projectId": "-lead", "name": "x"}, "general_argument_invalid"),
        ({"projectId": "p1", "name": "x" * 129}, "general_argument_invalid"),
        ({"projectId": "p1", "name": "x", "region": "fra"}, "general_argument_invalid"),
        ({"projectId": "../escape", "name": "x"}, "general_argument_invalid"),
    ],
)
def test_a_bad_project_is_refused_by_field_and_nothing_is_made(engine, call, params, error_type):
    call("organization.listProjects")
    before = sorted(path.name for path in engine.data_dir.iterdir())
    error = error_of(call, "organization.createProject", **params)
    assert error.type == error_type
    if error_type == "general_argument_invalid":
        field = next(name for name in ("region", "name", "projectId") if name in error.message)
        assert field in params
    assert sorted(path.name for path in engine.data_dir.iterdir()) == before


def test_only_the_local_administrator_manages_projects(engine, call):
    call("users.create", userId="ada", email="ada@example.com")
    key = key_auth(frozenset({"users.read", "project.read"}))
    for auth in (key, engine.user_auth("default", "ada")):
        error = error_of(call, "organization.listProjects", auth)
        assert (error.type, error.code) == ("general_unauthorized_scope", 401)
    assert error_of(call, "organization.createProject", key, projectId="p2", name="x").code == 401


def test_an_unknown_project_is_not_found(call):
    for operation_id, params in (
        ("organization.getProject", {}),
        ("organization.updateProject", {"name": "x"}),
        ("organization.deleteProject", {}),
    ):
        assert error_of(call, operation_id, projectId="nope", **params).type == "project_not_found"
