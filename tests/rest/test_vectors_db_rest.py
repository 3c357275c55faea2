"""vectorsDB over `baas-mcp api`, as a plain HTTP client speaks it (the Python SDK for Appwrite 1.9 pinned in
tests/rest/sdk_python19 has no VectorsDB service): a collection, documents and a cosine query, nearest first."""

from __future__ import annotations

import json

import httpx


def send(api, method: str, path: str, body: dict | None = None, params: dict | None = None) -> httpx.Response:
    headers = api.headers(**{"Content-Type": "application/json"})
    return httpx.request(method, api.endpoint + path, json=body, params=params, headers=headers, timeout=30)


def test_vector_search_over_rest(api):
    assert send(api, "POST", "/vectorsdb", {"databaseId": "kb", "name": "Knowledge"}).status_code == 201
    made = send(api, "POST", "/vectorsdb/kb/collections", {"collectionId": "chunks", "name": "Chunks", "dimension": 3})
    assert made.status_code == 201 and made.json()["dimension"] == 3
    for doc_id, vector in (("x", [1, 0, 0]), ("y", [0, 1, 0]), ("xy", [1, 1, 0])):
        created = send(
            api,
            "POST",
            "/vectorsdb/kb/collections/chunks/documents",
            {"documentId": doc_id, "data": {"embeddings": vector, "metadata": {"name": doc_id}}},
        )
        assert created.status_code == 201, created.text
    query = json.dumps({"method": "vectorCosine", "attribute": "embeddings", "values": [[1, 0.1, 0]]})
    found = send(api, "GET", "/vectorsdb/kb/collections/chunks/documents", params={"queries[]": [query]})
    assert found.status_code == 200, found.text
    assert [d["$id"] for d in found.json()["documents"]] == ["x", "xy", "y"]
    wrong = send(
        api,
        "POST",
        "/vectorsdb/kb/collections/chunks/documents",
        {"documentId": "bad", "data": {"embeddings": [1, 2]}},
    )
    assert wrong.status_code == 400 and wrong.json()["type"] == "document_invalid_structure"
    assert "embeddings" in wrong.json()["message"]
    embed = send(api, "POST", "/vectorsdb/embeddings/text", {"texts": ["hello"]})
    assert embed.status_code == 405 and embed.json()["type"] == "general_not_implemented"
