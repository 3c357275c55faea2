"""Long-lived HTTP servers of deployments (sites rendered on the server): one process per deployment, started on
demand on a free loopback port, confined and limited as functions are (sandbox.py), kept in a bounded pool.

A server is a shell command line (`ServerKey.command`) run in a folder of the deployment with the key's variables
plus PATH/HOME/LANG, `PORT`, `HOST` and `HOSTNAME` (both 127.0.0.1: nothing listens beyond the machine), and the
deployment's `node_modules/.bin` first on PATH. It is ready once something accepts connections on its port; one
that exits first, or is not listening after `start_timeout`, fails with its output's last lines. A server that has
died (crashed, killed, out of CPU time) is started again by the next request; `restart` stops one at once (a
request that timed out). At most `max_servers` live at once: starting one more stops the least recently used. A
server unused for `idle_seconds` exits; `retire` stops those of deployments that changed, and `close` all of them.
Servers are started from one long-lived thread, so that PR_SET_PDEATHSIG (which follows the starting thread) kills
them only when the server itself dies.
"""

from __future__ import annotations

import atexit
import contextlib
import signal
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .sandbox import Limits, PidsCgroup, Runtime, Tail, base_env, kill_group, sandboxed, signal_of

LOOPBACK = "127.0.0.1"
MAX_SERVERS = 8
IDLE_SECONDS = 300.0
START_TIMEOUT = 30.0
# A server's whole life's CPU time (RLIMIT_CPU); past it, it is killed and the next request starts it again.
CPU_SECONDS = 3600
OUTPUT_LIMIT = 16 * 1024


class ServerFailed(Exception):
    """The server could not be started (or was stopped while it started); the message says why."""


@dataclass(frozen=True)
class ServerKey:
    """What a server is started with: a change in any of it starts another in place of the deployment's old one."""

    # The deployment's code: what the sandbox confines the server to.
    directory: Path
    # Where the command starts, inside `directory`.
    cwd: Path
    command: str
    runtime: Runtime
    variables: frozenset[tuple[str, str]]
    memory_mb: int
    max_processes: int


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


class Server:
    """One server process, its port and the tail of its output."""

    def __init__(self, key: ServerKey, port: int) -> None:
        self.key = key
        self.port = port
        self.last_used = time.monotonic()
        self.stopping = threading.Lock()
        self.stopped = False
        self.cgroup = PidsCgroup.create(key.max_processes)
        base = base_env(key.runtime, key.directory)
        heap = max(16, key.memory_mb - 32)
        env = {
            **base,
            **dict(key.variables),
            "PATH": f"{key.directory / 'node_modules' / '.bin'}:{base['PATH']}",
            "PORT": str(port),
            "HOST": LOOPBACK,
            "HOSTNAME": LOOPBACK,
            "NODE_OPTIONS": f"--max-old-space-size={heap}",
        }
        try:
            self.process = subprocess.Popen(
                sandboxed(["/bin/sh", "-c", key.command], key.directory, key.runtime, key.cwd),
                cwd=key.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=Limits(key.memory_mb, CPU_SECONDS, key.max_processes, self.cgroup).apply,
            )
        except BaseException:
            if self.cgroup:
                self.cgroup.remove()
            raise
        self.output = Tail(self.process.stdout, OUTPUT_LIMIT)

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_listening(self, deadline: float) -> None:
        """Return once the port accepts connections; ServerFailed when the process exits first or past `deadline`."""
        while True:
            if not self.alive():
                self.output.join()
                raise ServerFailed(f"The site's server exited ({exit_reason(self.process.returncode)}) " + self.said())
            with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, self.port), timeout=0.5):
                return
            if time.monotonic() > deadline:
                late = f"The site's server was not listening on its PORT ({self.port}) in time. "
                raise ServerFailed(late + self.said())
            time.sleep(0.05)

    def said(self) -> str:
        output = self.output.take().decode("utf-8", "replace").strip()
        return f"Its output ends with:\n{output[-2000:]}" if output else "It wrote nothing."

    def stop(self) -> None:
        """Kill the server's whole process group (and cgroup) and reap it; once."""
        with self.stopping:
            if self.stopped:
                return
            self.stopped = True
        kill_group(self.process, self.cgroup)
        self.output.join()


def exit_reason(code: int) -> str:
    killer = signal_of(code)
    if killer == signal.SIGXCPU:
        return "CPU time limit exceeded"
    return f"killed by signal {killer}" if killer else f"exit code {code}"


