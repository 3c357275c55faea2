"""The MCP server: the two tools on the SDK's low-level Server, for any transport.

tools/list needs only the tool definitions. A tool call gets the tools from the runtime (loading
them on first use, in a worker thread); backends run operations without blocking other sessions.
A request over HTTP carries its own key's scopes, which narrow the server's settings. Whatever goes
wrong inside a tool call comes back as a tool error, never as a protocol error.
"""

from __future__ import annotations

import json
import logging

import anyio
import mcp.types as types
from mcp.server import Server, ServerRequestContext
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser

from .. import __version__
from ..runtime import Runtime
from ..settings import Settings
from .tool_definitions import INSTRUCTIONS, TOOLS

logger = logging.getLogger("baas_mcp")

TOOL_LIST = types.ListToolsResult(
    tools=[
        types.Tool(
            name=tool["name"],
            title=tool["title"],
            description=tool["description"],
            input_schema=tool["inputSchema"],
            annotations=types.ToolAnnotations(
                read_only_hint=tool["annotations"]["readOnlyHint"],
                destructive_hint=tool["annotations"]["destructiveHint"],
                idempotent_hint=tool["annotations"]["idempotentHint"],
                open_world_hint=tool["annotations"]["openWorldHint"],
            ),
        )
        for tool in TOOLS
    ]
)


def request_settings(runtime: Runtime, ctx: ServerRequestContext) -> Settings:
    """The server's settings, narrowed to the scopes of the key that authenticated this request."""
    user = ctx.request.scope.get("user") if ctx.request is not None else None
    if isinstance(user, AuthenticatedUser):
        return runtime.settings.narrowed(frozenset(user.access_token.scopes))
    return runtime.settings


def internal_error(tool: str, error: Exception) -> types.CallToolResult:
    body = {
        "type": "general_unknown",
        "message": f"{tool} failed with an internal error ({type(error).__name__}); the server log has the details",
        "code": 500,
    }
    return types.CallToolResult(
        content=[types.TextContent(text=json.dumps(body))], structured_content={"error": body}, is_error=True
    )


def build_server(runtime: Runtime) -> Server:
    """A Server answering tools/list and tools/call for `runtime`."""

    async def list_tools(
        ctx: ServerRequestContext, params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        runtime.warm_up()
        return TOOL_LIST

    async def call_tool(ctx: ServerRequestContext, params: types.CallToolRequestParams) -> types.CallToolResult:
        try:
            settings = request_settings(runtime, ctx)
            tools = await anyio.to_thread.run_sync(runtime.tools)
            result = await tools.call(params.name, params.arguments, settings)
        except Exception as error:
            logger.exception("tool call %s failed", params.name)
            return internal_error(params.name, error)
        return types.CallToolResult(
            content=[types.TextContent(text=result.text)],
            structured_content=result.structured,
            is_error=result.is_error,
        )

    return Server(
        "baas-mcp",
        version=__version__,
        title="baas-mcp",
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )
