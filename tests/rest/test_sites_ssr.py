"""Sites rendered on the server, served by `baas-mcp api`: each site's build (`node build.js`, run here) writes by
hand the server its framework's build would leave (for nuxt `.output/server/index.mjs`, for sveltekit
`build/index.js`, for next `.next/standalone/server.js`), a tiny node http server reading PORT and HOST. Pages are
then fetched at `http://<siteId>.localhost:<port>/` over real HTTP: the request passed on as it came, static assets
answered directly, the server's environment, a crash and a hang answered with 502 and 504 pages and the server
started again, a new deployment served at once, and no server process left once the API server stops."""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from appwrite.client import Client
from appwrite.enums.build_runtime import BuildRuntime
from appwrite.enums.framework import Framework
from appwrite.input_file import InputFile
from appwrite.services.sites import Sites

from tests.commands import API_LINE, ServeProcess, create_key, serve_env, serving

pytestmark = pytest.mark.skipif(not any(
    (Path(folder) / "node").exists() for folder in os.environ.get("PATH", "").split(":")
), reason="node is not installed")  # fmt: skip

SERVER_JS = """
import http from "node:http";
import crypto from "node:crypto";
const boot = crypto.randomUUID();
let waiting = null;
let abandoned = false;
const server = http.createServer(async (request, response) => {
  let body = "";
  for await (const chunk of request) body += chunk;
  if (request.url === "/crash") process.exit(3);
  if (request.url === "/hang") return;
  if (request.url === "/partial") {
    response.writeHead(200, { "content-length": "100" });
    return response.write("0123456789", () => setTimeout(() => process.exit(4), 100));
  }
  if (request.url === "/stream") {
    response.writeHead(200, { "content-type": "text/plain" });
    response.write("first ");
    waiting = () => response.end("second");
    response.on("close", () => { abandoned = !response.writableEnded; });
    return;
  }
  if (request.url === "/release") {
    waiting();
    return response.end("released");
  }
  if (request.url === "/abandoned") return response.end(String(abandoned));
  if (request.url === "/env") {
    response.setHeader("content-type", "application/json");
    return response.end(JSON.stringify({ env: process.env, cwd: process.cwd() }));
  }
  response.setHeader("content-type", "text/plain");
  response.setHeader("x-rendered", "VERSION");
  response.setHeader("set-cookie", "seen=1; Path=/");
  response.statusCode = request.url.startsWith("/missing") ? 404 : 200;
  response.end(JSON.stringify({
    version: "VERSION", boot, method: request.method, url: request.url, body,
    host: request.headers.host, cookie: request.headers.cookie || "", forwarded: request.headers["x-forwarded-for"],
  }));
});
server.listen(Number(process.env.PORT), process.env.HOST);
"""
# framework: (output directory, where its server is, where its static files are)
LAYOUTS = {
    Framework.NUXT: (".output", "server/index.mjs", "public"),
    Framework.SVELTEKIT: ("build", "index.js", "client"),
    Framework.NEXTJS: (".next", "standalone/server.js", None),
}
BUILD_JS = """
const fs = require("fs");
const path = require("path");
const [output, entry, assets] = %s;
const file = path.join(output, entry);
fs.mkdirSync(path.dirname(file), { recursive: true });
fs.writeFileSync(file, %s);
fs.writeFileSync(path.join(path.dirname(file), "package.json"), JSON.stringify({ type: "module" }));
fs.writeFileSync("build-env.json", JSON.stringify(process.env));
if (assets) {
  fs.mkdirSync(path.join(output, assets), { recursive: true });
  fs.writeFileSync(path.join(output, assets, "robots.txt"), "static robots");
}
if (entry.startsWith("standalone/")) {
  fs.mkdirSync(path.join(output, "static", "chunks"), { recursive: true });
  fs.writeFileSync(path.join(output, "static", "chunks", "app.js"), "chunk");
}
"""


def site_archive(framework: Framework, version: str = "1") -> bytes:
    output, entry, assets = LAYOUTS[framework]
    server = SERVER_JS.replace("VERSION", version)
    build = BUILD_JS % (json.dumps([output, entry, assets]), json.dumps(server))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("build.js")
        info.size = len(build.encode())
        tar.addfile(info, io.BytesIO(build.encode()))
    return buffer.getvalue()


