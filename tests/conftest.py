"""Shared fixtures: the repository layout, the vendored spec, the shipped catalog and its index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mcp_server.catalog import Catalog, load_catalog
from mcp_server.search.index import SearchIndex, default_index
from tests.commands import start_api_server
from tests.sites import Site

ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = ROOT / "catalog" / "appwrite-spec" / "open-api3-server.json"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def spec() -> dict:
    return json.loads(SPEC_PATH.read_text())


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session")
def index() -> SearchIndex:
    return default_index()


def eval_cases(name: str) -> list[dict]:
    """A search evaluation file: queries with the operation ids that answer them."""
    path = ROOT / "evals" / name
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def dev_cases() -> list[dict]:
    return eval_cases("search-dev.jsonl")


@pytest.fixture(scope="session")
def agent_cases() -> list[dict]:
    return eval_cases("search-agents.jsonl")


@pytest.fixture(scope="session")
def newer_service_cases() -> list[dict]:
    return eval_cases("search-1.9.jsonl")


@pytest.fixture(scope="session")
def holdout_cases() -> list[dict]:
    return eval_cases("search-holdout.jsonl")


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory):
    """`baas-mcp api` over a data dir of its own, shared by one test module: (its /v1 URL, the data dir)."""
    data_dir = tmp_path_factory.mktemp("api")
    served = start_api_server(data_dir)
    try:
        yield served.url("/v1"), data_dir
    finally:
        served.stop()


@pytest.fixture
def site():
    """A local web site on 127.0.0.1 (tests/sites.py): the test sets its pages, it records the requests."""
    served = Site()
    yield served
    served.close()
