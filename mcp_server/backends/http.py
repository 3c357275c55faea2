"""The HTTP backend: every catalog operation as a request to an Appwrite-compatible server.

The server may be Appwrite Cloud, a self-hosted Appwrite, or `baas-mcp api`. The catalog entry
says how to build each request: its path, query string, and JSON or multipart body. Every request
carries the project and API key headers. Files go up in 5 MB chunks, as the Appwrite SDKs send
them. The server's errors come back as AppwriteError in the same shape as the embedded engine's.

One pooled AsyncClient serves all calls. Requests time out. TLS is verified unless the server was
declared self-signed. An operation that is safe to repeat (GET, PUT, DELETE) is retried with
backoff when the server answers 429 or 503 or cannot be reached. Downloads (file contents,
avatars) are saved under the downloads directory and answered with their path.

The server's Appwrite version is read once, on first use, from the public `/v1/health/version`
(unless it was given at start). Operations Appwrite added after that version are shown as
unavailable and refused without a request. When the version cannot be read (an old or unusual
server, a proxy, the network) a warning says so and every operation is offered: the server itself
refuses what it lacks.
"""

from __future__ import annotations

import email.message
import json
import logging
import re
import ssl
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio
import httpx

from .. import __version__
from ..catalog import Catalog, Operation
from ..engine.errors import AppwriteError
from ..engine.permissions import Auth
from ..uploads import CHUNK_SIZE, Media, received_file, save
from .versions import ApiVersion, lacks, parse_version

RESPONSE_FORMAT = "1.9.6"  # the models of the catalog (Appwrite 1.9.6)
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 503})
MAX_RETRIES = 3
MAX_RETRY_AFTER_S = 10.0
JWT_SECONDS = 900
JWT_REUSE_S = 600
PLACEHOLDER = re.compile(r"\{(\w+)\}")
VERSION_PATH = "/health/version"
VERSION_WAIT_S = 5.0
MAX_VERSION_BODY = 4096

logger = logging.getLogger("baas_mcp")


