"""Appwrite versions: reading `X.Y[.Z]` strings, and whether a server of one version has an operation.

The catalog says which Appwrite version added each operation (`since`: "1.8" or "1.9"). Its oldest
version stands for "that version or before": the catalog does not know what older servers lack, so a
server older than it is taken to have those operations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..catalog import Operation

# 1.9, 1.9.6, 1.9.5-rc.1 (Appwrite's release tags); the server's version is text from the network.
VERSION = re.compile(r"(\d{1,4})\.(\d{1,4})(?:\.\d{1,4})?(?:-[0-9A-Za-z.]{1,32})?")
OLDEST_KNOWN = (1, 8)


@dataclass(frozen=True, order=True)
class ApiVersion:
    """An Appwrite version, compared by major and minor number; `text` is as given (e.g. "1.9.6")."""

    major: int
    minor: int
    text: str = field(compare=False)

    def __str__(self) -> str:
        return self.text


def parse_version(text: str) -> ApiVersion:
    """`text` as an Appwrite version, or ValueError saying what is expected."""
    found = VERSION.fullmatch(text) if isinstance(text, str) else None
    if found is None:
        shown = repr(text if not isinstance(text, str) or len(text) <= 40 else text[:40] + "…")
        raise ValueError(f"expected an Appwrite version such as 1.9 or 1.9.6, got {shown}")
    return ApiVersion(int(found.group(1)), int(found.group(2)), text)


def lacks(server: ApiVersion, op: Operation) -> bool:
    """Whether a server of version `server` lacks `op`: Appwrite added it in a later major.minor version."""
    added = parse_version(op.since)
    return (added.major, added.minor) > max((server.major, server.minor), OLDEST_KNOWN)