class ServerPool:
    """The servers of this process (see the module's docstring for the bounds)."""

    def __init__(
        self, max_servers: int = MAX_SERVERS, idle_seconds: float = IDLE_SECONDS, start_timeout: float = START_TIMEOUT
    ) -> None:
        self.max_servers = max_servers
        self.idle_seconds = idle_seconds
        self.start_timeout = start_timeout
        self.lock = threading.Condition()
        self.servers: dict[Path, Server] = {}
        # One lock per deployment: requests arriving together wait for the one start.
        self.starts: dict[Path, threading.Lock] = {}
        # The folders retired while a start was under way (a server started for one of them is not kept).
        self.retired: list[Path] = []
        self.starting = 0
        self.starter: ThreadPoolExecutor | None = None
        self.closed = False

    def port(self, key: ServerKey) -> int:
        """The port of the deployment's running server, started now when there is none (or it died, or its key
        changed); ServerFailed when it cannot be started."""
        with self.lock:
            if self.closed:
                raise ServerFailed("The server is closing.")
            start_lock = self.starts.setdefault(key.directory, threading.Lock())
        with start_lock:
            with self.lock:
                current = self.servers.get(key.directory)
                if current is not None and current.key == key and current.alive():
                    current.last_used = time.monotonic()
                    return current.port
                stale = [self.servers.pop(key.directory)] if current is not None else []
                if len(self.servers) >= self.max_servers:
                    oldest = min(self.servers.values(), key=lambda server: server.last_used)
                    stale.append(self.servers.pop(oldest.key.directory))
                self.starting += 1
                retired_before = len(self.retired)
            try:
                for server in stale:
                    server.stop()
                server = self._start(key)
            finally:
                with self.lock:
                    self.starting -= 1
                    retired = any(key.directory.is_relative_to(folder) for folder in self.retired[retired_before:])
                    if not self.starting:
                        self.retired.clear()
            with self.lock:
                keep = not retired and not self.closed
                # Another start for the deployment (its lock was forgotten by a retire meanwhile) is replaced.
                replaced = self.servers.pop(key.directory, None)
                if keep:
                    self.servers[key.directory] = server
            if replaced is not None:
                replaced.stop()
            if not keep:
                server.stop()
                raise ServerFailed("The site's deployment changed while its server started: try again.")
            return server.port

    def _start(self, key: ServerKey) -> Server:
        with self.lock:
            if self.starter is None:
                self.starter = ThreadPoolExecutor(1, thread_name_prefix="baas-mcp-server-starter")
                threading.Thread(target=self._reap_idle, name="baas-mcp-server-reaper", daemon=True).start()
            starter = self.starter
        try:
            server = starter.submit(Server, key, free_port()).result()
        except OSError as error:
            raise ServerFailed(f"The site's server could not start: {error}") from None
        try:
            server.wait_listening(time.monotonic() + self.start_timeout)
        except ServerFailed:
            server.stop()
            raise
        return server

    def restart(self, directory: Path, port: int) -> None:
        """Stop the deployment's server listening on `port` (one that failed a request); the next request starts
        another."""
        with self.lock:
            server = self.servers.get(directory)
            if server is None or server.port != port:
                return
            del self.servers[directory]
        server.stop()

    def _reap_idle(self) -> None:
        """Stops servers unused for longer than `idle_seconds`, and forgets dead ones, until the pool closes."""
        while True:
            with self.lock:
                if self.closed:
                    return
                self.lock.wait(min(max(self.idle_seconds / 4, 0.05), 5.0))
                limit = time.monotonic() - self.idle_seconds
                expired = [s for s in self.servers.values() if s.last_used < limit or not s.alive()]
                for server in expired:
                    del self.servers[server.key.directory]
            for server in expired:
                server.stop()

    def retire(self, directory: Path) -> None:
        """Stop the servers of deployments under `directory` (and any being started for them)."""
        with self.lock:
            retired = [s for s in self.servers.values() if s.key.directory.is_relative_to(directory)]
            for server in retired:
                del self.servers[server.key.directory]
            if self.starting:
                self.retired.append(directory)
            for folder in [folder for folder in self.starts if folder.is_relative_to(directory)]:
                if not self.starts[folder].locked():
                    del self.starts[folder]
        for server in retired:
            server.stop()

    def close(self) -> None:
        """Stop every server; requests under way end as failed."""
        with self.lock:
            self.closed = True
            servers, self.servers = list(self.servers.values()), {}
            starter, self.starter = self.starter, None
            self.lock.notify_all()
        for server in servers:
            server.stop()
        if starter:
            starter.shutdown(wait=False)


SERVERS = ServerPool()
atexit.register(SERVERS.close)
