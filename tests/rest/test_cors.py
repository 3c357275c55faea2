"""Which browser origins may call `baas-mcp api`, as Appwrite decides it: CORS headers and the origin check.

Loopback origins are allowed out of the box, others only with `--cors-origin`. A request from any other origin,
without an API key, is refused with 403 `general_unknown_origin` before it runs, and its answer names no origin
for the browser. Requests without an Origin (servers, the CLI) are not browser pages and are never refused for it.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.commands import baas_mcp, create_key, start_api_server

PROJECT = "default"
FOREIGN = "https://evil.example"
LOOPBACK = [
    "http://localhost:3000",
    "https://localhost",
    "http://app.localhost:5173",
    "http://127.0.0.1:8080",
    "http://127.1.2.3",
    "http://[::1]:4200",
]
PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}


def database_ids(endpoint: str, key: str) -> list[str]:
    response = httpx.get(f"{endpoint}/tablesdb", headers={"X-Appwrite-Project": PROJECT, "X-Appwrite-Key": key})
    assert response.status_code == 200, response.text
    return [database["$id"] for database in response.json()["databases"]]


def sign_up(endpoint: str, origin: str | None, user_id: str) -> httpx.Response:
    """A guest's account.create, as a page at `origin` (None: no Origin header) sends it."""
    headers = {"X-Appwrite-Project": PROJECT} | ({"Origin": origin} if origin else {})
    body = {"userId": user_id, "email": f"{user_id}@example.com", "password": "a long passphrase"}
    return httpx.post(f"{endpoint}/account", json=body, headers=headers, timeout=60)


def assert_refused(response: httpx.Response, message: str) -> None:
    """Appwrite's refusal of an unknown origin, with no origin named for the browser."""
    assert response.status_code == 403, response.text
    assert response.json()["type"] == "general_unknown_origin"
    assert response.json()["message"] == message
    assert "access-control-allow-origin" not in response.headers
    # The rest of Appwrite's CORS headers come with every answer.
    assert response.headers["access-control-allow-credentials"] == "true"


def assert_allowed(response: httpx.Response, origin: str) -> None:
    assert response.headers["access-control-allow-origin"] == origin
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "origin" in response.headers["vary"].lower()
    exposed = {name.strip().lower() for name in response.headers["access-control-expose-headers"].split(",")}
    assert {"x-fallback-cookies", "x-appwrite-session"} <= exposed


# --- the default: loopback origins only ----------------------------------------------------------------


def test_a_foreign_page_is_refused_and_changes_nothing(api):
    response = httpx.post(
        f"{api.endpoint}/tablesdb",
        json={"databaseId": "foreign", "name": "From elsewhere"},
        headers={"X-Appwrite-Project": PROJECT, "Origin": FOREIGN, "Cookie": "a_session_default=whatever"},
    )
    assert_refused(
        response,
        "Invalid Origin. Register your new client (evil.example) as a new Web platform on your project console "
        "dashboard",
    )
    assert "foreign" not in database_ids(api.endpoint, api.key)
    refused = sign_up(api.endpoint, FOREIGN, "foreigner")
    assert refused.status_code == 403
    # The same call from nowhere in particular (a server, curl) shows the account was never made.
    assert sign_up(api.endpoint, None, "foreigner").status_code == 201


def test_reads_from_a_foreign_page_are_refused_too(api):
    response = httpx.get(f"{api.endpoint}/account", headers={"X-Appwrite-Project": PROJECT, "Origin": FOREIGN})
    assert response.status_code == 403
    assert response.json()["type"] == "general_unknown_origin"


@pytest.mark.parametrize(
    ("origin", "message"),
    [
        ("null", "Invalid Origin."),
        (
            "ftp://files.example",
            "Invalid Scheme. The scheme used (ftp) in the Origin (ftp://files.example) is not supported. If you are "
            "using a custom scheme, please change it to `appwrite-callback-<PROJECT_ID>`",
        ),
        (
            "appwrite-android://com.example.app",
            "Invalid Origin. Register your new client (com.example.app) as a new Android platform on your project "
            "console dashboard",
        ),
        (
            "http://localhost.evil.example",
            "Invalid Origin. Register your new client (localhost.evil.example) as a new Web platform on your project "
            "console dashboard",
        ),
    ],
)
def test_refusals_say_what_appwrite_says(api, origin, message):
    response = httpx.get(f"{api.endpoint}/tablesdb", headers={"X-Appwrite-Project": PROJECT, "Origin": origin})
    assert_refused(response, message)


def test_a_foreign_origin_with_an_api_key_runs_but_is_not_named(api):
    """As in Appwrite, a request with an API key is not checked against its origin (a key is a server's)."""
    response = httpx.post(
        f"{api.endpoint}/tablesdb",
        json={"databaseId": "keyed", "name": "With a key"},
        headers={"X-Appwrite-Project": PROJECT, "X-Appwrite-Key": api.key, "Origin": FOREIGN},
    )
    assert response.status_code == 201, response.text
    assert "access-control-allow-origin" not in response.headers
    assert "keyed" in database_ids(api.endpoint, api.key)


@pytest.mark.parametrize("origin", LOOPBACK)
def test_loopback_pages_are_allowed_with_credentials(api, origin):
    user_id = f"loop{LOOPBACK.index(origin)}"
    response = sign_up(api.endpoint, origin, user_id)
    assert response.status_code == 201, response.text
    assert_allowed(response, origin)


