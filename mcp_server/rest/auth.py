"""Who a REST request acts as, from Appwrite's headers and cookies.

- `X-Appwrite-Key`: an API key, checked here against the project's keys (unknown, revoked and
  expired keys are refused with 401).
- `X-Appwrite-Session`, the `a_session_<project>` cookie (or `X-Fallback-Cookies` for clients
  without cookies): a user's session.
- `X-Appwrite-JWT`: a user's JWT.

Sessions and JWTs are looked up with the call, since they need the project's database. Nothing at
all means a guest: resource permissions decide. A key together with a session or JWT is refused, as
is a JWT together with a session cookie.

A user flagged as impersonator (users.updateImpersonator) acts as another user named by
`X-Appwrite-Impersonate-User-Id`, `-Email` or `-Phone`, or by the query parameters `impersonateUserId`,
`impersonateEmail`, `impersonatePhone` (for links, where headers cannot be set), as in Appwrite 1.9.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from http.cookies import SimpleCookie

from starlette.datastructures import Headers

from ..engine import keys
from ..engine.errors import AppwriteError
from ..engine.permissions import GUEST, Auth, key_auth


@dataclass(frozen=True)
class Credentials:
    """What a request presents: a checked key or nothing (`auth`), or a user's session or JWT to look up."""

    auth: Auth | None = None
    session: str | None = None
    jwt: str | None = None
    # A key whose last use is due to be recorded (a write, done with the call).
    used_key: dict | None = None
    # The user a session or JWT asks to act as: {"id"|"email"|"phone": value}.
    impersonate: dict[str, str] | None = None


# Who an impersonator asks to act as: the header, else the query parameter (in either spelling Appwrite reads).
IMPERSONATION = {
    "id": ("x-appwrite-impersonate-user-id", ("impersonateuserid", "impersonateUserId")),
    "email": ("x-appwrite-impersonate-user-email", ("impersonateemail", "impersonateEmail")),
    "phone": ("x-appwrite-impersonate-user-phone", ("impersonatephone", "impersonatePhone")),
}
QUERY_ONLY = frozenset(name for _, names in IMPERSONATION.values() for name in names)


def impersonation(headers: Headers, query: dict) -> dict[str, str] | None:
    """The impersonation a request asks for (only a user flagged as impersonator is granted it)."""
    asked = {}
    for field, (header, names) in IMPERSONATION.items():
        value = headers.get(header) or next((query[name] for name in names if query.get(name)), None)
        if isinstance(value, str) and value:
            asked[field] = value
    return asked or None


def cookie_name(project_id: str) -> str:
    return f"a_session_{project_id.lower()}"


def session_cookie(headers: Headers, project_id: str) -> str | None:
    """The session in the request's cookies, or in X-Fallback-Cookies (a JSON object of cookies)."""
    name = cookie_name(project_id)
    jar = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:
        jar = SimpleCookie()
    for candidate in (name, f"{name}_legacy"):
        if candidate in jar and jar[candidate].value:
            return jar[candidate].value
    try:
        fallback = json.loads(headers.get("x-fallback-cookies") or "{}")
    except json.JSONDecodeError:
        return None
    value = fallback.get(name) if isinstance(fallback, dict) else None
    return value if isinstance(value, str) and value else None


def credentials(key_store: keys.KeyStore, headers: Headers, project_id: str, query: dict) -> Credentials:
    key = headers.get("x-appwrite-key")
    jwt = headers.get("x-appwrite-jwt")
    session = headers.get("x-appwrite-session") or session_cookie(headers, project_id)
    if key and (jwt or headers.get("x-appwrite-session")):
        raise AppwriteError(
            "user_api_key_and_session_set", "Send either an API key or a user session/JWT, not both.", 403
        )
    if key:
        found, due = key_store.check(key)
        return Credentials(auth=key_auth(frozenset(found["scopes"])), used_key=found if due else None)
    if jwt and session:
        raise AppwriteError("user_jwt_and_cookie_set", "Send either a JWT or a session cookie, not both.", 403)
    if jwt:
        return Credentials(jwt=jwt, impersonate=impersonation(headers, query))
    if session:
        return Credentials(session=session, impersonate=impersonation(headers, query))
    return Credentials(auth=GUEST)
