"""Which event patterns Appwrite accepts: its event validator over the event tree of the catalog.

Webhooks and functions subscribe to patterns such as `users.*.update.email` or
`databases.*.tables.*.rows.*.create`. Appwrite checks each one against the tree of its
app/config/events.php (the catalog's `event_grammar`: resources marked `"$resource": true`, actions
and attributes as keys) with its Event validator; this module applies the same rule, quirks
included: a pattern has 2 to 7 dot-separated parts, ids are never checked against anything (`*`
or any id passes, but PHP's falsy `0` and the empty string do not where the validator tests them),
actions and attributes are looked up one level under the (sub-)resource type, and a third-level
resource's action is looked up under the second-level type (so `databases.*.tables.*.rows.*.upsert`
is refused, as by Appwrite). Keys starting with `$` are metadata, never an action or attribute.
"""

from __future__ import annotations

from ..catalog import suggest
from ..validation import clip, describe
from .errors import invalid_argument

RESOURCE = "$resource"
MIN_PARTS, MAX_PARTS = 2, 7
EXAMPLES = "users.*.create, databases.*.tables.*.rows.*.update, buckets.*.files.*.create"
# A longer value is not worth a "did you mean" (and would make the fuzzy match slow).
SUGGESTED_UP_TO = 200


def truthy(part: str | None) -> bool:
    """Whether PHP counts a part as true: not missing, not empty and not "0"."""
    return part is not None and part not in ("", "0")


def child(node: dict | None, key: str | None) -> dict | None:
    """The event-tree node under `key`, or None (metadata keys are not nodes)."""
    if node is None or key is None or key.startswith("$"):
        return None
    found = node.get(key)
    return found if isinstance(found, dict) else None


def is_resource(node: dict | None) -> bool:
    return node is not None and node.get(RESOURCE) is True


def is_event(grammar: dict, value: str) -> bool:
    """Whether Appwrite's Event validator accepts `value` as an event pattern."""
    if not MIN_PARTS - 1 <= value.count(".") <= MAX_PARTS - 1:
        return False
    parts = value.split(".")
    count = len(parts)
    type_ = parts[0]
    node = child(grammar, type_)
    sub_node = child(node, parts[2]) if count > 3 and is_resource(node) else None
    has_sub = is_resource(sub_node)
    has_sub_sub = count > 5 and has_sub and is_resource(child(sub_node, parts[4]))
    if not truthy(type_) or not truthy(parts[1]):
        return False
    attribute = None
    if has_sub and not has_sub_sub and count == 6:
        attribute = parts[5]
    if not has_sub and count == 4:
        attribute = parts[3]
    if has_sub_sub:
        action = parts[6] if count > 6 else None
    elif has_sub:
        action = parts[4] if count > 4 else None
    else:
        action = parts[2] if count > 2 else None
    if node is None:
        return False
    # Actions are looked up under the sub-resource type even for a third-level resource.
    owner = sub_node if has_sub else node
    if has_sub and not truthy(parts[3]):
        return False
    if truthy(action) and child(owner, action) is None:
        return False
    if truthy(attribute):
        # Appwrite fails (a PHP TypeError) when the action is falsy here; it accepts nothing either way.
        return child(child(owner, action), attribute) is not None
    return True


def event_shapes(grammar: dict) -> list[str]:
    """Every event the grammar names, with `*` for each id: users.*, users.*.update.email, …"""
    shapes: list[str] = []

    def walk(node: dict, prefix: str) -> None:
        for key in node:
            sub = child(node, key)
            if sub is None:
                continue
            if is_resource(sub):
                shapes.append(f"{prefix}{key}.*")
                walk(sub, f"{prefix}{key}.*.")
            else:
                shapes.append(prefix + key)
                shapes.extend(f"{prefix}{key}.{attribute}" for attribute in sub if child(sub, attribute) is not None)

    walk(grammar, "")
    return [shape for shape in shapes if is_event(grammar, shape)]


def check_events(grammar: dict, param: str, values: list[str]) -> list[str]:
    """`values` when every one is an event pattern Appwrite accepts (duplicates included, as Appwrite
    keeps them); otherwise an invalid-argument error naming `param` and the first bad value."""
    for value in values:
        if not isinstance(value, str):
            raise invalid_argument(f"Invalid `{param}` param: {describe(value)} is not an event name (a string).")
        if is_event(grammar, value):
            continue
        hint = suggest(value, event_shapes(grammar), 1) if len(value) <= SUGGESTED_UP_TO else []
        did_you_mean = f" Did you mean {hint[0]}?" if hint else ""
        raise invalid_argument(
            f"Invalid `{param}` param: `{clip(value)}` is not an event Appwrite emits.{did_you_mean}"
            f" Events look like {EXAMPLES}."
        )
    return values
