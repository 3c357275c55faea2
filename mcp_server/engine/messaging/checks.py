"""What the messaging parameters must be, beyond their JSON types (Appwrite's validators): texts of a bounded
length, lists of at most 100 ids, role lists, `<BUCKET_ID>:<FILE_ID>` compound ids, dates in the future."""

from __future__ import annotations

from datetime import UTC, datetime

from ..datetimes import format_datetime, parse_datetime
from ..errors import invalid_argument
from ..ids import validate_id
from ..permissions import validate_role

MAX_ARRAY = 100  # APP_LIMIT_ARRAY_PARAMS_SIZE
MAX_ROLE_LENGTH = 64


def text(value: object, param: str, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise invalid_argument(f"Invalid `{param}` param: Value must be a valid string and at most {limit} chars")
    return value


def bounded(value: object, param: str) -> list:
    """A list of at most 100 items."""
    if not isinstance(value, list) or len(value) > MAX_ARRAY:
        raise invalid_argument(f"Invalid `{param}` param: Value must be an array of at most {MAX_ARRAY} items")
    return value


def ids(value: object, param: str) -> list[str]:
    """A list of at most 100 ids, each checked."""
    return [validate_id(item, param) for item in bounded(value, param)]


def roles(value: object, param: str) -> list[str]:
    """A list of at most 100 roles (any, users, user:ID, team:ID/role, …), each at most 64 characters."""
    for role in bounded(value, param):
        if not isinstance(role, str) or len(role) > MAX_ROLE_LENGTH:
            raise invalid_argument(f"Invalid `{param}` param: a role is a string of at most {MAX_ROLE_LENGTH} chars")
        validate_role(role)
    return list(dict.fromkeys(value))


def compound_id(value: object, param: str) -> tuple[str, str]:
    """(bucket id, file id) of a `<BUCKET_ID>:<FILE_ID>` string."""
    parts = value.split(":") if isinstance(value, str) else []
    if len(parts) != 2:
        raise invalid_argument(f"Invalid `{param}` param: expected <BUCKET_ID>:<FILE_ID>, got {value!r}")
    return validate_id(parts[0], param), validate_id(parts[1], param)


def future(value: object, param: str, now: datetime | None = None) -> str:
    """A date-time after now, in the API's format."""
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None or moment <= (now or datetime.now(UTC)):
        raise invalid_argument(f"Invalid `{param}` param: Value must be valid date in the future.")
    return format_datetime(moment)
