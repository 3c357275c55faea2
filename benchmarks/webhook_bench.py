"""Webhook delivery under load: how soon a receiver hears a committed create at a sustained rate, and what
delivering costs the creates.

Usage: python benchmarks/webhook_bench.py [--rate 1000] [--seconds 10] [--max-seconds 5] [--rounds 3]
                                          [--host 127.0.0.1] [--worker process|in-process]

Each measurement runs in a fresh process over a fresh data directory, as `baas-mcp api` runs: the engine
answers `tablesDB.createRow` calls (in-process `Engine.call`, from one thread) while the delivery process
that `baas-mcp api` and `serve` start (`baas-mcp webhooks deliver`, background.py) delivers the webhooks.
`--worker in-process` delivers from `Engine.run_background()` in the engine's own asyncio loop instead (the
interpreter lock shared with the creates). The webhook (one, subscribed to
`databases.*.tables.*.rows.*.create`, with --allow-private-urls) posts to a receiver in another process
(a bare asyncio HTTP/1.1 server that stamps each request with time.time() when its body has arrived), so
the receiver does not compete with the engine for its GIL. The webhook's URL names the receiver by
`--host`: an address (the default) or a name such as `localhost`, which is looked up for each new
connection.

1. Sustained: `--rate` creates per second for `--seconds`, paced by the clock. The lag of a delivery is
   from the create's return (its commit, time.time()) to its arrival at the receiver. Prints lag p50/p99
   (target p99 < 250 ms), creates/s and deliveries/s achieved, the backlog when the creates end and how
   long the worker took to clear it.
2. Cost: creates as fast as one thread can for `--max-seconds`, with no webhook and with the webhook being
   delivered (the worker runs in both), alternated over `--rounds` rounds; prints the medians and
   cost = 1 - with/without (target <= 15%).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

from mcp_server.background import run_worker_process
from mcp_server.engine import Engine
from mcp_server.engine.event_stream import EventReader

DB = {"databaseId": "bench"}
COLUMNS = [
    {"key": "title", "type": "varchar", "size": 100, "required": True},
    {"key": "category", "type": "integer", "required": True},
]
EVENTS = ["databases.*.tables.*.rows.*.create"]
WARM_UP = 50  # creates delivered before measuring (the worker started, its connection open)
DRAIN_LIMIT = 30.0  # seconds the sustained run waits for the worker to clear its backlog
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


async def receive(out: Path) -> None:
    """Answer every POST with 200 and note (row id, time.time() of arrival); write them to `out` on SIGTERM."""
    arrivals: list[tuple[float, bytes]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                body = await reader.readexactly(length)
                arrivals.append((time.time(), body))
                writer.write(OK)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await stop.wait()
    server.close()
    out.write_text(json.dumps([[json.loads(body)["$id"], moment] for moment, body in arrivals]))


class Receiver:
    """The receiver process, and what it heard once stopped: arrival time by row id."""

    def __init__(self, folder: Path, host: str) -> None:
        self.out = folder / "arrivals.json"
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--receiver", str(self.out)], stdout=subprocess.PIPE, text=True
        )
        self.url = f"http://{host}:{int(self.process.stdout.readline())}/hook"

    def stop(self) -> dict[str, float]:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        return dict(json.loads(self.out.read_text()))


def create(engine: Engine, row_id: str, number: int) -> None:
    engine.call(
        "tablesDB.createRow",
        {**DB, "tableId": "t", "rowId": row_id, "data": {"title": f"item {number}", "category": number % 1000}},
    )


def paced_creates(engine: Engine, rate: float, count: int) -> dict[str, float]:
    """`count` creates at `rate` per second (catching up when late); time.time() of each return by row id."""
    returned: dict[str, float] = {}
    start = time.perf_counter()
    for number in range(count):
        delay = start + number / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        create(engine, f"r{number}", number)
        returned[f"r{number}"] = time.time()
    return returned


def fast_creates(engine: Engine, seconds: float) -> dict[str, float]:
    """Creates one after the other for `seconds`; time.time() of each return by row id."""
    returned: dict[str, float] = {}
    deadline = time.perf_counter() + seconds
    number = 0
    while time.perf_counter() < deadline:
        create(engine, f"r{number}", number)
        returned[f"r{number}"] = time.time()
        number += 1
    return returned


async def caught_up(reader: EventReader, engine: Engine, limit: float) -> bool:
    """Wait until the webhook's cursor has passed every event committed so far (or `limit` seconds)."""
    deadline = time.monotonic() + limit
    last = engine.project().events.last()
    while reader.position() < last:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


@contextlib.asynccontextmanager
async def delivering(engine: Engine, worker: str) -> AsyncIterator[None]:
    """The webhooks delivered while the block runs: by the delivery process `baas-mcp api` and `serve` start
    (background.py), or by the engine's background task in this process's loop."""
    if worker == "process":
        background = asyncio.create_task(run_worker_process(engine.data_dir, True, lambda: True))
    else:
        background = asyncio.create_task(engine.run_background())
    try:
        yield
    finally:
        background.cancel()
        await asyncio.gather(background, return_exceptions=True)


async def measure(engine: Engine, url: str | None, work, drain: bool, worker: str) -> dict:
    """Run `work(engine)` in a thread while the webhooks are delivered."""
    reader = EventReader(engine.project(), "webhook:bench")
    async with delivering(engine, worker):
        if url is not None:
            engine.call("webhooks.create", {"webhookId": "bench", "name": "Bench", "url": url, "events": EVENTS})
            for number in range(WARM_UP):
                create(engine, f"w{number}", number)
            if not await caught_up(reader, engine, 30):
                raise SystemExit("the webhook worker did not deliver the warm-up creates")
        started = time.time()
        returned = await asyncio.to_thread(work, engine)
        ended = time.time()
        drained = None
        if url is not None and drain:
            drained = time.time() - ended if await caught_up(reader, engine, DRAIN_LIMIT) else None
        return {"returned": returned, "started": started, "ended": ended, "drained": drained}


