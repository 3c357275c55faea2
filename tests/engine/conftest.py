"""Fixtures for engine tests: a fresh engine on a temporary data dir, and a helper to call it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mcp_server.engine import Engine
from mcp_server.engine.errors import AppwriteError
from mcp_server.engine.permissions import ADMIN, Auth
from tests.engine import event_audit
from tests.engine.event_audit import AuditedEngine

LAST = "test_every_write_operation_announced_its_events"
DESELECTED: list = []


def pytest_deselected(items) -> None:
    DESELECTED.extend(items)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items) -> None:
    """The test of what the engine tests walked runs after them."""
    items.sort(key=lambda item: item.name == LAST)


def pytest_collection_finish(session) -> None:
    """Whether every engine test runs in this session (not a selection of them)."""
    here = Path(__file__).parent
    modules = {path.name for path in here.glob("test_*.py")}
    chosen = {Path(item.fspath).name for item in session.items if Path(item.fspath).parent == here}
    event_audit.COMPLETE_RUN = chosen == modules and not any(
        Path(item.fspath).parent == here for item in DESELECTED
    )


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:
    """The engine, checking the events of every call (event_audit.py): a test fails when a call
    announced less, or other, than it should."""
    instance = AuditedEngine(tmp_path / "data", list_cache_ttl=0)
    yield instance
    instance.close()
    assert instance.problems == []


@pytest.fixture
def call(engine) -> Callable:
    """call(operation_id, auth=ADMIN, **params) -> result, raising AppwriteError on failure."""

    def run(operation_id: str, auth: Auth = ADMIN, **params):
        return engine.call(operation_id, params, auth)

    return run


def q(method: str, attribute: str | None = None, values: list | None = None) -> str:
    """One query string, as the SDKs send it."""
    query: dict = {"method": method}
    if attribute is not None:
        query["attribute"] = attribute
    if values is not None:
        query["values"] = values
    return json.dumps(query)


def error_of(function: Callable, *args, **kwargs) -> AppwriteError:
    """The AppwriteError a call raises (the test fails if it raises nothing)."""
    with pytest.raises(AppwriteError) as caught:
        function(*args, **kwargs)
    return caught.value
