"""GraphQL on the engine: graphql.query and graphql.mutation run fields as the caller, within Appwrite's limits."""

from __future__ import annotations

import json

import pytest
from graphql import build_client_schema, get_introspection_query, parse

from mcp_server.engine.graphql.limits import check_limits
from mcp_server.engine.graphql.service import MAX_BATCH
from mcp_server.engine.permissions import GUEST, key_auth, user_auth
from tests.engine.conftest import error_of

T = {"databaseId": "shop", "tableId": "items"}
LIST_ROWS = (
    "query Rows($db: String!, $t: String!) "
    "{ tablesDBListRows(databaseId: $db, tableId: $t) { total rows { _id data } } }"
)


def graphql(call, query: str, auth=None, variables: dict | None = None, operation: str = "graphql.query"):
    request: dict = {"query": query}
    if variables is not None:
        request["variables"] = variables
    return call(operation, **({"auth": auth} if auth else {}), query=request)


@pytest.fixture
def shop(call):
    call("tablesDB.create", databaseId="shop", name="Shop")
    call("tablesDB.createTable", **T, name="Items", rowSecurity=True, permissions=[])
    call("tablesDB.createStringColumn", **T, key="name", size=64, required=True)
    call("tablesDB.createRow", **T, rowId="open", data={"name": "Lamp"}, permissions=['read("any")'])
    call("tablesDB.createRow", **T, rowId="hidden", data={"name": "Safe"}, permissions=['read("user:owner")'])
    return call


def test_a_query_reads_rows_with_their_own_fields_as_json_and_a_mutation_writes(shop):
    answer = graphql(shop, LIST_ROWS, variables={"db": "shop", "t": "items"})
    assert answer["data"]["tablesDBListRows"]["total"] == 2
    assert {row["_id"]: json.loads(row["data"]) for row in answer["data"]["tablesDBListRows"]["rows"]} == {
        "open": {"name": "Lamp"},
        "hidden": {"name": "Safe"},
    }
    created = graphql(
        shop,
        'mutation { tablesDBCreateRow(databaseId: "shop", tableId: "items", rowId: "new", data: {name: "Desk"}) '
        "{ _id _tableId data } }",
        operation="graphql.mutation",
    )
    assert created == {"data": {"tablesDBCreateRow": {"_id": "new", "_tableId": "items", "data": '{"name": "Desk"}'}}}
    assert shop("tablesDB.getRow", **T, rowId="new")["name"] == "Desk"
    deleted = graphql(
        shop,
        'mutation { tablesDBDeleteRow(databaseId: "shop", tableId: "items", rowId: "new") { status } }',
        operation="graphql.mutation",
    )
    assert deleted == {"data": {"tablesDBDeleteRow": {"status": "OK"}}}


def test_a_guest_reads_only_the_rows_it_may_and_a_row_it_may_not_is_an_appwrite_error_in_its_field(shop):
    listed = graphql(shop, LIST_ROWS, auth=GUEST, variables={"db": "shop", "t": "items"})
    assert [row["_id"] for row in listed["data"]["tablesDBListRows"]["rows"]] == ["open"]
    answer = graphql(
        shop,
        '{ open: tablesDBGetRow(databaseId: "shop", tableId: "items", rowId: "open") { _id } '
        'hidden: tablesDBGetRow(databaseId: "shop", tableId: "items", rowId: "hidden") { _id } }',
        auth=GUEST,
    )
    assert answer["data"] == {"open": {"_id": "open"}, "hidden": None}
    (error,) = answer["errors"]
    assert error["path"] == ["hidden"] and error["locations"]
    assert error["extensions"] == {"category": "appwrite", "code": 404, "type": "row_not_found"}
    owner = graphql(shop, LIST_ROWS, auth=user_auth("owner"), variables={"db": "shop", "t": "items"})
    assert sorted(row["_id"] for row in owner["data"]["tablesDBListRows"]["rows"]) == ["hidden", "open"]