def run(mode: str, rate: float, seconds: float, host: str, worker: str) -> dict:
    """One measurement in this process: `sustained`, `with` or `without` (a webhook), over a fresh data dir."""
    with tempfile.TemporaryDirectory() as folder:
        receiver = Receiver(Path(folder), host) if mode != "without" else None
        engine = Engine(Path(folder) / "data", allow_private_urls=True)
        try:
            engine.call("tablesDB.create", {**DB, "name": "Bench"})
            engine.call("tablesDB.createTable", {**DB, "tableId": "t", "name": "T", "columns": COLUMNS})
            if mode == "sustained":
                count = int(rate * seconds)
                work = partial(paced_creates, rate=rate, count=count)
                result = asyncio.run(measure(engine, receiver.url, work, True, worker))
            else:
                url = receiver.url if receiver else None
                work = partial(fast_creates, seconds=seconds)
                result = asyncio.run(measure(engine, url, work, False, worker))
        finally:
            engine.close()
            arrivals = receiver.stop() if receiver else {}
    return figures(result, arrivals)


def figures(result: dict, arrivals: dict[str, float]) -> dict:
    returned, started, ended = result["returned"], result["started"], result["ended"]
    window = ended - started
    lags = [max(0.0, arrivals[row] - moment) * 1000 for row, moment in returned.items() if row in arrivals]
    on_time = sum(1 for row in returned if arrivals.get(row, float("inf")) <= ended)
    return {
        "creates": len(returned),
        "creates_per_s": len(returned) / window,
        "deliveries_per_s": sum(1 for row, moment in arrivals.items() if row[0] == "r" and moment <= ended) / window,
        "backlog": len(returned) - on_time,
        "delivered": len(lags),
        "drained": result["drained"],
        "lags": lags,
    }


def in_process(mode: str, args: argparse.Namespace, seconds: float) -> dict:
    options = ["--rate", str(args.rate), "--seconds", str(seconds), "--host", args.host, "--worker", args.worker]
    output = subprocess.run(
        [sys.executable, __file__, "--run", mode, *options],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output)


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100)[int(share * 100) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=1000, help="creates per second of the sustained run")
    parser.add_argument("--seconds", type=float, default=10, help="length of the sustained run")
    parser.add_argument("--max-seconds", type=float, default=5, help="length of each as-fast-as-possible run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the cost runs, with and without alternated")
    parser.add_argument("--host", default="127.0.0.1", help="the receiver's host in the webhook's URL")
    parser.add_argument(
        "--worker", choices=["process", "in-process"], default="process", help="where the webhooks are delivered"
    )
    parser.add_argument("--receiver", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--run", choices=["sustained", "with", "without"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receiver:
        asyncio.run(receive(args.receiver))
        return
    if args.run:
        print(json.dumps(run(args.run, args.rate, args.seconds, args.host, args.worker)))
        return

    sustained = in_process("sustained", args, args.seconds)
    lags = sustained["lags"]
    cleared = f"not in {DRAIN_LIMIT:g} s" if sustained["drained"] is None else f"{sustained['drained']:.2f} s"
    kept_up = sustained["creates_per_s"] >= 0.99 * args.rate and sustained["backlog"] <= args.rate * 0.25
    print(f"Sustained {args.rate:,.0f} creates/s for {args.seconds:g} s, one webhook delivered to http://{args.host}, "
          f"worker {args.worker}")
    print("| creates/s | deliveries/s | backlog at end | cleared in | lag p50 | lag p99 | max |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(
        f"| {sustained['creates_per_s']:,.0f} | {sustained['deliveries_per_s']:,.0f} | {sustained['backlog']:,} "
        f"| {cleared} "
        f"| {percentile(lags, 0.5):.1f} ms | {percentile(lags, 0.99):.1f} ms | {max(lags):.1f} ms |"
    )
    print(
        f"{'kept up' if kept_up else 'NOT kept up'}; {sustained['delivered']:,} of {sustained['creates']:,} "
        f"delivered; target p99 < 250 ms: {'met' if percentile(lags, 0.99) < 250 else 'MISSED'}"
    )

    without, with_webhook, delivered, backlog = [], [], [], []
    for _ in range(args.rounds):
        without.append(in_process("without", args, args.max_seconds)["creates_per_s"])
        measured = in_process("with", args, args.max_seconds)
        with_webhook.append(measured["creates_per_s"])
        delivered.append(measured["deliveries_per_s"])
        backlog.append(measured["backlog"])
    rate_without, rate_with = statistics.median(without), statistics.median(with_webhook)
    cost = (1 - rate_with / rate_without) * 100
    print(f"\nCreates as fast as possible, {args.max_seconds:g} s each, median of {args.rounds} rounds")
    print("| webhook | creates/s (rounds) | deliveries/s | backlog at end |")
    print("| --- | --- | --- | --- |")
    print(f"| none | {rate_without:,.0f} ({', '.join(f'{r:,.0f}' for r in without)}) | - | - |")
    print(
        f"| delivered | {rate_with:,.0f} ({', '.join(f'{r:,.0f}' for r in with_webhook)}) "
        f"| {statistics.median(delivered):,.0f} | {statistics.median(backlog):,.0f} |"
    )
    print(f"cost of delivering {cost:.1f}% (target <= 15%: {'met' if cost <= 15 else 'MISSED'})")


if __name__ == "__main__":
    main()
