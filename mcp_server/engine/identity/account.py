"""Handlers of the account service: the signed-in user's own account, sessions, tokens, verification
and password recovery, as Appwrite 1.8 runs them.

The caller is `call.auth.user_id` (a session or JWT); a guest may only sign up, sign in and finish
email flows. Codes and links that Appwrite would email or text go to the project's outbox
(outbox.py), from where the developer or a test reads them. Token secrets are returned in the
response only to servers (API keys, the local administrator), as Appwrite does; a new session's
secret is returned to everyone, and the REST layer moves it into the session cookie.

MFA (authenticators, challenges, recovery codes) is in `mfa.py`.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from .. import outbox
from ..datetimes import now_iso
from ..errors import AppwriteError, invalid_argument
from ..events import announce
from ..ids import new_id, resolve_id, validate_id
from ..links import check_url, with_query
from ..listing import list_models
from ..queries import DEFAULT_LIMIT, invalid, parse_queries, plan
from ..registry import Call, handles
from . import policy
from .identities import (
    check_phone,
    client_fields,
    consume_token,
    create_session,
    create_token,
    find_user,
    insert_user,
    log_event,
    log_model,
    make_jwt,
    mock_otp,
    normalize_email,
    password_matches,
    require_user,
    session_expiry,
    session_model,
    set_password,
    token_model,
    user_model,
)
from .passwords import hash_password
from .users import IDENTITY_ATTRIBUTES, announce_identity_deleted, follow_address, identity_model, identity_with_email

# Token lifetimes (Appwrite's TOKEN_EXPIRATION_*): one-time codes, confirmation links, recovery.
OTP_SECONDS = 15 * 60
CONFIRM_SECONDS = 60 * 60
RECOVERY_SECONDS = 60 * 60
MAX_PREFS = 65535
# Token kinds, and what signing in with each proves (the session's first factor) and is called.
GENERIC, EMAIL, PHONE, MAGIC_URL, OAUTH2 = "session", "email", "phone", "magic-url", "oauth2"
VERIFICATION, RECOVERY = "verification", "recovery"
SIGN_IN_KINDS = (GENERIC, EMAIL, PHONE, MAGIC_URL, OAUTH2)
SIGN_IN_FACTORS = {MAGIC_URL: "email", OAUTH2: "email", EMAIL: "email", PHONE: "phone", GENERIC: "token"}
SIGN_IN_PROVIDERS = {MAGIC_URL: "magic-url", PHONE: "phone", OAUTH2: "oauth2"}
PHRASE_ADJECTIVES = (
    "Able Brave Calm Clever Eager Fancy Gentle Happy Jolly Kind Lively Lucky Mighty Noble Polite Proud Quick "
    "Quiet Shiny Silly Smart Swift Witty Zesty"
).split()
PHRASE_NOUNS = (
    "Badger Beaver Falcon Ferret Fox Gecko Heron Koala Lemur Lion Lynx Marten Otter Owl Panda Puffin Raven "
    "Robin Seal Tiger Toucan Walrus Whale Zebra"
).split()


# --- shared helpers (mfa.py uses them too) ---------------------------------------------------------


def caller(connection: sqlite3.Connection, call: Call) -> sqlite3.Row:
    """The signed-in user the account operation acts on."""
    if call.auth.user_id is None:
        raise AppwriteError(
            "general_unauthorized_scope",
            f"{call.op.id} acts on the signed-in user's own account, and this {call.auth.label} caller is no user: "
            "call it with a user's session or JWT (or use the users service to manage any user)",
            401,
        )
    return require_user(connection, call.auth.user_id)


def account_model(call: Call, connection: sqlite3.Connection, record: sqlite3.Row) -> dict:
    """The user as the account service shows them to themselves: no password hash, and who impersonates them."""
    model = user_model(connection, record)
    model.pop("password", None)
    model.pop("hash", None)
    model.pop("hashOptions", None)
    if record["id"] == call.auth.user_id:
        model["impersonatorUserId"] = call.auth.impersonator_id
    return model


def server_caller(call: Call) -> bool:
    """API keys and the local administrator: token secrets are shown to them only."""
    return call.auth.roles is None


def project_dir(call: Call) -> Path:
    return call.project.db.path.parent


def log(connection: sqlite3.Connection, call: Call, user_id: str, event: str) -> None:
    log_event(connection, user_id, event, call.requester, "user")


def numeric_code() -> str:
    """A 6-digit one-time code."""
    return f"{secrets.randbelow(10**6):06d}"


def security_phrase() -> str:
    return f"{secrets.choice(PHRASE_ADJECTIVES)} {secrets.choice(PHRASE_NOUNS)}"


def current_session(connection: sqlite3.Connection, call: Call) -> sqlite3.Row | None:
    if call.auth.session_id is None:
        return None
    return connection.execute(
        "SELECT * FROM _sessions WHERE id = ? AND user_id = ?", (call.auth.session_id, call.auth.user_id)
    ).fetchone()


def add_target(connection: sqlite3.Connection, user_id: str, provider_type: str, identifier: str) -> None:
    """The messaging target Appwrite gives a new user's email or phone (none when another user holds it)."""
    holder = connection.execute(
        "SELECT 1 FROM _targets WHERE provider_type = ? AND identifier = ?", (provider_type, identifier)
    ).fetchone()
    if holder is None:
        follow_address(connection, user_id, provider_type, None, identifier)


