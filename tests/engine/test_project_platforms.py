"""The project's platforms: Appwrite's Platform models, their checks, and the origins they let in (cached until
they change, here or in another process)."""

from __future__ import annotations

import pytest

from mcp_server.engine import Engine
from mcp_server.engine.errors import AppwriteError

BASE = {"$id", "$createdAt", "$updatedAt", "name", "type"}
# Appwrite's Platform* models (appwrite 20.1.0 models/platform_*.py): the field each adds, and its create call.
KINDS = {
    "web": ("hostname", "project.createWebPlatform"),
    "apple": ("bundleIdentifier", "project.createApplePlatform"),
    "android": ("applicationId", "project.createAndroidPlatform"),
    "windows": ("packageIdentifierName", "project.createWindowsPlatform"),
    "linux": ("packageName", "project.createLinuxPlatform"),
}


def error_of(call, operation: str, **params) -> AppwriteError:
    with pytest.raises(AppwriteError) as caught:
        call(operation, **params)
    return caught.value


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_is_created_read_updated_listed_and_deleted(call, kind):
    field, create = KINDS[kind]
    value = "app.example.com" if kind == "web" else "com.example.app"
    made = call(create, platformId=f"my-{kind}", name="App", **{field: value})
    assert set(made) == BASE | {field}
    assert (made["$id"], made["type"], made["name"], made[field]) == (f"my-{kind}", kind, "App", value)
    assert call("project.getPlatform", platformId=f"my-{kind}") == made
    update = create.replace("create", "update")
    changed = call(update, platformId=f"my-{kind}", name="App 2", **{field: "other." + value})
    assert (changed["name"], changed[field]) == ("App 2", "other." + value)
    listed = call("project.listPlatforms")
    assert listed == {"total": 1, "platforms": [changed]}
    call("project.deletePlatform", platformId=f"my-{kind}")
    assert error_of(call, "project.getPlatform", platformId=f"my-{kind}").type == "platform_not_found"
    assert call("project.listPlatforms")["total"] == 0


def test_an_update_of_another_kind_is_refused(call):
    call("project.createAndroidPlatform", platformId="droid", name="A", applicationId="com.example")
    error = error_of(call, "project.updateApplePlatform", platformId="droid", name="A", bundleIdentifier="x")
    assert (error.type, error.code) == ("platform_method_unsupported", 400)
    error = error_of(call, "project.updateWebPlatform", platformId="droid", name="A", hostname="example.com")
    assert error.type == "platform_method_unsupported"


def test_a_taken_id_is_refused(call):
    call("project.createWebPlatform", platformId="site", name="A", hostname="a.example.com")
    error = error_of(call, "project.createLinuxPlatform", platformId="site", name="B", packageName="b")
    assert (error.type, error.code) == ("platform_already_exists", 409)


def test_legacy_types_map_to_the_new_kinds(call, engine):
    made = call("project.createWebPlatform", platformId="old", name="Old", type="flutter-ios", key="com.old.app")
    assert made["type"] == "apple"
    assert call("project.getPlatform", platformId="old")["bundleIdentifier"] == "com.old.app"
    assert "appwrite-ios" in engine.platform_origins("default").schemes
    error = error_of(call, "project.createWebPlatform", platformId="bad", name="Bad", type="symbian")
    assert (error.type, error.code) == ("general_bad_request", 400)


@pytest.mark.parametrize(
    "hostname",
    ["localhost:99999", "https://app.example.com", "app.example.com/path", "a" * 254, "x" * 10_000, "[::1]"],
)
def test_a_hostname_with_a_scheme_port_path_or_too_long_is_refused(call, engine, hostname):
    error = error_of(call, "project.createWebPlatform", platformId="unique()", name="W", hostname=hostname)
    assert error.code == 400
    assert "hostname" in error.message
    assert len(error.message) < 500
    assert call("project.listPlatforms")["total"] == 0
    assert engine.platform_origins("default").hostnames == ()


def test_a_web_platform_needs_a_hostname(call):
    assert "hostname" in error_of(call, "project.createWebPlatform", platformId="w", name="W").message


def test_bad_ids_and_names_are_refused(call):
    assert error_of(call, "project.createWebPlatform", platformId="-x", name="W", hostname="a.b").code == 400
    assert error_of(call, "project.createWebPlatform", platformId="w", name="", hostname="a.b").code == 400
    assert error_of(call, "project.createAndroidPlatform", platformId="a", name="A", applicationId="").code == 400


def test_origins_follow_the_platforms_at_once(call, engine):
    assert engine.platform_origins("default").hostnames == ()
    call("project.createWebPlatform", platformId="site", name="Site", hostname="App.Example.com")
    call("project.createWebPlatform", platformId="all", name="All", hostname="*.example.org")
    call("project.createAndroidPlatform", platformId="droid", name="Droid", applicationId="com.example.droid")
    origins = engine.platform_origins("default")
    assert origins.hostnames == ("app.example.com", "*.example.org", "com.example.droid")
    assert {"http", "https", "appwrite-android"} <= origins.schemes
    call("project.updateWebPlatform", platformId="site", name="Site", hostname="new.example.com")
    assert "new.example.com" in engine.platform_origins("default").hostnames
    call("project.deletePlatform", platformId="all")
    call("project.deletePlatform", platformId="droid")
    origins = engine.platform_origins("default")
    assert origins.hostnames == ("new.example.com",)
    assert "appwrite-android" not in origins.schemes


def test_an_internationalised_hostname_matches_its_punycode(call, engine):
    call("project.createWebPlatform", platformId="idn", name="IDN", hostname="bücher.example")
    assert "xn--bcher-kva.example" in engine.platform_origins("default").hostnames


def test_origins_changed_by_another_process_are_seen(engine, tmp_path):
    assert engine.platform_origins("default").hostnames == ()
    other = Engine(engine.data_dir)
    try:
        other.call("project.createWebPlatform", {"platformId": "x", "name": "X", "hostname": "x.example.com"})
        assert engine.platform_origins("default").hostnames == ("x.example.com",)
        other.call("project.deletePlatform", {"platformId": "x"})
        assert engine.platform_origins("default").hostnames == ()
    finally:
        other.close()


def test_list_filters_on_appwrite_s_attributes(call):
    call("project.createWebPlatform", platformId="a", name="A", hostname="a.example.com")
    call("project.createWebPlatform", platformId="b", name="B", hostname="b.example.com")
    found = call(
        "project.listPlatforms", queries=['{"method":"equal","attribute":"hostname","values":["b.example.com"]}']
    )
    assert [platform["$id"] for platform in found["platforms"]] == ["b"]
    error = error_of(call, "project.listPlatforms", queries=['{"method":"equal","attribute":"key","values":["x"]}'])
    assert error.type == "general_query_invalid"
