"""Messaging topics (Appwrite 1.9.6's `messaging.*Topic*`): named lists of targets that messages go to.

A topic is a row of `_topics` with its `subscribe` roles: who, besides keys and the console, may subscribe a
target to it (by default `users`). Its `emailTotal`, `smsTotal` and `pushTotal` count its subscribers of each kind
whose target still exists (counted when read, never kept apart from the subscribers). Deleting a topic deletes its
subscribers. Every change is audited (logs.py) and its events are announced by the engine from the result.
"""

from __future__ import annotations

import json
import sqlite3

from ..datetimes import now_iso
from ..errors import AppwriteError
from ..ids import resolve_id
from ..listing import list_models
from ..registry import Call, handles
from . import logs
from .checks import roles, text

QUERYABLE = {"name", "description", "emailTotal", "smsTotal", "pushTotal"}
MAX_NAME = 128
MAX_SEARCH = 256
DEFAULT_SUBSCRIBE = ["users"]
KINDS = ("email", "sms", "push")


def not_found() -> AppwriteError:
    return AppwriteError("topic_not_found", "Topic with the request ID could not be found.", 404)


def find(connection: sqlite3.Connection, topic_id: str) -> sqlite3.Row | None:
    return connection.execute("SELECT * FROM _topics WHERE id = ?", (topic_id,)).fetchone()


def require(connection: sqlite3.Connection, topic_id: str) -> sqlite3.Row:
    record = find(connection, topic_id)
    if record is None:
        raise not_found()
    return record


def totals(connection: sqlite3.Connection, topic_ids: list[str]) -> dict[str, dict[str, int]]:
    """Subscribers by kind of each topic, counting those whose target exists."""
    counts: dict[str, dict[str, int]] = {topic_id: dict.fromkeys(KINDS, 0) for topic_id in topic_ids}
    marks = ", ".join("?" for _ in topic_ids)
    rows = connection.execute(
        "SELECT topic_id, _subscribers.provider_type, COUNT(*) FROM _subscribers "
        f"JOIN _targets ON _targets.id = _subscribers.target_id WHERE topic_id IN ({marks}) "
        "GROUP BY topic_id, _subscribers.provider_type",
        topic_ids,
    ).fetchall()
    for topic_id, kind, count in rows:
        if kind in KINDS:
            counts[topic_id][kind] = count
    return counts


def model(record: sqlite3.Row, counts: dict[str, int]) -> dict:
    return {
        "$id": record["id"],
        "$createdAt": record["created"],
        "$updatedAt": record["updated"],
        "name": record["name"],
        "emailTotal": counts["email"],
        "smsTotal": counts["sms"],
        "pushTotal": counts["push"],
        "subscribe": json.loads(record["subscribe"]),
    }


def read(connection: sqlite3.Connection, topic_id: str) -> dict:
    record = require(connection, topic_id)
    return model(record, totals(connection, [topic_id])[topic_id])


@handles("messaging.listTopics")
def list_topics(call: Call) -> dict:
    connection = call.project.connection
    records = connection.execute("SELECT * FROM _topics ORDER BY seq").fetchall()
    counts = totals(connection, [record["id"] for record in records])
    models = [model(record, counts[record["id"]]) for record in records]
    search = text(call.params.get("search", ""), "search", MAX_SEARCH)
    total, page = list_models(
        models, call.params.get("queries"), QUERYABLE, search=search, count=call.params.get("total", True), noun="topic"
    )
    return {"total": total, "topics": page}


@handles("messaging.getTopic")
def get_topic(call: Call) -> dict:
    return read(call.project.connection, call.params["topicId"])


@handles("messaging.createTopic")
def create_topic(call: Call) -> dict:
    params = call.params
    connection = call.project.connection
    topic_id = resolve_id(params["topicId"], "topicId")
    name = text(params["name"], "name", MAX_NAME)
    subscribe = roles(params.get("subscribe", DEFAULT_SUBSCRIBE), "subscribe")
    if find(connection, topic_id) is not None:
        raise AppwriteError("topic_already_exists", "Topic with the request ID already exists.", 409)
    now = now_iso()
    connection.execute(
        "INSERT INTO _topics (id, name, subscribe, created, updated) VALUES (?, ?, ?, ?, ?)",
        (topic_id, name, json.dumps(subscribe), now, now),
    )
    logs.record(call, f"topic/{topic_id}", "topic.create")
    return read(connection, topic_id)


@handles("messaging.updateTopic")
def update_topic(call: Call) -> dict:
    params = call.params
    connection = call.project.connection
    record = require(connection, params["topicId"])
    values = {}
    if params.get("name") is not None:
        values["name"] = text(params["name"], "name", MAX_NAME)
    if params.get("subscribe") is not None:
        values["subscribe"] = json.dumps(roles(params["subscribe"], "subscribe"))
    assignments = "".join(f"{column} = ?, " for column in values)
    connection.execute(
        f"UPDATE _topics SET {assignments}updated = ? WHERE seq = ?", (*values.values(), now_iso(), record["seq"])
    )
    logs.record(call, f"topic/{record['id']}", "topic.update")
    return read(connection, record["id"])


@handles("messaging.deleteTopic")
def delete_topic(call: Call) -> None:
    connection = call.project.connection
    record = require(connection, call.params["topicId"])
    connection.execute("DELETE FROM _subscribers WHERE topic_id = ?", (record["id"],))
    connection.execute("DELETE FROM _topics WHERE seq = ?", (record["seq"],))
    logs.record(call, f"topic/{record['id']}", "topic.delete")


@handles("messaging.listTopicLogs")
def list_topic_logs(call: Call) -> dict:
    topic_id = require(call.project.connection, call.params["topicId"])["id"]
    return logs.page(
        call.project.connection, f"topic/{topic_id}", call.params.get("queries"), call.params.get("total", True)
    )
