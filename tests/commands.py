"""Running the baas-mcp command in tests: one-shot runs, API keys, and servers in subprocesses.

Servers start on port 0 and are read from the line each prints on stderr once it listens.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

COMMAND = Path(sys.executable).with_name("baas-mcp")


def baas_mcp(
    *args: str, env: dict | None = None, timeout: float = 60, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """Run the baas-mcp command to completion."""
    return subprocess.run([str(COMMAND), *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd)


def create_key(data_dir: Path, scopes: str, *extra: str, project: str = "default") -> dict:
    """A new API key made with `baas-mcp keys create --json`: $id, name, scopes, expire, secret."""
    result = baas_mcp(
        "keys",
        "create",
        "--name",
        "test",
        "--scopes",
        scopes,
        "--data-dir",
        str(data_dir),
        "--project",
        project,
        *extra,
        "--json",
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


SERVING_LINE = re.compile(r"baas-mcp: serving http://(?P<host>[^ ]+):(?P<port>\d+)/mcp \(streamable HTTP\)")
API_LINE = re.compile(r"baas-mcp: Appwrite-compatible API at http://(?P<host>[^ ]+):(?P<port>\d+)/v1")


class LineReader:
    """Reads a pipe line by line in a thread, so a test can wait for the next line with a timeout."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self.queue: queue.Queue[str | None] = queue.Queue()
        self.thread = threading.Thread(target=self.pump, args=(stream,), daemon=True)
        self.thread.start()

    def pump(self, stream) -> None:
        for line in iter(stream.readline, ""):
            self.lines.append(line)
            self.queue.put(line)
        self.queue.put(None)

    def next_line(self, timeout: float = 20) -> str | None:
        """The next line (None at end of stream); AssertionError if none comes within `timeout` seconds."""
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line within {timeout} s; so far: {''.join(self.lines)!r}") from None

    def text(self, timeout: float = 5) -> str:
        """Everything read so far, after waiting up to `timeout` seconds for the end of the stream."""
        self.thread.join(timeout)
        return "".join(self.lines)


def serve_env(**extra: str) -> dict:
    """The environment for a `baas-mcp serve` subprocess: ours, without a key or data dir leaking in."""
    env = {name: value for name, value in os.environ.items() if name not in ("BAAS_MCP_KEY", "BAAS_MCP_DATA_DIR")}
    return env | extra


class ServeProcess:
    """A running `baas-mcp serve` (or `api`); stderr (and stdout, when piped) are read line by line in threads."""

    def __init__(
        self,
        *args: str,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        env=None,
        cwd=None,
        command: str = "serve",
        line: re.Pattern = SERVING_LINE,
    ) -> None:
        self.line = line
        self.process = subprocess.Popen(
            [str(COMMAND), command, *args],
            stdin=stdin,
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            env=env if env is not None else serve_env(),
            cwd=cwd,
        )
        self.stderr = LineReader(self.process.stderr)
        self.stdout = LineReader(self.process.stdout) if stdout == subprocess.PIPE else None
        self.port: int | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_for_serving_line(self, timeout: float = 20) -> int:
        """The port from the line the server prints on stderr once it listens."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.stderr.next_line(max(deadline - time.monotonic(), 0.01))
            if line is None:
                code = self.process.wait(5)
                raise AssertionError(f"serve exited with {code} before serving: {self.stderr.text()}")
            found = self.line.search(line)
            if found:
                self.port = int(found["port"])
                return self.port

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 10) -> int | None:
        """Ask the server to stop and wait; kill it if it does not. The exit code, or None if it had to be killed."""
        if self.process.poll() is not None:
            self.close_pipes()
            return self.process.returncode
        self.process.send_signal(signum)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            return None
        finally:
            self.close_pipes()

    def close_stdin(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.closed:
            with contextlib.suppress(OSError):
                self.process.stdin.close()

    def close_pipes(self) -> None:
        """Close stdin, and stdout/stderr once their readers have reached the end (the process has ended)."""
        self.close_stdin()
        for reader, stream in ((self.stdout, self.process.stdout), (self.stderr, self.process.stderr)):
            if reader is not None and stream is not None:
                reader.thread.join(5)
                if not reader.thread.is_alive():
                    stream.close()


def serving(served: ServeProcess) -> ServeProcess:
    """`served` once it has announced that it listens; killed if it never does."""
    try:
        served.wait_for_serving_line()
    except BaseException:
        served.stop(signal.SIGKILL)
        raise
    return served


def start_http_server(data_dir: Path, *args: str, cwd=None) -> ServeProcess:
    """`baas-mcp serve --transport http --port 0` on loopback over `data_dir`, once it has announced its port
    on stderr (it accepts connections from then on); the caller stops it (ServeProcess.stop)."""
    served = ServeProcess("--transport", "http", "--port", "0", "--data-dir", str(data_dir), *args, cwd=cwd)
    return serving(served)


def start_api_server(data_dir: Path, *args: str, cwd=None, env=None) -> ServeProcess:
    """`baas-mcp api --port 0` over `data_dir`, once it listens; `.url("/v1")` is its endpoint. Stop it with .stop()."""
    served = ServeProcess(
        "--port", "0", "--data-dir", str(data_dir), *args, cwd=cwd, env=env, command="api", line=API_LINE
    )
    return serving(served)


def serve_until_exit(*args: str, cwd=None, env=None, timeout: float = 20) -> tuple[subprocess.CompletedProcess, float]:
    """`baas-mcp serve ARGS` with stdin at end of file, run to its end: the result and how long it took (s)."""
    started = time.monotonic()
    result = subprocess.run(
        [str(COMMAND), "serve", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=env if env is not None else serve_env(),
    )
    return result, time.monotonic() - started


def expire_key(data_dir: Path, key_id: str, project: str = "default") -> None:
    """Make a key expired a minute ago, by editing the project's SQLite file directly."""
    import sqlite3
    from datetime import UTC, datetime, timedelta

    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat(timespec="milliseconds")
    connection = sqlite3.connect(data_dir / project / "project.sqlite3", timeout=10)
    try:
        with connection:
            changed = connection.execute("UPDATE _keys SET expire = ? WHERE id = ?", (past, key_id)).rowcount
    finally:
        connection.close()
    assert changed == 1, f"no key {key_id!r} in {data_dir}"


def revoke_key(data_dir: Path, key_id: str, project: str = "default") -> None:
    result = baas_mcp("keys", "revoke", key_id, "--data-dir", str(data_dir), "--project", project)
    assert result.returncode == 0, result.stderr


async def tool_names(command: str, args: list[str], env: dict, cwd: str) -> list[str]:
    """Start exactly this command line as an MCP client would (stdio), and list the server's tools."""
    from mcp import Client, StdioServerParameters

    async with Client(StdioServerParameters(command=command, args=args, env=env, cwd=cwd), mode="legacy") as client:
        return [tool.name for tool in (await client.list_tools()).tools]
