"""What a caller gives for a presence, checked as Appwrite 1.9.6 checks it: status, expiry, metadata and
permissions (src/Appwrite/Presences/State.php and the presences routes).

`expiresAt` lies in the future and at most 30 days ahead. Metadata is a JSON object of at most 65,535
characters once encoded (the size of Appwrite's column). Permissions take read, update, delete and
write (update and delete); left out, the presence's user alone holds all of them. A user may only
grant roles they hold; an API key may grant any.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from ..datetimes import format_datetime, parse_datetime
from ..errors import AppwriteError, invalid_argument
from ..permissions import ROW_ACTIONS, Auth, check_grantable, format_permissions, parse_permissions

MAX_STATUS = 255
MAX_METADATA = 65_535
MAX_AHEAD = timedelta(days=30)
# How long a presence lasts when the caller names no expiry: written over HTTP, and by a realtime connection.
DEFAULT_LIFETIME = timedelta(minutes=15)
CONNECTION_LIFETIME = timedelta(days=30)


def expiry(value: object) -> str:
    """A given `expiresAt`, stored form."""
    moment = parse_datetime(value) if isinstance(value, str) else None
    now = datetime.now(UTC)
    if moment is None or not now < moment <= now + MAX_AHEAD:
        raise invalid_argument(
            "Invalid `expiresAt` param: expected a date and time in the future, at most 30 days from now; "
            f"got {value!r}"
        )
    return format_datetime(moment)


def expiry_in(lifetime: timedelta) -> str:
    return format_datetime(datetime.now(UTC) + lifetime)


def status(value: object) -> str:
    if not isinstance(value, str):
        raise invalid_argument(f"Invalid `status` param: expected a string, got {type(value).__name__}")
    if len(value) > MAX_STATUS:
        raise structure_error(f'Attribute "status" has invalid type. Value must be at most {MAX_STATUS} characters')
    return value


def metadata(value: object) -> dict:
    if not isinstance(value, dict):
        raise invalid_argument(f"Invalid `metadata` param: expected a JSON object, got {type(value).__name__}")
    if len(json.dumps(value, ensure_ascii=False)) > MAX_METADATA:
        raise structure_error(
            f'Attribute "metadata" has invalid type. Value must be a JSON object of at most {MAX_METADATA} characters'
        )
    return value


def owned_by(user_id: str) -> list[str]:
    """The permissions of a presence left to its user: every action, to them alone."""
    return sorted(format_permissions([(action, f"user:{user_id}") for action in ("read", "update", "delete")]))


def permissions(given: object, auth: Auth) -> list[str]:
    """The permissions a user sets: those given (checked, `write` expanded), else their own."""
    if given is None:
        return owned_by(auth.user_id)
    pairs = parse_permissions(given, ROW_ACTIONS)
    check_grantable(pairs, auth)
    return sorted(format_permissions(pairs))


def structure_error(detail: str) -> AppwriteError:
    return AppwriteError("document_invalid_structure", f"Invalid document structure: {detail}")
