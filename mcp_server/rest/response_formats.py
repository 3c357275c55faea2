"""Answers in the response format a client asks for with `X-Appwrite-Response-Format`.

The engine returns Appwrite 1.9.6's models. An older SDK names the format it was built for (appwrite 16.0.0
sends `1.8.0`), and Appwrite then converts its answer down, one filter per release, newest first
(app/controllers/general.php and src/Appwrite/Utopia/Response/Filters/V21-V26 in 1.9.6). These are the
conversions for the models the engine serves:

- before 1.9.2 (V23): memberships have no `userPhone`;
- before 1.9.0 (V21): users have no `impersonator` or `impersonatorUserId`; rows and documents (with the
  related rows nested in them) show `$sequence` as a number, 0 when it is no number; functions and sites have one
  `specification` (their build specification) instead of `buildSpecification` and `runtimeSpecification`.

No header, or one that is no version, means the current format.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Model = dict
Converter = Callable[[Model], Model]

_VERSION = re.compile(r"\s*(\d{1,9})(?:\.(\d{1,9}))?(?:\.(\d{1,9}))?")


def version_of(header: str | None) -> tuple[int, int, int] | None:
    """The release a response-format header names, or None when it names none."""
    found = _VERSION.match(header or "")
    if found is None:
        return None
    return tuple(int(part or 0) for part in found.groups())


def without(*fields: str) -> Converter:
    def convert(model: Model) -> Model:
        return {key: value for key, value in model.items() if key not in fields}

    return convert


def numbered_sequence(model: Model) -> Model:
    """A row or document with `$sequence` as a number, and the same for the rows nested in it."""
    converted = dict(model)
    if "$sequence" in converted and converted["$sequence"] is not None:
        value = converted["$sequence"]
        converted["$sequence"] = int(value) if isinstance(value, int | str) and str(value).isdecimal() else 0
    for key, value in model.items():
        if isinstance(value, dict) and "$id" in value:
            converted[key] = numbered_sequence(value)
        elif isinstance(value, list):
            converted[key] = [
                numbered_sequence(item) if isinstance(item, dict) and "$id" in item else item for item in value
            ]
    return converted


def listed(key: str, convert: Converter) -> Converter:
    """The conversion of a list model: each item under `key`."""

    def convert_list(model: Model) -> Model:
        items = model.get(key)
        return {**model, key: [convert(item) for item in items]} if isinstance(items, list) else model

    return convert_list


def one_specification(model: Model) -> Model:
    """A function or site with its build specification as `specification`, as before separate ones."""
    converted = without("buildSpecification", "runtimeSpecification")(model)
    converted["specification"] = model.get("buildSpecification", model.get("specification"))
    return converted


_MEMBERSHIP = without("userPhone")
_USER = without("impersonator", "impersonatorUserId")
# (first release that no longer needs it, conversions by response model), newest first as Appwrite applies them.
FILTERS: list[tuple[tuple[int, int, int], dict[str, Converter]]] = [
    (
        (1, 9, 2),
        {"membership": _MEMBERSHIP, "membershipList": listed("memberships", _MEMBERSHIP)},
    ),
    (
        (1, 9, 0),
        {
            "user": _USER,
            "account": _USER,
            "userList": listed("users", _USER),
            "row": numbered_sequence,
            "rowList": listed("rows", numbered_sequence),
            "document": numbered_sequence,
            "documentList": listed("documents", numbered_sequence),
            "function": one_specification,
            "functionList": listed("functions", one_specification),
            "site": one_specification,
            "siteList": listed("sites", one_specification),
        },
    ),
]


def in_format(result: object, model: str | None, header: str | None) -> object:
    """`result`, a response model named `model`, as the format `header` names expects it."""
    version = version_of(header)
    if version is None or model is None or not isinstance(result, dict):
        return result
    for since, converters in FILTERS:
        if version < since and model in converters:
            result = converters[model](result)
    return result
