"""How a function's process is started: its command line (the runtime's shim, inside bubblewrap when `bwrap` is on
PATH), its environment, and the limits put on it between fork and exec.

The child sees only the function's variables plus PATH/HOME/LANG, runs in its own session, and is bounded by POSIX
limits: RLIMIT_DATA (memory; RLIMIT_AS would break Node, which reserves far more address space than it uses),
RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_NPROC (per user, so it is raised by the user's current task count; the
kernel ignores it for root, whose children go into a `pids` cgroup instead when one is writable). It is killed when the
thread that started it ends (PR_SET_PDEATHSIG), so a server killed outright leaves none behind. Under bubblewrap the
file system is confined to the deployment directory (system directories read-only) in a PID namespace of its own.
"""

import contextlib
import ctypes
import os
import resource
import shutil
import signal
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO

SHIMS = Path(__file__).parent / "shims"
FILE_SIZE_LIMIT = 256 * 1024 * 1024
OPEN_FILES = 256
PIDS_CGROUP = Path("/sys/fs/cgroup/pids")
PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True)


@dataclass(frozen=True)
class Runtime:
    id: str
    language: str
    version: str
    command: str


def command(runtime: Runtime, directory: Path, memory_mb: int, request_fd: int, result_fd: int) -> list[str]:
    """The command line of a worker serving executions: requests come on `request_fd`, responses go to `result_fd`."""
    fds = [str(request_fd), str(result_fd)]
    if runtime.language == "python":
        line = [runtime.command, "-I", "-S", str(SHIMS / "python_shim.py"), *fds]
    elif runtime.language == "node":
        heap = max(16, memory_mb - 32)
        line = [runtime.command, f"--max-old-space-size={heap}", str(SHIMS / "node_shim.js"), *fds]
    else:
        raise ValueError(f"The runtime {runtime.id!r} is not supported by the local executor.")
    return sandboxed(line, directory, runtime)


def sandboxed(line: list[str], directory: Path, runtime: Runtime, cwd: Path | None = None) -> list[str]:
    """`line` inside bubblewrap (when `bwrap` is on PATH), confined to `directory` and starting in `cwd` (a folder
    inside it; `directory` itself by default)."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return line
    return [bwrap, *_bwrap_args(directory, runtime, cwd or directory), "--", *line]


def _bwrap_args(directory: Path, runtime: Runtime, cwd: Path) -> list[str]:
    """A bubblewrap sandbox: system directories read-only, the deployment read-write, a private /tmp, no network
    namespace change (functions may call out), a new PID namespace so nothing survives the worker."""
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
    return [*args, "--bind", resolved, resolved, "--chdir", str(cwd.resolve())]


def base_env(runtime: Runtime, directory: Path) -> dict[str, str]:
    interpreter_bin = str(Path(runtime.command).parent)
    return {
        "PATH": f"{interpreter_bin}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(directory),
        "LANG": "C.UTF-8",
        "TMPDIR": "/tmp",
        "PYTHONUNBUFFERED": "1",
    }


class Limits:
    """Applied in the child between fork and exec (so: no locks, no allocation-heavy work)."""

    def __init__(self, memory_mb: int, cpu_seconds: int, max_processes: int, cgroup: "PidsCgroup | None") -> None:
        self.memory = memory_mb * 1024 * 1024
        self.cpu = cpu_seconds
        self.processes = max_processes + (0 if os.geteuid() == 0 else user_tasks())
        self.cgroup_procs = str(cgroup.path / "cgroup.procs") if cgroup else None
        self.parent = os.getpid()

    def apply(self) -> None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != self.parent:
            os._exit(1)
        if self.cgroup_procs:
            with open(self.cgroup_procs, "w") as procs:
                procs.write("0")
        resource.setrlimit(resource.RLIMIT_DATA, (self.memory, self.memory))
        resource.setrlimit(resource.RLIMIT_CPU, (self.cpu, self.cpu + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
        resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NPROC, (self.processes, self.processes))


def user_tasks() -> int:
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


class PidsCgroup:
    """A cgroup-v1 `pids` group capping the number of tasks of one process tree (RLIMIT_NPROC does not bind root)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls, max_processes: int) -> "PidsCgroup | None":
        if os.geteuid() != 0 or not os.access(PIDS_CGROUP, os.W_OK):
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


def signal_of(code: int) -> int | None:
    """The signal that ended a process: a negative exit status, or 128 + the signal as bubblewrap (like a shell)
    reports its child's."""
    if code < 0:
        return -code
    return code - 128 if 128 < code < 128 + signal.NSIG else None


def kill_group(process, cgroup: "PidsCgroup | None") -> None:
    """Kill a sandboxed process's whole group (and cgroup), and reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    if cgroup:
        cgroup.remove()
    process.wait()


class Tail:
    """Drains a pipe on a thread and keeps the last `limit` bytes of it; `take` hands them over and starts afresh."""

    def __init__(self, stream: IO[bytes] | None, limit: int) -> None:
        self.buffer = bytearray()
        self.lock = threading.Lock()
        self.limit = limit
        self.stream = stream
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        if self.stream is None:
            return
        with self.stream:
            for chunk in iter(lambda: self.stream.read1(65536), b""):
                with self.lock:
                    self.buffer += chunk
                    if len(self.buffer) > self.limit:
                        del self.buffer[: len(self.buffer) - self.limit]

    def join(self) -> None:
        self.thread.join(timeout=5)

    def take(self) -> bytes:
        with self.lock:
            data = bytes(self.buffer)
            self.buffer.clear()
        return data
