"""The embedded backend engine: Appwrite-compatible operations over one SQLite file per project.

The package is the kernel (projects, the SQLite layer, keys, permissions, events, errors) and one
package per service family (databases/, identity/, storage/, platform/) whose modules register the
operations' handlers. `from mcp_server.engine import Engine` loads the engine with all its handlers
(see core.py). Importing a single kernel module (projectdb, keys, errors) stays light, which keeps
the server's start-up fast: it needs the engine only for its first operation.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "Engine":
        from .core import Engine

        return Engine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
