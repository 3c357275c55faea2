"""SMS providers' requests (utopia-php/messaging's Twilio, Vonage, Msg91, Telesign, TextMagic adapters): URL, auth,
body, how many recipients one request takes, and how the answer reads."""

from __future__ import annotations

import secrets
from typing import Any

from .requests import Request, basic, field_of, form, json_body, same_for_all

UNKNOWN = "Unknown error"


def twilio(provider: dict, message: dict, recipients: list[str]) -> list[Request]:
    """One request per number."""
    credentials, sender = provider["credentials"], provider["options"].get("from")
    sid = credentials.get("accountSid", "")
    requests = []
    for to in recipients:
        headers, body = form({"Body": message.get("content", ""), "From": sender, "To": to})
        headers["Authorization"] = basic(sid, credentials.get("authToken", ""))

        def read(status: int, answer: Any) -> list[str | None]:
            if 200 <= status < 300:
                return [None]
            return [field_of(answer, "message") or UNKNOWN]

        url = f"https://api.twilio.com/2010-04-01/Accounts/{sid}/Messages.json"
        requests.append(Request("twilio", "POST", url, body, (to,), read, headers))
    return requests


def vonage(provider: dict, message: dict, recipients: list[str]) -> list[Request]:
    """One request per number (without its +); the key and secret in the form."""
    credentials, sender = provider["credentials"], provider["options"].get("from")
    requests = []
    for to in recipients:
        headers, body = form(
            {
                "text": message.get("content", ""),
                "from": sender,
                "to": to.lstrip("+"),
                "api_key": credentials.get("apiKey", ""),
                "api_secret": credentials.get("apiSecret", ""),
            }
        )

        def read(status: int, answer: Any) -> list[str | None]:
            if field_of(answer, "messages", 0, "status") in (0, "0"):
                return [None]
            return [field_of(answer, "messages", 0, "error-text") or UNKNOWN]

        requests.append(Request("vonage", "POST", "https://rest.nexmo.com/sms/json", body, (to,), read, headers))
    return requests


def msg91(provider: dict, message: dict, recipients: list[str]) -> list[Request]:
    """A flow with the provider's template, up to 100 numbers a request."""
    credentials, content = provider["credentials"], message.get("content", "")
    requests = []
    for start in range(0, len(recipients), 100):
        batch = recipients[start : start + 100]
        headers, body = json_body(
            {
                "sender": credentials.get("senderId", ""),
                "template_id": credentials.get("templateId", ""),
                "recipients": [{"mobiles": to.lstrip("+"), "content": content, "otp": content} for to in batch],
            }
        )
        headers["Authkey"] = credentials.get("authKey", "")

        def read(status: int, answer: Any, count: int = len(batch)) -> list[str | None]:
            return same_for_all(count, None if status == 200 else UNKNOWN)

        url = "https://api.msg91.com/api/v5/flow/"
        requests.append(Request("msg91", "POST", url, body, tuple(batch), read, headers))
    return requests


def telesign(provider: dict, message: dict, recipients: list[str]) -> list[Request]:
    """A bulk SMS, up to 1000 numbers a request, each with a reference of its own."""
    credentials = provider["credentials"]
    requests = []
    for start in range(0, len(recipients), 1000):
        batch = recipients[start : start + 1000]
        numbers = ",".join(f"{to}:{secrets.token_hex(6)}" for to in batch)
        headers, body = form({"template": message.get("content", ""), "recipients": numbers})
        headers["Authorization"] = basic(credentials.get("customerId", ""), credentials.get("apiKey", ""))

        def read(status: int, answer: Any, count: int = len(batch)) -> list[str | None]:
            if status == 200:
                return same_for_all(count, None)
            return same_for_all(count, field_of(answer, "errors", 0, "description") or UNKNOWN)

        url = "https://rest-ww.telesign.com/v1/verify/bulk_sms"
        requests.append(Request("telesign", "POST", url, body, tuple(batch), read, headers))
    return requests


def textmagic(provider: dict, message: dict, recipients: list[str]) -> list[Request]:
    """Up to 1000 numbers (without their +) a request; the username and key in X-TM headers."""
    credentials = provider["credentials"]
    requests = []
    for start in range(0, len(recipients), 1000):
        batch = recipients[start : start + 1000]
        headers, body = form(
            {
                "text": message.get("content", ""),
                "from": (provider["options"].get("from") or "").lstrip("+"),
                "phones": ",".join(to.lstrip("+") for to in batch),
            }
        )
        headers["X-TM-Username"] = credentials.get("username", "")
        headers["X-TM-Key"] = credentials.get("apiKey", "")

        def read(status: int, answer: Any, count: int = len(batch)) -> list[str | None]:
            if 200 <= status < 300:
                return same_for_all(count, None)
            return same_for_all(count, field_of(answer, "message") or UNKNOWN)

        url = "https://rest.textmagic.com/api/v2/messages"
        requests.append(Request("textmagic", "POST", url, body, tuple(batch), read, headers))
    return requests


ADAPTERS = {"twilio": twilio, "vonage": vonage, "msg91": msg91, "telesign": telesign, "textmagic": textmagic}
