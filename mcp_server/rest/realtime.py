"""Appwrite's realtime on `/v1/realtime` (1.9.6: app/realtime.php, src/Appwrite/Realtime/Message/Handlers):
one websocket per client, carrying any number of subscriptions, fed from the project's event stream.

Connecting: `?project=P`, and optionally (older clients) `channels[]=…` with per-channel queries
`<channel, dots as underscores>[<slot>][]=<query JSON>`, each slot a subscription. The server answers
`connected` with the channels, the subscriptions made and the user (from `&jwt=`, the session cookie, or
`X-Fallback-Cookies`), or an `error` with code 1008 and closes (a missing or unknown project, an origin the
project does not allow, bad queries). Messages: `authentication` (a session value), `subscribe` and
`unsubscribe` (lists, with subscription ids), `ping` (answered `pong`), `presence` (the signed-in user's
presence, deleted when the socket closes); a bad one is answered with an error 1003 and the socket stays open.

Each project's events are followed once (`Feed`) and fanned out: a connection is sent an event when one of
its subscriptions listens on one of the event's channels (engine/realtime_channels.py), the connection's
roles may read the resource (the event's roles hold `any` or one of the connection's), and the event's
payload passes the subscription's queries; the frame names the subscriptions that matched. Sensitive
payload fields (a token's secret) are never sent. A connection's roles are worked out again, before the next
event is sent, when an event may change them (its user's sessions, status, labels, memberships), and every
minute: a session that ended, a blocked user, a membership left, and the events stop.

A client that reads too slowly never slows others or the writer: its frames wait in a bounded queue, and
when that is full (1,000 frames or 4 MB) it is disconnected with 1013 (Too many messages). A client message
is at most 64 KB; a connection holds at most 100 subscriptions of at most 100 channels and 100 queries each.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers

from ..engine.errors import AppwriteError
from ..engine.events import Event
from ..engine.ids import new_id
from ..engine.permissions import GUEST, Auth
from ..engine.queries import Query
from ..engine.realtime_channels import channels_of, passes, subscription_channels, subscription_queries
from .auth import session_cookie

logger = logging.getLogger("baas_mcp")
PATH = "/v1/realtime"
MAX_QUEUE = 1000  # frames waiting for one client before it is disconnected
MAX_QUEUE_BYTES = 4 * 1024 * 1024  # and their size
MAX_MESSAGE = 64 * 1024
MAX_SUBSCRIPTIONS = 100
MAX_CHANNELS = 100
MAX_CHANNEL_LENGTH = 512
RECHECK_EVERY = 60.0  # seconds between fresh looks at every signed-in connection's roles
POLL = 0.1  # seconds between looks for commits of other processes
compact = json.JSONEncoder(separators=(",", ":")).encode
SELECT_ALL = '{"method":"select","values":["*"]}'

Run = Callable[..., Awaitable[Any]]


class Refusal(Exception):
    """An error frame to send: 1003 keeps the socket open, 1008 closes it."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(eq=False)
class Subscription:
    id: str
    channels: frozenset[str]
    names: list[str]
    queries: list[Query]
    strings: list[str]


