"""Messages the engine sends (sign-in codes, magic links, verification and recovery links, team
invitations), kept in the project's outbox.

The embedded engine has no mail or SMS server: each message is written atomically as one JSON file
under `<project dir>/outbox/`, where the developer reads it (`baas-mcp outbox`) and a test follows
its link or code. The operation that sends it works exactly as it would with delivery configured.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .datetimes import now_iso
from .ids import new_id
from .private_files import create_private, make_private_dirs


def outbox_dir(project_dir: Path) -> Path:
    return project_dir / "outbox"


def send(project_dir: Path, channel: str, to: str, subject: str, text: str, data: dict) -> dict:
    """Put one message in the outbox; `channel` is "email" or "sms", `data` holds its secret and link."""
    message = {
        "$id": new_id(),
        "time": now_iso(),
        "channel": channel,
        "to": to,
        "subject": subject,
        "text": text,
        "data": data,
    }
    directory = outbox_dir(project_dir)
    make_private_dirs(directory)
    path = directory / f"{message['time'][:19].replace(':', '')}-{message['$id']}.json"
    temporary = path.with_suffix(".tmp")
    with open(create_private(temporary), "w", encoding="utf-8") as handle:
        handle.write(json.dumps(message, indent=2))
    os.replace(temporary, path)
    return message


def messages(project_dir: Path) -> list[dict]:
    """Every message in the outbox, oldest first."""
    directory = outbox_dir(project_dir)
    if not directory.is_dir():
        return []
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(directory.glob("*.json"))]
