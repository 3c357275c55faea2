"""Realtime under an ASGI server that gives no access to a socket's transport: frames go through the
connection's queue and the ASGI `send`, in order, and a client whose `send` stalls is cut off with 1013 once
1,000 frames wait. The REST app is called directly, as any ASGI server calls it, over a real engine."""

from __future__ import annotations

import asyncio
import json

import pytest

from mcp_server.engine import Engine
from mcp_server.rest.app import RestApp
from mcp_server.rest.realtime import MAX_QUEUE

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Client:
    """One websocket as the ASGI app sees it: what the client sends goes to `incoming`; what the app sends is
    kept in `sent`, unless `stalled`, when the app's send never returns (a client that stopped reading)."""

    def __init__(self) -> None:
        self.incoming: asyncio.Queue = asyncio.Queue()
        self.sent: list[dict] = []
        self.arrived = asyncio.Event()
        self.stalled = False

    async def receive(self) -> dict:
        return await self.incoming.get()

    async def send(self, message: dict) -> None:
        if self.stalled and message["type"] == "websocket.send":
            await asyncio.Event().wait()
        self.sent.append(message)
        self.arrived.set()

    async def frame(self, index: int) -> dict:
        while len(self.frames()) <= index:
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), 5)
        return self.frames()[index]

    def frames(self) -> list[dict]:
        return [json.loads(message["text"]) for message in self.sent if message["type"] == "websocket.send"]

    def say(self, kind: str, data) -> None:
        self.incoming.put_nowait({"type": "websocket.receive", "text": json.dumps({"type": kind, "data": data})})


async def test_frames_go_through_the_queue_and_a_stalled_send_is_cut_off(tmp_path):
    engine = Engine(tmp_path / "data")
    engine.call("tablesDB.create", {"databaseId": "shop", "name": "Shop"})
    engine.call(
        "tablesDB.createTable", {"databaseId": "shop", "tableId": "t", "name": "T", "permissions": ['read("any")']}
    )
    app = RestApp(engine)
    scope = {"type": "websocket", "path": "/v1/realtime", "query_string": b"project=default", "headers": []}
    client = Client()
    client.incoming.put_nowait({"type": "websocket.connect"})
    served = asyncio.create_task(app(scope, client.receive, client.send))
    try:
        assert (await client.frame(0))["type"] == "connected"
        client.say("subscribe", [{"subscriptionId": "s", "channels": ["rows"]}])
        assert (await client.frame(1))["data"]["to"] == "subscribe"
        await asyncio.to_thread(
            engine.call, "tablesDB.createRow", {"databaseId": "shop", "tableId": "t", "rowId": "r1", "data": {}}
        )
        event = await client.frame(2)
        assert event["data"]["payload"]["$id"] == "r1" and event["data"]["subscriptions"] == ["s"]
        client.stalled = True

        def flood() -> None:
            for number in range(MAX_QUEUE + 50):
                engine.call(
                    "tablesDB.createRow", {"databaseId": "shop", "tableId": "t", "rowId": f"f{number}", "data": {}}
                )

        await asyncio.to_thread(flood)
        for _ in range(100):
            if any(message["type"] == "websocket.close" for message in client.sent):
                break
            await asyncio.sleep(0.05)
        close = next(message for message in client.sent if message["type"] == "websocket.close")
        assert close["code"] == 1013 and "Too many messages" in close["reason"]
    finally:
        client.incoming.put_nowait({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(served, 5)
        app.close()
