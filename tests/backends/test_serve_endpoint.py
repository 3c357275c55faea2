"""`baas-mcp serve --endpoint`: the MCP server over stdio, running every operation on an Appwrite-compatible server.

The Appwrite-compatible server is `baas-mcp api` over its own data directory; the MCP server is a real
subprocess spoken to through the SDK's stdio client, as an editor starts it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mcp import Client, StdioServerParameters

from mcp_server.mcp.server import build_server
from mcp_server.runtime import Runtime
from mcp_server.settings import Settings
from tests.backends.servers import free_port, json_answer
from tests.commands import COMMAND, create_key, serve_until_exit, start_api_server

pytestmark = pytest.mark.anyio

SCOPES = (
    "databases.read,databases.write,tables.read,tables.write,rows.read,rows.write,users.read,functions.read,messages.read,health.read,documents.write"
)
# An operation the engine lacks (it needs an embedding model), with parameters that pass validation.
EMBED = {"texts": ["a sentence to embed"]}
APPWRITE_VARIABLES = ("APPWRITE_ENDPOINT", "APPWRITE_PROJECT_ID", "APPWRITE_API_KEY")
# Searches whose hits include operations the embedded engine does not run.
SEARCHES = ["list users", "create a function", "send an email message", "create a team", "upload a file"]


def clean_env(**extra: str) -> dict:
    """Our environment without any key, data dir or Appwrite server leaking in; plus `extra`."""
    dropped = ("BAAS_MCP_KEY", "BAAS_MCP_DATA_DIR", *APPWRITE_VARIABLES)
    return {name: value for name, value in os.environ.items() if name not in dropped} | extra


class Api:
    def __init__(self, endpoint: str, data_dir: Path, secret: str) -> None:
        self.endpoint = endpoint
        self.data_dir = data_dir
        self.secret = secret

    def get(self, path: str, key: str | None = None) -> httpx.Response:
        """A request straight to the REST app, as the key (or `key`), bypassing the MCP server."""
        headers = {"X-Appwrite-Project": "default", "X-Appwrite-Key": key or self.secret}
        return httpx.get(self.endpoint + path, headers=headers, timeout=10)

    def post(self, path: str, body: dict) -> httpx.Response:
        """A POST straight to the REST app, as the key, bypassing the MCP server."""
        headers = {"X-Appwrite-Project": "default", "X-Appwrite-Key": self.secret}
        return httpx.post(self.endpoint + path, headers=headers, json=body, timeout=10)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    data_dir = tmp_path_factory.mktemp("api")
    secret = create_key(data_dir, SCOPES)["secret"]
    served = start_api_server(data_dir)
    try:
        yield Api(served.url("/v1"), data_dir, secret)
    finally:
        served.stop()


def serve_remote(tmp_path: Path, *args: str, env: dict | None = None) -> StdioServerParameters:
    return StdioServerParameters(
        command=str(COMMAND),
        args=["serve", "--data-dir", str(tmp_path / "mcp"), *args],
        env=env if env is not None else clean_env(),
        cwd=str(tmp_path),
    )


def endpoint_args(api: Api, endpoint: str | None = None) -> list[str]:
    return ["--endpoint", endpoint or api.endpoint, "--project", "default", "--api-key", api.secret]


async def execute(client: Client, operation: str, params: dict | None = None, **extra):
    return await client.call_tool("execute_operation", {"operation": operation, "params": params or {}, **extra})


def succeeded(result) -> dict:
    assert result.is_error is not True, result.content[0].text
    return result.structured_content["result"]


async def database_round_trip(client: Client, api: Api, database_id: str) -> None:
    """Create a database through the tools; it is on the API server, and listing it through the tools agrees."""
    created = succeeded(await execute(client, "tablesDB.create", {"databaseId": database_id, "name": database_id}))
    assert (created["$id"], created["name"], created["enabled"]) == (database_id, database_id, True)
    stored = api.get(f"/tablesdb/{database_id}")
    assert stored.status_code == 200, stored.text
    assert stored.json()["$id"] == database_id
    listed = succeeded(await execute(client, "tablesDB.list"))
    assert database_id in [database["$id"] for database in listed["databases"]]
    assert listed["total"] == len(api.get("/tablesdb").json()["databases"])


# --- a session on the remote server --------------------------------------------------------------------------------


async def test_search_offers_every_operation_without_unavailable_notes(tmp_path, api):
    runtime = Runtime(tmp_path / "embedded", "default", Settings())
    embedded_notes = 0
    try:
        async with Client(build_server(runtime), mode="legacy") as client:
            for query in SEARCHES:
                result = await client.call_tool("search_operations", {"query": query, "limit": 10})
                hits = result.structured_content["hits"]
                embedded_notes += sum("unavailable" in hit for hit in hits)
                assert all("needs an Appwrite server" in result.content[0].text for hit in hits if "unavailable" in hit)
    finally:
        await runtime.aclose()
    assert embedded_notes > 0, "the embedded engine was expected to lack some of these operations"

    async with Client(serve_remote(tmp_path, *endpoint_args(api)), mode="legacy") as client:
        for query in SEARCHES:
            result = await client.call_tool("search_operations", {"query": query, "limit": 10})
            assert result.is_error is not True, result.content[0].text
            hits = result.structured_content["hits"]
            assert len(hits) == 10
            assert [hit for hit in hits if "unavailable" in hit] == []
            assert "needs an Appwrite server" not in result.content[0].text


async def test_operations_run_on_the_remote_server(tmp_path, api):
    async with Client(serve_remote(tmp_path, *endpoint_args(api)), mode="legacy") as client:
        await database_round_trip(client, api, "flags")
        table = succeeded(
            await execute(client, "tablesDB.createTable", {"databaseId": "flags", "tableId": "t", "name": "T"})
        )
        assert table["$id"] == "t"
        missing = await execute(client, "tablesDB.get", {"databaseId": "nope"})
        assert missing.is_error is True
        assert missing.structured_content["error"] == {
            "type": "database_not_found",
            "message": "Database with the requested ID 'nope' could not be found.",
            "code": 404,
        }
    # The MCP server's own data directory holds no project data: everything went to the API server.
    assert not (tmp_path / "mcp" / "default" / "project.sqlite3").exists()
    assert api.get("/tablesdb/flags/tables/t").json()["name"] == "T"


async def test_the_remote_servers_error_passes_through_as_a_tool_error(tmp_path, api):
    direct = api.post("/vectorsdb/embeddings/text", EMBED)
    assert direct.status_code == 405
    expected = direct.json()
    assert expected["type"] == "general_not_implemented"
    async with Client(serve_remote(tmp_path, *endpoint_args(api)), mode="legacy") as client:
        result = await execute(client, "vectorsDB.createTextEmbeddings", EMBED)
        assert result.is_error is True
        assert result.structured_content["error"] == {
            "type": "general_not_implemented",
            "message": expected["message"],
            "code": 405,
        }
        assert f"general_not_implemented (405): {expected['message']}" in result.content[0].text
        # The session goes on after a failed call.
        assert succeeded(await execute(client, "health.get"))["status"] == "pass"


async def test_the_environment_variables_configure_the_remote_server(tmp_path, api):
    env = clean_env(APPWRITE_ENDPOINT=api.endpoint, APPWRITE_PROJECT_ID="default", APPWRITE_API_KEY=api.secret)
    async with Client(serve_remote(tmp_path, env=env), mode="legacy") as client:
        await database_round_trip(client, api, "from_env")
        result = await client.call_tool("search_operations", {"query": "list users"})
        assert [hit for hit in result.structured_content["hits"] if "unavailable" in hit] == []


async def test_options_win_over_the_environment(tmp_path, api):
    env = clean_env(
        APPWRITE_ENDPOINT="http://127.0.0.1:9/v1", APPWRITE_PROJECT_ID="elsewhere", APPWRITE_API_KEY="wrong-key"
    )
    async with Client(serve_remote(tmp_path, *endpoint_args(api), env=env), mode="legacy") as client:
        await database_round_trip(client, api, "options_win")


async def test_an_endpoint_without_v1_gets_it_appended(tmp_path, api):
    base = api.endpoint.removesuffix("/v1")
    assert base.startswith("http://127.0.0.1:")
    for endpoint, database_id in ((base, "bare"), (base + "/", "slash")):
        async with Client(serve_remote(tmp_path, *endpoint_args(api, endpoint)), mode="legacy") as client:
            await database_round_trip(client, api, database_id)


async def test_a_wrong_api_key_is_the_remote_servers_401(tmp_path, api):
    args = ["--endpoint", api.endpoint, "--project", "default", "--api-key", "standard_not-a-key"]
    async with Client(serve_remote(tmp_path, *args), mode="legacy") as client:
        result = await execute(client, "tablesDB.list")
    assert result.is_error is True
    error = result.structured_content["error"]
    direct = api.get("/tablesdb", key="standard_not-a-key")
    assert direct.status_code == 401
    assert error == {"type": direct.json()["type"], "message": direct.json()["message"], "code": 401}


async def test_a_remote_server_that_is_down_is_a_tool_error_naming_it(tmp_path):
    endpoint = f"http://127.0.0.1:{free_port()}/v1"
    args = ["--endpoint", endpoint, "--project", "default", "--api-key", "standard_x"]
    async with Client(serve_remote(tmp_path, *args), mode="legacy") as client:
        result = await execute(client, "tablesDB.create", {"databaseId": "shop", "name": "Shop"})
        assert result.is_error is True
        error = result.structured_content["error"]
        assert (error["type"], error["code"]) == ("general_server_error", 503)
        assert f"cannot reach {endpoint}" in error["message"]
        # Gates that need no server still answer.
        refused = await execute(client, "tablesDB.delete", {"databaseId": "shop"})
        assert refused.structured_content["error"]["type"] == "general_argument_invalid"
        assert "confirm" in refused.structured_content["error"]["message"]


async def test_self_signed_lets_serve_use_a_server_with_a_self_signed_certificate(tmp_path, serve, self_signed):
    server = serve(json_answer(201, {"$id": "shop", "name": "Shop"}), context=self_signed)
    args = ["--endpoint", server.endpoint, "--project", "proj", "--api-key", "standard_tls", "--api-version", "1.9"]
    async with Client(serve_remote(tmp_path, *args), mode="legacy") as client:
        result = await execute(client, "tablesDB.create", {"databaseId": "shop", "name": "Shop"})
        assert result.is_error is True
        error = result.structured_content["error"]
        assert (error["type"], error["code"]) == ("general_server_error", 503)
        assert f"cannot reach {server.endpoint}" in error["message"]
        assert "start with --self-signed" in error["message"]
    assert server.requests == []
    async with Client(serve_remote(tmp_path, *args, "--self-signed"), mode="legacy") as client:
        created = succeeded(await execute(client, "tablesDB.create", {"databaseId": "shop", "name": "Shop"}))
    assert created == {"$id": "shop", "name": "Shop"}
    [seen] = server.requests
    assert (seen.method, seen.path, seen.json()) == ("POST", "/v1/tablesdb", {"databaseId": "shop", "name": "Shop"})
    assert (seen.headers["x-appwrite-project"], seen.headers["x-appwrite-key"]) == ("proj", "standard_tls")


# --- start-up errors -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            ["--endpoint", "ftp://x", "--project", "p", "--api-key", "k"],
            {},
            "--endpoint: expected an http(s) URL such as https://cloud.appwrite.io/v1, got 'ftp://x'",
        ),
        (["--endpoint", "localhost:8080", "--project", "p", "--api-key", "k"], {}, "expected an http(s) URL"),
        (["--endpoint", "http://", "--project", "p", "--api-key", "k"], {}, "expected an http(s) URL"),
        (["--endpoint", "http://127.0.0.1:1/v1", "--project", "p"], {}, "--endpoint needs --api-key"),
        (["--endpoint", "http://127.0.0.1:1/v1", "--api-key", "k"], {}, "--endpoint needs --project"),
        (["--api-key", "k"], {}, "--api-key applies only with --endpoint"),
        (["--self-signed"], {}, "--self-signed applies only with --endpoint"),
        (["--api-version", "1.9"], {}, "--api-version applies only with --endpoint"),
        (["--api-version", ""], {}, "--api-version applies only with --endpoint"),
        *(
            (
                ["--endpoint", "http://127.0.0.1:1/v1", "--project", "p", "--api-key", "k", "--api-version", version],
                {},
                f"--api-version: expected an Appwrite version such as 1.9 or 1.9.6, got {version!r}",
            )
            for version in ("", "abc", "1", "v1.9", "1.9.x", "1.9.6.7")
        ),
        ([], {"APPWRITE_ENDPOINT": "ftp://x", "APPWRITE_API_KEY": "k", "APPWRITE_PROJECT_ID": "p"}, "got 'ftp://x'"),
        ([], {"APPWRITE_ENDPOINT": "http://127.0.0.1:1/v1", "APPWRITE_PROJECT_ID": "p"}, "(or APPWRITE_API_KEY)"),
        ([], {"APPWRITE_ENDPOINT": "http://127.0.0.1:1/v1", "APPWRITE_API_KEY": "k"}, "(or APPWRITE_PROJECT_ID)"),
    ],
    ids=[
        "ftp",
        "no-scheme",
        "no-host",
        "no-api-key",
        "no-project",
        "api-key-alone",
        "self-signed-alone",
        "api-version-alone",
        "api-version-empty-alone",
        "api-version-empty",
        "api-version-letters",
        "api-version-major-only",
        "api-version-v-prefix",
        "api-version-x",
        "api-version-four-parts",
        "env-ftp",
        "env-no-api-key",
        "env-no-project",
    ],
)
def test_a_bad_remote_configuration_stops_serve_with_exit_2_and_says_why(tmp_path, args, env, message):
    result, _ = serve_until_exit("--data-dir", str(tmp_path / "mcp"), *args, env=clean_env(**env), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("baas-mcp serve: error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "mcp").exists()


def test_the_help_names_the_remote_options_and_their_variables():
    result = serve_until_exit("--help")[0]
    assert result.returncode == 0
    for text in ("--endpoint", "--api-key", "--self-signed", "--api-version", "APPWRITE_ENDPOINT", "APPWRITE_API_KEY"):
        assert text in result.stdout
