"""Fixtures for REST API tests: one `baas-mcp api` server per test module, with a broad and a narrow API key."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.commands import ServeProcess, create_key, start_api_server

PROJECT = "default"
# Every database, table, column, index and row scope (and their legacy collection/attribute/document names),
# health, and the scopes of the few other-service calls the tests make (functions.list, storage).
BROAD_SCOPES = (
    "databases.read databases.write tables.read tables.write columns.read columns.write indexes.read indexes.write "
    "rows.read rows.write collections.read collections.write attributes.read attributes.write documents.read "
    "documents.write health.read functions.read messages.read buckets.read buckets.write files.read "
    "files.write"
).split()
NARROW_SCOPES = ["rows.read"]


@dataclass
class Api:
    """A running API server and what a client needs to reach it."""

    server: ServeProcess
    data_dir: Path
    endpoint: str
    key: str
    key_id: str
    narrow_key: str
    narrow_key_id: str

    def headers(self, key: str | None = None, **extra: str) -> dict[str, str]:
        """The project header and the broad key (or `key`; "" for none), plus `extra` headers."""
        chosen = self.key if key is None else key
        headers = {"X-Appwrite-Project": PROJECT}
        if chosen:
            headers["X-Appwrite-Key"] = chosen
        return headers | extra


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> Iterator[Api]:
    data_dir = tmp_path_factory.mktemp("rest") / "data"
    broad = create_key(data_dir, ",".join(BROAD_SCOPES))
    narrow = create_key(data_dir, ",".join(NARROW_SCOPES))
    server = start_api_server(data_dir)
    try:
        yield Api(
            server=server,
            data_dir=data_dir,
            endpoint=server.url("/v1"),
            key=broad["secret"],
            key_id=broad["$id"],
            narrow_key=narrow["secret"],
            narrow_key_id=narrow["$id"],
        )
    finally:
        code = server.stop()
    assert code == 0, f"the API server did not shut down cleanly ({code}): {server.stderr.text()}"
