"""The `webhooks` service: list, create, get, update, delete a project's webhooks and rotate their secrets,
as Appwrite 1.9.6 does (src/Appwrite/Platform/Modules/Webhooks).

A URL must be http(s) with a host; one naming a loopback or private address outright (127.0.0.1, [::1],
localhost, 10.x, …) is refused unless the server lets requests go there (--allow-private-urls); names
are resolved and checked again at each delivery (outbound.py). Every event pattern must be one Appwrite
emits (event_grammar.py), and the error names the first that is not. A secret left out is made of 64
random bytes in hex, as Appwrite makes it; the model shows the secret only when creating and rotating.
A new webhook takes its place in the event stream at its creation: it receives the events committed
after it. Turning a webhook on again starts its count of failed attempts from 0.
"""

from __future__ import annotations

import ipaddress
import json
import secrets

from ...catalog import load_catalog
from ..datetimes import now_iso
from ..errors import AppwriteError, invalid_argument
from ..event_grammar import check_events
from ..events import announce
from ..ids import resolve_id
from ..listing import list_models
from ..outbound import ALLOW_FLAG, Failed, parsed, public
from ..registry import Call, handles
from .store import Webhook, cursor_name, read_all, require

QUERYABLE = {"name", "url", "authUsername", "tls", "events", "enabled", "logs", "attempts"}
MAX_URL_LENGTH = 2048
LOOPBACK_NAMES = ("localhost", "localhost.")


def new_secret() -> str:
    return secrets.token_hex(64)


def check_url(call: Call, value: str) -> str:
    """An http(s) URL with a host, which does not name a loopback or private address outright unless the
    server may send requests there."""
    if len(value) > MAX_URL_LENGTH:
        raise invalid_argument(f"Invalid `url` param: a URL has at most {MAX_URL_LENGTH} characters")
    try:
        host = parsed(value, "it").host
    except Failed as error:
        raise invalid_argument(f"Invalid `url` param: {value!r}: {error}") from None
    if call.outbound.allow_private:
        return value
    try:
        private = not public(ipaddress.ip_address(host))
    except ValueError:
        private = host.lower() in LOOPBACK_NAMES or host.lower().rstrip(".").endswith(".localhost")
    if private:
        raise invalid_argument(
            f"Invalid `url` param: {value!r} leads to a loopback or private address, which this server does not "
            f"send webhooks to (unless started with {ALLOW_FLAG})"
        )
    return value


def settings_of(call: Call) -> dict:
    """The columns the create and update calls set, checked."""
    params = call.params
    return {
        "name": params["name"],
        "url": check_url(call, params["url"]),
        "events": json.dumps(check_events(load_catalog().event_grammar, "events", params["events"])),
        "enabled": int(params.get("enabled", True)),
        "tls": int(params.get("tls", False)),
        "auth_username": params.get("authUsername") or "",
        "auth_password": call.project.cipher.encrypt(params.get("authPassword") or ""),
    }


def changed(call: Call, webhook_id: str, label: str) -> Webhook:
    """The webhook after a change (the delivery worker reads it again), its event announced without the secret."""
    call.project.settings_changed()
    webhook = require(call.project.connection, call.project.cipher, webhook_id)
    announce(call.project, call.auth, f"webhooks.[webhookId].{label}", {"webhookId": webhook_id}, webhook.model())
    return webhook


@handles("webhooks.list")
def list_webhooks(call: Call) -> dict:
    models = [webhook.model() for webhook in read_all(call.project.connection, call.project.cipher).values()]
    total, page = list_models(
        models, call.params.get("queries"), QUERYABLE, count=call.params.get("total", True), noun="webhook"
    )
    return {"total": total, "webhooks": page}


@handles("webhooks.get")
def get_webhook(call: Call) -> dict:
    return require(call.project.connection, call.project.cipher, call.params["webhookId"]).model()


@handles("webhooks.create", announces=True)
def create_webhook(call: Call) -> dict:
    connection = call.project.connection
    webhook_id = resolve_id(call.params["webhookId"], "webhookId")
    values = settings_of(call)
    if connection.execute("SELECT 1 FROM _webhooks WHERE id = ?", (webhook_id,)).fetchone():
        raise AppwriteError(
            "webhook_already_exists", "Webhook with the same ID already exists. Try again with a different ID."
        )
    secret = call.params.get("secret") or new_secret()
    now = now_iso()
    values.update(id=webhook_id, secret=call.project.cipher.encrypt(secret), created=now, updated=now)
    connection.execute(
        f"INSERT INTO _webhooks ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})", tuple(values.values())
    )
    webhook = changed(call, webhook_id, "create")
    # Its place in the stream: after every event so far, its own creation's included.
    connection.execute(
        "INSERT INTO _event_cursors (name, seq, updated) VALUES (?, (SELECT COALESCE(MAX(seq), 0) FROM _events), ?) "
        "ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, updated = excluded.updated",
        (cursor_name(webhook_id), now),
    )
    return webhook.model(with_secret=True)


@handles("webhooks.update", announces=True)
def update_webhook(call: Call) -> dict:
    webhook = require(call.project.connection, call.project.cipher, call.params["webhookId"])
    values = settings_of(call)
    if values["enabled"]:
        values["attempts"] = 0
    assignments = ", ".join(f"{column} = ?" for column in values)
    call.project.connection.execute(
        f"UPDATE _webhooks SET {assignments}, updated = ? WHERE seq = ?", (*values.values(), now_iso(), webhook.seq)
    )
    return changed(call, webhook.id, "update").model()


@handles("webhooks.updateSecret", announces=True)
def update_secret(call: Call) -> dict:
    webhook = require(call.project.connection, call.project.cipher, call.params["webhookId"])
    secret = call.params.get("secret") or new_secret()
    call.project.connection.execute(
        "UPDATE _webhooks SET secret = ?, updated = ? WHERE seq = ?",
        (call.project.cipher.encrypt(secret), now_iso(), webhook.seq),
    )
    return changed(call, webhook.id, "update").model(with_secret=True)


@handles("webhooks.delete", announces=True)
def delete_webhook(call: Call) -> None:
    connection = call.project.connection
    webhook = require(connection, call.project.cipher, call.params["webhookId"])
    connection.execute("DELETE FROM _webhooks WHERE seq = ?", (webhook.seq,))
    connection.execute("DELETE FROM _event_cursors WHERE name = ?", (webhook.cursor,))
    call.project.settings_changed()
    announce(call.project, call.auth, "webhooks.[webhookId].delete", {"webhookId": webhook.id}, webhook.model())
