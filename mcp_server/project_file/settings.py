"""The project's settings as appwrite-cli keeps them in the file's `settings` object: which services and sign-in
methods are on, and the auth security settings (session duration and limits, password checks, sign-in alerts, mock
phone numbers):

    "settings": {"services": {"graphql": false, …},
                 "auth": {"methods": {"phone": false, …},
                          "security": {"duration": 3600, "limit": 0, …, "mockNumbers": [{"phone": …, "otp": …}]}}}

appwrite-cli reads and writes them through the console's projects API; Appwrite 1.9 gives them to API keys as the
project service: project.get (services, authMethods), its policies and its mock phones. Each key of the file maps to
one update operation; a key the file leaves out is left as it is. A count of 0 (appwrite-cli's "no limit") is sent
as null, as the policies take it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..engine.permissions import ADMIN
from ..engine.project.settings import AUTH_METHODS, SERVICES

SETTINGS = "settings"
MOCK_NUMBERS = "mockNumbers"
# Each auth.security key: the policy holding it, the policy's field, and the operation that sets it.
SECURITY = {
    "duration": ("session-duration", "duration", "project.updateSessionDurationPolicy"),
    "limit": ("user-limit", "total", "project.updateUserLimitPolicy"),
    "sessionsLimit": ("session-limit", "total", "project.updateSessionLimitPolicy"),
    "passwordHistory": ("password-history", "total", "project.updatePasswordHistoryPolicy"),
    "passwordDictionary": ("password-dictionary", "enabled", "project.updatePasswordDictionaryPolicy"),
    "personalDataCheck": ("password-personal-data", "enabled", "project.updatePasswordPersonalDataPolicy"),
    "sessionAlerts": ("session-alert", "enabled", "project.updateSessionAlertPolicy"),
}
# What the settings are read with (each needs its scope).
READS = ("project.get", "project.listPolicies", "project.listMockPhones")
MAX_MOCK_NUMBERS = 100


class SettingsError(Exception):
    """A problem with the file's settings: where (a key path) and what."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where, self.problem = where, problem


async def read_settings(backend: Any) -> dict:
    """The target's settings in the file's shape."""
    project = await backend.call("project.get", {}, ADMIN)
    limit = [json.dumps({"method": "limit", "values": [MAX_MOCK_NUMBERS]})]
    policies = (await backend.call("project.listPolicies", {"queries": limit}, ADMIN))["policies"]
    phones = (await backend.call("project.listMockPhones", {"queries": limit}, ADMIN))["mockNumbers"]
    by_id = {policy["$id"]: policy for policy in policies}
    security = {}
    for key, (policy, field, _) in SECURITY.items():
        if field in by_id.get(policy, {}):
            value = by_id[policy][field]
            security[key] = 0 if value is None and field == "total" else value
    security[MOCK_NUMBERS] = [{"phone": phone["number"], "otp": phone["otp"]} for phone in phones]
    return {
        "services": {service["$id"]: service["enabled"] for service in project.get("services", [])},
        "auth": {
            "methods": {method["$id"]: method["enabled"] for method in project.get("authMethods", [])},
            "security": security,
        },
    }


def check_settings(value: object, check: Callable[[str, str, dict], None]) -> dict:
    """The file's settings, checked: known keys only, each value valid for the operation that sets it (`check`
    raises naming the key path). Raises SettingsError for the rest."""
    settings = keyed(SETTINGS, value, ("services", "auth"))
    if "services" in settings:
        switches(f"{SETTINGS}.services", settings["services"], SERVICES)
    if "auth" in settings:
        auth = keyed(f"{SETTINGS}.auth", settings["auth"], ("methods", "security"))
        if "methods" in auth:
            switches(f"{SETTINGS}.auth.methods", auth["methods"], tuple(AUTH_METHODS))
        if "security" in auth:
            where = f"{SETTINGS}.auth.security"
            security = keyed(where, auth["security"], (*SECURITY, MOCK_NUMBERS))
            for key, (_, field, operation) in SECURITY.items():
                if key in security:
                    check(f"{where}.{key}", operation, {field: sent(field, security[key])})
            if MOCK_NUMBERS in security:
                mock_numbers(f"{where}.{MOCK_NUMBERS}", security[MOCK_NUMBERS], check)
    return settings


def keyed(where: str, value: object, known: tuple[str, ...]) -> dict:
    if not isinstance(value, dict):
        raise SettingsError(where, "must be an object")
    for key in value:
        if key not in known:
            raise SettingsError(f"{where}.{key}", f"unknown key; one of {', '.join(known)}")
    return value


def switches(where: str, value: object, known: tuple[str, ...]) -> None:
    for key, enabled in keyed(where, value, known).items():
        if not isinstance(enabled, bool):
            raise SettingsError(f"{where}.{key}", f"must be true or false, got {json.dumps(enabled)}")


def mock_numbers(where: str, value: object, check: Callable[[str, str, dict], None]) -> None:
    if not isinstance(value, list) or len(value) > MAX_MOCK_NUMBERS:
        raise SettingsError(where, f"must be a list of at most {MAX_MOCK_NUMBERS} {{phone, otp}} objects")
    seen = set()
    for number, entry in enumerate(value):
        place = f"{where}[{number}]"
        keyed(place, entry, ("phone", "otp"))
        for key in ("phone", "otp"):
            if key not in entry:
                raise SettingsError(f"{place}.{key}", "missing")
        check(place, "project.createMockPhone", {"number": entry["phone"], "otp": entry["otp"]})
        if entry["phone"] in seen:
            raise SettingsError(f"{place}.phone", f"{entry['phone']!r} is given twice")
        seen.add(entry["phone"])


def sent(field: str, value: object) -> object:
    """A security value as its policy's operation takes it: a count of 0 means no limit, which it calls null."""
    return None if field == "total" and value == 0 else value
