"""Timestamps as Appwrite writes them: ISO 8601 UTC with milliseconds, e.g. 2025-01-31T09:30:00.000+00:00."""

from __future__ import annotations

from datetime import UTC, datetime


def now_iso() -> str:
    return format_datetime(datetime.now(UTC))


def format_datetime(moment: datetime) -> str:
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:{moment.minute:02d}:"
        f"{moment.second:02d}.{moment.microsecond // 1000:03d}+00:00"
    )


def parse_datetime(value: str) -> datetime | None:
    """An ISO 8601 date or date-time (naive means UTC), or None when the text is not one."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def normalize_datetime(value: str) -> str | None:
    """The canonical form of a date-time string, or None when it is not one (or falls outside
    years 1 to 9999 once moved to UTC)."""
    moment = parse_datetime(value)
    if moment is None:
        return None
    try:
        return format_datetime(moment)
    except OverflowError:
        return None
