"""Appwrite's realtime protocol on `baas-mcp api`'s `/v1/realtime`, spoken by a plain Python websocket client:
every message type and error, channels, permissions decided per event, queries, the legacy URL form, sessions
ending on open sockets, and a slow client cut off without slowing anyone."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
import websockets

from tests.commands import create_key, start_api_server

pytestmark = pytest.mark.anyio
SCOPES = (
    "databases.write,tables.write,columns.write,rows.write,rows.read,users.write,users.read,sessions.write,"
    "project.write,presences.read,presences.write"
)
ROWS = "/tablesdb/shop/tables/orders/rows"
QUIET = 0.6  # seconds a test waits to be sure nothing more comes


@dataclass
class Served:
    endpoint: str
    key: str
    data: Path
    sessions: dict[str, str]  # user id -> session value (the a_session_default cookie)

    def rest(self, **headers: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.endpoint, headers={"X-Appwrite-Project": "default", "X-Appwrite-Key": self.key, **headers}
        )

    @property
    def socket_url(self) -> str:
        return self.endpoint.replace("http://", "ws://") + "/realtime?project=default"


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("realtime") / "data"
    key = create_key(data, SCOPES)["secret"]
    server = start_api_server(data)
    try:
        endpoint = server.url("/v1")
        with httpx.Client(base_url=endpoint, headers={"X-Appwrite-Project": "default", "X-Appwrite-Key": key}) as api:
            ok(api.post("/tablesdb", json={"databaseId": "shop", "name": "Shop"}))
            permissions = ['read("user:alice")', 'read("user:carol")']
            ok(
                api.post(
                    "/tablesdb/shop/tables", json={"tableId": "orders", "name": "Orders", "permissions": permissions}
                )
            )
            for key_name, size in (("item", 100_000), ("status", 20)):
                ok(
                    api.post(
                        "/tablesdb/shop/tables/orders/columns/string",
                        json={"key": key_name, "size": size, "required": False},
                    )
                )
            sessions = {}
            for user in ("alice", "bob", "carol"):
                ok(
                    api.post(
                        "/users", json={"userId": user, "email": f"{user}@example.com", "password": "a long password"}
                    )
                )
            time.sleep(0.5)  # columns become available
        for user in ("alice", "bob", "carol"):
            with httpx.Client(base_url=endpoint, headers={"X-Appwrite-Project": "default"}) as guest:
                answer = guest.post(
                    "/account/sessions/email", json={"email": f"{user}@example.com", "password": "a long password"}
                )
                ok(answer)
                sessions[user] = answer.cookies["a_session_default"]
        yield Served(endpoint, key, data, sessions)
    finally:
        server.stop()


def ok(response: httpx.Response) -> dict:
    assert response.status_code < 300, response.text
    return response.json() if response.content else {}


class Socket:
    """A websocket to /v1/realtime: send(type, data), next() -> the next frame, quiet() -> frames for a moment."""

    def __init__(self, socket) -> None:
        self.socket = socket

    async def send(self, kind: str, data=None) -> None:
        await self.socket.send(json.dumps({"type": kind, **({"data": data} if data is not None else {})}))

    async def next(self, timeout: float = 5) -> dict:
        return json.loads(await asyncio.wait_for(self.socket.recv(), timeout))

    async def quiet(self, seconds: float = QUIET) -> list[dict]:
        frames = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                frames.append(json.loads(await asyncio.wait_for(self.socket.recv(), left)))
            except TimeoutError:
                break
        return frames


def connect(served: Served, user: str | None = None, query: str = "", **headers: str):
    cookie = {"Cookie": f"a_session_default={served.sessions[user]}"} if user else {}
    return websockets.connect(served.socket_url + query, additional_headers={**cookie, **headers})


async def subscribe(
    socket: Socket, subscription_id: str, channels: list[str], queries: list[str] | None = None
) -> dict:
    await socket.send(
        "subscribe", [{"subscriptionId": subscription_id, "channels": channels, "queries": queries or []}]
    )
    answer = await socket.next()
    assert answer["type"] == "response" and answer["data"]["to"] == "subscribe", answer
    return answer


async def write(served: Served, method: str, path: str, body: dict | None = None) -> dict:
    def run() -> dict:
        with served.rest() as api:
            return ok(api.request(method, path, json=body))

    return await asyncio.to_thread(run)


def query(method: str, attribute: str, values: list) -> str:
    return json.dumps({"method": method, "attribute": attribute, "values": values})


async def test_connected_ping_and_bad_messages(served):
    async with connect(served) as raw:
        socket = Socket(raw)
        assert await socket.next() == {"type": "connected", "data": {"channels": [], "subscriptions": [], "user": None}}
        await socket.send("ping")
        assert await socket.next() == {"type": "pong"}
        for bad in ("not json", "[]", '{"nothing": 1}'):
            await raw.send(bad)
            assert await socket.next() == {
                "type": "error",
                "data": {"code": 1003, "message": "Message format is not valid."},
            }
        await socket.send("teleport", {})
        assert (await socket.next())["data"] == {"code": 1003, "message": "Message type is not valid."}
        await socket.send("subscribe", [{"channels": ["rows"], "queries": [query("search", "item", ["x"])]}])
        error = await socket.next()
        assert error["data"]["code"] == 1003 and "search" in error["data"]["message"]
        await socket.send("subscribe", [{"channels": []}])
        assert (await socket.next())["data"]["code"] == 1003
        await raw.send("x" * (65 * 1024))
        assert (await socket.next())["data"]["code"] == 1003
        # The socket stays open after each of them.
        await socket.send("ping")
        assert await socket.next() == {"type": "pong"}


async def test_an_unknown_project_or_origin_is_refused_with_1008(served):
    for query_string, headers in (("", {}), ("nope", {}), ("default", {"Origin": "https://evil.example"})):
        url = served.socket_url.split("?")[0] + (f"?project={query_string}" if query_string else "")
        async with websockets.connect(url, additional_headers=headers) as raw:
            error = json.loads(await raw.recv())
            assert error["type"] == "error" and error["data"]["code"] == 1008
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await raw.recv()
            assert closed.value.rcvd.code == 1008


async def test_rows_arrive_to_readers_only_with_their_subscriptions(served):
    async with connect(served, "alice") as alice_raw, connect(served, "bob") as bob_raw, connect(served) as guest_raw:
        alice, bob, guest = Socket(alice_raw), Socket(bob_raw), Socket(guest_raw)
        connected = await alice.next()
        assert connected["data"]["user"]["$id"] == "alice" and connected["data"]["user"]["email"] == "alice@example.com"
        assert (await bob.next())["data"]["user"]["$id"] == "bob"
        await guest.next()
        answer = await subscribe(alice, "a1", ["databases.shop.tables.orders.rows"])
        assert answer["data"]["subscriptions"] == [
            {"subscriptionId": "a1", "channels": ["databases.shop.tables.orders.rows"],
             "queries": ['{"method":"select","values":["*"]}']}
        ]  # fmt: skip
        await subscribe(alice, "a2", ["rows.delete", "documents"])
        for socket in (bob, guest):
            await subscribe(socket, "x", ["rows", "databases.shop.tables.orders.rows"])
        row = await write(served, "POST", ROWS, {"rowId": "r1", "data": {"item": "tea", "status": "open"}})
        created = await alice.next()
        data = created["data"]
        assert created["type"] == "event" and data["payload"] == row and data["subscriptions"] == ["a1", "a2"]
        assert data["events"][0] == "databases.shop.tables.orders.rows.r1.create"
        assert {"rows", "databases.shop.tables.orders.rows.r1", "databases.shop.tables.orders.rows.create",
                "documents", "databases.shop.collections.orders.documents.r1"} <= set(data["channels"])  # fmt: skip
        updated = await write(served, "PATCH", f"{ROWS}/r1", {"data": {"status": "done"}})
        frame = await alice.next()
        assert frame["data"]["payload"] == updated and frame["data"]["events"][0].endswith(".update")
        await write(served, "DELETE", f"{ROWS}/r1")
        frame = await alice.next()
        assert frame["data"]["events"][0].endswith("r1.delete") and frame["data"]["payload"]["$id"] == "r1"
        assert frame["data"]["subscriptions"] == ["a1", "a2"]
        # Bob and guests may not read these rows: nothing reaches them.
        assert await bob.quiet() == [] and await guest.quiet(0.1) == []


async def test_queries_filter_and_unsubscribe_stops(served):
    async with connect(served, "alice") as raw:
        alice = Socket(raw)
        await alice.next()
        await subscribe(alice, "open", ["databases.shop.tables.orders.rows"], [query("equal", "status", ["open"])])
        either = json.dumps(
            {
                "method": "or",
                "values": [json.loads(query("equal", "item", ["cake"])), json.loads(query("isNull", "status", []))],
            }
        )
        await subscribe(alice, "either", ["rows.create"], [either])
        await write(served, "POST", ROWS, {"rowId": "q1", "data": {"item": "tea", "status": "open"}})
        await write(served, "POST", ROWS, {"rowId": "q2", "data": {"item": "tea", "status": "closed"}})
        await write(served, "POST", ROWS, {"rowId": "q3", "data": {"item": "cake", "status": "closed"}})
        await write(served, "POST", ROWS, {"rowId": "q4", "data": {"item": "bun"}})
        frames = [await alice.next() for _ in range(3)] + await alice.quiet()
        assert [(f["data"]["payload"]["$id"], f["data"]["subscriptions"]) for f in frames] == [
            ("q1", ["open"]), ("q3", ["either"]), ("q4", ["either"]),
        ]  # fmt: skip
        await alice.send("unsubscribe", [{"subscriptionId": "open"}, {"subscriptionId": "nope"}])
        answer = await alice.next()
        assert answer["data"] == {
            "to": "unsubscribe", "success": True,
            "subscriptions": [
                {"subscriptionId": "open", "removed": True}, {"subscriptionId": "nope", "removed": False}
            ],
        }  # fmt: skip
        await write(served, "POST", ROWS, {"rowId": "q5", "data": {"item": "tea", "status": "open"}})
        assert await alice.quiet() == []


async def test_the_legacy_url_form_makes_subscriptions_by_slot(served):
    channel = "databases.shop.tables.orders.rows"
    slot = channel.replace(".", "_")
    # A channel without queries listens on slot 0 (to everything); each query slot of a channel is a subscription.
    url_query = "&" + urlencode(
        [
            ("channels[]", "account"),
            ("channels[]", channel),
            (f"{slot}[1][]", query("equal", "status", ["open"])),
            # Older SDKs send the channel's dots; PHP reads them as underscores, and so does the server.
            (f"{channel}[2][]", query("equal", "status", ["closed"])),
        ]
    )
    async with connect(served, "alice", url_query) as raw:
        alice = Socket(raw)
        connected = (await alice.next())["data"]
        assert connected["channels"] == ["account", channel] and len(connected["subscriptions"]) == 3
        everything, _, closed = connected["subscriptions"]
        await write(served, "POST", ROWS, {"rowId": "u1", "data": {"status": "closed"}})
        frame = await alice.next()
        assert frame["data"]["payload"]["$id"] == "u1" and frame["data"]["subscriptions"] == [closed]
        await write(served, "PATCH", "/users/alice/name", {"name": "Alice L."})
        frame = await alice.next()
        assert "users.alice.update.name" in frame["data"]["events"]
        assert frame["data"]["subscriptions"] == [everything]
        # Bob's account events never reach Alice's account channel.
        await write(served, "PATCH", "/users/bob/name", {"name": "Bob B."})
        assert await alice.quiet() == []


async def test_authentication_message_and_a_session_ending_on_an_open_socket(served):
    async with httpx.AsyncClient(base_url=served.endpoint, headers={"X-Appwrite-Project": "default"}) as guest_api:
        answer = await guest_api.post(
            "/account/sessions/email", json={"email": "carol@example.com", "password": "a long password"}
        )
        session = answer.cookies["a_session_default"]
    async with connect(served) as raw:
        carol = Socket(raw)
        assert (await carol.next())["data"]["user"] is None
        await subscribe(carol, "mine", ["rows"])
        await carol.send("authentication", {"session": "bm90IGEgc2Vzc2lvbg=="})
        assert (await carol.next())["data"] == {"code": 1003, "message": "Session is not valid."}
        await carol.send("authentication", {"session": session})
        answer = await carol.next()
        assert answer["data"]["to"] == "authentication" and answer["data"]["user"]["$id"] == "carol"
        await write(served, "POST", ROWS, {"rowId": "c1", "data": {"status": "open"}})
        assert (await carol.next())["data"]["payload"]["$id"] == "c1"
        # Her session ends (signed out elsewhere): the socket stops receiving what only she may read.
        await write(served, "DELETE", "/users/carol/sessions")
        await write(served, "POST", ROWS, {"rowId": "c2", "data": {"status": "open"}})
        assert await carol.quiet() == []


def stalled_socket(served: Served) -> socket.socket:
    """A websocket that subscribes to `rows` and then never reads: a raw socket with a small receive buffer
    (set before connecting), upgraded by hand."""
    port = int(served.endpoint.split(":")[2].split("/")[0])
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    raw.connect(("127.0.0.1", port))
    raw.sendall(
        b"GET /v1/realtime?project=default HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        b"Cookie: a_session_default=" + served.sessions["alice"].encode() + b"\r\n\r\n"
    )
    answer = b""
    while not answer.endswith(b"\r\n\r\n"):  # the 101, read to its end before the first message goes out
        answer += raw.recv(1)
    message = json.dumps({"type": "subscribe", "data": [{"subscriptionId": "s", "channels": ["rows"]}]}).encode()
    mask = b"\x01\x02\x03\x04"
    masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(message))
    raw.sendall(bytes([0x81, 0x80 | 126]) + len(message).to_bytes(2, "big") + mask + masked)
    return raw


def frames_until_closed(raw: socket.socket) -> list[tuple[int, bytes]]:
    """Every websocket frame (opcode, payload) the server sends, up to its close frame."""
    raw.settimeout(30)
    data = b""
    frames: list[tuple[int, bytes]] = []
    while not frames or frames[-1][0] != 8:
        while len(data) < 2 or (len(data) < 10 and data[1] & 0x7F >= 126) or len(data) < frame_end(data):
            chunk = raw.recv(1 << 20)
            if not chunk:
                raise AssertionError(f"the server hung up after {len(frames)} frames without a close frame")
            data += chunk
        end = frame_end(data)
        opcode, length = data[0] & 0x0F, data[1] & 0x7F
        start = {126: 4, 127: 10}.get(length, 2)
        frames.append((opcode, data[start:end]))
        data = data[end:]
    return frames


def frame_end(data: bytes) -> int:
    """Where the server's (unmasked) frame at the start of `data` ends."""
    length = data[1] & 0x7F
    if length == 126:
        return 4 + int.from_bytes(data[2:4], "big")
    if length == 127:
        return 10 + int.from_bytes(data[2:10], "big")
    return 2 + length


