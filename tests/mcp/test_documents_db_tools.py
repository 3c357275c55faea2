"""documentsDB through execute_operation, as an assistant uses it: a real MCP client on an in-memory server over
the embedded engine, in both protocol modes. Nested documents and 64-bit integers come back exactly, in the
structured result and in the fenced text; queries reach nested paths; a bad path is a tool error naming it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from mcp import Client

from tests.engine.conftest import q
from tests.mcp.test_tools import failed, fenced, run, succeeded

pytestmark = pytest.mark.anyio

WHERE = {"databaseId": "docs", "collectionId": "people"}
BIG = 2**63 - 1
ADA = {
    "name": "Ada",
    "visits": BIG,
    "address": {"city": "London", "geo": {"lat": 51.5}, "lines": ["1 Main St", None]},
    "tags": ["math", "poet"],
}


@pytest.fixture
async def assistant(new_server, mode: str) -> AsyncIterator[Client]:
    async with Client(new_server(), mode=mode) as connected:
        yield connected


async def listed(client: Client, *queries: str) -> list[str]:
    found = succeeded(await run(client, "documentsDB.listDocuments", {**WHERE, "queries": list(queries)}))
    return [document["$id"] for document in found["documents"]]


async def test_nested_documents_and_queries_on_nested_paths(assistant: Client):
    database = succeeded(await run(assistant, "documentsDB.create", {"databaseId": "docs", "name": "Docs"}))
    assert database["type"] == "documentsdb"
    collection = succeeded(await run(assistant, "documentsDB.createCollection", {**WHERE, "name": "People"}))
    assert collection["attributes"] == []
    created = await run(assistant, "documentsDB.createDocument", {**WHERE, "documentId": "ada", "data": ADA})
    assert {key: succeeded(created)[key] for key in ADA} == ADA
    _, data, _ = fenced(created)
    assert json.loads(data)["visits"] == BIG  # the text the model reads keeps all 64 bits too
    bob = {"name": "Bob", "visits": 3, "address": {"city": "Paris", "geo": {"lat": 48.9}}, "tags": "chess"}
    succeeded(await run(assistant, "documentsDB.createDocument", {**WHERE, "documentId": "bob", "data": bob}))

    assert await listed(assistant, q("equal", "address.city", ["London"])) == ["ada"]
    assert await listed(assistant, q("greaterThan", "address.geo.lat", [50])) == ["ada"]
    assert await listed(assistant, q("equal", "visits", [BIG])) == ["ada"]
    assert await listed(assistant, q("contains", "tags", ["poet"])) == ["ada"]
    assert await listed(assistant, q("orderAsc", "address.geo.lat")) == ["bob", "ada"]
    index = {**WHERE, "key": "city", "type": "key", "attributes": ["address.city"]}
    assert succeeded(await run(assistant, "documentsDB.createIndex", index))["attributes"] == ["address.city"]
    assert await listed(assistant, q("equal", "address.city", ["Paris"])) == ["bob"]
    fulltext = {**WHERE, "key": "text", "type": "fulltext", "attributes": ["name", "address.city"]}
    succeeded(await run(assistant, "documentsDB.createIndex", fulltext))
    assert await listed(assistant, q("search", "name", ["paris"])) == ["bob"]

    wrong_path = [q("equal", "address..city", [1])]
    bad = await run(assistant, "documentsDB.listDocuments", {**WHERE, "queries": wrong_path})
    failed(bad, "general_query_invalid", "address..city")
    unconfirmed = await run(assistant, "documentsDB.deleteDocument", {**WHERE, "documentId": "bob"})
    assert unconfirmed.is_error is True
    succeeded(await run(assistant, "documentsDB.deleteDocument", {**WHERE, "documentId": "bob"}, confirm=True))
    assert await listed(assistant) == ["ada"]
