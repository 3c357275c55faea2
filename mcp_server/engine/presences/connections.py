"""A realtime connection's presence, as Appwrite 1.9.6's realtime server keeps it
(src/Appwrite/Realtime/Message/Handlers/Presence.php and the socket's close in app/realtime.php).

A signed-in user's `presence` message writes their presence: `status` (required), `presenceId` (default
`unique()`; their existing presence keeps its id), `metadata` (kept as it was when left out) and
`permissions` (their own roles only; left out, they alone hold every permission). It comes from
`realtime`, lasts 30 days, and is announced as presences.[presenceId].upsert. When the socket closes,
the presences it wrote are deleted and each deletion announced, in the name of the presence's user.
Both run as one write transaction of the project (through the Engine's methods of the same names).
"""

from __future__ import annotations

from typing import Any

from ..errors import AppwriteError, invalid_argument
from ..events import announce
from ..identity.identities import require_user
from ..ids import UNIQUE, resolve_id
from ..permissions import Auth, user_auth
from . import fields, store
from .service import DELETE, UPSERT

MAX_CONNECTION_STATUS = 2048


def upsert_for_connection(project: Any, auth: Auth, data: object) -> dict:
    """Write the presence a connected user announces (the `data` of their `presence` message); its model."""
    if not auth.user_id:
        raise AppwriteError("user_unauthorized", "User must be authorized", 401)
    if not isinstance(data, dict):
        raise invalid_argument(f"Invalid presence message: expected a JSON object, got {type(data).__name__}")
    if "status" not in data:
        raise invalid_argument("Invalid presence message: `status` is required")
    if isinstance(data["status"], str) and len(data["status"]) > MAX_CONNECTION_STATUS:
        raise invalid_argument(f"Invalid `status` param: at most {MAX_CONNECTION_STATUS} characters")
    connection = project.connection
    store.prune(connection)
    user_id = require_user(connection, auth.user_id)["id"]
    values = {
        "status": fields.status(data["status"]),
        "source": "realtime",
        "expires_at": fields.expiry_in(fields.CONNECTION_LIFETIME),
        "permissions": fields.permissions(data.get("permissions"), auth),
    }
    if data.get("metadata") is not None:
        values["metadata"] = fields.metadata(data["metadata"])
    presence_id = resolve_id(data.get("presenceId", UNIQUE), "presenceId")
    presence = store.save(connection, auth, presence_id, user_id, values)
    model = presence.model()
    announce(project, auth, UPSERT, {"presenceId": presence.id}, model)
    return model


def delete_for_connection(project: Any, presence_id: str) -> bool:
    """Delete a presence a closed connection wrote, and announce it; False when it is already gone."""
    presence = store.find(project.connection, presence_id)
    if presence is None:
        return False
    store.delete(project.connection, presence)
    announce(project, user_auth(presence.user_id), DELETE, {"presenceId": presence.id}, presence.model())
    return True
