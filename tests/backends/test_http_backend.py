"""The HTTP backend against small local servers that record every request and answer as each test scripts.

Calls go through `execute` (every gate, then the backend), as the execute_operation tool runs them, or
through the MCP tools themselves. What is checked is what a server receives (method, path, query, body,
headers) and what the agent gets back (results, saved downloads, errors with their type, code and message).
"""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from mcp import Client

from mcp_server import __version__
from mcp_server.backends.http import CHUNK_SIZE, MAX_RETRIES, HttpBackend
from mcp_server.backends.versions import parse_version
from mcp_server.catalog import Catalog
from mcp_server.engine.errors import AppwriteError
from mcp_server.mcp.execute import execute
from mcp_server.mcp.server import build_server
from mcp_server.runtime import Remote, Runtime
from mcp_server.settings import Settings
from tests.backends.servers import Answer, Seen, appwrite_error, free_port, json_answer, scripted

pytestmark = pytest.mark.anyio

PROJECT = "shop-project"
SECRET = "standard_0123456789abcdef"
ITEMS = {"databaseId": "shop", "tableId": "items"}
ROW = {"$id": "apple", "$tableId": "items", "$databaseId": "shop", "title": "Apple", "qty": 3}
# The scripted servers answer every request alike: the backends are told the server's version.
SERVER_VERSION = parse_version("1.9.6")


@pytest.fixture
async def backend_for(tmp_path: Path, catalog: Catalog):
    """Builds HttpBackends (quick retries) on a server's endpoint; closes them afterwards."""
    made: list[HttpBackend] = []

    def make(endpoint: str, **options: Any) -> HttpBackend:
        options = {"retry_delay": 0.01, "timeout": 5.0, "api_version": SERVER_VERSION} | options
        backend = HttpBackend(endpoint, PROJECT, SECRET, catalog, tmp_path / "downloads", **options)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        await backend.aclose()


async def run(backend: HttpBackend, operation: str, params: dict | None = None, confirm: bool = False) -> Any:
    # As the local user (stdio), who may name their own files by path.
    return await execute(backend, backend.catalog, Settings(local_files=True), operation, params or {}, confirm)


async def refused(backend: HttpBackend, operation: str, params: dict | None = None, **kw: Any) -> AppwriteError:
    with pytest.raises(AppwriteError) as caught:
        await run(backend, operation, params, **kw)
    return caught.value


# --- request shape -------------------------------------------------------------------------------------------------


async def test_a_get_carries_the_project_key_and_response_format_and_queries_as_the_sdks_send_them(serve, backend_for):
    server = serve(json_answer(200, {"total": 1, "rows": [ROW]}))
    backend = backend_for(server.endpoint)
    queries = ['{"method":"equal","attribute":"title","values":["A & B = C"]}', '{"method":"limit","values":[2]}']
    result = await run(
        backend, "tablesDB.listRows", {"databaseId": "shop", "tableId": "my items", "queries": queries, "total": False}
    )
    assert result == {"total": 1, "rows": [ROW]}
    [seen] = server.requests
    assert seen.method == "GET"
    assert seen.path == "/v1/tablesdb/shop/tables/my%20items/rows"
    assert seen.query == [("queries[0]", queries[0]), ("queries[1]", queries[1]), ("total", "false")]
    assert seen.body == b""
    assert seen.headers["x-appwrite-project"] == PROJECT
    assert seen.headers["x-appwrite-key"] == SECRET
    assert seen.headers["x-appwrite-response-format"] == "1.9.6"
    assert seen.headers["user-agent"] == f"baas-mcp/{__version__}"


