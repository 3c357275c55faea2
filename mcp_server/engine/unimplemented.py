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
    # Every other vectorsDB operation runs; embeddings from text need a model, and none can be shipped.
    "vectorsDB": "computing text embeddings (it needs an embedding model, and none ships with the engine)",
}


def not_implemented(op: Operation) -> AppwriteError:
    """The error an operation without a handler answers (every such operation's service is listed above)."""
    return AppwriteError(
        "general_not_implemented",
        f"{op.id} is not available locally: the embedded engine does not support {MISSING_FEATURES[op.service]} "
        "yet. Run it on an Appwrite server through the HTTP backend "
        "(baas-mcp serve --endpoint URL --api-key KEY --project ID).",
    )
