"""Realtime fan-out: how soon events reach many open sockets, and what an idle socket costs the server.

Usage: python benchmarks/realtime_bench.py [--sockets 1000] [--rate 200] [--seconds 10] [--probes 20]

Starts `baas-mcp api` over a fresh data directory and opens `--sockets` websockets to `/v1/realtime`, each
subscribed to the rows of one table anyone may read. Most of them are sinks (a bare asyncio protocol that
upgrades and then throws away what it receives, reading at most ten times a second, so the client side costs
little); `--probes` of them parse
every frame and note when each event arrived. Memory per idle socket is the server's resident memory with
all sockets open minus before, divided by their number. Then a writer in another process creates rows at
`--rate` per second for `--seconds` through the REST API, stamping each with the time just before its
request; a probe's latency for an event is its arrival minus that stamp (so it includes the write itself).
Prints p50/p99/max latency, the events each probe received, and the memory figure. Aim: p99 < 100 ms at
1,000 sockets and 200 events/s, < 50 KB per idle socket.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.commands import create_key, start_api_server  # noqa: E402

TABLE = "/tablesdb/bench/tables/feed"
SUBSCRIBE = json.dumps({"type": "subscribe", "data": [{"subscriptionId": "s", "channels": ["rows"]}]}).encode()


def masked_frame(payload: bytes) -> bytes:
    mask = os.urandom(4)
    body = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    return bytes([0x81, 0x80 | 126]) + len(payload).to_bytes(2, "big") + mask + body


class Sink(asyncio.Protocol):
    """A websocket that upgrades, subscribes, and throws away what it receives."""

    def __init__(self, request: bytes, ready: asyncio.Future) -> None:
        self.request = request
        self.ready = ready
        self.received = 0
        self.upgraded = False

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        if not self.upgraded and b"\r\n\r\n" in data:
            self.upgraded = True
            self.transport.write(masked_frame(SUBSCRIBE))
            if not self.ready.done():
                self.ready.set_result(None)
        # Read what came at most ten times a second, so the client side costs little.
        self.transport.pause_reading()
        asyncio.get_running_loop().call_later(0.1, self.resume)

    def resume(self) -> None:
        if not self.transport.is_closing():
            self.transport.resume_reading()


def resident_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def setup(endpoint: str, key: str) -> None:
    with httpx.Client(base_url=endpoint, headers={"X-Appwrite-Project": "default", "X-Appwrite-Key": key}) as api:
        api.post("/tablesdb", json={"databaseId": "bench", "name": "Bench"}).raise_for_status()
        api.post(
            "/tablesdb/bench/tables", json={"tableId": "feed", "name": "Feed", "permissions": ['read("any")']}
        ).raise_for_status()
        api.post(f"{TABLE}/columns/float", json={"key": "sent", "required": False}).raise_for_status()
        time.sleep(0.5)


def write(endpoint: str, key: str, rate: float, seconds: float) -> None:
    """Create rows at `rate` per second, each stamped with the time just before its request (run in a process)."""
    count = int(rate * seconds)
    with httpx.Client(base_url=endpoint, headers={"X-Appwrite-Project": "default", "X-Appwrite-Key": key}) as api:
        start = time.perf_counter()
        for number in range(count):
            delay = start + number / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            api.post(f"{TABLE}/rows", json={"rowId": f"r{number}", "data": {"sent": time.time()}}).raise_for_status()


async def probe(url: str, latencies: list[float], counts: list[int], ready: asyncio.Event, stop: asyncio.Event) -> None:
    async with websockets.connect(url, max_size=None) as socket:
        await socket.recv()
        await socket.send(SUBSCRIBE.decode())
        await socket.recv()
        ready.set()
        received = 0
        while not stop.is_set():
            try:
                frame = await asyncio.wait_for(socket.recv(), 0.5)
            except TimeoutError:
                continue
            arrived = time.time()
            data = json.loads(frame).get("data", {})
            if "payload" in data:
                latencies.append(arrived - data["payload"]["sent"])
                received += 1
        counts.append(received)


async def measure(args: argparse.Namespace, endpoint: str, key: str, pid: int) -> dict:
    url = endpoint.replace("http://", "ws://") + "/realtime?project=default"
    host, port = endpoint.split("//")[1].split("/")[0].split(":")
    loop = asyncio.get_running_loop()
    before = resident_kb(pid)
    sinks = []
    for number in range(args.sockets - args.probes):
        key_bytes = base64.b64encode(os.urandom(16))
        request = (
            b"GET /v1/realtime?project=default HTTP/1.1\r\nHost: " + host.encode() + b"\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key_bytes + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        ready = loop.create_future()
        _, sink = await loop.create_connection(
            lambda request=request, ready=ready: Sink(request, ready), host, int(port)
        )
        await asyncio.wait_for(ready, 30)
        sinks.append(sink)
        if number % 100 == 99:
            await asyncio.sleep(0.05)
    latencies: list[float] = []
    counts: list[int] = []
    stop = asyncio.Event()
    readies = [asyncio.Event() for _ in range(args.probes)]
    probes = [asyncio.create_task(probe(url, latencies, counts, ready, stop)) for ready in readies]
    for ready in readies:
        await asyncio.wait_for(ready.wait(), 30)
    await asyncio.sleep(2)
    per_socket = (resident_kb(pid) - before) / args.sockets
    writer = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--write", endpoint, key, str(args.rate), str(args.seconds)
    )
    started = time.monotonic()
    await writer.wait()
    written = time.monotonic() - started
    await asyncio.sleep(2)
    stop.set()
    await asyncio.gather(*probes)
    sink_bytes = sum(sink.received for sink in sinks)
    for sink in sinks:
        sink.transport.close()
    return {"latencies": latencies, "counts": counts, "per_socket_kb": per_socket, "written_s": written,
            "sink_mb": sink_bytes / 1e6}  # fmt: skip


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100)[int(share * 100) - 1] if len(values) > 1 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=1000, help="open websockets")
    parser.add_argument("--rate", type=float, default=200, help="row creates (events) per second")
    parser.add_argument("--seconds", type=float, default=10, help="how long the writer writes")
    parser.add_argument("--probes", type=int, default=20, help="sockets that time each event")
    parser.add_argument("--write", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write:
        endpoint, key, rate, seconds = args.write
        write(endpoint, key, float(rate), float(seconds))
        return
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        key = create_key(data, "databases.write,tables.write,columns.write,rows.write")["secret"]
        server = start_api_server(data)
        try:
            endpoint = server.url("/v1")
            setup(endpoint, key)
            result = asyncio.run(measure(args, endpoint, key, server.process.pid))
        finally:
            server.stop()
    latencies = result["latencies"]
    expected = int(args.rate * args.seconds)
    print(f"{args.sockets:,} sockets ({args.probes} timing), {args.rate:g} events/s for {args.seconds:g} s "
          f"(written in {result['written_s']:.1f} s)")  # fmt: skip
    print(f"| p50 | p99 | max | events per probe (of {expected:,}) | server memory per idle socket |")
    print("| --- | --- | --- | --- | --- |")
    print(
        f"| {percentile(latencies, 0.5) * 1000:.1f} ms | {percentile(latencies, 0.99) * 1000:.1f} ms "
        f"| {max(latencies, default=float('nan')) * 1000:.1f} ms | {min(result['counts'], default=0):,} "
        f"| {result['per_socket_kb']:.1f} KB |"
    )
    print(f"sinks received {result['sink_mb']:.1f} MB in all")


if __name__ == "__main__":
    main()
