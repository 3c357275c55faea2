"""The records behind identities: users, sessions, tokens and JWTs, and the roles a user carries.

Handlers of the users, teams and account services build on these. Secrets (session secrets, token
secrets) are random and stored only as SHA-256 hashes. JWTs are HS256-signed with a key derived
from the project's encryption key, a file apart from the database, so a copied database cannot
mint them.

A user's roles, for permissions: any, users, users/(un)verified, user:ID, user:ID/(un)verified,
team:ID and team:ID/role for each confirmed membership, member:ID, and label:X for each label.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import jwt

from ..datetimes import format_datetime, now_iso
from ..errors import AppwriteError, invalid_argument
from ..events import announce, event_roles
from ..permissions import Auth, user_auth
from ..registry import Call, Requester
from . import policy
from .passwords import hash_password, verify_password

JWT_SECONDS = 900
MAX_JWT_SECONDS = 3600
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
PHONE = re.compile(r"\+[1-9]\d{1,14}")
# The user model's verdicts on the email address (Appwrite 1.9), null when not worked out.
EMAIL_VERDICTS = ("emailCanonical", "emailIsFree", "emailIsDisposable", "emailIsCorporate", "emailIsCanonical")
# Operations a session may still run while its user owes a second factor.
SECOND_FACTOR_OPERATIONS = frozenset(
    f"account.{method}"
    for method in (
        "listMfaFactors listMFAFactors createMfaChallenge createMFAChallenge updateMfaChallenge "
        "updateMFAChallenge deleteSession"
    ).split()
)


def new_secret() -> str:
    return secrets.token_hex(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def later(**delta: float) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(**delta))


# --- users ----------------------------------------------------------------------------------------


def find_user(connection: sqlite3.Connection, user_id: str) -> sqlite3.Row | None:
    return connection.execute("SELECT * FROM _users WHERE id = ?", (user_id,)).fetchone()


def require_user(connection: sqlite3.Connection, user_id: str) -> sqlite3.Row:
    record = find_user(connection, user_id)
    if record is None:
        raise AppwriteError("user_not_found", "User with the requested ID could not be found.", 404)
    return record


def normalize_email(value: object, param: str = "email") -> str:
    """An email address as stored: trimmed and lowercased; refused unless it looks like one."""
    if not isinstance(value, str) or not EMAIL.fullmatch(value.strip()) or len(value) > 255:
        raise AppwriteError("general_invalid_email", f"Invalid `{param}` param: value must be a valid email address")
    return value.strip().lower()


def check_phone(value: object, param: str = "phone") -> str:
    if not isinstance(value, str) or not PHONE.fullmatch(value):
        raise AppwriteError(
            "general_invalid_phone",
            f"Invalid `{param}` param: phone numbers start with + and a country code, then up to 15 digits",
        )
    return value


def insert_user(
    call: Call,
    user_id: str,
    *,
    email: str | None = None,
    phone: str | None = None,
    password: str | None = None,
    name: str = "",
    imported: tuple[str, str, dict] | None = None,
    announced: bool = True,
) -> sqlite3.Row:
    """A new user, announced as `users.[userId].create` however it came to be (Appwrite announces
    every user created), unless the caller announces it once it is complete (`announced` False: its
    targets added). `password` is plain (checked against the policy, then hashed); `imported`
    is an existing (hash, algorithm, options) kept as it is. Email and phone must be free. A sign-up
    (anyone but an API key or the administrator) must fit in the project's user limit."""
    connection = call.project.connection
    if not call.auth.bypasses_permissions:
        policy.check_user_limit(connection)
    if not isinstance(name, str) or len(name) > 128:
        raise invalid_argument("Invalid `name` param: expected at most 128 characters")
    email = normalize_email(email) if email is not None else None
    phone = check_phone(phone) if phone is not None else None
    if find_user(connection, user_id) is not None:
        raise AppwriteError("user_already_exists", "A user with the same id already exists in this project.", 409)
    if email and connection.execute("SELECT 1 FROM _users WHERE email = ?", (email,)).fetchone():
        raise AppwriteError("user_email_already_exists", "A user with the same email already exists.", 409)
    if phone and connection.execute("SELECT 1 FROM _users WHERE phone = ?", (phone,)).fetchone():
        raise AppwriteError("user_phone_already_exists", "A user with the same phone number already exists.", 409)
    hashed, algorithm, options = imported or (None, None, {})
    now = now_iso()
    if password is not None:
        policy.check(connection, password, {"id": user_id, "name": name, "email": email, "phone": phone})
        hashed, algorithm, options = hash_password(password)
    connection.execute(
        "INSERT INTO _users (id, name, email, phone, password, hash, hash_options, password_update, "
        "password_history, registration, accessed, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            user_id,
            name,
            email,
            phone,
            hashed,
            algorithm,
            json.dumps(options),
            now if hashed else "",
            json.dumps([{"hash": hashed, "algorithm": algorithm, "options": options}] if hashed else []),
            now,
            "",
            now,
            now,
        ),
    )
    user = require_user(connection, user_id)
    if announced:
        announce_user_created(call, user)
    return user


