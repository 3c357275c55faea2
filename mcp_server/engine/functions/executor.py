"""The functions executor: unpacks a deployment, builds it, and runs one execution in a separate, limited process.

Each execution is one child process (shims/python_shim.py or shims/node_shim.js) speaking open-runtimes' contract:
the request goes in as JSON on stdin, the response comes back as JSON on a dedicated pipe, the user's prints end up in
the logs. The child sees only the function's variables plus PATH/HOME/LANG, runs in its own session, and is bounded by
POSIX limits: RLIMIT_DATA (memory; RLIMIT_AS would break Node, which reserves far more address space than it uses),
RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_NPROC (per user, so it is raised by the user's current task count; the
kernel ignores it for root, whose children go into a `pids` cgroup instead when one is writable), and a wall-clock
timeout after which the whole process group is killed. When `bwrap` is on PATH the file system is confined to the
deployment directory (system directories read-only).
"""

import base64
import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

SHIMS = Path(__file__).parent / "shims"
LOG_LIMIT = 1024 * 1024
RESULT_LIMIT = 64 * 1024 * 1024
MAX_PROCESSES = 64
FILE_SIZE_LIMIT = 256 * 1024 * 1024
OPEN_FILES = 256
PIDS_CGROUP = Path("/sys/fs/cgroup/pids")


@dataclass(frozen=True)
class Runtime:
    id: str
    language: str
    version: str
    command: str


@dataclass(frozen=True)
class BuildResult:
    ok: bool
    log: str
    duration: float


@dataclass(frozen=True)
class ExecutionRequest:
    method: str = "GET"
    path: str = "/"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class ExecutionResult:
    status_code: int
    headers: dict[str, str]
    body: bytes
    logs: str
    errors: str
    duration: float
    failure: str | None = None


