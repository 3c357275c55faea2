"""Email providers' requests (utopia-php/messaging's Sendgrid, Mailgun, Resend and SES adapters): URL, auth, body,
how many recipients one request takes, and how the answer reads. Cc and Bcc are addresses; attachments are
(filename, content type, bytes)."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import secrets
from typing import Any

from .mime import document, sender
from .requests import Request, basic, field_of, form, json_body, same_for_all

UNKNOWN = "Unknown error"


def named(name: str, address: str) -> str:
    return f"{name} <{address}>" if name else address


def batches(recipients: list[str], size: int) -> list[list[str]]:
    return [recipients[start : start + size] for start in range(0, len(recipients), size)]


def sendgrid(provider: dict, message: dict, recipients: list[str]) -> list[Request]:
    """v3 mail/send: one personalization per recipient (Cc and Bcc in each), up to 1000 a request; 202 is sent."""
    from_name, from_email, reply_name, reply_email = sender(provider)
    subject = message.get("subject") or ""
    requests = []
    for batch in batches(recipients, 1000):
        personalizations = []
        for to in batch:
            personalization: dict[str, Any] = {"to": [{"email": to}], "subject": subject}
            if message.get("cc"):
                personalization["cc"] = [{"email": cc} for cc in message["cc"]]
            if message.get("bcc"):
                personalization["bcc"] = [{"email": bcc} for bcc in message["bcc"]]
            personalizations.append(personalization)
        body: dict[str, Any] = {
            "personalizations": personalizations,
            "reply_to": {"name": reply_name, "email": reply_email},
            "from": {"name": from_name, "email": from_email},
            "content": [
                {"type": "text/html" if message.get("html") else "text/plain", "value": message.get("content") or ""}
            ],
        }
        if message.get("attachments"):
            body["attachments"] = [
                {
                    "content": base64.b64encode(data).decode("ascii"),
                    "filename": filename,
                    "type": content_type,
                    "disposition": "attachment",
                }
                for filename, content_type, data in message["attachments"]
            ]
        headers, content = json_body(body)
        headers["Authorization"] = f"Bearer {provider['credentials'].get('apiKey', '')}"

        def read(status: int, answer: Any, count: int = len(batch)) -> list[str | None]:
            if status == 202:
                return same_for_all(count, None)
            error = answer if isinstance(answer, str) and answer else field_of(answer, "errors", 0, "message")
            return same_for_all(count, error or UNKNOWN)

        url = "https://api.sendgrid.com/v3/mail/send"
        requests.append(Request("sendgrid", "POST", url, content, tuple(batch), read, headers))
    return requests


def multipart(fields: dict[str, str], files: list[tuple[str, str, str, bytes]]) -> tuple[dict[str, str], bytes]:
    """A multipart/form-data body of fields and files (field name, filename, content type, bytes)."""
    boundary = secrets.token_hex(16)
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value.encode())
    for name, filename, content_type, data in files:
        safe = filename.replace('"', "").replace("\r", "").replace("\n", "")
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{safe}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        )
        parts.append(head.encode() + data)
    body = b"\r\n".join(parts) + f"\r\n--{boundary}--\r\n".encode()
    return {"Content-Type": f"multipart/form-data; boundary={boundary}"}, body


def mailgun(provider: dict, message: dict, recipients: list[str]) -> list[Request]:
    """v3/<domain>/messages on the US or EU host, Basic auth as `api`; up to 1000 recipients a request (with
    recipient-variables so each sees only their own address); a form, or multipart with attachments."""
    credentials = provider["credentials"]
    from_name, from_email, reply_name, reply_email = sender(provider)
    host = "api.eu.mailgun.net" if credentials.get("isEuRegion") else "api.mailgun.net"
    content, html = message.get("content") or "", bool(message.get("html"))
    requests = []
    for batch in batches(recipients, 1000):
        fields = {
            "to": ",".join(batch),
            "from": f"{from_name} <{from_email}>",
            "subject": message.get("subject") or "",
            "html" if html else "text": content,
            "h:Reply-To": f"{reply_name} <{reply_email}>",
        }
        if len(batch) > 1:
            fields["recipient-variables"] = json.dumps({to: [] for to in batch})
        if message.get("cc"):
            fields["cc"] = ",".join(message["cc"])
        if message.get("bcc"):
            fields["bcc"] = ",".join(message["bcc"])
        attachments = message.get("attachments") or []
        if attachments:
            files = [(f"attachment[{i}]", name, kind, data) for i, (name, kind, data) in enumerate(attachments)]
            headers, body = multipart(fields, files)
        else:
            headers, body = form(fields)
        headers["Authorization"] = basic("api", credentials.get("apiKey", ""))

        def read(status: int, answer: Any, count: int = len(batch)) -> list[str | None]:
            if 200 <= status < 300:
                return same_for_all(count, None)
            error = answer if isinstance(answer, str) and answer else field_of(answer, "message")
            return same_for_all(count, error or UNKNOWN)

        url = f"https://{host}/v3/{credentials.get('domain', '')}/messages"
        requests.append(Request("mailgun", "POST", url, body, tuple(batch), read, headers))
    return requests


def resend(provider: dict, message: dict, recipients: list[str]) -> list[Request]:
    """One email per recipient: up to 100 in a batch request, or each on its own with attachments."""
    from_name, from_email, reply_name, reply_email = sender(provider)
    attachments = [
        {"filename": name, "content": base64.b64encode(data).decode("ascii"), "content_type": kind}
        for name, kind, data in message.get("attachments") or []
    ]
    headers = {"Authorization": f"Bearer {provider['credentials'].get('apiKey', '')}"}

    def email(to: str) -> dict:
        built: dict[str, Any] = {
            "from": named(from_name, from_email),
            "to": [to],
            "subject": message.get("subject") or "",
            "html" if message.get("html") else "text": message.get("content") or "",
        }
        if reply_email:
            built["reply_to"] = [named(reply_name, reply_email)]
        if message.get("cc"):
            built["cc"] = list(message["cc"])
        if attachments:
            built["attachments"] = attachments
        if message.get("bcc"):
            built["bcc"] = list(message["bcc"])
        return built

    def error_of(answer: Any, default: str) -> str:
        return field_of(answer, "message") or (answer if isinstance(answer, str) and answer else default)

    if attachments:
        requests = []
        for to in recipients:
            json_headers, body = json_body(email(to))

            def read_one(status: int, answer: Any) -> list[str | None]:
                return [None if 200 <= status < 300 else error_of(answer, UNKNOWN)]

            url = "https://api.resend.com/emails"
            requests.append(Request("resend", "POST", url, body, (to,), read_one, {**json_headers, **headers}))
        return requests
    requests = []
    for batch in batches(recipients, 100):
        json_headers, body = json_body([email(to) for to in batch])

        def read(status: int, answer: Any, count: int = len(batch)) -> list[str | None]:
            if status == 200:
                failed = {field_of(e, "index"): field_of(e, "message") for e in field_of(answer, "errors") or []}
                return [failed.get(index) for index in range(count)]
            return same_for_all(count, error_of(answer, UNKNOWN if status < 500 else "Server error"))

        url = "https://api.resend.com/emails/batch"
        requests.append(Request("resend", "POST", url, body, tuple(batch), read, {**json_headers, **headers}))
    return requests


def signed(credentials: dict, host: str, path: str, body: bytes) -> dict[str, str]:
    """AWS Signature Version 4 headers of a POST to SES (service `ses`)."""
    region, now = credentials.get("region", ""), datetime.datetime.now(datetime.UTC)
    stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    canonical = "\n".join(
        ["POST", path, "", f"content-type:application/json\nhost:{host}\nx-amz-date:{stamp}\n",
         "content-type;host;x-amz-date", hashlib.sha256(body).hexdigest()]
    )  # fmt: skip
    scope = f"{day}/{region}/ses/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = ("AWS4" + credentials.get("secretKey", "")).encode()
    for part in (day, region, "ses", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    authorization = (
        f"AWS4-HMAC-SHA256 Credential={credentials.get('accessKey', '')}/{scope}, "
        f"SignedHeaders=content-type;host;x-amz-date, Signature={signature}"
    )
    return {"Content-Type": "application/json", "X-Amz-Date": stamp, "Authorization": authorization}


def ses(provider: dict, message: dict, recipients: list[str]) -> list[Request]:
    """SES v2 SendEmail with the raw MIME message, one request per recipient, signed with AWS Signature V4."""
    credentials = provider["credentials"]
    from_name, from_email, reply_name, reply_email = sender(provider)
    host, path = f"email.{credentials.get('region', '')}.amazonaws.com", "/v2/email/outbound-emails"
    requests = []
    for to in recipients:
        mime = document(provider, {**message, "cc": message.get("cc")}, [to]).as_bytes()
        payload: dict[str, Any] = {
            "FromEmailAddress": named(from_name, from_email),
            "Destination": {"ToAddresses": [to], "CcAddresses": message.get("cc") or [],
                            "BccAddresses": message.get("bcc") or []},
            "Content": {"Raw": {"Data": base64.b64encode(mime).decode("ascii")}},
        }  # fmt: skip
        if reply_email:
            payload["ReplyToAddresses"] = [named(reply_name, reply_email)]
        body = json.dumps(payload).encode()

        def read(status: int, answer: Any) -> list[str | None]:
            return [None if 200 <= status < 300 else field_of(answer, "message") or UNKNOWN]

        headers = signed(credentials, host, path, body)
        requests.append(Request("ses", "POST", f"https://{host}{path}", body, (to,), read, headers))
    return requests


ADAPTERS = {"sendgrid": sendgrid, "mailgun": mailgun, "resend": resend, "ses": ses}
