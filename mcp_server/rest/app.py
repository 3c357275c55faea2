"""The REST app: an ASGI app serving the engine on /v1 in Appwrite's wire format.

Each request is matched to a catalog operation by method and path, its parameters are read from
the path, the query string and a JSON or multipart body, its caller from the Appwrite headers, and
the engine runs it in a worker thread. Errors are Appwrite's body (`message`, `code`, `type`,
`version`) with the matching status; nothing is written when a request is refused, and no
traceback ever reaches a response. Parameters are read, and answers take, the format the client
names (request_formats.py, response_formats.py). Browser pages may call it from the origins
origins.py allows (the project's web platforms among them, read through the engine's cache on the worker threads). Two
public routes that are no SDK method are answered here: `/v1/ping` and `/v1/health/version` (the
Appwrite version served). GraphQL's routes read their request as GraphQL clients send it (graphql.py).
Websockets on `/v1/realtime` are Appwrite's realtime (realtime.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any
from urllib.parse import quote

from starlette.datastructures import Headers
from starlette.requests import Request

from ..catalog import Operation
from ..engine.errors import API_VERSION, AppwriteError, invalid_argument
from ..engine.keys import KeyStore
from ..engine.permissions import Auth
from ..engine.projectdb import ProjectDB, project_path
from ..engine.registry import Requester
from ..uploads import Media, Upload
from .auth import QUERY_ONLY, Credentials, cookie_name, credentials
from .graphql import ROUTES as GRAPHQL_ROUTES
from .graphql import from_body as graphql_from_body
from .graphql import from_query_string as graphql_from_query_string
from .hosting import Function, Hosting, Redirect, Site
from .origins import OriginPolicy, unknown_origin
from .params import MAX_FIELDS, coerced, json_body, nest, query_pairs, query_project
from .ratelimit import RateLimiter
from .realtime import PATH as REALTIME_PATH
from .realtime import Realtime
from .request_formats import from_format
from .response_formats import in_format
from .routes import Router, choose

logger = logging.getLogger("baas_mcp.rest")

WORKERS = 32
MAX_JSON_BODY = 10 * 1024 * 1024
SESSION_COOKIE_SECONDS = 365 * 24 * 3600
MAX_MULTIPART_BODY = 30 * 1024 * 1024
CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")
# Appwrite's CORS headers (1.9.6 app/config/cors.php), sent with every answer.
ALLOWED_HEADERS = (
    "Accept, Origin, Cookie, Set-Cookie, Content-Type, Content-Range, X-Appwrite-Project, X-Appwrite-Key, "
    "X-Appwrite-Dev-Key, X-Appwrite-Locale, X-Appwrite-Mode, X-Appwrite-JWT, X-Appwrite-Organization, "
    "X-Appwrite-Response-Format, X-Appwrite-Timeout, X-Appwrite-ID, X-Appwrite-Timestamp, X-Appwrite-Session, "
    "X-Appwrite-Platform, X-Appwrite-Impersonate-User-Id, X-Appwrite-Impersonate-User-Email, "
    "X-Appwrite-Impersonate-User-Phone, X-SDK-Version, X-SDK-Name, X-SDK-Language, X-SDK-Platform, X-SDK-GraphQL, "
    "X-SDK-Profile, Range, Cache-Control, Expires, Pragma, X-Fallback-Cookies, X-Requested-With, X-Forwarded-For, "
    "X-Forwarded-User-Agent"
)
CORS_HEADERS = [
    (b"access-control-allow-methods", b"GET, POST, PUT, PATCH, DELETE"),
    (b"access-control-allow-headers", ALLOWED_HEADERS.encode()),
    (b"access-control-expose-headers", b"X-Appwrite-Session, X-Fallback-Cookies"),
    (b"access-control-allow-credentials", b"true"),
    (b"access-control-max-age", b"86400"),
    (b"vary", b"Origin"),
]
# Content types byte for byte as Appwrite sends them: its Response::json() and ::text() (utopia-php/http), and,
# on an answer that sets none (no content: deletes, preflights), the default of the server it runs on (Swoole).
JSON_TYPE = "application/json; charset=UTF-8"
TEXT_TYPE = "text/plain; charset=UTF-8"
NO_CONTENT_TYPE = "text/html"
ROUTE_NOT_FOUND = "The requested route was not found. Please refer to the API docs and try again."
# Appwrite's own project, which a request without a project header is made in; clients name it to reach public routes.
CONSOLE_PROJECT = "console"


class Response:
    """A status, headers and a body, sent in one go."""

    def __init__(self, status: int, body: bytes, content_type: str, headers: list[tuple[bytes, bytes]] = ()) -> None:
        self.status = status
        self.body = body
        self.headers = [(b"content-type", content_type.encode()), *headers]

    async def send(self, send, extra_headers: list[tuple[bytes, bytes]]) -> None:
        headers = [*self.headers, *extra_headers, (b"content-length", str(len(self.body)).encode())]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


def json_response(status: int, data: object, headers: list[tuple[bytes, bytes]] = ()) -> Response:
    return Response(status, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(), JSON_TYPE, headers)


def media_response(status: int, media: Media) -> Response:
    """Raw bytes, with the file name and whether the browser should download them or show them."""
    disposition = "attachment" if media.download else "inline"
    name = quote(media.filename or "file")
    headers = [
        (b"content-disposition", f"{disposition}; filename*=UTF-8''{name}".encode()),
        (b"cache-control", b"private, max-age=3600"),
        (b"x-content-type-options", b"nosniff"),
    ]
    return Response(status, media.data, media.content_type, headers)


def session_cookies(op: Operation, params: dict, result: Any, auth: Auth, project_id: str, secure: bool) -> list:
    """The cookie a new session travels in (its secret then stays out of the body, unless the caller
    holds a key: servers keep sessions themselves), or the cookie cleared when the session ends. Browsers
    that cannot keep the cookie keep `X-Fallback-Cookies` instead (the web SDK, in localStorage): Appwrite's
    `{"a_session_<project>": secret}`, and `[]` when the session ends."""
    name = cookie_name(project_id)
    flags = "; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")
    if op.service != "account":
        return []
    if op.returns.get("model") == "session" and op.http_method in ("POST", "PUT") and isinstance(result, dict):
        value = result.get("secret")
        if not value:
            return []
        if auth.label != "key":
            result["secret"] = ""
        cookie = f"{name}={value}{flags}; Max-Age={SESSION_COOKIE_SECONDS}"
        return [
            (b"set-cookie", cookie.encode()),
            (b"x-fallback-cookies", json.dumps({name: value}).encode()),
        ]
    ended = op.id in ("account.deleteSessions", "account.updateStatus") or (
        op.id == "account.deleteSession" and params.get("sessionId") in ("current", auth.session_id)
    )
    if ended and auth.session_id:
        return [(b"set-cookie", f"{name}={flags}; Max-Age=0".encode()), (b"x-fallback-cookies", b"[]")]
    return []


def error_response(error: AppwriteError) -> Response:
    return json_response(error.code, error.to_dict())


def cors_headers(allowed_origin: str | None) -> list[tuple[bytes, bytes]]:
    """Appwrite's CORS headers; the origin is named (in lower case) only when it is allowed."""
    if allowed_origin is None:
        return CORS_HEADERS
    return [(b"access-control-allow-origin", allowed_origin.strip().lower().encode("latin-1")), *CORS_HEADERS]


