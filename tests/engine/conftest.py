"""Fixtures for engine tests: a fresh engine on a temporary data dir, and a helper to call it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

from mcp_server.engine import Engine
from mcp_server.engine.errors import AppwriteError
from mcp_server.engine.permissions import ADMIN, Auth


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:
    instance = Engine(tmp_path / "data", list_cache_ttl=0)
    yield instance
    instance.close()


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
