"""Serves Appwrite function executions in Python, one at a time, the way open-runtimes' Python runtime does.

Usage: python -I -S python_shim.py <request fd> <result fd>, with OPEN_RUNTIMES_ENTRYPOINT in the environment. Each
request is a frame (4-byte big-endian length, then JSON {"method", "url", "headers", "body" (base64), "env"}) read from
the request fd; "env" holds the execution's own environment values, set for its duration. The user's module is
imported once, as `function.<entrypoint path>` from the current directory, and kept: module state persists between
executions. `main(context)` is called (or awaited) and the response frame ({"statusCode", "headers", "body" (base64),
"logs", "errors", "cpu" (seconds used by this process so far), "reusable"}) is written to the result fd. The
execution's own prints are collected into its logs, never onto the protocol. The process ends when the request pipe
closes. This file is run by the executor, never imported by the server; it uses the standard library only.
"""

import asyncio
import base64
import importlib
import io
import json
import os
import struct
import sys
import time
import traceback
import types

MAX_MESSAGE = 8000
MAX_LOGS = 1024 * 1024
HEADER = struct.Struct(">I")


class Logs:
    """The execution's logs and errors, each message cut at 8000 characters like open-runtimes."""

    def __init__(self) -> None:
        self.streams = {"log": [], "error": []}
        self.sizes = {"log": 0, "error": 0}

    def write(self, messages, kind="log") -> None:
        text = " ".join(
            json.dumps(m, separators=(",", ":")) if isinstance(m, (list, dict, tuple)) else str(m) for m in messages
        )
        if len(text) > MAX_MESSAGE:
            text = text[:MAX_MESSAGE] + "... Log truncated due to size limit (8000 characters)"
        if self.sizes[kind] + len(text) > MAX_LOGS:
            return
        self.sizes[kind] += len(text)
        self.streams[kind].append(text)

    def text(self, kind: str) -> str:
        return "".join(self.streams[kind])


class Response:
    def binary(self, bytes, statusCode=200, headers=None):
        return {"body": bytes, "statusCode": statusCode, "headers": {} if headers is None else headers}

    def text(self, body, statusCode=200, headers=None):
        return self.binary(body.encode("utf-8"), statusCode, headers)

    def send(self, body, statusCode=200, headers=None):
        return {"body": body, "statusCode": statusCode, "headers": {} if headers is None else headers}

    def json(self, obj, statusCode=200, headers=None):
        headers = {} if headers is None else headers
        headers["content-type"] = "application/json"
        return self.text(json.dumps(obj, separators=(",", ":")), statusCode, headers)

    def empty(self):
        return self.text("", 204, {})

    def redirect(self, url, statusCode=301, headers=None):
        headers = {} if headers is None else headers
        headers["location"] = url
        return self.text("", statusCode, headers)


class Request:
    body_binary = b""
    headers = None
    method = None
    url = None
    path = None
    port = None
    query = None
    query_string = None
    scheme = None
    host = None

    @property
    def body_text(self):
        return self.body_binary.decode("utf-8")

    @property
    def body_json(self):
        return json.loads(self.body_text)

    @property
    def body_raw(self):
        return self.body_text

    @property
    def body(self):
        if self.headers.get("content-type", "text/plain").lower().startswith("application/json"):
            return self.body_json if len(self.body_binary) > 0 else {}
        return self.body_text


class Context:
    def __init__(self, logs: Logs) -> None:
        self.req = Request()
        self.res = Response()
        self.logs = logs

    def log(self, *messages):
        self.logs.write(messages, "log")
        self.logs.write(["\n"], "log")

    def error(self, *messages):
        self.logs.write(messages, "error")
        self.logs.write(["\n"], "error")


def build_request(request: dict) -> Request:
    req = Request()
    req.body_binary = base64.b64decode(request["body"])
    req.method = request["method"]
    url = request["url"]
    req.path, _, req.query_string = url.partition("?")
    req.query = {}
    for param in req.query_string.split("&"):
        pair = param.split("=", 1)
        if pair[0]:
            req.query[pair[0]] = pair[1] if len(pair) > 1 else ""
    req.headers = {k.lower(): v for k, v in request["headers"].items() if not k.lower().startswith("x-open-runtimes-")}
    req.scheme = req.headers.get("x-forwarded-proto", "http")
    default_port = "443" if req.scheme == "https" else "80"
    host = req.headers.get("host", "")
    if ":" in host:
        req.host, port = host.split(":", 1)
        req.port = int(port) if port.isdigit() else int(default_port)
    else:
        req.host, req.port = host, int(default_port)
    req.url = req.scheme + "://" + req.host + ("" if req.port == int(default_port) else ":" + str(req.port))
    req.url += req.path + ("?" + req.query_string if req.query_string else "")
    return req


