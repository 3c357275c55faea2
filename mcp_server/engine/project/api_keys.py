"""The project's API keys as Appwrite 1.9's project.*Key operations: the same keys as `baas-mcp keys`.

Both read and write the project's `_keys` table (engine/keys.py), so a key made either way is listed,
usable and revocable the other way. Appwrite shows a key's secret on every read; here only a hash of it
is kept, so the secret comes back once, from createKey, and is empty in every later answer (as
`baas-mcp keys create` prints it only once). Ephemeral keys are signed, not stored: createEphemeralKey
answers a secret valid for up to an hour, which getKey and listKeys never show. The events of a new
key carry it without its secret, which is never written anywhere.
"""

from __future__ import annotations

from .. import keys
from ..events import announce
from ..ids import resolve_id
from ..listing import list_models
from ..registry import Call, handles

# What listKeys may filter and order on (Appwrite's Keys query validator).
QUERYABLE = {"name", "scopes", "expire", "accessedAt"}


@handles("project.listKeys")
def list_keys(call: Call) -> dict:
    total, page = list_models(
        keys.key_models(call.project.connection),
        call.params.get("queries"),
        QUERYABLE,
        count=call.params.get("total", True),
        noun="key",
    )
    return {"total": total, "keys": page}


def announce_created(call: Call, key: dict) -> dict:
    """Announce a new key's events with its model less the secret; the key with its secret."""
    announce(call.project, call.auth, "keys.[keyId].create", {"keyId": key["$id"]}, key | {"secret": ""})
    return key


@handles("project.createKey", announces=True)
def create_key(call: Call) -> dict:
    params = call.params
    key_id = resolve_id(params["keyId"], "keyId")
    expire = keys.check_expire(params.get("expire"))
    key, secret = keys.insert(call.project.connection, key_id, params["name"], params["scopes"], expire, required=False)
    return announce_created(call, key | {"secret": secret})


@handles("project.getKey")
def get_key(call: Call) -> dict:
    return keys.key_model(keys.require(call.project.connection, call.params["keyId"]))


@handles("project.updateKey")
def update_key(call: Call) -> dict:
    params = call.params
    expire = keys.check_expire(params.get("expire"))
    return keys.update(call.project.connection, params["keyId"], params["name"], params["scopes"], expire)


@handles("project.deleteKey")
def delete_key(call: Call) -> None:
    keys.remove(call.project.connection, call.params["keyId"])


@handles("project.createEphemeralKey", announces=True)
def create_ephemeral_key(call: Call) -> dict:
    key = keys.mint_ephemeral(call.project.cipher, call.project.id, call.params["scopes"], call.params["duration"])
    return announce_created(call, key)
