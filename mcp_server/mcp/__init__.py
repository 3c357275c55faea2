"""The MCP face: the server with its two tools (search_operations, execute_operation), the gates an
execution passes (scopes, read-only, confirm), the transports (stdio, streamable HTTP and SSE), bearer
authentication, and the local files an agent may name."""
