"""Subscribers (Appwrite 1.9.6's `messaging.*Subscriber*`): a user's target subscribed to a topic.

Keys and the console subscribe any target. A signed-in user (session or JWT) may subscribe when one of their
roles is among the topic's `subscribe` roles (else user_unauthorized, as in Appwrite), and, unlike Appwrite, only
a target of their own (another's is user_target_not_found: a user cannot sign someone else up for messages). A
user sees and deletes only their own subscribers (Appwrite gives each subscriber read and delete to its user);
another's is subscriber_not_found. A target subscribes to a topic once (subscriber_already_exists). A subscriber
whose target is gone (its user or the target deleted) no longer counts, lists or receives anything.
"""

from __future__ import annotations

import json
import sqlite3

from ..datetimes import now_iso
from ..errors import AppwriteError
from ..identity.identities import find_target, find_user, target_model
from ..ids import resolve_id
from ..listing import list_models
from ..registry import Call, handles
from . import logs, topics
from .checks import text

QUERYABLE = {"targetId", "topicId", "userId", "providerType"}
SEARCHED = ("$id", "targetId", "userId", "providerType")


def not_found() -> AppwriteError:
    return AppwriteError("subscriber_not_found", "Subscriber with the request ID could not be found.", 404)


def model(connection: sqlite3.Connection, record: sqlite3.Row, target: sqlite3.Row) -> dict:
    user = find_user(connection, target["user_id"])
    return {
        "$id": record["id"],
        "$createdAt": record["created"],
        "$updatedAt": record["updated"],
        "targetId": record["target_id"],
        "target": target_model(target),
        "userId": record["user_id"],
        "userName": user["name"] if user is not None else "",
        "topicId": record["topic_id"],
        "providerType": record["provider_type"],
    }


def visible(call: Call, record: sqlite3.Row | None) -> sqlite3.Row | None:
    """The subscriber as the caller may see it: a user sees only their own."""
    if record is None or (not call.auth.bypasses_permissions and record["user_id"] != call.auth.user_id):
        return None
    return record


def require(call: Call, topic_id: str, subscriber_id: str) -> tuple[sqlite3.Row, sqlite3.Row]:
    """(subscriber, its target) of a topic that exists, as the caller may see it."""
    connection = call.project.connection
    topics.require(connection, topic_id)
    record = visible(call, connection.execute("SELECT * FROM _subscribers WHERE id = ?", (subscriber_id,)).fetchone())
    target = find_target(connection, record["target_id"]) if record is not None else None
    if record is None or record["topic_id"] != topic_id or target is None:
        raise not_found()
    return record, target


@handles("messaging.createSubscriber")
def create_subscriber(call: Call) -> dict:
    params = call.params
    connection = call.project.connection
    subscriber_id = resolve_id(params["subscriberId"], "subscriberId")
    topic = topics.require(connection, params["topicId"])
    auth = call.auth
    if not auth.bypasses_permissions and auth.roles.isdisjoint(json.loads(topic["subscribe"])):
        raise AppwriteError(
            "user_unauthorized", f"The current user is not authorized to subscribe to the topic '{topic['id']}'.", 401
        )
    target = find_target(connection, params["targetId"])
    if target is None or (not auth.bypasses_permissions and target["user_id"] != auth.user_id):
        raise AppwriteError("user_target_not_found", "The target could not be found.", 404)
    taken = connection.execute(
        "SELECT 1 FROM _subscribers WHERE id = ? OR (topic_id = ? AND target_id = ?)",
        (subscriber_id, topic["id"], target["id"]),
    ).fetchone()
    if taken:
        raise AppwriteError("subscriber_already_exists", "Subscriber with the request ID already exists.", 409)
    now = now_iso()
    connection.execute(
        "INSERT INTO _subscribers (id, topic_id, target_id, user_id, provider_type, created, updated) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (subscriber_id, topic["id"], target["id"], target["user_id"], target["provider_type"], now, now),
    )
    logs.record(call, f"subscriber/{subscriber_id}", "subscriber.create")
    record = connection.execute("SELECT * FROM _subscribers WHERE id = ?", (subscriber_id,)).fetchone()
    return model(connection, record, target)


@handles("messaging.listSubscribers")
def list_subscribers(call: Call) -> dict:
    connection = call.project.connection
    topic = topics.require(connection, call.params["topicId"])
    rows = connection.execute(
        "SELECT _subscribers.* FROM _subscribers "
        "JOIN _targets ON _targets.id = _subscribers.target_id WHERE topic_id = ? ORDER BY _subscribers.seq",
        (topic["id"],),
    ).fetchall()
    models = [model(connection, row, find_target(connection, row["target_id"])) for row in rows]
    search = text(call.params.get("search", ""), "search", topics.MAX_SEARCH)
    total, page = list_models(
        models,
        call.params.get("queries"),
        QUERYABLE,
        search=search,
        search_fields=SEARCHED,
        count=call.params.get("total", True),
        noun="subscriber",
    )
    return {"total": total, "subscribers": page}


@handles("messaging.getSubscriber")
def get_subscriber(call: Call) -> dict:
    record, target = require(call, call.params["topicId"], call.params["subscriberId"])
    return model(call.project.connection, record, target)


@handles("messaging.deleteSubscriber")
def delete_subscriber(call: Call) -> None:
    record, _ = require(call, call.params["topicId"], call.params["subscriberId"])
    call.project.connection.execute("DELETE FROM _subscribers WHERE seq = ?", (record["seq"],))
    logs.record(call, f"subscriber/{record['id']}", "subscriber.delete")


@handles("messaging.listSubscriberLogs")
def list_subscriber_logs(call: Call) -> dict:
    subscriber_id = call.params["subscriberId"]
    if call.project.connection.execute("SELECT 1 FROM _subscribers WHERE id = ?", (subscriber_id,)).fetchone() is None:
        raise not_found()
    return logs.page(
        call.project.connection,
        f"subscriber/{subscriber_id}",
        call.params.get("queries"),
        call.params.get("total", True),
    )
