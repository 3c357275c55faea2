"""Sending one message, as Appwrite 1.9.6's messaging worker does (src/Appwrite/Platform/Workers/Messaging.php).

The recipients are the targets of the message's kind named by it: its `users`' targets, its `targets`, and the
targets subscribed to its `topics`, each once. They go out grouped by provider: the one a target names, else (none
named, or that one gone or disabled) the project's first enabled provider of the kind. Appwrite's rules then:
- no enabled provider of the kind: `failed`, "No enabled provider found.";
- no recipient: `failed`, "No valid recipients found.";
- otherwise `sent` only when every recipient was delivered to and no error came back; else `failed`, with the
  errors (at most 100; "Unknown error" when nothing was delivered and no error said why). `deliveredTotal`
  counts the recipients delivered to and `deliveredAt` is when sending ended.
An email's cc and bcc targets become addresses and its attachments the stored files' names, types and bytes.
Reading the recipients is a read; the delivery runs outside any transaction (delivery.py never raises for a
provider's failure); the outcome is written, and announced, in a transaction of its own (message_store.finish).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from ..errors import AppwriteError
from ..identity.identities import targets_by_ids, targets_of_users
from ..permissions import ADMIN
from ..registry import Call
from ..storage.attachments import attachment
from . import store
from .delivery import deliver, pick_provider
from .message_store import FAILED, PROCESSING, SENT, find, finish

MAX_ERRORS = 100  # MESSAGE_DELIVERY_ERRORS_LIMIT
NO_PROVIDER = "No enabled provider found."
NO_RECIPIENTS = "No valid recipients found."


@dataclass
class Plan:
    """What sending a message takes: its kind and data, and its recipients' identifiers by provider id."""

    kind: str
    data: dict
    providers: dict[str, dict] = field(default_factory=dict)
    recipients: dict[str, list[str]] = field(default_factory=dict)
    failure: str = ""


def recipients(connection: sqlite3.Connection, message: sqlite3.Row) -> list[sqlite3.Row]:
    """The targets the message goes to, each once, in order: its users', its own, its topics' subscribers'."""
    kind = message["provider_type"]
    users, targets, topics = (json.loads(message[name]) for name in ("users", "targets", "topics"))
    found = targets_of_users(connection, users, kind) if users else []
    found += targets_by_ids(connection, targets) if targets else []
    if topics:
        marks = ", ".join("?" for _ in topics)
        subscribed = connection.execute(
            f"SELECT target_id FROM _subscribers WHERE topic_id IN ({marks}) ORDER BY seq", topics
        ).fetchall()
        found += targets_by_ids(connection, [row[0] for row in subscribed]) if subscribed else []
    unique = {row["id"]: row for row in found if row["provider_type"] == kind}
    return list(unique.values())


def addresses(connection: sqlite3.Connection, target_ids: list[str]) -> list[str]:
    return [row["identifier"] for row in targets_by_ids(connection, target_ids)] if target_ids else []


def email_data(call: Call, data: dict) -> dict:
    """An email's data as the delivery takes it: cc and bcc as addresses, attachments as (name, type, bytes)."""
    connection = call.project.connection
    files = [attachment(call, item["bucketId"], item["fileId"]) for item in data.get("attachments", [])]
    return {
        **data,
        "cc": addresses(connection, data["cc"]),
        "bcc": addresses(connection, data["bcc"]),
        "attachments": files,
    }


def plan(engine: Any, project: Any, message_id: str) -> Plan | None:
    """What sending the message takes (a read), or None when it is not (any more) to be sent."""
    connection = project.connection
    message = find(connection, message_id)
    if message is None or message["status"] != PROCESSING:
        return None
    kind = message["provider_type"]
    result = Plan(kind, json.loads(message["data"]))
    default = pick_provider(connection, kind)
    if default is None:
        result.failure = NO_PROVIDER
        return result
    targets = recipients(connection, message)
    if not targets:
        result.failure = NO_RECIPIENTS
        return result
    if kind == "email":
        call = Call(project, ADMIN, None, engine.catalog.get("messaging.createEmail"), {}, engine=engine)
        try:
            result.data = email_data(call, result.data)
        except AppwriteError as error:
            result.failure = f"Failed to attach a file: {error.message}"
            return result
    if kind == "push" and "image" in result.data:
        # The delivery takes an image by URL, which Appwrite signs for its own push-image route; the engine has
        # no such route, so a push goes without its image.
        result.data = {key: value for key, value in result.data.items() if key != "image"}
    for target in targets:
        provider = store.find(connection, None, target["provider_id"]) if target["provider_id"] else None
        if provider is None or not provider["enabled"] or provider["type"] != kind:
            provider = default
        result.providers[provider["$id"]] = provider
        result.recipients.setdefault(provider["$id"], []).append(target["identifier"])
    return result


def send(engine: Any, project: Any, message_id: str) -> str | None:
    """Send a message being processed and record the outcome; its status then (None: nothing to send)."""
    with project.db.reading():
        planned = plan(engine, project, message_id)
    if planned is None:
        return None
    if planned.failure:
        engine.change(project.id, lambda state: finish(state, message_id, FAILED, 0, [planned.failure], False))
        return FAILED
    delivered, failed, errors = 0, 0, []
    for provider_id, identifiers in planned.recipients.items():
        outcome = deliver(engine, project, planned.providers[provider_id], planned.kind, planned.data, identifiers)
        delivered += outcome.delivered
        failed += len(identifiers) - outcome.delivered
        errors.extend(outcome.errors)
    errors = errors[:MAX_ERRORS]
    if not errors and delivered == 0:
        errors = ["Unknown error"]
    status = FAILED if failed or errors else SENT
    engine.change(project.id, lambda state: finish(state, message_id, status, delivered, errors, True))
    return status