async def test_a_slow_client_is_cut_off_and_the_others_keep_up(served):
    slow = await asyncio.to_thread(stalled_socket, served)
    async with connect(served, "alice") as fast_raw:
        fast = Socket(fast_raw)
        await fast.next()
        await subscribe(fast, "f", ["rows"])
        big = "x" * 90_000
        received = 0

        async def keep_reading() -> None:
            nonlocal received
            while received < 150:
                frame = await fast.next(timeout=20)
                received += frame["type"] == "event"

        reader = asyncio.create_task(keep_reading())
        # The slow one reads nothing while 150 events of 90 KB each come: more than its 4 MB allowance and what
        # the buffers on the way hold.
        for number in range(150):
            await write(served, "POST", ROWS, {"rowId": f"big{number}", "data": {"item": big}})
        await asyncio.wait_for(reader, 30)
        assert received == 150
    frames = await asyncio.to_thread(frames_until_closed, slow)
    slow.close()
    events = [payload for opcode, payload in frames if opcode == 1 and b'"type":"event"' in payload]
    assert 0 < len(events) < 150  # what the buffers took before it was cut off
    opcode, payload = frames[-1]
    assert opcode == 8 and int.from_bytes(payload[:2], "big") == 1013 and b"Too many messages" in payload


async def test_the_websocket_protocol_switched_off_refuses_guests_and_users(served):
    await write(served, "PATCH", "/project/protocols/websocket", {"enabled": False})
    try:
        async with connect(served, "alice") as raw:
            error = json.loads(await raw.recv())
            assert error["data"]["code"] == 1008 and "disabled" in error["data"]["message"]
    finally:
        await write(served, "PATCH", "/project/protocols/websocket", {"enabled": True})
    async with connect(served, "alice") as raw:
        assert json.loads(await raw.recv())["type"] == "connected"


