"""What `baas-mcp api` answers by the Host a request names (`Hosting.route`), and serving a site's files.

A proxy rule naming the Host decides first (in any project of the data dir): an API rule leads to the API, a
function rule to the function (function_domains.py), a site rule to the site, a redirect rule to its URL. Without
one, `<siteId>.localhost[:port]` is site `<siteId>` of the server's default project and `<siteId>.<projectId>.localhost`
a site of another project (`target`); any other Host is the API's. A Host that is an address or `localhost` itself is
the API's at once, without looking for a rule.

A site answers GET and HEAD from the output directory of its active deployment (Engine.site_to_serve): a folder
answers its `index.html`, a path that matches no file the site's fallback file (single-page apps) or a 404 page.
Nothing outside the output directory is ever served: `.` and `..` segments (encoded or not) are refused, and symbolic
links are followed only while they stay inside it. Files are streamed in chunks read on the worker threads. Each
request a site answers is kept among its logs (method, path, status, duration).

A site rendered on the server (adapter `ssr`) answers every method: GET and HEAD of a file in the folder of static
files its framework's helper serves first (`public`, `client`...) are answered from it, and every other request goes
to the site's server on its loopback port (Engine.site_server_port starts it when it is not running) as it came:
method, path and query, headers (but hop-by-hop ones, with X-Forwarded-For and -Proto added) and body (at most
MAX_BODY bytes). Its answer is streamed back as it comes. A server that cannot be started or reached, or that breaks
the connection, gives a 502 page, one that does not answer within the site's `timeout` a 504 page; either way it is
stopped, and the next request starts it again.
"""

from __future__ import annotations

import asyncio
import html
import ipaddress
import mimetypes
import time
from concurrent.futures import Executor
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path
from typing import Any

import httpx

from ..engine.errors import AppwriteError

SITES_DOMAIN = "localhost"
CHUNK = 64 * 1024
METHODS = ("GET", "HEAD")
MAX_BODY = 10 * 1024 * 1024
CONNECT_TIMEOUT = 5.0
# Headers that belong to one connection, not to the request or answer passed on (the framing is redone, but for
# the answer's length, which its bytes passed on as they came keep).
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)


@dataclass(frozen=True)
class Api:
    """The request is for the REST API."""


@dataclass(frozen=True)
class Site:
    """The request is for a site: the active deployment of `site_id` in project `project_id`."""

    project_id: str
    site_id: str


@dataclass(frozen=True)
class Function:
    """The request is for a function (a function rule): its active deployment runs it."""

    project_id: str
    function_id: str


@dataclass(frozen=True)
class Redirect:
    """The request is sent elsewhere (a redirect rule)."""

    url: str
    status: int


Target = Api | Site | Function | Redirect


def by_rule(project_id: str, rule: dict) -> Target:
    """Where a proxy rule of project `project_id` leads."""
    if rule["type"] == "redirect":
        return Redirect(rule["redirectUrl"], int(rule["redirectStatusCode"]))
    if rule["type"] == "deployment" and rule["deploymentResourceType"] == "function":
        return Function(project_id, rule["deploymentResourceId"])
    if rule["type"] == "deployment":
        return Site(project_id, rule["deploymentResourceId"])
    return Api()


def is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return name == SITES_DOMAIN
    return True


def hostname(host: str) -> str:
    """The Host header without its port (and brackets of an IPv6 address), lower case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def target(host: str, default_project: str) -> Api | Site:
    """What a request with this Host header is for."""
    name = hostname(host)
    suffix = "." + SITES_DOMAIN
    if not name.endswith(suffix):
        return Api()
    labels = name[: -len(suffix)].split(".")
    if not all(labels) or len(labels) > 2:
        return Api()
    return Site(labels[1] if len(labels) == 2 else default_project, labels[0])


def contained(root: Path, candidate: Path) -> Path | None:
    """`candidate` with its links resolved, when it exists and stays inside `root` (itself resolved)."""
    try:
        resolved = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    return resolved if resolved.is_relative_to(root) else None


def file_for(root: Path, path: str, fallback: str) -> Path | None:
    """The file a request path answers with in the output directory `root`, else the fallback file, else None."""
    parts = [part for part in path.split("/") if part]
    if any(part in (".", "..") or "\\" in part or "\0" in part for part in parts):
        return None
    found = contained(root, root.joinpath(*parts))
    if found is not None and found.is_dir():
        found = contained(root, found / "index.html")
    if found is not None and found.is_file():
        return found
    if fallback:
        found = contained(root, root / fallback)
        if found is not None and found.is_file():
            return found
    return None


def content_type(path: Path) -> str:
    guessed = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    textual = guessed.startswith("text/") or guessed in ("application/javascript", "application/json", "image/svg+xml")
    return guessed + ("; charset=utf-8" if textual else "")


def page(status: int, title: str, message: str) -> bytes:
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>{status} {html.escape(title)}</title></head>"
        f"<body><h1>{status} {html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>"
    ).encode()


class BodyTooLarge(Exception):
    pass


async def request_body(receive: Any) -> bytes:
    """The request's body; BodyTooLarge past MAX_BODY bytes."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return bytes(body)
        body += message.get("body", b"")
        if len(body) > MAX_BODY:
            raise BodyTooLarge
        if not message.get("more_body", False):
            return bytes(body)


