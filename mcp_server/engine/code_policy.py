"""Whether a server runs code: one started with `--no-code` (`baas-mcp serve`, `baas-mcp api`) refuses function and
site deployments and executions. The engine's `runs_code` says which; `require_code` is the check every such
operation makes, and the background work runs no function while it is off."""

from __future__ import annotations

from typing import Any

from .errors import AppwriteError


def require_code(call: Any) -> None:
    """Refuse the call when its engine was started with --no-code."""
    if call.engine is not None and not call.engine.runs_code:
        raise AppwriteError(
            "general_access_forbidden",
            f"{call.op.id} is refused: this server was started with --no-code, so it neither takes code "
            "(function and site deployments) nor runs it (executions). Start it without --no-code to run code.",
            401,
        )
