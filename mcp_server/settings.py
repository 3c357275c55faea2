"""What a running server allows: the scopes of its key and read-only mode.

Kept free of heavy imports: the MCP server reads it before the catalog or the engine is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """scopes: the scopes an agent may use (None: every scope). read_only: only read operations."""

    scopes: frozenset[str] | None = None
    read_only: bool = False

    def narrowed(self, scopes: frozenset[str]) -> Settings:
        """These settings for a caller who holds only `scopes` (a request's own key)."""
        held = scopes if self.scopes is None else self.scopes & scopes
        return Settings(scopes=frozenset(held), read_only=self.read_only)