def announce_user_created(call: Call, user: sqlite3.Row) -> None:
    connection = call.project.connection
    announce(call.project, call.auth, "users.[userId].create", {"userId": user["id"]}, user_model(connection, user))


def set_password(connection: sqlite3.Connection, record: sqlite3.Row, password: object) -> sqlite3.Row:
    """Give the user a new password (policy checked, Argon2id-hashed, remembered for the history)."""
    history = json.loads(record["password_history"])
    details = {"id": record["id"], "name": record["name"], "email": record["email"], "phone": record["phone"]}
    policy.check(connection, password, details, history)
    hashed, algorithm, options = hash_password(password)
    history = [*history, {"hash": hashed, "algorithm": algorithm, "options": options}]
    history = history[-policy.kept_history(connection) :]
    now = now_iso()
    connection.execute(
        "UPDATE _users SET password = ?, hash = ?, hash_options = ?, password_update = ?, password_history = ?, "
        "updated = ? WHERE id = ?",
        (hashed, algorithm, json.dumps(options), now, json.dumps(history), now, record["id"]),
    )
    return require_user(connection, record["id"])


def password_matches(record: sqlite3.Row, password: object) -> bool:
    return verify_password(password, record["password"], record["hash"], json.loads(record["hash_options"]))


def is_impersonator(connection: sqlite3.Connection, user_id: str) -> bool:
    return connection.execute("SELECT 1 FROM _impersonators WHERE user_id = ?", (user_id,)).fetchone() is not None


def user_model(connection: sqlite3.Connection, record: sqlite3.Row) -> dict:
    """The user as Appwrite's users service shows it to API keys: with the password hash and its algorithm and
    options (what a migration needs to import the user elsewhere); the account service takes them out."""
    targets = connection.execute("SELECT * FROM _targets WHERE user_id = ? ORDER BY seq", (record["id"],))
    model = {
        "$id": record["id"],
        "$createdAt": record["created"],
        "$updatedAt": record["updated"],
        "name": record["name"],
        "registration": record["registration"],
        "status": bool(record["status"]),
        "labels": json.loads(record["labels"]),
        "passwordUpdate": record["password_update"],
        "email": record["email"] or "",
        "phone": record["phone"] or "",
        "emailVerification": bool(record["email_verification"]),
        "phoneVerification": bool(record["phone_verification"]),
        "mfa": bool(record["mfa"]),
        "prefs": json.loads(record["prefs"]),
        "targets": [target_model(target) for target in targets],
        "accessedAt": record["accessed"],
        "impersonator": is_impersonator(connection, record["id"]),
        # Set only while the caller impersonates this user (account_model); the email verdicts of Appwrite 1.9
        # (canonical form, free, disposable, corporate provider) need its provider lists: never worked out here.
        "impersonatorUserId": None,
        **dict.fromkeys(EMAIL_VERDICTS),
    }
    if record["hash"]:
        model["password"] = record["password"] or ""
        model["hash"] = record["hash"]
        model["hashOptions"] = {"type": record["hash"], **json.loads(record["hash_options"] or "{}")}
    return model


def target_model(record: sqlite3.Row) -> dict:
    return {
        "$id": record["id"],
        "$createdAt": record["created"],
        "$updatedAt": record["updated"],
        "name": record["name"],
        "userId": record["user_id"],
        "providerId": record["provider_id"],
        "providerType": record["provider_type"],
        "identifier": record["identifier"],
        "expired": bool(record["expired"]),
    }


def find_target(connection: sqlite3.Connection, target_id: str) -> sqlite3.Row | None:
    """A messaging target by id, whoever's it is."""
    return connection.execute("SELECT * FROM _targets WHERE id = ?", (target_id,)).fetchone()


def targets_by_ids(connection: sqlite3.Connection, target_ids: list[str]) -> list[sqlite3.Row]:
    """The messaging targets of these ids that exist, in order of creation."""
    marks = ", ".join("?" for _ in target_ids)
    return connection.execute(f"SELECT * FROM _targets WHERE id IN ({marks}) ORDER BY seq", target_ids).fetchall()