def token_response(call: Call, record: sqlite3.Row, secret: str, phrase: str = "") -> dict:
    model = token_model(record, secret if server_caller(call) else "")
    if phrase:
        model["phrase"] = phrase
    return model


def announce_token(call: Call, record: sqlite3.Row, secret: str) -> None:
    """Announce a new recovery or verification token with its secret, as Appwrite does (for webhooks and
    functions; marked sensitive, so nothing else shows it)."""
    ids = {"userId": record["user_id"], "tokenId": record["id"]}
    announce(call.project, call.auth, call.op.events[0], ids, token_model(record, secret), sensitive=("secret",))


def require_session(connection: sqlite3.Connection, call: Call, session_id: str) -> sqlite3.Row:
    """One of the caller's sessions; `current` is the one the call came with."""
    if session_id == "current":
        session_id = call.auth.session_id or ""
    record = connection.execute(
        "SELECT * FROM _sessions WHERE id = ? AND user_id = ?", (session_id, call.auth.user_id)
    ).fetchone()
    if record is None:
        raise AppwriteError("user_session_not_found", "The current user session could not be found.", 404)
    return record


def refuse_when_signed_in(call: Call) -> None:
    if call.auth.user_id is not None:
        raise AppwriteError(
            "user_session_already_exists",
            "A session is already active: sign out (account.deleteSession with sessionId `current`) before "
            "creating another one.",
            401,
        )


def start_session(
    connection: sqlite3.Connection,
    call: Call,
    user: sqlite3.Row,
    provider: str,
    factors: list[str],
    provider_uid: str = "",
) -> dict:
    """A new session for the user, as the response shows it (with its secret). As the project's policy
    says: the user is alerted by email, and their oldest sessions beyond the session limit end."""
    record, value = create_session(connection, user["id"], provider, call.requester, factors, provider_uid)
    settings = policy.read(connection)
    if settings["sessionAlerts"]:
        alert_new_session(connection, call, user, record)
    if settings["maxSessions"]:
        connection.execute(
            "DELETE FROM _sessions WHERE user_id = ? AND seq NOT IN "
            "(SELECT seq FROM _sessions WHERE user_id = ? ORDER BY seq DESC LIMIT ?)",
            (user["id"], user["id"], settings["maxSessions"]),
        )
    log(connection, call, user["id"], "session.create")
    return session_model(record, current=record["id"], secret=value)


