"""Sites served by `baas-mcp api`: a site made and deployed with the official Python SDK (appwrite 16.0.0), its
code a tar.gz built here by its build command (`node build.js`), then fetched at `http://<siteId>.localhost:<port>/`
over real HTTP: files, folders, the SPA fallback, 404s, traversal attempts, and the logs the requests left."""

from __future__ import annotations

import io
import socket
import tarfile
import time
from collections.abc import Iterator

import httpx
import pytest
from appwrite.client import Client
from appwrite.enums.build_runtime import BuildRuntime
from appwrite.enums.framework import Framework
from appwrite.input_file import InputFile
from appwrite.models.deployment import Deployment
from appwrite.services.sites import Sites

from mcp_server.rest.hosting import Api, Site, target
from tests.commands import ServeProcess, create_key, start_api_server

BUILD_JS = """
const fs = require("fs");
fs.mkdirSync("dist/docs", { recursive: true });
fs.writeFileSync("dist/index.html", "<h1>home</h1>");
fs.writeFileSync("dist/docs/index.html", "<h1>docs</h1>");
fs.writeFileSync("dist/app.js", "console.log('app');");
fs.symlinkSync("../secret.txt", "dist/leak.txt");
"""
SECRET = "the source, never served"


def site_archive() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in {"build.js": BUILD_JS, "secret.txt": SECRET}.items():
            info = tarfile.TarInfo(name)
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))
    return buffer.getvalue()


ARCHIVE = site_archive()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[ServeProcess, Sites]]:
    data_dir = tmp_path_factory.mktemp("sites") / "data"
    key = create_key(data_dir, "sites.read,sites.write,log.read,log.write")
    served = start_api_server(data_dir)
    client = Client().set_endpoint(served.url("/v1")).set_project("default").set_key(key["secret"])
    try:
        yield served, Sites(client)
    finally:
        assert served.stop() == 0, served.stderr.text()


def deploy(sites: Sites, site_id: str, **fields) -> Deployment:
    sites.create(
        site_id=site_id,
        name=site_id,
        framework=Framework.OTHER,
        build_runtime=BuildRuntime.NODE_22,
        build_command="node build.js",
        output_directory="dist",
        **fields,
    )
    deployment = sites.create_deployment(site_id, InputFile.from_bytes(ARCHIVE, "site.tar.gz"), activate=True)
    deadline = time.monotonic() + 60
    while deployment.status.value not in ("ready", "failed") and time.monotonic() < deadline:
        time.sleep(0.2)
        deployment = sites.get_deployment(site_id, deployment.id)
    assert deployment.status.value == "ready", deployment.buildlogs
    return deployment


def get(server: ServeProcess, host: str, path: str = "/", method: str = "GET") -> httpx.Response:
    return httpx.request(method, server.url(path), headers={"Host": f"{host}:{server.port}"}, timeout=10)


def raw_get(server: ServeProcess, host: str, raw_path: str) -> tuple[int, bytes]:
    """A GET whose path goes out byte for byte as written (clients would tidy `..` away)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(f"GET {raw_path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("blog.localhost:8080", Site("main", "blog")),
        ("Blog.LOCALHOST", Site("main", "blog")),
        ("blog.shop.localhost:80", Site("shop", "blog")),
        ("localhost:8080", Api()),
        ("127.0.0.1:8080", Api()),
        ("[::1]:8080", Api()),
        ("a.b.c.localhost", Api()),
        (".localhost", Api()),
        ("blog..localhost", Api()),
        ("blog.example.com", Api()),
        ("", Api()),
    ],
)
def test_the_host_names_what_a_request_is_for(host, expected):
    assert target(host, "main") == expected


def test_a_deployed_site_is_served_at_its_host(server):
    api, sites = server
    deployment = deploy(sites, "blog", fallback_file="index.html")
    assert sites.get_deployment_download("blog", deployment.id) == ARCHIVE
    home = get(api, "blog.localhost")
    assert (home.status_code, home.text) == (200, "<h1>home</h1>")
    assert home.headers["content-type"] == "text/html; charset=utf-8"
    assert get(api, "blog.localhost", "/docs/").text == "<h1>docs</h1>"
    assert get(api, "blog.localhost", "/docs").text == "<h1>docs</h1>"
    script = get(api, "blog.localhost", "/app.js")
    assert script.text == "console.log('app');" and "javascript" in script.headers["content-type"]
    spa = get(api, "blog.localhost", "/articles/42")
    assert (spa.status_code, spa.text) == (200, "<h1>home</h1>")
    head = get(api, "blog.localhost", "/app.js", method="HEAD")
    assert head.status_code == 200 and head.content == b"" and head.headers["content-length"] == "19"
    assert get(api, "blog.localhost", "/", method="POST").status_code == 405
    assert get(api, "blog.default.localhost", "/docs/").text == "<h1>docs</h1>"
    assert get(api, "localhost", "/v1/health/version").json()["version"]


def test_nothing_outside_the_output_directory_is_served(server):
    api, sites = server
    deploy(sites, "plain")
    assert get(api, "plain.localhost", "/nowhere").status_code == 404
    for attempt in ("/../secret.txt", "/%2e%2e/secret.txt", "/docs/..%2f..%2fsecret.txt", "/%2E%2E/build.js"):
        status, body = raw_get(api, "plain.localhost", attempt)
        assert status == 404 and SECRET.encode() not in body and b"fs.mkdirSync" not in body, attempt
    leak = get(api, "plain.localhost", "/leak.txt")
    assert leak.status_code == 404 and SECRET not in leak.text


def test_a_site_without_an_active_deployment_or_that_does_not_exist_answers_a_404_page(server):
    api, sites = server
    sites.create(site_id="empty", name="empty", framework=Framework.OTHER, build_runtime=BuildRuntime.NODE_22)
    empty = get(api, "empty.localhost")
    assert empty.status_code == 404 and "no active deployment" in empty.text
    assert get(api, "ghost.localhost").status_code == 404
    assert get(api, "blog.elsewhere.localhost").status_code == 404


def test_each_request_served_is_in_the_sites_logs(server):
    api, sites = server
    deploy(sites, "logged", fallback_file="")
    before = sites.list_logs("logged").total
    get(api, "logged.localhost", "/docs/")
    get(api, "logged.localhost", "/missing")
    logs = sites.list_logs("logged")
    assert logs.total == before + 2
    seen = [(log.requestmethod, log.requestpath, log.responsestatuscode) for log in logs.executions[-2:]]
    assert seen == [("GET", "/docs/", 200), ("GET", "/missing", 404)]
    one = sites.get_log("logged", logs.executions[-1].id)
    assert one.duration >= 0 and one.functionid == "logged"
