"""Appwrite's event names: what a route's event label becomes for one change.

A label such as `databases.[databaseId].tables.[tableId].rows.[rowId].update` (the catalog's
`events`) is expanded with the ids of one change into every name Appwrite gives it, in Appwrite's
order (its `Event::generateEvents`, with no database given: the names webhooks and functions
receive): the label with its ids, every form with some ids replaced by `*`, the shorter forms
(`databases.db1.tables.t1.rows.r1`, …), and the legacy mirrors (tables ⇄ collections, rows ⇄
documents, columns ⇄ attributes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

PLACEHOLDER = re.compile(r"\[(\w+)\]")
STAND_IN = re.compile("\x00(\\d+)\x00")
# Words Appwrite's mirroring finds inside event names (as text, not as whole segments).
MIRROR_WORDS = ("tables", "collections", "rows", "documents", "columns", "attributes", "databases")
COLLECTIONS_TO_TABLES = {"documents": "rows", "collections": "tables", "attributes": "columns"}
TABLES_TO_COLLECTIONS = {"rows": "documents", "tables": "collections", "columns": "attributes"}
TABLESDB_TO_DATABASES = {"tablesdb": "databases", "tables": "collections", "rows": "documents", "columns": "attributes"}


def placeholders(label: str) -> list[str]:
    """The ids a label needs, in order: `users.[userId].sessions.[sessionId].create` -> userId, sessionId."""
    return PLACEHOLDER.findall(label)


def parse_label(label: str) -> dict[str, str | None]:
    """The sections of a label, as Appwrite's `Event::parseEventPattern` finds them."""
    parts = label.split(".")
    count = len(parts)
    has_sub = count > 3 and parts[3].startswith("[")
    has_sub_sub = count > 5 and parts[5].startswith("[") and has_sub
    attribute = None
    if has_sub_sub and count == 8:
        attribute = parts[7]
    if has_sub and not has_sub_sub and count == 6:
        attribute = parts[5]
    if not has_sub and count == 4:
        attribute = parts[3]
    if not has_sub and count > 2:
        action = parts[2]
    elif has_sub_sub:
        action = parts[6] if count > 6 else None
    elif has_sub and count > 4:
        action = parts[4]
    else:
        action = None
    return {
        "type": parts[0],
        "resource": parts[1] if count > 1 else None,
        "sub_type": parts[2] if has_sub else None,
        "sub_resource": parts[3] if has_sub else None,
        "sub_sub_type": parts[4] if has_sub_sub else None,
        "sub_sub_resource": parts[5] if has_sub_sub else None,
        "action": action,
        "attribute": attribute,
    }


def label_patterns(label: str) -> list[str]:
    """Every form of a label Appwrite emits, placeholders still in place, longest first."""
    p = parse_label(label)
    head = [p["type"], p["resource"]]
    sub = [p["sub_type"], p["sub_resource"]]
    sub_sub = [p["sub_sub_type"], p["sub_sub_resource"]]
    action, attribute = p["action"], p["attribute"]
    patterns: list[list[str]] = []
    if action:
        if p["sub_sub_resource"]:
            if attribute:
                patterns.append([*head, *sub, *sub_sub, action, attribute])
            patterns.append([*head, *sub, *sub_sub, action])
            patterns.append([*head, *sub, *sub_sub])
        elif p["sub_resource"]:
            if attribute:
                patterns.append([*head, *sub, action, attribute])
            patterns.append([*head, *sub, action])
            patterns.append([*head, *sub])
        else:
            patterns.append([*head, action])
        if attribute:
            patterns.append([*head, action, attribute])
    if p["sub_sub_resource"]:
        patterns.append([*head, *sub, *sub_sub])
    if p["sub_resource"]:
        patterns.append([*head, *sub])
    patterns.append(head)
    return unique(".".join(pattern) for pattern in patterns)


def fill(pattern: str, ids: dict[str, str], starred: Iterable[str] = ()) -> str:
    """A pattern with each placeholder replaced by its id, or by `*` for the names in `starred`."""
    hidden = set(starred)
    return PLACEHOLDER.sub(lambda m: "*" if m.group(1) in hidden else ids[m.group(1)], pattern)


def event_names(label: str, ids: dict[str, str]) -> list[str]:
    """Every name of one event, in Appwrite's order (its `Event::generateEvents`, with no database
    given: the names webhooks and functions receive).

    The names of a label are worked out once, with stand-ins for the ids, and filled in after; ids
    holding a word that Appwrite's table/collection mirroring looks for inside names are worked out
    one by one, as Appwrite does."""
    keys = placeholders(label)
    missing = [key for key in keys if not ids.get(key)]
    if missing:
        raise ValueError(f"{label}: no value for {', '.join(missing)}")
    values = [ids[key] for key in keys]
    if any(word in value for value in values for word in MIRROR_WORDS):
        return expand(label, ids)
    return unique(template.format(*values) for template in templates(label))


@lru_cache(maxsize=1024)
def templates(label: str) -> tuple[str, ...]:
    """The names of a label as format strings: `databases.{0}.tables.*.rows.{2}.create`, …"""
    stand_ins = {key: f"\x00{position}\x00" for position, key in enumerate(placeholders(label))}
    return tuple(STAND_IN.sub(r"{\1}", name) for name in expand(label, stand_ins))


def expand(label: str, ids: dict[str, str]) -> list[str]:
    """Appwrite's Event::generateEvents, step by step."""
    keys = placeholders(label)
    three = parse_label(label)["sub_sub_resource"] is not None
    names = []
    for pattern in label_patterns(label):
        names.append(fill(pattern, ids))
        names.append(fill(pattern, ids, keys))
        for key in keys:
            for current in keys:
                if three:
                    for sub_current in keys:
                        if sub_current in (current, key):
                            continue
                        names.append(fill(pattern, ids, [sub_current]))
                        names.append(fill(pattern, ids, [sub_current, current]))
                        names.append(fill(pattern, ids, [current]))
                elif current != key:
                    names.append(fill(pattern, ids, [current]))
    names = unique(names)
    return mirrored(label, names)


def mirrored(label: str, names: list[str]) -> list[str]:
    """Names with their table/collection counterparts (Appwrite's `mirrorCollectionEvents`)."""
    first = names[0]
    if not (("databases." in label and ("collections" in first or "tables" in first)) or "tablesdb." in first):
        return names
    paired = []
    for name in names:
        paired.append(name)
        if "tablesdb" in name:
            databases_side = replace_segments(name, TABLESDB_TO_DATABASES)
            paired.extend([databases_side, replace_segments(databases_side, COLLECTIONS_TO_TABLES)])
        elif "collections" in name:
            paired.append(replace_segments(name, COLLECTIONS_TO_TABLES))
        elif "tables" in name:
            paired.append(replace_segments(name, TABLES_TO_COLLECTIONS))
    return unique(paired)


def replace_segments(name: str, mapping: dict[str, str]) -> str:
    return ".".join(mapping.get(part, part) for part in name.split("."))


def unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
