"""Switching the project's sign-in methods, services and protocols on and off, and honouring the switches.

As in Appwrite 1.9.6 (app/controllers/shared/api.php and shared/api/auth.php), a switch never stops an
API key or the local administrator; for guests and users:
- a service switched off answers `general_service_disabled` (403) to every operation of its namespace;
- a sign-in method switched off answers `user_auth_method_unsupported` (501) to the operations that
  sign in that way (email-password: account.create and createEmailPasswordSession; phone: phone tokens
  and verifications; invites: teams.createMembership; …);
- the `rest` protocol switched off answers `general_api_disabled` (403) over the REST app.
The switches are read from the project's cache of settings (projects.py), so the check costs nothing
until one changes. graphql and websocket are stored and shown, not enforced.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from ...catalog import Operation
from ..errors import AppwriteError, invalid_argument
from ..permissions import Auth
from ..registry import Call, handles
from .settings import AUTH_METHODS, PROTOCOLS, SERVICES, project_model, read, store

# The sign-in method behind each operation that signs in (Appwrite's `auth.type` route labels).
SIGN_IN_METHODS = {
    "account.create": "email-password",
    "account.createEmailPasswordSession": "email-password",
    "account.createAnonymousSession": "anonymous",
    "account.createMagicURLToken": "magic-url",
    "account.createEmailToken": "email-otp",
    "account.createPhoneToken": "phone",
    "account.createPhoneVerification": "phone",
    "account.createJWT": "jwt",
    "teams.createMembership": "invites",
}
METHOD_NAMES = {
    "email-password": "Email / Password",
    "magic-url": "Magic URL",
    "email-otp": "Email OTP",
    "anonymous": "Anonymous",
    "invites": "Invites",
    "jwt": "JWT",
    "phone": "Phone",
}
SETTING = "switches"


@dataclass(frozen=True)
class Switches:
    """What is switched off: sign-in method ids, service ids, protocol ids."""

    methods: frozenset[str]
    services: frozenset[str]
    protocols: frozenset[str]


def read_switches(connection: sqlite3.Connection) -> Switches:
    auths = read(connection, "auths", {})
    return Switches(
        methods=frozenset(method for method, key in AUTH_METHODS.items() if auths.get(key) is False),
        services=frozenset(name for name, on in read(connection, "services", {}).items() if on is False),
        protocols=frozenset(name for name, on in read(connection, "protocols", {}).items() if on is False),
    )


def exempt(auth: Auth) -> bool:
    """API keys and the local administrator pass every switch."""
    return auth.label in ("key", "admin")


def check_switches(project, op: Operation, auth: Auth, protocol: str | None = None) -> None:
    """Refuse a guest's or user's call that a switched-off service, sign-in method or protocol forbids."""
    if exempt(auth):
        return
    off: Switches = project.setting(SETTING, read_switches)
    if not (off.methods or off.services or off.protocols):
        return
    check_protocol(project, auth, protocol)
    if op.service.lower() in off.services:
        raise AppwriteError(
            "general_service_disabled",
            "The requested service is disabled. You can enable the service from the Appwrite console.",
            403,
        )
    method = SIGN_IN_METHODS.get(op.id)
    if method in off.methods:
        raise AppwriteError(
            "user_auth_method_unsupported",
            f"{METHOD_NAMES[method]} authentication is disabled for this project",
            501,
        )


def check_protocol(project, auth: Auth, protocol: str | None) -> None:
    """Refuse a guest or user the protocol (rest, websocket) the project switched off."""
    if exempt(auth) or protocol is None:
        return
    if protocol in project.setting(SETTING, read_switches).protocols:
        raise AppwriteError(
            "general_api_disabled",
            "The requested API is disabled. You can enable the API from the Appwrite console.",
            403,
        )


def one_of(param: str, value: str, choices) -> str:
    if value not in choices:
        raise invalid_argument(f"Invalid `{param}` param: Value must be one of ({', '.join(choices)})")
    return value


def switch(call: Call, setting: str, param: str, choices, key: str | None = None) -> dict:
    chosen = one_of(param, call.params[param], choices)
    connection = call.project.connection
    values = read(connection, setting, {})
    values[key or chosen] = call.params["enabled"]
    store(connection, setting, values)
    call.project.settings_changed()
    return project_model(call.project)


@handles("project.updateAuthMethod")
def update_auth_method(call: Call) -> dict:
    method = one_of("methodId", call.params["methodId"], list(AUTH_METHODS))
    return switch(call, "auths", "methodId", list(AUTH_METHODS), AUTH_METHODS[method])


@handles("project.updateService")
def update_service(call: Call) -> dict:
    return switch(call, "services", "serviceId", SERVICES)


@handles("project.updateProtocol")
def update_protocol(call: Call) -> dict:
    return switch(call, "protocols", "protocolId", PROTOCOLS)
