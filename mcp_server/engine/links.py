"""Links the engine sends (verification, recovery, magic sign-in, invitations): the URL a caller
gives is checked, and the link's values are merged into its query string."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .errors import invalid_argument

MAX_URL = 2048


def check_url(value: object, param: str = "url") -> str:
    """A redirect URL for a link: http(s) with a host name, at most MAX_URL characters."""
    try:
        parts = urlsplit(value) if isinstance(value, str) else None
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or len(value) > MAX_URL:
        raise invalid_argument(
            f"Invalid `{param}` param: expected an http or https URL with a host name, got {value!r}"
        )
    return value


def with_query(url: str, values: dict) -> str:
    """`url` with `values` merged into its query string."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(values)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))
