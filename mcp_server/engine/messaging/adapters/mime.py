"""An email message as a MIME document (for SMTP and SES's raw sending), built as PHPMailer builds Appwrite's: the
provider's sender and reply-to, the content as HTML with a plain-text alternative or as plain text, Cc, attachments."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import formataddr

from ...mail import one_line

STYLE = re.compile(r"<style\b[^>]*>.*?</style>", re.IGNORECASE | re.DOTALL)
TAG = re.compile(r"<[^>]*>")


def sender(provider: dict) -> tuple[str, str, str, str]:
    """(from name, from address, reply-to name, reply-to address); reply-to defaults to the sender."""
    options = provider["options"]
    from_name, from_email = options.get("fromName") or "", options.get("fromEmail") or ""
    reply_email = options.get("replyToEmail") or from_email
    reply_name = options.get("replyToName") or (from_name if reply_email == from_email else "")
    return from_name, from_email, reply_name, reply_email


def plain(html: str) -> str:
    """The text alternative of HTML content (style blocks and tags removed)."""
    return TAG.sub("", STYLE.sub("", html)).strip()


def document(provider: dict, message: dict, to: list[str], mailer: str = "") -> EmailMessage:
    from_name, from_email, reply_name, reply_email = sender(provider)
    email = EmailMessage()
    email["From"] = formataddr((one_line(from_name), from_email))
    email["To"] = ", ".join(to) if to else "undisclosed-recipients:;"
    if message.get("cc"):
        email["Cc"] = ", ".join(message["cc"])
    email["Subject"] = one_line(message.get("subject") or "")
    if reply_email:
        email["Reply-To"] = formataddr((one_line(reply_name), reply_email))
    if mailer:
        email["X-Mailer"] = one_line(mailer)
    content = message.get("content") or ""
    if message.get("html"):
        email.set_content(plain(content))
        email.add_alternative(content, subtype="html")
    else:
        email.set_content(content)
    for filename, content_type, data in message.get("attachments") or []:
        maintype, _, subtype = (content_type or "application/octet-stream").partition("/")
        email.add_attachment(data, maintype=maintype, subtype=subtype or "octet-stream", filename=filename)
    return email