async def test_a_presence_lives_as_long_as_its_socket(served):
    async with connect(served, "carol") as watcher_raw:
        watcher = Socket(watcher_raw)
        await watcher.next()
        async with httpx.AsyncClient(base_url=served.endpoint, headers={"X-Appwrite-Project": "default"}) as guest:
            login = {"email": "alice@example.com", "password": "a long password"}
            session = (await guest.post("/account/sessions/email", json=login)).cookies["a_session_default"]
        await subscribe(watcher, "p", ["presences"])
        async with websockets.connect(
            served.socket_url, additional_headers={"Cookie": f"a_session_default={session}"}
        ) as raw:
            alice = Socket(raw)
            await alice.next()
            await alice.send(
                "presence", {"status": "online", "presenceId": "alice-here", "permissions": ['read("any")']}
            )
            answer = await alice.next()
            assert answer["data"]["to"] == "presence" and answer["data"]["presence"]["status"] == "online"
            seen = await watcher.next()
            assert seen["data"]["events"][0] == "presences.alice-here.upsert" and seen["data"]["subscriptions"] == ["p"]
            listed = await write(served, "GET", "/presences")
            assert [presence["$id"] for presence in listed["presences"]] == ["alice-here"]
        gone = await watcher.next()
        assert gone["data"]["events"][0] == "presences.alice-here.delete"
    assert (await write(served, "GET", "/presences"))["total"] == 0


async def test_a_jwt_in_the_connect_url_signs_the_socket_in(served):
    cookie = {"Cookie": f"a_session_default={served.sessions['alice']}", "X-Appwrite-Project": "default"}
    async with httpx.AsyncClient(base_url=served.endpoint, headers=cookie) as alice_api:
        jwt = ok(await alice_api.post("/account/jwts"))["jwt"]
    async with websockets.connect(served.socket_url + f"&jwt={jwt}") as raw:
        alice = Socket(raw)
        assert (await alice.next())["data"]["user"]["$id"] == "alice"
        await subscribe(alice, "j", ["rows"])
        await write(served, "POST", ROWS, {"rowId": "j1", "data": {"status": "open"}})
        assert (await alice.next())["data"]["payload"]["$id"] == "j1"
    async with websockets.connect(served.socket_url + "&jwt=not.a.jwt") as raw:
        error = json.loads(await raw.recv())
        assert error["type"] == "error" and error["data"]["code"] == 1008
