"""A real SMTP server on loopback for tests (aiosmtpd), keeping the messages it receives."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

# For test modules using the server: it takes logins without TLS on purpose (loopback only).
QUIET = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@dataclass
class Sink:
    """What the server received, and the login it accepts (none when `username` is empty)."""

    port: int
    username: str = ""
    password: str = ""
    received: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:
        self.received.append(message_from_bytes(envelope.content, policy=policy.default))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        accepted = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            self.username.encode(),
            self.password.encode(),
        )
        return AuthResult(success=accepted, handled=False)

    def wait_for(self, count: int, timeout: float = 15.0) -> list[EmailMessage]:
        """The messages once `count` have arrived (the test fails after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.received) >= count, f"{len(self.received)} of {count} messages arrived"
        return self.received


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_sink(username: str = "", password: str = "") -> Iterator[Sink]:
    """An SMTP server on 127.0.0.1 that takes every message (after a login, when `username` is given)."""
    sink = Sink(free_port(), username, password)
    extra = {"authenticator": sink.authenticate, "auth_require_tls": False, "auth_required": True} if username else {}
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port, **extra)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