async def test_a_write_sends_its_body_params_as_json_and_its_path_params_only_in_the_path(serve, backend_for):
    server = serve(json_answer(201, ROW))
    backend = backend_for(server.endpoint)
    params = {
        **ITEMS,
        "rowId": "apple",
        "data": {"title": "Apple", "qty": 9_007_199_254_740_993, "ok": True, "none": None, "tags": ["a", "b"]},
        "permissions": ['read("any")'],
    }
    assert await run(backend, "tablesDB.createRow", params) == ROW
    [seen] = server.requests
    assert (seen.method, seen.path, seen.query) == ("POST", "/v1/tablesdb/shop/tables/items/rows", [])
    assert seen.headers["content-type"] == "application/json"
    assert seen.json() == {
        "rowId": "apple",
        "data": {"title": "Apple", "qty": 9_007_199_254_740_993, "ok": True, "none": None, "tags": ["a", "b"]},
        "permissions": ['read("any")'],
    }


async def test_query_numbers_and_booleans_are_written_as_the_sdks_write_them(serve, backend_for):
    server = serve(Answer(200, b"\x89PNG\r\n", {"Content-Type": "image/png"}))
    backend = backend_for(server.endpoint)
    await run(backend, "avatars.getInitials", {"name": "Ada Lovelace", "width": 64, "background": "ff0000"})
    await run(backend, "tablesDB.listRows", {**ITEMS, "total": True})
    first, second = server.requests
    assert first.path == "/v1/avatars/initials"
    sent = dict(first.query)
    assert len(sent) == len(first.query)
    assert {name: sent[name] for name in ("name", "width", "background")} == {
        "name": "Ada Lovelace",
        "width": "64",
        "background": "ff0000",
    }
    assert second.query == [("total", "true")]


@pytest.mark.parametrize("row_id", ["a b", "a/b", "odd/../plain", "plain?x=1", "plain#x", "%70lain", "ü", ".", ".."])
async def test_a_path_param_stays_one_path_segment_whatever_it_contains(serve, backend_for, row_id):
    """The server must see the getRow route with the id as its last segment, never another resource's path."""
    server = serve(json_answer(200, ROW))
    backend = backend_for(server.endpoint)
    await run(backend, "tablesDB.getRow", {**ITEMS, "rowId": row_id})
    [seen] = server.requests
    prefix = "/v1/tablesdb/shop/tables/items/rows/"
    assert seen.path.startswith(prefix), seen.target
    segment = seen.path[len(prefix) :]
    assert "/" not in segment
    assert unquote(segment) == row_id
    assert seen.query == []


async def test_a_delete_without_confirm_and_invalid_params_never_reach_the_server(serve, backend_for):
    server = serve(Answer(204))
    backend = backend_for(server.endpoint)
    error = await refused(backend, "tablesDB.deleteRow", {**ITEMS, "rowId": "apple"})
    assert (error.type, error.code) == ("general_argument_invalid", 400)
    assert "confirm" in error.message
    error = await refused(backend, "tablesDB.createRow", {**ITEMS, "rowId": "apple", "data": "not an object"})
    assert (error.type, error.code) == ("general_argument_invalid", 400)
    assert "data" in error.message
    assert server.requests == []
    assert await run(backend, "tablesDB.deleteRow", {**ITEMS, "rowId": "apple"}, confirm=True) is None
    [seen] = server.requests
    assert (seen.method, seen.path) == ("DELETE", "/v1/tablesdb/shop/tables/items/rows/apple")


# --- answers -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/json; charset=UTF-8", "Application/JSON", "application/json"])
async def test_a_json_answer_is_read_whatever_the_case_of_its_type(serve, backend_for, content_type):
    server = serve(Answer(200, b'{"total":0,"rows":[]}', {"Content-Type": content_type}))
    backend = backend_for(server.endpoint)
    assert await run(backend, "tablesDB.listRows", ITEMS) == {"total": 0, "rows": []}


async def test_no_content_is_none_and_the_tool_says_ok(serve, backend_for, tmp_path):
    server = serve(Answer(204))
    backend = backend_for(server.endpoint)
    assert await run(backend, "tablesDB.deleteRow", {**ITEMS, "rowId": "apple"}, confirm=True) is None
    runtime = Runtime(
        tmp_path / "mcp", PROJECT, Settings(), Remote(server.endpoint, PROJECT, SECRET, api_version=SERVER_VERSION)
    )
    try:
        async with Client(build_server(runtime), mode="legacy") as client:
            result = await client.call_tool(
                "execute_operation",
                {"operation": "tablesDB.deleteRow", "params": {**ITEMS, "rowId": "apple"}, "confirm": True},
            )
    finally:
        await runtime.aclose()
    assert result.is_error is not True
    assert result.structured_content == {"result": {"ok": True}}


