"""`baas-mcp serve --transport http`: streamable HTTP at /mcp and SSE at /sse, driven by the SDK's clients and by
plain HTTP requests against a real subprocess on loopback; bearer keys, DNS-rebinding protection, start-up
failures and graceful shutdown."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx
import httpx2
import pytest
from mcp import Client, MCPError
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from mcp_server.catalog import allowed, load_catalog
from tests.commands import (
    ServeProcess,
    baas_mcp,
    create_key,
    expire_key,
    revoke_key,
    serve_until_exit,
    start_http_server,
)

pytestmark = pytest.mark.anyio

BROAD = "databases.read,databases.write,tables.read,tables.write,columns.read,columns.write,rows.read,rows.write"
NARROW = "rows.read"
TRANSPORTS = [
    pytest.param("streamable", "legacy", id="streamable-legacy"),
    pytest.param("streamable", "auto", id="streamable-auto"),
    pytest.param("sse", "legacy", id="sse-legacy"),
]
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}},
}
STREAM_ACCEPT = {"Accept": "application/json, text/event-stream"}


@dataclass
class Site:
    server: ServeProcess
    data: Path
    keys: dict[str, dict]

    def url(self, path: str) -> str:
        return self.server.url(path)

    @property
    def port(self) -> int:
        return self.server.port

    def bearer(self, name: str) -> dict:
        return {"Authorization": f"Bearer {self.keys[name]['secret']}"}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    """One HTTP server for the module, with keys made before it starts; myhost.test is an allowed host name."""
    root = tmp_path_factory.mktemp("http")
    data = root / "data"
    keys = {
        name: create_key(data, scopes)
        for name, scopes in (("broad", BROAD), ("narrow", NARROW), ("to_revoke", BROAD), ("to_expire", BROAD))
    }
    server = start_http_server(data, "--allow-host", "myhost.test", cwd=root)
    try:
        yield Site(server, data, keys)
    finally:
        server.stop()


@contextlib.asynccontextmanager
async def session(url: str, secret: str | None, transport: str, mode: str) -> AsyncIterator[Client]:
    """An MCP client session over `transport` ("streamable" at url/mcp or "sse" at url/sse) with `secret`."""
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    with anyio.fail_after(30):
        if transport == "streamable":
            async with (
                httpx2.AsyncClient(headers=headers) as http,
                Client(streamable_http_client(f"{url}/mcp", http_client=http), mode=mode) as client,
            ):
                yield client
        else:
            async with Client(sse_client(f"{url}/sse", headers=headers), mode=mode) as client:
                yield client


def base(site: Site) -> str:
    return f"http://127.0.0.1:{site.port}"


async def execute(client: Client, operation: str, params: dict | None = None):
    return await client.call_tool("execute_operation", {"operation": operation, "params": params or {}})


def succeeded(result) -> dict:
    assert not result.is_error, result.content[0].text
    return result.structured_content["result"]


async def search_ids(client: Client, query: str, limit: int = 20) -> list[str]:
    result = await client.call_tool("search_operations", {"query": query, "limit": limit})
    assert not result.is_error, result.content[0].text
    return [hit["id"] for hit in result.structured_content["hits"]]


def post_initialize(site: Site, headers: dict) -> httpx.Response:
    return httpx.post(site.url("/mcp"), json=INITIALIZE, headers=STREAM_ACCEPT | headers, timeout=10)


def messages_of(response: httpx.Response) -> list[dict]:
    """The JSON-RPC messages of a streamable HTTP reply (an event stream or a JSON body)."""
    if response.headers["content-type"].startswith("application/json"):
        return [response.json()]
    return [json.loads(line[5:]) for line in response.text.splitlines() if line.startswith("data:")]


def assert_unauthorized(response: httpx.Response, *, presented: bool, kind: str = "user_unauthorized") -> dict:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"message", "code", "type", "version"}
    assert body["code"] == 401
    assert body["type"] == kind
    assert isinstance(body["version"], str) and body["version"]
    assert body["message"]
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    if presented:
        assert 'error="invalid_token"' in challenge
    else:
        assert "error=" not in challenge
    return body


@contextlib.contextmanager
def sse_stream(site: Site, headers: dict) -> Iterator[str]:
    """An open GET /sse stream; yields the URL its endpoint event names for posting messages."""
    with (
        httpx.Client(timeout=10) as http,
        http.stream("GET", site.url("/sse"), headers=headers) as response,
    ):
        assert response.status_code == 200, response.read()
        lines = response.iter_lines()
        for line in lines:
            if line.startswith("data:"):
                yield base(site) + line[5:].strip()
                return
        pytest.fail("the SSE stream ended without an endpoint event")


# --- working sessions ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("transport", "mode"), TRANSPORTS)
async def test_search_and_execute_round_trip_with_a_valid_key(site, transport, mode):
    database = f"rt-{transport}-{mode}"
    ids = {"databaseId": database, "tableId": "notes"}
    async with session(base(site), site.keys["broad"]["secret"], transport, mode) as client:
        assert client.server_info.name == "baas-mcp"
        assert client.instructions
        assert sorted(tool.name for tool in (await client.list_tools()).tools) == [
            "execute_operation",
            "search_operations",
        ]
        assert "tablesDB.createTable" in await search_ids(client, "create a table", limit=5)
        succeeded(await execute(client, "tablesDB.create", {"databaseId": database, "name": "Round trip"}))
        succeeded(await execute(client, "tablesDB.createTable", {**ids, "name": "Notes"}))
        succeeded(
            await execute(client, "tablesDB.createStringColumn", {**ids, "key": "body", "size": 100, "required": True})
        )
        succeeded(await execute(client, "tablesDB.createIntegerColumn", {**ids, "key": "stars", "required": False}))
        row = succeeded(
            await execute(client, "tablesDB.createRow", {**ids, "rowId": "n1", "data": {"body": "hi", "stars": 5}})
        )
        assert (row["$id"], row["body"], row["stars"]) == ("n1", "hi", 5)
        rows = succeeded(await execute(client, "tablesDB.listRows", ids))
        assert [(row["$id"], row["body"], row["stars"]) for row in rows["rows"]] == [("n1", "hi", 5)]


def may_run(operation_id: str, held: set[str]) -> bool:
    return allowed(load_catalog().get(operation_id), frozenset(held))


@pytest.mark.parametrize(("transport", "mode"), TRANSPORTS)
async def test_each_request_gets_its_own_keys_scopes(site, transport, mode):
    database = f"scoped-{transport}-{mode}"
    ids = {"databaseId": database, "tableId": "items"}
    held = set(NARROW.split(","))
    async with (
        session(base(site), site.keys["broad"]["secret"], transport, mode) as broad,
        session(base(site), site.keys["narrow"]["secret"], transport, mode) as narrow,
    ):
        # The narrow key's searches offer only operations it may run; the broad key's offer the writes.
        assert "tablesDB.createTable" in await search_ids(broad, "create a table")
        assert "tablesDB.createRow" in await search_ids(broad, "insert a row into a table")
        for query in ("create a table", "insert a row into a table", "delete a database", "list rows", "update a row"):
            found = await search_ids(narrow, query)
            assert [hit for hit in found if not may_run(hit, held)] == [], query
            assert "tablesDB.createTable" not in found and "tablesDB.createRow" not in found
        assert "tablesDB.listRows" in await search_ids(narrow, "list rows")

        succeeded(await execute(broad, "tablesDB.create", {"databaseId": database, "name": "Scoped"}))
        succeeded(await execute(broad, "tablesDB.createTable", {**ids, "name": "Items"}))
        succeeded(
            await execute(broad, "tablesDB.createStringColumn", {**ids, "key": "name", "size": 50, "required": True})
        )

        refused = await execute(narrow, "tablesDB.createRow", {**ids, "rowId": "x", "data": {"name": "sneaky"}})
        assert refused.is_error
        assert refused.structured_content["error"]["type"] == "general_unauthorized_scope"
        assert "rows.write" in refused.content[0].text
        assert "tablesDB.createRow" in refused.content[0].text

        # The same server still lets the broad key write, and the narrow key read what it wrote.
        succeeded(await execute(broad, "tablesDB.createRow", {**ids, "rowId": "ok", "data": {"name": "fine"}}))
        rows = succeeded(await execute(narrow, "tablesDB.listRows", ids))
        assert [row["$id"] for row in rows["rows"]] == ["ok"]


@pytest.mark.parametrize(("transport", "mode"), TRANSPORTS)
async def test_a_narrow_key_is_offered_and_runs_what_appwrite_lets_any_key_run(site, transport, mode):
    """Its own operations first and alone; health checks (every key's) when asked; public ones (no key's) never."""
    held = frozenset(NARROW.split(","))
    catalog = load_catalog()
    async with session(base(site), site.keys["narrow"]["secret"], transport, mode) as narrow:
        for query in ("read rows", "list rows in a table", "what is in the orders table"):
            found = await search_ids(narrow, query, limit=5)
            assert "tablesDB.listRows" in found
            assert [op_id for op_id in found if held.isdisjoint(catalog.get(op_id).scopes)] == [], query
        assert (await search_ids(narrow, "health check", limit=5))[0].startswith("health.")
        assert succeeded(await execute(narrow, "health.get"))["status"] == "pass"
        refused = await execute(narrow, "account.updateEmailVerification", {"userId": "ann", "secret": "x"})
        error = refused.structured_content["error"]
        assert (error["type"], error["code"]) == ("general_unauthorized_scope", 401)
        assert "no API key" in error["message"] and "as_user" in error["message"]


# --- authentication ---------------------------------------------------------------------------------------


def test_a_sse_session_id_needs_a_key_too(site):
    """An SSE session opened with a key; posting a message to it without one is refused."""
    with sse_stream(site, site.bearer("broad")) as messages:
        assert "session_id=" in messages
        answer = httpx.post(messages, json=INITIALIZE, timeout=10)
        assert_unauthorized(answer, presented=False)
        assert httpx.post(messages, json=INITIALIZE, headers=site.bearer("broad"), timeout=10).status_code == 202


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/mcp"), ("GET", "/mcp"), ("GET", "/sse"), ("POST", "/messages/"), ("POST", "/messages/?session_id=0")],
)
@pytest.mark.parametrize(
    "authorization",
    [None, "Basic dXNlcjpwYXNz", "Bearer", "Token x"],
    ids=["none", "basic", "bare", "token"],
)
def test_a_request_without_a_bearer_key_gets_401(site, method, path, authorization):
    headers = STREAM_ACCEPT | ({"Authorization": authorization} if authorization else {})
    response = httpx.request(
        method, site.url(path), headers=headers, json=INITIALIZE if method == "POST" else None, timeout=10
    )
    body = assert_unauthorized(response, presented=False)
    assert "Authorization: Bearer" in body["message"]


@pytest.mark.parametrize("path", ["/mcp", "/sse", "/messages/"])
@pytest.mark.parametrize("wrong", ["garbage", "standard_nokey_" + "0" * 64, "tampered"])
def test_a_wrong_key_gets_401_invalid_token(site, path, wrong):
    secret = site.keys["broad"]["secret"][:-1] + "x" if wrong == "tampered" else wrong
    method = "GET" if path == "/sse" else "POST"
    response = httpx.request(
        method,
        site.url(path),
        headers=STREAM_ACCEPT | {"Authorization": f"Bearer {secret}"},
        json=INITIALIZE if method == "POST" else None,
        timeout=10,
    )
    assert_unauthorized(response, presented=True)


async def test_a_key_revoked_while_the_server_runs_is_refused_on_the_next_request(site):
    key = site.keys["to_revoke"]
    async with session(base(site), key["secret"], "streamable", "legacy") as client:
        assert "tablesDB.listRows" in await search_ids(client, "list rows")
        with sse_stream(site, site.bearer("to_revoke")) as messages:
            revoke_key(site.data, key["$id"])
            with pytest.raises(MCPError):
                await client.call_tool("search_operations", {"query": "list rows"})
            assert_unauthorized(httpx.post(messages, json=INITIALIZE, headers=site.bearer("to_revoke")), presented=True)
    assert_unauthorized(post_initialize(site, site.bearer("to_revoke")), presented=True)
    assert post_initialize(site, site.bearer("broad")).status_code == 200


def test_an_expired_key_is_refused(site):
    key = site.keys["to_expire"]
    assert post_initialize(site, site.bearer("to_expire")).status_code == 200
    expire_key(site.data, key["$id"])
    body = assert_unauthorized(post_initialize(site, site.bearer("to_expire")), presented=True, kind="api_key_expired")
    assert key["$id"] in body["message"]


def test_a_session_answers_only_the_key_that_opened_it(site):
    opened = post_initialize(site, site.bearer("broad"))
    assert opened.status_code == 200
    session_id = opened.headers["mcp-session-id"]
    listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
    headers = STREAM_ACCEPT | {"mcp-session-id": session_id, "mcp-protocol-version": "2025-11-25"}
    notified = httpx.post(
        site.url("/mcp"),
        json={"jsonrpc": "2.0", "method": "notifications/initialized"},
        headers=headers | site.bearer("broad"),
        timeout=10,
    )
    assert notified.status_code == 202
    other = httpx.post(site.url("/mcp"), json=listing, headers=headers | site.bearer("narrow"), timeout=10)
    assert other.status_code == 404
    own = httpx.post(site.url("/mcp"), json=listing, headers=headers | site.bearer("broad"), timeout=10)
    assert own.status_code == 200
    [message] = messages_of(own)
    assert len(message["result"]["tools"]) == 2


# --- DNS-rebinding protection ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        ({"Host": "evil.example"}, 421),
        ({"Host": "evil.example:{port}"}, 421),
        ({"Host": "other.test:{port}"}, 421),
        ({"Origin": "http://evil.example"}, 403),
        ({"Origin": "http://127.0.0.1.evil.example:{port}"}, 403),
        ({"Origin": "http://localhost:{port}"}, 200),
        ({"Origin": "http://127.0.0.1:{port}"}, 200),
        ({"Host": "localhost:{port}"}, 200),
        ({"Host": "myhost.test:{port}"}, 200),
        ({"Host": "myhost.test:{port}", "Origin": "http://myhost.test:{port}"}, 200),
    ],
    ids=lambda value: json.dumps(value) if isinstance(value, dict) else str(value),
)
def test_host_and_origin_must_name_an_allowed_host(site, extra, status):
    headers = {name: value.format(port=site.port) for name, value in extra.items()}
    response = post_initialize(site, site.bearer("broad") | headers)
    assert response.status_code == status, response.text
    if status == 200:
        [message] = messages_of(response)
        assert message["result"]["serverInfo"]["name"] == "baas-mcp"


@pytest.mark.parametrize(
    ("extra", "status"), [({"Host": "evil.example"}, 421), ({"Origin": "http://evil.example"}, 403)]
)
def test_the_sse_endpoint_is_protected_from_dns_rebinding_too(site, extra, status):
    response = httpx.get(site.url("/sse"), headers=site.bearer("broad") | extra, timeout=10)
    assert response.status_code == status


# --- servers of their own -----------------------------------------------------------------------------------


async def test_no_auth_on_loopback_serves_without_a_key_and_still_checks_the_host(tmp_path):
    server = start_http_server(tmp_path / "data", "--no-auth", cwd=tmp_path)
    try:
        announced = server.stderr.lines[0]
        assert "--no-auth" in announced and f"http://127.0.0.1:{server.port}/sse" in announced
        url = f"http://127.0.0.1:{server.port}"
        async with session(url, None, "streamable", "legacy") as client:
            assert "tablesDB.create" in await search_ids(client, "create a database")
            succeeded(await execute(client, "tablesDB.create", {"databaseId": "open", "name": "Open"}))
        async with session(url, None, "sse", "legacy") as client:
            listed = succeeded(await execute(client, "tablesDB.list"))
            assert [database["$id"] for database in listed["databases"]] == ["open"]
        plain = httpx.post(f"{url}/mcp", json=INITIALIZE, headers=STREAM_ACCEPT, timeout=10)
        assert plain.status_code == 200
        rebound = httpx.post(
            f"{url}/mcp", json=INITIALIZE, headers=STREAM_ACCEPT | {"Host": "evil.example"}, timeout=10
        )
        assert rebound.status_code == 421
    finally:
        assert server.stop() == 0


def test_the_announced_server_accepts_connections_once_its_line_is_printed(tmp_path):
    """A client that reads the serving line and connects at once must reach the server (no retry loop)."""
    server = start_http_server(tmp_path / "data", cwd=tmp_path)
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
            connection.sendall(
                f"GET /mcp HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nConnection: close\r\n\r\n".encode()
            )
            reply = b""
            while chunk := connection.recv(65536):
                reply += chunk
        assert reply.startswith(b"HTTP/1.1 401 "), reply[:200]
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--transport", "http", "--no-auth", "--host", "0.0.0.0"], "--no-auth"),
        (["--transport", "sse", "--no-auth", "--host", "::"], "--no-auth"),
        (["--no-auth"], "--no-auth"),
        (["--transport", "stdio", "--port", "9000"], "--port"),
        (["--host", "0.0.0.0"], "--host"),
        (["--transport", "http", "--port", "70000"], "--port"),
        (["--transport", "http", "--port", "-1"], "--port"),
        (["--transport", "http", "--port", "abc"], "--port"),
        (["--transport", "carrier-pigeon"], "--transport"),
        (["--bogus-option"], "--bogus-option"),
        (["--transport", "http", "--project", "bad id!"], "--project"),
        (["--transport", "http", "--data-dir", "{file}/data"], "--data-dir"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_bad_options_stop_serve_at_start_with_exit_2(tmp_path, args, named):
    regular_file = tmp_path / "a-file"
    regular_file.write_text("not a directory")
    args = [arg.format(file=regular_file) for arg in args]
    result, elapsed = serve_until_exit(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert named in result.stderr
    assert "error" in result.stderr
    assert "serving" not in result.stderr
    assert result.stdout == ""
    assert elapsed < 10


def test_a_port_in_use_stops_serve_with_exit_2(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result, elapsed = serve_until_exit(
            "--transport", "http", "--port", str(port), "--data-dir", str(tmp_path / "data"), cwd=tmp_path
        )
    assert result.returncode == 2, result.stderr
    assert "cannot listen" in result.stderr and str(port) in result.stderr
    assert "serving" not in result.stderr
    assert elapsed < 10


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_signal_stops_the_server_with_0_while_sessions_are_open(tmp_path, signum):
    data = tmp_path / "data"
    secret = create_key(data, BROAD)["secret"]
    server = start_http_server(data, cwd=tmp_path)
    url = f"http://127.0.0.1:{server.port}"
    try:
        async with (
            session(url, secret, "streamable", "legacy") as streamable,
            session(url, secret, "sse", "legacy") as sse,
        ):
            succeeded(await execute(streamable, "tablesDB.create", {"databaseId": "kept", "name": "Kept"}))
            listed = succeeded(await execute(sse, "tablesDB.list"))
            assert [database["$id"] for database in listed["databases"]] == ["kept"]
            started = time.monotonic()
            server.process.send_signal(signum)
            code = await anyio.to_thread.run_sync(server.wait, 15)
            assert code == 0, server.stderr.text()
            assert time.monotonic() - started < 10
    finally:
        server.stop(signal.SIGKILL)
    assert "Traceback" not in server.stderr.text()
    result = baas_mcp("call", "tablesDB.get", "--params", '{"databaseId": "kept"}', "--data-dir", str(data))
    assert result.returncode == 0, result.stdout + result.stderr
