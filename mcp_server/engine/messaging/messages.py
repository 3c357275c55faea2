"""Messages (Appwrite 1.9.6's `messaging.createEmail`, `createSms`/`createSMS`, `createPush`, their updates, list,
get, delete, listTargets and listMessageLogs).

A message names its recipients (`topics`, `users`, `targets`) and carries its kind's content. Created or updated
as a draft it waits; without `draft` it is accepted for sending (`processing`), or with `scheduledAt` (a date in
the future) `scheduled` for then; the servers' background work sends it (scheduler.py, sending.py), nothing is
sent in the caller's transaction. The checks are Appwrite's: a message to be sent needs recipients
(message_missing_target), every target named must exist and be of the message's kind (message_target_not_email,
…), attachments and push images must be stored files (a push image a PNG or JPEG). A message being sent, sent or
failed cannot change (message_already_processing, …_sent, …_failed), nor one whose scheduled time passed
(message_already_scheduled); scheduling needs a time (message_missing_schedule). Unlike Appwrite, whose email and
SMS updates ignore `users`, an update sets the users given.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

from ..datetimes import format_datetime, now_iso
from ..errors import AppwriteError, invalid_argument
from ..identity.identities import target_model, targets_by_ids
from ..ids import resolve_id
from ..listing import list_models
from ..registry import Call, handles
from ..storage.attachments import stored_file
from . import logs, topics
from .checks import bounded, compound_id, future, ids, text
from .message_store import DRAFT, FAILED, PROCESSING, SCHEDULED, SENT, find, model, read, require

QUERYABLE = {"scheduledAt", "deliveredAt", "deliveredTotal", "status", "description", "providerType"}
TARGET_QUERYABLE = {"userId", "providerId", "identifier", "providerType"}
SEARCHED = ("$id", "providerType", "status", "data")
MAX_SUBJECT, MAX_CONTENT, MAX_SHORT = 998, 64230, 256
PUSH_IMAGE_TYPES = ("image/png", "image/jpeg")
PRIORITIES = ("normal", "high")
WRONG_KIND = {
    "email": ("message_target_not_email", "Message with the target ID is not an email target."),
    "sms": ("message_target_not_sms", "Message with the target ID is not an SMS target."),
    "push": ("message_target_not_push", "Message with the target ID is not a push target."),
}
# Where each status stops an update.
FINAL = {
    PROCESSING: ("message_already_processing", "Message with the requested ID is already being processed."),
    SENT: ("message_already_sent", "Message with the requested ID has already been sent."),
    FAILED: ("message_already_failed", "Message with the requested ID has already failed."),
}


def already_scheduled() -> AppwriteError:
    return AppwriteError(
        "message_already_scheduled", "Message with the requested ID has already been scheduled for delivery.", 400
    )


def check_targets(connection: sqlite3.Connection, kind: str, target_ids: list[str]) -> None:
    """Every target named exists and is of the message's kind."""
    wanted = set(target_ids)
    found = [row for row in targets_by_ids(connection, list(wanted)) if row["provider_type"] == kind] if wanted else []
    if len(found) != len(wanted):
        raise AppwriteError(*WRONG_KIND[kind], 400)


def attachments_of(connection: sqlite3.Connection, values: object) -> list[dict]:
    found = []
    for value in bounded(values, "attachments"):
        bucket_id, file_id = compound_id(value, "attachments")
        stored_file(connection, bucket_id, file_id)
        found.append({"bucketId": bucket_id, "fileId": file_id})
    return found


def push_image(connection: sqlite3.Connection, value: object) -> dict:
    bucket_id, file_id = compound_id(value, "image")
    try:
        record = stored_file(connection, bucket_id, file_id)
    except AppwriteError as error:
        # Appwrite answers a missing image file with storage_bucket_not_found too.
        raise AppwriteError(
            "storage_bucket_not_found", "Storage bucket with the requested ID could not be found.", 404
        ) from error
    if record["mime_type"] not in PUSH_IMAGE_TYPES:
        raise AppwriteError("storage_file_type_unsupported", "The given file extension is not supported.", 400)
    return {"bucketId": bucket_id, "fileId": file_id}