async def disconnection(receive: Any) -> None:
    """Return once the visitor has gone (the request's body already read)."""
    while (await receive())["type"] != "http.disconnect":
        continue


def forwarded_headers(scope: dict) -> list[tuple[bytes, bytes]]:
    """The request's headers for the site's server: the hop-by-hop ones dropped, X-Forwarded-For and -Proto set."""
    client = scope.get("client")
    kept = [(name, value) for name, value in scope["headers"] if name.lower() not in HOP_BY_HOP | {b"content-length"}]
    kept = [(name, value) for name, value in kept if name.lower() not in (b"x-forwarded-for", b"x-forwarded-proto")]
    return [
        *kept,
        (b"x-forwarded-for", (client[0] if client else "").encode()),
        (b"x-forwarded-proto", scope.get("scheme", "http").encode()),
    ]


class Hosting:
    """Serves sites' files on the REST app's worker threads, passes requests on to the servers of sites rendered on
    the server, and keeps a log of each request a site answered."""

    def __init__(self, engine: Any, workers: Executor, default_project: str) -> None:
        self.engine = engine
        self.workers = workers
        self.default_project = default_project
        self.upstream: httpx.AsyncClient | None = None

    def client(self) -> httpx.AsyncClient:
        """The client passing requests on to sites' servers: no redirects followed, no cookies kept between
        visitors, no proxy from the environment."""
        if self.upstream is None:
            self.upstream = httpx.AsyncClient(
                follow_redirects=False,
                trust_env=False,
                cookies=CookieJar(DefaultCookiePolicy(allowed_domains=[])),
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            )
        return self.upstream

    async def close(self) -> None:
        if self.upstream is not None:
            await self.upstream.aclose()
            self.upstream = None

    async def route(self, host: str) -> Target:
        """What a request with this Host header is for: a proxy rule's target, else `target`'s."""
        name = hostname(host)
        if not name or is_address(name):
            return Api()
        found = await self.in_worker(self.engine.rule_for_domain, name)
        if found is not None:
            return by_rule(*found)
        return target(host, self.default_project)

    async def redirect(self, to: Redirect, send: Any) -> None:
        body = page(to.status, "Moved", f"This domain now lives at {to.url}.")
        headers = [(b"location", to.url.encode()), (b"content-type", b"text/html; charset=utf-8")]
        await send({"type": "http.response.start", "status": to.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def in_worker(self, function: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.workers, function, *args)

    async def serve(self, site: Site, scope: dict, receive: Any, send: Any) -> None:
        """Answer the request; a site's log of it is written before the answer goes out, so a client that has the
        answer finds it in the logs."""
        started = time.monotonic()
        method, path = scope["method"], scope["path"]
        try:
            served = await self.in_worker(self.engine.site_to_serve, site.project_id, site.site_id)
        except AppwriteError as error:
            status = error.code if 400 <= error.code < 500 else 404
            await self.send_page(send, status, page(status, "Not Found", error.message), method)
            return
        query = scope["query_string"].decode("latin-1")
        logged = (site.project_id, served, method, path + ("?" + query if query else ""))

        async def log(status: int) -> None:
            await self.in_worker(self.engine.log_site_request, *logged, status, time.monotonic() - started)

        server = served.server
        if server is not None and (method not in METHODS or server.static is None):
            await self.pass_on(server, scope, receive, send, log)
            return
        if method not in METHODS:
            body = page(405, "Method Not Allowed", "A site answers GET and HEAD requests.")
            await self.send_page(send, 405, body, method, [(b"allow", b"GET, HEAD")])
            return
        root, fallback = (served.root, served.fallback) if server is None else (server.static, "")
        found = await self.in_worker(file_for, root, path, fallback)
        if found is None and server is not None:
            await self.pass_on(server, scope, receive, send, log)
            return
        await log(200 if found else 404)
        if found is None:
            await self.send_page(send, 404, page(404, "Not Found", f"The site has no file at {path}."), method)
        else:
            await self.send_file(send, found, method)

    async def pass_on(self, server: Any, scope: dict, receive: Any, send: Any, log: Any) -> None:
        """Pass the request on to the site's server and stream its answer back (see the module's docstring)."""
        method = scope["method"]
        try:
            body = await request_body(receive)
        except BodyTooLarge:
            await log(413)
            message = f"The request's body is larger than {MAX_BODY} bytes."
            await self.send_page(send, 413, page(413, "Payload Too Large", message), method)
            return
        try:
            port = await self.in_worker(self.engine.site_server_port, server)
        except AppwriteError as error:
            await log(502)
            await self.send_page(send, 502, page(502, "Bad Gateway", error.message), method)
            return
        raw_path = scope.get("raw_path") or scope["path"].encode()
        query = scope["query_string"]
        url = f"http://127.0.0.1:{port}" + (raw_path + (b"?" + query if query else b"")).decode("latin-1")
        request = self.client().build_request(
            method,
            url,
            headers=forwarded_headers(scope),
            content=body,
            timeout=httpx.Timeout(float(server.timeout), connect=CONNECT_TIMEOUT),
        )
        try:
            answer = await self.client().send(request, stream=True)
        except httpx.TimeoutException:
            await self.failed(server, port, send, method, log, 504, f"did not answer within {server.timeout} s")
            return
        except httpx.HTTPError as error:
            await self.failed(server, port, send, method, log, 502, f"could not be reached ({error})")
            return
        streaming = asyncio.create_task(self.stream_back(answer, server, port, send, log))
        watching = asyncio.create_task(disconnection(receive))
        try:
            await asyncio.wait({streaming, watching}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (streaming, watching):
                task.cancel()
            await asyncio.gather(streaming, watching, return_exceptions=True)
            await answer.aclose()

    async def stream_back(self, answer: httpx.Response, server: Any, port: int, send: Any, log: Any) -> None:
        """Send the server's answer on as it comes. One broken off is left incomplete (the visitor's connection
        closes without its end): a server that broke the connection is stopped, one that went quiet for longer than
        the site's timeout is not."""
        await log(answer.status_code)
        headers = [(name, value) for name, value in answer.headers.raw if name.lower() not in HOP_BY_HOP]
        await send({"type": "http.response.start", "status": answer.status_code, "headers": headers})
        try:
            async for chunk in answer.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except httpx.TimeoutException:
            return
        except httpx.HTTPError:
            await self.in_worker(self.engine.restart_site_server, server, port)
            return
        await send({"type": "http.response.body", "body": b""})

    async def failed(self, server: Any, port: int, send: Any, method: str, log: Any, status: int, what: str) -> None:
        """The site's server failed the request: it is stopped (the next request starts it again), and the visitor
        gets a page saying so."""
        await self.in_worker(self.engine.restart_site_server, server, port)
        await log(status)
        title = "Gateway Timeout" if status == 504 else "Bad Gateway"
        message = f"The site's server {what}. It has been stopped; the next request starts it again."
        await self.send_page(send, status, page(status, title, message), method)

    async def send_file(self, send: Any, found: Path, method: str) -> None:
        """Stream a file, a chunk at a time."""
        handle = await self.in_worker(found.open, "rb")
        try:
            size = await self.in_worker(lambda: handle.seek(0, 2))
            await self.in_worker(handle.seek, 0)
            headers = [(b"content-type", content_type(found).encode()), (b"content-length", str(size).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            while method != "HEAD" and (chunk := await self.in_worker(handle.read, CHUNK)):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            handle.close()

    async def send_page(self, send: Any, status: int, body: bytes, method: str, headers: list | None = None) -> None:
        start = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": start + (headers or [])})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})