async def test_an_appwrite_error_passes_through_with_its_type_code_and_message(serve, backend_for):
    message = "Row with the requested ID 'apple' could not be found."
    server = serve(appwrite_error(404, "row_not_found", message))
    backend = backend_for(server.endpoint)
    error = await refused(backend, "tablesDB.getRow", {**ITEMS, "rowId": "apple"})
    assert (error.type, error.code, error.message) == ("row_not_found", 404, message)
    assert len(server.requests) == 1


async def test_a_json_error_without_a_type_is_general_unknown_with_the_servers_message(serve, backend_for):
    server = serve(json_answer(409, {"message": "Conflict on sku", "code": 409}))
    backend = backend_for(server.endpoint)
    error = await refused(backend, "tablesDB.createRow", {**ITEMS, "rowId": "a", "data": {}})
    assert (error.type, error.code, error.message) == ("general_unknown", 409, "Conflict on sku")


async def test_an_html_error_page_becomes_a_server_error_naming_the_status(serve, backend_for):
    page = b"<html><body><h1>502 Bad Gateway</h1>nginx</body></html>"
    server = serve(Answer(502, page, {"Content-Type": "text/html"}))
    backend = backend_for(server.endpoint)
    error = await refused(backend, "tablesDB.listRows", ITEMS)
    assert error.type == "general_server_error"
    assert error.code == 502
    assert "502" in error.message
    assert "tablesDB.listRows" in error.message
    assert "Bad Gateway" in error.message
    assert len(server.requests) == 1  # 502 is not retried


async def test_the_tool_error_of_a_server_error_names_type_code_and_message(serve, tmp_path):
    server = serve(
        appwrite_error(401, "user_unauthorized", "The current user is not authorized to perform the action.")
    )
    runtime = Runtime(
        tmp_path / "mcp", PROJECT, Settings(), Remote(server.endpoint, PROJECT, SECRET, api_version=SERVER_VERSION)
    )
    try:
        async with Client(build_server(runtime), mode="legacy") as client:
            result = await client.call_tool("execute_operation", {"operation": "tablesDB.list"})
    finally:
        await runtime.aclose()
    assert result.is_error is True
    assert result.structured_content == {
        "error": {
            "type": "user_unauthorized",
            "message": "The current user is not authorized to perform the action.",
            "code": 401,
        }
    }
    assert "tablesDB.list failed: user_unauthorized (401)" in result.content[0].text


async def test_a_media_answer_is_saved_under_the_downloads_dir(serve, backend_for, tmp_path):
    image = b"\x89PNG\r\n\x1a\n" + os.urandom(3000)
    server = serve(Answer(200, image, {"Content-Type": "image/png"}))
    backend = backend_for(server.endpoint)
    result = await run(backend, "avatars.getInitials", {"name": "Ada"})
    assert set(result) == {"savedTo", "contentType", "bytes"}
    assert (result["contentType"], result["bytes"]) == ("image/png", len(image))
    saved = Path(result["savedTo"])
    assert saved.parent == tmp_path / "downloads"
    assert saved.suffix == ".png"
    assert saved.read_bytes() == image
    again = await run(backend, "avatars.getInitials", {"name": "Ada"})
    assert again["savedTo"] != result["savedTo"]
    assert len(list((tmp_path / "downloads").iterdir())) == 2


async def test_a_download_with_a_charset_in_its_type_is_saved_with_the_bare_type(serve, backend_for):
    server = serve(Answer(200, b"a,b\n1,2\n", {"Content-Type": "text/csv; charset=utf-8"}))
    backend = backend_for(server.endpoint)
    result = await run(backend, "storage.getFileDownload", {"bucketId": "docs", "fileId": "report"})
    assert (result["contentType"], result["bytes"]) == ("text/csv", 8)
    assert Path(result["savedTo"]).read_bytes() == b"a,b\n1,2\n"
    assert server.requests[0].path == "/v1/storage/buckets/docs/files/report/download"