def push_data(connection: sqlite3.Connection, params: dict, data: dict, creating: bool) -> dict:
    """The push content given merged over `data`; None leaves a field as it is, and so does, on creation,
    Appwrite's default (an empty text, a negative badge, false)."""
    given = {name: value for name, value in params.items() if value is not None}
    if creating:
        given = {
            name: value
            for name, value in given.items()
            if not (value == "" or value is False or value == {} or (name == "badge" and value < 0))
        }
    for name in ("title", "action", "icon", "sound", "color", "tag"):
        if name in given:
            data[name] = text(given[name], name, MAX_SHORT)
    if "body" in given:
        data["body"] = text(given["body"], "body", MAX_CONTENT)
    if "data" in given:
        if not isinstance(given["data"], dict):
            raise invalid_argument("Invalid `data` param: Value must be a valid JSON object")
        data["data"] = given["data"]
    if "image" in given:
        data["image"] = push_image(connection, given["image"])
    for name in ("badge", "contentAvailable", "critical"):
        if name in given:
            data[name] = given[name]
    if "priority" in given:
        if given["priority"] not in PRIORITIES:
            raise invalid_argument("Invalid `priority` param: Value must be one of (normal, high)")
        data["priority"] = given["priority"]
    return data


def content_of(call: Call, kind: str, data: dict, creating: bool = False) -> dict:
    """The message's data with what the call gives (None or absent: unchanged), checked."""
    params, connection = call.params, call.project.connection
    if kind == "push":
        return push_data(connection, params, data, creating)
    if params.get("content") is not None:
        data["content"] = text(params["content"], "content", MAX_CONTENT)
    if kind == "email":
        if params.get("subject") is not None:
            data["subject"] = text(params["subject"], "subject", MAX_SUBJECT)
        if params.get("html") is not None:
            data["html"] = params["html"]
        for name in ("cc", "bcc"):
            if params.get(name) is not None:
                data[name] = ids(params[name], name)
        if params.get("attachments") is not None:
            data["attachments"] = attachments_of(connection, params["attachments"])
    return data


def recipients_of(call: Call, current: dict) -> dict[str, list[str]]:
    return {
        name: ids(call.params[name], name) if call.params.get(name) is not None else current[name]
        for name in ("topics", "users", "targets")
    }


def check_recipients(status: str, recipients: dict[str, list[str]]) -> None:
    """A message to be sent has recipients."""
    if status != DRAFT and not any(recipients.values()):
        raise AppwriteError(
            "message_missing_target",
            "Message with the requested ID has no recipients (topics or users or targets).",
            400,
        )


def targets_named(recipients: dict[str, list[str]], data: dict) -> list[str]:
    return [*recipients["targets"], *data.get("cc", []), *data.get("bcc", [])]


def create(call: Call, kind: str, data: dict) -> dict:
    params, connection = call.params, call.project.connection
    message_id = resolve_id(params["messageId"], "messageId")
    recipients = recipients_of(call, {"topics": [], "users": [], "targets": []})
    data = content_of(call, kind, data, creating=True)
    scheduled_at = future(params["scheduledAt"], "scheduledAt") if params.get("scheduledAt") is not None else None
    status = DRAFT if params.get("draft") else (PROCESSING if scheduled_at is None else SCHEDULED)
    check_recipients(status, recipients)
    check_targets(connection, kind, targets_named(recipients, data))
    if find(connection, message_id) is not None:
        raise AppwriteError(
            "message_already_exists",
            "Message with the requested ID already exists. Try again with a different ID or use ID.unique() to "
            "generate a unique ID.",
            409,
        )
    now = now_iso()
    connection.execute(
        "INSERT INTO _messages (id, provider_type, topics, users, targets, data, status, scheduled_at, created, "
        "updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (message_id, kind, *(json.dumps(recipients[name]) for name in ("topics", "users", "targets")),
         json.dumps(data), status, scheduled_at, now, now),
    )  # fmt: skip
    logs.record(call, f"message/{message_id}", "message.create")
    return read(connection, message_id)