def alert_new_session(connection: sqlite3.Connection, call: Call, user: sqlite3.Row, session: sqlite3.Row) -> None:
    """Appwrite's session alert: an email about the new session, unless it is the user's only one or it was
    opened with a code or link sent to that very address."""
    factors = json.loads(session["factors"])
    if not user["email"] or (session["provider"] in ("magic-url", "token") and "email" in factors):
        return
    if connection.execute("SELECT count(*) FROM _sessions WHERE user_id = ?", (user["id"],)).fetchone()[0] == 1:
        return
    moment = datetime.now(UTC)
    values = {
        "user": user["name"],
        "device": client_fields(session["user_agent"])["clientName"] or "UNKNOWN",
        "ipAddress": session["ip"],
        "country": "Unknown",
        "date": f"{moment:%B} {moment.day}",
        "time": f"{moment:%H:%M:%S}",
        "year": f"{moment:%Y}",
    }
    send_email(call, "sessionAlert", user["email"], values, {"userId": user["id"], "sessionId": session["id"]})


def hidden_account() -> AppwriteError:
    """Appwrite's answer when an email belongs to another user's OAuth2 identity: nothing that reveals it."""
    return AppwriteError("general_bad_request", "The request cannot be fulfilled with the current parameters.", 400)


def find_by(connection: sqlite3.Connection, column: str, value: str) -> sqlite3.Row | None:
    return connection.execute(f"SELECT * FROM _users WHERE {column} = ?", (value,)).fetchone()


def send_email(call: Call, template_id: str, to: str, values: dict[str, str], data: dict) -> None:
    """Email the project's `template_id` (email_templates.py), with the project and `values` filled in."""
    outbox.send_email(call.project, call.outbound, template_id, to, {"project": call.project.id, **values}, data)


def send_sms(call: Call, to: str, text: str, data: dict) -> None:
    outbox.send(project_dir(call), "sms", to, "", text, data)


# --- the account ----------------------------------------------------------------------------------


@handles("account.create")
def create_account(call: Call) -> dict:
    params = call.params
    user_id = resolve_id(params["userId"], "userId")
    email = normalize_email(params["email"])
    with call.project.db.transaction() as connection:
        if identity_with_email(connection, email, None):
            raise hidden_account()
        try:
            user = insert_user(call, user_id, email=email, password=params["password"], name=params.get("name") or "")
        except AppwriteError as error:
            if error.type != "user_email_already_exists":
                raise
            raise AppwriteError(
                "user_already_exists", "A user with the same id, email, or phone already exists in this project.", 409
            ) from None
        add_target(connection, user["id"], "email", user["email"])
        log(connection, call, user["id"], "user.create")
        return account_model(call, connection, user)


@handles("account.get")
def get_account(call: Call) -> dict:
    connection = call.project.connection
    return account_model(call, connection, caller(connection, call))


@handles("account.updateName")
def update_name(call: Call) -> dict:
    name = call.params["name"]
    if len(name) > 128:
        raise invalid_argument("Invalid `name` param: expected at most 128 characters")
    with call.project.db.transaction() as connection:
        user = caller(connection, call)
        connection.execute("UPDATE _users SET name = ?, updated = ? WHERE id = ?", (name, now_iso(), user["id"]))
        log(connection, call, user["id"], "user.update")
        return account_model(call, connection, require_user(connection, user["id"]))


def check_password(user: sqlite3.Row, password: object) -> None:
    """A change of email or phone needs the current password, when the user has one."""
    if user["password_update"] and not password_matches(user, password):
        raise AppwriteError("user_invalid_credentials", "Invalid credentials. Please check the email and password.")


def give_password_if_none(connection: sqlite3.Connection, user: sqlite3.Row, password: object) -> None:
    """A user without a password (signed up with a code, link or anonymously) gets the one they confirm with."""
    if not user["password_update"]:
        set_password(connection, require_user(connection, user["id"]), password)


