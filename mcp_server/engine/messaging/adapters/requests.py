"""A provider's HTTP request for some of a message's recipients, and how its answer reads per recipient.

An adapter builds the requests (the provider's real URL, auth and body); delivery.py sends them through the outbound
policy and asks each request what its answer means for each recipient: None when delivered, else the provider's
error (as utopia-php/messaging reads it).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

# What an answer means for each recipient: (status, the decoded JSON body, or the text when it is not JSON).
Reader = Callable[[int, Any], list[str | None]]


@dataclass(frozen=True)
class Request:
    provider: str
    method: str
    url: str
    body: bytes
    recipients: tuple[str, ...]
    read: Reader
    headers: dict[str, str] = field(default_factory=dict)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def form(values: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    """Headers and body of a form, as PHP's http_build_query writes one (fields left null are left out)."""
    present = {key: value for key, value in values.items() if value is not None}
    return {"Content-Type": "application/x-www-form-urlencoded"}, urlencode(present).encode()


def json_body(value: Any) -> tuple[dict[str, str], bytes]:
    return {"Content-Type": "application/json"}, json.dumps(value).encode()


def decoded(body: bytes) -> Any:
    """The answer's body as utopia-php's request() gives it: the JSON value, else the text."""
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


def field_of(answer: Any, *path: str | int) -> Any:
    """`answer[path…]` when it is there, else None (PHP's `$a['x'][0]['y'] ?? null`)."""
    for step in path:
        try:
            answer = answer[step]
        except (KeyError, IndexError, TypeError):
            return None
    return answer


def same_for_all(count: int, error: str | None) -> list[str | None]:
    return [error] * count
