"""What a running server allows: the scopes of its key, read-only mode, and which local files it reads.

Kept free of heavy imports: the MCP server reads it before the catalog or the engine is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """scopes: the scopes an agent may use (None: every scope). read_only: only read operations.

    local_files: a file parameter may name any local path (the caller is the local user: stdio, `call`).
    files_root: otherwise, the folder inside which a path may point (None: no paths, data URLs only).
    """

    scopes: frozenset[str] | None = None
    read_only: bool = False
    local_files: bool = False
    files_root: Path | None = None

    def narrowed(self, scopes: frozenset[str]) -> Settings:
        """These settings for a caller who holds only `scopes` (a request's own key)."""
        held = scopes if self.scopes is None else self.scopes & scopes
        return replace(self, scopes=frozenset(held))
