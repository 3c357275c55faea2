"""Appwrite ids: `unique()` generation and the rules custom ids must follow."""

from __future__ import annotations

import re
import secrets
import time

from .errors import invalid_argument

MAX_ID_LENGTH = 36
UNIQUE = "unique()"
_VALID_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def new_id() -> str:
    """A 20-character id like Appwrite's ID.unique(): hex seconds, 5 hex of microseconds, 7 random hex."""
    now = time.time()
    seconds, micros = int(now), int((now % 1) * 1_000_000)
    return f"{seconds:08x}{micros:05x}{secrets.token_hex(4)[:7]}"


def resolve_id(value: object, param: str) -> str:
    """The id to use for a new resource: a fresh one for `unique()`, else the validated custom id."""
    if value == UNIQUE:
        return new_id()
    return validate_id(value, param)


def validate_id(value: object, param: str) -> str:
    if not isinstance(value, str) or not value:
        raise invalid_argument(f"Invalid `{param}` param: expected an id string, got {value!r}")
    if len(value) > MAX_ID_LENGTH or not _VALID_ID.fullmatch(value):
        raise invalid_argument(
            f"Invalid `{param}` param: {value!r} is not a valid id. An id has at most {MAX_ID_LENGTH} characters "
            "from a-z, A-Z, 0-9, period, hyphen and underscore, and cannot start with a special character; "
            "or pass unique() to generate one"
        )
    return value
