"""Fixtures for MCP server tests: servers in memory (subprocess helpers are in tests/commands.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_server.runtime import Runtime
from mcp_server.server import build_server
from mcp_server.settings import Settings


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_server(data_dir: Path, settings: Settings | None = None) -> tuple:
    """An in-process server (and its runtime, to close) over the embedded engine in `data_dir`."""
    runtime = Runtime(data_dir, "default", settings or Settings())
    return build_server(runtime), runtime
