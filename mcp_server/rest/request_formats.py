"""Requests in the format of the release a client names with `X-Appwrite-Response-Format`.

Appwrite reads an older SDK's parameters through one filter per release (app/controllers/general.php and
src/Appwrite/Utopia/Request/Filters/V21-V26 in 1.9.6), oldest first. These are the conversions for the operations
the engine serves whose parameters changed since 1.8:

- before 1.9.4 (V25): the `variableId` of functions.createVariable and sites.createVariable, which older SDKs do not
  send, is `unique()`.

No header, or one that is no version, means the current format.
"""

from __future__ import annotations

from collections.abc import Callable

from .response_formats import version_of

Params = dict
Converter = Callable[[Params], Params]


def filled(name: str) -> Converter:
    def fill(params: Params) -> Params:
        return params if params.get(name) is not None else {**params, name: "unique()"}

    return fill


# (first release that no longer needs it, conversions by operation id), oldest first as Appwrite applies them.
FILTERS: list[tuple[tuple[int, int, int], dict[str, Converter]]] = [
    (
        (1, 9, 4),
        {"functions.createVariable": filled("variableId"), "sites.createVariable": filled("variableId")},
    ),
]


def from_format(params: Params, operation_id: str, header: str | None) -> Params:
    """`params` of `operation_id` as sent in the format `header` names, read as the current release's."""
    version = version_of(header)
    if version is None:
        return params
    for since, converters in FILTERS:
        if version < since and operation_id in converters:
            params = converters[operation_id](params)
    return params