def installed_runtimes() -> list[Runtime]:
    """The Python running the server and the `node` on PATH (if any), as Appwrite runtime ids."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    runtimes = [Runtime(f"python-{version}", "python", version, sys.executable)]
    node = shutil.which("node")
    if node:
        try:
            out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        major = out.lstrip("v").split(".")[0]
        if major.isdigit():
            runtimes.append(Runtime(f"node-{major}", "node", major, node))
    return runtimes


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
    child_env = _base_env(runtime, directory) | (env or {})
    process = subprocess.Popen(
        ["/bin/sh", "-c", commands],
        cwd=directory,
        env=child_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    output = _Tail(process.stdout, LOG_LIMIT)
    timed_out = _wait(process, timeout, None)
    output.join()
    log = output.data.decode("utf-8", "replace")
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
) -> ExecutionResult:
    """Run one execution of the deployment in `directory` and return its response, logs and errors."""
    started = time.monotonic()
    read_fd, write_fd = os.pipe()
    cgroup = _PidsCgroup.create(max_processes) if os.geteuid() == 0 else None
    command = _command(runtime, directory, memory_mb, write_fd)
    limits = _Limits(memory_mb, timeout * max(1.0, cpus), max_processes, cgroup)
    payload = json.dumps(
        {
            "method": request.method,
            "url": request.path or "/",
            "headers": request.headers,
            "body": base64.b64encode(request.body).decode("ascii"),
            "entrypoint": entrypoint,
        }
    ).encode("utf-8")
    env = _base_env(runtime, directory) | {
        **variables,
        "OPEN_RUNTIMES_ENTRYPOINT": entrypoint,
        "OPEN_RUNTIMES_CPUS": f"{cpus:g}",
        "OPEN_RUNTIMES_MEMORY": str(memory_mb),
    }
    try:
        process = subprocess.Popen(
            command,
            cwd=directory,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(write_fd,),
            start_new_session=True,
            preexec_fn=limits.apply,
        )
    finally:
        os.close(write_fd)
    result = _Tail(os.fdopen(read_fd, "rb"), RESULT_LIMIT)
    stdout, stderr = _Tail(process.stdout, LOG_LIMIT), _Tail(process.stderr, LOG_LIMIT)
    threading.Thread(target=_feed, args=(process.stdin, payload), daemon=True).start()
    try:
        timed_out = _wait(process, timeout, cgroup)
        for tail in (result, stdout, stderr):
            tail.join()
    finally:
        if cgroup:
            cgroup.remove()
    return _result(process, result, stderr, timed_out, timeout, time.monotonic() - started)


def _command(runtime: Runtime, directory: Path, memory_mb: int, result_fd: int) -> list[str]:
    if runtime.language == "python":
        command = [runtime.command, "-I", "-S", str(SHIMS / "python_shim.py"), str(result_fd)]
    elif runtime.language == "node":
        heap = max(16, memory_mb - 32)
        command = [runtime.command, f"--max-old-space-size={heap}", str(SHIMS / "node_shim.js"), str(result_fd)]
    else:
        raise ValueError(f"The runtime {runtime.id!r} is not supported by the local executor.")
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return command
    return [bwrap, *_bwrap_args(directory, runtime), "--", *command]


def _bwrap_args(directory: Path, runtime: Runtime) -> list[str]:
    """A bubblewrap sandbox: system directories read-only, the deployment read-write, a private /tmp, no network
    namespace change (functions may call out), a new PID namespace so nothing survives the execution."""
    args = ["--die-with-parent", "--unshare-pid", "--unshare-ipc", "--new-session", "--proc", "/proc", "--dev", "/dev"]
    for system in ("/usr", "/bin", "/lib", "/lib64", "/etc", "/sbin"):
        if Path(system).exists():
            args += ["--ro-bind", system, system]
    # The private /tmp first: what is bound after it stays visible even when it lives under /tmp.
    args += ["--tmpfs", "/tmp"]
    interpreter = Path(runtime.command)
    for extra in sorted({interpreter.parent.parent, interpreter.resolve().parent.parent, SHIMS.resolve()}):
        args += ["--ro-bind", str(extra), str(extra)]
    resolved = str(directory.resolve())
    return [*args, "--bind", resolved, resolved, "--chdir", resolved]


def _base_env(runtime: Runtime, directory: Path) -> dict[str, str]:
    interpreter_bin = str(Path(runtime.command).parent)
    return {
        "PATH": f"{interpreter_bin}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(directory),
        "LANG": "C.UTF-8",
        "TMPDIR": "/tmp",
        "PYTHONUNBUFFERED": "1",
    }


class _Limits:
    """Applied in the child between fork and exec (so: no locks, no allocation-heavy work)."""

    def __init__(self, memory_mb: int, cpu_seconds: float, max_processes: int, cgroup: "_PidsCgroup | None") -> None:
        self.memory = memory_mb * 1024 * 1024
        self.cpu = int(cpu_seconds) + 1
        self.processes = max_processes + (0 if os.geteuid() == 0 else _user_tasks())
        self.cgroup_procs = str(cgroup.path / "cgroup.procs") if cgroup else None

    def apply(self) -> None:
        if self.cgroup_procs:
            with open(self.cgroup_procs, "w") as procs:
                procs.write("0")
        resource.setrlimit(resource.RLIMIT_DATA, (self.memory, self.memory))
        resource.setrlimit(resource.RLIMIT_CPU, (self.cpu, self.cpu + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
        resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NPROC, (self.processes, self.processes))


def _user_tasks() -> int:
    """How many tasks (threads count for RLIMIT_NPROC) the current user runs now."""
    uid = os.getuid()
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry.name}/task"))
            except OSError:
                continue
    return count


class _PidsCgroup:
    """A per-execution cgroup-v1 `pids` group capping the number of tasks (RLIMIT_NPROC does not bind root)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls, max_processes: int) -> "_PidsCgroup | None":
        if not os.access(PIDS_CGROUP, os.W_OK):
            return None
        path = PIDS_CGROUP / f"baas-exec-{uuid.uuid4().hex}"
        try:
            path.mkdir()
            (path / "pids.max").write_text(str(max_processes))
        except OSError:
            return None
        return cls(path)

    def kill(self) -> None:
        for _ in range(100):
            try:
                pids = [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
            except OSError:
                return
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue
            time.sleep(0.01)

    def remove(self) -> None:
        self.kill()
        with contextlib.suppress(OSError):
            self.path.rmdir()


class _Tail:
    """Drains a pipe on a thread and keeps the last `limit` bytes of it."""

    def __init__(self, stream: IO[bytes] | None, limit: int) -> None:
        self.buffer = bytearray()
        self.overflow = False
        self.limit = limit
        self.stream = stream
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        if self.stream is None:
            return
        with self.stream:
            for chunk in iter(lambda: self.stream.read1(65536), b""):
                self.buffer += chunk
                if len(self.buffer) > self.limit:
                    self.overflow = True
                    del self.buffer[: len(self.buffer) - self.limit]

    def join(self) -> None:
        self.thread.join(timeout=5)

    @property
    def data(self) -> bytes:
        return bytes(self.buffer)


def _feed(stdin: IO[bytes] | None, payload: bytes) -> None:
    if stdin is None:
        return
    try:
        with stdin:
            stdin.write(payload)
    except (BrokenPipeError, OSError):
        return


def _wait(process: subprocess.Popen, timeout: float, cgroup: _PidsCgroup | None) -> bool:
    """Wait for the process; past the timeout kill its whole process group (and cgroup). True when it timed out."""
    try:
        process.wait(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        timed_out = True
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    if cgroup:
        cgroup.kill()
    process.wait()
    return timed_out


def _result(
    process: subprocess.Popen, result: "_Tail", stderr: "_Tail", timed_out: bool, timeout: float, duration: float
) -> ExecutionResult:
    native_errors = stderr.data.decode("utf-8", "replace")
    if timed_out:
        return _failure("timeout", f"Operation timed out after {timeout:g} seconds.", "", duration)
    code = process.returncode
    if code == 0 and result.data and not result.overflow:
        try:
            output = json.loads(result.data)
            return ExecutionResult(
                status_code=output["statusCode"],
                headers=_response_headers(output["headers"]),
                body=base64.b64decode(output["body"]),
                logs=output["logs"],
                errors=output["errors"],
                duration=duration,
            )
        except (ValueError, KeyError, TypeError):
            return _failure("crashed", "The function returned an invalid response.", native_errors, duration)
    if result.overflow:
        return _failure("crashed", "The function's response is too large.", native_errors, duration)
    if code == -signal.SIGXCPU:
        return _failure("cpu", "CPU time limit exceeded.", native_errors, duration)
    if _out_of_memory(code, native_errors):
        return _failure("memory", "Memory limit exceeded.", native_errors, duration)
    reason = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
    return _failure("crashed", f"The function process exited unexpectedly ({reason}).", native_errors, duration)


def _out_of_memory(code: int, stderr: str) -> bool:
    markers = ("MemoryError", "heap out of memory", "Fatal process OOM", "Cannot allocate memory", "Array buffer")
    return code in (-signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT) or any(m in stderr for m in markers)


def _failure(reason: str, message: str, native_errors: str, duration: float) -> ExecutionResult:
    errors = message + ("\n" + native_errors if native_errors else "")
    return ExecutionResult(500, {}, b"", "", errors, duration, failure=reason)


def _response_headers(headers: dict[str, str]) -> dict[str, str]:
    """Response headers as open-runtimes sends them: lower-case, no x-open-runtimes-*, a content-type with charset."""
    out = {k.lower(): v for k, v in headers.items() if not k.lower().startswith("x-open-runtimes-")}
    content_type = out.get("content-type", "text/plain").lower()
    if not content_type.startswith("multipart/") and "charset=" not in content_type:
        content_type += "; charset=utf-8"
    out["content-type"] = content_type
    return out
