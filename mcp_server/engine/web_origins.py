"""What a project's platforms let in to the REST app: the hostnames and app schemes its Origin check
accepts (the project service keeps the platforms, engine/project/platforms.py; rest/origins.py checks)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlatformOrigins:
    """Hostnames in lower case (`*.example.com` and `*` are wildcards), and app schemes (`appwrite-ios`, …)."""

    hostnames: tuple[str, ...]
    schemes: frozenset[str]


NO_PLATFORMS = PlatformOrigins((), frozenset())