@handles("account.updateEmail")
def update_email(call: Call) -> dict:
    params = call.params
    email = normalize_email(params["email"])
    with call.project.db.transaction() as connection:
        user = caller(connection, call)
        check_password(user, params["password"])
        other = find_by(connection, "email", email)
        if other is not None and other["id"] != user["id"]:
            raise AppwriteError("user_email_already_exists", "A user with the same email already exists.", 409)
        if identity_with_email(connection, email, user["id"]):
            raise hidden_account()
        follow_address(connection, user["id"], "email", user["email"], email)
        connection.execute(
            "UPDATE _users SET email = ?, email_verification = 0, updated = ? WHERE id = ?",
            (email, now_iso(), user["id"]),
        )
        give_password_if_none(connection, user, params["password"])
        log(connection, call, user["id"], "user.update")
        return account_model(call, connection, require_user(connection, user["id"]))


@handles("account.updatePhone")
def update_phone(call: Call) -> dict:
    params = call.params
    phone = check_phone(params["phone"])
    with call.project.db.transaction() as connection:
        user = caller(connection, call)
        check_password(user, params["password"])
        other = find_by(connection, "phone", phone)
        if other is not None and other["id"] != user["id"]:
            raise AppwriteError("user_phone_already_exists", "A user with the same phone number already exists.", 409)
        follow_address(connection, user["id"], "sms", user["phone"], phone)
        connection.execute(
            "UPDATE _users SET phone = ?, phone_verification = 0, updated = ? WHERE id = ?",
            (phone, now_iso(), user["id"]),
        )
        give_password_if_none(connection, user, params["password"])
        log(connection, call, user["id"], "user.update")
        return account_model(call, connection, require_user(connection, user["id"]))


@handles("account.updatePassword")
def update_password(call: Call) -> dict:
    params = call.params
    with call.project.db.transaction() as connection:
        user = caller(connection, call)
        if user["password_update"] and not password_matches(user, params.get("oldPassword")):
            raise AppwriteError(
                "user_invalid_credentials", "Invalid credentials: `oldPassword` is not the current password."
            )
        user = set_password(connection, user, params["password"])
        if call.auth.session_id and policy.read(connection)["invalidateSessions"]:
            # The other sessions end with the old password.
            connection.execute(
                "DELETE FROM _sessions WHERE user_id = ? AND id != ?", (user["id"], call.auth.session_id)
            )
        log(connection, call, user["id"], "user.update")
        return account_model(call, connection, user)


@handles("account.getPrefs")
def get_prefs(call: Call) -> dict:
    connection = call.project.connection
    return json.loads(caller(connection, call)["prefs"])


@handles("account.updatePrefs")
def update_prefs(call: Call) -> dict:
    prefs = call.params["prefs"]
    text = json.dumps(prefs)
    if len(text) > MAX_PREFS:
        raise invalid_argument(f"Invalid `prefs` param: at most {MAX_PREFS} characters of JSON are allowed")
    with call.project.db.transaction() as connection:
        user = caller(connection, call)
        connection.execute("UPDATE _users SET prefs = ?, updated = ? WHERE id = ?", (text, now_iso(), user["id"]))
        log(connection, call, user["id"], "user.update")
        return account_model(call, connection, require_user(connection, user["id"]))


@handles("account.updateStatus")
def update_status(call: Call) -> dict:
    """The user blocks their own account: every session of theirs stops working (sign-in is refused too)."""
    with call.project.db.transaction() as connection:
        user = caller(connection, call)
        connection.execute("UPDATE _users SET status = 0, updated = ? WHERE id = ?", (now_iso(), user["id"]))
        log(connection, call, user["id"], "user.update")
        return account_model(call, connection, require_user(connection, user["id"]))


