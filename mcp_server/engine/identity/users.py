"""Handlers of the users service (server side, API keys): users, password-hash imports, sessions,
tokens, JWTs, identities, logs, memberships and messaging targets. MFA handlers are in `mfa`.

As in Appwrite, a user created or changed with an email address or phone number carries an email or
sms target for it, which follows the address when it changes and goes when it is removed. Deleting a
user deletes their sessions, tokens, identities, targets, memberships and challenges; their logs stay.
Every change is written to the user's log (listLogs) with Appwrite's audit event names.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import sqlite3

from ..datetimes import now_iso
from ..errors import AppwriteError, invalid_argument
from ..events import announce
from ..ids import new_id, resolve_id, validate_id
from ..listing import list_models
from ..queries import invalid, parse_queries, plan
from ..registry import Call, handles
from . import policy
from .identities import (
    announce_user_created,
    check_phone,
    create_session,
    create_token,
    insert_user,
    log_event,
    log_model,
    make_jwt,
    normalize_email,
    require_user,
    session_model,
    set_password,
    target_model,
    token_model,
    user_model,
)
from .passwords import SHA_VERSIONS
from .teams import membership_model

USER_ATTRIBUTES = {
    "name",
    "email",
    "phone",
    "status",
    "passwordUpdate",
    "registration",
    "emailVerification",
    "phoneVerification",
    "labels",
}
TARGET_ATTRIBUTES = {"userId", "providerId", "identifier", "providerType"}
IDENTITY_ATTRIBUTES = {"userId", "provider", "providerUid", "providerEmail", "providerAccessTokenExpiry"}
MEMBERSHIP_ATTRIBUTES = {"userId", "teamId", "invited", "joined", "confirm", "roles"}
MAX_NAME = 128
MAX_IDENTIFIER = 255
MAX_LABELS = 1000
MAX_LABEL = 36
MAX_PREFS_BYTES = 65535
MIN_HASH, MAX_HASH = 8, 256
MAX_HASH_OPTION = 1024
SHA_DEFAULT = "sha3-512"
TOKEN_LENGTH, TOKEN_LENGTHS = 6, (4, 128)
TOKEN_SECONDS, TOKEN_SECONDS_RANGE = 900, (60, 31_536_000)
# The kind of token users.createToken makes; account.createSession(userId, secret) takes it.
SESSION_TOKEN = "session"
ADMIN_MODE = "admin"


def log(call: Call, connection: sqlite3.Connection, user_id: str, event: str) -> None:
    log_event(connection, user_id, event, call.requester, ADMIN_MODE)


def check_name(value: object, param: str = "name") -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_NAME:
        raise invalid_argument(f"Invalid `{param}` param: expected at most {MAX_NAME} characters")
    return value


def in_range(value: object, param: str, default: int, bounds: tuple[int, int]) -> int:
    if value is None:
        return default
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise invalid_argument(f"Invalid `{param}` param: expected a whole number from {low} to {high}, got {value!r}")
    return value


def fresh_user(connection: sqlite3.Connection, user_id: str) -> dict:
    return user_model(connection, require_user(connection, user_id))


# --- users ----------------------------------------------------------------------------------------


@handles("users.list")
def list_users(call: Call) -> dict:
    connection = call.project.connection
    records = connection.execute("SELECT * FROM _users ORDER BY seq").fetchall()
    total, page = list_models(
        [user_model(connection, record) for record in records],
        call.params.get("queries"),
        USER_ATTRIBUTES,
        search=call.params.get("search"),
        search_fields=("$id", "name", "email", "phone"),
        count=call.params.get("total", True),
        noun="user",
    )
    return {"total": total, "users": page}


@handles("users.get")
def get_user(call: Call) -> dict:
    return fresh_user(call.project.connection, call.params["userId"])


@handles("users.create")
def create_user(call: Call) -> dict:
    params = call.params
    return add_user(
        call,
        email=params.get("email") or None,
        password=params.get("password") or None,
        phone=params.get("phone") or None,
    )


def add_user(
    call: Call,
    *,
    email: str | None,
    password: str | None = None,
    phone: str | None = None,
    imported: tuple[str, str, dict] | None = None,
) -> dict:
    """A new user with targets for their email and phone (skipped when another holds that address)."""
    params = call.params
    user_id = resolve_id(params["userId"], "userId")
    email = normalize_email(email) if email is not None else None
    name = check_name(params.get("name"))
    with call.project.db.transaction() as connection:
        if email and identity_with_email(connection, email, None):
            raise email_taken()
        user = insert_user(
            call, user_id, email=email, phone=phone, password=password, name=name, imported=imported, announced=False
        )
        for provider_type, identifier in (("email", email), ("sms", phone)):
            if identifier and find_target_by_identifier(connection, provider_type, identifier) is None:
                insert_target(connection, user_id, new_id(), provider_type, identifier)
        announce_user_created(call, user)
        log(call, connection, user_id, "user.create")
        return fresh_user(connection, user_id)


def email_taken() -> AppwriteError:
    return AppwriteError("user_email_already_exists", "A user with the same email already exists.", 409)


def phone_taken() -> AppwriteError:
    return AppwriteError("user_phone_already_exists", "A user with the same phone number already exists.", 409)


def identity_with_email(connection: sqlite3.Connection, email: str, user_id: str | None) -> bool:
    """Whether an OAuth2 identity of another user (of anyone, when user_id is None) has this email."""
    return (
        connection.execute(
            "SELECT 1 FROM _identities WHERE lower(provider_email) = ? AND user_id IS NOT ?", (email, user_id)
        ).fetchone()
        is not None
    )


# --- importing users with password hashes ----------------------------------------------------------


def imported_hash(call: Call) -> str:
    hashed = call.params["password"]
    if not isinstance(hashed, str) or not MIN_HASH <= len(hashed) <= MAX_HASH:
        raise invalid_argument(
            f"Invalid `password` param: expected the password hash, {MIN_HASH} to {MAX_HASH} characters"
        )
    return hashed


def import_user(call: Call, algorithm: str, options: dict | None = None) -> dict:
    return add_user(call, email=call.params["email"], imported=(imported_hash(call), algorithm, options or {}))


@handles("users.createArgon2User")
def create_argon2_user(call: Call) -> dict:
    return import_user(call, "argon2")


@handles("users.createBcryptUser")
def create_bcrypt_user(call: Call) -> dict:
    return import_user(call, "bcrypt")


@handles("users.createMD5User")
def create_md5_user(call: Call) -> dict:
    return import_user(call, "md5")


@handles("users.createPHPassUser")
def create_phpass_user(call: Call) -> dict:
    return import_user(call, "phpass")


@handles("users.createSHAUser")
def create_sha_user(call: Call) -> dict:
    # Appwrite's SHA hasher defaults to sha3-512 when no version is given.
    version = call.params.get("passwordVersion") or SHA_DEFAULT
    if version not in SHA_VERSIONS:
        raise invalid_argument(f"Invalid `passwordVersion` param: expected one of {', '.join(SHA_VERSIONS)}")
    return import_user(call, "sha", {"version": version})


@handles("users.createScryptUser")
def create_scrypt_user(call: Call) -> dict:
    params = call.params
    salt = params["passwordSalt"]
    if not isinstance(salt, str) or not 1 <= len(salt) <= MAX_HASH_OPTION:
        raise invalid_argument("Invalid `passwordSalt` param: expected the salt the hash was made with")
    cpu = params["passwordCpu"]
    if isinstance(cpu, bool) or not isinstance(cpu, int) or cpu < 2 or cpu & (cpu - 1) or cpu > 2**24:
        raise invalid_argument("Invalid `passwordCpu` param: the CPU cost N must be a power of 2 from 2 to 2^24")
    memory = in_range(params["passwordMemory"], "passwordMemory", 0, (1, 64))
    parallel = in_range(params["passwordParallel"], "passwordParallel", 0, (1, 64))
    length = in_range(params["passwordLength"], "passwordLength", 0, (16, 1024))
    if 128 * cpu * memory > 2**30:
        raise invalid_argument(
            "Invalid `passwordMemory` param: with this CPU cost the hash would need more than 1 GiB "
            "(128 * passwordCpu * passwordMemory bytes)"
        )
    options = {"salt": salt, "costCpu": cpu, "costMemory": memory, "costParallel": parallel, "length": length}
    return import_user(call, "scrypt", options)


@handles("users.createScryptModifiedUser")
def create_scrypt_modified_user(call: Call) -> dict:
    options = {}
    for param, option in (
        ("passwordSalt", "salt"),
        ("passwordSaltSeparator", "saltSeparator"),
        ("passwordSignerKey", "signerKey"),
    ):
        value = call.params[param]
        try:
            valid = isinstance(value, str) and 0 < len(value) <= MAX_HASH_OPTION
            valid = valid and bool(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            valid = False
        if not valid:
            raise invalid_argument(
                f"Invalid `{param}` param: expected the base64 value from the Firebase hash settings"
            )
        options[option] = value
    return import_user(call, "scryptMod", options)


# --- deleting a user ------------------------------------------------------------------------------


@handles("users.delete")
def delete_user(call: Call) -> None:
    with call.project.db.transaction() as connection:
        user_id = require_user(connection, call.params["userId"])["id"]
        for table in (
            "_sessions",
            "_tokens",
            "_identities",
            "_targets",
            "_memberships",
            "_challenges",
            "_impersonators",
        ):
            connection.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))  # fixed table names only
        connection.execute("DELETE FROM _users WHERE id = ?", (user_id,))
        log(call, connection, user_id, "user.delete")


# --- changing a user ------------------------------------------------------------------------------


@handles("users.updateName")
def update_name(call: Call) -> dict:
    name = check_name(call.params["name"])
    return update_columns(call, {"name": name}, "user.update")


@handles("users.updateStatus")
def update_status(call: Call) -> dict:
    return update_columns(call, {"status": int(call.params["status"])}, "user.update")


@handles("users.updateEmailVerification")
def update_email_verification(call: Call) -> dict:
    return update_columns(call, {"email_verification": int(call.params["emailVerification"])}, "verification.update")


@handles("users.updatePhoneVerification")
def update_phone_verification(call: Call) -> dict:
    return update_columns(call, {"phone_verification": int(call.params["phoneVerification"])}, "verification.update")


@handles("users.updateLabels")
def update_labels(call: Call) -> dict:
    labels = call.params["labels"]
    if not isinstance(labels, list) or len(labels) > MAX_LABELS:
        raise invalid_argument(f"Invalid `labels` param: expected an array of at most {MAX_LABELS} labels")
    for label in labels:
        if not isinstance(label, str) or not label.isascii() or not label.isalnum() or len(label) > MAX_LABEL:
            raise invalid_argument(
                f"Invalid `labels` param: {label!r} is not a label; a label has 1 to {MAX_LABEL} characters "
                "from a-z, A-Z and 0-9"
            )
    return update_columns(call, {"labels": json.dumps(list(dict.fromkeys(labels)))}, "user.update")


@handles("users.updateImpersonator")
def update_impersonator(call: Call) -> dict:
    """Let a user act as other users (X-Appwrite-Impersonate-User-* on their requests), or stop them."""
    with call.project.db.transaction() as connection:
        user_id = require_user(connection, call.params["userId"])["id"]
        if call.params["impersonator"]:
            connection.execute("INSERT OR IGNORE INTO _impersonators (user_id) VALUES (?)", (user_id,))
        else:
            connection.execute("DELETE FROM _impersonators WHERE user_id = ?", (user_id,))
        connection.execute("UPDATE _users SET updated = ? WHERE id = ?", (now_iso(), user_id))
        log(call, connection, user_id, "user.update")
        return fresh_user(connection, user_id)


def update_columns(call: Call, values: dict, event: str) -> dict:
    """Set some columns of the user (fixed names from the handlers above) and log the change."""
    with call.project.db.transaction() as connection:
        user_id = require_user(connection, call.params["userId"])["id"]
        assignments = ", ".join(f"{column} = ?" for column in values)
        connection.execute(
            f"UPDATE _users SET {assignments}, updated = ? WHERE id = ?",  # fixed table names only
            (*values.values(), now_iso(), user_id),
        )
        log(call, connection, user_id, event)
        return fresh_user(connection, user_id)


@handles("users.updatePassword")
def update_password(call: Call) -> dict:
    password = call.params["password"]
    with call.project.db.transaction() as connection:
        record = require_user(connection, call.params["userId"])
        if password == "":
            # As in Appwrite, an empty password removes it: the user can no longer sign in with one.
            now = now_iso()
            connection.execute(
                "UPDATE _users SET password = NULL, password_update = ?, updated = ? WHERE id = ?",
                (now, now, record["id"]),
            )
        else:
            set_password(connection, record, password)
        if policy.read(connection)["invalidateSessions"]:
            connection.execute("DELETE FROM _sessions WHERE user_id = ?", (record["id"],))
        log(call, connection, record["id"], "user.update")
        return fresh_user(connection, record["id"])


@handles("users.updateEmail")
def update_email(call: Call) -> dict:
    raw = call.params["email"]
    email = normalize_email(raw) if raw != "" else None
    with call.project.db.transaction() as connection:
        record = require_user(connection, call.params["userId"])
        if email:
            if connection.execute("SELECT 1 FROM _users WHERE email = ? AND id != ?", (email, record["id"])).fetchone():
                raise email_taken()
            if identity_with_email(connection, email, record["id"]):
                raise email_taken()
        connection.execute(
            "UPDATE _users SET email = ?, email_verification = 0, updated = ? WHERE id = ?",
            (email, now_iso(), record["id"]),
        )
        follow_address(connection, record["id"], "email", record["email"], email)
        log(call, connection, record["id"], "user.update")
        return fresh_user(connection, record["id"])


@handles("users.updatePhone")
def update_phone(call: Call) -> dict:
    raw = call.params["number"]
    phone = check_phone(raw, "number") if raw != "" else None
    with call.project.db.transaction() as connection:
        record = require_user(connection, call.params["userId"])
        if (
            phone
            and connection.execute("SELECT 1 FROM _users WHERE phone = ? AND id != ?", (phone, record["id"])).fetchone()
        ):
            raise phone_taken()
        connection.execute(
            "UPDATE _users SET phone = ?, phone_verification = 0, updated = ? WHERE id = ?",
            (phone, now_iso(), record["id"]),
        )
        follow_address(connection, record["id"], "sms", record["phone"], phone)
        log(call, connection, record["id"], "user.update")
        return fresh_user(connection, record["id"])


def follow_address(
    connection: sqlite3.Connection, user_id: str, provider_type: str, old: str | None, new: str | None
) -> None:
    """Keep the user's email (or sms) target in step with their address: renamed, added or removed."""
    if old == new:
        return
    current = (
        connection.execute(
            "SELECT * FROM _targets WHERE user_id = ? AND provider_type = ? AND identifier = ?",
            (user_id, provider_type, old),
        ).fetchone()
        if old
        else None
    )
    if new:
        holder = find_target_by_identifier(connection, provider_type, new)
        if holder is not None and holder["user_id"] != user_id:
            raise target_taken()
        if holder is not None:
            # The user already has a target for the new address: it becomes the address's target.
            if current is not None:
                connection.execute("DELETE FROM _targets WHERE seq = ?", (current["seq"],))
        elif current is not None:
            connection.execute(
                "UPDATE _targets SET identifier = ?, expired = 0, updated = ? WHERE seq = ?",
                (new, now_iso(), current["seq"]),
            )
        else:
            insert_target(connection, user_id, new_id(), provider_type, new)
    elif current is not None:
        connection.execute("DELETE FROM _targets WHERE seq = ?", (current["seq"],))


