"""baas-mcp: an MCP server that gives AI coding assistants a whole backend through two tools."""

__version__ = "0.1.0"
