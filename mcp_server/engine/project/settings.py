"""The project's own record: its settings kept in `_meta`, Appwrite's Project model, and project.get and
project.updateLabels.

The embedded project has no console, team or region: its name is its id unless
organization.createProject or updateProject named it, teamId is empty, its region
is Appwrite's self-hosted `default`, and it is always `active`. Its labels and switches (sign-in
methods, services, protocols: switches.py) are JSON values in `_meta` under `project.<name>`; every
change of one moves the project's `$updatedAt`.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from .. import mail
from ..datetimes import now_iso
from ..errors import invalid_argument
from ..projectdb import PING_COUNT, PINGED_AT, read_setting, write_setting
from ..registry import Call, handles

MAX_LABELS = 1000
LABEL = re.compile(r"[A-Za-z0-9]{1,36}")

# Appwrite's sign-in methods (app/config/auth.php): the id the API takes, the key the project stores.
AUTH_METHODS = {
    "email-password": "emailPassword",
    "magic-url": "usersAuthMagicURL",
    "email-otp": "emailOtp",
    "anonymous": "anonymous",
    "invites": "invites",
    "jwt": "JWT",
    "phone": "phone",
}
# The services a project may switch off (app/config/services.php, those marked optional), in its order.
SERVICES = (
    "account avatars databases tablesdb locale health project storage teams users vcs sites functions proxy "
    "graphql migrations messaging advisor"
).split()
PROTOCOLS = ("rest", "graphql", "websocket")
# The Project model's SMTP fields and the settings (mail.py) they show; the password is never shown.
SMTP_FIELDS = {
    "smtpEnabled": "enabled",
    "smtpSenderName": "senderName",
    "smtpSenderEmail": "senderEmail",
    "smtpReplyToName": "replyToName",
    "smtpReplyToEmail": "replyToEmail",
    "smtpHost": "host",
    "smtpPort": "port",
    "smtpUsername": "username",
    "smtpSecure": "secure",
}
# Appwrite's OAuth2 server fields of the Project model (SDK 20.1.0): off in the embedded engine.
OAUTH2_SERVER = {
    "oAuth2ServerEnabled": False,
    "oAuth2ServerAuthorizationUrl": "",
    "oAuth2ServerScopes": [],
    "oAuth2ServerAccessTokenDuration": 0,
    "oAuth2ServerRefreshTokenDuration": 0,
    "oAuth2ServerPublicAccessTokenDuration": 0,
    "oAuth2ServerPublicRefreshTokenDuration": 0,
    "oAuth2ServerConfidentialPkce": False,
    "oAuth2ServerDiscoveryUrl": "",
}


def read(connection: sqlite3.Connection, name: str, default: Any) -> Any:
    return read_setting(connection, f"project.{name}", default)


def store(connection: sqlite3.Connection, name: str, value: Any) -> None:
    """Set one setting (inside the caller's transaction) and move the project's $updatedAt."""
    write_setting(connection, f"project.{name}", value)
    write_setting(connection, "project.updated", now_iso())


def switches(values: dict, ids: list[str] | tuple[str, ...], keys: dict | None = None) -> list[dict]:
    """Appwrite's list of {$id, enabled}: each is on unless switched off."""
    return [{"$id": name, "enabled": values.get((keys or {}).get(name, name), True) is not False} for name in ids]


def project_model(project: Any) -> dict:
    """Appwrite's Project model for one of the engine's projects (its name as set by
    organization.createProject or updateProject, else its id)."""
    connection = project.connection
    created_row = connection.execute("SELECT value FROM _meta WHERE key = 'created'").fetchone()
    created = created_row[0] if created_row else ""
    smtp = mail.read(project, connection)
    return {
        "$id": project.id,
        "$createdAt": created,
        "$updatedAt": read(connection, "updated", created),
        "name": read(connection, "name", project.id),
        "teamId": "",
        "region": "default",
        "devKeys": [],
        **{field: smtp[name] for field, name in SMTP_FIELDS.items()},
        "smtpPassword": "",
        "pingCount": read_setting(connection, PING_COUNT, 0),
        "pingedAt": read_setting(connection, PINGED_AT, ""),
        "labels": read(connection, "labels", []),
        "status": "active",
        "authMethods": switches(read(connection, "auths", {}), list(AUTH_METHODS), AUTH_METHODS),
        "services": switches(read(connection, "services", {}), SERVICES),
        "protocols": switches(read(connection, "protocols", {}), PROTOCOLS),
        "blocks": [],
        "consoleAccessedAt": "",
        "billingLimits": None,
        **OAUTH2_SERVER,
    }


@handles("project.get")
def get_project(call: Call) -> dict:
    return project_model(call.project)


@handles("project.updateLabels")
def update_labels(call: Call) -> dict:
    labels = call.params["labels"]
    if len(labels) > MAX_LABELS or not all(isinstance(label, str) and LABEL.fullmatch(label) for label in labels):
        raise invalid_argument(
            f"Invalid `labels` param: Value must a valid array no longer than {MAX_LABELS} items and Value must be a "
            "valid string and at least 1 chars and no longer than 36 chars, of letters and digits only"
        )
    connection = call.project.connection
    store(connection, "labels", list(dict.fromkeys(labels)))
    return project_model(call.project)