async def test_a_redirect_is_answered_with_its_location_and_not_followed(serve, backend_for):
    location = "https://github.com/login/oauth/authorize?client_id=abc&state=xyz"
    server = serve(Answer(301, b"", {"Location": location}))
    backend = backend_for(server.endpoint)
    result = await run(
        backend, "account.createOAuth2Token", {"provider": "github", "success": "https://app.example/ok"}
    )
    assert result == {"location": location}
    [seen] = server.requests
    assert seen.path == "/v1/account/tokens/oauth2/github"
    assert dict(seen.query)["success"] == "https://app.example/ok"


async def test_backend_can_be_closed_and_used_again(serve, backend_for):
    server = serve(json_answer(200, {"total": 0, "databases": []}))
    backend = backend_for(server.endpoint)
    assert (await run(backend, "tablesDB.list"))["total"] == 0
    await backend.aclose()
    assert (await run(backend, "tablesDB.list"))["total"] == 0
    assert len(server.requests) == 2


# --- retries -------------------------------------------------------------------------------------------------------

UNAVAILABLE = appwrite_error(503, "general_server_error", "Server is busy, try again")
TOO_MANY = appwrite_error(429, "general_rate_limit_exceeded", "Rate limit for the current endpoint has been exceeded.")
IDEMPOTENT_CALLS = [
    ("GET", "tablesDB.getRow", {**ITEMS, "rowId": "apple"}, False),
    ("PUT", "tablesDB.upsertRow", {**ITEMS, "rowId": "apple", "data": {"qty": 1}}, False),
    ("DELETE", "tablesDB.deleteRow", {**ITEMS, "rowId": "apple"}, True),
]
NON_IDEMPOTENT_CALLS = [
    ("POST", "tablesDB.createRow", {**ITEMS, "rowId": "apple", "data": {"qty": 1}}, False),
    ("PATCH", "tablesDB.updateRow", {**ITEMS, "rowId": "apple", "data": {"qty": 1}}, False),
    ("PATCH", "tablesDB.incrementRowColumn", {**ITEMS, "rowId": "apple", "column": "qty", "value": 1}, False),
]


@pytest.mark.parametrize("busy", [UNAVAILABLE, TOO_MANY], ids=["503", "429"])
@pytest.mark.parametrize(("method", "operation", "params", "confirm"), IDEMPOTENT_CALLS)
async def test_a_repeatable_call_is_retried_until_the_server_answers(
    serve, backend_for, busy, method, operation, params, confirm
):
    server = serve(scripted(busy, busy, json_answer(200, ROW)))
    backend = backend_for(server.endpoint)
    assert await run(backend, operation, params, confirm=confirm) == ROW
    assert [seen.method for seen in server.requests] == [method] * 3
    assert len({seen.target for seen in server.requests}) == 1
    assert len({seen.body for seen in server.requests}) == 1


@pytest.mark.parametrize("busy", [UNAVAILABLE, TOO_MANY], ids=["503", "429"])
@pytest.mark.parametrize(("method", "operation", "params", "confirm"), NON_IDEMPOTENT_CALLS)
async def test_a_call_that_is_not_safe_to_repeat_is_sent_once(
    serve, backend_for, busy, method, operation, params, confirm
):
    server = serve(scripted(busy, json_answer(200, ROW)))
    backend = backend_for(server.endpoint)
    error = await refused(backend, operation, params, confirm=confirm)
    assert (error.type, error.code, error.message) == (busy.body["type"], busy.status, busy.body["message"])
    assert [seen.method for seen in server.requests] == [method]


