"""GraphQL on `baas-mcp api`: the Python SDK's Graphql service, a plain HTTP client, introspection, batches,
and the caller's keys, scopes and permissions applied field by field, as Appwrite 1.9.6 serves them."""

from __future__ import annotations

import json

import anyio
import httpx
import pytest
from appwrite.client import Client
from appwrite.services.graphql import Graphql
from graphql import build_client_schema, get_introspection_query

from mcp_server.backends.http import HttpBackend
from mcp_server.catalog import load_catalog
from mcp_server.engine.permissions import ADMIN
from tests.commands import create_key
from tests.rest.conftest import PROJECT

MAKE_SHELF = """
mutation Shelf($db: String!) {
  tablesDBCreate(databaseId: $db, name: "Library") { _id name }
  tablesDBCreateTable(databaseId: $db, tableId: "books", name: "Books", rowSecurity: true) { _id rowSecurity }
  tablesDBCreateStringColumn(databaseId: $db, tableId: "books", key: "title", size: 64, required: true) { key }
}
"""
LIST_BOOKS = '{ tablesDBListRows(databaseId: "library", tableId: "books") { total rows { _id data } } }'


def post(api, body, key: str | None = None, headers: dict | None = None, path: str = "/graphql") -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    given = api.headers(key, **{"Content-Type": "application/json"}) | (headers or {})
    return httpx.post(api.endpoint + path, content=content, headers=given, timeout=30)


@pytest.fixture(scope="module")
def library(api):
    """A table of books through the SDK's Graphql service: one anyone may read, one only its owner."""
    client = Client().set_endpoint(api.endpoint).set_project(PROJECT).set_key(api.key)
    graphql = Graphql(client)
    made = graphql.mutation({"query": MAKE_SHELF, "variables": {"db": "library"}})
    assert made == {
        "data": {
            "tablesDBCreate": {"_id": "library", "name": "Library"},
            "tablesDBCreateTable": {"_id": "books", "rowSecurity": True},
            "tablesDBCreateStringColumn": {"key": "title"},
        }
    }
    for row_id, title, reader in (("dune", "Dune", "any"), ("diary", "Diary", "user:owner")):
        graphql.mutation(
            {
                "query": "mutation($id: String!, $data: Json!, $perms: [String]) { tablesDBCreateRow("
                'databaseId: "library", tableId: "books", rowId: $id, data: $data, permissions: $perms) { _id } }',
                "variables": {"id": row_id, "data": {"title": title}, "perms": [f'read("{reader}")']},
            }
        )
    return graphql


def test_the_python_sdk_graphql_service_runs_queries_and_mutations(library):
    answer = library.query({"query": LIST_BOOKS})
    rows = answer["data"]["tablesDBListRows"]["rows"]
    assert {row["_id"]: json.loads(row["data"]) for row in rows} == {
        "dune": {"title": "Dune"},
        "diary": {"title": "Diary"},
    }
    renamed = library.mutation(
        {
            "query": 'mutation { tablesDBUpdateRow(databaseId: "library", tableId: "books", rowId: "dune", '
            'data: {title: "Dune Messiah"}) { _id data } }'
        }
    )
    assert json.loads(renamed["data"]["tablesDBUpdateRow"]["data"]) == {"title": "Dune Messiah"}


def test_a_plain_http_client_posts_gets_sends_application_graphql_and_batches(api, library):
    posted = post(
        api,
        {
            "query": 'query Q($t: String!) { tablesDBGetTable(databaseId: "library", tableId: $t) { name } }',
            "variables": {"t": "books"},
            "operationName": "Q",
        },
    )
    assert (posted.status_code, posted.json()) == (200, {"data": {"tablesDBGetTable": {"name": "Books"}}})
    assert posted.headers["content-type"] == "application/json; charset=UTF-8"
    got = httpx.get(
        api.endpoint + "/graphql",
        params={
            "query": 'query($t: String!) { tablesDBGetTable(databaseId: "library", tableId: $t) { name } }',
            "variables": json.dumps({"t": "books"}),
        },
        headers=api.headers(),
    )
    assert got.json() == {"data": {"tablesDBGetTable": {"name": "Books"}}}
    raw = post(api, b"{ healthGet { status } }", headers={"Content-Type": "application/graphql"})
    assert raw.json() == {"data": {"healthGet": {"status": "pass"}}}
    batch = post(api, [{"query": "{ healthGet { status } }"}, {"query": LIST_BOOKS}], path="/graphql/mutation")
    first, second = batch.json()
    assert first == {"data": {"healthGet": {"status": "pass"}}}
    assert second["data"]["tablesDBListRows"]["total"] == 2