class HttpBackend:
    """Operations run on the server at `endpoint` (…/v1) in `project`, as the API key `api_key`.

    The caller's scopes were checked before a call gets here; the server applies the key's own.
    """

    name = "http"

    def __init__(
        self,
        endpoint: str,
        project: str,
        api_key: str,
        catalog: Catalog,
        downloads: Path,
        *,
        verify: bool = True,
        timeout: float = 30.0,
        retry_delay: float = 0.5,
        api_version: ApiVersion | None = None,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.project = project
        self.api_key = api_key
        self.catalog = catalog
        self.downloads = downloads
        self.verify = verify
        self.timeout = timeout
        self.retry_delay = retry_delay
        self.client: httpx.AsyncClient | None = None
        # JWTs for acting as users (as_user): user id -> (jwt, when to fetch a new one).
        self.jwts: dict[str, tuple[str, float]] = {}
        # The server's Appwrite version: given, or read once (None when it could not be read).
        self.api_version = api_version
        self.version_known = api_version is not None
        self.version_lock: anyio.Lock | None = None

    async def unavailable(self, operation_id: str) -> str | None:
        """Why the server cannot run the operation (Appwrite added it after the server's version), or None."""
        op = self.catalog.get(operation_id)
        version = await self.version()
        if op is None or version is None or not lacks(version, op):
            return None
        return f"needs Appwrite {op.since}; the server runs {version}"

    async def version(self) -> ApiVersion | None:
        """The server's Appwrite version, read from it on first use (None if it could not be read)."""
        if not self.version_known:
            if self.version_lock is None:
                self.version_lock = anyio.Lock()
            async with self.version_lock:
                if not self.version_known:
                    self.api_version = await self.read_version()
                    self.version_known = True
        return self.api_version

    async def read_version(self) -> ApiVersion | None:
        """GET /v1/health/version (public: no key), bounded in time and size; None, with a warning, if it fails."""
        url = self.endpoint + VERSION_PATH
        wait = min(self.timeout, VERSION_WAIT_S)
        body = b""
        status = 0
        try:
            with anyio.fail_after(wait):
                async with self.http_client().stream("GET", url, timeout=wait) as response:
                    status = response.status_code
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > MAX_VERSION_BODY:
                            return version_unknown(url, f"its answer is longer than {MAX_VERSION_BODY} bytes")
        except TimeoutError:
            return version_unknown(url, f"no answer within {wait:g} s")
        except httpx.HTTPError as error:
            return version_unknown(url, str(error) or type(error).__name__)
        if status != 200:
            return version_unknown(url, f"it answered {status}")
        try:
            text = json.loads(body)["version"]
            return parse_version(text)
        except (ValueError, TypeError, KeyError) as error:
            return version_unknown(url, f"no version in its answer ({error})")

    def http_client(self) -> httpx.AsyncClient:
        if self.client is None:
            self.client = httpx.AsyncClient(
                verify=self.verify,
                timeout=self.timeout,
                follow_redirects=False,
                headers={
                    "X-Appwrite-Project": self.project,
                    "X-Appwrite-Response-Format": RESPONSE_FORMAT,
                    "User-Agent": f"baas-mcp/{__version__}",
                },
            )
        return self.client

    async def aclose(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None

    async def call(self, operation_id: str, params: dict, auth: Auth, as_user: str | None = None) -> Any:
        """The server's result; with `as_user`, the request carries a JWT of that user instead of the key."""
        op = self.catalog.get(operation_id)
        if op is None:
            raise AppwriteError("general_route_not_found", f"Unknown operation {operation_id!r}")
        if await self.unavailable(op.id):
            raise AppwriteError(
                "general_not_implemented",
                f"{op.id} was added in Appwrite {op.since} and the server at {self.endpoint} runs Appwrite "
                f"{self.api_version}; upgrade the server (or, if it is newer, start with --api-version)",
            )
        credential = await self.credential(as_user)
        url = self.endpoint + fill_path(op, params)
        query = flatten({name: value for name, value in params.items() if op.params.get(name) == "query"})
        body = {name: value for name, value in params.items() if op.params.get(name) == "body"}
        form = {name: value for name, value in params.items() if op.params.get(name) == "form"}
        if form:
            return await self.upload(op, url, credential, query, form)
        if op.service == "graphql":  # the request travels wrapped in `query`, as the SDKs send it
            credential = credential | {"X-SDK-GraphQL": "true"}
        response = await self.send(op, url, credential, params=query, json=body if body else None)
        return self.result(op, response)

    async def credential(self, as_user: str | None) -> dict[str, str]:
        """The header a request authenticates with: the API key, or a fresh-enough JWT of `as_user`
        (made with the key through users.createJWT, and reused for ten of its fifteen minutes)."""
        if as_user is None:
            return {"X-Appwrite-Key": self.api_key}
        cached = self.jwts.get(as_user)
        if cached is None or cached[1] <= time.monotonic():
            make = self.catalog.get("users.createJWT")
            url = self.endpoint + fill_path(make, {"userId": as_user})
            response = await self.send(make, url, {"X-Appwrite-Key": self.api_key}, json={"duration": JWT_SECONDS})
            cached = (self.result(make, response)["jwt"], time.monotonic() + JWT_REUSE_S)
            self.jwts[as_user] = cached
        return {"X-Appwrite-JWT": cached[0]}

    async def upload(self, op: Operation, url: str, credential: dict, query: list, form: dict) -> Any:
        """A multipart request; a file over 5 MB goes in chunks with Content-Range, as the SDKs send it."""
        file_names = [name for name in form if name in op.file_params]
        fields = flatten({name: value for name, value in form.items() if name not in file_names})
        files = {name: received_file(name, form[name]) for name in file_names}
        big = [(name, upload) for name, upload in files.items() if upload.size > CHUNK_SIZE]
        if not big:
            parts = {name: (upload.filename, upload.read(), upload.content_type) for name, upload in files.items()}
            response = await self.send(op, url, credential, params=query, data=dict(fields), files=parts)
            return self.result(op, response)
        name, upload = big[0]
        total = upload.size
        headers: dict[str, str] = {}
        result = None
        for start in range(0, total, CHUNK_SIZE):
            end = min(start + CHUNK_SIZE, total)
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{total}"
            parts = {name: (upload.filename, upload.read(start, end - start), upload.content_type)}
            response = await self.send(op, url, {**credential, **headers}, params=query, data=dict(fields), files=parts)
            result = self.result(op, response)
            if isinstance(result, dict) and "$id" in result:
                headers["X-Appwrite-ID"] = result["$id"]
        return result

    async def send(self, op: Operation, url: str, headers: dict[str, str], **request: Any) -> httpx.Response:
        """The server's answer, after retries when the operation may be repeated safely."""
        request["headers"] = headers
        attempts = MAX_RETRIES + 1 if op.http_method in IDEMPOTENT_METHODS else 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = await self.http_client().request(op.http_method, url, **request)
            except httpx.TimeoutException:
                if last:
                    raise AppwriteError(
                        "general_server_error",
                        f"{op.id}: no answer from {self.endpoint} within {self.timeout:g} s",
                        504,
                    ) from None
                await anyio.sleep(self.backoff(attempt, None))
                continue
            except httpx.TransportError as error:
                if last or tls_failure(error):
                    raise unreachable(op, self.endpoint, error) from None
                await anyio.sleep(self.backoff(attempt, None))
                continue
            if response.status_code in RETRY_STATUSES and not last:
                await anyio.sleep(self.backoff(attempt, response.headers.get("retry-after")))
                continue
            return response
        raise AssertionError("unreachable")

    def backoff(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(float(retry_after), MAX_RETRY_AFTER_S)
            except ValueError:
                pass
        return self.retry_delay * 2**attempt

    def result(self, op: Operation, response: httpx.Response) -> Any:
        """The operation's result from the server's answer, or its error as AppwriteError."""
        status = response.status_code
        content_type = response.headers.get("content-type", "")
        if status >= 400:
            raise server_error(op, response)
        if 300 <= status < 400:
            return {"location": response.headers.get("location", "")}
        if status == 204 or not response.content:
            return None
        if content_type.lower().startswith("application/json"):
            return response.json()
        if op.returns.get("media"):
            return self.save(op, response)
        return {"contentType": content_type, "text": response.text}

    def save(self, op: Operation, response: httpx.Response) -> dict:
        """Downloaded bytes written to a file under the downloads directory (named as the server's
        Content-Disposition says, made safe by `save`); the answer says where."""
        content_type = response.headers.get("content-type", "application/octet-stream")
        filename = disposition_filename(response.headers.get("content-disposition", ""))
        return save(Media(response.content, content_type, filename), self.downloads, op.method)


def version_unknown(url: str, reason: str) -> None:
    logger.warning(
        "could not read the Appwrite version from %s: %s; every operation is offered and the server refuses what "
        "it lacks (start with --api-version X.Y to name its version)",
        url,
        reason,
    )


def disposition_filename(header: str) -> str:
    """The file name in a Content-Disposition header (`filename*=UTF-8''…` or `filename="…"`), or ""."""
    if not header:
        return ""
    message = email.message.Message()
    message["content-disposition"] = header
    return message.get_filename() or ""


def fill_path(op: Operation, params: dict) -> str:
    return PLACEHOLDER.sub(lambda found: path_segment(str(params[found.group(1)])), op.path)


def path_segment(value: str) -> str:
    """`value` as exactly one path segment: every reserved character escaped, and an id of dots
    (`.`, `..`) escaped too, since a URL treats those as "this" and "the parent" segment."""
    encoded = quote(value, safe="")
    return encoded.replace(".", "%2E") if encoded.strip(".") == "" else encoded


def text_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def flatten(params: dict) -> list[tuple[str, str]]:
    """Query or form pairs as the SDKs send them: `queries[0]=…`, `data[title]=…`, booleans as true/false."""
    pairs: list[tuple[str, str]] = []

    def add(key: str, value: Any) -> None:
        if isinstance(value, list):
            for index, item in enumerate(value):
                add(f"{key}[{index}]", item)
        elif isinstance(value, dict):
            for name, item in value.items():
                add(f"{key}[{name}]", item)
        elif value is not None:
            pairs.append((key, text_value(value)))

    for name, value in params.items():
        add(name, value)
    return pairs


def server_error(op: Operation, response: httpx.Response) -> AppwriteError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "message" in body:
        return AppwriteError(str(body.get("type") or "general_unknown"), str(body["message"]), response.status_code)
    text = response.text.strip()[:300] or response.reason_phrase
    return AppwriteError("general_server_error", f"{op.id}: the server answered {response.status_code}: {text}", 502)


def tls_failure(error: BaseException) -> bool:
    """Whether a transport error is a refused certificate or handshake (asking again will not help)."""
    seen = error
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def unreachable(op: Operation, endpoint: str, error: httpx.TransportError) -> AppwriteError:
    detail = str(error) or type(error).__name__
    hint = "; if the server uses a self-signed certificate, start with --self-signed" if "CERTIFICATE" in detail else ""
    return AppwriteError("general_server_error", f"{op.id}: cannot reach {endpoint}: {detail}{hint}", 503)
