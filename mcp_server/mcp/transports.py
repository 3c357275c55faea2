"""Serving the MCP server over stdio, or over HTTP with streamable HTTP at /mcp and SSE at /sse.

stdio (its wire is the stdio module) keeps stdout for the protocol alone (anything printed goes to
stderr), answers every malformed message and serves the next, and exits cleanly on end of input,
SIGINT or SIGTERM. HTTP is one Starlette app on one port: streamable HTTP at /mcp,
legacy SSE at /sse with its messages at /messages/, DNS-rebinding protection (Host and Origin must
name an allowed host), bearer-key authentication unless switched off, and a graceful shutdown on
SIGINT/SIGTERM.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

import anyio
from mcp.server import Server

from .stdio import stdio_streams
from .stdio_messages import MAX_MESSAGE_BYTES

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
SHUTDOWN_GRACE_S = 5
BACKLOG = 2048
INCOMPLETE_RESPONSE = "ASGI callable returned without completing response"


async def serve_stdio(
    server: Server, close: Callable[[], Awaitable[None]], background: Callable[[], Awaitable[None]] | None = None
) -> None:
    """Serve one client on stdin/stdout until it closes the stream or SIGINT/SIGTERM arrives; then `close`.
    `background` runs beside it all the while."""
    sys.stdout.flush()
    async with anyio.create_task_group() as group:
        group.start_soon(exit_on_signal, close)
        if background is not None:
            group.start_soon(background)
        async with stdio_streams() as (read_stream, write_stream):
            with contextlib.redirect_stdout(sys.stderr):
                await server.run(read_stream, write_stream, server.create_initialization_options())
        group.cancel_scope.cancel()
    await close()


async def exit_on_signal(close: Callable[[], Awaitable[None]]) -> None:
    """On SIGINT/SIGTERM: let the operation in progress finish, close the data, and exit with 0.

    The thread that reads stdin cannot be interrupted, so waiting for it would wait for the client's
    next message; the process ends directly once the data is closed.
    """
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            await close()
            sys.stderr.flush()
            os._exit(0)


def security_settings(extra_hosts: Iterable[str]):
    """DNS-rebinding protection: the Host header must be loopback or one of `extra_hosts`, and so must
    any Origin header (browsers send one; command-line clients usually do not)."""
    from mcp.server.transport_security import TransportSecuritySettings

    hosts = [*LOOPBACK_HOSTS, *extra_hosts]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[pattern for host in hosts for pattern in (host, f"{host}:*")],
        allowed_origins=[
            pattern
            for host in hosts
            for scheme in ("http", "https")
            for pattern in (f"{scheme}://{host}", f"{scheme}://{host}:*")
        ],
    )


class RawEndpoint:
    """Marks a plain ASGI callable as an endpoint that Starlette must not wrap as a request handler."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        await self.app(scope, receive, send)


def http_app(
    server: Server,
    *,
    check_key: Callable[[str], dict] | None,
    close: Callable[[], Awaitable[None]],
    extra_hosts: Iterable[str] = (),
    background: Callable[[], Awaitable[None]] | None = None,
):
    """The Starlette app: /mcp (streamable HTTP), /sse + /messages/ (SSE); keys checked unless check_key is
    None; `background` runs from startup to shutdown, then `close`."""
    from mcp.server.sse import SseServerTransport
    from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.routing import Mount, Route

    from .bearer import BearerKeyMiddleware

    security = security_settings(extra_hosts)
    sessions = StreamableHTTPSessionManager(
        app=server, security_settings=security, max_request_body_size=MAX_MESSAGE_BYTES
    )
    sse = SseServerTransport("/messages/", security_settings=security, max_request_body_size=MAX_MESSAGE_BYTES)

    async def sse_stream(scope, receive, send) -> None:
        try:
            async with sse.connect_sse(scope, receive, send) as (read_stream, write_stream):
                await server.run(read_stream, write_stream, server.create_initialization_options())
        except ValueError as error:
            if str(error) != "Request validation failed":  # the transport has already answered 421/403
                raise

    routes = [
        Route("/mcp", endpoint=StreamableHTTPASGIApp(sessions)),
        Route("/sse", endpoint=RawEndpoint(sse_stream), methods=["GET"]),
        Mount("/messages/", app=sse.handle_post_message),
    ]
    middleware = [] if check_key is None else [Middleware(BearerKeyMiddleware, check_key=check_key)]

    @contextlib.asynccontextmanager
    async def lifespan(app) -> AsyncIterator[None]:
        async with sessions.run(), anyio.create_task_group() as group:
            if background is not None:
                group.start_soon(background)
            yield
            group.cancel_scope.cancel()
        await close()

    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket listening on host:port (port 0: any free port); OSError says why it cannot be."""
    family, kind, proto, _, address = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class ClosedStreamsAtShutdown(logging.Filter):
    """Drops uvicorn's complaint about each SSE stream that a requested shutdown closes: that is the plan."""

    def __init__(self, server) -> None:
        super().__init__()
        self.server = server

    def filter(self, record: logging.LogRecord) -> bool:
        return not (self.server.should_exit and record.getMessage().startswith(INCOMPLETE_RESPONSE))


async def serve_http(app, sock: socket.socket, announce: Callable[[], None]) -> None:
    """Serve `app` on the listening socket until SIGINT/SIGTERM, then close open streams and return.

    `announce` runs once a stop signal would be handled gracefully, so a signal that follows it
    always ends in a clean exit (code 0), even if it arrives before the server has fully started.
    """
    import uvicorn

    config = uvicorn.Config(
        app,
        log_level="warning",
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
        proxy_headers=False,
        server_header=False,
    )
    server = uvicorn.Server(config)
    logging.getLogger("uvicorn.error").addFilter(ClosedStreamsAtShutdown(server))

    def stop(signum: int, frame: object) -> None:
        server.should_exit = True

    # uvicorn takes the signals over while it serves and afterwards re-raises them into this handler.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    announce()
    await server.serve(sockets=[sock])
