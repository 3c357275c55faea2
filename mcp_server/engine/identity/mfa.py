"""Multi-factor authentication, for the signed-in user (account.*) and for administrators (users.*).

- A TOTP authenticator: its secret is kept encrypted with the project's key (`_users.totp_secret`)
  and counts as a factor once a code from it has been verified.
- Recovery codes: ten one-time codes, kept encrypted as a JSON list (`_users.recovery_codes`).
- Challenges: a second factor proven within a session (a TOTP code, a code sent by email or SMS
  through the outbox, or a recovery code) is added to that session's factors. With MFA on and a
  second factor available, a session that has passed one factor may only finish signing in
  (core.py refuses the rest with user_more_factors_required).

Reading or regenerating recovery codes, and removing the authenticator, need a challenge completed in
the same session within the last 30 minutes, as in Appwrite (user_challenge_required otherwise).
"""

from __future__ import annotations

import hmac
import json
import secrets
import sqlite3
import string
from datetime import UTC, datetime, timedelta

import pyotp

from ..datetimes import now_iso, parse_datetime
from ..errors import AppwriteError
from ..ids import new_id
from ..registry import Call, handles
from .account import (
    CONFIRM_SECONDS,
    account_model,
    caller,
    current_session,
    log,
    numeric_code,
    send_email,
    send_sms,
)
from .identities import digest, later, log_event, require_user, second_factors, session_model, user_model

RECOVERY_CODES = 10
RECOVERY_CODE_LENGTH = 10
RECOVERY_ALPHABET = string.ascii_lowercase + string.digits
# A challenge completed this recently lets a session manage its factors (Appwrite's MFA_RECENT_DURATION).
RECENT_SECONDS = 30 * 60
TOTP = "totp"


# --- stored factors -------------------------------------------------------------------------------


def recovery_codes(call: Call, record: sqlite3.Row) -> list[str]:
    return json.loads(call.project.cipher.decrypt(record["recovery_codes"])) if record["recovery_codes"] else []


def store_recovery_codes(connection: sqlite3.Connection, call: Call, user_id: str, codes: list[str]) -> None:
    """Keep the codes encrypted; none left is stored as none (so the factor disappears)."""
    sealed = call.project.cipher.encrypt(json.dumps(codes)) if codes else None
    connection.execute("UPDATE _users SET recovery_codes = ?, updated = ? WHERE id = ?", (sealed, now_iso(), user_id))


def new_recovery_codes() -> list[str]:
    return [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH)) for _ in range(RECOVERY_CODES)
    ]


def totp_secret(call: Call, record: sqlite3.Row) -> str | None:
    return call.project.cipher.decrypt(record["totp_secret"]) if record["totp_secret"] else None


def totp_matches(call: Call, record: sqlite3.Row, otp: object) -> bool:
    secret = totp_secret(call, record)
    return bool(secret) and isinstance(otp, str) and pyotp.TOTP(secret).verify(otp.strip(), valid_window=1)


def require_authenticator(record: sqlite3.Row) -> None:
    if not record["totp_secret"]:
        raise AppwriteError("user_authenticator_not_found", "Authenticator could not be found on the current user.")


def remove_authenticator(connection: sqlite3.Connection, user_id: str) -> None:
    connection.execute(
        "UPDATE _users SET totp_secret = NULL, totp_verified = 0, updated = ? WHERE id = ?", (now_iso(), user_id)
    )


def add_factors(connection: sqlite3.Connection, session: sqlite3.Row | None, factors: list[str], *, proven: bool):
    """Add factors to a session; `proven` marks a completed challenge (the session's mfaUpdatedAt)."""
    if session is None:
        return None
    merged = list(dict.fromkeys([*json.loads(session["factors"]), *factors]))
    now = now_iso()
    connection.execute(
        "UPDATE _sessions SET factors = ?, mfa_updated = ?, updated = ? WHERE seq = ?",
        (json.dumps(merged), now if proven else session["mfa_updated"], now, session["seq"]),
    )
    return connection.execute("SELECT * FROM _sessions WHERE seq = ?", (session["seq"],)).fetchone()