@handles("account.listLogs")
def list_logs(call: Call) -> dict:
    connection = call.project.connection
    user = caller(connection, call)
    queries = parse_queries(call.params.get("queries"))
    for query in queries:
        if query.method not in ("limit", "offset"):
            raise invalid(f"{query.method} is not allowed here; account logs take limit and offset only")
    paging = plan(queries)
    limit = paging.limit if paging.limit is not None else DEFAULT_LIMIT
    rows = connection.execute(
        "SELECT * FROM _logs WHERE user_id = ? ORDER BY seq DESC LIMIT ? OFFSET ?", (user["id"], limit, paging.skip)
    ).fetchall()
    total = 0
    if call.params.get("total", True):
        total = connection.execute("SELECT COUNT(*) FROM _logs WHERE user_id = ?", (user["id"],)).fetchone()[0]
    return {"total": total, "logs": [log_model(row, user) for row in rows]}


@handles("account.listIdentities")
def list_identities(call: Call) -> dict:
    connection = call.project.connection
    user = caller(connection, call)
    rows = connection.execute("SELECT * FROM _identities WHERE user_id = ? ORDER BY seq", (user["id"],)).fetchall()
    total, page = list_models(
        [identity_model(call.project, row) for row in rows],
        call.params.get("queries"),
        IDENTITY_ATTRIBUTES,
        count=call.params.get("total", True),
        noun="identity",
    )
    return {"total": total, "identities": page}


@handles("account.deleteIdentity", announces=True)
def delete_identity(call: Call) -> None:
    identity_id = validate_id(call.params["identityId"], "identityId")
    with call.project.db.transaction() as connection:
        user = caller(connection, call)
        record = connection.execute(
            "SELECT * FROM _identities WHERE id = ? AND user_id = ?", (identity_id, user["id"])
        ).fetchone()
        if record is None:
            raise AppwriteError("user_identity_not_found", "The identity could not be found.", 404)
        connection.execute("DELETE FROM _identities WHERE seq = ?", (record["seq"],))
        log(connection, call, user["id"], "identity.delete")
        announce_identity_deleted(call, record)


@handles("account.createJWT")
def create_jwt(call: Call) -> dict:
    connection = call.project.connection
    user = caller(connection, call)
    session = current_session(connection, call)
    if session is None:
        raise AppwriteError(
            "user_session_not_found", "A JWT is made for the current session, and this call has none.", 404
        )
    duration = call.params.get("duration")
    token = make_jwt(call.project, user["id"], session["id"], 900 if duration is None else duration)
    return {"jwt": token}


# --- sessions -------------------------------------------------------------------------------------


@handles("account.createEmailPasswordSession")
def create_email_password_session(call: Call) -> dict:
    refuse_when_signed_in(call)
    params = call.params
    email = normalize_email(params["email"])
    with call.project.db.transaction() as connection:
        user = find_by(connection, "email", email)
        if user is None or not user["password_update"] or not password_matches(user, params["password"]):
            raise AppwriteError(
                "user_invalid_credentials", "Invalid credentials. Please check the email and password.", 401
            )
        if not user["status"]:
            raise AppwriteError("user_blocked", "The current user has been blocked.", 401)
        if user["hash"] != "argon2":
            # An imported hash is replaced by the default algorithm once the password is known.
            hashed, algorithm, options = hash_password(params["password"])
            connection.execute(
                "UPDATE _users SET password = ?, hash = ?, hash_options = ? WHERE id = ?",
                (hashed, algorithm, json.dumps(options), user["id"]),
            )
        return start_session(connection, call, user, "email", ["password"], email)


@handles("account.createAnonymousSession")
def create_anonymous_session(call: Call) -> dict:
    refuse_when_signed_in(call)
    with call.project.db.transaction() as connection:
        user = insert_user(call, new_id())
        log(connection, call, user["id"], "user.create")
        return start_session(connection, call, user, "anonymous", ["anonymous"])