# --- preferences ----------------------------------------------------------------------------------


@handles("users.getPrefs")
def get_prefs(call: Call) -> dict:
    return json.loads(require_user(call.project.connection, call.params["userId"])["prefs"])


@handles("users.updatePrefs")
def update_prefs(call: Call) -> dict:
    prefs = call.params["prefs"]
    if not isinstance(prefs, dict):
        raise invalid_argument("Invalid `prefs` param: expected a JSON object")
    encoded = json.dumps(prefs, ensure_ascii=False, separators=(",", ":"))
    if len(encoded.encode("utf-8")) > MAX_PREFS_BYTES:
        raise invalid_argument(f"Invalid `prefs` param: the preferences take more than {MAX_PREFS_BYTES} bytes as JSON")
    with call.project.db.transaction() as connection:
        user_id = require_user(connection, call.params["userId"])["id"]
        connection.execute("UPDATE _users SET prefs = ?, updated = ? WHERE id = ?", (encoded, now_iso(), user_id))
    return prefs


# --- sessions, tokens and JWTs ----------------------------------------------------------------------


def active_sessions(connection: sqlite3.Connection, user_id: str) -> list[sqlite3.Row]:
    return connection.execute(
        "SELECT * FROM _sessions WHERE user_id = ? AND expire > ? ORDER BY seq", (user_id, now_iso())
    ).fetchall()