def test_a_key_runs_graphql_with_only_its_own_scopes_for_the_fields(shop):
    key = key_auth(frozenset({"rows.read"}))
    answer = graphql(
        shop, LIST_ROWS + " query Users { usersList { total } }", auth=key, variables={"db": "shop", "t": "items"}
    )
    assert "errors" in answer  # two operations and no operationName
    rows = shop("graphql.query", auth=key, query={"query": LIST_ROWS, "variables": {"db": "shop", "t": "items"}})
    assert rows["data"]["tablesDBListRows"]["total"] == 2
    users = graphql(shop, "{ usersList { total } }", auth=key)
    assert users["data"] == {"usersList": None}
    assert users["errors"][0]["extensions"]["type"] == "general_unauthorized_scope"
    assert "users.read" in users["errors"][0]["message"]


def test_a_batch_answers_a_list_in_order_and_is_bounded(call):
    answer = call(
        "graphql.query", query=[{"query": "{ healthGet { status } }"}, {"query": "{ localeListCodes { total } }"}]
    )
    assert answer[0] == {"data": {"healthGet": {"status": "pass"}}}
    assert answer[1]["data"]["localeListCodes"]["total"] > 100
    too_many = error_of(call, "graphql.query", query=[{"query": "{ healthGet { status } }"}] * (MAX_BATCH + 1))
    assert (too_many.type, too_many.code) == ("graphql_too_many_queries", 400)
    for empty in ({}, [], [{"query": ""}], {"variables": {}}):
        assert error_of(call, "graphql.query", query=empty).type == "graphql_no_query"


def test_bad_documents_answer_graphql_errors_and_run_nothing(call):
    syntax = graphql(call, "{ usersList { total ")
    assert set(syntax) == {"errors"} and syntax["errors"][0]["message"].startswith("Syntax Error")
    unknown = graphql(call, "{ usersLst { total } }")
    assert "usersLst" in unknown["errors"][0]["message"] and "usersList" in unknown["errors"][0]["message"]
    bad_variable = graphql(call, LIST_ROWS, variables={"db": 5})
    assert bad_variable["errors"] and bad_variable.get("data") is None
    wrong = error_of(call, "graphql.query", query={"query": "{ healthGet { status } }", "variables": [1]})
    assert wrong.type == "general_argument_invalid" and "variables" in wrong.message


def test_complexity_is_bounded_as_appwrite_bounds_it_a_list_costing_its_selections_times_its_limit(call):
    limited = '["{\\"method\\":\\"limit\\",\\"values\\":[100]}"]'
    costly = graphql(call, "{ usersList(queries: " + limited + ") { total users { _id name email } } }")
    assert costly == {"errors": [{"message": "Max query complexity should be 250 but got 500."}]}
    by_variable = graphql(
        call,
        "query($q: [String]) { usersList(queries: $q) { total users { _id name email } } }",
        variables={"q": ['{"method":"limit","values":[100]}']},
    )
    assert by_variable["errors"][0]["message"].startswith("Max query complexity")
    cheap = graphql(call, "{ usersList { total users { _id name email } } }")
    assert cheap == {"data": {"usersList": {"total": 0, "users": []}}}


def test_depth_counts_as_graphql_php_counts_it():
    document = parse("{ a { b { c { d { ...F } } } } } fragment F on X { e }")
    operation, fragments = document.definitions[0], {"F": document.definitions[1]}
    assert check_limits(operation, fragments, {}, set()) == []
    deeper = parse("{ a { b { c { d { ...F } } } } } fragment F on X { e { f } }")
    (error,) = check_limits(deeper.definitions[0], {"F": deeper.definitions[1]}, {}, set())
    assert error.message == "Max query depth should be 3 but got 4."


def test_introspection_builds_a_client_schema_named_as_appwrite_names_it(call):
    answer = graphql(call, get_introspection_query())
    schema = build_client_schema(answer["data"])
    query, mutation = schema.query_type.fields, schema.mutation_type.fields
    assert {"tablesDBListRows", "usersGet", "storageListFiles"} <= set(query)
    assert {"tablesDBCreateRow", "usersCreate", "tablesDBDeleteRow"} <= set(mutation)
    assert "graphqlQuery" not in mutation and "storageGetFileDownload" not in query
    assert str(query["tablesDBListRows"].args["tableId"].type) == "String!"
    assert str(query["tablesDBListRows"].type) == "RowList"
    assert {"_id", "_createdAt", "data"} <= set(schema.get_type("Row").fields)
