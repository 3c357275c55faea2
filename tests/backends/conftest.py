"""Fixtures for backend tests: anyio on asyncio, recording servers, a self-signed TLS context."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator

import pytest

from tests.backends.servers import Answer, Recorder, Seen, scripted, self_signed_context


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def serve() -> Iterator[Callable[..., Recorder]]:
    started: list[Recorder] = []

    def start(answer: Callable[[Seen, int], Answer] | Answer, context: ssl.SSLContext | None = None) -> Recorder:
        recorder = Recorder(answer if callable(answer) else scripted(answer), context)
        started.append(recorder)
        return recorder

    yield start
    for recorder in started:
        recorder.close()


@pytest.fixture(scope="session")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    """A server-side TLS context with a freshly made self-signed certificate for 127.0.0.1."""
    return self_signed_context(tmp_path_factory.mktemp("tls"))
