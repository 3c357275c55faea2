"""A project's auth policy: one store for every setting, changed by `baas-mcp auth-policy` and by the
project service's policy operations (project/policies.py) alike, and honoured wherever Appwrite honours it.

Passwords (checked whenever one is set):
- passwordMinLength (default 8), passwordUppercase/Lowercase/Number/Symbols (default off): Appwrite's
  password-strength policy; a password shorter, or without a required kind of character, is refused.
- passwordHistory (default 0): a password among a user's last N is refused.
- passwordDictionary (default off): one of the 30,000 most common passwords (zxcvbn's list) is refused.
- personalDataCheck (default off): a password containing the user's id, name, email or phone is refused.
Sessions and users:
- sessionDuration (seconds, default one year): how long a new or extended session lasts.
- maxSessions (default 0, no limit): a user's oldest sessions end when a sign-in goes past it.
- invalidateSessions (default on): a password change ends the user's other sessions.
- sessionAlerts (default off): a new sign-in, other than a user's first, emails the user.
- userLimit (default 0, no limit): sign-ups (not users created with an API key) stop at this many users.
- memberships*: which details of other members a team member sees (default: none of them).
The defaults are those of a project created on Appwrite 1.9.
"""

from __future__ import annotations

import re
import sqlite3
from functools import cache

from ..errors import AppwriteError, invalid_argument
from ..projectdb import read_setting, write_setting
from .passwords import verify_password

ONE_YEAR = 31_536_000
DEFAULTS: dict[str, int | bool] = {
    "passwordMinLength": 8,
    "passwordUppercase": False,
    "passwordLowercase": False,
    "passwordNumber": False,
    "passwordSymbols": False,
    "passwordHistory": 0,
    "passwordDictionary": False,
    "personalDataCheck": False,
    "sessionDuration": ONE_YEAR,
    "maxSessions": 0,
    "invalidateSessions": True,
    "sessionAlerts": False,
    "userLimit": 0,
    "membershipsUserId": False,
    "membershipsUserEmail": False,
    "membershipsUserPhone": False,
    "membershipsUserName": False,
    "membershipsMfa": False,
    "membershipsUserAccessedAt": False,
}
# Appwrite's APP_LIMIT_COUNT bounds the counts.
LIMITS = {
    "passwordMinLength": (1, 256),
    "passwordHistory": (0, 5000),
    "sessionDuration": (5, ONE_YEAR),
    "maxSessions": (0, 5000),
    "userLimit": (0, 5000),
}
MAX_PASSWORD = 256
# Hashes kept per user even when the history policy is off or shorter, so that turning it on has a past to check.
KEPT_HISTORY = 20
META_KEY = "auth.policy"
REQUIREMENTS = {
    "passwordUppercase": ("include an uppercase letter", re.compile(r"[A-Z]")),
    "passwordLowercase": ("include a lowercase letter", re.compile(r"[a-z]")),
    "passwordNumber": ("include a number", re.compile(r"[0-9]")),
}


def read(connection: sqlite3.Connection) -> dict:
    stored = read_setting(connection, META_KEY, {})
    return {name: stored.get(name, default) for name, default in DEFAULTS.items()}


def checked(changes: dict) -> dict:
    """The changes, if every name is a setting and every value of its type and range; else AppwriteError."""
    for name, value in changes.items():
        if name not in DEFAULTS:
            raise invalid_argument(f"Unknown auth policy setting {name!r}; settings: {', '.join(DEFAULTS)}")
        if isinstance(DEFAULTS[name], bool):
            if not isinstance(value, bool):
                raise invalid_argument(f"{name} must be true or false, got {value!r}")
        else:
            low, high = LIMITS[name]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise invalid_argument(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return changes


def store(connection: sqlite3.Connection, changes: dict) -> dict:
    """Change some settings inside the caller's transaction; the whole policy after the change."""
    policy = {**read(connection), **checked(changes)}
    write_setting(connection, META_KEY, policy)
    return policy


def write(db, changes: dict) -> dict:
    """Change some settings (names and types as in DEFAULTS) in a transaction of their own."""
    checked(changes)
    with db.transaction() as connection:
        return store(connection, changes)


@cache
def common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def has_symbol(password: str) -> bool:
    """A character that is no letter, digit or space (Appwrite: [^\\p{L}\\p{N}\\s])."""
    return any(not (char.isalpha() or char.isnumeric() or char.isspace()) for char in password)


def strong_enough(policy: dict, password: str) -> bool:
    if not policy["passwordMinLength"] <= len(password) <= MAX_PASSWORD:
        return False
    if policy["passwordSymbols"] and not has_symbol(password):
        return False
    return all(pattern.search(password) for name, (_, pattern) in REQUIREMENTS.items() if policy[name])


def strength_rule(policy: dict) -> str:
    """What the strength policy asks for, in Appwrite's words."""
    wanted = [f"between {policy['passwordMinLength']} and {MAX_PASSWORD} characters long"]
    wanted += [words for name, (words, _) in REQUIREMENTS.items() if policy[name]]
    if policy["passwordSymbols"]:
        wanted.append("include a symbol")
    return "Password must be " + ", ".join(wanted) + "."


def check(connection: sqlite3.Connection, password: object, user: dict, history: list[dict] = ()) -> str:
    """The password, if the project's policy accepts it for this user; else AppwriteError saying why.

    `user` has the user's id, name, email and phone; `history` their previous hashes
    ({"hash", "algorithm", "options"}), newest last.
    """
    policy = read(connection)
    if not isinstance(password, str) or not strong_enough(policy, password):
        raise invalid_argument(f"Invalid `password` param: {strength_rule(policy)}")
    if policy["passwordDictionary"] and password.lower() in common_passwords():
        raise invalid_argument(
            "Invalid `password` param: Password must not be one of the most commonly used passwords."
        )
    if policy["personalDataCheck"]:
        lowered = password.lower()
        personal = [str(user.get(field) or "").lower() for field in ("id", "name", "email", "phone")]
        personal += [value.split("@")[0] for value in personal if "@" in value]
        if any(value and len(value) >= 3 and value in lowered for value in personal):
            raise AppwriteError(
                "password_personal_data",
                "The password contains personal data: choose one without your name, email, phone or id.",
            )
    recent = list(history)[-policy["passwordHistory"] :] if policy["passwordHistory"] else []
    if any(verify_password(password, old["hash"], old["algorithm"], old.get("options", {})) for old in recent):
        raise AppwriteError(
            "password_recently_used",
            f"The password was recently used: choose one different from your last {policy['passwordHistory']}.",
        )
    return password


def kept_history(connection: sqlite3.Connection) -> int:
    """How many of a user's password hashes to keep."""
    return max(KEPT_HISTORY, read(connection)["passwordHistory"])


def check_user_limit(connection: sqlite3.Connection) -> None:
    """Refuse a sign-up once the project has as many users as its user limit allows."""
    limit = read(connection)["userLimit"]
    if limit and connection.execute("SELECT count(*) FROM _users").fetchone()[0] >= limit:
        raise AppwriteError(
            "user_count_exceeded",
            "The current project has exceeded the maximum number of users. Please check your user limit in the "
            "project's policies (project.updateUserLimitPolicy, or baas-mcp auth-policy --user-limit).",
        )
