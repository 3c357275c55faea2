"""The `presences` operations: list, get, upsert, update and delete presences as Appwrite 1.9.6 does
(src/Appwrite/Platform/Modules/Presences/HTTP).

Only an API key (or the local administrator) names the user of a presence (`userId`); a user naming one
is refused with general_unauthorized_scope, since a user's presence is always their own. A user sees,
changes and deletes a presence only as its permissions allow, like a row with row security: one they
cannot read is not found. A lapsed presence is not found, nor listed. With `ttl`, presences.list keeps
its answer for that many seconds, by caller roles and request, whatever is written meanwhile; a delete,
or an update with `purge`, retires what was kept. Each change is announced with the presence as its
payload, to the roles that may read it.
"""

from __future__ import annotations

import json

from ..errors import AppwriteError
from ..events import announce, event_roles
from ..identity.identities import require_user
from ..listing import list_models
from ..permissions import granted, read_roles
from ..registry import Call, handles
from . import fields, store

QUERYABLE = {"userId", "status", "expiresAt", "source"}
UPSERT = "presences.[presenceId].upsert"
UPDATE = "presences.[presenceId].update"
DELETE = "presences.[presenceId].delete"


@event_roles("presences.")
def presence_readers(project, ids: dict[str, str], payload: dict) -> list[str]:
    return read_roles(payload.get("$permissions", []))


def announced(call: Call, label: str, presence: store.Presence) -> dict:
    model = presence.model()
    announce(call.project, call.auth, label, {"presenceId": presence.id}, model)
    return model


def refuse_user_naming_user(call: Call) -> None:
    if call.params.get("userId") is not None and not call.auth.bypasses_permissions:
        raise AppwriteError(
            "general_unauthorized_scope",
            "Only an API key may set `userId`: a user's presence is always their own, so leave it out",
        )


@handles("presences.list")
def list_presences(call: Call) -> dict:
    connection = call.project.connection
    ttl = call.params.get("ttl") or 0
    roles = "*" if call.auth.bypasses_permissions else ",".join(sorted(call.auth.roles or ()))
    queries, total = call.params.get("queries"), call.params.get("total", True)
    kept_key = ("presences", roles, json.dumps(queries), total, store.list_generation(connection)) if ttl else None
    if kept_key is not None:
        kept = call.project.kept.get(kept_key, ttl)
        if kept is not None:
            return json.loads(kept)
    models = [
        presence.model() for presence in store.current(connection) if granted(presence.permissions, "read", call.auth)
    ]
    count, page = list_models(models, queries, QUERYABLE, count=total, noun="presence")
    result = {"total": count, "presences": page}
    if kept_key is not None:
        call.project.kept.put(kept_key, json.dumps(result))
    return result


@handles("presences.get")
def get_presence(call: Call) -> dict:
    presence = store.readable(call.project.connection, call.params["presenceId"], call.auth)
    if presence.lapsed:
        raise store.not_found(presence.id)
    return presence.model()


@handles("presences.upsert", announces=True)
def upsert_presence(call: Call) -> dict:
    connection = call.project.connection
    params = call.params
    refuse_user_naming_user(call)
    store.prune(connection)
    user_id = require_user(connection, params["userId"])["id"]
    given = params.get("permissions")
    values = {
        "status": params["status"],
        "source": "rest",
        "expires_at": fields.expiry(params["expiresAt"])
        if params.get("expiresAt") is not None
        else fields.expiry_in(fields.DEFAULT_LIFETIME),
        "metadata": fields.metadata(params.get("metadata") or {}),
        "permissions": fields.owned_by(user_id) if given is None else fields.permissions(given, call.auth),
    }
    presence = store.save(connection, call.auth, params["presenceId"], user_id, values)
    return announced(call, UPSERT, presence)


@handles("presences.update", announces=True)
def update_presence(call: Call) -> dict:
    connection = call.project.connection
    params = call.params
    refuse_user_naming_user(call)
    store.prune(connection)
    presence = store.readable(connection, params["presenceId"], call.auth)
    # The catalog's update is the server SDK's: `userId` is always given, so the update always writes.
    values = {"user_id": require_user(connection, params["userId"])["id"]}
    if params.get("status") is not None:
        values["status"] = params["status"]
    if params.get("expiresAt") is not None:
        values["expires_at"] = fields.expiry(params["expiresAt"])
    if params.get("metadata") is not None:
        values["metadata"] = fields.metadata(params["metadata"])
    if params.get("permissions") is not None:
        values["permissions"] = fields.permissions(params["permissions"], call.auth)
    elif values["user_id"] != presence.user_id:
        # Moved to another user without new permissions: the new user alone holds them.
        values["permissions"] = fields.owned_by(values["user_id"])
    if params.get("purge"):
        store.purge_lists(connection)
    store.require_allowed(presence, "update", call.auth)
    return announced(call, UPDATE, store.update(connection, presence, values))


@handles("presences.delete", announces=True)
def delete_presence(call: Call) -> None:
    connection = call.project.connection
    presence = store.readable(connection, call.params["presenceId"], call.auth)
    store.require_allowed(presence, "delete", call.auth)
    store.delete(connection, presence)
    store.purge_lists(connection)
    announced(call, DELETE, presence)
