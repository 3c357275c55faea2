"""A webhook receiver for tests: an HTTP(S) server on loopback that records every delivery, checks its
signature with the secret a test gives it, and answers with the statuses a test scripts."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote_to_bytes


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes
    signed: bool  # the signature checks out with the receiver's secret
    received: float  # time.time() when it arrived

    @property
    def payload(self) -> dict:
        return json.loads(self.body)

    @property
    def events(self) -> list[str]:
        return self.headers["x-appwrite-webhook-events"].split(",")

    @property
    def delivery_id(self) -> int:
        return int(self.headers["x-appwrite-webhook-delivery-id"])


def expected_signature(secret: str, url: str, body: bytes) -> str:
    """What Appwrite's documentation tells receivers to compute."""
    digest = hmac.new(secret.encode(), unquote_to_bytes(url) + body, hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """A sender hanging up (a kept-alive connection closed, a long answer cut) is no error here."""


class Receiver:
    """Records deliveries (`deliveries`: the ones answered 2xx; `tries`: every request) at `url`.

    `script` lists the statuses to answer the next requests with (then 200); `retry_after` goes with them;
    `basic` is the "user:password" a request must carry, else 401; `delay` slows every answer; `redirects` sends
    requests for a path elsewhere; `answer` is the body of a 2xx answer."""

    def __init__(self, context: ssl.SSLContext | None = None, path: str = "/hook") -> None:
        self.secret = ""
        self.script: list[int] = []
        self.retry_after: str | None = None
        self.basic: str | None = None
        self.delay = 0.0  # seconds each answer takes
        self.redirects: dict[str, tuple[int, str]] = {}  # path -> (status, Location)
        self.answer = b"ok"  # the body of a 2xx answer
        self.tries: list[Delivery] = []
        self.deliveries: list[Delivery] = []
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {name.lower(): value for name, value in self.headers.items()}
                url = receiver.base + self.path
                signed = hmac.compare_digest(
                    headers.get("x-appwrite-webhook-signature", ""), expected_signature(receiver.secret, url, body)
                )
                delivery = Delivery(self.path, headers, body, signed, time.time())
                if self.path in receiver.redirects:
                    status, location = receiver.redirects[self.path]
                    with receiver.lock:
                        receiver.tries.append(delivery)
                    self.send_response(status)
                    self.send_header("Location", location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with receiver.lock:
                    receiver.tries.append(delivery)
                    status = receiver.script.pop(0) if receiver.script else 200
                    if receiver.basic is not None:
                        expected = "Basic " + base64.b64encode(receiver.basic.encode()).decode()
                        if headers.get("authorization") != expected:
                            status = 401
                    receiver.arrived.notify_all()
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver.lock:
                    if status < 300:
                        receiver.deliveries.append(delivery)
                    receiver.arrived.notify_all()
                answer = receiver.answer if status < 300 else b"try later"
                self.send_response(status)
                if status >= 300 and receiver.retry_after is not None:
                    self.send_header("Retry-After", receiver.retry_after)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the sender may hang up on a long answer
                    self.wfile.write(answer)

            def log_message(self, *args) -> None:
                pass

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if context is not None:
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.base = f"{'https' if context else 'http'}://127.0.0.1:{self.server.server_address[1]}"
        self.url = self.base + path
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 20.0, tries: bool = False) -> list[Delivery]:
        """Wait until `count` deliveries (or requests, with `tries`) have arrived; all of them."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.tries if tries else self.deliveries) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    got = len(self.tries if tries else self.deliveries)
                    raise AssertionError(f"{got} of {count} {'requests' if tries else 'deliveries'} arrived")
                self.arrived.wait(left)
            return list(self.tries if tries else self.deliveries)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
