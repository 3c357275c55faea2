"""One delivery of one event to one webhook: the signed POST Appwrite's webhooks worker sends, and its outcome.

As Appwrite 1.9.6 sends it (src/Appwrite/Platform/Workers/Webhooks.php): the body is the JSON of the
event's payload (the resource as the API answered it); the headers are `X-Appwrite-Webhook-Id`,
`-Events` (every name of the event, comma-joined), `-Name`, `-User-Id`, `-Project-Id` and `-Signature`,
the base64 of HMAC-SHA1 keyed with the webhook's secret over the URL (percent-decoded) followed by the
body. `authUsername`/`authPassword` become HTTP Basic auth; the receiver's certificate is checked only
when `tls` is on (Appwrite's default leaves it off); 15 s, 5 redirects and a 5 MB answer at most. The
request goes where outbound.py lets the engine's requests go, through a connection kept for the webhook's
next delivery (http_sender.py). An answer below 400 is delivered.

Added to Appwrite's headers: `X-Appwrite-Webhook-Delivery-Id`, the event's sequence number in the
project's stream (the same each time the same event is sent, so a receiver can drop repeats), and
`X-Appwrite-Webhook-Attempt`, counting the tries of this delivery from 1.

The outcome says whether trying again may help (the receiver could not be reached, or answered 408,
429 or 5xx) and when the receiver asked to be tried again (`Retry-After`, seconds or an HTTP date).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import unquote_to_bytes

from ... import __version__
from ..errors import API_VERSION
from ..events import Event
from ..http_sender import Sender
from ..outbound import Failed, Outbound
from .store import Webhook

USER_AGENT = f"baas-mcp/{__version__} (Appwrite {API_VERSION} webhooks)"
RETRY_STATUSES = frozenset({408, 429})
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
compact = json.JSONEncoder(separators=(",", ":")).encode


@dataclass(frozen=True)
class DeliveryPolicy:
    """How deliveries are sent and tried again: Appwrite's limits (15 s, 5 redirects, 5 MB, disabled after 10
    failed attempts in a row), and the retries Appwrite does not make: after `first_retry` seconds, doubling
    up to `max_retry`, each wait drawn between half and all of it; a receiver's Retry-After is waited for,
    up to `max_retry_after`."""

    timeout: float = 15.0
    max_redirects: int = 5
    max_response_bytes: int = 5 * 1024 * 1024
    max_failures: int = 10
    first_retry: float = 1.0
    max_retry: float = 300.0
    max_retry_after: float = 3600.0

    def retry_delay(self, failures: int, retry_after: float | None = None) -> float:
        """Seconds to wait before the next try, after `failures` failed tries in a row."""
        ceiling = min(self.max_retry, self.first_retry * 2 ** max(failures - 1, 0))
        delay = ceiling / 2 + random.uniform(0, ceiling / 2)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_retry_after))
        return delay


@dataclass(frozen=True)
class Outcome:
    """How a try went: delivered, or failed with Appwrite's log of it, and whether to try again (when)."""

    delivered: bool
    retry: bool = False
    log: str = ""
    retry_after: float | None = None


def signature(secret: str, url: str, body: bytes) -> str:
    """X-Appwrite-Webhook-Signature: base64(HMAC-SHA1(secret, percent-decoded URL + body))."""
    digest = hmac.new(secret.encode("utf-8"), unquote_to_bytes(url) + body, hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def header_value(text: str) -> bytes:
    """A header value from text a caller chose (a webhook's name): UTF-8, control characters as spaces."""
    return CONTROL.sub(" ", text).encode("utf-8")


def body_of(event: Event) -> bytes:
    return compact(event.payload).encode("utf-8")


def request_headers(webhook: Webhook, project_id: str, event: Event, body: bytes, attempt: int) -> dict:
    headers: dict[str, str | bytes] = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Appwrite-Webhook-Id": webhook.id,
        "X-Appwrite-Webhook-Events": ",".join(event.names),
        "X-Appwrite-Webhook-Name": header_value(webhook.name),
        "X-Appwrite-Webhook-User-Id": event.user_id,
        "X-Appwrite-Webhook-Project-Id": project_id,
        "X-Appwrite-Webhook-Signature": signature(webhook.secret, webhook.url, body),
        "X-Appwrite-Webhook-Delivery-Id": str(event.seq),
        "X-Appwrite-Webhook-Attempt": str(attempt),
    }
    if webhook.auth_username and webhook.auth_password:
        credentials = f"{webhook.auth_username}:{webhook.auth_password}".encode()
        headers["Authorization"] = b"Basic " + base64.b64encode(credentials)
    return headers


def new_sender(outbound: Outbound, tls: bool) -> Sender:
    """A sender for one webhook's deliveries (its connection kept for the next): checking certificates or not."""
    return Sender(outbound, verify=tls)


def deliver(
    sender: Sender,
    webhook: Webhook,
    project_id: str,
    event: Event,
    policy: DeliveryPolicy,
    attempt: int = 1,
) -> Outcome:
    """Send `event` to `webhook` once (blocking; up to `policy.timeout` seconds)."""
    body = body_of(event)
    headers = request_headers(webhook, project_id, event, body, attempt)
    log = f"URL: {webhook.url}\nMethod: POST\n"
    try:
        answer = sender.request(
            "POST",
            webhook.url,
            content=body,
            headers=headers,
            timeout=policy.timeout,
            max_bytes=policy.max_response_bytes,
            max_redirects=policy.max_redirects,
        )
    except Failed as error:
        log += f"Error: {error}\nEvents: {', '.join(event.names)}\n"
        return Outcome(False, retry=True, log=log)
    if answer.status < 400:
        return Outcome(True)
    text = answer.body[:10_000].decode("utf-8", "replace")
    log += f"Status code: {answer.status}\nBody: \n{text}\n"
    retry = answer.status in RETRY_STATUSES or answer.status >= 500
    return Outcome(False, retry=retry, log=log, retry_after=retry_after(answer.headers.get("retry-after", "")))


def retry_after(value: str) -> float | None:
    """Seconds from a Retry-After header (a number of seconds or an HTTP date), None when absent or unreadable."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(min(int(value[:9]), 10**8))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - datetime.now(UTC)).total_seconds(), 0.0)
