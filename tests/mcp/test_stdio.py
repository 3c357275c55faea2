"""`baas-mcp serve` over stdio, as an MCP client starts it: a real subprocess, real pipes, the SDK's client."""

from __future__ import annotations

import io
import json
import signal
import subprocess
from pathlib import Path

import anyio.to_thread
import pytest
from mcp import Client, StdioServerParameters
from PIL import Image

from tests.commands import (
    COMMAND,
    ServeProcess,
    baas_mcp,
    create_key,
    expire_key,
    revoke_key,
    serve_env,
    serve_until_exit,
)
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.anyio

BIG = 9_007_199_254_740_993  # 2**53 + 1: survives only if integers are not squeezed through a float


def stdio_server(data_dir: Path, *args: str, cwd: Path, env: dict | None = None) -> StdioServerParameters:
    return StdioServerParameters(
        command=str(COMMAND),
        args=["serve", "--data-dir", str(data_dir), *args],
        env=env if env is not None else serve_env(),
        cwd=str(cwd),
    )


async def execute(client: Client, operation: str, params: dict | None = None, **extra):
    return await client.call_tool("execute_operation", {"operation": operation, "params": params or {}, **extra})


async def search_ids(client: Client, query: str, limit: int = 5) -> list[str]:
    result = await client.call_tool("search_operations", {"query": query, "limit": limit})
    assert not result.is_error, result.content[0].text
    return [hit["id"] for hit in result.structured_content["hits"]]


def succeeded(result) -> dict:
    assert not result.is_error, result.content[0].text
    return result.structured_content["result"]


# --- a session through the SDK client ---------------------------------------------------------------------------


async def test_initialize_names_the_server_gives_instructions_and_lists_exactly_two_tools(tmp_path):
    async with Client(stdio_server(tmp_path / "data", cwd=tmp_path), mode="legacy") as client:
        assert client.server_info.name == "baas-mcp"
        assert client.protocol_version == "2025-11-25"
        assert "search_operations" in client.instructions
        assert "execute_operation" in client.instructions
        tools = (await client.list_tools()).tools
    assert sorted(tool.name for tool in tools) == ["execute_operation", "search_operations"]
    by_name = {tool.name: tool for tool in tools}
    assert by_name["search_operations"].input_schema["required"] == ["query"]
    assert by_name["execute_operation"].input_schema["required"] == ["operation"]
    assert by_name["search_operations"].annotations.read_only_hint is True
    assert by_name["execute_operation"].annotations.read_only_hint is False


async def test_search_for_creating_a_table_returns_create_table_with_a_usable_signature(tmp_path):
    async with Client(stdio_server(tmp_path / "data", cwd=tmp_path), mode="legacy") as client:
        result = await client.call_tool("search_operations", {"query": "create a table"})
    assert not result.is_error, result.content[0].text
    hits = {hit["id"]: hit for hit in result.structured_content["hits"]}
    assert "tablesDB.createTable" in hits
    assert hits["tablesDB.createTable"]["access"] == "write"
    assert hits["tablesDB.createTable"]["params"].startswith("databaseId: string, tableId: string, name: string")
    assert "tablesDB.createTable [write]" in result.content[0].text