@handles("account.createSession", "account.updateMagicURLSession", "account.updatePhoneSession")
def create_session_from_token(call: Call) -> dict:
    """A session from the secret of a sign-in token: an email or SMS code, a magic URL, or users.createToken."""
    refuse_when_signed_in(call)
    params = call.params
    with call.project.db.transaction() as connection:
        user = find_user(connection, str(params["userId"]))
        if user is None:
            raise AppwriteError("user_invalid_token", "Invalid token passed in the request.", 401)
        if not user["status"]:
            raise AppwriteError("user_blocked", "The current user has been blocked.", 401)
        token = consume_token(connection, user["id"], params["secret"], SIGN_IN_KINDS)
        kind = token["kind"]
        if kind in (EMAIL, MAGIC_URL):
            connection.execute("UPDATE _users SET email_verification = 1 WHERE id = ?", (user["id"],))
        elif kind == PHONE:
            connection.execute("UPDATE _users SET phone_verification = 1 WHERE id = ?", (user["id"],))
        provider = SIGN_IN_PROVIDERS.get(kind, "token")
        return start_session(connection, call, user, provider, [SIGN_IN_FACTORS[kind]])


@handles("account.listSessions")
def list_sessions(call: Call) -> dict:
    connection = call.project.connection
    user = caller(connection, call)
    rows = connection.execute("SELECT * FROM _sessions WHERE user_id = ? ORDER BY seq", (user["id"],)).fetchall()
    return {"total": len(rows), "sessions": [session_model(row, call.auth.session_id) for row in rows]}


@handles("account.getSession")
def get_session(call: Call) -> dict:
    connection = call.project.connection
    caller(connection, call)
    return session_model(require_session(connection, call, call.params["sessionId"]), call.auth.session_id)


@handles("account.updateSession")
def update_session(call: Call) -> dict:
    """Extend a session. Appwrite also refreshes an OAuth2 session's provider tokens; no OAuth2 provider
    can be configured here, so there are none to refresh."""
    with call.project.db.transaction() as connection:
        caller(connection, call)
        session = require_session(connection, call, call.params["sessionId"])
        connection.execute(
            "UPDATE _sessions SET expire = ?, updated = ? WHERE seq = ?",
            (session_expiry(connection), now_iso(), session["seq"]),
        )
        log(connection, call, session["user_id"], "session.update")
        record = connection.execute("SELECT * FROM _sessions WHERE seq = ?", (session["seq"],)).fetchone()
        return session_model(record, call.auth.session_id)


@handles("account.deleteSession")
def delete_session(call: Call) -> None:
    with call.project.db.transaction() as connection:
        caller(connection, call)
        session = require_session(connection, call, call.params["sessionId"])
        connection.execute("DELETE FROM _sessions WHERE seq = ?", (session["seq"],))
        log(connection, call, session["user_id"], "session.delete")


@handles("account.deleteSessions", announces=True)
def delete_sessions(call: Call) -> None:
    with call.project.db.transaction() as connection:
        user = caller(connection, call)
        session = current_session(connection, call)
        connection.execute("DELETE FROM _sessions WHERE user_id = ?", (user["id"],))
        log(connection, call, user["id"], "session.delete")
        if session is not None:
            # One event, for the session that asked (as Appwrite announces it).
            ids = {"userId": user["id"], "sessionId": session["id"]}
            announce(call.project, call.auth, call.op.events[0], ids, session_model(session, session["id"]))


# --- sign-in tokens -------------------------------------------------------------------------------


def user_for_token(connection: sqlite3.Connection, call: Call, user_id: object, column: str, value: str) -> sqlite3.Row:
    """The user with this email or phone, or a new one with it (`user_id` names a new user only)."""
    user = find_by(connection, column, value)
    if user is not None:
        return user
    if column == "email" and identity_with_email(connection, value, None):
        raise hidden_account()
    user = insert_user(call, resolve_id(user_id, "userId"), **{column: value})
    add_target(connection, user["id"], "email" if column == "email" else "sms", value)
    log(connection, call, user["id"], "user.create")
    return user