@dataclass(eq=False)
class Connection:
    project: str
    send: Callable[[dict], Awaitable[None]]
    session: str | None = None
    jwt: str | None = None
    auth: Auth = GUEST
    user: dict | None = None
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(MAX_QUEUE))
    queued_bytes: int = 0
    closing: bool = False
    drainer: asyncio.Task | None = None
    # The presences this connection announced: deleted when it closes.
    presences: set[str] = field(default_factory=set)
    cutting: asyncio.Task | None = None
    transport: Any = field(default=None, init=False)

    @property
    def user_id(self) -> str:
        return self.auth.user_id or ""

    def __post_init__(self) -> None:
        self.transport = direct_transport(self.send)

    def push(self, frame: str, wire: bytes | None = None) -> None:
        """Send a frame (`wire`: the frame already encoded for the socket); a client too slow to take it is
        disconnected (1013). Frames go straight to the socket's transport when the server gives access to it,
        else through a queue and the ASGI send."""
        if self.closing:
            return
        if self.transport is not None:
            if self.transport.is_closing():
                return
            if self.transport.get_write_buffer_size() > MAX_QUEUE_BYTES:
                self.closing = True
                self.cutting = asyncio.get_running_loop().create_task(self.cut_off())
                return
            self.transport.write(wire or text_frame(frame.encode()))
            return
        try:
            if self.queued_bytes + len(frame) > MAX_QUEUE_BYTES:
                raise asyncio.QueueFull
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.closing = True
            # Kept here: the loop holds only a weak reference to a task.
            self.cutting = asyncio.get_running_loop().create_task(self.cut_off())
            return
        self.queued_bytes += len(frame)

    async def cut_off(self) -> None:
        """Drop what waits for a client too slow to take it, and close its socket (1013)."""
        if self.drainer is not None:
            self.drainer.cancel()
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queued_bytes = 0
        await self.close(1013, "Too many messages: the client reads events more slowly than they come")

    async def close(self, code: int, reason: str) -> None:
        self.closing = True
        with contextlib.suppress(Exception):
            await self.send({"type": "websocket.close", "code": code, "reason": reason[:120]})

    async def drain(self) -> None:
        """Send the queued frames, in order, until the connection ends."""
        while True:
            frame = await self.queue.get()
            self.queued_bytes -= len(frame)
            await self.send({"type": "websocket.send", "text": frame})

    def may_read(self, event: Event) -> bool:
        roles = event.roles
        return "any" in roles or not (self.auth.roles or frozenset()).isdisjoint(roles)

    def matched(self, event: Event, channels: frozenset[str]) -> list[str]:
        """The ids of the subscriptions that get this event (none when the connection may not read it)."""
        found = [
            subscription.id
            for subscription in self.subscriptions.values()
            if not subscription.channels.isdisjoint(channels) and passes(subscription.queries, event.public_payload)
        ]
        return found if found and self.may_read(event) else []


class Feed:
    """One project's events, fanned out to its connections."""

    def __init__(self, realtime: Realtime, project_id: str) -> None:
        self.realtime = realtime
        self.project_id = project_id
        self.connections: set[Connection] = set()
        self.task: asyncio.Task | None = None

    async def add(self, connection: Connection) -> None:
        """Fan events out to `connection` too: every event committed from now on (once this returns)."""
        if self.task is None or self.task.done():
            project = await self.realtime.run(self.realtime.engine.project, self.project_id)
            after = await self.realtime.run(project.events.last)
            if self.task is None or self.task.done():
                self.task = asyncio.get_running_loop().create_task(self.run(project, after))
        self.connections.add(connection)

    def discard(self, connection: Connection) -> None:
        self.connections.discard(connection)

    async def run(self, project: Any, after: int) -> None:
        try:
            checked = time.monotonic()
            async for event in project.events.subscribe(after=after, poll=POLL):
                await self.refresh_affected(event)
                if time.monotonic() - checked > RECHECK_EVERY:
                    checked = time.monotonic()
                    await self.refresh([c for c in self.connections if c.session or c.jwt])
                self.publish(event)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("realtime events of project %s stopped", self.project_id)

    def publish(self, event: Event) -> None:
        channels = channels_of(event)
        if not channels or not self.connections:
            return
        wanted = frozenset(channels)
        head = compact(
            {
                "events": list(event.names),
                "channels": channels,
                "timestamp": event.time,
                "payload": event.public_payload,
            }
        )[:-1]
        # Connections whose subscriptions matched alike share one frame, encoded once.
        frames: dict[tuple[str, ...], tuple[str, bytes]] = {}
        for connection in list(self.connections):
            ids = tuple(connection.matched(event, wanted))
            if ids:
                if ids not in frames:
                    text = f'{{"type":"event","data":{head},"subscriptions":{compact(ids)}}}}}'
                    frames[ids] = (text, text_frame(text.encode()))
                connection.push(*frames[ids])

    async def refresh_affected(self, event: Event) -> None:
        """Work the roles out again for the connections of users whose sessions, status, labels or memberships
        this event changes, before it (or any later event) is sent to them."""
        parts = event.name.split(".")
        affected = ""
        if parts[0] == "users" and len(parts) > 2 and parts[2] in ("sessions", "update", "delete"):
            affected = parts[1]
        elif parts[0] == "teams" and len(parts) > 3 and parts[2] == "memberships":
            affected = str(event.payload.get("userId") or "")
        elif parts[0] == "teams" and len(parts) > 2 and parts[2] == "delete":
            affected = "*"
        if affected:
            await self.refresh([c for c in self.connections if (c.session or c.jwt) and affected in ("*", c.user_id)])

    async def refresh(self, connections: list[Connection]) -> None:
        for connection in connections:
            try:
                auth = await self.realtime.run(
                    self.realtime.engine.identify, self.project_id, session=connection.session, jwt=connection.jwt
                )
            except AppwriteError as error:
                connection.auth, connection.session, connection.jwt = GUEST, None, None
                await connection.close(1008, error.message)
                continue
            connection.auth = auth
            if auth.user_id is None:
                connection.session = connection.jwt = None


