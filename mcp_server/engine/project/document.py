"""The Project response model (Appwrite 1.9), which several project operations answer with.

Each module of the project service that owns some of the project's settings contributes its fields
(`@contributes`); the rest keep the values of a new Appwrite project. The project's name is its id.
"""

from __future__ import annotations

from collections.abc import Callable

from ..registry import Call

Contributor = Callable[[Call], dict]
CONTRIBUTORS: list[Contributor] = []
# Appwrite's optional services, auth methods and protocols (app/config/services.php, auth.php, protocols.php).
SERVICES = (
    "account avatars databases tablesdb locale health project storage teams users vcs sites functions proxy "
    "graphql migrations messaging advisor"
).split()
AUTH_METHODS = "email-password magic-url email-otp anonymous invites jwt phone".split()
PROTOCOLS = "rest graphql websocket".split()


def contributes(function: Contributor) -> Contributor:
    """Register a function giving some fields of the Project model."""
    CONTRIBUTORS.append(function)
    return function


def project_model(call: Call) -> dict:
    model = {
        "$id": call.project.id,
        "$createdAt": "",
        "$updatedAt": "",
        "name": call.project.id,
        "teamId": "",
        "region": "default",
        "devKeys": [],
        "pingCount": 0,
        "pingedAt": "",
        "labels": [],
        "status": "active",
        "authMethods": [{"$id": name, "enabled": True} for name in AUTH_METHODS],
        "services": [{"$id": name, "enabled": True} for name in SERVICES],
        "protocols": [{"$id": name, "enabled": True} for name in PROTOCOLS],
        "blocks": [],
        "consoleAccessedAt": "",
    }
    for contributor in CONTRIBUTORS:
        model.update(contributor(call))
    return model
