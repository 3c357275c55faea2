"""`baas-mcp api` on the wire: the Content-Type of every kind of answer, byte for byte as Appwrite sends it, and
parameter names of any shape read without ever a server error.

Every GET operation of the catalog is called over real HTTP (path parameters naming resources made here, or none),
so success and error answers of every service are checked; then the answers that are not JSON (no content, ping,
preflight, media) and the refusals of odd parameter names, in query strings and multipart forms, by hand and by
hypothesis.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote, urlencode

import httpx
import pytest
from appwrite.query import Query
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_server.catalog import Catalog
from mcp_server.engine.keys import SCOPES
from tests.commands import create_key
from tests.rest.wire import APPWRITE_JSON, APPWRITE_NO_CONTENT, APPWRITE_TEXT, content_type

MIB = 1024 * 1024
JSON_BODY = {"content-type": "application/json"}
ROWS = "/tablesdb/wire/tables/items/rows"
# What each path parameter of a GET operation names: a resource `made` creates, or nothing there is.
RESOURCES = {
    "databaseId": "wire",
    "tableId": "items",
    "collectionId": "items",
    "rowId": "r1",
    "documentId": "r1",
    "key": "n",
    "userId": "u1",
    "bucketId": "b1",
    "fileId": "f1",
    "teamId": "t1",
}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


@pytest.fixture(scope="module")
def http(api) -> Iterator[httpx.Client]:
    """A client holding a key with every scope."""
    secret = create_key(api.data_dir, ",".join(sorted(SCOPES)))["secret"]
    with httpx.Client(base_url=api.endpoint, headers=api.headers(secret), timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def made(http) -> None:
    """Database `wire`, table `items` (integer column `n`) with rows r1..r3 (n = 1..3), user u1, bucket b1 with
    file f1, team t1."""
    created = [
        http.post("/tablesdb", json={"databaseId": "wire", "name": "Wire"}),
        http.post("/tablesdb/wire/tables", json={"tableId": "items", "name": "Items"}),
        http.post("/tablesdb/wire/tables/items/columns/integer", json={"key": "n", "required": False}),
        *(http.post(ROWS, json={"rowId": f"r{n}", "data": {"n": n}}) for n in (1, 2, 3)),
        http.post("/users", json={"userId": "u1", "email": "u1@example.com", "password": "a long secret 1"}),
        http.post("/storage/buckets", json={"bucketId": "b1", "name": "Files"}),
        http.post("/storage/buckets/b1/files", files={"fileId": (None, "f1"), "file": ("a.txt", b"hi", "text/plain")}),
        http.post("/teams", json={"teamId": "t1", "name": "Team"}),
    ]
    for response in created:
        assert response.status_code in (201, 202), response.text


def row_ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [row["$id"] for row in response.json()["rows"]]


def refused(response: httpx.Response, status: int = 400, error_type: str = "general_argument_invalid") -> str:
    """The message of an Appwrite error answer with `status` and `error_type`, sent as Appwrite sends JSON."""
    assert response.status_code == status, response.text
    assert content_type(response) == APPWRITE_JSON
    body = response.json()
    assert (set(body), body["code"], body["type"]) == ({"message", "code", "type", "version"}, status, error_type)
    return body["message"]


# --- Content-Type -----------------------------------------------------------------------------------------


def test_every_get_operation_answers_json_as_appwrite_types_it(catalog: Catalog, http, made):
    wrong, succeeded, failed = [], set(), set()
    for op in sorted((op for op in catalog.operations if op.http_method == "GET"), key=lambda op: op.id):
        response = http.get(PLACEHOLDER.sub(lambda found: RESOURCES.get(found.group(1), "missing"), op.path))
        ok = response.status_code < 300
        json_expected = not (ok and op.returns.get("media"))
        if (content_type(response) == APPWRITE_JSON) != json_expected:
            wrong.append(f"{op.id} ({response.status_code}): {content_type(response)!r}")
        if json_expected:
            (succeeded if ok else failed).add(op.service)
    assert wrong == []
    assert {"tablesDB", "databases", "users", "storage", "teams", "locale", "health"} <= succeeded
    assert {"tablesDB", "users", "account", "avatars", "health"} <= failed


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        pytest.param("POST", "/tablesdb", {"json": {"databaseId": "typed", "name": "T"}}, 201, id="created"),
        pytest.param("GET", "/v1/nowhere", {}, 404, id="unknown-route"),
        pytest.param("GET", ROWS, {"params": {"queries[0]": "title=one"}}, 400, id="bad-query"),
        pytest.param("GET", ROWS, {"params": {"total": "maybe"}}, 400, id="bad-boolean"),
        pytest.param("GET", ROWS, {"headers": {"X-Appwrite-Key": "not-a-key"}}, 401, id="bad-key"),
        pytest.param("GET", ROWS, {"headers": {"X-Appwrite-Project": "elsewhere"}}, 404, id="unknown-project"),
        pytest.param("GET", "/tablesdb/nothing", {}, 404, id="not-found"),
        pytest.param("POST", "/tablesdb", {"content": b"{nope", "headers": JSON_BODY}, 400, id="bad-json"),
        pytest.param("POST", "/tablesdb", {"content": b"x" * (10 * MIB + 1)}, 413, id="too-large"),
        pytest.param("POST", "/tablesdb", {"files": {"0": (None, "x")}}, 400, id="form-field-0"),
    ],
)
def test_json_answers_carry_appwrites_content_type(api, http, made, method, path, kwargs, status):
    url = api.endpoint[: -len("/v1")] + path if path.startswith("/v1/") else path
    response = http.request(method, url, **kwargs)
    assert response.status_code == status, response.text
    assert content_type(response) == APPWRITE_JSON
    response.json()


def test_no_content_answers_carry_the_type_appwrites_server_gives_them(http, made):
    assert http.post("/tablesdb", json={"databaseId": "gone", "name": "Gone"}).status_code == 201
    deleted = http.delete("/tablesdb/gone")
    assert (deleted.status_code, deleted.content, content_type(deleted)) == (204, b"", APPWRITE_NO_CONTENT)
    asking = {"Origin": "http://localhost", "Access-Control-Request-Method": "GET"}
    preflight = http.options("/tablesdb", headers=asking)
    assert (preflight.status_code, content_type(preflight)) == (204, APPWRITE_NO_CONTENT)


def test_ping_is_text_as_appwrite_sends_it(http):
    response = http.get("/ping")
    assert (response.status_code, response.content, content_type(response)) == (200, b"Pong!", APPWRITE_TEXT)


def test_media_carries_its_own_type(http, made):
    assert content_type(http.get("/avatars/initials", params={"name": "Ada"})) == b"image/png"
    assert content_type(http.get("/storage/buckets/b1/files/f1/download")) == b"text/plain"


# --- parameter names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw_query", "named"),
    [
        ("0=x", "'0'"),
        ("=1", "''"),
        ("[]=1", "'[]'"),
        ("[x]=1", "'[x]'"),
        ("[0][1]=1", "'[0][1]'"),
        ("a%00b=1", "'a\\x00b'"),
        ("a[%C2%B2]=x&a[]=y", "'a'"),  # a digit that is no decimal digit
        ("a[" + "9" * 5000 + "]=x&a[]=y", "'a'"),  # an index too long to be an integer
        ("a[0]=1&a[b]=2", "'a'"),
        ("a=1&a[x]=2", "'a'"),
        ("a[x]=2&a=1", "'a'"),
        ("project[x]=default", "`project`"),
        ("project[]=default", "`project`"),
    ],
)
def test_odd_query_string_names_are_refused_by_name(http, raw_query, named):
    message = refused(http.get(f"/locale/codes?{raw_query}"))
    assert named in message


LIMIT = quote(Query.limit(1))


@pytest.mark.parametrize(
    ("raw_query", "name"),
    [
        ("total[x]=1&total=false", "total"),
        ("total=false&total[x]=1", "total"),
        (f"queries[0][x]=1&queries[0]={LIMIT}", "queries"),
        (f"queries[0]={LIMIT}&queries[0][x]=1", "queries"),
        (f"queries[]={LIMIT}&queries={LIMIT}", "queries"),
    ],
)
def test_a_parameter_given_as_a_value_and_as_an_array_or_object_is_refused(http, made, raw_query, name):
    assert f"'{name}'" in refused(http.get(f"{ROWS}?{raw_query}"))


def test_appended_items_go_after_the_highest_index(http, made):
    raw = f"queries[1]={quote(Query.greater_than('n', 1))}&queries[]={quote(Query.less_than('n', 3))}"
    assert row_ids(http.get(f"{ROWS}?{raw}")) == ["r2"]


def test_more_fields_than_appwrite_reads_are_refused(http):
    assert "1,000" in refused(http.get("/locale/codes?" + "&".join(f"f{i}=1" for i in range(1001))))
    fields = {f"f{i}": (None, "1") for i in range(1001)}
    refused(http.post("/tablesdb", files=fields))


def test_an_integer_too_long_to_read_is_refused_by_name(http):
    assert "width" in refused(http.get("/avatars/initials", params={"name": "Ada", "width": "9" * 5000}))


@pytest.mark.parametrize(
    ("name", "named"), [("0", "'0'"), ("[]", "'[]'"), ("[x]", "'[x]'"), ("7[a]", "'7'"), ("a[b", "'a[b'")]
)
def test_odd_form_field_names_are_refused_by_name_and_write_nothing(http, made, name, named):
    before = http.get("/tablesdb").json()["total"]
    files = {"databaseId": (None, "formed"), "name": (None, "Formed"), name: (None, "x")}
    assert named in refused(http.post("/tablesdb", files=files))
    conflict = {"databaseId": (None, "formed"), "name": (None, "Formed"), "name[x]": (None, "y")}
    assert "'name'" in refused(http.post("/tablesdb", files=conflict))
    assert http.get("/tablesdb").json()["total"] == before


NAMES = st.text(alphabet=st.sampled_from(list("[]09ab_ %&=²\x00é")), max_size=12)
FIELDS = st.lists(st.tuples(NAMES, st.text(alphabet="ab1[]{}", max_size=6)), min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(fields=FIELDS)
def test_no_parameter_name_is_a_server_error(http, made, fields):
    for response in (
        http.get(f"/locale/codes?{urlencode(fields)}"),
        http.get(f"{ROWS}?{urlencode(fields)}"),
        http.post("/tablesdb", files=[(name, (None, value)) for name, value in fields]),
    ):
        assert response.status_code < 500, (fields, response.text)
        assert content_type(response) == APPWRITE_JSON
        response.json()


def test_a_lone_surrogate_in_a_json_body_is_refused_by_name(http):
    """JSON can carry `\\ud800` without its pair; it is no character, so the field holding it is refused."""
    for body, field in (
        (b'{"databaseId": "surrogates", "name": "\\ud800"}', "name"),
        (b'{"databaseId": "surrogates", "name": "ok", "\\udfff": 1}', "\\udfff"),
    ):
        response = http.post("/tablesdb", content=body, headers={"Content-Type": "application/json"})
        assert f"{field} is not Unicode text" in refused(response)
    assert http.get("/tablesdb/surrogates").status_code == 404