def require_session(connection: sqlite3.Connection, user_id: str, session_id: str) -> sqlite3.Row:
    record = connection.execute(
        "SELECT * FROM _sessions WHERE id = ? AND user_id = ?", (session_id, user_id)
    ).fetchone()
    if record is None:
        raise AppwriteError(
            "user_session_not_found", f"The user '{user_id}' has no session with the ID '{session_id}'.", 404
        )
    return record


@handles("users.listSessions")
def list_sessions(call: Call) -> dict:
    connection = call.project.connection
    user_id = require_user(connection, call.params["userId"])["id"]
    sessions = [session_model(record) for record in active_sessions(connection, user_id)]
    return {"total": len(sessions) if call.params.get("total", True) else 0, "sessions": sessions}


@handles("users.createSession")
def create_user_session(call: Call) -> dict:
    with call.project.db.transaction() as connection:
        user_id = require_user(connection, call.params["userId"])["id"]
        record, secret = create_session(connection, user_id, "server", call.requester, ["server"])
        log(call, connection, user_id, "session.create")
        # The session's secret (the X-Appwrite-Session value) goes to the server that asked for it.
        return session_model(record, secret=secret)


@handles("users.deleteSession", announces=True)
def delete_session(call: Call) -> None:
    with call.project.db.transaction() as connection:
        user_id = require_user(connection, call.params["userId"])["id"]
        record = require_session(connection, user_id, call.params["sessionId"])
        connection.execute("DELETE FROM _sessions WHERE seq = ?", (record["seq"],))
        log(call, connection, user_id, "session.delete")
        ids = {"userId": user_id, "sessionId": record["id"]}
        announce(call.project, call.auth, call.op.events[0], ids, session_model(record))


