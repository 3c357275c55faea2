"""Function executions: what a user pays for `functions.createExecution` of a hello function, cold and warm.

Usage: python benchmarks/functions_bench.py [--runs 200] [--cold 10] [--seconds 5] [--callers 4]
                                            [--languages python,node]

One engine over a fresh data directory, in this process (in-process `Engine.call`, as `baas-mcp api` answers a
call), with a hello function deployed in each language (Python `main.py`, Node `index.js`, answering
`context.res.text("Hello, World!")`). For each language it prints:

1. Cold: `--cold` synchronous executions, each right after the function's warm workers were stopped (as after a
   new deployment, a changed variable or an idle worker's exit), so each starts a fresh process: p50/p99.
2. Warm: `--runs` synchronous executions on the warm worker (after 20 to warm up): p50/p99 (target p50 < 20 ms).
3. Throughput: executions/s with warm workers for `--seconds`, from one caller (one after the other) and from
   `--callers` concurrent callers (threads; more callers start more workers, up to the pool's bound).

Each execution is recorded (a row in the project's database, with its logs), as it is for a user.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

from mcp_server.engine import Engine
from mcp_server.engine.functions import executor
from mcp_server.uploads import Upload

HELLO = {
    "python": ("main.py", "def main(context):\n    return context.res.text('Hello, World!')\n"),
    "node": ("index.js", "module.exports = async (context) => context.res.text('Hello, World!');\n"),
}
WARM_UP = 20


def archive(entrypoint: str, source: str) -> Upload:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = source.encode()
        info = tarfile.TarInfo(entrypoint)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return Upload("code.tar.gz", "application/gzip", buffer.getvalue())


def runtime_id(engine: Engine, language: str) -> str:
    for runtime in engine.call("functions.listRuntimes", {})["runtimes"]:
        if runtime["$id"].startswith(language + "-"):
            return runtime["$id"]
    raise SystemExit(f"No {language} runtime on this machine.")


def deploy(engine: Engine, language: str) -> str:
    function_id = f"hello-{language}"
    entrypoint, source = HELLO[language]
    engine.call(
        "functions.create",
        {"functionId": function_id, "name": function_id, "runtime": runtime_id(engine, language), "execute": ["any"]},
    )
    deployment = engine.call(
        "functions.createDeployment",
        {"functionId": function_id, "code": archive(entrypoint, source), "entrypoint": entrypoint, "activate": True},
    )
    assert deployment["status"] == "ready", deployment["buildLogs"]
    return function_id


def execute(engine: Engine, function_id: str) -> float:
    """One synchronous execution; its wall time in seconds."""
    started = time.perf_counter()
    execution = engine.call("functions.createExecution", {"functionId": function_id})
    elapsed = time.perf_counter() - started
    assert execution["status"] == "completed" and execution["responseBody"] == "Hello, World!", execution["errors"]
    return elapsed


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered) * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms"


def throughput(engine: Engine, function_id: str, seconds: float, callers: int) -> float:
    """Executions per second completed by `callers` threads calling one after the other for `seconds`."""
    counts = [0] * callers
    deadline = time.perf_counter() + seconds

    def call(index: int) -> None:
        while time.perf_counter() < deadline:
            execute(engine, function_id)
            counts[index] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=call, args=(index,)) for index in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - started)


def bench(engine: Engine, data_dir: Path, language: str, args: argparse.Namespace) -> None:
    function_id = deploy(engine, language)
    cold = []
    for _ in range(args.cold):
        executor.retire(data_dir)
        cold.append(execute(engine, function_id))
    for _ in range(WARM_UP):
        execute(engine, function_id)
    warm = [execute(engine, function_id) for _ in range(args.runs)]
    print(f"{language:7} cold ({args.cold:4} runs)   {percentiles(cold)}")
    print(f"{language:7} warm ({args.runs:4} runs)   {percentiles(warm)}")
    sequential = throughput(engine, function_id, args.seconds, 1)
    concurrent = throughput(engine, function_id, args.seconds, args.callers)
    print(f"{language:7} warm executions/s: {sequential:7.0f} (1 caller)   {concurrent:7.0f} ({args.callers} callers)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--cold", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--callers", type=int, default=4)
    parser.add_argument("--languages", default="python,node")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="functions-bench-") as folder:
        data_dir = Path(folder) / "data"
        engine = Engine(data_dir)
        try:
            for language in args.languages.split(","):
                bench(engine, data_dir, language, args)
        finally:
            engine.close()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
