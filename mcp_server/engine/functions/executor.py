"""The functions executor: unpacks a deployment, builds it, and runs its executions on warm workers.

`execute` hands an execution to the pool of warm workers (workers.py): long-lived processes of the runtime's shim
(shims/python_shim.py or shims/node_shim.js) speaking open-runtimes' context API, started and limited as sandbox.py
says. The function's variables are the worker's environment; the per-execution ones (`PER_EXECUTION`) travel with
each request instead. `retire` stops the workers, and the sites' servers (servers.py), of deployments that changed
(a new active deployment, a deleted function, site or deployment, a changed variable, a closing engine).
"""

import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

from .sandbox import Runtime, Tail, base_env
from .servers import SERVERS
from .workers import POOL, ExecutionRequest, ExecutionResult, WorkerKey, WorkerPool

LOG_LIMIT = 1024 * 1024
MAX_PROCESSES = 64
# The environment values Appwrite sets per execution rather than per function.
PER_EXECUTION = frozenset(
    {
        "APPWRITE_FUNCTION_EXECUTION_ID",
        "APPWRITE_FUNCTION_TRIGGER",
        "APPWRITE_FUNCTION_DATA",
        "APPWRITE_FUNCTION_EVENT",
        "APPWRITE_FUNCTION_EVENT_DATA",
        "APPWRITE_FUNCTION_USER_ID",
        "APPWRITE_FUNCTION_JWT",
    }
)


@dataclass(frozen=True)
class BuildResult:
    ok: bool
    log: str
    duration: float


def installed_runtimes() -> list[Runtime]:
    """The Python running the server and the `node` on PATH (if any), as Appwrite runtime ids."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    runtimes = [Runtime(f"python-{version}", "python", version, sys.executable)]
    node = shutil.which("node")
    if node:
        with contextlib.suppress(OSError):
            major = _node_major(node, os.stat(node).st_mtime_ns)
            if major.isdigit():
                runtimes.append(Runtime(f"node-{major}", "node", major, node))
    return runtimes


@functools.lru_cache(maxsize=8)
def _node_major(node: str, mtime_ns: int) -> str:
    """The major version of the `node` at this path, asked once per version of the file (by its mtime)."""
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        out = ""
    return out.lstrip("v").split(".")[0]


def extract(archive: bytes, directory: Path, max_bytes: int = 512 * 1024 * 1024, max_files: int = 20_000) -> None:
    """Unpack a .tar.gz (or .tar) into `directory`, refusing anything that would leave it or is not a plain file."""
    directory.mkdir(parents=True, exist_ok=True)
    root = directory.resolve()
    try:
        with tarfile.open(fileobj=_BytesReader(archive), mode="r:*") as tar:
            members = []
            total = 0
            for member in tar:
                members.append(member)
                if len(members) > max_files:
                    raise ValueError(f"The archive has more than {max_files} entries.")
                _check_member(member, root)
                total += member.size if member.isfile() else 0
                if total > max_bytes:
                    raise ValueError(f"The archive unpacks to more than {max_bytes} bytes.")
            tar.extractall(root, members=members, filter="data")
    except tarfile.TarError as error:
        raise ValueError(f"The archive is not a valid tar or tar.gz file: {error}") from None


def _check_member(member: tarfile.TarInfo, root: Path) -> None:
    name = member.name
    if name.startswith("/") or Path(name).is_absolute():
        raise ValueError(f"The archive entry {name!r} has an absolute path.")
    if ".." in Path(name).parts:
        raise ValueError(f"The archive entry {name!r} contains '..'.")
    if not (root / name).resolve().is_relative_to(root):
        raise ValueError(f"The archive entry {name!r} leaves the deployment directory.")
    if member.isdev() or member.isfifo():
        raise ValueError(f"The archive entry {name!r} is a device or fifo.")
    if member.issym() or member.islnk():
        target = member.linkname
        base = (root / name).parent if member.issym() else root
        if target.startswith("/") or not (base / target).resolve().is_relative_to(root):
            raise ValueError(f"The archive entry {name!r} links outside the deployment directory ({target!r}).")
    elif not (member.isfile() or member.isdir()):
        raise ValueError(f"The archive entry {name!r} is not a file or directory.")


class _BytesReader:
    """A seekable read-only view of bytes for tarfile (io.BytesIO would copy them)."""

    def __init__(self, data: bytes) -> None:
        self.view = memoryview(data)
        self.position = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.view) if size is None or size < 0 else min(len(self.view), self.position + size)
        chunk = self.view[self.position : end].tobytes()
        self.position = end
        return chunk

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.position, 2: len(self.view)}[whence]
        self.position = max(0, base + offset)
        return self.position

    def tell(self) -> int:
        return self.position


def build(
    directory: Path, commands: str, runtime: Runtime, timeout: float, env: dict[str, str] | None = None
) -> BuildResult:
    """Run a deployment's build commands (a shell script) in its directory; the log keeps the last megabyte."""
    started = time.monotonic()
    if not commands.strip():
        return BuildResult(True, "", 0.0)
    child_env = base_env(runtime, directory) | (env or {})
    process = subprocess.Popen(
        ["/bin/sh", "-c", commands],
        cwd=directory,
        env=child_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    output = Tail(process.stdout, LOG_LIMIT)
    try:
        process.wait(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        timed_out = True
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    output.join()
    log = output.take().decode("utf-8", "replace")
    if timed_out:
        log += f"\nBuild timed out after {timeout:g} seconds."
    duration = time.monotonic() - started
    return BuildResult(process.returncode == 0 and not timed_out, log, duration)


def execute(
    directory: Path,
    runtime: Runtime,
    entrypoint: str,
    request: ExecutionRequest,
    variables: dict[str, str],
    timeout: float,
    memory_mb: int,
    cpus: float,
    max_processes: int = MAX_PROCESSES,
    pool: WorkerPool = POOL,
) -> ExecutionResult:
    """Run one execution of the deployment in `directory` on a warm worker; its response, logs and errors."""
    key = WorkerKey(
        directory.resolve(),
        runtime,
        entrypoint,
        frozenset((k, v) for k, v in variables.items() if k not in PER_EXECUTION),
        memory_mb,
        cpus,
        max_processes,
    )
    per_execution = {k: v for k, v in variables.items() if k in PER_EXECUTION}
    return pool.execute(key, request, per_execution, timeout)


def retire(directory: Path, running: bool = False) -> None:
    """Stop the warm workers and the servers (servers.py) of the deployments under `directory`; with `running`, the
    workers busy with an execution too (which then ends as crashed) rather than once their execution ends."""
    POOL.retire(directory.resolve(), running)
    SERVERS.retire(directory.resolve())
