"""Which browser origins may use the REST app: the `Origin` check and the CORS headers that follow from it.

As in Appwrite (1.9.6, app/controllers/general.php and its Origin validator), a request that names an origin the
project does not know, and carries no API key, is refused with 403 `general_unknown_origin` before anything runs;
the CORS headers name an origin in `Access-Control-Allow-Origin` only when it is allowed, so a page elsewhere cannot
read the answers either. Allowed here:

- loopback origins, over http or https on any port: `localhost` and `*.localhost` (browsers resolve both to the
  machine itself), `127.0.0.0/8` and `[::1]`;
- the origins given with `baas-mcp api --cors-origin` (exact scheme, host and port), or every origin with `*`;
- the schemes Appwrite allows every project: Expo's `exp` and `appwrite-callback-<project>`.

- the project's platforms, as Appwrite's Origin validator matches them: an http(s) or browser-extension origin
  whose host (any port) is a web platform's hostname (or an app platform's identifier), `*.example.com` matching
  every subdomain of example.com and `*` every host; the app schemes of its Apple, Android, Windows and Linux
  platforms (`appwrite-ios`, …). The engine keeps them (engine/project/platforms.py) and caches them until they
  change, so a platform counts from the moment it is created until it is deleted.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..engine.errors import AppwriteError
from ..engine.web_origins import PlatformOrigins

ANY_ORIGIN = "*"
LOOPBACK_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
# The names Appwrite gives the platform behind each scheme, used in its refusal message.
PLATFORM_NAMES = {
    "http": "Web",
    "https": "Web",
    "appwrite-ios": "iOS",
    "appwrite-macos": "macOS",
    "appwrite-watchos": "watchOS",
    "appwrite-tvos": "tvOS",
    "appwrite-android": "Android",
    "appwrite-windows": "Windows",
    "appwrite-linux": "Linux",
    "chrome-extension": "Web (Chrome Extension)",
    "moz-extension": "Web (Firefox Extension)",
    "safari-web-extension": "Web (Safari Extension)",
    "ms-browser-extension": "Web (Edge Extension)",
    "tauri": "Web (Tauri)",
}
# The schemes whose origins are matched by host against the platforms' hostnames.
WEB_SCHEMES = frozenset(
    {"http", "https", "chrome-extension", "moz-extension", "safari-web-extension", "ms-browser-extension", "tauri"}
)


@dataclass(frozen=True)
class Origin:
    """An origin as compared: lower-case scheme and host, and the port (the scheme's default when not given)."""

    scheme: str
    host: str
    port: int | None

    @classmethod
    def parse(cls, value: str) -> Origin | None:
        """`scheme://host[:port]`, or None for anything else (`null`, a path, a user, a bad port)."""
        try:
            parts = urlsplit(value.strip())
            port = parts.port
        except ValueError:
            return None
        if not parts.scheme or not parts.hostname or parts.username is not None or parts.password is not None:
            return None
        if parts.path not in ("", "/") or parts.query or parts.fragment or value.strip().endswith(("?", "#")):
            return None
        scheme = parts.scheme.lower()
        return cls(scheme, parts.hostname.lower(), port if port is not None else DEFAULT_PORTS.get(scheme))

    def is_loopback(self) -> bool:
        if self.scheme not in LOOPBACK_SCHEMES:
            return False
        if self.host == "localhost" or self.host.endswith(".localhost"):
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


class OriginPolicy:
    """The origins a browser may call from: loopback ones, plus those configured (`*`: all)."""

    def __init__(self, configured: Iterable[str] = ()) -> None:
        """`configured`: `--cors-origin` values; ValueError names the first one that is not an origin or `*`."""
        self.any = False
        self.configured: set[Origin] = set()
        for value in configured:
            if value.strip() == ANY_ORIGIN:
                self.any = True
                continue
            origin = Origin.parse(value)
            if origin is None:
                raise ValueError(
                    f"{value!r} is not an origin: give scheme://host[:port] (e.g. https://app.example.com), "
                    f"without a path, or {ANY_ORIGIN} for every origin"
                )
            self.configured.add(origin)

    def allows(self, origin: str, project_id: str | None, platforms: PlatformOrigins | None = None) -> bool:
        """Whether a request from `origin` (an Origin header) may use `project_id`, whose platforms are
        `platforms` (None: not looked at)."""
        if self.any:
            return True
        parsed = Origin.parse(origin)
        if parsed is not None and (parsed.is_loopback() or parsed in self.configured):
            return True
        scheme = scheme_and_host(origin)[0]
        if scheme == "exp" or (bool(project_id) and scheme == f"appwrite-callback-{project_id}"):
            return True
        return platforms is not None and platform_allows(origin, scheme, platforms)


def platform_allows(origin: str, scheme: str, platforms: PlatformOrigins) -> bool:
    """Appwrite's Origin validator over the project's platforms (utopia's Hostname validator for web schemes)."""
    if scheme not in WEB_SCHEMES:
        return scheme in platforms.schemes
    try:
        host = (urlsplit(origin.strip()).hostname or "").lower()
    except ValueError:
        return False
    if not host or len(host) > 253 or ":" in host:
        return False
    for allowed in platforms.hostnames:
        if host == allowed or allowed == ANY_ORIGIN:
            return True
        if allowed.startswith("*") and host.endswith(allowed[1:]):
            return True
    return False


def scheme_and_host(origin: str) -> tuple[str, str]:
    """The scheme (lower case) and host of an Origin header, "" for what it lacks; an IPv6 host in brackets."""
    try:
        parts = urlsplit(origin.strip())
        host = parts.hostname or ""
    except ValueError:
        return "", ""
    return parts.scheme.lower(), f"[{host}]" if ":" in host else host


def unknown_origin(origin: str) -> AppwriteError:
    """Appwrite's refusal of an origin it does not know, worded as its Origin validator words it."""
    scheme, host = scheme_and_host(origin)
    if not scheme and not host:
        message = "Invalid Origin."
    elif scheme not in PLATFORM_NAMES:
        message = (
            f"Invalid Scheme. The scheme used ({scheme}) in the Origin ({origin}) is not supported. If you are using "
            "a custom scheme, please change it to `appwrite-callback-<PROJECT_ID>`"
        )
    else:
        shown = f"({host})" if host else ""
        message = (
            f"Invalid Origin. Register your new client {shown} as a new {PLATFORM_NAMES[scheme]} platform on your "
            "project console dashboard"
        )
    return AppwriteError("general_unknown_origin", message, 403)
