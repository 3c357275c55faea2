"""The project service over `baas-mcp api`: web platforms open CORS at once and close it when deleted, keys made
with project.createKey are `baas-mcp keys` keys and work as X-Appwrite-Key, ephemeral keys too, and the REST
protocol switch."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.commands import baas_mcp, create_key, start_api_server

PROJECT = "default"
ADMIN_SCOPES = "project.read,project.write,keys.read,keys.write,platforms.read,platforms.write,users.read"
PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}


class Server:
    def __init__(self, endpoint: str, key: str, data_dir: Path) -> None:
        self.endpoint = endpoint
        self.key = key
        self.data_dir = data_dir

    def admin(self, method: str, path: str, body: dict | None = None, key: str | None = None) -> httpx.Response:
        headers = {"X-Appwrite-Project": PROJECT, "X-Appwrite-Key": key or self.key}
        return httpx.request(method, f"{self.endpoint}{path}", json=body, headers=headers, timeout=60)

    def guest(self, method: str, path: str, origin: str | None = None, body: dict | None = None) -> httpx.Response:
        headers = {"X-Appwrite-Project": PROJECT} | ({"Origin": origin} if origin else {})
        return httpx.request(method, f"{self.endpoint}{path}", json=body, headers=headers, timeout=60)

    def preflight(self, origin: str) -> httpx.Response:
        headers = {"X-Appwrite-Project": PROJECT, "Origin": origin} | PREFLIGHT
        return httpx.options(f"{self.endpoint}/account", headers=headers, timeout=60)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("project-rest") / "data"
    key = create_key(data_dir, ADMIN_SCOPES)
    process = start_api_server(data_dir)
    try:
        yield Server(process.url("/v1"), key["secret"], data_dir)
    finally:
        code = process.stop()
    assert code == 0, process.stderr.text()


def allowed(response: httpx.Response, origin: str) -> bool:
    return response.headers.get("access-control-allow-origin") == origin.lower()


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    assert response.json()["type"] == "general_unknown_origin"
    assert "access-control-allow-origin" not in response.headers


def test_a_web_platform_opens_its_origin_at_once_and_closes_it_when_deleted(server):
    origin = "https://shop.example.com"
    assert_refused(server.guest("GET", "/locale", origin))
    assert not allowed(server.preflight(origin), origin)
    made = server.admin(
        "POST", "/project/platforms/web", {"platformId": "shop", "name": "Shop", "hostname": "shop.example.com"}
    )
    assert made.status_code == 201, made.text
    for candidate in (origin, "http://shop.example.com:5173", "HTTPS://SHOP.EXAMPLE.COM"):
        answer = server.guest("GET", "/locale", candidate)
        assert answer.status_code == 200, answer.text
        assert allowed(answer, candidate)
        assert allowed(server.preflight(candidate), candidate)
    assert_refused(server.guest("GET", "/locale", "https://evil-shop.example.com"))
    assert server.admin("DELETE", "/project/platforms/shop").status_code == 204
    assert_refused(server.guest("GET", "/locale", origin))
    assert not allowed(server.preflight(origin), origin)


def test_a_wildcard_platform_opens_subdomains_only(server):
    body = {"platformId": "wild", "name": "Wild", "hostname": "*.example.org"}
    assert server.admin("POST", "/project/platforms/web", body).status_code == 201
    try:
        assert server.guest("GET", "/locale", "https://a.b.example.org").status_code == 200
        assert_refused(server.guest("GET", "/locale", "https://example.org"))
        assert_refused(server.guest("GET", "/locale", "https://example.org.evil.com"))
    finally:
        server.admin("DELETE", "/project/platforms/wild")


def test_hostile_hostnames_are_refused_and_open_nothing(server):
    for hostname in ("localhost:99999", "https://evil.com", "evil.com/x", "e" * 10_000):
        body = {"platformId": "unique()", "name": "Bad", "hostname": hostname}
        answer = server.admin("POST", "/project/platforms/web", body)
        assert answer.status_code == 400, answer.text
        assert answer.json()["type"] == "general_argument_invalid"
    assert server.admin("GET", "/project/platforms").json()["total"] == 0
    assert_refused(server.guest("GET", "/locale", "https://evil.com"))


def test_an_app_platform_lets_its_scheme_in(server):
    origin = "appwrite-android://com.example.app"
    assert_refused(server.guest("GET", "/locale", origin))
    body = {"platformId": "droid", "name": "Droid", "applicationId": "com.example.app"}
    assert server.admin("POST", "/project/platforms/android", body).status_code == 201
    try:
        assert server.guest("GET", "/locale", origin).status_code == 200
    finally:
        server.admin("DELETE", "/project/platforms/droid")
    assert_refused(server.guest("GET", "/locale", origin))


def test_a_platform_made_by_another_process_counts_at_once(server):
    origin = "https://cli.example.net"
    assert_refused(server.guest("GET", "/locale", origin))
    params = json.dumps({"platformId": "cli", "name": "CLI", "hostname": "cli.example.net"})
    made = baas_mcp("call", "project.createWebPlatform", "--params", params, "--data-dir", str(server.data_dir))
    assert made.returncode == 0, made.stderr
    assert server.guest("GET", "/locale", origin).status_code == 200
    gone = baas_mcp(
        "call",
        "project.deletePlatform",
        "--params",
        '{"platformId":"cli"}',
        "--data-dir",
        str(server.data_dir),
        "--confirm",
    )
    assert gone.returncode == 0, gone.stderr
    assert_refused(server.guest("GET", "/locale", origin))


def test_a_key_made_with_create_key_works_and_the_cli_lists_it(server):
    answer = server.admin("POST", "/project/keys", {"keyId": "unique()", "name": "reader", "scopes": ["users.read"]})
    assert answer.status_code == 201, answer.text
    key = answer.json()
    assert key["secret"].startswith(f"standard_{key['$id']}_")
    users = server.admin("GET", "/users", key=key["secret"])
    assert users.status_code == 200, users.text
    refused = server.admin("GET", "/project/keys", key=key["secret"])
    assert (refused.status_code, refused.json()["type"]) == (401, "general_unauthorized_scope")
    listed = baas_mcp("keys", "list", "--data-dir", str(server.data_dir), "--json")
    assert listed.returncode == 0, listed.stderr
    entry = next(entry for entry in json.loads(listed.stdout) if entry["$id"] == key["$id"])
    assert (entry["name"], entry["scopes"]) == ("reader", ["users.read"])
    assert entry["accessedAt"] is not None
    assert key["secret"] not in listed.stdout
    assert server.admin("GET", f"/project/keys/{key['$id']}").json()["secret"] == ""
    revoked = baas_mcp("keys", "revoke", key["$id"], "--data-dir", str(server.data_dir))
    assert revoked.returncode == 0, revoked.stderr
    assert server.admin("GET", "/users", key=key["secret"]).status_code == 401
    assert server.admin("GET", f"/project/keys/{key['$id']}").status_code == 404


def test_an_ephemeral_key_works_as_x_appwrite_key(server):
    answer = server.admin("POST", "/project/keys/ephemeral", {"scopes": ["users.read"], "duration": 120})
    assert answer.status_code == 201, answer.text
    secret = answer.json()["secret"]
    assert server.admin("GET", "/users", key=secret).status_code == 200
    assert server.admin("GET", "/project/keys", key=secret).status_code == 401
    tampered = server.admin("GET", "/users", key=secret[:-3] + "AAA")
    assert (tampered.status_code, tampered.json()["type"]) == (401, "user_unauthorized")


def test_the_rest_protocol_switched_off_refuses_guests_only(server):
    answer = server.admin("PATCH", "/project/protocols/rest", {"enabled": False})
    assert answer.status_code == 200, answer.text
    try:
        refused = server.guest("GET", "/locale")
        assert (refused.status_code, refused.json()["type"]) == (403, "general_api_disabled")
        assert server.admin("GET", "/project").status_code == 200
    finally:
        server.admin("PATCH", "/project/protocols/rest", {"enabled": True})
    assert server.guest("GET", "/locale").status_code == 200


def project_request(server: Server, project: str, key: str, method: str = "GET", path: str = "/users"):
    headers = {"X-Appwrite-Project": project, "X-Appwrite-Key": key}
    return httpx.request(method, f"{server.endpoint}{path}", headers=headers, timeout=60)


def test_deleting_a_project_over_rest_ends_it_and_its_keys(server):
    key = create_key(server.data_dir, "users.read,project.write", project="third")["secret"]
    assert project_request(server, "third", key).status_code == 200
    assert project_request(server, "third", key, "DELETE", "/project").status_code == 204
    assert not (server.data_dir / "third").exists()
    gone = project_request(server, "third", key)
    assert (gone.status_code, gone.json()["type"]) == (404, "project_not_found")


def test_a_project_deleted_by_another_process_refuses_its_keys(server):
    key = create_key(server.data_dir, "users.read", project="other")["secret"]
    assert project_request(server, "other", key).status_code == 200
    deleted = baas_mcp("call", "project.delete", "--project", "other", "--data-dir", str(server.data_dir), "--confirm")
    assert deleted.returncode == 0, deleted.stderr
    assert not (server.data_dir / "other").exists()
    first = project_request(server, "other", key)
    assert first.status_code in (401, 404), first.text
    then = project_request(server, "other", key)
    assert (then.status_code, then.json()["type"]) == (404, "project_not_found")