async def test_a_table_built_over_stdio_keeps_its_rows_for_the_next_session(tmp_path):
    data = tmp_path / "data"
    ids = {"databaseId": "shop", "tableId": "items"}
    async with Client(stdio_server(data, cwd=tmp_path), mode="legacy") as client:
        database = succeeded(await execute(client, "tablesDB.create", {"databaseId": "shop", "name": "Shop"}))
        assert database["$id"] == "shop"
        table = succeeded(await execute(client, "tablesDB.createTable", {**ids, "name": "Items"}))
        assert table["$id"] == "items"
        column = succeeded(
            await execute(client, "tablesDB.createStringColumn", {**ids, "key": "title", "size": 64, "required": True})
        )
        assert (column["key"], column["type"]) == ("title", "string")
        column = succeeded(
            await execute(client, "tablesDB.createIntegerColumn", {**ids, "key": "qty", "required": False})
        )
        assert (column["key"], column["type"]) == ("qty", "integer")
        for row_id, title, qty in (("apple", "Apple", 3), ("pear", "Pear", BIG)):
            row = succeeded(
                await execute(
                    client, "tablesDB.createRow", {**ids, "rowId": row_id, "data": {"title": title, "qty": qty}}
                )
            )
            assert (row["$id"], row["title"], row["qty"]) == (row_id, title, qty)
        listed = await execute(client, "tablesDB.listRows", ids)
        rows = succeeded(listed)
        assert rows["total"] == 2
        assert {(row["$id"], row["title"], row["qty"]) for row in rows["rows"]} == {
            ("apple", "Apple", 3),
            ("pear", "Pear", BIG),
        }
        # The text a model reads has the backend's data fenced off as untrusted.
        text = listed.content[0].text
        assert text.startswith("tablesDB.listRows succeeded.")
        assert "<untrusted-data-" in text and '"Pear"' in text

    async with Client(stdio_server(data, cwd=tmp_path), mode="auto") as client:
        rows = succeeded(await execute(client, "tablesDB.listRows", ids))
        assert {(row["$id"], row["title"], row["qty"]) for row in rows["rows"]} == {
            ("apple", "Apple", 3),
            ("pear", "Pear", BIG),
        }
        row = succeeded(await execute(client, "tablesDB.getRow", {**ids, "rowId": "pear"}))
        assert row["qty"] == BIG
    assert not (tmp_path / ".baas").exists(), "--data-dir was given; nothing belongs in the working directory"


async def test_an_agent_sets_up_a_webhook_through_the_tools_and_serve_delivers_it(tmp_path):
    receiver = Receiver()
    try:
        async with Client(stdio_server(tmp_path / "data", "--allow-private-urls", cwd=tmp_path)) as client:
            assert "webhooks.create" in await search_ids(client, "send a signed webhook to my URL when a user signs up")
            hook = {"webhookId": "signups", "url": receiver.url, "name": "Sign-ups", "events": ["users.*.create"]}
            receiver.secret = succeeded(await execute(client, "webhooks.create", hook))["secret"]
            user = succeeded(await execute(client, "users.create", {"userId": "ada", "email": "ada@example.com"}))
            (delivery,) = await anyio.to_thread.run_sync(receiver.wait_for, 1)
        assert delivery.signed and delivery.payload == user and delivery.events[0] == "users.ada.create"
    finally:
        receiver.close()


# --- the raw pipe ---------------------------------------------------------------------------------------------


def initialize(request_id: int = 1) -> dict:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "pipe", "version": "1"}},
    }


def tool_call(request_id: int, name: str, arguments: dict) -> dict:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }


INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


def send(served: ServeProcess, message: dict) -> None:
    served.process.stdin.write(json.dumps(message) + "\n")
    served.process.stdin.flush()


def send_raw(served: ServeProcess, line: bytes) -> None:
    served.process.stdin.buffer.write(line + b"\n")
    served.process.stdin.buffer.flush()


def reply(served: ServeProcess, request_id: int | str | None, timeout: float = 30) -> dict:
    """The response to `request_id` (None: an error answering an id that could not be read), skipping (but
    checking) any other message the server sends first."""
    while True:
        line = served.stdout.next_line(timeout=timeout)
        assert line is not None, f"stdout ended before the reply to {request_id}: {served.stderr.text()}"
        message = json.loads(line)
        assert message["jsonrpc"] == "2.0"
        if "id" in message and message["id"] == request_id:
            return message


def pipe_server(tmp_path: Path, *args: str) -> ServeProcess:
    return ServeProcess(
        "--data-dir", str(tmp_path / "data"), *args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=tmp_path
    )


def assert_only_json_rpc(stdout: str) -> list[dict]:
    messages = []
    for line in stdout.splitlines():
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            pytest.fail(f"stdout carries something other than JSON-RPC: {line!r}")
        assert isinstance(message, dict) and message.get("jsonrpc") == "2.0", line
        assert "result" in message or "error" in message or "method" in message, line
        messages.append(message)
    return messages