@handles("account.createEmailToken")
def create_email_token(call: Call) -> dict:
    params = call.params
    email = normalize_email(params["email"])
    phrase = security_phrase() if params.get("phrase") else ""
    code = numeric_code()
    with call.project.db.transaction() as connection:
        user = user_for_token(connection, call, params["userId"], "email", email)
        token, _ = create_token(connection, user["id"], EMAIL, OTP_SECONDS, secret=code, phrase=phrase)
        log(connection, call, user["id"], "session.create")
    data = {"userId": user["id"], "secret": code, "expire": token["expire"], "phrase": phrase}
    send_email(call, "otpSession", email, {"user": user["name"] or email, "otp": code, "phrase": phrase}, data)
    return token_response(call, token, code, phrase)


@handles("account.createMagicURLToken")
def create_magic_url_token(call: Call) -> dict:
    params = call.params
    email = normalize_email(params["email"])
    url = check_url(params["url"]) if params.get("url") else None
    phrase = security_phrase() if params.get("phrase") else ""
    secret = secrets.token_hex(32)
    with call.project.db.transaction() as connection:
        user = user_for_token(connection, call, params["userId"], "email", email)
        token, _ = create_token(connection, user["id"], MAGIC_URL, CONFIRM_SECONDS, secret=secret, phrase=phrase)
        log(connection, call, user["id"], "session.create")
    project = call.project.id
    values = {"userId": user["id"], "secret": secret, "expire": token["expire"], "project": project}
    link = with_query(url, values) if url else ""
    redirect = link or f"(no url was given: call account.createSession with userId {user['id']} and secret {secret})"
    filled = {"user": user["name"] or email, "redirect": redirect, "phrase": phrase}
    send_email(call, "magicSession", email, filled, {**values, "url": link, "phrase": phrase})
    return token_response(call, token, secret, phrase)


@handles("account.createPhoneToken")
def create_phone_token(call: Call) -> dict:
    params = call.params
    phone = check_phone(params["phone"])
    with call.project.db.transaction() as connection:
        mock = mock_otp(connection, phone)
        code = mock or numeric_code()
        user = user_for_token(connection, call, params["userId"], "phone", phone)
        token, _ = create_token(connection, user["id"], PHONE, OTP_SECONDS, secret=code)
        log(connection, call, user["id"], "session.create")
    if mock is None:
        text = f"{code} is your {call.project.id} verification code."
        send_sms(call, phone, text, {"userId": user["id"], "secret": code, "expire": token["expire"]})
    return token_response(call, token, code)


@handles("account.createOAuth2Token")
def create_oauth2_token(call: Call) -> None:
    provider = call.params["provider"]
    raise AppwriteError(
        "project_provider_disabled",
        f"This provider is disabled: the {provider} OAuth2 provider is not enabled for this project (the embedded "
        "engine has no OAuth2 providers). Sign in with email and password, an email or SMS code, or a magic URL.",
        412,
    )


# --- verification ---------------------------------------------------------------------------------


@handles("account.createEmailVerification", "account.createVerification")
def create_email_verification(call: Call) -> dict:
    url = check_url(call.params["url"])
    secret = secrets.token_hex(32)
    with call.project.db.transaction() as connection:
        user = caller(connection, call)
        if not user["email"]:
            raise AppwriteError("user_email_not_found", "The current user does not have an email address.", 400)
        if user["email_verification"]:
            raise AppwriteError("user_email_already_verified", "The email of the current user is already verified.")
        token, _ = create_token(connection, user["id"], VERIFICATION, CONFIRM_SECONDS, secret=secret)
        log(connection, call, user["id"], "verification.create")
    link = with_query(url, {"userId": user["id"], "secret": secret, "expire": token["expire"]})
    data = {"userId": user["id"], "secret": secret, "expire": token["expire"], "url": link}
    send_email(call, "verification", user["email"], {"user": user["name"] or user["email"], "redirect": link}, data)
    announce_token(call, token, secret)
    return token_response(call, token, secret)