def processes_under(folder: Path) -> list[int]:
    """The processes whose working directory is inside `folder`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if Path(os.readlink(entry / "cwd")).is_relative_to(folder):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def gone(folder: Path, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while processes_under(folder):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return (tmp_path_factory.mktemp("ssr") / "data").resolve()


@pytest.fixture(scope="module")
def server(data_dir) -> Iterator[tuple[ServeProcess, Sites]]:
    key = create_key(data_dir, "sites.read,sites.write,log.read,log.write")
    env = serve_env(BAAS_MCP_KEY=key["secret"], SERVER_ONLY_SECRET="never given to a site")
    served = serving(
        ServeProcess("--port", "0", "--data-dir", str(data_dir), command="api", line=API_LINE, env=env)
    )
    client = Client().set_endpoint(served.url("/v1")).set_project("default").set_key(key["secret"])
    try:
        yield served, Sites(client)
    finally:
        assert served.stop() == 0, served.stderr.text()
    assert gone(data_dir), "a site's server outlived the API server"


def deploy(sites: Sites, site_id: str, framework: Framework, version: str = "1", **fields) -> str:
    if version == "1":
        sites.create(
            site_id=site_id,
            name=site_id,
            framework=framework,
            adapter="ssr",
            build_runtime=BuildRuntime.NODE_22,
            build_command="node build.js",
            **fields,
        )
    archive = InputFile.from_bytes(site_archive(framework, version), "site.tar.gz")
    deployment = sites.create_deployment(site_id, archive, activate=True)
    assert deployment.status.value == "ready", deployment.buildlogs
    return deployment.id


def get(api: ServeProcess, site_id: str, path: str = "/", method: str = "GET", **options) -> httpx.Response:
    headers = {"Host": f"{site_id}.localhost:{api.port}", **options.pop("headers", {})}
    return httpx.request(method, api.url(path), headers=headers, timeout=30, **options)


@pytest.mark.parametrize("framework", list(LAYOUTS))
def test_each_frameworks_server_renders_the_sites_pages(server, framework):
    api, sites = server
    site_id = f"pages-{framework.value}"
    deploy(sites, site_id, framework)
    page = get(api, site_id, "/blog/post?draft=1")
    assert page.status_code == 200 and page.headers["x-rendered"] == "1"
    rendered = page.json()
    assert (rendered["method"], rendered["url"]) == ("GET", "/blog/post?draft=1")
    assert rendered["host"] == f"{site_id}.localhost:{api.port}" and rendered["forwarded"] == "127.0.0.1"
    _, _, assets = LAYOUTS[framework]
    if assets:
        robots = get(api, site_id, "/robots.txt")
        assert (robots.status_code, robots.text) == (200, "static robots")
    else:
        assert get(api, site_id, "/robots.txt").json()["url"] == "/robots.txt"


def test_every_method_headers_and_body_reach_the_server_and_its_answer_comes_back(server):
    api, sites = server
    deploy(sites, "echo", Framework.NUXT)
    posted = get(api, "echo", "/form", "POST", content=b"name=ada", headers={"cookie": "visitor=1"})
    assert posted.json() | {"boot": ""} == {
        "version": "1",
        "boot": "",
        "method": "POST",
        "url": "/form",
        "body": "name=ada",
        "host": f"echo.localhost:{api.port}",
        "cookie": "visitor=1",
        "forwarded": "127.0.0.1",
    }
    assert posted.headers["set-cookie"] == "seen=1; Path=/"
    # The server's cookies reach the visitor, never another visitor's request.
    assert get(api, "echo", "/again").json()["cookie"] == ""
    assert get(api, "echo", "/missing").status_code == 404
    assert get(api, "echo", "/", "DELETE").json()["method"] == "DELETE"
    logs = sites.list_logs("echo").executions
    seen = [(log.requestmethod, log.requestpath, log.responsestatuscode) for log in logs]
    assert seen[-4:] == [("POST", "/form", 200), ("GET", "/again", 200), ("GET", "/missing", 404), ("DELETE", "/", 200)]


def test_the_answer_is_streamed_as_the_server_gives_it(server):
    api, sites = server
    deploy(sites, "streamed", Framework.NUXT)
    headers = {"Host": f"streamed.localhost:{api.port}"}
    with httpx.stream("GET", api.url("/stream"), headers=headers, timeout=10) as answer:
        chunks = answer.iter_raw()
        # The server writes the rest only once asked to by another request: the first part came through alone.
        assert next(chunks) == b"first "
        assert get(api, "streamed", "/release").text == "released"
        assert b"".join(chunks) == b"second"
    assert get(api, "streamed", "/abandoned").text == "false"


def test_a_visitor_who_leaves_mid_answer_closes_the_servers_stream(server):
    api, sites = server
    deploy(sites, "left", Framework.NUXT)
    headers = {"Host": f"left.localhost:{api.port}"}
    with httpx.stream("GET", api.url("/stream"), headers=headers, timeout=10) as answer:
        assert next(answer.iter_raw()) == b"first "
    deadline = time.monotonic() + 10
    while get(api, "left", "/abandoned").text != "true":
        assert time.monotonic() < deadline, "the server's stream was left open"
        time.sleep(0.1)


def test_the_server_sees_the_sites_variables_and_appwrites_never_the_api_servers(server, data_dir):
    api, sites = server
    sites.create(
        site_id="env", name="Env", framework=Framework.NUXT, adapter="ssr", build_runtime=BuildRuntime.NODE_22,
        build_command="node build.js",
    )  # fmt: skip
    sites.create_variable("env", "GREETING", "hello")
    archive = InputFile.from_bytes(site_archive(Framework.NUXT), "site.tar.gz")
    deployment = sites.create_deployment("env", archive, activate=True)
    seen = get(api, "env", "/env").json()
    env = seen["env"]
    assert env["GREETING"] == "hello" and env["APPWRITE_SITE_ID"] == "env"
    assert env["APPWRITE_SITE_DEPLOYMENT"] == deployment.id and env["APPWRITE_SITE_PROJECT_ID"] == "default"
    assert (env["HOST"], env["PORT"].isdigit()) == ("127.0.0.1", True)
    assert "BAAS_MCP_KEY" not in env and "SERVER_ONLY_SECRET" not in env
    assert Path(seen["cwd"]).name == ".output"
    code = data_dir / "default" / "sites" / "env" / deployment.id / "code"
    assert json.loads((code / "build-env.json").read_text())["NITRO_PRESET"] == "node_server"
    # A changed variable: the server is started again with it.
    sites.update_variable("env", sites.list_variables("env").variables[0].id, "GREETING", "bonjour")
    assert get(api, "env", "/env").json()["env"]["GREETING"] == "bonjour"


def test_a_crashed_or_hung_server_answers_502_or_504_and_is_started_again(server, data_dir):
    api, sites = server
    deploy(sites, "fragile", Framework.SVELTEKIT, timeout=1)
    boot = get(api, "fragile").json()["boot"]
    crashed = get(api, "fragile", "/crash")
    assert crashed.status_code == 502 and "Bad Gateway" in crashed.text
    again = get(api, "fragile").json()["boot"]
    assert again != boot
    started = time.monotonic()
    hung = get(api, "fragile", "/hang")
    assert hung.status_code == 504 and time.monotonic() - started < 10
    assert get(api, "fragile").json()["boot"] not in (boot, again)
    with pytest.raises(httpx.RemoteProtocolError):
        get(api, "fragile", "/partial")
    assert get(api, "fragile").status_code == 200
    statuses = [log.responsestatuscode for log in sites.list_logs("fragile").executions]
    assert statuses == [200, 502, 200, 504, 200, 200, 200]
    assert "Traceback" not in api.stderr.text()
    assert len(processes_under(data_dir / "default" / "sites" / "fragile")) >= 1


def test_a_server_that_never_listens_answers_502_with_its_output(server):
    api, sites = server
    # The Python SDK has no startCommand: the call as its REST request.
    created = sites.client.call(
        "post",
        "/sites",
        {"content-type": "application/json"},
        {
            "siteId": "broken", "name": "Broken", "framework": "nuxt", "adapter": "ssr", "buildRuntime": "node-22",
            "buildCommand": "node build.js", "startCommand": "echo starting up && exit 7",
        },
    )  # fmt: skip
    assert created["startCommand"] == "echo starting up && exit 7"
    archive = InputFile.from_bytes(site_archive(Framework.NUXT), "site.tar.gz")
    assert sites.create_deployment("broken", archive, activate=True).status.value == "ready"
    page = get(api, "broken")
    assert page.status_code == 502 and "exit code 7" in page.text and "starting up" in page.text


def test_a_new_deployment_is_served_at_once_and_a_deleted_site_leaves_no_process(server, data_dir):
    api, sites = server
    first = deploy(sites, "swap", Framework.NUXT)
    assert get(api, "swap").json()["version"] == "1"
    first_folder = data_dir / "default" / "sites" / "swap" / first
    assert processes_under(first_folder)
    deploy(sites, "swap", Framework.NUXT, version="2")
    assert get(api, "swap").json()["version"] == "2"
    assert gone(first_folder)
    sites.delete("swap")
    assert gone(data_dir / "default" / "sites" / "swap")
    assert get(api, "swap").status_code == 404


def test_a_next_standalone_build_gets_its_static_files_beside_its_server(server, data_dir):
    _, sites = server
    deployment = deploy(sites, "next", Framework.NEXTJS)
    standalone = data_dir / "default" / "sites" / "next" / deployment / "code" / ".next" / "standalone"
    assert (standalone / ".next" / "static" / "chunks" / "app.js").read_text() == "chunk"


SVELTEKIT_APP = Path(__file__).parent / "ssr_sveltekit"
OFFLINE = ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ETIMEDOUT", "ENETUNREACH", "ECONNRESET")


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_a_real_sveltekit_app_is_built_with_npm_and_rendered_on_the_server(server):
    """A SvelteKit app with adapter-node (tests/rest/ssr_sveltekit), installed from its lock file and built by
    `vite build` at deployment; skipped when the npm registry cannot be reached."""
    api, sites = server
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(SVELTEKIT_APP, arcname=".")
    sites.create(
        site_id="kit", name="Kit", framework=Framework.SVELTEKIT, adapter="ssr", build_runtime=BuildRuntime.NODE_22,
        install_command="npm ci --no-audit --no-fund", build_command="npm run build",
    )  # fmt: skip
    archive = InputFile.from_bytes(buffer.getvalue(), "kit.tar.gz")
    deployment = sites.create_deployment("kit", archive, activate=True)
    if deployment.status.value == "failed" and any(code in deployment.buildlogs for code in OFFLINE):
        pytest.skip("the npm registry cannot be reached")
    assert deployment.status.value == "ready", deployment.buildlogs
    page = get(api, "kit")
    assert page.status_code == 200 and "Rendered on the server for kit" in page.text
    robots = get(api, "kit", "/robots.txt")
    assert (robots.status_code, robots.text) == (200, "robots\n")
