"""Warm workers: long-lived function processes, each serving one execution at a time, kept in a bounded pool.

A worker is the runtime's shim (shims/python_shim.py, shims/node_shim.js) started once for a deployment with the
function's variables and limits (`WorkerKey`); it loads the user's module on its first execution and keeps it, so
module-level state persists between executions, as it does in Appwrite's open-runtimes server. Requests go to the worker
as frames (a 4-byte big-endian length, then JSON) on one pipe and responses come back the same way on another; the
per-execution environment values (`APPWRITE_FUNCTION_EXECUTION_ID`...) travel with the request, and each response
carries its own execution's logs and errors.

An execution that overruns its timeout gets the worker's whole process group (and cgroup) killed and the worker
dropped; one that crashes its worker (memory exhausted, exit()) fails alone: the next execution gets a fresh worker.
A worker is recycled after `max_executions` executions and before its CPU budget (RLIMIT_CPU counts a process's whole
life) could cut an execution short, and exits after `idle_seconds` without work. At most `max_workers` workers live
at once: a call that finds none free starts one, evicting the least recently used idle worker when the pool is full,
or waits for one to be free. Workers are started from one long-lived thread, so that PR_SET_PDEATHSIG (which follows
the starting thread) kills them only when the server itself dies.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import json
import os
import queue
import signal
import struct
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .sandbox import Limits, PidsCgroup, Runtime, Tail, base_env, command, kill_group, signal_of

LOG_LIMIT = 1024 * 1024
RESULT_LIMIT = 64 * 1024 * 1024
MAX_WORKERS = 8
IDLE_SECONDS = 300.0
MAX_EXECUTIONS = 1000
# A worker's RLIMIT_CPU is this many times one execution's CPU allowance (timeout x CPUs).
CPU_BUDGET_FACTOR = 8
HEADER = struct.Struct(">I")


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


@dataclass(frozen=True)
class WorkerKey:
    """What a worker is started with: executions differing in any of it never share a worker."""

    directory: Path
    runtime: Runtime
    entrypoint: str
    variables: frozenset[tuple[str, str]]
    memory_mb: int
    cpus: float
    max_processes: int


class Worker:
    """One worker process and its pipes."""

    def __init__(self, key: WorkerKey, cpu_budget: int) -> None:
        self.key = key
        self.cpu_budget = cpu_budget
        self.cpu_used = 0.0
        self.executions = 0
        self.last_used = time.monotonic()
        self.retired = False
        self.stopping = threading.Lock()
        self.stopped = False
        self.cgroup = PidsCgroup.create(key.max_processes)
        request_read, request_write = os.pipe()
        result_read, result_write = os.pipe()
        env = base_env(key.runtime, key.directory) | {
            **dict(key.variables),
            "OPEN_RUNTIMES_ENTRYPOINT": key.entrypoint,
            "OPEN_RUNTIMES_CPUS": f"{key.cpus:g}",
            "OPEN_RUNTIMES_MEMORY": str(key.memory_mb),
        }
        try:
            self.process = subprocess.Popen(
                command(key.runtime, key.directory, key.memory_mb, request_read, result_write),
                cwd=key.directory,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                pass_fds=(request_read, result_write),
                start_new_session=True,
                preexec_fn=Limits(key.memory_mb, self.cpu_budget, key.max_processes, self.cgroup).apply,
            )
        except BaseException:
            for fd in (request_write, result_read):
                os.close(fd)
            if self.cgroup:
                self.cgroup.remove()
            raise
        finally:
            os.close(request_read)
            os.close(result_write)
        self.requests = os.fdopen(request_write, "wb")
        self.responses: queue.Queue[bytes | None] = queue.Queue()
        self.stderr = Tail(self.process.stderr, LOG_LIMIT)
        threading.Thread(target=self._read, args=(result_read,), name="baas-mcp-worker-reader", daemon=True).start()

    def _read(self, fd: int) -> None:
        """Puts each response frame on the queue, then None once the worker closed its end (or sent too much)."""
        with os.fdopen(fd, "rb") as stream:
            while True:
                header = stream.read(HEADER.size)
                if len(header) < HEADER.size:
                    break
                (size,) = HEADER.unpack(header)
                if size > RESULT_LIMIT:
                    self.responses.put(b"")
                    break
                frame = stream.read(size)
                if len(frame) < size:
                    break
                self.responses.put(frame)
        self.responses.put(None)

    def alive(self) -> bool:
        return self.process.poll() is None and self.responses.empty()

    def fits(self, cpu_allowance: float) -> bool:
        """Whether the worker can take one more execution without its CPU budget or its life running out."""
        return self.cpu_used + cpu_allowance + 1 <= self.cpu_budget

    def exchange(self, payload: bytes, timeout: float) -> bytes | None:
        """Send one request and wait for its response: None when the worker ended; TimeoutError past `timeout`."""
        self.stderr.take()
        try:
            self.requests.write(HEADER.pack(len(payload)) + payload)
            self.requests.flush()
        except OSError:
            return None
        try:
            return self.responses.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError from None

    def stop(self) -> None:
        """Kill the worker's whole process group (and cgroup) and reap it; once."""
        with self.stopping:
            if self.stopped:
                return
            self.stopped = True
        kill_group(self.process, self.cgroup)
        with contextlib.suppress(OSError):
            self.requests.close()
        self.stderr.join()


