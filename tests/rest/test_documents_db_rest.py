"""documentsDB over Appwrite's REST wire protocol (`baas-mcp api`), as a client without a DocumentsDB
service in its SDK reaches it: nested documents and 64-bit integers survive the JSON wire exactly."""

from __future__ import annotations

import json

import httpx

BIG = 2**63 - 1


def query(method: str, attribute: str, values: list) -> str:
    return json.dumps({"method": method, "attribute": attribute, "values": values})


def test_documents_round_trip_and_query_over_rest(api):
    with httpx.Client(base_url=api.endpoint, headers=api.headers(), timeout=30) as client:
        assert client.post("/documentsdb", json={"databaseId": "docs", "name": "Docs"}).status_code == 201
        made = client.post("/documentsdb/docs/collections", json={"collectionId": "people", "name": "People"})
        assert made.status_code == 201 and made.json()["attributes"] == []
        documents = "/documentsdb/docs/collections/people/documents"
        data = {"name": "Ada", "big": BIG, "address": {"city": "London", "lines": ["1 Main St", None]}}
        created = client.post(documents, json={"documentId": "ada", "data": data})
        assert created.status_code == 201, created.text
        assert {key: created.json()[key] for key in data} == data
        client.post(documents, json={"documentId": "bob", "data": {"name": "Bob", "address": {"city": "Paris"}}})
        found = client.get(documents, params={"queries[]": [query("equal", "address.city", ["London"])]})
        assert [doc["$id"] for doc in found.json()["documents"]] == ["ada"]
        assert json.loads(client.get(f"{documents}/ada").text)["big"] == BIG
        counted = client.patch(f"{documents}/bob/views/increment", json={"value": 2})
        assert counted.status_code == 200 and counted.json()["views"] == 2
        missing = client.get(f"{documents}/nobody")
        assert missing.status_code == 404 and missing.json()["type"] == "document_not_found"
        assert client.delete(f"{documents}/ada").status_code == 204
