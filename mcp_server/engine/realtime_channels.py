"""Appwrite's realtime channels and subscription queries (1.9.6, src/Appwrite/Messaging/Adapter/Realtime.php
and src/Appwrite/Utopia/Database/RuntimeQuery.php).

- `channels_of(event)`: the channels an event is published on (Appwrite's `fromPayload`). Users' events go to
  `account` and `account.{userId}`; teams' to `teams`, `teams.{id}`, memberships' to `memberships`,
  `memberships.{id}`; rows' and documents' to `rows`, `databases.{db}.tables.{t}.rows`, `….rows.{id}`, the same
  under `tablesdb.`, and the legacy `documents`, `databases.{db}.collections.{c}.documents[.{id}]`; files' to
  `files`, `buckets.{b}.files`, `….files.{id}`; executions a user may read (one they started) to `executions`,
  `executions.{id}` and `functions.{functionId}`. Since 1.9.5 each channel of a resource also has an action
  sibling (`….create`, `update`, `upsert`, `delete`). Schema changes and other events reach no client channel.
- `subscription_channels(names, user_id)`: the channels a client asks for, as Appwrite reads them
  (`convertChannels`): `account` also means `account.{userId}`, `account.{action}` becomes
  `account.{userId}.{action}` for a signed-in user, and another user's `account.{id}` is dropped.
- `subscription_queries(raw)` and `passes(queries, payload)`: the queries a subscription filters events
  with: equal, notEqual, lessThan(Equal), greaterThan(Equal), isNull, isNotNull, and, or, and `select("*")`.
"""

from __future__ import annotations

from typing import Any

from .errors import AppwriteError
from .events import Event
from .listing import matches
from .queries import Query, parse_queries

ACTIONS = ("create", "update", "upsert", "delete")
# Channels whose last or next-to-last segment is one of these get an action sibling.
LEAF_RESOURCES = frozenset(
    {"documents", "rows", "files", "executions", "functions", "account", "teams", "memberships", "presences"}
)
ALLOWED_QUERIES = frozenset(
    {"equal", "notEqual", "lessThan", "lessThanEqual", "greaterThan", "greaterThanEqual", "isNull", "isNotNull",
     "and", "or", "select"}
)  # fmt: skip


def channels_of(event: Event) -> list[str]:
    """The channels Appwrite publishes an event on ([] for events no client hears)."""
    parts = event.name.split(".")
    payload = event.payload
    kind = parts[0]
    channels: list[str] = []
    if kind == "users" and len(parts) > 1:
        channels = ["account", f"account.{parts[1]}"]
    elif kind == "teams" and len(parts) > 2:
        if parts[2] == "memberships" and len(parts) > 3:
            channels = ["memberships", f"memberships.{parts[3]}"]
        else:
            channels = ["teams", f"teams.{parts[1]}"]
    elif kind in ("databases", "tablesdb") and len(parts) > 4 and parts[4] in ("rows", "documents"):
        database, row = parts[1], payload.get("$id")
        table = payload.get("$tableId") or payload.get("$collectionId") or parts[3]
        if row:
            channels = [
                "documents",
                f"databases.{database}.collections.{table}.documents",
                f"databases.{database}.collections.{table}.documents.{row}",
                "rows",
                f"databases.{database}.tables.{table}.rows",
                f"databases.{database}.tables.{table}.rows.{row}",
                f"tablesdb.{database}.tables.{table}.rows",
                f"tablesdb.{database}.tables.{table}.rows.{row}",
            ]
    elif kind == "buckets" and len(parts) > 2 and parts[2] == "files":
        bucket, file = payload.get("bucketId") or parts[1], payload.get("$id") or parts[3]
        channels = ["files", f"buckets.{bucket}.files", f"buckets.{bucket}.files.{file}"]
    elif kind == "functions" and len(parts) > 3 and parts[2] == "executions" and payload.get("$permissions"):
        channels = ["executions", f"executions.{payload.get('$id') or parts[3]}", f"functions.{parts[1]}"]
    elif kind == "presences" and len(parts) > 1:
        channels = ["presences", f"presences.{parts[1]}"]
    return with_actions(channels, parts)


def with_actions(channels: list[str], parts: list[str]) -> list[str]:
    """The channels with their action siblings, for events whose name ends in an action (or an action and
    an attribute); users' nested events (sessions, tokens, …) get none."""
    action = parts[-1] if parts[-1] in ACTIONS else parts[-2] if len(parts) > 1 and parts[-2] in ACTIONS else None
    if action is None or not channels or (parts[0] == "users" and (parts[2] if len(parts) > 2 else None) != action):
        return channels
    siblings = []
    for channel in channels:
        segments = channel.split(".")
        if segments[-1] in LEAF_RESOURCES or (len(segments) > 1 and segments[-2] in LEAF_RESOURCES):
            siblings.append(f"{channel}.{action}")
    return list(dict.fromkeys([*channels, *siblings]))


def subscription_channels(names: list[str], user_id: str) -> list[str]:
    """The channels a client's channel names stand for (Appwrite's convertChannels)."""
    converted: dict[str, None] = {}
    for name in names:
        if name == "account":
            converted[name] = None
            if user_id:
                converted[f"account.{user_id}"] = None
        elif name.startswith("account.") and name[len("account.") :] in ACTIONS:
            converted[f"account.{user_id}.{name[len('account.') :]}" if user_id else name] = None
        elif not name.startswith("account."):
            converted[name] = None
    return list(converted)


def subscription_queries(raw: Any) -> list[Query]:
    """A subscription's queries, checked: only the methods realtime evaluates, and select("*") alone."""
    queries = parse_queries(raw if raw is not None else [])
    stack = list(queries)
    while stack:
        query = stack.pop()
        if query.method not in ALLOWED_QUERIES:
            raise AppwriteError(
                "realtime_message_format_invalid",
                f"Invalid query: Query method '{query.method}' is not supported in Realtime queries. Allowed: "
                + ", ".join(sorted(ALLOWED_QUERIES)),
            )
        if query.method == "select" and list(query.values) != ["*"]:
            raise AppwriteError(
                "realtime_message_format_invalid",
                'Invalid query: Only select("*") is allowed in Realtime queries. select("*") means "listen to all '
                'events".',
            )
        stack.extend(query.children)
    return queries


def passes(queries: list[Query], payload: dict) -> bool:
    """Whether an event's payload matches every filter of a subscription (a filter that cannot compare the
    payload's value does not match)."""
    for query in queries:
        if query.method == "select":
            continue
        try:
            if not matches(payload, query):
                return False
        except AppwriteError:
            return False
    return True
