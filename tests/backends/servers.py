"""Small local HTTP(S) servers for backend tests: they record every request and answer as a test scripts."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.tls import self_signed

# --- the recording server ------------------------------------------------------------------------------------------


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    target: str  # the raw request target: path and query string, still percent-encoded
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(self.target).query, keep_blank_values=True)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    body: bytes | dict | list | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (the test's end cuts it short)
    drop: bool = False  # close the connection without answering


def json_answer(status: int, data: Any, **headers: str) -> Answer:
    return Answer(status, data, headers)


def appwrite_error(status: int, error_type: str, message: str, **headers: str) -> Answer:
    return Answer(status, {"message": message, "code": status, "type": error_type, "version": "1.8.0"}, headers)


class Recorder:
    """A local HTTP(S) server: records requests, answers with `answer(seen, number)` (number from 0)."""

    def __init__(self, answer: Callable[[Seen, int], Answer], context: ssl.SSLContext | None = None) -> None:
        self.answer = answer
        self.requests: list[Seen] = []
        self.release = threading.Event()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle_one(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Seen(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic()
                )
                number = len(recorder.requests)
                recorder.requests.append(seen)
                answer = recorder.answer(seen, number)
                if answer.delay:
                    recorder.release.wait(answer.delay)
                if answer.drop:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                payload = answer.body
                headers = dict(answer.headers)
                if isinstance(payload, dict | list):
                    payload = json.dumps(payload).encode()
                    headers.setdefault("Content-Type", "application/json; charset=UTF-8")
                payload = payload or b""
                self.send_response(answer.status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_one

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if context is not None:
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()
        scheme = "https" if context else "http"
        self.endpoint = f"{scheme}://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def scripted(*answers: Answer) -> Callable[[Seen, int], Answer]:
    """Answers in order; the last one repeats."""
    return lambda seen, number: answers[min(number, len(answers) - 1)]


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def self_signed_context(directory: Path) -> ssl.SSLContext:
    """A server-side TLS context with a freshly made self-signed certificate for 127.0.0.1."""
    cert_path, key_path, _ = self_signed(directory)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context
