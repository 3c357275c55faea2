"""Functions through the two MCP tools of `baas-mcp serve` over stdio, driven by the official `mcp` client as an
agent would: find the operations with search_operations, deploy a code archive given as a local path (relative to
the server's directory) or as a data URL, run it with createExecution and read its logs and errors."""

from __future__ import annotations

import base64
import io
import os
import sys
import tarfile
from pathlib import Path

import pytest
from mcp import Client

from mcp_server.mcp.server import build_server
from mcp_server.runtime import Remote, Runtime
from mcp_server.settings import Settings
from tests.commands import create_key
from tests.mcp.test_stdio import execute, search_ids, stdio_server, succeeded

pytestmark = pytest.mark.anyio

PYTHON = "python-{}.{}".format(*sys.version_info[:2])
MAIN = """
def main(context):
    context.log("called with", context.req.method, context.req.path)
    if context.req.path == "/fail":
        raise RuntimeError("deliberate failure")
    return context.res.json({"hello": context.req.query.get("name", "world")})
"""


def archive(source: str, filler: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in (("main.py", source.encode()), ("filler.bin", filler)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


async def test_an_agent_writes_deploys_runs_and_debugs_a_function_with_a_local_archive(tmp_path: Path):
    (tmp_path / "code.tar.gz").write_bytes(archive(MAIN))
    async with Client(stdio_server(tmp_path / "data", cwd=tmp_path), mode="legacy") as client:
        assert "functions.createDeployment" in await search_ids(client, "deploy the code of a function")
        assert "functions.createExecution" in await search_ids(client, "run a function")
        # The README's walk-through, parameter for parameter.
        function = {"functionId": "hello", "name": "Hello", "runtime": PYTHON, "entrypoint": "main.py"}
        succeeded(await execute(client, "functions.create", {**function, "execute": ["any"]}))
        deployment = succeeded(
            await execute(
                client, "functions.createDeployment", {"functionId": "hello", "code": "code.tar.gz", "activate": True}
            )
        )
        assert deployment["status"] == "ready", deployment["buildLogs"]
        execution = succeeded(
            await execute(
                client, "functions.createExecution", {"functionId": "hello", "path": "/hi?name=Ada", "method": "GET"}
            )
        )
        assert (execution["status"], execution["responseStatusCode"]) == ("completed", 200)
        assert execution["responseBody"] == '{"hello":"Ada"}'
        assert "called with GET /hi" in execution["logs"]
        failed = succeeded(await execute(client, "functions.createExecution", {"functionId": "hello", "path": "/fail"}))
        assert failed["status"] == "failed"
        assert "RuntimeError: deliberate failure" in failed["errors"] and "Traceback" in failed["errors"]
        listed = succeeded(await execute(client, "functions.listExecutions", {"functionId": "hello"}))
        assert listed["total"] == 2
        saved = succeeded(
            await execute(
                client,
                "functions.getDeploymentDownload",
                {"functionId": "hello", "deploymentId": deployment["$id"]},
            )
        )
        assert Path(saved["savedTo"]).read_bytes() == (tmp_path / "code.tar.gz").read_bytes()


async def test_a_data_url_archive_deploys_too_and_a_missing_file_is_named(tmp_path: Path):
    url = "data:application/gzip;name=code.tar.gz;base64," + base64.b64encode(archive(MAIN)).decode()
    async with Client(stdio_server(tmp_path / "data", cwd=tmp_path), mode="legacy") as client:
        function = {"functionId": "web", "name": "Web", "runtime": PYTHON, "entrypoint": "main.py"}
        succeeded(await execute(client, "functions.create", function))
        deployment = succeeded(
            await execute(client, "functions.createDeployment", {"functionId": "web", "code": url, "activate": True})
        )
        assert deployment["status"] == "ready"
        execution = succeeded(await execute(client, "functions.createExecution", {"functionId": "web"}))
        assert execution["responseBody"] == '{"hello":"world"}'
        missing = await execute(
            client, "functions.createDeployment", {"functionId": "web", "code": "no-such.tar.gz", "activate": True}
        )
        assert missing.is_error
        assert "`code`" in missing.content[0].text and "no-such.tar.gz" in missing.content[0].text


async def test_a_large_archive_goes_through_the_http_backend_to_baas_mcp_api_in_chunks(tmp_path: Path, api_server):
    endpoint, data_dir = api_server
    scopes = "functions.read,functions.write,execution.read,execution.write"
    local = tmp_path / "code.tar.gz"
    local.write_bytes(archive(MAIN, os.urandom(11 * 1024 * 1024)))  # incompressible: three 5 MB chunks
    remote = Remote(endpoint, "default", create_key(data_dir, scopes)["secret"])
    runtime = Runtime(tmp_path / "data", "default", Settings(local_files=True), remote)
    try:
        async with Client(build_server(runtime)) as client:
            function = {"functionId": "big", "name": "Big", "runtime": PYTHON, "entrypoint": "main.py"}
            succeeded(await execute(client, "functions.create", function))
            deployment = succeeded(
                await execute(
                    client, "functions.createDeployment", {"functionId": "big", "code": str(local), "activate": True}
                )
            )
            assert (deployment["status"], deployment["sourceSize"]) == ("ready", local.stat().st_size)
            execution = succeeded(await execute(client, "functions.createExecution", {"functionId": "big"}))
            assert execution["responseBody"] == '{"hello":"world"}'
            assert "called with POST /" in execution["logs"]
    finally:
        await runtime.aclose()