class Function:
    """The user's module, imported on the first execution and kept; None after an error in that execution's logs
    (open-runtimes answers 503 then, and this worker is not used again)."""

    def __init__(self, entrypoint: str) -> None:
        self.entrypoint = entrypoint
        self.module = None
        self.failed = False

    def load(self, context: Context):
        if self.module is None and not self.failed:
            self.module = self._import(context)
            self.failed = self.module is None
        return self.module

    def _import(self, context: Context):
        entrypoint = self.entrypoint
        if not os.path.isfile(entrypoint):
            context.error("Failed to load entrypoint, file " + entrypoint + " does not exist.")
            return None
        package = types.ModuleType("function")
        package.__path__ = [os.getcwd()]
        sys.modules["function"] = package
        name = entrypoint[:-3] if entrypoint.endswith(".py") else entrypoint
        try:
            module = importlib.import_module("function." + name.replace("/", "."))
            if not callable(getattr(module, "main", None)):
                raise AttributeError("Function signature invalid. Did you forget to export a 'main' function?")
            return module
        except ModuleNotFoundError as e:
            context.error("Module not found: " + str(e.name))
        except SyntaxError as e:
            context.error("Syntax error in " + str(e.filename) + ":" + str(e.lineno) + ": " + str(e.msg))
        except AttributeError as e:
            context.error(str(e))
        except Exception as e:
            context.error("Failed to load module: " + "".join(traceback.TracebackException.from_exception(e).format()))
        return None


def run(context: Context, function: Function):
    module = function.load(context)
    if module is None:
        return context.res.text("", 503, {})
    try:
        output = module.main(context)
        if asyncio.iscoroutine(output):
            output = asyncio.run(output)
    except Exception as e:
        context.error("".join(traceback.TracebackException.from_exception(e).format()))
        return context.res.text("", 500, {})
    if output is None:
        context.error("Return statement missing. return context.res.empty() if no response is expected.")
        return context.res.text("", 500, {})
    return output


def encode_body(body) -> bytes:
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


def execute(request: dict, function: Function) -> dict:
    """One execution: its environment values set, its prints captured, its response."""
    os.environ.update(request["env"])
    logs = Logs()
    context = Context(logs)
    context.req = build_request(request)
    native = io.StringIO()
    sys.stdout = sys.stderr = native
    try:
        output = run(context, function)
    finally:
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        for key in request["env"]:
            os.environ.pop(key, None)
    if native.getvalue():
        logs.write(["Native logs detected. Use context.log() or context.error() for better experience."])
        logs.write([native.getvalue()])
    if not isinstance(output, dict):
        context.error("Invalid response: main() must return context.res.*().")
        output = context.res.text("", 500, {})
    status = output.get("statusCode", 200)
    headers = output.get("headers") or {}
    return {
        "statusCode": status if isinstance(status, int) else 500,
        "headers": {str(k): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {},
        "body": base64.b64encode(encode_body(output.get("body", ""))).decode("ascii"),
        "logs": logs.text("log"),
        "errors": logs.text("error"),
        "cpu": time.process_time(),
        "reusable": not function.failed,
    }


def read_exactly(stream, size: int) -> bytes:
    data = stream.read(size)
    return data if data is not None and len(data) == size else b""


def main() -> None:
    requests = os.fdopen(int(sys.argv[1]), "rb")
    results = os.fdopen(int(sys.argv[2]), "wb")
    sys.path.insert(0, os.getcwd())
    function = Function(os.environ.get("OPEN_RUNTIMES_ENTRYPOINT", ""))
    while True:
        header = read_exactly(requests, HEADER.size)
        if not header:
            return
        request = json.loads(read_exactly(requests, HEADER.unpack(header)[0]))
        response = json.dumps(execute(request, function)).encode("utf-8")
        results.write(HEADER.pack(len(response)) + response)
        results.flush()


main()
