"""The Content-Type values an Appwrite 1.9 server sends, and reading the one a response carries byte for byte.

Appwrite answers JSON with utopia-php/http's `Response::json()` (`application/json; charset=UTF-8`) and text with
`Response::text()` (`text/plain; charset=UTF-8`); an answer that sets no type (a 204: a delete, a CORS preflight)
gets the default of the Swoole server it runs on, `text/html`. The PHP SDK before 26.0 parses a JSON body only when
its type has a `;` after `application/json`.
"""

from __future__ import annotations

import httpx

APPWRITE_JSON = b"application/json; charset=UTF-8"
APPWRITE_TEXT = b"text/plain; charset=UTF-8"
APPWRITE_NO_CONTENT = b"text/html"


def content_type(response: httpx.Response) -> bytes:
    """The response's one Content-Type header, as its bytes came over the wire."""
    values = [value for name, value in response.headers.raw if name.lower() == b"content-type"]
    assert len(values) == 1, f"{response.request.method} {response.request.url}: Content-Type {values}"
    return values[0]