class Realtime:
    """The realtime endpoint of a REST app's engine. `run(function, *args)` runs blocking engine work off the
    event loop; `origin_allowed(origin, project)` says whether a browser page of that origin may connect."""

    def __init__(self, engine, run: Run, origin_allowed: Callable[[str, str], Awaitable[bool]]) -> None:
        self.engine = engine
        self.run = run
        self.origin_allowed = origin_allowed
        self.feeds: dict[str, Feed] = {}

    def forget_project(self, project_id: str) -> None:
        """Stop following a deleted project (called from any thread)."""
        feed = self.feeds.pop(project_id, None)
        if feed is not None and feed.task is not None:
            feed.task.get_loop().call_soon_threadsafe(feed.task.cancel)

    async def serve(self, scope, receive, send) -> None:
        """One websocket, from its handshake to its end."""
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        headers = Headers(scope=scope)
        pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        project_id = next((value for key, value in pairs if key == "project"), "")
        connection = Connection(project_id, send)
        try:
            feed = await self.open(connection, headers, pairs)
        except Refusal as refusal:
            await self.refuse(connection, refusal)
            return
        sender = connection.drainer = asyncio.get_running_loop().create_task(connection.drain())
        try:
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    return
                text = message.get("text")
                if text is None:
                    text = (message.get("bytes") or b"").decode("utf-8", "replace")
                try:
                    connection.push(await self.answer(connection, text))
                except Refusal as refusal:
                    connection.push(error_frame(refusal))
        finally:
            feed.discard(connection)
            for presence_id in connection.presences:
                with contextlib.suppress(AppwriteError):
                    await self.run(self.engine.delete_presence_for_connection, project_id, presence_id)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender

    async def refuse(self, connection: Connection, refusal: Refusal) -> None:
        with contextlib.suppress(Exception):
            await connection.send({"type": "websocket.send", "text": error_frame(refusal)})
        await connection.close(refusal.code, refusal.message)

    async def open(self, connection: Connection, headers: Headers, pairs: list[tuple[str, str]]) -> Feed:
        """Check the project and origin, find the user, make the subscriptions the URL asks for, join the
        project's feed and send the `connected` frame; the feed."""
        project_id = connection.project
        if not project_id or not self.engine.has_project(project_id):
            raise Refusal(1008, "Missing or unknown project ID")
        origin = headers.get("origin")
        if origin and not await self.origin_allowed(origin, project_id):
            raise Refusal(1008, f"Invalid Origin. Register your new client ({origin}) as a new Web platform on "
                          "your project console dashboard")  # fmt: skip
        jwt = next((value for key, value in pairs if key == "jwt"), "")
        session = session_cookie(headers, project_id)
        if jwt:
            await self.authenticate(connection, jwt=jwt)
        elif session:
            await self.authenticate(connection, session, quietly=True)
        try:
            await self.run(self.engine.check_protocol, project_id, connection.auth, "websocket")
        except AppwriteError as error:
            raise Refusal(1008, error.message) from None
        names, slots = url_subscriptions(pairs)
        mapping: dict[int, str] = {}
        try:
            for slot, (channels, queries) in sorted(slots.items()):
                mapping[slot] = self.subscribe(connection, None, channels, queries).id
        except AppwriteError as error:
            raise Refusal(1008, error.message) from None
        subscriptions: list | dict = [mapping[slot] for slot in sorted(mapping)]
        if sorted(mapping) != list(range(len(mapping))):
            subscriptions = {str(slot): value for slot, value in mapping.items()}
        connected = {"channels": names, "subscriptions": subscriptions, "user": connection.user}
        # Following the project's events before saying `connected`: a write the client makes then is heard.
        feed = self.feeds.get(project_id)
        if feed is None:
            feed = self.feeds[project_id] = Feed(self, project_id)
        await feed.add(connection)
        connection.push(compact({"type": "connected", "data": connected}))
        return feed

    async def authenticate(
        self, connection: Connection, session: str | None = None, quietly: bool = False, jwt: str | None = None
    ) -> None:
        """Act as the user of a session value or a JWT (an unknown or ended session is refused, unless `quietly`:
        a guest; a JWT that does not check out closes the socket)."""
        try:
            auth = await self.run(self.engine.identify, connection.project, session=session, jwt=jwt)
        except AppwriteError as error:
            raise Refusal(1008, error.message) from None
        if auth.user_id is None:
            if quietly:
                return
            raise Refusal(1003, "Session is not valid.")
        previous = connection.user_id
        connection.auth, connection.session, connection.jwt = auth, session, jwt
        connection.user = await self.run(self.engine.call, "account.get", {}, auth, connection.project)
        for subscription in connection.subscriptions.values():
            names = [rebound(name, previous, auth.user_id) for name in subscription.names]
            subscription.channels = frozenset(subscription_channels(names, auth.user_id))

    def subscribe(self, connection: Connection, subscription_id: str | None, names: Any, queries: Any) -> Subscription:
        if not isinstance(names, list) or not names or len(names) > MAX_CHANNELS:
            raise AppwriteError("realtime_message_format_invalid", f"channels must hold 1 to {MAX_CHANNELS} names")
        if not all(isinstance(name, str) and 0 < len(name) <= MAX_CHANNEL_LENGTH for name in names):
            raise AppwriteError(
                "realtime_message_format_invalid", f"a channel is a name of 1 to {MAX_CHANNEL_LENGTH} characters"
            )
        if subscription_id is not None and (
            not isinstance(subscription_id, str) or not 0 < len(subscription_id) <= 255
        ):
            raise AppwriteError(
                "realtime_message_format_invalid", "subscriptionId must be a string of 1 to 255 characters"
            )
        parsed = subscription_queries(queries)
        subscription_id = subscription_id or new_id()
        if subscription_id not in connection.subscriptions and len(connection.subscriptions) >= MAX_SUBSCRIPTIONS:
            raise AppwriteError(
                "realtime_message_format_invalid", f"a connection holds at most {MAX_SUBSCRIPTIONS} subscriptions"
            )
        strings = list(queries) if parsed else [SELECT_ALL]
        subscription = Subscription(
            subscription_id, frozenset(subscription_channels(names, connection.user_id)), list(names), parsed, strings
        )
        connection.subscriptions[subscription_id] = subscription
        return subscription

    async def answer(self, connection: Connection, text: str) -> str:
        """The answer to one client message (Refusal for a bad one)."""
        if len(text) > MAX_MESSAGE:
            raise Refusal(1003, f"Message is larger than {MAX_MESSAGE // 1024} KB.")
        try:
            message = json.loads(text)
        except ValueError:
            message = None
        if not isinstance(message, dict) or ("type" not in message and "data" not in message):
            raise Refusal(1003, "Message format is not valid.")
        kind, data = message.get("type", "invalid"), message.get("data")
        if kind == "ping":
            return '{"type":"pong"}'
        if kind == "authentication":
            session = data.get("session") if isinstance(data, dict) else None
            if not isinstance(session, str) or not 0 < len(session) <= 2048:
                raise Refusal(1003, 'Param "session" is not valid.')
            await self.authenticate(connection, session)
            return response("authentication", user=connection.user)
        if kind == "subscribe":
            items = checked_items(data, "subscribe")
            made = []
            try:
                for item in items:
                    made.append(
                        self.subscribe(
                            connection, item.get("subscriptionId"), item.get("channels"), item.get("queries")
                        )
                    )
            except AppwriteError as error:
                raise Refusal(1003, error.message) from None
            return response(
                "subscribe",
                subscriptions=[
                    {"subscriptionId": made_one.id, "channels": sorted(made_one.channels), "queries": made_one.strings}
                    for made_one in made
                ],
            )
        if kind == "unsubscribe":
            items = checked_items(data, "unsubscribe")
            results = []
            for item in items:
                subscription_id = item.get("subscriptionId")
                if not isinstance(subscription_id, str):
                    raise Refusal(1003, "subscriptionId must be a string.")
                removed = connection.subscriptions.pop(subscription_id, None) is not None
                results.append({"subscriptionId": subscription_id, "removed": removed})
            return response("unsubscribe", subscriptions=results)
        if kind == "presence":
            try:
                presence = await self.run(
                    self.engine.upsert_presence_for_connection, connection.project, connection.auth, data
                )
            except AppwriteError as error:
                raise Refusal(1003, error.message) from None
            connection.presences.add(presence["$id"])
            return response("presence", presence=presence)
        raise Refusal(1003, "Message type is not valid.")