def test_errors_for_an_allowed_origin_carry_its_cors_headers(api):
    response = httpx.get(f"{api.endpoint}/tablesdb", headers={"Origin": "http://localhost:3000"})
    assert response.status_code == 404
    assert response.json()["type"] == "project_not_found"
    assert_allowed(response, "http://localhost:3000")


def test_the_origin_is_checked_before_the_project(api):
    response = httpx.get(f"{api.endpoint}/tablesdb", headers={"X-Appwrite-Project": "nope", "Origin": FOREIGN})
    assert response.status_code == 403
    assert response.json()["type"] == "general_unknown_origin"


@pytest.mark.parametrize("origin", ["http://localhost:3000", "http://[::1]:4200"])
def test_preflight_from_a_loopback_page(api, origin):
    response = httpx.options(f"{api.endpoint}/tablesdb", headers={"Origin": origin, **PREFLIGHT})
    assert response.status_code == 204
    assert response.content == b""
    assert_allowed(response, origin)
    methods = {method.strip() for method in response.headers["access-control-allow-methods"].split(",")}
    assert {"GET", "POST", "PUT", "PATCH", "DELETE"} <= methods
    allowed = {header.strip().lower() for header in response.headers["access-control-allow-headers"].split(",")}
    assert {"x-appwrite-project", "x-appwrite-key", "content-type", "x-appwrite-jwt", "x-fallback-cookies"} <= allowed
    assert response.headers["access-control-max-age"] == "86400"


def test_preflight_from_a_foreign_page_names_no_origin(api):
    response = httpx.options(f"{api.endpoint}/tablesdb", headers={"Origin": FOREIGN, **PREFLIGHT})
    assert response.status_code == 204
    assert "access-control-allow-origin" not in response.headers


def test_without_an_origin_no_origin_is_named(api):
    response = httpx.get(f"{api.endpoint}/tablesdb", headers={"X-Appwrite-Project": PROJECT, "X-Appwrite-Key": api.key})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_expo_and_the_projects_callback_scheme_are_allowed(api):
    for origin in ("exp://192.168.1.20:8081", f"appwrite-callback-{PROJECT}://"):
        response = httpx.get(f"{api.endpoint}/account", headers={"X-Appwrite-Project": PROJECT, "Origin": origin})
        assert response.status_code == 401, (origin, response.text)
        assert response.json()["type"] == "general_unauthorized_scope"
    other = httpx.get(
        f"{api.endpoint}/account", headers={"X-Appwrite-Project": PROJECT, "Origin": "appwrite-callback-other://"}
    )
    assert other.status_code == 403


# --- --cors-origin -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def configured(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """`baas-mcp api --cors-origin https://app.example.com --cors-origin http://192.168.1.20:3000`: endpoint, key."""
    data_dir = tmp_path_factory.mktemp("cors") / "data"
    key = create_key(data_dir, "databases.read,databases.write")["secret"]
    server = start_api_server(
        data_dir, "--cors-origin", "https://app.example.com", "--cors-origin", "http://192.168.1.20:3000/"
    )
    try:
        yield server.url("/v1"), key
    finally:
        assert server.stop() == 0, server.stderr.text()


@pytest.mark.parametrize(
    ("origin", "user_id"),
    [("https://app.example.com", "app"), ("http://192.168.1.20:3000", "lan"), ("http://localhost:8000", "local")],
)
def test_configured_origins_are_allowed_with_credentials(configured, origin, user_id):
    endpoint = configured[0]
    response = sign_up(endpoint, origin, user_id)
    assert response.status_code == 201, response.text
    assert_allowed(response, origin)
    preflight = httpx.options(f"{endpoint}/account", headers={"Origin": origin, **PREFLIGHT})
    assert_allowed(preflight, origin)


@pytest.mark.parametrize(
    "origin",
    ["http://app.example.com", "https://app.example.com:8443", "https://www.app.example.com", "http://192.168.1.20"],
)
def test_configured_origins_match_exactly(configured, origin):
    endpoint, key = configured
    response = httpx.post(
        f"{endpoint}/tablesdb",
        json={"databaseId": "near", "name": "Near miss"},
        headers={"X-Appwrite-Project": PROJECT, "Origin": origin},
    )
    assert response.status_code == 403
    assert response.json()["type"] == "general_unknown_origin"
    assert "access-control-allow-origin" not in response.headers
    preflight = httpx.options(f"{endpoint}/tablesdb", headers={"Origin": origin, **PREFLIGHT})
    assert "access-control-allow-origin" not in preflight.headers
    assert "near" not in database_ids(endpoint, key)


def test_a_star_allows_every_origin(tmp_path):
    server = start_api_server(tmp_path / "data", "--cors-origin", "*")
    try:
        response = sign_up(server.url("/v1"), FOREIGN, "anyone")
        assert response.status_code == 201, response.text
        assert_allowed(response, FOREIGN)
    finally:
        assert server.stop() == 0, server.stderr.text()


@pytest.mark.parametrize(
    "value", ["app.example.com", "https://app.example.com/path", "https://user@app.example.com", "https://x:99999", ""]
)
def test_a_malformed_cors_origin_stops_the_server_at_start(tmp_path, value):
    result = baas_mcp("api", "--port", "0", "--data-dir", str(tmp_path / "data"), "--cors-origin", value)
    assert result.returncode == 2
    assert "--cors-origin" in result.stderr
    assert repr(value) in result.stderr
