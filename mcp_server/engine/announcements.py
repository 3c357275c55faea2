"""What an operation announces: the events of its route's labels, for the change it just made.

A handler that knows better announces its own events (events.announce): rows announce one event
per row, whichever way they are written; user creation announces `users.[userId].create` however
the user came to be. For every label of the operation's route that the handler did not announce, the
engine announces one event, filled from the call:
- each id of the label is the parameter of that name (unless it is `unique()` or `current`), else
  the field of that name in the result (or in the resource as it was before a delete), else the
  result's `$id` for the label's last id, else the key (parameter or result) of columns, attributes
  and indexes, else the signed-in user for `userId`;
- the payload is the result, or for a delete the resource as its route's read returned it just
  before (a delete answers nothing);
- an event whose ids cannot all be found is not announced (a test walks every write operation to
  see that none is left so).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..catalog import Catalog, Operation
from ..validation import validate_params
from .errors import AppwriteError
from .event_names import placeholders
from .events import announce
from .registry import HANDLERS, Call

NOT_AN_ID = frozenset({"unique()", "current"})
# Columns, attributes and indexes are named by their key.
KEYED = frozenset({"columnId", "attributeId", "indexId"})
# Labels that name a collection a table (vectorsDB.createIndex's in Appwrite 1.9.6) take the collection's id.
ALIASES = {"tableId": "collectionId"}


def readers_by_path(catalog: Catalog) -> dict[str, Operation]:
    """The read operation of each route path (what a delete's resource looked like is read with it)."""
    return {op.path: op for op in catalog.operations if op.http_method == "GET" and not op.deprecated}


def resource_before(call: Call, reader: Operation | None) -> dict | None:
    """The resource a delete is about to remove, as the route's read operation returns it (None when
    there is none, or the caller may not read it: the delete then fails on its own)."""
    handler = HANDLERS.get(reader.id) if reader is not None else None
    if handler is None:
        return None
    wanted = reader.input_schema["properties"]
    try:
        checked = validate_params(reader, {name: value for name, value in call.params.items() if name in wanted})
        result = handler(replace(call, op=reader, params=checked))
    except AppwriteError:
        return None
    return result if isinstance(result, dict) else None


def resolve_ids(label: str, call: Call, sources: list[dict]) -> dict[str, str] | None:
    names = placeholders(label)
    ids = {}
    for position, name in enumerate(names):
        value = call.params.get(name, call.params.get(ALIASES.get(name, name)))
        if not isinstance(value, str) or value in NOT_AN_ID:
            value = next((source[name] for source in sources if isinstance(source.get(name), str)), None)
        if value is None and position == len(names) - 1:
            value = next((source["$id"] for source in sources if isinstance(source.get("$id"), str)), None)
        if value is None and name in KEYED:
            value = call.params.get("key") or next((source["key"] for source in sources if "key" in source), None)
        if value is None and name == "userId":
            value = call.auth.user_id
        if not isinstance(value, str) or not value:
            return None
        ids[name] = value
    return ids


def announce_operation(call: Call, result: Any, before: dict | None) -> None:
    """Announce the labels of the call's route that its handler did not announce itself."""
    if not call.op.events:
        return
    sources = [source for source in (result, before) if isinstance(source, dict)]
    payload = result if isinstance(result, dict) else before
    for label in call.op.events:
        if label in call.project.announced:
            continue
        ids = resolve_ids(label, call, sources)
        if ids is not None:
            announce(call.project, call.auth, label, ids, payload)
