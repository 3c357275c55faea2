"""Messages the engine sends (sign-in codes, magic links, verification and recovery links, team
invitations, session alerts), kept in the project's outbox, and emailed through the project's SMTP
server when it has one enabled.

Each message is written atomically as one JSON file under `<project dir>/outbox/`, where the
developer reads it (`baas-mcp outbox`) and a test follows its link or code. An email is rendered from
the project's template for it (email_templates.py). When custom SMTP is enabled (mail.py), the email is
also sent, after the file is written, on a thread of its own (the operation never waits for the mail
server); the file then records the outcome under `delivery` ({"status": "sent"} or {"status":
"failed", "error": ...}). Without SMTP the operation works exactly as it would with delivery configured.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from . import email_templates, mail
from .datetimes import now_iso
from .ids import new_id
from .outbound import Failed, Outbound
from .private_files import create_private, make_private_dirs


def outbox_dir(project_dir: Path) -> Path:
    return project_dir / "outbox"


def path_of(project_dir: Path, message: dict) -> Path:
    return outbox_dir(project_dir) / f"{message['time'][:19].replace(':', '')}-{message['$id']}.json"


def write(path: Path, message: dict) -> None:
    temporary = path.with_suffix(".tmp")
    with open(create_private(temporary), "w", encoding="utf-8") as handle:
        handle.write(json.dumps(message, indent=2))
    os.replace(temporary, path)


def send(project_dir: Path, channel: str, to: str, subject: str, text: str, data: dict, **extra: Any) -> dict:
    """Put one message in the outbox; `channel` is "email" or "sms", `data` holds its secret and link."""
    message = {
        "$id": new_id(),
        "time": now_iso(),
        "channel": channel,
        "to": to,
        "subject": subject,
        "text": text,
        "data": data,
        **extra,
    }
    directory = outbox_dir(project_dir)
    make_private_dirs(directory)
    write(path_of(project_dir, message), message)
    return message


def send_email(project: Any, outbound: Outbound, template_id: str, to: str, values: dict[str, str], data: dict) -> dict:
    """Email `to` the project's `template_id` with `values` filled in: into the outbox, and through the
    project's SMTP server when it is enabled."""
    connection = project.connection
    rendered = email_templates.render(connection, template_id, values)
    settings = mail.read(project, connection)
    project_dir = project.db.path.parent
    extra = {"template": template_id, "html": rendered.html}
    if settings["enabled"]:
        extra["delivery"] = {"status": "pending"}
    message = send(project_dir, "email", to, rendered.subject, rendered.body, data, **extra)
    if settings["enabled"]:
        email = mail.message(settings, to, rendered.subject, rendered.body, html=rendered.html, sender=rendered.sender)
        target = path_of(project_dir, message)
        threading.Thread(target=deliver_later, args=(settings, email, outbound, target, message)).start()
    return message


def deliver_later(settings: dict, email: Any, outbound: Outbound, path: Path, message: dict) -> None:
    """Send an outbox email through SMTP and note the outcome in its file (bounded by mail.SEND_TIMEOUT)."""
    try:
        mail.deliver(settings, [email], outbound)
        outcome = {"status": "sent"}
    except Failed as error:
        outcome = {"status": "failed", "error": str(error)}
    write(path, {**message, "delivery": outcome})


def messages(project_dir: Path) -> list[dict]:
    """Every message in the outbox, oldest first."""
    directory = outbox_dir(project_dir)
    if not directory.is_dir():
        return []
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(directory.glob("*.json"))]