def require_recent_challenge(connection: sqlite3.Connection, call: Call) -> None:
    """Appwrite's mfaProtected routes: the session completed a challenge within the last 30 minutes."""
    session = current_session(connection, call)
    moment = parse_datetime(session["mfa_updated"]) if session is not None and session["mfa_updated"] else None
    if moment is None or moment + timedelta(seconds=RECENT_SECONDS) < datetime.now(UTC):
        raise AppwriteError(
            "user_challenge_required",
            "A recently successful challenge is required to complete this action: complete an MFA challenge "
            "(account.createMfaChallenge, account.updateMfaChallenge) in this session first; it counts for 30 minutes.",
            401,
        )


# --- account: MFA on or off, and the authenticator ------------------------------------------------


@handles("account.updateMFA")
def update_account_mfa(call: Call) -> dict:
    enable = call.params["mfa"]
    with call.project.db.transaction() as connection:
        user = caller(connection, call)
        connection.execute("UPDATE _users SET mfa = ?, updated = ? WHERE id = ?", (int(enable), now_iso(), user["id"]))
        if enable:
            # The session that turns MFA on already holds the factors the user has.
            factors = [name for name, present in second_factors(user).items() if present and name != "recoveryCode"]
            add_factors(connection, current_session(connection, call), factors, proven=False)
        log(connection, call, user["id"], "user.update")
        return account_model(call, connection, require_user(connection, user["id"]))


@handles("account.createMfaAuthenticator", "account.createMFAAuthenticator")
def create_authenticator(call: Call) -> dict:
    with call.project.db.transaction() as connection:
        user = caller(connection, call)
        if user["totp_verified"]:
            raise AppwriteError(
                "user_authenticator_already_verified",
                "This authenticator is already verified on the current user: delete it before adding a new one.",
            )
        secret = pyotp.random_base32()
        connection.execute(
            "UPDATE _users SET totp_secret = ?, totp_verified = 0, updated = ? WHERE id = ?",
            (call.project.cipher.encrypt(secret), now_iso(), user["id"]),
        )
        log(connection, call, user["id"], "user.update")
    label = user["email"] or user["phone"] or user["id"]
    return {"secret": secret, "uri": pyotp.TOTP(secret).provisioning_uri(name=label, issuer_name=call.project.id)}


@handles("account.updateMfaAuthenticator", "account.updateMFAAuthenticator")
def verify_authenticator(call: Call) -> dict:
    with call.project.db.transaction() as connection:
        user = caller(connection, call)
        require_authenticator(user)
        if user["totp_verified"]:
            raise AppwriteError("user_authenticator_already_verified", "This authenticator is already verified.")
        if not totp_matches(call, user, call.params["otp"]):
            raise AppwriteError("user_invalid_token", "Invalid token passed in the request.", 401)
        connection.execute("UPDATE _users SET totp_verified = 1, updated = ? WHERE id = ?", (now_iso(), user["id"]))
        add_factors(connection, current_session(connection, call), [TOTP], proven=False)
        log(connection, call, user["id"], "user.update")
        return account_model(call, connection, require_user(connection, user["id"]))


@handles("account.deleteMfaAuthenticator", "account.deleteMFAAuthenticator")
def delete_account_authenticator(call: Call) -> None:
    with call.project.db.transaction() as connection:
        user = caller(connection, call)
        require_recent_challenge(connection, call)
        require_authenticator(user)
        remove_authenticator(connection, user["id"])
        log(connection, call, user["id"], "user.update")


@handles("account.listMfaFactors", "account.listMFAFactors")
def list_account_factors(call: Call) -> dict:
    return second_factors(caller(call.project.connection, call))


# --- account: challenges --------------------------------------------------------------------------