def direct_transport(send: Callable) -> Any:
    """The transport under an ASGI websocket `send`, when the server is uvicorn (its websockets protocol), so
    that one event's frame can be written to many sockets without a task and a framing per socket; else None."""
    protocol = getattr(send, "__self__", None)
    transport = getattr(protocol, "transport", None)
    if transport is None or not hasattr(protocol, "conn") or not hasattr(transport, "get_write_buffer_size"):
        return None
    return transport


def text_frame(payload: bytes) -> bytes:
    """A server's websocket text frame (final, unmasked; uncompressed, which permessage-deflate allows)."""
    length = len(payload)
    if length < 126:
        return bytes((0x81, length)) + payload
    if length < 1 << 16:
        return bytes((0x81, 126)) + length.to_bytes(2, "big") + payload
    return bytes((0x81, 127)) + length.to_bytes(8, "big") + payload


def checked_items(data: Any, kind: str) -> list[dict]:
    if not isinstance(data, list) or not data or len(data) > MAX_SUBSCRIPTIONS:
        raise Refusal(1003, f"{kind} takes a list of 1 to {MAX_SUBSCRIPTIONS} subscriptions.")
    if not all(isinstance(item, dict) for item in data):
        raise Refusal(1003, f"Each {kind} item must be an object.")
    return data