class RestApp:
    """The ASGI app over one engine (all projects under its data directory); `background` runs from startup to
    shutdown (the server's delivery of webhooks)."""

    def __init__(
        self,
        engine,
        origins: OriginPolicy | None = None,
        background: Callable[[], Awaitable[None]] | None = None,
        default_project: str = "default",
    ) -> None:
        self.engine = engine
        # The project whose sites `<siteId>.localhost` names (hosting.py).
        self.default_project = default_project
        self.run_background = background
        engine.deleted_listeners.append(self.forget_project)
        self.origins = origins or OriginPolicy()
        self.router = Router(engine.catalog)
        # Keys are read on connections of their own, so a check never waits for the engine's writes.
        self.key_stores: dict[str, KeyStore] = {}
        self.key_stores_lock = threading.Lock()
        self.known_projects: set[str] = set()
        self.limiter = RateLimiter()
        # Engine calls block on SQLite, so they run on worker threads (plain asyncio: least overhead per call).
        self.workers = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="baas-mcp-api")
        self.background: asyncio.Task | None = None
        self.realtime = Realtime(engine, self.in_worker, self.origin_allowed)
        self.hosting = Hosting(engine, self.workers, default_project)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
            return
        if scope["type"] == "websocket":
            if scope["path"] == REALTIME_PATH:
                await self.realtime.serve(scope, receive, send)
            else:
                await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            return
        headers = Headers(scope=scope)
        destination = await self.hosting.route(headers.get("host", ""))
        if isinstance(destination, Site):
            await self.hosting.serve(destination, scope, receive, send)
            return
        if isinstance(destination, Redirect):
            await self.hosting.redirect(destination, send)
            return
        if isinstance(destination, Function):
            await self.run_function(destination, scope, receive, headers, send)
            return
        origin = headers.get("origin")
        pairs = query_pairs(scope["query_string"])
        project_id = headers.get("x-appwrite-project") or query_project(pairs)
        allowed = bool(origin) and await self.origin_allowed(origin, project_id)
        cors = cors_headers(origin if allowed else None)
        if scope["method"] == "OPTIONS":
            await Response(204, b"", NO_CONTENT_TYPE).send(send, cors)
            return
        try:
            # A page elsewhere may not act with the user's cookie: refused before anything runs (servers with a key
            # are not browsers' pages, and are let through as Appwrite does).
            if origin and not allowed and not headers.get("x-appwrite-key"):
                raise unknown_origin(origin)
            response = await self.handle(scope, receive, headers, project_id, pairs)
        except AppwriteError as error:
            response = error_response(error)
        except Exception:
            logger.exception("%s %s failed", scope["method"], scope["path"])
            response = error_response(AppwriteError("general_unknown", "Server Error", 500))
        await response.send(send, cors)

    async def run_function(self, function: Function, scope, receive, headers: Headers, send) -> None:
        """A request for a function's domain: the function answers it (its status, headers and bytes)."""
        try:
            body = b"".join([chunk async for chunk in chunks(limited(receive, MAX_JSON_BODY))])
            query = scope["query_string"].decode("latin-1")
            client = scope.get("client")
            given = {
                **{name: ", ".join(headers.getlist(name)) for name in headers},
                "x-appwrite-client-ip": client[0] if client else "",
            }
            answer = await self.in_worker(
                self.engine.run_function_at_domain,
                function.project_id,
                function.function_id,
                scope["method"],
                scope["path"] + ("?" + query if query else ""),
                given,
                body,
            )
            given_back = dict(answer.headers)
            content_type = given_back.pop("content-type")
            others = [
                (name.encode("latin-1"), value.encode("latin-1", "replace")) for name, value in given_back.items()
            ]
            response = Response(answer.status, answer.body, content_type, others)
        except AppwriteError as error:
            response = error_response(error)
        except Exception:
            logger.exception("the function %s failed to answer at its domain", function.function_id)
            response = error_response(AppwriteError("general_unknown", "Server Error", 500))
        await response.send(send, [])

    async def origin_allowed(self, origin: str, project_id: str | None) -> bool:
        """Whether the origin may call: by the configured policy, else by the platforms of the project (when it
        exists; looking never creates one)."""
        if self.origins.allows(origin, project_id):
            return True
        try:
            self.check_project(project_id)
        except AppwriteError:
            return False
        platforms = await asyncio.get_running_loop().run_in_executor(
            self.workers, self.engine.platform_origins, project_id
        )
        return self.origins.allows(origin, project_id, platforms)

    async def in_worker(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """`function(*args, **kwargs)` on a worker thread (blocking engine work)."""
        return await asyncio.get_running_loop().run_in_executor(self.workers, partial(function, *args, **kwargs))

    def forget_project(self, project_id: str) -> None:
        """A deleted project: its key store closes, its realtime feed stops, and its existence is checked again."""
        self.known_projects.discard(project_id)
        self.realtime.forget_project(project_id)
        with self.key_stores_lock:
            store = self.key_stores.pop(project_id, None)
        if store is not None:
            store.close()

    async def lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.run_background is not None:
                    self.background = asyncio.create_task(self.run_background())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.background is not None:
                    self.background.cancel()
                    await asyncio.gather(self.background, return_exceptions=True)
                await self.hosting.close()
                await asyncio.get_running_loop().run_in_executor(None, self.close)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def handle(
        self, scope, receive, headers: Headers, project_id: str | None, pairs: list[tuple[str, str]]
    ) -> Response:
        path = scope["path"]
        if not path.startswith("/v1/"):
            raise AppwriteError("general_route_not_found", ROUTE_NOT_FOUND, 404)
        if path == "/v1/health/version" and scope["method"] == "GET":
            return self.version(project_id)
        graphql = GRAPHQL_ROUTES.get((scope["method"], path))
        # Parameters in the path are matched still encoded and decoded once: an id may contain / or %.
        raw_path = scope.get("raw_path")
        encoded = raw_path.decode("latin-1") if raw_path else quote(path)
        found = None if graphql else self.router.match(scope["method"], encoded[3:])
        if found is None and not graphql:
            raise AppwriteError("general_route_not_found", ROUTE_NOT_FOUND, 404)
        query = nest(pairs)
        # The project, read already (see query_project), is never a parameter.
        if not isinstance(query.pop("project", None), str | None):
            raise invalid_argument("Invalid `project` param: expected a project ID")
        impersonating = {name: query.pop(name) for name in QUERY_ONLY if name in query}
        self.check_project(project_id)
        # Who is calling: a quick read, so it runs here; recording a key's use is a write, done with the call.
        store = self.key_stores.get(project_id)
        if store is None:  # opening a project's database may wait for a writer: not on the event loop
            store = await asyncio.get_running_loop().run_in_executor(self.workers, self.key_store, project_id)
        try:
            presented = credentials(store, headers, project_id, impersonating)
        except AppwriteError:
            if store.deleted:  # another process deleted the project: what is held of it goes
                self.forget_project(project_id)
            raise
        if graphql:
            op = self.engine.catalog.get(graphql)
            params = await self.graphql_params(scope, receive, headers, pairs)
        else:
            route, path_params = found
            body, body_is_text = await read_body(scope, receive, headers)
            op = choose(route, {**query, **body, **path_params})
            properties = op.input_schema["properties"]
            # Query strings and forms carry text; JSON bodies carry typed values already.
            params = {**coerced(query, properties), **(coerced(body, properties) if body_is_text else body)}
            params = from_format({**params, **path_params}, op.id, headers.get("x-appwrite-response-format"))
        client = scope.get("client")
        requester = Requester(client[0] if client else "", headers.get("user-agent", ""))
        timestamp = headers.get("x-appwrite-timestamp")
        result, auth = await asyncio.get_running_loop().run_in_executor(
            self.workers, self.run, op, params, presented, project_id, timestamp, store, requester
        )
        status = op.returns.get("status", 200)
        cookies = session_cookies(op, params, result, auth, project_id, scope.get("scheme") == "https")
        if isinstance(result, Media):
            return media_response(status, result)
        if result is None:
            return Response(204 if status in (200, 204) else status, b"", NO_CONTENT_TYPE, cookies)
        if op.returns.get("media") == "text/plain":
            return Response(status, str(result).encode(), TEXT_TYPE)
        answer = in_format(result, op.returns.get("model"), headers.get("x-appwrite-response-format"))
        return json_response(status, answer, cookies)

    async def graphql_params(self, scope, receive, headers: Headers, pairs: list[tuple[str, str]]) -> dict:
        """A GraphQL request's parameters (graphql.py), its body size-limited."""
        if scope["method"] == "GET":
            return graphql_from_query_string(pairs)
        body = b"".join([chunk async for chunk in chunks(limited(receive, MAX_JSON_BODY))])
        return graphql_from_body(body, headers)

    def run(
        self,
        op: Operation,
        params: dict,
        presented: Credentials,
        project_id: str,
        timestamp: str | None,
        store: KeyStore,
        requester: Requester,
    ) -> tuple[Any, Auth]:
        """On a worker thread (all of it may block on SQLite): record a key's use when due, look up a
        session or JWT, count the call against its rate limit (callers without a key), then run it."""
        if presented.used_key is not None:
            store.record_use(presented.used_key)
        auth = presented.auth or self.engine.identify(
            project_id, session=presented.session, jwt=presented.jwt, impersonate=presented.impersonate
        )
        if auth.label in ("guest", "user"):
            self.limiter.count(op, params, requester.ip, auth.user_id)
        # GraphQL's routes are the graphql protocol's, which the project switches apart from REST.
        protocol = "graphql" if op.service == "graphql" else "rest"
        result = self.engine.call(
            op.id, params, auth, project_id, request_timestamp=timestamp, requester=requester, protocol=protocol
        )
        return result, auth

    def version(self, project_id: str | None) -> Response:
        """The Appwrite server version this app answers for: public, in the console project or any existing one."""
        if project_id and project_id != CONSOLE_PROJECT:
            self.check_project(project_id)
        return json_response(200, {"version": API_VERSION})

    def check_project(self, project_id: str | None) -> None:
        """The project must be named, and exist: `default` always does, others once their database does."""
        if not project_id:
            raise AppwriteError(
                "project_not_found",
                "No project: send the X-Appwrite-Project header (the first project is 'default').",
                404,
            )
        if project_id in self.known_projects:
            return
        self.known_projects.add(self.engine.require_project(project_id))

    def key_store(self, project_id: str) -> KeyStore:
        with self.key_stores_lock:
            store = self.key_stores.get(project_id)
            if store is None:
                db = ProjectDB(project_path(self.engine.data_dir, project_id))
                store = self.key_stores[project_id] = KeyStore(db)
            return store

    def close(self) -> None:
        """Stop the engine first (running reads stop at once), then wait for the calls still on the workers."""
        self.engine.close()
        self.workers.shutdown(wait=True)
        with self.key_stores_lock:
            for store in self.key_stores.values():
                store.close()
            self.key_stores.clear()


async def read_body(scope, receive, headers: Headers) -> tuple[dict, bool]:
    """The body's parameters, and whether they came as text (a multipart form, whose files become Uploads)
    rather than JSON; size-limited."""
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        declared = int(headers.get("content-length") or 0)
        if declared > MAX_MULTIPART_BODY:
            raise too_large(MAX_MULTIPART_BODY)
        return await form_params(Request(scope, limited(receive, MAX_MULTIPART_BODY)), headers), True
    body = b""
    async for chunk in chunks(limited(receive, MAX_JSON_BODY)):
        body += chunk
    if not body.strip():
        return {}, False
    if content_type not in ("application/json", "text/plain", ""):
        raise invalid_argument(
            f"Unsupported Content-Type {content_type!r}: send parameters as application/json or multipart/form-data"
        )
    return json_body(body), False


async def chunks(receive):
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return


def limited(receive, limit: int):
    """`receive`, refusing a body longer than `limit` bytes."""
    seen = 0

    async def wrapped():
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise too_large(limit)
        return message

    return wrapped


def too_large(limit: int) -> AppwriteError:
    return AppwriteError("general_argument_invalid", f"The request body is larger than {limit:,} bytes.", 413)


async def form_params(request: Request, headers: Headers) -> dict:
    try:
        form = await request.form(max_files=10, max_fields=MAX_FIELDS)
    except AppwriteError:
        raise
    except Exception as error:
        raise invalid_argument(f"The multipart body could not be read: {error}") from None
    chunk = content_range(headers.get("content-range"))
    pairs = []
    for name, value in form.multi_items():
        if isinstance(value, str):
            pairs.append((name, value))
        else:
            data = await value.read()
            upload_id = headers.get("x-appwrite-id") or None
            pairs.append((name, Upload(value.filename or "", value.content_type or "", data, chunk, upload_id)))
    await form.close()
    return nest(pairs)


def content_range(header: str | None) -> tuple[int, int, int] | None:
    if not header:
        return None
    found = CONTENT_RANGE.fullmatch(header.strip())
    if not found:
        raise AppwriteError("storage_invalid_content_range", f"Invalid Content-Range header: {header!r}", 400)
    first, last, total = (int(part) for part in found.groups())
    if not first <= last < total:
        raise AppwriteError("storage_invalid_content_range", f"Invalid Content-Range header: {header!r}", 400)
    return first, last, total