@handles("account.createMfaChallenge", "account.createMFAChallenge")
def create_challenge(call: Call) -> dict:
    factor = call.params["factor"]
    code = numeric_code() if factor in ("email", "phone") else ""
    with call.project.db.transaction() as connection:
        user = caller(connection, call)
        if factor == "email":
            if not user["email"]:
                raise AppwriteError("user_email_not_found", "The current user does not have an email address.", 400)
            if not user["email_verification"]:
                raise AppwriteError("user_email_not_verified", "The email of the current user is not verified.", 400)
        if factor == "phone":
            if not user["phone"]:
                raise AppwriteError("user_phone_not_found", "The current user does not have a phone number.", 400)
            if not user["phone_verification"]:
                raise AppwriteError("user_phone_not_verified", "The phone of the current user is not verified.", 400)
        challenge_id, created, expire = new_id(), now_iso(), later(seconds=CONFIRM_SECONDS)
        connection.execute(
            "INSERT INTO _challenges (id, user_id, factor, code_hash, expire, created) VALUES (?, ?, ?, ?, ?, ?)",
            (challenge_id, user["id"], factor, digest(code) if code else "", expire, created),
        )
        log(connection, call, user["id"], "challenge.create")
    data = {"userId": user["id"], "challengeId": challenge_id, "secret": code, "expire": expire}
    if factor == "email":
        send_email(call, "mfaChallenge", user["email"], {"user": user["name"] or user["email"], "otp": code}, data)
    elif factor == "phone":
        send_sms(call, user["phone"], f"{code} is your {call.project.id} verification code.", data)
    return {"$id": challenge_id, "$createdAt": created, "userId": user["id"], "expire": expire}


def challenge_passed(connection: sqlite3.Connection, call: Call, user: sqlite3.Row, challenge, otp: str) -> bool:
    factor = challenge["factor"]
    if factor == TOTP:
        return bool(user["totp_verified"]) and totp_matches(call, user, otp)
    if factor in ("email", "phone"):
        return hmac.compare_digest(challenge["code_hash"], digest(otp.strip()))
    if factor == "recoverycode":
        codes = recovery_codes(call, user)
        if otp.strip() not in codes:
            return False
        codes.remove(otp.strip())
        store_recovery_codes(connection, call, user["id"], codes)
        return True
    return False


@handles("account.updateMfaChallenge", "account.updateMFAChallenge")
def complete_challenge(call: Call) -> dict:
    """Prove a second factor: the session gains it (and may then do everything)."""
    params = call.params
    refused = AppwriteError("user_invalid_token", "Invalid token passed in the request.", 401)
    with call.project.db.transaction() as connection:
        user = caller(connection, call)
        session = current_session(connection, call)
        if session is None:
            raise AppwriteError(
                "user_session_not_found", "A challenge is completed in a session, and this call has none.", 404
            )
        challenge = connection.execute(
            "SELECT * FROM _challenges WHERE id = ? AND user_id = ? AND expire > ?",
            (params["challengeId"], user["id"], now_iso()),
        ).fetchone()
        if challenge is None or not challenge_passed(connection, call, user, challenge, params["otp"]):
            raise refused
        connection.execute("DELETE FROM _challenges WHERE seq = ?", (challenge["seq"],))
        session = add_factors(connection, session, [challenge["factor"]], proven=True)
        log(connection, call, user["id"], "challenges.update")
        return session_model(session, current=session["id"])


# --- recovery codes (account and users) -----------------------------------------------------------


def codes_model(codes: list[str]) -> dict:
    return {"recoveryCodes": codes}


def get_codes(call: Call, user: sqlite3.Row) -> dict:
    codes = recovery_codes(call, user)
    if not codes:
        raise AppwriteError("user_recovery_codes_not_found", "Recovery codes could not be found on the user.")
    return codes_model(codes)