def targets_of_users(connection: sqlite3.Connection, user_ids: list[str], provider_type: str) -> list[sqlite3.Row]:
    """The users' messaging targets of one kind (email, sms, push), in order of creation."""
    marks = ", ".join("?" for _ in user_ids)
    return connection.execute(
        f"SELECT * FROM _targets WHERE user_id IN ({marks}) AND provider_type = ? ORDER BY seq",
        (*user_ids, provider_type),
    ).fetchall()


def touch_user(connection: sqlite3.Connection, user_id: str) -> None:
    now = now_iso()
    connection.execute("UPDATE _users SET updated = ? WHERE id = ?", (now, user_id))


def roles_auth(
    connection: sqlite3.Connection,
    record: sqlite3.Row,
    session: sqlite3.Row | None = None,
    *,
    impersonator_id: str | None = None,
) -> Auth:
    """What this user may do: the roles of their labels, verification and confirmed memberships."""
    memberships = connection.execute(
        "SELECT id, team_id, roles FROM _memberships WHERE user_id = ? AND confirm = 1", (record["id"],)
    ).fetchall()
    return user_auth(
        record["id"],
        verified=bool(record["email_verification"] or record["phone_verification"]),
        teams={row["team_id"]: tuple(json.loads(row["roles"])) for row in memberships},
        memberships=tuple(row["id"] for row in memberships),
        labels=tuple(json.loads(record["labels"])),
        session_id=session["id"] if session is not None else None,
        mfa_pending=session is not None and owes_second_factor(record, session),
        impersonator=is_impersonator(connection, record["id"]),
        impersonator_id=impersonator_id,
    )


def impersonated_auth(connection: sqlite3.Connection, impersonator: Auth, target: dict[str, str]) -> Auth:
    """What an impersonator acts as: the user named by `target` (`id`, `email` or `phone`, the first one given,
    as Appwrite's X-Appwrite-Impersonate-User-Id/-Email/-Phone), with that user's roles and the impersonator's
    pending second factor. Unchanged when the caller may not impersonate or no such user exists, as in Appwrite."""
    if impersonator.user_id is None or not is_impersonator(connection, impersonator.user_id):
        return impersonator
    for field in ("id", "email", "phone"):
        value = target.get(field)
        if value:
            found = connection.execute(
                f"SELECT * FROM _users WHERE {field} = ?",  # field is one of three fixed column names
                (value.lower() if field == "email" else value,),
            ).fetchone()
            break
    else:
        return impersonator
    if found is None:
        return impersonator
    acting = roles_auth(connection, found, impersonator_id=impersonator.user_id)
    return replace(acting, mfa_pending=impersonator.mfa_pending)


def second_factors(record: sqlite3.Row) -> dict[str, bool]:
    """The factors a user could sign in with besides a password (Appwrite's mfaFactors model)."""
    return {
        "totp": bool(record["totp_verified"]),
        "phone": bool(record["phone_verification"]),
        "email": bool(record["email_verification"]),
        "recoveryCode": bool(record["recovery_codes"]),
    }


def mfa_in_force(record: sqlite3.Row) -> bool:
    """MFA is on and the user has a second factor to offer (TOTP, or a verified email or phone)."""
    return bool(record["mfa"]) and any(on for name, on in second_factors(record).items() if name != "recoveryCode")


def owes_second_factor(record: sqlite3.Row, session: sqlite3.Row) -> bool:
    """MFA is in force for the user and the session has passed only one factor."""
    return mfa_in_force(record) and len(json.loads(session["factors"])) < 2


# --- sessions -------------------------------------------------------------------------------------


def create_session(
    connection: sqlite3.Connection,
    user_id: str,
    provider: str,
    requester: Requester | None,
    factors: list[str],
    provider_uid: str = "",
) -> tuple[sqlite3.Row, str]:
    """A new session for the user, and its secret (the only time the secret is available); it lasts as
    long as the project's session duration policy says."""
    from ..ids import new_id

    secret = new_secret()
    session_id = new_id()
    now = now_iso()
    connection.execute(
        "INSERT INTO _sessions (id, user_id, secret_hash, provider, provider_uid, ip, user_agent, factors, "
        "mfa_updated, expire, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            session_id,
            user_id,
            digest(secret),
            provider,
            provider_uid,
            requester.ip if requester else "",
            requester.user_agent if requester else "",
            json.dumps(factors),
            now if len(factors) > 1 else "",
            session_expiry(connection),
            now,
            now,
        ),
    )
    connection.execute("UPDATE _users SET accessed = ? WHERE id = ?", (now, user_id))
    record = connection.execute("SELECT * FROM _sessions WHERE id = ?", (session_id,)).fetchone()
    return record, encode_session(user_id, secret)