class WorkerPool:
    """The workers of this process (see the module's docstring for the bounds)."""

    def __init__(
        self,
        max_workers: int = MAX_WORKERS,
        idle_seconds: float = IDLE_SECONDS,
        max_executions: int = MAX_EXECUTIONS,
        cpu_budget_factor: float = CPU_BUDGET_FACTOR,
    ) -> None:
        self.max_workers = max_workers
        self.idle_seconds = idle_seconds
        self.max_executions = max_executions
        self.cpu_budget_factor = cpu_budget_factor
        self.changed = threading.Condition()
        self.idle: list[Worker] = []
        self.busy: set[Worker] = set()
        self.starting = 0
        self.starter: ThreadPoolExecutor | None = None
        self.closed = False

    def execute(
        self, key: WorkerKey, request: ExecutionRequest, per_execution: dict[str, str], timeout: float
    ) -> ExecutionResult:
        """Run one execution on a free worker of `key` and return its response, logs and errors."""
        started = time.monotonic()
        allowance = timeout * max(1.0, key.cpus)
        payload = json.dumps(
            {
                "method": request.method,
                "url": request.path or "/",
                "headers": request.headers,
                "body": base64.b64encode(request.body).decode("ascii"),
                "env": per_execution,
            }
        ).encode("utf-8")
        message = f"Operation timed out after {timeout:g} seconds."
        try:
            worker = self._acquire(key, allowance, started + timeout)
        except TimeoutError:
            return _failure("timeout", message, "", time.monotonic() - started)
        except OSError as error:
            return _failure("crashed", f"The function process could not start: {error}", "", 0.0)
        try:
            frame = worker.exchange(payload, max(0.0, started + timeout - time.monotonic()))
        except TimeoutError:
            self._drop(worker)
            return _failure("timeout", message, "", time.monotonic() - started)
        duration = time.monotonic() - started
        with contextlib.suppress(ValueError, KeyError, TypeError, AttributeError):
            output = json.loads(frame or b"")
            result = ExecutionResult(
                status_code=output["statusCode"],
                headers=_response_headers(output["headers"]),
                body=base64.b64decode(output["body"]),
                logs=output["logs"],
                errors=output["errors"],
                duration=duration,
            )
            worker.cpu_used = float(output["cpu"])
            self._release(worker, bool(output["reusable"]))
            return result
        if frame is None:
            # The worker closed its end: give it a moment to exit so that its exit status tells why.
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.process.wait(timeout=2)
        self._drop(worker)
        native_errors = worker.stderr.take().decode("utf-8", "replace")
        if frame == b"":
            return _failure("crashed", "The function's response is too large.", native_errors, duration)
        if frame is not None:
            return _failure("crashed", "The function returned an invalid response.", native_errors, duration)
        return _crash(worker.process.returncode, native_errors, duration)

    def _acquire(self, key: WorkerKey, allowance: float, deadline: float) -> Worker:
        """A free worker of `key`: an idle one, or one started now (evicting the least recently used idle worker
        when the pool is full), waiting until `deadline` while every worker is busy."""
        while True:
            with self.changed:
                if self.closed:
                    raise OSError("the server is closing")
                stale = [w for w in self.idle if not w.alive() or (w.key == key and not w.fits(allowance))]
                usable = [w for w in self.idle if w not in stale]
                mine = [w for w in usable if w.key == key]
                worker = mine[-1] if mine else None
                full = worker is None and len(usable) + len(self.busy) + self.starting >= self.max_workers
                if full and usable:
                    stale.append(usable.pop(0))
                    full = False
                if full and not stale:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise TimeoutError
                    self.changed.wait(remaining)
                    continue
                self.idle = [w for w in usable if w is not worker]
                if worker is not None:
                    self.busy.add(worker)
                elif not full:
                    self.starting += 1
            for old in stale:
                old.stop()
            if worker is not None:
                return worker
            if not full:
                return self._start(key, allowance)

    def _start(self, key: WorkerKey, allowance: float) -> Worker:
        try:
            with self.changed:
                if self.starter is None:
                    self.starter = ThreadPoolExecutor(1, thread_name_prefix="baas-mcp-worker-starter")
                    threading.Thread(target=self._reap_idle, name="baas-mcp-worker-reaper", daemon=True).start()
                starter = self.starter
            budget = int(allowance * self.cpu_budget_factor) + 1
            worker = starter.submit(Worker, key, budget).result()
        except BaseException:
            with self.changed:
                self.starting -= 1
                self.changed.notify_all()
            raise
        with self.changed:
            self.starting -= 1
            self.busy.add(worker)
        return worker

    def _release(self, worker: Worker, reusable: bool) -> None:
        worker.executions += 1
        worker.last_used = time.monotonic()
        with self.changed:
            self.busy.discard(worker)
            keep = reusable and not worker.retired and not self.closed and worker.executions < self.max_executions
            if keep:
                self.idle.append(worker)
            self.changed.notify_all()
        if not keep:
            worker.stop()

    def _drop(self, worker: Worker) -> None:
        worker.stop()
        with self.changed:
            self.busy.discard(worker)
            self.changed.notify_all()

    def _reap_idle(self) -> None:
        """Stops workers idle for longer than `idle_seconds`, until the pool closes."""
        while True:
            with self.changed:
                if self.closed:
                    return
                self.changed.wait(min(max(self.idle_seconds / 4, 0.05), 5.0))
                limit = time.monotonic() - self.idle_seconds
                expired = [w for w in self.idle if w.last_used < limit]
                self.idle = [w for w in self.idle if w not in expired]
            for worker in expired:
                worker.stop()

    def retire(self, directory: Path, running: bool = False) -> None:
        """Stop the workers of deployments under `directory`: idle ones now, busy ones when their execution ends,
        or now too when `running` (their executions end as crashed)."""
        with self.changed:
            retired = [w for w in self.idle if w.key.directory.is_relative_to(directory)]
            self.idle = [w for w in self.idle if w not in retired]
            for worker in self.busy:
                if worker.key.directory.is_relative_to(directory):
                    worker.retired = True
                    if running:
                        retired.append(worker)
        for worker in retired:
            worker.stop()

    def close(self) -> None:
        """Stop every worker; executions under way end as crashed."""
        with self.changed:
            self.closed = True
            workers, self.idle = [*self.idle, *self.busy], []
            starter, self.starter = self.starter, None
            self.changed.notify_all()
        for worker in workers:
            worker.stop()
        if starter:
            starter.shutdown(wait=False)


def _crash(code: int, native_errors: str, duration: float) -> ExecutionResult:
    killer = signal_of(code)
    if killer == signal.SIGXCPU:
        return _failure("cpu", "CPU time limit exceeded.", native_errors, duration)
    if _out_of_memory(killer, native_errors):
        return _failure("memory", "Memory limit exceeded.", native_errors, duration)
    reason = f"killed by signal {killer}" if killer else f"exit code {code}"
    return _failure("crashed", f"The function process exited unexpectedly ({reason}).", native_errors, duration)


def _out_of_memory(killer: int | None, stderr: str) -> bool:
    markers = ("MemoryError", "heap out of memory", "Fatal process OOM", "Cannot allocate memory", "Array buffer")
    return killer in (signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT) or any(m in stderr for m in markers)


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


POOL = WorkerPool()
atexit.register(POOL.close)