async def test_retries_give_up_after_max_retries_with_the_servers_error(serve, backend_for):
    server = serve(UNAVAILABLE)
    backend = backend_for(server.endpoint)
    error = await refused(backend, "tablesDB.listRows", ITEMS)
    assert (error.type, error.code, error.message) == ("general_server_error", 503, "Server is busy, try again")
    assert len(server.requests) == MAX_RETRIES + 1


async def test_retries_back_off_exponentially_from_the_retry_delay(serve, backend_for):
    server = serve(UNAVAILABLE)
    backend = backend_for(server.endpoint, retry_delay=0.1)
    await refused(backend, "tablesDB.listRows", ITEMS)
    times = [seen.at for seen in server.requests]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert len(gaps) == 3
    for gap, expected in zip(gaps, (0.1, 0.2, 0.4), strict=True):
        assert expected * 0.9 <= gap < expected + 0.25, gaps


async def test_retry_after_is_honoured(serve, backend_for):
    busy = appwrite_error(503, "general_server_error", "busy", **{"Retry-After": "0.4"})
    server = serve(scripted(busy, json_answer(200, ROW)))
    backend = backend_for(server.endpoint, retry_delay=0.01)
    assert await run(backend, "tablesDB.getRow", {**ITEMS, "rowId": "apple"}) == ROW
    first, second = server.requests
    assert 0.35 <= second.at - first.at < 1.5


async def test_a_retry_after_date_falls_back_to_the_backoff(serve, backend_for):
    busy = appwrite_error(
        429, "general_rate_limit_exceeded", "slow down", **{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}
    )
    server = serve(scripted(busy, json_answer(200, ROW)))
    backend = backend_for(server.endpoint, retry_delay=0.01)
    assert await run(backend, "tablesDB.getRow", {**ITEMS, "rowId": "apple"}) == ROW
    first, second = server.requests
    assert second.at - first.at < 0.3


async def test_a_dropped_connection_is_retried_for_a_get(serve, backend_for):
    server = serve(scripted(Answer(drop=True), json_answer(200, ROW)))
    backend = backend_for(server.endpoint)
    assert await run(backend, "tablesDB.getRow", {**ITEMS, "rowId": "apple"}) == ROW
    assert len(server.requests) == 2


async def test_a_dropped_connection_is_not_retried_for_a_post(serve, backend_for):
    server = serve(scripted(Answer(drop=True), json_answer(201, ROW)))
    backend = backend_for(server.endpoint)
    error = await refused(backend, "tablesDB.createRow", {**ITEMS, "rowId": "apple", "data": {}})
    assert (error.type, error.code) == ("general_server_error", 503)
    assert server.endpoint in error.message
    assert "tablesDB.createRow" in error.message
    assert len(server.requests) == 1


# --- timeouts and unreachable servers ------------------------------------------------------------------------------


async def test_a_server_that_never_answers_times_out_with_a_message_naming_the_endpoint(serve, backend_for):
    server = serve(Answer(200, b"{}", delay=30))
    backend = backend_for(server.endpoint, timeout=0.5)
    started = time.monotonic()
    error = await refused(backend, "tablesDB.createRow", {**ITEMS, "rowId": "apple", "data": {}})
    assert time.monotonic() - started < 3
    assert error.type == "general_server_error"
    assert error.code == 504
    assert server.endpoint in error.message
    assert "0.5 s" in error.message
    assert "tablesDB.createRow" in error.message
    assert len(server.requests) == 1


async def test_a_get_that_times_out_is_tried_again_then_gives_up(serve, backend_for):
    server = serve(Answer(200, b"{}", delay=30))
    backend = backend_for(server.endpoint, timeout=0.2)
    error = await refused(backend, "tablesDB.getRow", {**ITEMS, "rowId": "apple"})
    assert (error.type, error.code) == ("general_server_error", 504)
    assert len(server.requests) == MAX_RETRIES + 1


async def test_a_get_that_times_out_once_succeeds_on_the_next_try(serve, backend_for):
    server = serve(scripted(Answer(200, b"{}", delay=30), json_answer(200, ROW)))
    backend = backend_for(server.endpoint, timeout=0.3)
    assert await run(backend, "tablesDB.getRow", {**ITEMS, "rowId": "apple"}) == ROW
    assert len(server.requests) == 2


