"""The REST app answers each client in the response format it names (X-Appwrite-Response-Format): Appwrite
1.9.6's models by default, converted down for older SDKs as Appwrite's filters do; and impersonation over
the wire (X-Appwrite-Impersonate-User-* headers and query parameters)."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import httpx
import pytest

from mcp_server.rest.response_formats import in_format
from tests.commands import create_key

OLD = {"X-Appwrite-Response-Format": "1.8.0"}  # appwrite 16.0.0 and node-appwrite 20 send this
NEW = {"X-Appwrite-Response-Format": "1.9.5"}  # appwrite 20.1.0


@pytest.fixture(scope="module")
def http(api) -> Iterator[httpx.Client]:
    key = create_key(
        api.data_dir,
        "databases.write,tables.write,columns.write,rows.read,rows.write,documents.read,users.read,"
        "users.write,sessions.write,teams.read,teams.write",
    )
    with httpx.Client(base_url=api.endpoint, headers=api.headers(key["secret"]), timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def rows(http) -> str:
    """A table with two rows; its rows route."""
    assert http.post("/tablesdb", json={"databaseId": "fmt", "name": "Formats"}).status_code == 201
    columns = [{"key": "title", "type": "varchar", "size": 20, "required": False}]
    created = http.post("/tablesdb/fmt/tables", json={"tableId": "t", "name": "T", "columns": columns})
    assert created.status_code == 201, created.text
    route = "/tablesdb/fmt/tables/t/rows"
    for row_id in ("a", "b"):
        assert http.post(route, json={"rowId": row_id, "data": {"title": row_id}}).status_code == 201
    return route


@pytest.fixture(scope="module")
def users(http) -> None:
    for user_id, email, phone in (("ada", "ada@example.com", "+14155550100"), ("bob", "bob@example.com", None)):
        body = {"userId": user_id, "email": email, "name": user_id.title()} | ({"phone": phone} if phone else {})
        assert http.post("/users", json=body).status_code == 201


def test_rows_show_sequence_as_a_string_unless_the_client_is_older_than_1_9(http, rows):
    for headers in ({}, NEW, {"X-Appwrite-Response-Format": "1.9.0"}):
        row = http.get(f"{rows}/a", headers=headers).json()
        assert isinstance(row["$sequence"], str) and row["$sequence"].isdigit()
    for format_ in ("1.8.0", "1.8.1", "1.7.4", "0.15"):
        old = http.get(f"{rows}/a", headers={"X-Appwrite-Response-Format": format_}).json()
        assert isinstance(old["$sequence"], int) and old["$sequence"] >= 1
    listed = http.get(rows, headers=OLD).json()
    assert [type(row["$sequence"]) for row in listed["rows"]] == [int, int] and listed["total"] == 2
    created = http.post(rows, json={"rowId": "c", "data": {"title": "c"}}, headers=OLD)
    assert created.status_code == 201 and isinstance(created.json()["$sequence"], int)
    legacy = http.get("/databases/fmt/collections/t/documents/a", headers=OLD).json()
    assert isinstance(legacy["$sequence"], int)


@pytest.mark.parametrize("header", ["", "garbage", "latest", "x.y.z", "9" * 5000])
def test_a_header_that_names_no_version_gets_the_current_format(http, rows, header):
    response = http.get(f"{rows}/a", headers={"X-Appwrite-Response-Format": header})
    assert response.status_code == 200 and isinstance(response.json()["$sequence"], str)


def test_users_lose_the_impersonation_fields_before_1_9(http, users):
    current = http.get("/users/ada", headers=NEW).json()
    assert current["impersonator"] is False and current["impersonatorUserId"] is None
    old = http.get("/users/ada", headers=OLD).json()
    assert "impersonator" not in old and "impersonatorUserId" not in old and old["email"] == "ada@example.com"
    listed = http.get("/users", headers=OLD).json()
    assert listed["total"] == 2 and all("impersonator" not in user for user in listed["users"])
    assert all("impersonator" in user for user in http.get("/users").json()["users"])


def test_memberships_lose_the_phone_before_1_9_2(http, users):
    assert http.post("/teams", json={"teamId": "crew", "name": "Crew"}).status_code == 201
    created = http.post("/teams/crew/memberships", json={"userId": "ada", "roles": ["owner"]})
    assert created.status_code == 201, created.text
    membership_id = created.json()["$id"]
    current = http.get(f"/teams/crew/memberships/{membership_id}").json()
    assert current["userPhone"] == "+14155550100" and current["userAccessedAt"] == ""
    for format_ in ("1.9.1", "1.8.0"):
        old = http.get(f"/teams/crew/memberships/{membership_id}", headers={"X-Appwrite-Response-Format": format_})
        assert "userPhone" not in old.json() and old.json()["userEmail"] == "ada@example.com"
    listed = http.get("/teams/crew/memberships", headers={"X-Appwrite-Response-Format": "1.9.1"}).json()
    assert listed["total"] == 1 and "userPhone" not in listed["memberships"][0]
    assert (
        http.get("/teams/crew/memberships", headers={"X-Appwrite-Response-Format": "1.9.2"}).json()["memberships"][0][
            "userPhone"
        ]
        == "+14155550100"
    )


def test_an_impersonator_acts_as_another_user_over_rest(api, http, users):
    secret = http.post("/users/ada/sessions").json()["secret"]
    as_ada = {"X-Appwrite-Project": "default", "X-Appwrite-Session": secret}
    with httpx.Client(base_url=api.endpoint, timeout=60) as bare:
        # Not an impersonator yet: the header changes nothing.
        me = bare.get("/account", headers=as_ada | {"X-Appwrite-Impersonate-User-Id": "bob"}).json()
        assert me["$id"] == "ada"
        assert bare.get("/users", headers=as_ada).status_code == 401
        assert http.patch("/users/ada/impersonator", json={"impersonator": True}).json()["impersonator"] is True
        assert bare.get("/users", headers=as_ada).json()["total"] >= 2
        for extra, query in (
            ({"X-Appwrite-Impersonate-User-Id": "bob"}, {}),
            ({"X-Appwrite-Impersonate-User-Email": "BOB@example.com"}, {}),
            ({}, {"impersonateUserId": "bob"}),
            ({}, {"impersonateemail": "bob@example.com"}),
        ):
            me = bare.get("/account", headers=as_ada | extra, params=query)
            assert me.status_code == 200, me.text
            assert (me.json()["$id"], me.json()["impersonatorUserId"]) == ("bob", "ada")
        old = bare.get("/account", headers=as_ada | OLD | {"X-Appwrite-Impersonate-User-Id": "bob"}).json()
        assert old["$id"] == "bob" and "impersonatorUserId" not in old
        # Someone unknown: the request stays Ada's.
        me = bare.get("/account", headers=as_ada | {"X-Appwrite-Impersonate-User-Id": "nobody"}).json()
        assert (me["$id"], me["impersonatorUserId"]) == ("ada", None)
        # A key is nobody to impersonate from.
        keyed = http.get("/users/bob", headers={"X-Appwrite-Impersonate-User-Id": "ada"})
        assert keyed.json()["$id"] == "bob"


def test_nested_related_rows_are_converted_too():
    row = {
        "$id": "a",
        "$sequence": "7",
        "author": {"$id": "p", "$sequence": "2", "name": "P"},
        "tags": [{"$id": "t1", "$sequence": "3"}, "plain"],
        "broken": {"$id": "x", "$sequence": "not a number"},
    }
    old = in_format({"total": 1, "rows": [row]}, "rowList", "1.8.0")["rows"][0]
    assert (old["$sequence"], old["author"]["$sequence"], old["tags"][0]["$sequence"]) == (7, 2, 3)
    assert old["tags"][1] == "plain" and old["broken"]["$sequence"] == 0
    assert in_format(row, "row", "1.9.5") is row


def test_functions_have_one_specification_before_1_9(api):
    key = create_key(api.data_dir, "functions.read,functions.write")["secret"]
    runtime = "python-{}.{}".format(*sys.version_info[:2])
    with httpx.Client(base_url=api.endpoint, headers=api.headers(key), timeout=60) as client:
        created = client.post("/functions", json={"functionId": "spec", "name": "Spec", "runtime": runtime})
        assert created.status_code == 201, created.text
        current = created.json()
        assert (current["buildSpecification"], current["runtimeSpecification"]) == ("s-1vcpu-512mb",) * 2
        assert "specification" not in current
        for answer in (
            client.get("/functions/spec", headers=OLD).json(),
            client.get("/functions", headers=OLD).json()["functions"][0],
        ):
            assert answer["specification"] == "s-1vcpu-512mb"
            assert not {"buildSpecification", "runtimeSpecification"} & set(answer)
        assert "specification" not in client.get("/functions/spec", headers=NEW).json()


def test_a_function_variable_needs_no_id_from_clients_older_than_1_9_4(api):
    key = create_key(api.data_dir, "functions.read,functions.write")["secret"]
    runtime = "python-{}.{}".format(*sys.version_info[:2])
    with httpx.Client(base_url=api.endpoint, headers=api.headers(key), timeout=60) as client:
        assert client.post("/functions", json={"functionId": "vars", "name": "V", "runtime": runtime}).is_success
        route = "/functions/vars/variables"
        old = client.post(route, json={"key": "A", "value": "1"}, headers={"X-Appwrite-Response-Format": "1.9.3"})
        assert old.status_code == 201, old.text
        assert len(old.json()["$id"]) == 20
        current = client.post(route, json={"key": "B", "value": "2"}, headers=NEW)
        assert (current.status_code, current.json()["type"]) == (400, "general_argument_invalid")
        assert "variableId" in current.json()["message"]


@pytest.mark.parametrize(("model", "key"), [("site", "sites"), ("function", "functions")])
def test_functions_and_sites_have_one_specification_before_1_9(model, key):
    item = {"$id": "a", "buildSpecification": "s-1vcpu-512mb", "runtimeSpecification": "s-2vcpu-2gb"}
    old = in_format({"total": 1, key: [item]}, f"{model}List", "1.8.0")[key][0]
    assert old == {"$id": "a", "specification": "s-1vcpu-512mb"}
    assert in_format(item, model, "1.8.0") == old
    assert in_format(item, model, "1.9.0") is item
