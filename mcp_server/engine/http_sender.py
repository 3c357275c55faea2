"""A lean HTTP/1.1 sender for requests the engine sends again and again to the same place (webhook
deliveries): the whole request written at once on a kept-alive connection, the answer read with
httptools' parser, bounded in time and size.

Where a request may go is outbound.py's rule, applied the same way: a new connection goes to an
address of the host that was checked (never resolving the name again in between), TLS verifies the
certificate of the name when asked to, redirects are followed here (307 and 308 only: those keep the
method and body; other answers are final), each hop checked; an Authorization header goes only to the
first host. A connection is kept for the next request to the same scheme, host and port, so the host
is checked again whenever a connection is opened. Failures are told in outbound.py's words.
"""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import quote, urljoin, urlsplit

import httptools

from .outbound import SCHEMES, Answer, Failed, Outbound, trusted_roots, unreachable

READ_SIZE = 65_536
QUICK_ACK = getattr(socket, "TCP_QUICKACK", None)  # Linux
# What a request target keeps as it is (what is already percent-encoded stays so); anything else is encoded.
TARGET_SAFE = "/?&=%:@!$'()*+,;~-._"


@lru_cache(maxsize=1)
def unchecked_tls() -> ssl.SSLContext:
    """TLS without checking the certificate (a webhook with `tls` off, Appwrite's default)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@dataclass
class Reply:
    """An answer as httptools parses it."""

    max_bytes: int
    headers: dict[str, str] = field(default_factory=dict)
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0
    complete: bool = False
    too_large: bool = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.size > self.max_bytes:
            self.too_large = True
        else:
            self.chunks.append(body)

    def on_message_complete(self) -> None:
        self.complete = True


class Connection:
    """One open connection to a checked address of a host."""

    def __init__(self, key: tuple[str, str, int], sock: socket.socket) -> None:
        self.key = key
        self.sock = sock

    def close(self) -> None:
        self.sock.close()


class Sender:
    """Sends requests through one kept-alive connection at a time, as the engine's outbound rules allow;
    `verify` checks TLS certificates. Used from one thread at a time."""

    def __init__(self, outbound: Outbound, verify: bool = True) -> None:
        self.outbound = outbound
        self.verify = verify
        self.connection: Connection | None = None

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def request(
        self,
        method: str,
        url: str,
        *,
        content: bytes,
        headers: dict[str, str | bytes],
        timeout: float,
        max_bytes: int,
        max_redirects: int,
    ) -> Answer:
        """Send the request, following 307/308 redirects; an HTTP error status is an Answer.

        Raises Refused for an address that is not permitted, Failed for anything else that brings no answer."""
        deadline = time.monotonic() + timeout
        first_host = None
        for hop in range(max_redirects + 1):
            subject = "it" if hop == 0 else "the URL it redirects to"
            scheme, host, port, target = parts(url, subject)
            first_host = first_host or host
            if host != first_host:
                headers = {name: value for name, value in headers.items() if name.lower() != "authorization"}
            head = request_head(method, target, host, port, scheme, headers, len(content))
            status, answer_headers, body = self.exchange(
                (scheme, host, port), subject, head + content, deadline, timeout, max_bytes
            )
            if status not in (307, 308) or "location" not in answer_headers:
                return Answer(status, answer_headers.get("content-type", ""), body, url, answer_headers)
            url = urljoin(url, answer_headers["location"])
        raise Failed(f"more than {max_redirects} redirects")

    def exchange(
        self, key: tuple[str, str, int], subject: str, data: bytes, deadline: float, timeout: float, max_bytes: int
    ) -> tuple[int, dict[str, str], bytes]:
        """Write `data` and read the answer, on the kept connection when it goes to `key` (once more on a new
        one when the kept one turns out closed before any answer came)."""
        kept = self.connection is not None and self.connection.key == key
        if not kept:
            self.close()
        for fresh in (False, True) if kept else (True,):
            if fresh:
                self.close()
                self.connection = self.connect(key, subject, deadline, timeout)
            try:
                return self.send(data, deadline, timeout, max_bytes)
            except ConnectionError:
                self.close()
                if fresh:
                    raise unreachable(timeout) from None
            except Failed:
                self.close()
                raise
            except (OSError, httptools.HttpParserError):
                self.close()
                raise unreachable(timeout) from None
        raise unreachable(timeout)

    def connect(self, key: tuple[str, str, int], subject: str, deadline: float, timeout: float) -> Connection:
        scheme, host, port = key
        addresses = self.outbound.addresses(host.strip("[]"), port, deadline, timeout, subject)
        for address in addresses:
            try:
                sock = socket.create_connection((str(address), port), timeout=max(deadline - time.monotonic(), 0.001))
            except OSError:
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                context = trusted_roots() if self.verify else unchecked_tls()
                try:
                    sock = context.wrap_socket(sock, server_hostname=host.strip("[]"))
                except (OSError, ssl.SSLError):
                    sock.close()
                    raise unreachable(timeout) from None
            return Connection(key, sock)
        raise unreachable(timeout)

    def send(self, data: bytes, deadline: float, timeout: float, max_bytes: int) -> tuple[int, dict[str, str], bytes]:
        """One request on the open connection and its whole answer: status, headers, body. ConnectionError when
        the connection was found closed before any of the answer came (a kept one the server had let go)."""
        assert self.connection is not None
        sock = self.connection.sock
        sock.settimeout(max(deadline - time.monotonic(), 0.001))
        sock.sendall(data)
        reply = Reply(max_bytes)
        parser = httptools.HttpResponseParser(reply)
        received = 0
        while not reply.complete:
            left = deadline - time.monotonic()
            if left <= 0:
                raise unreachable(timeout)
            sock.settimeout(left)
            if QUICK_ACK is not None:
                # A receiver that writes its answer in pieces without TCP_NODELAY waits for our acknowledgement
                # of the first before sending the rest: acknowledge at once, not 40 ms later.
                sock.setsockopt(socket.IPPROTO_TCP, QUICK_ACK, 1)
            chunk = sock.recv(READ_SIZE)
            if not chunk:
                if received == 0:
                    raise ConnectionResetError("closed before answering")
                parser.feed_data(b"")
                if not reply.complete:
                    raise unreachable(timeout)
                break
            received += len(chunk)
            parser.feed_data(chunk)
            if reply.too_large:
                raise Failed(f"the answer is larger than {max_bytes // (1024 * 1024)} MB")
        if not keeps_alive(parser.get_http_version(), reply.headers.get("connection", "")):
            self.close()
        return parser.get_status_code(), reply.headers, b"".join(reply.chunks)


def keeps_alive(version: str, connection: str) -> bool:
    """Whether the server keeps the connection open after its answer (httptools forgets it once one is read)."""
    tokens = {token.strip().lower() for token in connection.split(",")}
    return "keep-alive" in tokens if version == "1.0" else "close" not in tokens


def parts(url: str, subject: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, request target) of an http(s) URL, or Failed saying that `subject` is not one."""
    try:
        split = urlsplit(url)
        port = split.port or SCHEMES.get(split.scheme, 0)
    except ValueError as error:
        raise Failed(f"{subject} is not a valid URL ({error})") from None
    host = split.hostname or ""
    if split.scheme not in SCHEMES or not host:
        raise Failed(f"{subject} is not an http or https URL with a host")
    if ":" in host:
        host = f"[{host}]"
    target = quote(split.path or "/", safe=TARGET_SAFE)
    if split.query:
        target += "?" + quote(split.query, safe=TARGET_SAFE)
    return split.scheme, host, port, target


def request_head(
    method: str, target: str, host: str, port: int, scheme: str, headers: dict[str, str | bytes], length: int
) -> bytes:
    """The request line and headers; a header value holding a line break is refused."""
    netloc = host if port == SCHEMES[scheme] else f"{host}:{port}"
    lines = [f"{method} {target} HTTP/1.1".encode(), b"Host: " + netloc.encode("idna")]
    for name, value in headers.items():
        raw = value if isinstance(value, bytes) else value.encode("utf-8")
        if b"\r" in raw or b"\n" in raw:
            raise Failed(f"the header {name} holds a line break")
        lines.append(name.encode("ascii") + b": " + raw)
    lines.append(b"Content-Length: " + str(length).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n"