@handles("users.deleteSessions", announces=True)
def delete_sessions(call: Call) -> None:
    with call.project.db.transaction() as connection:
        user = require_user(connection, call.params["userId"])
        connection.execute("DELETE FROM _sessions WHERE user_id = ?", (user["id"],))
        log(call, connection, user["id"], "session.delete")
        # The event carries the user whose sessions ended, as Appwrite's does.
        announce(call.project, call.auth, call.op.events[0], {"userId": user["id"]}, user_model(connection, user))


@handles("users.createJWT")
def create_jwt(call: Call) -> dict:
    """A JWT for the user: tied to no session (sessionId "", the default), to the newest session
    ("recent"; none when the user has none), or to the named session of the user."""
    params = call.params
    connection = call.project.connection
    user_id = require_user(connection, params["userId"])["id"]
    session_id = params.get("sessionId") or ""
    if session_id == "recent":
        sessions = active_sessions(connection, user_id)
        session_id = sessions[-1]["id"] if sessions else ""
    elif session_id:
        session_id = require_session(connection, user_id, session_id)["id"]
    return {"jwt": make_jwt(call.project, user_id, session_id, params.get("duration", 900))}


@handles("users.createToken")
def create_user_token(call: Call) -> dict:
    """A secret (hex, `length` characters) the client trades for a session with account.createSession."""
    params = call.params
    length = in_range(params.get("length"), "length", TOKEN_LENGTH, TOKEN_LENGTHS)
    seconds = in_range(params.get("expire"), "expire", TOKEN_SECONDS, TOKEN_SECONDS_RANGE)
    secret = secrets.token_hex((length + 1) // 2)[:length]
    with call.project.db.transaction() as connection:
        user_id = require_user(connection, params["userId"])["id"]
        record, secret = create_token(connection, user_id, SESSION_TOKEN, seconds, secret=secret)
        log(call, connection, user_id, "tokens.create")
        return token_model(record, secret)


# --- identities -----------------------------------------------------------------------------------


def announce_identity_deleted(call: Call, record: sqlite3.Row) -> None:
    """The event of a deleted identity: its user's, with the identity as it was."""
    ids = {"userId": record["user_id"], "identityId": record["id"]}
    announce(call.project, call.auth, call.op.events[0], ids, identity_model(call.project, record))


def identity_model(project, record: sqlite3.Row) -> dict:
    return {
        "$id": record["id"],
        "$createdAt": record["created"],
        "$updatedAt": record["updated"],
        "userId": record["user_id"],
        "provider": record["provider"],
        "providerUid": record["provider_uid"],
        "providerEmail": record["provider_email"],
        "providerAccessToken": revealed(project, record["access_token"]),
        "providerAccessTokenExpiry": record["access_token_expiry"],
        "providerRefreshToken": revealed(project, record["refresh_token"]),
    }


def revealed(project, value: str) -> str:
    """A provider token as stored: plain, or sealed with the project key."""
    try:
        return project.cipher.unseal(value)
    except Exception:  # a token sealed under another key is of no use to anyone
        return ""


@handles("users.listIdentities")
def list_identities(call: Call) -> dict:
    records = call.project.connection.execute("SELECT * FROM _identities ORDER BY seq").fetchall()
    total, page = list_models(
        [identity_model(call.project, record) for record in records],
        call.params.get("queries"),
        IDENTITY_ATTRIBUTES,
        search=call.params.get("search"),
        search_fields=("$id", "userId", "provider", "providerUid", "providerEmail"),
        count=call.params.get("total", True),
        noun="identity",
    )
    return {"total": total, "identities": page}


@handles("users.deleteIdentity", announces=True)
def delete_identity(call: Call) -> None:
    identity_id = call.params["identityId"]
    with call.project.db.transaction() as connection:
        record = connection.execute("SELECT * FROM _identities WHERE id = ?", (identity_id,)).fetchone()
        if record is None:
            raise AppwriteError(
                "user_identity_not_found", f"Identity with the requested ID '{identity_id}' could not be found.", 404
            )
        connection.execute("DELETE FROM _identities WHERE seq = ?", (record["seq"],))
        log(call, connection, record["user_id"], "identity.delete")
        announce_identity_deleted(call, record)


# --- logs and memberships -------------------------------------------------------------------------


@handles("users.listLogs")
def list_logs(call: Call) -> dict:
    """The user's log, newest first; only limit and offset apply, as in Appwrite."""
    connection = call.project.connection
    user = require_user(connection, call.params["userId"])
    queries = parse_queries(call.params.get("queries"))
    for query in queries:
        if query.method not in ("limit", "offset"):
            raise invalid(f"{query.method} is not supported here; the logs take only limit and offset")
    paging = plan(queries)
    limit = paging.limit if paging.limit is not None else 25
    records = connection.execute(
        "SELECT * FROM _logs WHERE user_id = ? ORDER BY seq DESC LIMIT ? OFFSET ?", (user["id"], limit, paging.skip)
    ).fetchall()
    total = 0
    if call.params.get("total", True):
        total = connection.execute("SELECT count(*) FROM _logs WHERE user_id = ?", (user["id"],)).fetchone()[0]
    return {"total": total, "logs": [log_model(record, user) for record in records]}


@handles("users.listMemberships")
def list_memberships(call: Call) -> dict:
    connection = call.project.connection
    user = require_user(connection, call.params["userId"])
    records = connection.execute(
        "SELECT m.*, t.name AS team_name FROM _memberships m LEFT JOIN _teams t ON t.id = m.team_id "
        "WHERE m.user_id = ? ORDER BY m.seq",
        (user["id"],),
    ).fetchall()
    models = [membership_model(connection, record, record["team_name"] or "") for record in records]
    total, page = list_models(
        models,
        call.params.get("queries"),
        MEMBERSHIP_ATTRIBUTES,
        search=call.params.get("search"),
        search_fields=("$id", "teamId", "teamName", "userId", "userName", "userEmail"),
        count=call.params.get("total", True),
        noun="membership",
    )
    return {"total": total, "memberships": page}


# --- messaging targets ----------------------------------------------------------------------------


def target_taken() -> AppwriteError:
    return AppwriteError("user_target_already_exists", "A target with the same ID or identifier already exists.", 409)


def find_target_by_identifier(connection: sqlite3.Connection, provider_type: str, identifier: str):
    return connection.execute(
        "SELECT * FROM _targets WHERE provider_type = ? AND identifier = ?", (provider_type, identifier)
    ).fetchone()


def insert_target(
    connection: sqlite3.Connection,
    user_id: str,
    target_id: str,
    provider_type: str,
    identifier: str,
    name: str = "",
    provider_id: str | None = None,
) -> sqlite3.Row:
    now = now_iso()
    connection.execute(
        "INSERT INTO _targets (id, user_id, name, provider_id, provider_type, identifier, created, updated) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (target_id, user_id, name, provider_id, provider_type, identifier, now, now),
    )
    return connection.execute("SELECT * FROM _targets WHERE id = ?", (target_id,)).fetchone()


def require_target(connection: sqlite3.Connection, user_id: str, target_id: str) -> sqlite3.Row:
    record = connection.execute("SELECT * FROM _targets WHERE id = ? AND user_id = ?", (target_id, user_id)).fetchone()
    if record is None:
        raise AppwriteError(
            "user_target_not_found", f"The user '{user_id}' has no target with the ID '{target_id}'.", 404
        )
    return record


def check_identifier(provider_type: str, value: object) -> str:
    """Where a target delivers: an email address, a phone number, or a push device token."""
    if provider_type == "email":
        return normalize_email(value, "identifier")
    if provider_type == "sms":
        return check_phone(value, "identifier")
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_IDENTIFIER:
        raise invalid_argument(
            f"Invalid `identifier` param: expected a device token of 1 to {MAX_IDENTIFIER} characters"
        )
    return value


def check_provider_id(value: object) -> str | None:
    return validate_id(value, "providerId") if value else None


@handles("users.listTargets")
def list_targets(call: Call) -> dict:
    connection = call.project.connection
    user_id = require_user(connection, call.params["userId"])["id"]
    records = connection.execute("SELECT * FROM _targets WHERE user_id = ? ORDER BY seq", (user_id,)).fetchall()
    total, page = list_models(
        [target_model(record) for record in records],
        call.params.get("queries"),
        TARGET_ATTRIBUTES,
        count=call.params.get("total", True),
        noun="target",
    )
    return {"total": total, "targets": page}


@handles("users.createTarget")
def create_target(call: Call) -> dict:
    params = call.params
    target_id = resolve_id(params["targetId"], "targetId")
    provider_type = params["providerType"]
    identifier = check_identifier(provider_type, params["identifier"])
    provider_id = check_provider_id(params.get("providerId"))
    name = check_name(params.get("name"))
    with call.project.db.transaction() as connection:
        user_id = require_user(connection, params["userId"])["id"]
        if connection.execute("SELECT 1 FROM _targets WHERE id = ?", (target_id,)).fetchone():
            raise target_taken()
        if find_target_by_identifier(connection, provider_type, identifier) is not None:
            raise target_taken()
        record = insert_target(connection, user_id, target_id, provider_type, identifier, name, provider_id)
        log(call, connection, user_id, "target.create")
        return target_model(record)


@handles("users.getTarget")
def get_target(call: Call) -> dict:
    connection = call.project.connection
    user_id = require_user(connection, call.params["userId"])["id"]
    return target_model(require_target(connection, user_id, call.params["targetId"]))


@handles("users.updateTarget")
def update_target(call: Call) -> dict:
    """Change what is given: identifier (checked for the target's type), provider, name."""
    params = call.params
    with call.project.db.transaction() as connection:
        user_id = require_user(connection, params["userId"])["id"]
        record = require_target(connection, user_id, params["targetId"])
        identifier, expired = record["identifier"], record["expired"]
        if params.get("identifier"):
            identifier = check_identifier(record["provider_type"], params["identifier"])
            holder = find_target_by_identifier(connection, record["provider_type"], identifier)
            if holder is not None and holder["seq"] != record["seq"]:
                raise target_taken()
            expired = 0
        provider_id = check_provider_id(params.get("providerId")) or record["provider_id"]
        name = check_name(params.get("name")) or record["name"]
        connection.execute(
            "UPDATE _targets SET identifier = ?, expired = ?, provider_id = ?, name = ?, updated = ? WHERE seq = ?",
            (identifier, expired, provider_id, name, now_iso(), record["seq"]),
        )
        log(call, connection, user_id, "target.update")
        return target_model(require_target(connection, user_id, record["id"]))


@handles("users.deleteTarget")
def delete_target(call: Call) -> None:
    with call.project.db.transaction() as connection:
        user_id = require_user(connection, call.params["userId"])["id"]
        record = require_target(connection, user_id, call.params["targetId"])
        connection.execute("DELETE FROM _targets WHERE seq = ?", (record["seq"],))
        log(call, connection, user_id, "target.delete")