def create_codes(connection: sqlite3.Connection, call: Call, user: sqlite3.Row) -> dict:
    if user["recovery_codes"]:
        raise AppwriteError(
            "user_recovery_codes_already_exists",
            "The user already has recovery codes: regenerate them with updateMfaRecoveryCodes instead.",
        )
    codes = new_recovery_codes()
    store_recovery_codes(connection, call, user["id"], codes)
    return codes_model(codes)


def regenerate_codes(connection: sqlite3.Connection, call: Call, user: sqlite3.Row) -> dict:
    if not user["recovery_codes"]:
        raise AppwriteError(
            "user_recovery_codes_not_found",
            "Recovery codes could not be found on the user: create them with createMfaRecoveryCodes first.",
        )
    codes = new_recovery_codes()
    store_recovery_codes(connection, call, user["id"], codes)
    return codes_model(codes)


@handles("account.getMfaRecoveryCodes", "account.getMFARecoveryCodes")
def get_account_codes(call: Call) -> dict:
    connection = call.project.connection
    user = caller(connection, call)
    require_recent_challenge(connection, call)
    return get_codes(call, user)


@handles("account.createMfaRecoveryCodes", "account.createMFARecoveryCodes")
def create_account_codes(call: Call) -> dict:
    with call.project.db.transaction() as connection:
        user = caller(connection, call)
        result = create_codes(connection, call, user)
        log(connection, call, user["id"], "user.update")
        return result


@handles("account.updateMfaRecoveryCodes", "account.updateMFARecoveryCodes")
def update_account_codes(call: Call) -> dict:
    with call.project.db.transaction() as connection:
        user = caller(connection, call)
        require_recent_challenge(connection, call)
        result = regenerate_codes(connection, call, user)
        log(connection, call, user["id"], "user.update")
        return result


# --- users: administrators manage any user's MFA --------------------------------------------------


def admin_log(connection: sqlite3.Connection, call: Call, user_id: str) -> None:
    log_event(connection, user_id, "user.update", call.requester, "admin")


@handles("users.updateMfa", "users.updateMFA")
def update_user_mfa(call: Call) -> dict:
    params = call.params
    with call.project.db.transaction() as connection:
        user = require_user(connection, str(params["userId"]))
        connection.execute(
            "UPDATE _users SET mfa = ?, updated = ? WHERE id = ?", (int(params["mfa"]), now_iso(), user["id"])
        )
        admin_log(connection, call, user["id"])
        return user_model(connection, require_user(connection, user["id"]))


@handles("users.listMfaFactors", "users.listMFAFactors")
def list_user_factors(call: Call) -> dict:
    return second_factors(require_user(call.project.connection, str(call.params["userId"])))


@handles("users.getMfaRecoveryCodes", "users.getMFARecoveryCodes")
def get_user_codes(call: Call) -> dict:
    return get_codes(call, require_user(call.project.connection, str(call.params["userId"])))


@handles("users.createMfaRecoveryCodes", "users.createMFARecoveryCodes")
def create_user_codes(call: Call) -> dict:
    with call.project.db.transaction() as connection:
        user = require_user(connection, str(call.params["userId"]))
        result = create_codes(connection, call, user)
        admin_log(connection, call, user["id"])
        return result


@handles("users.updateMfaRecoveryCodes", "users.updateMFARecoveryCodes")
def update_user_codes(call: Call) -> dict:
    with call.project.db.transaction() as connection:
        user = require_user(connection, str(call.params["userId"]))
        result = regenerate_codes(connection, call, user)
        admin_log(connection, call, user["id"])
        return result


@handles("users.deleteMfaAuthenticator", "users.deleteMFAAuthenticator")
def delete_user_authenticator(call: Call) -> None:
    with call.project.db.transaction() as connection:
        user = require_user(connection, str(call.params["userId"]))
        require_authenticator(user)
        remove_authenticator(connection, user["id"])
        admin_log(connection, call, user["id"])