async def test_an_unreachable_server_is_a_clear_error_naming_the_endpoint(backend_for):
    endpoint = f"http://127.0.0.1:{free_port()}/v1"
    backend = backend_for(endpoint)
    for operation, params in (("tablesDB.list", {}), ("tablesDB.create", {"databaseId": "shop", "name": "Shop"})):
        error = await refused(backend, operation, params)
        assert error.type == "general_server_error"
        assert error.code == 503
        assert f"{operation}: cannot reach {endpoint}" in error.message
        assert "self-signed" not in error.message


# --- uploads -------------------------------------------------------------------------------------------------------


def multipart(seen: Seen) -> dict[str, tuple[str | None, str | None, bytes]]:
    """A multipart/form-data body as name -> (filename, content type, bytes)."""
    content_type = seen.headers["content-type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    parts = seen.body.split(b"--" + boundary)
    assert parts[0] == b""
    assert parts[-1].strip() == b"--"
    fields = {}
    for part in parts[1:-1]:
        head, _, content = part[2:].partition(b"\r\n\r\n")
        assert content.endswith(b"\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n"))
        disposition = {
            key.strip(): value.strip('"')
            for key, _, value in (item.partition("=") for item in headers["Content-Disposition"].split(";")[1:])
        }
        name = disposition["name"]
        assert name not in fields
        fields[name] = (disposition.get("filename"), headers.get("Content-Type"), content[:-2])
    return fields


def file_model(file_id: str, chunks: int, total: int) -> dict:
    return {"$id": file_id, "bucketId": "docs", "name": "big.bin", "sizeOriginal": total, "chunksUploaded": chunks}


async def test_a_big_file_goes_up_in_5_mb_chunks_with_content_range_and_the_first_answers_id(
    serve, backend_for, tmp_path
):
    total = 12 * 1024 * 1024
    data = os.urandom(total)
    local = tmp_path / "big.bin"
    local.write_bytes(data)
    server = serve(lambda seen, number: json_answer(201, file_model("server-id-1", number + 1, total)))
    backend = backend_for(server.endpoint)
    result = await run(
        backend,
        "storage.createFile",
        {"bucketId": "docs", "fileId": "unique()", "file": str(local), "permissions": ['read("any")']},
    )
    assert result == file_model("server-id-1", 3, total)
    assert len(server.requests) == 3
    assert CHUNK_SIZE == 5 * 1024 * 1024
    assert [seen.headers.get("content-range") for seen in server.requests] == [
        "bytes 0-5242879/12582912",
        "bytes 5242880-10485759/12582912",
        "bytes 10485760-12582911/12582912",
    ]
    assert [seen.headers.get("x-appwrite-id") for seen in server.requests] == [None, "server-id-1", "server-id-1"]
    received = b""
    for seen in server.requests:
        assert (seen.method, seen.path, seen.query) == ("POST", "/v1/storage/buckets/docs/files", [])
        fields = multipart(seen)
        assert set(fields) == {"fileId", "permissions[0]", "file"}
        assert fields["fileId"] == (None, None, b"unique()")
        assert fields["permissions[0]"] == (None, None, b'read("any")')
        filename, content_type, chunk = fields["file"]
        assert (filename, content_type) == ("big.bin", "application/octet-stream")
        received += chunk
    assert received == data


async def test_a_failed_chunk_stops_the_upload_with_the_servers_error(serve, backend_for, tmp_path):
    local = tmp_path / "big.bin"
    local.write_bytes(os.urandom(CHUNK_SIZE * 2 + 10))
    server = serve(
        scripted(
            json_answer(201, file_model("f1", 1, CHUNK_SIZE * 2 + 10)),
            appwrite_error(400, "storage_invalid_content_range", "Invalid content range"),
        )
    )
    backend = backend_for(server.endpoint)
    error = await refused(backend, "storage.createFile", {"bucketId": "docs", "fileId": "f1", "file": str(local)})
    assert (error.type, error.code, error.message) == ("storage_invalid_content_range", 400, "Invalid content range")
    assert len(server.requests) == 2


