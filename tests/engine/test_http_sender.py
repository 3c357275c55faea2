"""The lean HTTP/1.1 sender of webhook deliveries (http_sender.py), against raw servers on loopback: one
kept-alive connection for many requests, a kept connection the server let go, chunked answers, bounded
answers, header injection, and the outbound rules (loopback only when allowed)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from mcp_server.engine.http_sender import Sender
from mcp_server.engine.outbound import Failed, Outbound, Refused

ANYWHERE = Outbound(allow_private=True)
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class RawServer:
    """Accepts connections and answers each request it reads with `answer(n)` (n counts requests); records
    the requests and how many connections were opened. `close_after` closes a connection after that many
    answers on it, without saying so (as a server letting an idle connection go does)."""

    def __init__(self, answer=lambda n: OK, close_after: int | None = None) -> None:
        self.answer = answer
        self.close_after = close_after
        self.requests: list[bytes] = []
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self.handle, args=(connection,), daemon=True).start()

    def handle(self, connection: socket.socket) -> None:
        answered = 0
        buffer = b""
        with connection:
            while self.close_after is None or answered < self.close_after:
                while b"\r\n\r\n" not in buffer:
                    chunk = connection.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, rest = buffer.partition(b"\r\n\r\n")
                length = int(
                    next(
                        line.split(b":")[1]
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    )
                )
                while len(rest) < length:
                    rest += connection.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + rest[:length])
                buffer = rest[length:]
                connection.sendall(self.answer(len(self.requests)))
                answered += 1

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def server() -> Iterator[RawServer]:
    served = RawServer()
    yield served
    served.close()


def post(sender: Sender, url: str, body: bytes = b"{}", **headers) -> object:
    return sender.request("POST", url, content=body, headers=headers, timeout=5, max_bytes=1024 * 1024, max_redirects=5)


def test_one_connection_carries_request_after_request(server):
    sender = Sender(ANYWHERE)
    answers = [post(sender, server.url + "/hook", b'{"n":%d}' % n) for n in range(20)]
    sender.close()
    assert [answer.status for answer in answers] == [200] * 20 and answers[0].body == b"ok"
    assert server.connections == 1 and len(server.requests) == 20
    first = server.requests[0]
    assert first.startswith(b"POST /hook HTTP/1.1\r\nHost: 127.0.0.1:") and first.endswith(b'{"n":0}')


def test_a_connection_the_server_let_go_is_replaced_without_losing_the_request():
    served = RawServer(close_after=1)
    try:
        sender = Sender(ANYWHERE)
        assert [post(sender, served.url).status for _ in range(3)] == [200, 200, 200]
        assert served.connections == 3 and len(served.requests) == 3
    finally:
        served.close()


def test_chunked_and_closing_answers_are_read_whole():
    chunked = (
        b"HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\nRetry-After: 7\r\n\r\n4\r\ntry \r\n5\r\nlater\r\n0\r\n\r\n"
    )
    served = RawServer(answer=lambda n: chunked)
    try:
        answer = post(Sender(ANYWHERE), served.url)
        assert (answer.status, answer.body, answer.headers["retry-after"]) == (503, b"try later", "7")
    finally:
        served.close()


def test_an_answer_too_large_fails_and_a_silent_server_times_out():
    served = RawServer(answer=lambda n: b"HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n" + b"x" * 3000)
    try:
        with pytest.raises(Failed, match="larger than"):
            Sender(ANYWHERE).request(
                "POST", served.url, content=b"", headers={}, timeout=5, max_bytes=1000, max_redirects=0
            )
    finally:
        served.close()
    silent = socket.create_server(("127.0.0.1", 0))
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with pytest.raises(Failed, match=r"did not answer within 0\.3 s"):
            Sender(ANYWHERE).request("POST", url, content=b"", headers={}, timeout=0.3, max_bytes=1000, max_redirects=0)
    finally:
        silent.close()


def test_header_injection_is_refused_and_paths_are_encoded(server):
    sender = Sender(ANYWHERE)
    with pytest.raises(Failed, match="line break"):
        post(sender, server.url, **{"X-Name": "a\r\nX-Evil: 1"})
    assert server.requests == []
    post(sender, server.url + "/caf\u00e9 au lait?q=a b&ok=%20")
    assert server.requests[0].startswith(b"POST /caf%C3%A9%20au%20lait?q=a%20b&ok=%20 HTTP/1.1\r\n")


def test_loopback_is_refused_unless_allowed(server):
    with pytest.raises(Refused, match="--allow-private-urls"):
        post(Sender(Outbound()), server.url)
    for url in ("ftp://example.com/", "http://", "not a url"):
        with pytest.raises(Failed):
            post(Sender(ANYWHERE), url)
    assert server.requests == []
