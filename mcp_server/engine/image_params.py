"""Parameters that drawn images share (file previews, avatars): hex colors and numbers within bounds."""

from __future__ import annotations

import re

from .errors import invalid_argument

_HEX_COLOR = re.compile(r"[0-9a-fA-F]{6}|[0-9a-fA-F]{3}")


def rgb(hex_color: str) -> tuple[int, int, int]:
    """(red, green, blue) of 3 or 6 hex digits, with or without a leading #."""
    value = hex_color.lstrip("#")
    if len(value) == 3:
        value = "".join(digit * 2 for digit in value)
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def hex_color(params: dict, name: str) -> tuple[int, int, int] | None:
    """The color a parameter gives as 3 or 6 hex digits (no #, as Appwrite takes them), or None when it is empty."""
    value = params.get(name)
    if not value:
        return None
    if not _HEX_COLOR.fullmatch(value):
        raise invalid_argument(
            f"Invalid `{name}` param: expected a hex color without #, like 1e90ff or f0f, got {value!r}"
        )
    return rgb(value)


def within(params: dict, name: str, low: float, high: float):
    """The parameter's value (None when not given), refused unless it lies from `low` to `high`."""
    value = params.get(name)
    if value is not None and not low <= value <= high:
        raise invalid_argument(f"Invalid `{name}` param: expected a value from {low} to {high}, got {value}")
    return value