async def test_a_small_file_goes_up_in_one_request_without_content_range(serve, backend_for, tmp_path):
    local = tmp_path / "notes.txt"
    local.write_bytes(b"hello\r\n--not a boundary\r\n")
    server = serve(json_answer(201, file_model("notes", 1, 26)))
    backend = backend_for(server.endpoint)
    result = await run(backend, "storage.createFile", {"bucketId": "docs", "fileId": "notes", "file": str(local)})
    assert result["$id"] == "notes"
    [seen] = server.requests
    assert "content-range" not in seen.headers
    assert "x-appwrite-id" not in seen.headers
    assert seen.headers["x-appwrite-key"] == SECRET
    fields = multipart(seen)
    assert fields == {"fileId": (None, None, b"notes"), "file": ("notes.txt", "text/plain", local.read_bytes())}


async def test_a_file_of_exactly_one_chunk_goes_up_in_one_request(serve, backend_for, tmp_path):
    local = tmp_path / "exact.bin"
    local.write_bytes(b"x" * CHUNK_SIZE)
    server = serve(json_answer(201, file_model("exact", 1, CHUNK_SIZE)))
    backend = backend_for(server.endpoint)
    await run(backend, "storage.createFile", {"bucketId": "docs", "fileId": "exact", "file": str(local)})
    [seen] = server.requests
    assert "content-range" not in seen.headers


async def test_a_missing_local_file_is_an_argument_error_naming_the_param(serve, backend_for, tmp_path):
    server = serve(json_answer(201, {}))
    backend = backend_for(server.endpoint)
    missing = tmp_path / "nowhere" / "photo.jpg"
    error = await refused(backend, "storage.createFile", {"bucketId": "docs", "fileId": "p", "file": str(missing)})
    assert (error.type, error.code) == ("general_argument_invalid", 400)
    assert "`file`" in error.message
    assert str(missing) in error.message
    assert server.requests == []


# --- TLS (the server: conftest self_signed) ------------------------------------------------------------------------


async def call_through_tools(runtime: Runtime, operation: str, params: dict | None = None):
    try:
        async with Client(build_server(runtime), mode="legacy") as client:
            return await client.call_tool("execute_operation", {"operation": operation, "params": params or {}})
    finally:
        await runtime.aclose()


async def test_a_self_signed_server_is_refused_by_default_with_a_hint(serve, self_signed, tmp_path):
    server = serve(json_answer(201, {"$id": "shop"}), context=self_signed)
    assert server.endpoint.startswith("https://")
    runtime = Runtime(
        tmp_path / "mcp", PROJECT, Settings(), Remote(server.endpoint, PROJECT, SECRET, api_version=SERVER_VERSION)
    )
    result = await call_through_tools(runtime, "tablesDB.create", {"databaseId": "shop", "name": "Shop"})
    assert result.is_error is True
    error = result.structured_content["error"]
    assert (error["type"], error["code"]) == ("general_server_error", 503)
    assert f"cannot reach {server.endpoint}" in error["message"]
    assert "CERTIFICATE_VERIFY_FAILED" in error["message"]
    assert "--self-signed" in error["message"]
    assert server.requests == []


async def test_a_self_signed_server_works_when_declared_so(serve, self_signed, tmp_path):
    server = serve(json_answer(200, {"total": 0, "databases": []}), context=self_signed)
    remote = Remote(server.endpoint, PROJECT, SECRET, verify=False, api_version=SERVER_VERSION)
    result = await call_through_tools(Runtime(tmp_path / "mcp", PROJECT, Settings(), remote), "tablesDB.list")
    assert result.is_error is not True, result.content[0].text
    assert result.structured_content == {"result": {"total": 0, "databases": []}}
    [seen] = server.requests
    assert (seen.method, seen.path) == ("GET", "/v1/tablesdb")
    assert seen.headers["x-appwrite-key"] == SECRET
