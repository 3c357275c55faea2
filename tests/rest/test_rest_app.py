"""`baas-mcp api` over raw HTTP: routing, how parameters are read, credentials, and the answers to bad input (CORS:
test_cors.py).

Every response the tests receive is also checked for leaked server internals (tracebacks, Python file paths).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.commands import create_key, expire_key, revoke_key
from tests.rest import wire

ERROR_FIELDS = {"message", "code", "type", "version"}
LEAK = re.compile(r'Traceback|File "|\w\.py\b|site-packages|mcp_server[/.]')
BIG = 9007199254740993  # 2**53 + 1
MIB = 1024 * 1024


def no_leak(response: httpx.Response) -> None:
    response.read()
    leaked = LEAK.search(response.text)
    assert leaked is None, f"{response.request.method} {response.request.url} leaked {leaked[0]!r}: {response.text}"


@pytest.fixture(scope="module")
def http(api) -> Iterator[httpx.Client]:
    """A client for the endpoint with the project header and the broad key; every answer is checked for leaks."""
    with httpx.Client(
        base_url=api.endpoint, headers=api.headers(), timeout=60, event_hooks={"response": [no_leak]}
    ) as client:
        yield client


@pytest.fixture(scope="module")
def bare(api) -> Iterator[httpx.Client]:
    """A client without default headers (each test says what it sends); answers are checked for leaks too."""
    with httpx.Client(base_url=api.endpoint, timeout=60, event_hooks={"response": [no_leak]}) as client:
        yield client


def error_of(response: httpx.Response, status: int, error_type: str) -> dict:
    """The Appwrite error body of `response`, which must have `status` and `error_type`."""
    assert response.status_code == status, response.text
    assert wire.content_type(response) == wire.APPWRITE_JSON
    body = response.json()
    assert set(body) == ERROR_FIELDS, body
    assert (body["code"], body["type"]) == (status, error_type), body
    assert body["message"]
    return body


def query(method: str, attribute: str | None = None, values: list | None = None) -> str:
    """One query as the SDKs serialise it."""
    built: dict = {"method": method}
    if attribute is not None:
        built["attribute"] = attribute
    if values is not None:
        built["values"] = values
    return json.dumps(built, separators=(",", ":"))


ROWS = "/tablesdb/rest/tables/items/rows"


@pytest.fixture(scope="module")
def items(http) -> dict[str, dict]:
    """Database `rest`, table `items` (title, n, flag, big) and three rows, all made with JSON bodies."""
    assert http.post("/tablesdb", json={"databaseId": "rest", "name": "REST"}).status_code == 201
    assert http.post("/tablesdb/rest/tables", json={"tableId": "items", "name": "Items"}).status_code == 201
    columns = [
        ("string", {"key": "title", "size": 100, "required": False}),
        ("integer", {"key": "n", "required": False}),
        ("boolean", {"key": "flag", "required": False}),
        ("integer", {"key": "big", "required": False}),
    ]
    for kind, body in columns:
        response = http.post(f"/tablesdb/rest/tables/items/columns/{kind}", json=body)
        assert response.status_code == 202, response.text
    rows = {}
    for row_id, title, n, flag in [("i1", "one", 1, True), ("i2", "two", 2, False), ("i3", "three", 3, True)]:
        response = http.post(ROWS, json={"rowId": row_id, "data": {"title": title, "n": n, "flag": flag}})
        assert response.status_code == 201, response.text
        rows[row_id] = response.json()
    return rows


def row_ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [row["$id"] for row in response.json()["rows"]]


def database_exists(http: httpx.Client, database_id: str) -> bool:
    response = http.get(f"/tablesdb/{database_id}")
    assert response.status_code in (200, 404), response.text
    return response.status_code == 200


def row_count(http: httpx.Client) -> int:
    response = http.get(ROWS)
    assert response.status_code == 200, response.text
    return response.json()["total"]


# --- routes and parameters -------------------------------------------------------------------------------


def test_created_row_is_the_appwrite_row_model(items):
    row = items["i1"]
    assert row["$id"] == "i1"
    assert (row["$tableId"], row["$databaseId"]) == ("items", "rest")
    assert row["$permissions"] == []
    assert isinstance(row["$sequence"], str) and row["$sequence"].isdigit()  # Appwrite 1.9: a string
    assert (row["title"], row["n"], row["flag"], row["big"]) == ("one", 1, True, None)


def test_rows_route_reads_indexed_queries(http, items):
    params = [
        ("queries[0]", query("greaterThan", "n", [1])),
        ("queries[1]", query("orderDesc", "n")),
    ]
    assert row_ids(http.get(ROWS, params=params)) == ["i3", "i2"]


def test_rows_route_reads_appended_queries(http, items):
    params = [
        ("queries[]", query("equal", "flag", [True])),
        ("queries[]", query("orderAsc", "title")),
        ("queries[]", query("limit", values=[1])),
    ]
    response = http.get(ROWS, params=params)
    assert row_ids(response) == ["i1"]
    assert response.json()["total"] == 2


def test_indexed_queries_keep_their_index_order(http, items):
    # queries[1] before queries[0] in the query string: the index decides which comes first.
    raw = f"queries[1]={query('limit', values=[1])}&queries[0]={query('orderDesc', 'n')}"
    assert row_ids(http.get(f"{ROWS}?{raw}")) == ["i3"]


@pytest.mark.parametrize(("value", "total"), [("false", 0), ("False", 0), ("0", 0), ("true", 3), ("True", 3)])
def test_boolean_query_parameters_as_the_sdks_send_them(http, items, value, total):
    response = http.get(ROWS, params={"total": value})
    assert response.status_code == 200, response.text
    assert response.json()["total"] == total
    assert len(response.json()["rows"]) == 3


def test_a_value_that_is_no_boolean_is_refused(http, items):
    error_of(http.get(ROWS, params={"total": "maybe"}), 400, "general_argument_invalid")


def test_a_query_that_is_not_json(http, items):
    body = error_of(http.get(ROWS, params={"queries[0]": "title=one"}), 400, "general_query_invalid")
    assert "queries[0]" in body["message"]


def test_get_row_route_and_path_parameters(http, items):
    response = http.get(f"{ROWS}/i2")
    assert response.status_code == 200
    assert response.json()["title"] == "two"
    error_of(http.get(f"{ROWS}/missing"), 404, "row_not_found")
    error_of(http.get("/tablesdb/rest/tables/nothing/rows"), 404, "table_not_found")


def test_json_bodies_on_post_patch_and_put(http, items):
    created = http.post(ROWS, json={"rowId": "j1", "data": {"title": "json", "n": 10}})
    assert created.status_code == 201
    assert created.headers["content-type"].startswith("application/json")
    patched = http.patch(f"{ROWS}/j1", json={"data": {"n": 11}})
    assert patched.status_code == 200
    assert (patched.json()["title"], patched.json()["n"]) == ("json", 11)
    upserted = http.put(f"{ROWS}/j1", json={"data": {"title": "json", "n": 12}})
    assert upserted.status_code in (200, 201), upserted.text
    assert http.get(f"{ROWS}/j1").json()["n"] == 12
    assert http.delete(f"{ROWS}/j1").status_code == 204


def test_content_types_that_carry_json(http, items):
    body = json.dumps({"databaseId": "typed", "name": "Typed"}).encode()
    for index, content_type in enumerate(["application/json; charset=utf-8", "text/plain", "APPLICATION/JSON"]):
        database_id = f"typed{index}"
        payload = body.replace(b'"typed"', f'"{database_id}"'.encode())
        response = http.post("/tablesdb", content=payload, headers={"content-type": content_type})
        assert response.status_code == 201, (content_type, response.text)
        assert database_exists(http, database_id)


def test_unicode_and_big_integers_round_trip_exactly(http, items):
    response = http.post(ROWS, json={"rowId": "u1", "data": {"title": "Grüße ☃ 日本", "big": BIG}})
    assert response.status_code == 201, response.text
    assert str(BIG) in response.text
    assert "Grüße ☃ 日本" in response.text or "\\u" in response.text
    again = http.get(f"{ROWS}/u1")
    assert again.json()["big"] == BIG
    assert again.json()["title"] == "Grüße ☃ 日本"
    found = http.get(ROWS, params={"queries[0]": query("equal", "big", [BIG])})
    assert row_ids(found) == ["u1"]
    assert row_ids(http.get(ROWS, params={"queries[0]": query("equal", "big", [BIG - 1])})) == []
    assert http.delete(f"{ROWS}/u1").status_code == 204


def test_delete_answers_204_without_a_json_body(http):
    assert http.post("/tablesdb", json={"databaseId": "gone", "name": "Gone"}).status_code == 201
    response = http.delete("/tablesdb/gone")
    assert response.status_code == 204
    assert response.content == b""
    assert not response.headers.get("content-type", "").startswith("application/json")
    error_of(http.get("/tablesdb/gone"), 404, "database_not_found")


def test_ping(bare):
    response = bare.get("/ping", headers={"X-Appwrite-Project": "default"})
    assert response.status_code == 200
    assert response.text == "Pong!"
    assert response.headers["content-type"].startswith("text/plain")
    # As in Appwrite, a ping is made in a project: none named is the console's, which is no project here.
    for headers in ({}, {"X-Appwrite-Project": "console"}, {"X-Appwrite-Project": "nowhere"}):
        error_of(bare.get("/ping", headers=headers), 404, "project_not_found")


@pytest.mark.parametrize("project", [None, "console", "default"])
def test_health_version_is_public(bare, project):
    """As in Appwrite: no key, and no project needed (clients such as appwrite-cli name `console`)."""
    response = bare.get("/health/version", headers={"X-Appwrite-Project": project} if project else {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    version = response.json()
    assert list(version) == ["version"]
    # The version the app answers as, everywhere: the same as in its error bodies.
    assert version["version"] == error_of(bare.get("/tablesdb"), 404, "project_not_found")["version"]
    assert version["version"] == "1.9.6"


def test_health_version_in_an_unknown_project(bare):
    error_of(bare.get("/health/version", headers={"X-Appwrite-Project": "no-such-project"}), 404, "project_not_found")
    error_of(bare.post("/health/version"), 404, "general_route_not_found")


def test_project_in_the_query_string(api, bare, items):
    response = bare.get(ROWS, params={"project": "default"}, headers={"X-Appwrite-Key": api.key})
    assert row_ids(response) == ["i1", "i2", "i3"]


def test_project_in_the_query_string_as_well_as_the_header(http, items):
    # Appwrite takes the project from either place; `project` is never one of the operation's own parameters.
    response = http.get(ROWS, params={"project": "default"})
    assert row_ids(response) == ["i1", "i2", "i3"]


def test_concurrent_writes_all_land(api, http, items):
    def create(number: int) -> int:
        with httpx.Client(base_url=api.endpoint, headers=api.headers(), timeout=60) as client:
            body = {"rowId": f"c{number}", "data": {"title": "concurrent", "n": number}}
            return client.post(ROWS, json=body).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(create, range(24)))
    assert statuses == [201] * 24
    concurrent = [query("equal", "title", ["concurrent"]), query("limit", values=[100])]
    response = http.get(ROWS, params=[("queries[]", item) for item in concurrent])
    assert sorted(row["n"] for row in response.json()["rows"]) == list(range(24))
    deleted = http.request("DELETE", ROWS, json={"queries": [query("equal", "title", ["concurrent"])]})
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["total"] == 24


def test_projects_are_separate(api, bare, http):
    other = create_key(api.data_dir, "databases.read,databases.write", project="other")
    headers = {"X-Appwrite-Project": "other", "X-Appwrite-Key": other["secret"]}
    assert bare.post("/tablesdb", json={"databaseId": "elsewhere", "name": "Other"}, headers=headers).status_code == 201
    assert [item["$id"] for item in bare.get("/tablesdb", headers=headers).json()["databases"]] == ["elsewhere"]
    assert not database_exists(http, "elsewhere")
    # A key belongs to its project.
    error_of(bare.get("/tablesdb", headers=headers | {"X-Appwrite-Key": api.key}), 401, "user_unauthorized")
    error_of(bare.get("/tablesdb", headers=api.headers(other["secret"])), 401, "user_unauthorized")


# --- bad input: refused with Appwrite's error body, nothing written ------------------------------------


def body_for(database_id: str) -> bytes:
    return json.dumps({"databaseId": database_id, "name": "Bad"}).encode()


BAD_BODIES = [
    pytest.param(b'{"databaseId": "bad-json", "name": ', "application/json", "bad-json", id="malformed-json"),
    pytest.param(b'[{"databaseId": "bad-array", "name": "x"}]', "application/json", "bad-array", id="json-array"),
    pytest.param(b'"bad-string"', "application/json", "bad-string", id="json-string"),
    pytest.param(b"null", "application/json", "bad-null", id="json-null"),
    pytest.param(b'{"databaseId": "bad-utf8", "name": "\xff\xfe"}', "application/json", "bad-utf8", id="not-utf8"),
    pytest.param(b'{"databaseId": "bad-nan", "name": NaN}', "application/json", "bad-nan", id="nan"),
    pytest.param(body_for("bad-xml"), "text/xml", "bad-xml", id="xml-content-type"),
    pytest.param(b"databaseId=bad-form&name=x", "application/x-www-form-urlencoded", "bad-form", id="urlencoded"),
    pytest.param(
        b'{"databaseId": "bad-extra", "name": "x", "colour": "red"}',
        "application/json",
        "bad-extra",
        id="unknown-param",
    ),
    pytest.param(b'{"name": "x"}', "application/json", None, id="missing-param"),
    pytest.param(b"--x\r\nbroken", "multipart/form-data", None, id="multipart-without-boundary"),
]


@pytest.mark.parametrize(("content", "content_type", "database_id"), BAD_BODIES)
def test_bad_bodies_are_refused_and_write_nothing(http, content, content_type, database_id):
    before = http.get("/tablesdb").json()["total"]
    response = http.post("/tablesdb", content=content, headers={"content-type": content_type})
    error_of(response, 400, "general_argument_invalid")
    if database_id:
        assert not database_exists(http, database_id)
    assert http.get("/tablesdb").json()["total"] == before


def test_deeply_nested_json_body_is_a_bad_request(http):
    nested = b'{"databaseId": "bad-deep", "name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    error_of(
        http.post("/tablesdb", content=nested, headers={"content-type": "application/json"}),
        400,
        "general_argument_invalid",
    )
    assert not database_exists(http, "bad-deep")


def test_deeply_nested_json_in_a_query_string_is_a_bad_request(http, items):
    deep = "[" * 5000 + "]" * 5000
    response = http.get(ROWS, params={"queries": deep})
    assert response.status_code == 400, response.text
    assert response.json()["type"] in ("general_argument_invalid", "general_query_invalid")


def test_deeply_bracketed_parameter_name_is_a_bad_request(http, items):
    response = http.get(ROWS, params={"queries" + "[0]" * 3000: query("limit", values=[1])})
    assert response.status_code == 400, response.text
    assert set(response.json()) == ERROR_FIELDS


def test_deeply_nested_json_in_a_form_field_is_a_bad_request(http, items):
    before = row_count(http)
    deep = "[" * 5000 + "]" * 5000
    response = http.post(ROWS, files={"rowId": (None, "deep"), "data": (None, deep)})
    error_of(response, 400, "general_argument_invalid")
    assert row_count(http) == before


def test_oversize_json_body_is_refused_and_the_server_carries_on(http):
    padding = b"x" * (10 * MIB + 1)
    content = b'{"databaseId": "huge", "name": "' + padding + b'"}'
    error_of(
        http.post("/tablesdb", content=content, headers={"content-type": "application/json"}),
        413,
        "general_argument_invalid",
    )
    assert not database_exists(http, "huge")
    assert http.post("/tablesdb", json={"databaseId": "after-huge", "name": "After"}).status_code == 201
    assert database_exists(http, "after-huge")


def test_oversize_chunked_json_body_is_refused(http):
    def chunks():
        yield b'{"databaseId": "huge-chunked", "name": "'
        for _ in range(11):
            yield b"x" * MIB
        yield b'"}'

    response = http.post("/tablesdb", content=chunks(), headers={"content-type": "application/json"})
    error_of(response, 413, "general_argument_invalid")
    assert not database_exists(http, "huge-chunked")


def test_oversize_multipart_body_is_refused(http):
    files = {"fileId": (None, "big"), "file": ("big.bin", b"\0" * (31 * MIB), "application/octet-stream")}
    response = http.post("/storage/buckets/b/files", files=files)
    error_of(response, 413, "general_argument_invalid")
    assert http.get("/tablesdb").status_code == 200


def test_multipart_form_for_a_json_operation(http):
    response = http.post("/tablesdb", files={"databaseId": (None, "form-db"), "name": (None, "Form DB")})
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "Form DB"
    assert http.get("/tablesdb/form-db").json()["name"] == "Form DB"
    # Booleans arrive as text in a form and are read as the type the operation asks for.
    disabled = http.post(
        "/tablesdb", files={"databaseId": (None, "form-db2"), "name": (None, "Off"), "enabled": (None, "false")}
    )
    assert disabled.status_code == 201, disabled.text
    assert disabled.json()["enabled"] is False


def test_multipart_bracketed_fields_build_objects_and_arrays(http, items):
    response = http.post(
        ROWS,
        files=[
            ("rowId", (None, "f1")),
            ("data[title]", (None, "from a form")),
            ("permissions[]", (None, 'read("any")')),
            ("permissions[]", (None, 'update("users")')),
        ],
    )
    assert response.status_code == 201, response.text
    row = http.get(f"{ROWS}/f1").json()
    assert (row["title"], row["n"]) == ("from a form", None)
    assert row["$permissions"] == ['read("any")', 'update("users")']
    assert http.delete(f"{ROWS}/f1").status_code == 204


def test_a_file_part_where_a_string_belongs_is_refused(http):
    response = http.post("/tablesdb", files={"databaseId": (None, "file-db"), "name": ("name.txt", b"x", "text/plain")})
    error_of(response, 400, "general_argument_invalid")
    assert not database_exists(http, "file-db")


# --- routes that do not exist ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/nothing/here"),
        ("GET", "/v1/tablesdb/rest/tables/items/rows/i1/extra"),
        ("GET", "/v1"),
        ("GET", "/"),
        ("GET", "/v2/tablesdb"),
        ("PUT", "/v1/tablesdb"),  # a known path, a method it does not serve
        ("DELETE", "/v1/tablesdb"),
        ("POST", "/v1/tablesdb/rest/tables/items/rows/i1"),
    ],
)
def test_unknown_routes(api, bare, method, path):
    url = api.endpoint[: -len("/v1")] + path
    response = bare.request(method, url, headers=api.headers())
    error_of(response, 404, "general_route_not_found")


# --- credentials -----------------------------------------------------------------------------------------


def test_missing_project(api, bare):
    error_of(bare.get("/tablesdb", headers={"X-Appwrite-Key": api.key}), 404, "project_not_found")


@pytest.mark.parametrize("project", ["no-such-project", "../default", "default/..", "Default"])
def test_unknown_project(api, bare, project):
    response = bare.get("/tablesdb", headers=api.headers(**{"X-Appwrite-Project": project}))
    body = error_of(response, 404, "project_not_found")
    assert project in body["message"]


@pytest.mark.parametrize("key", ["not-a-key", "standard_nokey_" + "0" * 64, "standard_"])
def test_bad_key(api, bare, key):
    error_of(bare.get("/tablesdb", headers=api.headers(key)), 401, "user_unauthorized")


def test_expired_key(api, bare):
    made = create_key(api.data_dir, "databases.read")
    assert bare.get("/tablesdb", headers=api.headers(made["secret"])).status_code == 200
    expire_key(api.data_dir, made["$id"])
    error_of(bare.get("/tablesdb", headers=api.headers(made["secret"])), 401, "api_key_expired")


def test_revoked_key(api, bare):
    made = create_key(api.data_dir, "databases.read")
    assert bare.get("/tablesdb", headers=api.headers(made["secret"])).status_code == 200
    revoke_key(api.data_dir, made["$id"])
    error_of(bare.get("/tablesdb", headers=api.headers(made["secret"])), 401, "user_unauthorized")


@pytest.mark.parametrize("header", ["X-Appwrite-JWT", "X-Appwrite-Session"])
def test_key_with_a_user_credential(api, bare, header):
    error_of(bare.get("/tablesdb", headers=api.headers(**{header: "abc.def.ghi"})), 403, "user_api_key_and_session_set")


def test_jwt_alone(api, bare):
    response = bare.get("/tablesdb", headers=api.headers("", **{"X-Appwrite-JWT": "abc.def.ghi"}))
    error_of(response, 401, "user_jwt_invalid")


def test_guest_lacks_the_scope_of_a_console_operation(api, bare):
    body = error_of(bare.get("/tablesdb", headers=api.headers("")), 401, "general_unauthorized_scope")
    assert "databases.read" in body["message"]


def test_narrow_key_cannot_write(api, bare, http, items):
    before = row_count(http)
    response = bare.post(ROWS, json={"rowId": "narrow", "data": {"title": "no"}}, headers=api.headers(api.narrow_key))
    error_of(response, 401, "general_unauthorized_scope")
    assert row_count(http) == before
    assert row_ids(bare.get(ROWS, headers=api.headers(api.narrow_key))) == row_ids(http.get(ROWS))


# --- uploads ---------------------------------------------------------------------------------------------


def upload(http: httpx.Client, content_range: str | None, bucket: str = "b") -> httpx.Response:
    headers = {"Content-Range": content_range} if content_range else {}
    files = {"fileId": (None, "f1"), "file": ("hello.txt", b"hello", "text/plain")}
    return http.post(f"/storage/buckets/{bucket}/files", files=files, headers=headers)


def new_bucket(http: httpx.Client, bucket: str) -> None:
    response = http.post("/storage/buckets", json={"bucketId": bucket, "name": bucket})
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(("bucket", "content_range"), [("plain", None), ("ranged", "bytes 0-4/5")])
def test_upload_of_a_whole_file(http, bucket, content_range):
    new_bucket(http, bucket)
    response = upload(http, content_range, bucket)
    assert response.status_code == 201, response.text
    assert response.json()["sizeOriginal"] == 5
    assert http.get(f"/storage/buckets/{bucket}/files/f1/download").content == b"hello"


def test_a_file_given_as_text_is_never_read_from_the_servers_disk(api, http, bare):
    """File content comes only as a multipart file part: a path sent as JSON, in the query string or as a multipart
    text field is refused (Appwrite: storage_file_empty), even for a guest on a public bucket, and nothing is kept."""
    response = http.post(
        "/storage/buckets",
        json={"bucketId": "public", "name": "Public", "permissions": ['create("any")', 'read("any")']},
    )
    assert response.status_code == 201, response.text
    assert upload(http, None, "public").status_code == 201  # an encrypted upload: the project key now exists
    key_file = api.data_dir / "default" / "encryption.key"
    assert key_file.is_file()
    guest = {"X-Appwrite-Project": "default"}
    files = "/storage/buckets/public/files"
    for path in (str(key_file), str(api.data_dir / "default" / "project.sqlite3"), "/etc/passwd"):
        sent = [
            bare.post(files, headers=guest, json={"fileId": "k1", "file": path}),
            bare.post(files, headers=guest, params={"fileId": "k2", "file": path}),
            bare.post(files, headers=guest, files={"fileId": (None, "k3"), "file": (None, path)}),
        ]
        for response in sent:
            body = error_of(response, 400, "storage_file_empty")
            assert "`file`" in body["message"]
    assert [file["$id"] for file in http.get("/storage/buckets/public/files").json()["files"]] == ["f1"]


def test_a_chunk_that_is_not_a_5_mb_slice_is_refused(http):
    new_bucket(http, "sliced")
    body = error_of(upload(http, "bytes 0-4/10", "sliced"), 400, "storage_invalid_content_range")
    assert "5 MB" in body["message"]
    assert http.get("/storage/buckets/sliced/files").json()["total"] == 0


@pytest.mark.parametrize(
    "content_range", ["garbage", "bytes 5-4/5", "bytes 0-5/5", "bytes 0-4", "bytes -1-4/5", "items 0-4/5"]
)
def test_malformed_content_range(http, content_range):
    error_of(upload(http, content_range), 400, "storage_invalid_content_range")
