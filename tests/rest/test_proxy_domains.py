"""Proxy rules drive what `baas-mcp api` answers by Host, over real HTTP: a function rule runs the function on the
request as it came (its status, headers and bytes are the answer), a redirect rule redirects, an API rule serves
the API, a site rule serves the site; a function not open to anyone is refused at its domain. Functions are made
and deployed with the official Python SDK; the rules are made over the REST API."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from appwrite.client import Client
from appwrite.enums.build_runtime import BuildRuntime
from appwrite.enums.framework import Framework
from appwrite.input_file import InputFile
from appwrite.services.functions import Functions
from appwrite.services.sites import Sites

from tests.commands import ServeProcess, create_key, start_api_server
from tests.rest.test_functions_sdk import PYTHON, archive

MAIN = """
import json


def main(context):
    if context.req.path == "/bytes":
        return context.res.binary(bytes(range(256)), 200, {"content-type": "application/octet-stream"})
    if context.req.path == "/empty-error":
        return context.res.text("", 418)
    context.log("seen " + context.req.method + " " + context.req.path)
    return context.res.json(
        {
            "method": context.req.method,
            "path": context.req.path,
            "query": context.req.query,
            "body": context.req.body_text,
            "trigger": context.req.headers.get("x-appwrite-trigger"),
            "host": context.req.headers.get("host"),
        },
        201,
        {"x-made-by": "hello"},
    )
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[ServeProcess, Functions, httpx.Client]]:
    data_dir = tmp_path_factory.mktemp("domains") / "data"
    scopes = ("functions", "execution", "rules", "sites")
    key = create_key(data_dir, ",".join(f"{scope}.{access}" for scope in scopes for access in ("read", "write")))
    served = start_api_server(data_dir)
    client = Client().set_endpoint(served.url("/v1")).set_project("default").set_key(key["secret"])
    headers = {"X-Appwrite-Project": "default", "X-Appwrite-Key": key["secret"]}
    functions = Functions(client)
    for function_id, execute in (("hello", ["any"]), ("private", ["users"])):
        functions.create(function_id=function_id, name=function_id, runtime=PYTHON, execute=execute)
        code = InputFile.from_bytes(archive({"main.py": MAIN.encode()}), "code.tar.gz")
        deployment = functions.create_deployment(function_id, code, activate=True, entrypoint="main.py")
        assert deployment.status.value == "ready", deployment.build_logs
    sites = Sites(client)
    sites.create(site_id="shop", name="Shop", framework=Framework.OTHER, build_runtime=BuildRuntime.NODE_22)
    page = InputFile.from_bytes(archive({"index.html": b"<h1>shop</h1>"}), "site.tar.gz")
    assert sites.create_deployment("shop", page, activate=True).status.value == "ready"
    try:
        with httpx.Client(base_url=served.url("/v1"), headers=headers, timeout=30) as rest:
            yield served, functions, rest
    finally:
        assert served.stop() == 0, served.stderr.text()


def at(server: ServeProcess, host: str, path: str = "/", method: str = "GET", **options) -> httpx.Response:
    return httpx.request(
        method, server.url(path), headers={"Host": f"{host}:{server.port}"}, timeout=30, follow_redirects=False,
        **options,
    )  # fmt: skip


def rule(rest: httpx.Client, kind: str, **params) -> dict:
    created = rest.post(f"/proxy/rules/{kind}", json=params)
    assert created.status_code == 201, created.text
    return created.json()


def test_a_function_rule_runs_the_function_on_the_request_as_it_came(server):
    api, functions, rest = server
    made = rule(rest, "function", domain="hello.myapp.localhost", functionId="hello")
    assert made["status"] == "verified"
    answer = at(api, "hello.myapp.localhost", "/orders/7?sort=desc", "POST", content="a body")
    assert answer.status_code == 201, answer.text
    assert answer.headers["x-made-by"] == "hello"
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json() == {
        "method": "POST",
        "path": "/orders/7",
        "query": {"sort": "desc"},
        "body": "a body",
        "trigger": "http",
        "host": f"hello.myapp.localhost:{api.port}",
    }
    execution = functions.get_execution("hello", answer.headers["x-appwrite-execution-id"])
    assert (execution.trigger.value, execution.status.value, execution.requestpath) == (
        "http",
        "completed",
        "/orders/7?sort=desc",
    )
    assert "seen POST /orders/7" in execution.logs


def test_a_function_answers_bytes_and_its_empty_errors_get_a_page(server):
    api, _, rest = server
    rule(rest, "function", domain="bytes.myapp.localhost", functionId="hello")
    binary = at(api, "bytes.myapp.localhost", "/bytes")
    assert (binary.status_code, binary.content) == (200, bytes(range(256)))
    teapot = at(api, "bytes.myapp.localhost", "/empty-error")
    assert teapot.status_code == 418
    assert teapot.headers["content-type"].startswith("text/html") and "418" in teapot.text


def test_a_function_not_open_to_anyone_is_refused_at_its_domain(server):
    api, _, rest = server
    rule(rest, "function", domain="private.myapp.localhost", functionId="private")
    refused = at(api, "private.myapp.localhost")
    assert (refused.status_code, refused.json()["type"]) == (401, "function_execute_permission_missing")


def test_redirect_and_api_rules(server):
    api, _, rest = server
    rule(
        rest, "redirect", domain="old.myapp.localhost", url="https://new.example.com/", statusCode=308,
        resourceId="hello", resourceType="function",
    )  # fmt: skip
    moved = at(api, "old.myapp.localhost", "/anything")
    assert (moved.status_code, moved.headers["location"]) == (308, "https://new.example.com/")
    rule(rest, "api", domain="api.myapp.localhost")
    version = at(api, "api.myapp.localhost", "/v1/health/version")
    assert version.status_code == 200 and json.loads(version.text)["version"]


def test_a_deleted_rule_stops_routing_at_once(server):
    api, _, rest = server
    made = rule(rest, "function", domain="gone.myapp.localhost", functionId="hello")
    assert at(api, "gone.myapp.localhost").status_code == 201
    assert rest.delete(f"/proxy/rules/{made['$id']}").status_code == 204
    deadline = time.monotonic() + 5
    while at(api, "gone.myapp.localhost").status_code == 201 and time.monotonic() < deadline:
        time.sleep(0.1)
    # Without its rule, the name is no site either: the site pattern finds no site `gone` in project `myapp`.
    assert at(api, "gone.myapp.localhost").status_code == 404


def test_a_site_rule_serves_the_site(server):
    api, _, rest = server
    rule(rest, "site", domain="www.shop.example.com", siteId="shop")
    home = at(api, "www.shop.example.com")
    assert (home.status_code, home.text) == (200, "<h1>shop</h1>")
