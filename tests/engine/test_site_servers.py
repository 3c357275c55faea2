"""The pool of sites' servers (functions/servers.py) with small bounds of its own: a server is started once and
reused, the pool holds at most `max_servers` (the least recently used goes), an idle server exits, a server that
changed its key replaces the old one, and a command that never listens fails with its output. Real processes on
loopback; they are found in /proc by their working directory."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from mcp_server.engine.functions.executor import installed_runtimes
from mcp_server.engine.functions.servers import ServerFailed, ServerKey, ServerPool
from tests.rest.test_sites_ssr import gone, processes_under

RUNTIMES = {runtime.language: runtime for runtime in installed_runtimes()}
pytestmark = pytest.mark.skipif("node" not in RUNTIMES, reason="node is not installed")

SERVER = """
require("http").createServer((request, response) => response.end(process.env.WHO))
  .listen(Number(process.env.PORT), process.env.HOST);
"""


def key(folder: Path, who: str = "one", command: str = "node server.js") -> ServerKey:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "server.js").write_text(SERVER)
    return ServerKey(folder.resolve(), folder.resolve(), command, RUNTIMES["node"], frozenset({("WHO", who)}), 512, 64)


def ask(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer.partition(b"\r\n\r\n")[2].decode()


@pytest.fixture
def pool():
    servers = ServerPool(max_servers=2, idle_seconds=60, start_timeout=10)
    yield servers
    servers.close()


def test_a_server_is_started_once_and_reused(pool, tmp_path):
    first = pool.port(key(tmp_path / "a"))
    assert ask(first) == "one" and pool.port(key(tmp_path / "a")) == first
    assert len(processes_under(tmp_path / "a")) >= 1


def test_a_changed_key_replaces_the_deployments_server(pool, tmp_path):
    old = pool.port(key(tmp_path / "a"))
    new = pool.port(key(tmp_path / "a", who="two"))
    assert ask(new) == "two" and new != old
    with pytest.raises(OSError):
        ask(old)


def test_the_pool_keeps_at_most_max_servers_stopping_the_least_recently_used(pool, tmp_path):
    for name in ("a", "b", "c"):
        pool.port(key(tmp_path / name))
    assert gone(tmp_path / "a")
    assert processes_under(tmp_path / "b") and processes_under(tmp_path / "c")


def test_an_idle_server_exits(tmp_path):
    servers = ServerPool(max_servers=2, idle_seconds=0.2, start_timeout=10)
    try:
        servers.port(key(tmp_path / "a"))
        assert gone(tmp_path / "a")
    finally:
        servers.close()


def test_a_server_that_never_listens_fails_with_its_output_and_leaves_nothing(tmp_path):
    servers = ServerPool(max_servers=2, idle_seconds=60, start_timeout=0.5)
    try:
        with pytest.raises(ServerFailed, match=r"(?s)not listening on its PORT.*waiting"):
            servers.port(key(tmp_path / "a", command="echo waiting; sleep 30"))
        assert gone(tmp_path / "a")
        with pytest.raises(ServerFailed, match="exit code 5"):
            servers.port(key(tmp_path / "b", command="exit 5"))
    finally:
        servers.close()


def test_retire_and_close_stop_the_servers(tmp_path):
    servers = ServerPool(max_servers=4, idle_seconds=60, start_timeout=10)
    servers.port(key(tmp_path / "site" / "a"))
    servers.port(key(tmp_path / "other"))
    servers.retire((tmp_path / "site").resolve())
    assert gone(tmp_path / "site") and processes_under(tmp_path / "other")
    servers.close()
    assert gone(tmp_path / "other")
    with pytest.raises(ServerFailed, match="closing"):
        servers.port(key(tmp_path / "other"))
