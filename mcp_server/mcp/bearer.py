"""Bearer-key authentication for the MCP server's HTTP transports.

Every HTTP request must carry `Authorization: Bearer <API key>` with a key created by
`baas-mcp keys create`; anything else gets 401 with an Appwrite-shaped error that says why. An
accepted key travels in the ASGI scope as the SDK's AuthenticatedUser: the SDK binds each session
to the key that opened it, and the tools narrow their scopes to the key's.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from starlette.authentication import AuthCredentials
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ..engine.errors import AppwriteError

MISSING = (
    "This server needs an API key: send the header Authorization: Bearer <key> "
    "(create a key with: baas-mcp keys create --name NAME --scopes rows.read,rows.write)"
)


class BearerKeyMiddleware:
    """Pure ASGI (streaming responses pass through untouched); `check_key` raises AppwriteError to refuse."""

    def __init__(self, app: ASGIApp, check_key: Callable[[str], dict]) -> None:
        self.app = app
        self.check_key = check_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scheme, _, secret = Headers(scope=scope).get("authorization", "").partition(" ")
        secret = secret.strip()
        if scheme.lower() != "bearer" or not secret:
            await refuse(AppwriteError("user_unauthorized", MISSING, 401), False, scope, receive, send)
            return
        try:
            key = await anyio.to_thread.run_sync(self.check_key, secret)
        except AppwriteError as error:
            await refuse(error, True, scope, receive, send)
            return
        scope["user"] = AuthenticatedUser(AccessToken(token=secret, client_id=key["$id"], scopes=key["scopes"]))
        scope["auth"] = AuthCredentials(key["scopes"])
        await self.app(scope, receive, send)


async def refuse(error: AppwriteError, presented: bool, scope: Scope, receive: Receive, send: Send) -> None:
    """401 with the Appwrite error; the challenge says invalid_token only when a key was presented (RFC 6750)."""
    challenge = 'Bearer realm="baas-mcp"' + (', error="invalid_token"' if presented else "")
    response = JSONResponse(error.to_dict(), status_code=401, headers={"WWW-Authenticate": challenge})
    await response(scope, receive, send)