@handles("account.updateEmailVerification", "account.updateVerification")
def update_email_verification(call: Call) -> dict:
    return confirm_address(call, VERIFICATION, "email_verification")


@handles("account.createPhoneVerification")
def create_phone_verification(call: Call) -> dict:
    with call.project.db.transaction() as connection:
        user = caller(connection, call)
        if not user["phone"]:
            raise AppwriteError("user_phone_not_found", "The current user does not have a phone number.", 400)
        if user["phone_verification"]:
            raise AppwriteError("user_phone_already_verified", "The phone of the current user is already verified.")
        mock = mock_otp(connection, user["phone"])
        code = mock or numeric_code()
        token, _ = create_token(connection, user["id"], PHONE, CONFIRM_SECONDS, secret=code)
        log(connection, call, user["id"], "verification.create")
    if mock is None:
        text = f"{code} is your {call.project.id} verification code."
        send_sms(call, user["phone"], text, {"userId": user["id"], "secret": code, "expire": token["expire"]})
    announce_token(call, token, code)
    return token_response(call, token, code)


@handles("account.updatePhoneVerification")
def update_phone_verification(call: Call) -> dict:
    return confirm_address(call, PHONE, "phone_verification")


def confirm_address(call: Call, kind: str, column: str) -> dict:
    """Mark the email or phone verified with the secret the verification message carried (it works once)."""
    params = call.params
    with call.project.db.transaction() as connection:
        user = require_user(connection, str(params["userId"]))
        token = consume_token(connection, user["id"], params["secret"], (kind,))
        connection.execute(f"UPDATE _users SET {column} = 1, updated = ? WHERE id = ?", (now_iso(), user["id"]))
        log(connection, call, user["id"], "verification.update")
        return token_model(token)


# --- password recovery ----------------------------------------------------------------------------


@handles("account.createRecovery")
def create_recovery(call: Call) -> dict:
    params = call.params
    email = normalize_email(params["email"])
    url = check_url(params["url"])
    secret = secrets.token_hex(32)
    with call.project.db.transaction() as connection:
        user = find_by(connection, "email", email)
        if user is None:
            raise AppwriteError("user_not_found", "User with the requested ID could not be found.", 404)
        if not user["status"]:
            raise AppwriteError("user_blocked", "The current user has been blocked.", 401)
        token, _ = create_token(connection, user["id"], RECOVERY, RECOVERY_SECONDS, secret=secret)
        log(connection, call, user["id"], "recovery.create")
    link = with_query(url, {"userId": user["id"], "secret": secret, "expire": token["expire"]})
    data = {"userId": user["id"], "secret": secret, "expire": token["expire"], "url": link}
    send_email(call, "recovery", email, {"user": user["name"] or email, "redirect": link}, data)
    announce_token(call, token, secret)
    return token_response(call, token, secret)


@handles("account.updateRecovery")
def update_recovery(call: Call) -> dict:
    """A new password from a recovery link; it also proves the email address. With the session invalidation
    policy on, every session of the user ends, as in Appwrite."""
    params = call.params
    with call.project.db.transaction() as connection:
        user = require_user(connection, str(params["userId"]))
        token = consume_token(connection, user["id"], params["secret"], (RECOVERY,))
        user = set_password(connection, user, params["password"])
        if policy.read(connection)["invalidateSessions"]:
            connection.execute("DELETE FROM _sessions WHERE user_id = ?", (user["id"],))
        connection.execute("UPDATE _users SET email_verification = 1 WHERE id = ?", (user["id"],))
        log(connection, call, user["id"], "recovery.update")
        return token_model(token)
