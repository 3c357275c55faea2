"""Push providers' requests (utopia-php/messaging's FCM and APNS adapters): URL, auth, body, and how the answer reads.

FCM first trades a JWT signed with the service account's key (RS256) for an access token at Google's token URL,
then sends one request per device token. APNS signs a JWT with the team's key (ES256) and sends one request per
device over HTTP/2 (Apple's only protocol).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import jwt

from .requests import Request, field_of, form, json_body

EXPIRED = "Expired device token"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
# Sends a token request and gives back the answer (status, decoded body); delivery.py provides it.
Exchange = Callable[[Request], tuple[int, Any]]


class NoToken(Exception):
    """The provider gave no access token; the text is the reason (utopia-php's words)."""


def given(message: dict, key: str) -> bool:
    return message.get(key) not in (None, "")


def fcm_body(message: dict) -> dict:
    """The FCM v1 message shared by every device (utopia-php's mapping of title, body, data, action, …)."""
    shared: dict[str, Any] = {}
    notification, android, aps = {}, {}, {}
    if given(message, "title"):
        notification["title"] = message["title"]
    if given(message, "body"):
        notification["body"] = message["body"]
    if message.get("data") is not None:
        shared["data"] = {key: str(value) for key, value in message["data"].items()}
    if given(message, "action"):
        android["click_action"] = message["action"]
        aps["category"] = message["action"]
    if given(message, "image"):
        android["image"] = message["image"]
        aps["mutable-content"] = 1
    if message.get("critical"):
        aps["sound"] = {"critical": 1, **({"name": message["sound"]} if given(message, "sound") else {})}
    elif given(message, "sound"):
        aps["sound"] = message["sound"]
    if given(message, "sound"):
        android["sound"] = message["sound"]
    for key in ("icon", "color", "tag"):
        if given(message, key):
            android[key] = message[key]
    if message.get("badge") is not None and message.get("badge") != -1:
        aps["badge"] = message["badge"]
    if message.get("contentAvailable") is not None:
        aps["content-available"] = int(bool(message["contentAvailable"]))
    if notification:
        shared["notification"] = notification
    if android:
        shared["android"] = {"notification": android}
    apns: dict[str, Any] = {}
    if aps:
        apns["payload"] = {"aps": aps}
    if given(message, "image"):
        apns["fcm_options"] = {"image": message["image"]}
    if message.get("priority") in ("high", "normal"):
        shared.setdefault("android", {})["priority"] = message["priority"]
        apns["headers"] = {"apns-priority": "10" if message["priority"] == "high" else "5"}
    if apns:
        shared["apns"] = apns
    return shared


def fcm_result(status: int, answer: Any) -> list[str | None]:
    """One device's outcome: delivered (None), its token expired, or FCM's error message."""
    if status == 200:
        return [None]
    error = field_of(answer, "error")
    if field_of(error, "status") in ("UNREGISTERED", "NOT_FOUND"):
        return [EXPIRED]
    return [field_of(error, "message") or f"Request failed (HTTP status {status})"]


def fcm(provider: dict, message: dict, recipients: list[str], exchange: Exchange) -> list[Request]:
    account = provider["credentials"].get("serviceAccountJSON") or {}
    now = int(time.time())
    try:
        assertion = jwt.encode(
            {"iss": account.get("client_email"), "exp": now + 3600, "iat": now - 60, "scope": FCM_SCOPE,
             "aud": GOOGLE_TOKEN_URL},
            account.get("private_key") or "",
            algorithm="RS256",
        )  # fmt: skip
    except (ValueError, TypeError, jwt.PyJWTError) as error:
        raise NoToken(f"Failed to obtain FCM access token: the service account's private key: {error}") from None
    headers, body = form({"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion})
    status, answer = exchange(Request("fcm", "POST", GOOGLE_TOKEN_URL, body, (), lambda *_: [], headers))
    token = field_of(answer, "access_token")
    if status != 200 or not isinstance(token, str):
        raise NoToken(f"Failed to obtain FCM access token: HTTP {status}")
    shared = fcm_body(message)
    url = f"https://fcm.googleapis.com/v1/projects/{account.get('project_id', '')}/messages:send"
    requests = []
    for to in recipients:
        json_headers, content = json_body({"message": {**shared, "token": to}})
        json_headers["Authorization"] = f"Bearer {token}"
        requests.append(Request("fcm", "POST", url, content, (to,), fcm_result, json_headers))
    return requests


def apns_body(message: dict) -> dict:
    aps: dict[str, Any] = {}
    alert = {key: message[key] for key in ("title", "body") if given(message, key)}
    if alert:
        aps["alert"] = alert
    if message.get("data") is not None:
        aps["data"] = message["data"]
    if given(message, "action"):
        aps["category"] = message["action"]
    if message.get("critical"):
        aps["sound"] = {"critical": 1, "name": message.get("sound") or "default", "volume": 1.0}
    elif given(message, "sound"):
        aps["sound"] = message["sound"]
    if message.get("badge") is not None and message.get("badge") != -1:
        aps["badge"] = message["badge"]
    if message.get("contentAvailable") is not None:
        aps["content-available"] = int(bool(message["contentAvailable"]))
    return {"aps": aps}


def apns_result(status: int, answer: Any) -> list[str | None]:
    """One device's outcome: delivered (None), its token expired, or Apple's reason."""
    if status == 200:
        return [None]
    reason = field_of(answer, "reason")
    return [EXPIRED if reason in ("ExpiredToken", "BadDeviceToken") else reason or f"HTTP status {status}"]


def apns(provider: dict, message: dict, recipients: list[str], exchange: Exchange) -> list[Request]:
    credentials = provider["credentials"]
    now = int(time.time())
    try:
        token = jwt.encode(
            {"iss": credentials.get("teamId", ""), "iat": now, "exp": now + 3600},
            credentials.get("authKey", ""),
            algorithm="ES256",
            headers={"kid": credentials.get("authKeyId", "")},
        )
    except (ValueError, TypeError, jwt.PyJWTError) as error:
        raise NoToken(f"Failed to sign the APNS token with the auth key: {error}") from None
    sandbox = provider["options"].get("sandbox")
    endpoint = "https://api.development.push.apple.com" if sandbox else "https://api.push.apple.com"
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {token}",
        "apns-topic": credentials.get("bundleId", ""),
        "apns-push-type": "alert",
    }
    if message.get("priority") in ("high", "normal"):
        headers["apns-priority"] = "10" if message["priority"] == "high" else "5"
    body = json.dumps(apns_body(message)).encode()
    return [
        Request("apns", "POST", f"{endpoint}/3/device/{to}", body, (to,), apns_result, headers) for to in recipients
    ]


ADAPTERS = {"fcm": fcm, "apns": apns}
