"""What an operation the embedded engine does not run answers, and why.

Every operation of the catalog reaches the engine; those without a handler answer Appwrite's
`general_not_implemented` (405) naming the feature the engine lacks for them, and where they run today.
"""

from __future__ import annotations

from ..catalog import Operation
from .errors import AppwriteError

# The feature each service needs that the embedded engine does not have yet.
MISSING_FEATURES = {
    "functions": "deploying functions from templates and git repositories (both need network access to them)",
    "sites": "deploying sites from templates and git repositories (both need network access to them)",
}


# Where an operation the engine cannot run does run.
RUN_REMOTELY = (
    "Run it on an Appwrite server through the HTTP backend (baas-mcp serve --endpoint URL --api-key KEY --project ID)"
)


def not_implemented(op: Operation) -> AppwriteError:
    """The error an operation without a handler answers (every such operation's service is listed above)."""
    return not_available(op.id, f"the embedded engine does not support {MISSING_FEATURES[op.service]} yet")


def not_available(operation_id: str, why: str, instead: str = "") -> AppwriteError:
    """general_not_implemented for an operation the engine cannot run (or not with these parameters): why, where it
    runs, and what to do `instead` locally, if anything."""
    return AppwriteError(
        "general_not_implemented", f"{operation_id} is not available locally: {why}. {RUN_REMOTELY}{instead}."
    )
