"""The HTTP backend and the server's Appwrite version: read once from /v1/health/version, or given at start.

Small local servers play Appwrite 1.8.1 and 1.9.6 (and servers that answer badly or not at all); `baas-mcp api`
plays itself. Operations Appwrite added after the server's version are marked unavailable on search hits and
refused by execute_operation without a request; when the version cannot be read every operation is offered.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from mcp_server.backends.http import HttpBackend
from mcp_server.backends.versions import parse_version
from mcp_server.catalog import Catalog
from mcp_server.engine.errors import AppwriteError
from mcp_server.mcp.execute import execute
from mcp_server.mcp.server import build_server
from mcp_server.runtime import Remote, Runtime
from mcp_server.settings import Settings
from tests.backends.servers import Answer, Seen, free_port, json_answer
from tests.commands import create_key, start_api_server

pytestmark = pytest.mark.anyio

PROJECT = "shop-project"
SECRET = "standard_0123456789abcdef"
NEW_IN_1_9 = "tablesDB.createBigIntColumn"
BIGINT = {"databaseId": "shop", "tableId": "items", "key": "views", "required": False}
TABLES = {"total": 0, "databases": []}


def appwrite(version: Any, status: int = 200, delay: float = 0.0):
    """A server answering /v1/health/version with `version` (a body, or a version string) and anything else OK."""

    def answer(seen: Seen, number: int) -> Answer:
        if seen.path == "/v1/health/version":
            body = {"version": version} if isinstance(version, str) else version
            return Answer(status, body, {"Content-Type": "application/json"}, delay=delay)
        return json_answer(200, TABLES)

    return answer


@pytest.fixture
async def backend_for(tmp_path: Path, catalog: Catalog):
    made: list[HttpBackend] = []

    def make(endpoint: str, **options: Any) -> HttpBackend:
        backend = HttpBackend(endpoint, PROJECT, SECRET, catalog, tmp_path / "downloads", retry_delay=0.01, **options)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        await backend.aclose()


async def run(backend: HttpBackend, operation: str, params: dict | None = None) -> Any:
    return await execute(backend, backend.catalog, Settings(), operation, params or {})


def version_requests(requests: list[Seen]) -> list[Seen]:
    return [seen for seen in requests if seen.path == "/v1/health/version"]


# --- a server of a known version -----------------------------------------------------------------------------------


async def test_a_1_8_server_refuses_1_9_operations_without_a_request_naming_both_versions(serve, backend_for):
    server = serve(appwrite("1.8.1"))
    backend = backend_for(server.endpoint)
    with pytest.raises(AppwriteError) as caught:
        await run(backend, NEW_IN_1_9, BIGINT)
    error = caught.value
    assert (error.type, error.code) == ("general_not_implemented", 405)
    assert NEW_IN_1_9 in error.message
    assert "Appwrite 1.9 " in error.message and "runs Appwrite 1.8.1" in error.message
    assert server.endpoint in error.message and "--api-version" in error.message
    [asked] = server.requests
    assert (asked.method, asked.path) == ("GET", "/v1/health/version")
    assert "x-appwrite-key" not in asked.headers
    # Operations 1.8 has still run there.
    assert await run(backend, "tablesDB.list") == TABLES
    assert [seen.path for seen in server.requests[1:]] == ["/v1/tablesdb"]


async def test_a_1_8_server_marks_only_operations_newer_than_it_unavailable(serve, backend_for, catalog: Catalog):
    backend = backend_for(serve(appwrite("1.8.1")).endpoint)
    for op in catalog.operations:
        reason = await backend.unavailable(op.id)
        if op.since == "1.8":
            assert reason is None, op.id
        else:
            assert reason == "needs Appwrite 1.9; the server runs 1.8.1", op.id


@pytest.mark.parametrize("version", ["1.9.6", "1.9", "1.9.5-rc.1", "1.10.0", "2.0.0", "99.0.0"])
async def test_a_server_of_1_9_or_later_runs_every_operation(serve, backend_for, catalog: Catalog, version: str):
    server = serve(appwrite(version))
    backend = backend_for(server.endpoint)
    assert [op.id for op in catalog.operations if await backend.unavailable(op.id)] == []
    await run(backend, NEW_IN_1_9, BIGINT)
    assert [seen.path for seen in server.requests] == [
        "/v1/health/version",
        "/v1/tablesdb/shop/tables/items/columns/bigint",
    ]


async def test_a_server_older_than_the_catalog_keeps_the_operations_of_1_8(serve, backend_for):
    """The catalog knows nothing older than 1.8: "since 1.8" means "1.8 or before", so those stay offered."""
    backend = backend_for(serve(appwrite("1.6.2")).endpoint)
    assert await backend.unavailable("tablesDB.list") is None
    assert await backend.unavailable(NEW_IN_1_9) == "needs Appwrite 1.9; the server runs 1.6.2"


async def test_the_version_is_asked_once_however_many_calls_start_together(serve, backend_for):
    server = serve(appwrite("1.8.1", delay=0.2))
    backend = backend_for(server.endpoint)
    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(run, backend, "tablesDB.list")
    for _ in range(3):
        await run(backend, "tablesDB.list")
        assert await backend.unavailable(NEW_IN_1_9)
    assert len(version_requests(server.requests)) == 1
    assert len(server.requests) == 1 + 5 + 3


@pytest.mark.parametrize(("given", "refused"), [("1.8", True), ("1.8.1", True), ("1.9", False)])
async def test_a_version_given_at_start_is_used_and_the_server_is_not_asked(serve, backend_for, given, refused):
    server = serve(appwrite("1.9.6"))
    backend = backend_for(server.endpoint, api_version=parse_version(given))
    assert bool(await backend.unavailable(NEW_IN_1_9)) is refused
    if refused:
        with pytest.raises(AppwriteError, match=f"runs Appwrite {given};"):
            await run(backend, NEW_IN_1_9, BIGINT)
    else:
        await run(backend, NEW_IN_1_9, BIGINT)
    assert version_requests(server.requests) == []


# --- a version that cannot be read: a warning, and every operation offered -----------------------------------------


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (appwrite(""), "no version in its answer"),
        (appwrite("abc"), "'abc'"),
        (appwrite("1"), "'1'"),
        (appwrite("1.9.6; DROP TABLE"), "no version in its answer"),
        (appwrite("9" * 100), "no version in its answer"),
        (appwrite({"version": 1.9}), "no version in its answer"),
        (appwrite({"Version": "1.9.6"}), "no version in its answer"),
        (appwrite(["1.9.6"]), "no version in its answer"),
        (appwrite(b"<html>Appwrite</html>"), "no version in its answer"),
        (appwrite(b"\xff\xfe"), "no version in its answer"),
        (appwrite("1.9.6", status=404), "it answered 404"),
        (appwrite("1.9.6", status=500), "it answered 500"),
        (appwrite(b'{"version": "' + b"1" * 2_000_000 + b'"}'), "longer than 4096 bytes"),
        (appwrite("1.9.6", delay=3.0), "no answer within 1 s"),
        (lambda seen, number: Answer(drop=True), "/v1/health/version"),
    ],
    ids=[
        "empty",
        "letters",
        "major-only",
        "trailing-junk",
        "huge-number",
        "a-number",
        "other-key",
        "a-list",
        "html",
        "not-utf8",
        "404",
        "500",
        "huge-body",
        "slow",
        "dropped",
    ],
)
async def test_an_unreadable_version_warns_once_and_offers_every_operation(serve, backend_for, caplog, answer, reason):
    server = serve(answer)
    backend = backend_for(server.endpoint, timeout=1.0)
    with caplog.at_level(logging.WARNING, logger="baas_mcp"):
        assert await backend.unavailable(NEW_IN_1_9) is None
        assert await backend.unavailable("tablesDB.list") is None
    [warning] = [record.getMessage() for record in caplog.records]
    assert f"could not read the Appwrite version from {server.endpoint}/health/version" in warning
    assert reason in warning
    assert "every operation is offered" in warning and "--api-version" in warning
    assert len(warning) < 500
    assert len(version_requests(server.requests)) == 1


async def test_an_unreachable_server_warns_and_the_call_names_the_endpoint(backend_for, caplog):
    endpoint = f"http://127.0.0.1:{free_port()}/v1"
    backend = backend_for(endpoint)
    with caplog.at_level(logging.WARNING, logger="baas_mcp"), pytest.raises(AppwriteError) as caught:
        await run(backend, NEW_IN_1_9, BIGINT)
    assert f"cannot reach {endpoint}" in caught.value.message
    assert "could not read the Appwrite version" in caplog.text


# --- baas-mcp api answers as Appwrite 1.9.6 ------------------------------------------------------------------------


async def test_baas_mcp_api_is_read_as_1_9_6_and_runs_1_9_operations(catalog: Catalog, tmp_path: Path):
    data_dir = tmp_path / "api"
    secret = create_key(data_dir, "databases.write,tables.write,columns.write")["secret"]
    served = start_api_server(data_dir)
    backend = HttpBackend(served.url("/v1"), "default", secret, catalog, tmp_path / "downloads")
    try:
        assert str(await backend.version()) == "1.9.6"
        assert await backend.unavailable(NEW_IN_1_9) is None
        await run(backend, "tablesDB.create", {"databaseId": "shop", "name": "Shop"})
        await run(backend, "tablesDB.createTable", {"databaseId": "shop", "tableId": "items", "name": "Items"})
        column = await run(backend, NEW_IN_1_9, BIGINT)
        assert (column["key"], column["type"]) == ("views", "bigint")
    finally:
        await backend.aclose()
        served.stop()


# --- through the MCP tools -----------------------------------------------------------------------------------------


async def test_search_shows_a_1_8_servers_missing_operations_and_execute_refuses_them(serve, tmp_path: Path):
    server = serve(appwrite("1.8.1"))
    runtime = Runtime(tmp_path / "mcp", PROJECT, Settings(), Remote(server.endpoint, PROJECT, SECRET))
    try:
        async with Client(build_server(runtime), mode="legacy") as client:
            found = await client.call_tool("search_operations", {"query": "create a bigint column", "limit": 5})
            hits = found.structured_content["hits"]
            bigint = next(hit for hit in hits if hit["id"] == NEW_IN_1_9)
            assert bigint["unavailable"] == "needs Appwrite 1.9; the server runs 1.8.1"
            text = found.content[0].text
            line = next(line for line in text.splitlines() if line.startswith(f"{NEW_IN_1_9} "))
            assert bigint["unavailable"] in line
            older = [hit for hit in hits if hit["id"] != NEW_IN_1_9 and "BigInt" not in hit["id"]]
            assert all("unavailable" not in hit for hit in older)
            # Five hits stay as short as five hits on a server that has them all.
            assert len(text) < 2_500
            refused = await client.call_tool("execute_operation", {"operation": NEW_IN_1_9, "params": BIGINT})
            assert refused.is_error is True
            error = refused.structured_content["error"]
            assert (error["type"], error["code"]) == ("general_not_implemented", 405)
            assert "Appwrite 1.9" in error["message"] and "1.8.1" in error["message"]
    finally:
        await runtime.aclose()
    assert [seen.path for seen in server.requests] == ["/v1/health/version"]