def session_expiry(connection: sqlite3.Connection) -> str:
    """When a session created or extended now ends."""
    return later(seconds=policy.read(connection)["sessionDuration"])


def encode_session(user_id: str, secret: str) -> str:
    """The value of X-Appwrite-Session (and of the a_session_<project> cookie): base64 of {id, secret}."""
    return base64.b64encode(json.dumps({"id": user_id, "secret": secret}).encode()).decode()


def decode_session(value: str) -> str | None:
    """The raw session secret inside an X-Appwrite-Session value (or the raw secret itself)."""
    try:
        decoded = json.loads(base64.b64decode(value, validate=True))
        return decoded["secret"] if isinstance(decoded, dict) and isinstance(decoded.get("secret"), str) else None
    except (ValueError, TypeError):
        return value if re.fullmatch(r"[0-9a-f]{64}", value) else None


def client_fields(agent: str) -> dict:
    """The client, device and place fields of a session or log: the client's name from its user agent; the
    engine parses no more of it and has no GeoIP database, so the rest is empty and the country unknown."""
    return {
        "osCode": "",
        "osName": "",
        "osVersion": "",
        "clientType": "",
        "clientCode": "",
        "clientName": agent.split("/", 1)[0] if agent else "",
        "clientVersion": "",
        "clientEngine": "",
        "clientEngineVersion": "",
        "deviceName": "",
        "deviceBrand": "",
        "deviceModel": "",
        "countryCode": "--",
        "countryName": "Unknown",
    }


def session_model(record: sqlite3.Row, current: str | None = None, secret: str = "") -> dict:
    return {
        "$id": record["id"],
        "$createdAt": record["created"],
        "$updatedAt": record["updated"],
        "userId": record["user_id"],
        "expire": record["expire"],
        "provider": record["provider"],
        "providerUid": record["provider_uid"],
        "providerAccessToken": "",
        "providerAccessTokenExpiry": "",
        "providerRefreshToken": "",
        "ip": record["ip"],
        **client_fields(record["user_agent"]),
        "current": record["id"] == current,
        "factors": json.loads(record["factors"]),
        "secret": secret,
        "mfaUpdatedAt": record["mfa_updated"],
    }


def signed_in(connection: sqlite3.Connection, record: sqlite3.Row) -> sqlite3.Row:
    """The user a session belongs to, if the session is unexpired and the user may sign in."""
    if record["expire"] <= now_iso():
        raise AppwriteError("user_unauthorized", "The session has expired; sign in again.", 401)
    user = find_user(connection, record["user_id"])
    if user is None:
        raise AppwriteError("user_unauthorized", "The session's user no longer exists.", 401)
    if not user["status"]:
        raise AppwriteError("user_blocked", "The current user has been blocked.", 401)
    return user


def session_auth(connection: sqlite3.Connection, value: str) -> Auth:
    """The Auth of an X-Appwrite-Session value or session cookie; AppwriteError when it is not valid."""
    secret = decode_session(value)
    record = (
        connection.execute("SELECT * FROM _sessions WHERE secret_hash = ?", (digest(secret),)).fetchone()
        if secret
        else None
    )
    if record is None:
        raise AppwriteError("user_unauthorized", "The session is not valid: it is unknown, ended or malformed.", 401)
    return roles_auth(connection, signed_in(connection, record), record)


# --- JWTs -----------------------------------------------------------------------------------------


def jwt_key(project) -> bytes:
    return project.cipher.derive(b"jwt")


def make_jwt(project, user_id: str, session_id: str, seconds: int = JWT_SECONDS) -> str:
    if not isinstance(seconds, int) or not 0 <= seconds <= MAX_JWT_SECONDS:
        raise invalid_argument(f"Invalid `duration` param: expected seconds from 0 to {MAX_JWT_SECONDS}")
    moment = datetime.now(UTC)
    claims = {"userId": user_id, "sessionId": session_id, "iat": moment, "exp": moment + timedelta(seconds=seconds)}
    return jwt.encode(claims, jwt_key(project), algorithm="HS256")