def test_stdout_carries_only_json_rpc_and_end_of_input_ends_serve_with_0(tmp_path):
    served = pipe_server(tmp_path)
    try:
        send(served, initialize(1))
        answer = reply(served, 1)
        assert answer["result"]["serverInfo"]["name"] == "baas-mcp"
        assert answer["result"]["instructions"]
        send(served, INITIALIZED)
        send(served, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        tools = reply(served, 2)["result"]["tools"]
        assert sorted(tool["name"] for tool in tools) == ["execute_operation", "search_operations"]
        send(
            served,
            tool_call(
                3, "execute_operation", {"operation": "tablesDB.create", "params": {"databaseId": "db1", "name": "One"}}
            ),
        )
        created = reply(served, 3)["result"]
        assert created["isError"] is False, created
        assert created["structuredContent"]["result"]["$id"] == "db1"
        send(served, tool_call(4, "search_operations", {"query": "create a table"}))
        found = reply(served, 4)["result"]
        assert "tablesDB.createTable" in [hit["id"] for hit in found["structuredContent"]["hits"]]
        send(served, tool_call(5, "execute_operation", {"operation": "tablesDB.nope"}))
        refused = reply(served, 5)["result"]
        assert refused["isError"] is True
        assert "did you mean" in refused["content"][0]["text"]

        served.close_stdin()
        assert served.wait(10) == 0, served.stderr.text()
    finally:
        served.stop(signal.SIGKILL)
    messages = assert_only_json_rpc(served.stdout.text())
    assert [message.get("id") for message in messages if "id" in message] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_while_idle_ends_serve_with_0_and_keeps_the_data(tmp_path, signum):
    served = pipe_server(tmp_path)
    try:
        send(served, initialize(1))
        reply(served, 1)
        send(served, INITIALIZED)
        send(
            served,
            tool_call(
                2,
                "execute_operation",
                {"operation": "tablesDB.create", "params": {"databaseId": "kept", "name": "Kept"}},
            ),
        )
        assert reply(served, 2)["result"]["isError"] is False
        served.process.send_signal(signum)
        assert served.wait(5) == 0, served.stderr.text()
    finally:
        served.stop(signal.SIGKILL)
    assert_only_json_rpc(served.stdout.text())
    assert "Traceback" not in served.stderr.text()
    result = baas_mcp(
        "call", "tablesDB.get", "--params", '{"databaseId": "kept"}', "--data-dir", str(tmp_path / "data")
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["name"] == "Kept"


# --- malformed messages ------------------------------------------------------------------------------------------


def create_database(request_id: int, name: bytes) -> bytes:
    """A tools/call creating database "db", with `name` as the raw JSON of its name."""
    return (
        b'{"jsonrpc": "2.0", "id": %d, "method": "tools/call", "params": {"name": "execute_operation", '
        b'"arguments": {"operation": "tablesDB.create", "params": {"databaseId": "db", "name": %s}}}}'
    ) % (request_id, name)


MALFORMED = {
    "a truncated line": (create_database(11, b'"Shop"')[:-30], -32700, 11, "Parse error"),
    "a truncated line whose id is not whole": (
        b'{"method": "tools/list", "params": {}, "jsonrpc": "2.0", "id": 12',
        -32700,
        None,
        "Parse error",
    ),
    "nesting 300 deep": (create_database(13, b"[" * 300 + b"]" * 300), -32700, 13, "deeper than 200 levels"),
    "nesting 5000 deep": (create_database(14, b"[" * 5000 + b"]" * 5000), -32700, 14, "deeper than 200 levels"),
    "bytes that are not UTF-8": (create_database(15, b'"Sh\xffop"'), -32700, 15, "not UTF-8"),
    "NaN": (create_database(16, b"NaN"), -32700, 16, "NaN"),
    "a line over 42 MiB": (create_database(17, b'"' + b"x" * (43 << 20) + b'"'), -32600, 17, "at most 44040192"),
    "an array": (b"[]", -32600, None, "array"),
    "a number": (b"42", -32600, None, "number"),
    "an id that is an object": (
        b'{"jsonrpc": "2.0", "id": {"n": 18}, "method": "tools/list"}',
        -32600,
        None,
        '"id" must be a string or an integer',
    ),
    "params that are not an object": (
        b'{"jsonrpc": "2.0", "id": 19, "method": "tools/list", "params": [1]}',
        -32602,
        19,
        '"params" must be an object',
    ),
}


def initialized_pipe_server(tmp_path: Path) -> ServeProcess:
    served = pipe_server(tmp_path)
    send(served, initialize(1))
    reply(served, 1)
    send(served, INITIALIZED)
    return served


def assert_no_database_and_served(served: ServeProcess, request_id: int) -> None:
    """The next request is answered, and no database was created."""
    send(served, tool_call(request_id, "execute_operation", {"operation": "tablesDB.list"}))
    listed = reply(served, request_id, timeout=10)["result"]
    assert listed["isError"] is False, listed
    assert listed["structuredContent"]["result"]["total"] == 0


def test_every_malformed_message_gets_a_json_rpc_error_and_the_next_one_is_served(tmp_path):
    served = initialized_pipe_server(tmp_path)
    try:
        for number, (case, (line, code, request_id, says)) in enumerate(MALFORMED.items(), start=100):
            send_raw(served, line)
            error = reply(served, request_id, timeout=10)["error"]
            assert error["code"] == code, (case, error)
            assert says in error["message"], (case, error)
            send(served, {"jsonrpc": "2.0", "id": number, "method": "tools/list"})
            assert len(reply(served, number, timeout=10)["result"]["tools"]) == 2, case
        assert_no_database_and_served(served, 2)
        served.close_stdin()
        assert served.wait(10) == 0, served.stderr.text()
    finally:
        served.stop(signal.SIGKILL)
    assert_only_json_rpc(served.stdout.text())
    assert "Traceback" not in served.stderr.text()


def test_lone_surrogates_are_a_tool_error_naming_the_field_in_arguments_and_an_escape_in_an_id(tmp_path):
    served = initialized_pipe_server(tmp_path)
    try:
        send_raw(served, create_database(11, b'"Shop \\ud800"'))
        refused = reply(served, 11, timeout=10)["result"]
        assert refused["isError"] is True
        error = refused["structuredContent"]["error"]
        assert (error["type"], error["code"]) == ("general_argument_invalid", 400)
        assert "params.name is not Unicode text" in error["message"]
        send_raw(
            served,
            b'{"jsonrpc": "2.0", "id": 12, "method": "tools/call", '
            b'"params": {"name": "search_operations", "arguments": {"query": "\\udfff tables"}}}',
        )
        refused = reply(served, 12, timeout=10)["result"]
        assert refused["isError"] is True
        assert "search_operations: query is not Unicode text" in refused["content"][0]["text"]

        send_raw(served, b'{"jsonrpc": "2.0", "id": "a\\ud800", "method": "tools/\\udc00"}')
        line = served.stdout.next_line(timeout=10)
        assert line is not None
        assert '"a\\ud800"' in line, "an id that UTF-8 cannot carry goes back as the JSON escape it came as"
        answer = json.loads(line)
        assert (answer["id"], answer["error"]["code"]) == ("a\ud800", -32601)
        assert_no_database_and_served(served, 13)
    finally:
        served.stop(signal.SIGKILL)
    assert_only_json_rpc(served.stdout.text())


# --- a key and read-only mode ----------------------------------------------------------------------------------


@pytest.mark.parametrize("given_as", ["option", "environment"])
async def test_a_key_limits_the_stdio_server_to_its_scopes(tmp_path, given_as):
    data = tmp_path / "data"
    key = create_key(data, "rows.read")
    if given_as == "option":
        server = stdio_server(data, "--key", key["secret"], cwd=tmp_path)
    else:
        server = stdio_server(data, cwd=tmp_path, env=serve_env(BAAS_MCP_KEY=key["secret"]))
    async with Client(server, mode="legacy") as client:
        assert "tablesDB.createTable" not in await search_ids(client, "create a table", limit=20)
        assert "tablesDB.listRows" in await search_ids(client, "list rows in a table")
        refused = await execute(client, "tablesDB.create", {"databaseId": "nope", "name": "Nope"})
        assert refused.is_error
        assert refused.structured_content["error"]["type"] == "general_unauthorized_scope"
        assert "databases.write" in refused.content[0].text
        assert "tablesDB.create" in refused.content[0].text
    listed = baas_mcp("call", "tablesDB.list", "--data-dir", str(data))
    assert json.loads(listed.stdout)["total"] == 0, "the refused operation must not have run"


@pytest.mark.parametrize("problem", ["malformed", "unknown", "revoked", "expired", "from the environment"])
def test_a_bad_key_stops_stdio_serve_at_start_with_exit_2(tmp_path, problem):
    data = tmp_path / "data"
    key = create_key(data, "rows.read")
    secret = key["secret"]
    env = None
    if problem == "malformed":
        secret = "not-a-key"
    elif problem == "unknown":
        secret = key["secret"][:-4] + ("0000" if not key["secret"].endswith("0000") else "1111")
    elif problem == "revoked":
        revoke_key(data, key["$id"])
    elif problem == "expired":
        expire_key(data, key["$id"])
    else:
        secret, env = None, serve_env(BAAS_MCP_KEY="standard_nokey_" + "0" * 64)
    args = ["--data-dir", str(data)] + (["--key", secret] if secret else [])
    result, elapsed = serve_until_exit(*args, cwd=tmp_path, env=env)
    assert result.returncode == 2, result.stderr
    assert "--key" in result.stderr
    assert result.stdout == "", "nothing may reach stdout, where a client expects JSON-RPC"
    assert elapsed < 10
    if problem == "expired":
        assert "expired" in result.stderr


async def test_read_only_serves_reads_and_refuses_writes(tmp_path):
    data = tmp_path / "data"
    made = baas_mcp(
        "call", "tablesDB.create", "--params", '{"databaseId": "there", "name": "There"}', "--data-dir", str(data)
    )
    assert made.returncode == 0, made.stderr
    async with Client(stdio_server(data, "--read-only", cwd=tmp_path), mode="legacy") as client:
        result = await client.call_tool("search_operations", {"query": "create a table", "limit": 20})
        hits = result.structured_content["hits"]
        assert hits, "read operations still match"
        assert {hit["access"] for hit in hits} == {"read"}
        listed = succeeded(await execute(client, "tablesDB.list"))
        assert [database["$id"] for database in listed["databases"]] == ["there"]
        for operation, params, extra in (
            ("tablesDB.create", {"databaseId": "new", "name": "New"}, {}),
            ("tablesDB.delete", {"databaseId": "there"}, {"confirm": True}),
        ):
            refused = await execute(client, operation, params, **extra)
            assert refused.is_error, refused.content[0].text
            assert refused.structured_content["error"]["type"] == "general_access_forbidden"
            assert "read-only" in refused.content[0].text
        listed = succeeded(await execute(client, "tablesDB.list"))
        assert [database["$id"] for database in listed["databases"]] == ["there"]


async def test_allow_private_urls_lets_avatars_fetch_from_this_machine(tmp_path, site):
    image = io.BytesIO()
    Image.new("RGB", (8, 8), (255, 0, 0)).save(image, "PNG")
    url = site.add("/photo.png", image.getvalue())
    async with Client(stdio_server(tmp_path / "data", cwd=tmp_path), mode="legacy") as client:
        refused = await execute(client, "avatars.getImage", {"url": url})
    assert refused.is_error
    assert refused.structured_content["error"]["type"] == "avatar_remote_url_failed"
    assert "--allow-private-urls" in refused.content[0].text
    assert site.requests == []
    async with Client(stdio_server(tmp_path / "data", "--allow-private-urls", cwd=tmp_path), mode="legacy") as client:
        fetched = succeeded(await execute(client, "avatars.getImage", {"url": url, "width": 4, "height": 4}))
    assert fetched["contentType"] == "image/png"
    assert Image.open(fetched["savedTo"]).size == (4, 4)
    assert site.requests == ["/photo.png"]
