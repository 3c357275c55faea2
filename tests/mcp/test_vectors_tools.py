"""vectorsDB through execute_operation, as an assistant uses it: a database, a collection of a dimension, documents
with metadata, nearest-first queries narrowed by metadata, and a user who never sees a nearer document they may not
read. Through the MCP SDK client against an in-memory server on the embedded engine."""

from __future__ import annotations

import pytest
from mcp import Client, types

from tests.engine.conftest import q
from tests.engine.test_text_embeddings import model_package  # noqa: F401 (a fixture: the all-minilm model's package)

pytestmark = pytest.mark.anyio

WHERE = {"databaseId": "kb", "collectionId": "chunks"}
# Each document: (embedding, metadata, who may read it).
DOCUMENTS = {
    "cats-1": ([1.0, 0.0, 0.0, 0.0], {"topic": "cats", "lang": "en"}, "any"),
    "cats-2": ([0.8, 0.2, 0.0, 0.0], {"topic": "cats", "lang": "fr"}, "any"),
    "dogs-1": ([0.9, 0.1, 0.0, 0.0], {"topic": "dogs", "lang": "en"}, "any"),
    "far": ([0.0, 0.0, 0.0, 1.0], {"topic": "cats", "lang": "en"}, "any"),
    "secret": ([1.0, 0.01, 0.0, 0.0], {"topic": "cats", "lang": "en"}, "user:ann"),
}


async def run(client: Client, operation: str, params: dict | None = None, **extra) -> types.CallToolResult:
    arguments = {"operation": operation, **extra}
    if params is not None:
        arguments["params"] = params
    return await client.call_tool("execute_operation", arguments)


def succeeded(result: types.CallToolResult):
    assert result.is_error is not True, result.content[0].text
    return result.structured_content["result"]


async def set_scene(admin: Client) -> None:
    for user in ("ann", "ben"):
        succeeded(await run(admin, "users.create", {"userId": user, "email": f"{user}@example.com", "name": user}))
    succeeded(await run(admin, "vectorsDB.create", {"databaseId": "kb", "name": "Knowledge"}))
    collection = {**WHERE, "name": "Chunks", "dimension": 4, "documentSecurity": True}
    created = succeeded(await run(admin, "vectorsDB.createCollection", collection))
    assert created["dimension"] == 4
    index = {**WHERE, "key": "near", "type": "hnsw_cosine", "attributes": ["embeddings"]}
    succeeded(await run(admin, "vectorsDB.createIndex", index))
    for doc_id, (vector, metadata, reader) in DOCUMENTS.items():
        document = {
            **WHERE,
            "documentId": doc_id,
            "data": {"embeddings": vector, "metadata": metadata},
            "permissions": [f'read("{reader}")'],
        }
        succeeded(await run(admin, "vectorsDB.createDocument", document))


async def nearest(client: Client, *filters: str, limit: int = 3, **extra) -> list[str]:
    queries = [q("vectorCosine", "embeddings", [[1.0, 0.0, 0.0, 0.0]]), *filters, q("limit", values=[limit])]
    listed = succeeded(await run(client, "vectorsDB.listDocuments", {**WHERE, "queries": queries}, **extra))
    return [document["$id"] for document in listed["documents"]]


async def test_a_cosine_top_k_narrowed_by_metadata(new_server, mode: str):
    async with Client(new_server(), mode=mode) as admin:
        await set_scene(admin)
        assert await nearest(admin) == ["cats-1", "secret", "dogs-1"]
        assert await nearest(admin, q("equal", "metadata", [{"topic": "cats"}])) == ["cats-1", "secret", "cats-2"]
        in_french = q("equal", "metadata.lang", ["fr"])
        assert await nearest(admin, in_french) == ["cats-2"]
        error = await run(admin, "vectorsDB.listDocuments", {**WHERE, "queries": [q("lessThan", "metadata", ["x"])]})
        assert error.is_error is True and error.structured_content["error"]["type"] == "general_query_invalid"


async def test_a_user_never_sees_a_nearer_document_they_may_not_read(new_server, mode: str):
    async with Client(new_server(), mode=mode) as admin:
        await set_scene(admin)
        assert await nearest(admin, as_user="ben") == ["cats-1", "dogs-1", "cats-2"]
        assert await nearest(admin, q("equal", "metadata", [{"topic": "cats"}]), as_user="ben", limit=10) == [
            "cats-1",
            "cats-2",
            "far",
        ]
        assert await nearest(admin, as_user="ann", limit=2) == ["cats-1", "secret"]
        hidden = await run(admin, "vectorsDB.getDocument", {**WHERE, "documentId": "secret"}, as_user="ben")
        assert hidden.is_error is True and hidden.structured_content["error"]["type"] == "document_not_found"


@pytest.mark.usefixtures("model_package")
async def test_texts_embedded_by_the_engine_are_found_by_meaning(new_server, mode: str):
    notes = {
        "garden": "Water the tomato plants every morning in summer.",
        "trains": "The last train to the airport leaves at midnight.",
    }
    async with Client(new_server(), mode=mode) as admin:

        async def embedded(text: str) -> list[float]:
            # One text a call: a 384-value vector is about 8,000 characters of the tool result's budget.
            result = await run(admin, "vectorsDB.createTextEmbeddings", {"texts": [text], "model": "all-minilm"})
            item = succeeded(result)["embeddings"][0]
            assert (item["model"], item["dimension"], len(item["embedding"])) == ("all-minilm", 384, 384)
            return item["embedding"]

        succeeded(await run(admin, "vectorsDB.create", {"databaseId": "kb", "name": "Knowledge"}))
        succeeded(await run(admin, "vectorsDB.createCollection", {**WHERE, "name": "Chunks", "dimension": 384}))
        for key, text in notes.items():
            data = {"embeddings": await embedded(text), "metadata": {"text": text}}
            succeeded(await run(admin, "vectorsDB.createDocument", {**WHERE, "documentId": key, "data": data}))
        vector = await embedded("How often should I water my vegetables?")
        queries = [q("vectorCosine", "embeddings", [[round(value, 4) for value in vector]]), q("limit", values=[1])]
        listed = succeeded(await run(admin, "vectorsDB.listDocuments", {**WHERE, "queries": queries}))
        assert [document["$id"] for document in listed["documents"]] == ["garden"]