def response(to: str, **data: Any) -> str:
    return compact({"type": "response", "data": {"to": to, "success": True, **data}})


def error_frame(refusal: Refusal) -> str:
    return compact({"type": "error", "data": {"code": refusal.code, "message": refusal.message}})


def rebound(name: str, previous_user: str, user_id: str) -> str:
    """A channel name made for the previous user of the connection, for its new user."""
    if previous_user and name.startswith(f"account.{previous_user}"):
        return f"account.{user_id}" + name[len(f"account.{previous_user}") :]
    return name


def url_subscriptions(pairs: list[tuple[str, str]]) -> tuple[list[str], dict[int, tuple[list[str], list[str]]]]:
    """The channel names of a connection URL, and its subscriptions by slot: (channels, query strings). A
    channel without queries joins slot 0 (listening to all its events); PHP's names turn dots to underscores."""
    names = [value for key, value in pairs if key in ("channels[]", "channels")][:MAX_CHANNELS]
    by_param: dict[str, dict[int, list[str]]] = {}
    for key, value in pairs:
        base, bracket, rest = key.partition("[")
        if not bracket or base in ("channels", "project"):
            continue
        slot_text = rest.split("]", 1)[0]
        if not slot_text.isdigit() or len(slot_text) > 3:
            continue
        # PHP, which Appwrite's server runs on, reads dots and spaces in a parameter's name as underscores.
        by_param.setdefault(base.replace(".", "_").replace(" ", "_"), {}).setdefault(int(slot_text), []).append(value)
    slots: dict[int, tuple[list[str], list[str]]] = {}
    for name in dict.fromkeys(names):
        queries_by_slot = by_param.get(name.replace(".", "_").replace(" ", "_"))
        if not queries_by_slot:
            channels, queries = slots.setdefault(0, ([], []))
            channels.append(name)
            continue
        for slot, queries in queries_by_slot.items():
            channels, kept = slots.setdefault(slot, ([], []))
            if name not in channels:
                channels.append(name)
            if not kept:
                kept.extend(queries)
    return list(dict.fromkeys(names)), slots