def test_introspection_with_a_standard_client_builds_the_schema(api):
    answer = post(api, {"query": get_introspection_query(descriptions=True)})
    schema = build_client_schema(answer.json()["data"])
    assert "tablesDBListRows" in schema.query_type.fields
    assert "tablesDBCreateRow" in schema.mutation_type.fields


def test_a_key_with_only_the_graphql_scope_runs_graphql_but_no_field_it_lacks_the_scope_of(api, library):
    key = create_key(api.data_dir, "graphql")
    assert key["scopes"] == ["graphql"]
    answer = post(api, {"query": LIST_BOOKS + " "}, key=key["secret"])
    assert answer.status_code == 200
    body = answer.json()
    assert body["data"] == {"tablesDBListRows": None}
    (error,) = body["errors"]
    assert error["extensions"] == {"category": "appwrite", "code": 401, "type": "general_unauthorized_scope"}
    assert "rows.read" in error["message"] and error["path"] == ["tablesDBListRows"]
    narrow = post(api, {"query": LIST_BOOKS}, key=api.narrow_key)
    assert narrow.json()["data"]["tablesDBListRows"]["total"] == 2


def test_a_guest_sees_only_the_rows_it_may_read(api, library):
    listed = post(api, {"query": LIST_BOOKS}, key="").json()
    assert [row["_id"] for row in listed["data"]["tablesDBListRows"]["rows"]] == ["dune"]
    hidden = post(
        api, {"query": '{ tablesDBGetRow(databaseId: "library", tableId: "books", rowId: "diary") { _id } }'}, key=""
    ).json()
    assert hidden["data"] == {"tablesDBGetRow": None}
    assert hidden["errors"][0]["extensions"]["type"] == "row_not_found"
    refused = post(
        api,
        {"query": 'mutation { tablesDBDeleteRow(databaseId: "library", tableId: "books", rowId: "dune") { status } }'},
        key="",
    ).json()
    assert refused["data"] == {"tablesDBDeleteRow": None}
    assert refused["errors"][0]["extensions"]["code"] == 401


def test_bad_requests_answer_appwrite_errors_and_graphql_errors(api):
    broken = post(api, b'{"query": ')
    assert (broken.status_code, broken.json()["type"]) == (400, "general_argument_invalid")
    assert post(api, {}).json()["type"] == "graphql_no_query"
    assert post(api, {"variables": {}}).json()["type"] == "graphql_no_query"
    too_many = post(api, [{"query": "{ healthGet { status } }"}] * 11)
    assert (too_many.status_code, too_many.json()["type"]) == (400, "graphql_too_many_queries")
    syntax = post(api, {"query": "{ healthGet { status "})
    assert syntax.status_code == 200 and syntax.json()["errors"][0]["message"].startswith("Syntax Error")
    huge = post(api, {"query": "{ healthGet { status } }", "pad": "x" * (10 * 1024 * 1024)})
    assert huge.status_code == 413
    costly = post(api, {"query": '{ usersList(queries: ["{\\"method\\":\\"limit\\",\\"values\\":[500]}"]) { total } }'})
    assert costly.json() == {"errors": [{"message": "Max query complexity should be 250 but got 500."}]}


def test_the_http_backend_runs_graphql_on_the_api(api, library, tmp_path):
    async def run():
        backend = HttpBackend(api.endpoint, PROJECT, api.key, load_catalog(), tmp_path)
        try:
            return await backend.call("graphql.query", {"query": {"query": LIST_BOOKS}}, ADMIN)
        finally:
            await backend.aclose()

    assert anyio.run(run)["data"]["tablesDBListRows"]["total"] == 2


def test_the_graphql_protocol_switched_off_refuses_guests_but_not_keys(api, library):
    admin = create_key(api.data_dir, "project.write")
    try:
        httpx.patch(
            api.endpoint + "/project/protocols/graphql",
            json={"enabled": False},
            headers=api.headers(admin["secret"]),
        ).raise_for_status()
        refused = post(api, {"query": "{ healthGet { status } }"}, key="")
        assert (refused.status_code, refused.json()["type"]) == (403, "general_api_disabled")
        assert post(api, {"query": LIST_BOOKS}).json()["data"]["tablesDBListRows"]["total"] == 2
    finally:
        httpx.patch(
            api.endpoint + "/project/protocols/graphql", json={"enabled": True}, headers=api.headers(admin["secret"])
        ).raise_for_status()