def jwt_auth(project, token: str) -> Auth:
    """The Auth of an X-Appwrite-JWT; AppwriteError (user_jwt_invalid) when it is not valid any more."""
    refused = AppwriteError("user_jwt_invalid", "The JWT is not valid: it is expired, altered or malformed.", 401)
    try:
        claims = jwt.decode(token, jwt_key(project), algorithms=["HS256"], options={"require": ["exp"]})
    except jwt.PyJWTError:
        raise refused from None
    connection = project.connection
    session = None
    if claims.get("sessionId"):
        session = connection.execute(
            "SELECT * FROM _sessions WHERE id = ? AND user_id = ?", (claims["sessionId"], claims.get("userId"))
        ).fetchone()
        if session is None:
            raise refused
        user = signed_in(connection, session)
    else:
        user = find_user(connection, str(claims.get("userId")))
        if user is None:
            raise refused
        if not user["status"]:
            raise AppwriteError("user_blocked", "The current user has been blocked.", 401)
    return roles_auth(connection, user, session)


# --- tokens ---------------------------------------------------------------------------------------


def create_token(
    connection: sqlite3.Connection,
    user_id: str,
    kind: str,
    seconds: int,
    *,
    secret: str | None = None,
    phrase: str = "",
    data: dict | None = None,
) -> tuple[sqlite3.Row, str]:
    """A token of `kind` for the user, valid `seconds`, and its secret (random unless one is given,
    e.g. a 6-digit code)."""
    from ..ids import new_id

    secret = secret or new_secret()
    token_id = new_id()
    connection.execute(
        "INSERT INTO _tokens (id, user_id, kind, secret_hash, phrase, data, expire, created) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (token_id, user_id, kind, digest(secret), phrase, json.dumps(data or {}), later(seconds=seconds), now_iso()),
    )
    return connection.execute("SELECT * FROM _tokens WHERE id = ?", (token_id,)).fetchone(), secret


def mock_otp(connection: sqlite3.Connection, phone: str) -> str | None:
    """The fixed code of a mock phone number (project.createMockPhone), or None for a real number: a phone
    token or verification for a mock number takes its code and sends no SMS, as in Appwrite."""
    row = connection.execute("SELECT otp FROM _mock_numbers WHERE number = ?", (phone,)).fetchone()
    return row[0] if row else None


def consume_token(connection: sqlite3.Connection, user_id: str, secret: object, kinds: tuple[str, ...]) -> sqlite3.Row:
    """The user's unexpired token of one of `kinds` with this secret, now deleted (a token works once)."""
    marks = ", ".join("?" for _ in kinds)
    record = connection.execute(
        f"SELECT * FROM _tokens WHERE user_id = ? AND secret_hash = ? AND kind IN ({marks}) AND expire > ?",
        (user_id, digest(str(secret)), *kinds, now_iso()),
    ).fetchone()
    if record is None:
        raise AppwriteError("user_invalid_token", "Invalid token passed in the request.", 401)
    connection.execute("DELETE FROM _tokens WHERE seq = ?", (record["seq"],))
    return record


def token_model(record: sqlite3.Row, secret: str = "") -> dict:
    return {
        "$id": record["id"],
        "$createdAt": record["created"],
        "userId": record["user_id"],
        "secret": secret,
        "expire": record["expire"],
        "phrase": record["phrase"],
    }


# --- logs -----------------------------------------------------------------------------------------


def log_event(connection: sqlite3.Connection, user_id: str, event: str, requester: Requester | None, mode: str) -> None:
    """Remember what happened to a user (listLogs), e.g. "session.create", made by "user" or "admin"."""
    connection.execute(
        "INSERT INTO _logs (user_id, event, mode, ip, user_agent, time) VALUES (?, ?, ?, ?, ?, ?)",
        (
            user_id,
            event,
            mode,
            requester.ip if requester else "",
            requester.user_agent if requester else "",
            now_iso(),
        ),
    )


def log_model(record: sqlite3.Row, user: sqlite3.Row | None) -> dict:
    return {
        "event": record["event"],
        "userId": record["user_id"],
        "userEmail": (user["email"] or "") if user else "",
        "userName": user["name"] if user else "",
        "mode": record["mode"],
        # Who acted (Appwrite 1.9): the user themselves, or the administration (a key or the local administrator).
        "userType": "user" if record["mode"] == "user" else "admin",
        "ip": record["ip"],
        "time": record["time"],
        **client_fields(record["user_agent"]),
    }


@event_roles("users.")
def user_event_roles(project, ids: dict[str, str], payload: dict) -> list[str]:
    """A user's events are theirs to see (Appwrite's realtime gives them the role `user:ID`)."""
    return [f"user:{ids['userId']}"]


@event_roles("teams.")
def team_event_roles(project, ids: dict[str, str], payload: dict) -> list[str]:
    """A team's events, and its memberships', are for its members (`team:ID`)."""
    return [f"team:{ids['teamId']}"]
