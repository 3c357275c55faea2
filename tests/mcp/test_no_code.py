"""`baas-mcp serve --no-code` over stdio: the MCP tools refuse code executions and deployments, naming the option,
and everything else about functions works."""

from __future__ import annotations

import pytest
from mcp import Client

from tests.mcp.test_stdio import execute, stdio_server, succeeded
from tests.rest.test_function_triggers import RECORDER, with_function

pytestmark = pytest.mark.anyio


async def test_serve_with_no_code_refuses_executions_and_deployments(tmp_path):
    data = tmp_path / "data"
    with_function(data, "f", RECORDER)
    async with Client(stdio_server(data, "--no-code", cwd=tmp_path), mode="legacy") as client:
        refused = await execute(client, "functions.createExecution", {"functionId": "f"})
        assert refused.is_error
        assert "general_access_forbidden" in refused.content[0].text and "--no-code" in refused.content[0].text
        archive = tmp_path / "code.tar.gz"
        archive.write_bytes(b"not even read")
        params = {"functionId": "f", "code": str(archive), "entrypoint": "main.py", "activate": True}
        deploying = await execute(client, "functions.createDeployment", params)
        assert deploying.is_error and "--no-code" in deploying.content[0].text
        assert succeeded(await execute(client, "functions.get", {"functionId": "f"}))["$id"] == "f"
        assert succeeded(await execute(client, "functions.listExecutions", {"functionId": "f"}))["total"] == 0
