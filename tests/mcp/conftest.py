"""Fixtures for MCP server tests: servers in memory (subprocess helpers are in tests/commands.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from mcp_server.mcp.server import build_server
from mcp_server.runtime import Runtime
from mcp_server.settings import Settings


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_server(data_dir: Path, settings: Settings | None = None) -> tuple:
    """An in-process server (and its runtime, to close) over the embedded engine in `data_dir`."""
    runtime = Runtime(data_dir, "default", settings or Settings())
    return build_server(runtime), runtime


@pytest.fixture(params=["legacy", "auto"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
async def new_server(data_dir: Path) -> AsyncIterator[Callable[..., object]]:
    """Builds servers over the test's data dir (or another path); closes their runtimes afterwards."""
    runtimes = []

    def build(settings: Settings | None = None, directory: Path | None = None):
        server, runtime = make_server(directory or data_dir, settings or Settings())
        runtimes.append(runtime)
        return server

    yield build
    for runtime in runtimes:
        await runtime.aclose()
