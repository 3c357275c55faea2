"""Who a REST request acts as, from Appwrite's headers: an API key (X-Appwrite-Key), or a guest.

A key is checked against the project's keys (unknown, revoked and expired keys are refused with
401). A request without credentials is a guest: resource permissions decide what it may see.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..engine import keys
from ..engine.errors import AppwriteError
from ..engine.permissions import GUEST, Auth, key_auth


def caller(key_store: keys.KeyStore, headers: Mapping[str, str]) -> tuple[Auth, dict | None]:
    """The Auth of the request's credentials (keys looked up in the project's `key_store`), and the key
    whose use is due to be recorded, if any (a write, which the caller runs off the event loop)."""
    key = headers.get("x-appwrite-key")
    jwt = headers.get("x-appwrite-jwt")
    session = headers.get("x-appwrite-session")
    if key and (jwt or session):
        raise AppwriteError(
            "user_api_key_and_session_set", "Send either an API key or a user session/JWT, not both.", 403
        )
    if key:
        found, due = key_store.check(key)
        return key_auth(frozenset(found["scopes"])), found if due else None
    if jwt:
        raise AppwriteError("user_jwt_invalid", "The JWT is not valid: it is unknown, expired or malformed.", 401)
    return GUEST, None
