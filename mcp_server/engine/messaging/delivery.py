"""Delivering a message through a provider, as Appwrite's messaging worker does (src/Appwrite/Platform/Workers/
Messaging.php with utopia-php/messaging): `pick_provider` chooses the provider of a message type, `deliver` sends
a message's content to its recipients' identifiers (addresses, phone numbers, device tokens) and tells how many got
it and each failure in Appwrite's words. A provider's failure (refused connection, timeout, an error answer) is an
error entry, never an exception.

SMTP providers deliver through engine/mail.py. Every other provider is sent its real HTTP request, through the
outbound policy (loopback and private addresses need --allow-private-urls), bounded in time and size. The
environment variable `BAAS_MCP_MESSAGING_BASE_URL_<PROVIDER>` (e.g. `…_TWILIO=http://127.0.0.1:9000`) sends a
provider's requests to that base URL instead of the provider's own (path and query kept): a local receiver for tests
and offline development.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from ..outbound import Failed, Outbound, trusted_roots
from .adapters import email, push, sms, smtp
from .adapters.requests import Request, decoded
from .store import find, first_enabled

BASE_URL_VARIABLE = "BAAS_MCP_MESSAGING_BASE_URL_"
TIMEOUT = 30.0  # utopia-php/messaging's request timeout
MAX_ANSWER_BYTES = 1_000_000
KINDS = ("email", "sms", "push")
HTTP_ADAPTERS = {**email.ADAPTERS, **sms.ADAPTERS}


@dataclass
class Delivery:
    """How many recipients the provider took the message for, and each failure as Appwrite records it in the
    message's `deliveryErrors`."""

    delivered: int = 0
    errors: list[str] = field(default_factory=list)

    def failed(self, recipient: str, error: str) -> None:
        self.errors.append(f"Failed sending to target {recipient} with error: {error}")


def pick_provider(connection: sqlite3.Connection, kind: str) -> dict | None:
    """The provider Appwrite sends a message of `kind` (email, sms, push) with when its targets name none: the first
    enabled provider of that type, in order of creation. Its Provider model without the credentials (deliver opens
    them)."""
    return first_enabled(connection, kind)


def base_url(provider: str, url: str) -> str:
    """`url`, or the same path at the base URL the environment names for the provider."""
    base = os.environ.get(BASE_URL_VARIABLE + provider.upper(), "").rstrip("/")
    if not base:
        return url
    parts = urlsplit(url)
    return base + parts.path + (f"?{parts.query}" if parts.query else "")


def exchange(client: httpx.Client, outbound: Outbound, request: Request) -> tuple[int, Any]:
    """Send one request; (status, decoded answer). Raises Failed when no answer came."""
    headers = {"User-Agent": f"Appwrite {request.provider} Message Sender", **request.headers}
    answer = outbound.fetch(
        client,
        request.method,
        base_url(request.provider, request.url),
        timeout=TIMEOUT,
        max_bytes=MAX_ANSWER_BYTES,
        max_redirects=0,
        content=request.body,
        headers=headers,
    )
    return answer.status, decoded(answer.body)


def send_http(provider: dict, message: dict, recipients: list[str], outbound: Outbound, result: Delivery) -> None:
    name = provider["provider"]
    with httpx.Client(verify=trusted_roots(), trust_env=False, http2=name == "apns") as client:
        try:
            if name in push.ADAPTERS:
                requests = push.ADAPTERS[name](provider, message, recipients, lambda r: exchange(client, outbound, r))
            else:
                requests = HTTP_ADAPTERS[name](provider, message, recipients)
        except (Failed, push.NoToken) as error:
            result.errors.append(f"Failed sending to targets with error: {error}")
            return
        for request in requests:
            try:
                status, answer = exchange(client, outbound, request)
            except Failed as error:
                for recipient in request.recipients:
                    result.failed(recipient, str(error))
                continue
            for recipient, error in zip(request.recipients, request.read(status, answer), strict=True):
                if error is None:
                    result.delivered += 1
                else:
                    result.failed(recipient, str(error))


def deliver(engine: Any, project: Any, provider: dict, kind: str, message: dict, recipients: list[str]) -> Delivery:
    """Send `message` (the Message model's `data`: email subject, content, html, cc and bcc as addresses, attachments
    as (filename, content type, bytes); sms content; push title, body, data, action, sound, image (a URL), icon,
    color, tag, badge, critical, contentAvailable, priority) of `kind` to `recipients` through `provider` (a Provider
    model, e.g. pick_provider's), its credentials read again from `project` (a Project, or its id). Run it outside
    any write transaction: it waits on the network."""
    result = Delivery()
    if isinstance(project, str):
        project = engine.project(project)
    with project.db.reading() as connection:
        current = find(connection, project.cipher, provider["$id"])
    if current is None:
        result.errors.append("Failed sending to targets with error: Provider with the requested ID could not be found")
        return result
    if current["type"] != kind:
        result.errors.append(
            "Failed sending to targets with error: Provider with the requested ID is of the incorrect type"
        )
        return result
    if not recipients:
        return result
    if current["provider"] == "smtp":
        for recipient, error in zip(recipients, smtp.send(current, message, recipients, engine.outbound), strict=True):
            if error is None:
                result.delivered += 1
            else:
                result.failed(recipient, error)
        return result
    send_http(current, message, recipients, engine.outbound, result)
    return result
