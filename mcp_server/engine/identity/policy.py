"""A project's password policy: a project setting, checked whenever a password is set.

- passwordMinLength (default 8): shorter passwords are refused.
- passwordHistory (default 0, at most 20): a password among a user's last N is refused.
- passwordDictionary (default off): one of the 30,000 most common passwords (zxcvbn's list) is refused.
- personalDataCheck (default off): a password containing the user's id, name, email or phone is refused.
"""

from __future__ import annotations

import json
import sqlite3
from functools import cache

from ..errors import AppwriteError, invalid_argument
from .passwords import verify_password

DEFAULTS: dict[str, int | bool] = {
    "passwordMinLength": 8,
    "passwordHistory": 0,
    "passwordDictionary": False,
    "personalDataCheck": False,
}
LIMITS = {"passwordMinLength": (1, 256), "passwordHistory": (0, 20)}
MAX_PASSWORD = 256
MAX_HISTORY = 20
META_KEY = "auth.policy"


def read(connection: sqlite3.Connection) -> dict:
    row = connection.execute("SELECT value FROM _meta WHERE key = ?", (META_KEY,)).fetchone()
    return {**DEFAULTS, **(json.loads(row[0]) if row else {})}


def write(db, changes: dict) -> dict:
    """Change some settings (names and types as in DEFAULTS); the whole policy after the change."""
    for name, value in changes.items():
        if name not in DEFAULTS:
            raise invalid_argument(f"Unknown password policy setting {name!r}; settings: {', '.join(DEFAULTS)}")
        if isinstance(DEFAULTS[name], bool):
            if not isinstance(value, bool):
                raise invalid_argument(f"{name} must be true or false, got {value!r}")
        else:
            low, high = LIMITS[name]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise invalid_argument(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    with db.transaction() as connection:
        policy = {**read(connection), **changes}
        connection.execute(
            "INSERT INTO _meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (META_KEY, json.dumps(policy)),
        )
    return policy


@cache
def common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def check(connection: sqlite3.Connection, password: object, user: dict, history: list[dict] = ()) -> str:
    """The password, if the project's policy accepts it for this user; else AppwriteError saying why.

    `user` has the user's id, name, email and phone; `history` their previous hashes
    ({"hash", "algorithm", "options"}), newest last.
    """
    policy = read(connection)
    minimum = policy["passwordMinLength"]
    if not isinstance(password, str) or not minimum <= len(password) <= MAX_PASSWORD:
        raise invalid_argument(
            f"Invalid `password` param: Password must be between {minimum} and {MAX_PASSWORD} characters long."
        )
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