def update(call: Call, kind: str) -> dict:
    params, connection = call.params, call.project.connection
    record = require(connection, params["messageId"])
    if record["provider_type"] != kind:
        raise invalid_argument(f"Invalid `messageId` param: message {record['id']!r} is not a message of kind {kind}")
    current = model(record)
    scheduled_at = future(params["scheduledAt"], "scheduledAt") if params.get("scheduledAt") is not None else None
    if params.get("draft") is not None or scheduled_at is not None:
        status = DRAFT if params.get("draft") else (PROCESSING if scheduled_at is None else SCHEDULED)
    else:
        status = current["status"]
    recipients = recipients_of(call, current)
    check_recipients(status, recipients)
    if current["status"] in FINAL:
        raise AppwriteError(*FINAL[current["status"]], 400)
    if status == SCHEDULED and scheduled_at is None and current["scheduledAt"] is None:
        raise AppwriteError(
            "message_missing_schedule", "Message can not have status scheduled without a schedule.", 400
        )
    if current["scheduledAt"] is not None and current["scheduledAt"] < format_datetime(datetime.now(UTC)):
        raise already_scheduled()
    data = content_of(call, kind, current["data"])
    check_targets(connection, kind, targets_named(recipients, data))
    connection.execute(
        "UPDATE _messages SET topics = ?, users = ?, targets = ?, data = ?, status = ?, scheduled_at = ?, "
        "updated = ? WHERE seq = ?",
        (*(json.dumps(recipients[name]) for name in ("topics", "users", "targets")), json.dumps(data), status,
         scheduled_at or current["scheduledAt"], now_iso(), record["seq"]),
    )  # fmt: skip
    logs.record(call, f"message/{record['id']}", "message.update")
    return read(connection, record["id"])


@handles("messaging.createEmail")
def create_email(call: Call) -> dict:
    params = call.params
    data = {
        "subject": text(params["subject"], "subject", MAX_SUBJECT),
        "content": text(params["content"], "content", MAX_CONTENT),
        "html": False,
        "cc": [],
        "bcc": [],
        "attachments": [],
    }
    return create(call, "email", data)


@handles("messaging.createSms", "messaging.createSMS")
def create_sms(call: Call) -> dict:
    return create(call, "sms", {"content": text(call.params["content"], "content", MAX_CONTENT)})


@handles("messaging.createPush")
def create_push(call: Call) -> dict:
    return create(call, "push", {"priority": "high"})


@handles("messaging.updateEmail")
def update_email(call: Call) -> dict:
    return update(call, "email")


@handles("messaging.updateSms", "messaging.updateSMS")
def update_sms(call: Call) -> dict:
    return update(call, "sms")


@handles("messaging.updatePush")
def update_push(call: Call) -> dict:
    return update(call, "push")


@handles("messaging.listMessages")
def list_messages(call: Call) -> dict:
    records = call.project.connection.execute("SELECT * FROM _messages ORDER BY seq").fetchall()
    search = text(call.params.get("search", ""), "search", topics.MAX_SEARCH)
    total, page = list_models(
        [model(record) for record in records],
        call.params.get("queries"),
        QUERYABLE,
        search=search,
        search_fields=SEARCHED,
        count=call.params.get("total", True),
        noun="message",
    )
    return {"total": total, "messages": page}


@handles("messaging.getMessage")
def get_message(call: Call) -> dict:
    return read(call.project.connection, call.params["messageId"])


@handles("messaging.delete")
def delete_message(call: Call) -> None:
    connection = call.project.connection
    record = require(connection, call.params["messageId"])
    if record["status"] == PROCESSING:
        raise already_scheduled()
    if record["status"] == SCHEDULED and record["scheduled_at"] < now_iso():
        raise already_scheduled()
    connection.execute("DELETE FROM _messages WHERE seq = ?", (record["seq"],))
    logs.record(call, f"message/{record['id']}", "message.delete")


@handles("messaging.listTargets")
def list_targets(call: Call) -> dict:
    """The targets the message names itself (not those of its users or topics), as Appwrite lists them."""
    connection = call.project.connection
    target_ids = model(require(connection, call.params["messageId"]))["targets"]
    models = [target_model(row) for row in targets_by_ids(connection, target_ids)] if target_ids else []
    total, page = list_models(
        models, call.params.get("queries"), TARGET_QUERYABLE, count=call.params.get("total", True), noun="target"
    )
    return {"total": total, "targets": page}


@handles("messaging.listMessageLogs")
def list_message_logs(call: Call) -> dict:
    message_id = require(call.project.connection, call.params["messageId"])["id"]
    return logs.page(
        call.project.connection, f"message/{message_id}", call.params.get("queries"), call.params.get("total", True)
    )
