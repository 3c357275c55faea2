"""MFA through Engine.call: the TOTP authenticator, challenges by TOTP, email, SMS and recovery code,
recovery codes, the MFA-required sign-in, and the users service's MFA administration."""

from __future__ import annotations

import pyotp
import pytest
from appwrite.models import MfaChallenge, MfaFactors, MfaRecoveryCodes, MfaType, Session, User

from mcp_server.engine import outbox
from mcp_server.engine.identity.identities import roles_auth, session_auth
from mcp_server.engine.permissions import ADMIN, GUEST
from tests.engine.conftest import error_of

PASSWORD = "correct horse 1"
EMAIL = "ada@example.com"


def sign_in(engine, call):
    created = call("account.createEmailPasswordSession", GUEST, email=EMAIL, password=PASSWORD)
    return session_auth(engine.project().connection, created["secret"])


def user_row(engine, user_id: str):
    return engine.project().connection.execute("SELECT * FROM _users WHERE id = ?", (user_id,)).fetchone()


def last_code(engine, to: str) -> str:
    return [m for m in outbox.messages(engine.project().db.path.parent) if m["to"] == to][-1]["data"]["secret"]


def enroll_totp(call, auth) -> str:
    """Add and verify an authenticator; its secret."""
    secret = call("account.createMFAAuthenticator", auth, type="totp")["secret"]
    call("account.updateMFAAuthenticator", auth, type="totp", otp=pyotp.TOTP(secret).now())
    return secret


def challenge(call, auth, factor: str, otp: str) -> dict:
    created = call("account.createMFAChallenge", auth, factor=factor)
    return call("account.updateMFAChallenge", auth, challengeId=created["$id"], otp=otp)


@pytest.fixture
def ada(engine, call):
    account = call("account.create", GUEST, userId="ada", email=EMAIL, password=PASSWORD, name="Ada")
    return account, sign_in(engine, call)


def test_totp_authenticator_enrolment(engine, call, ada):
    account, auth = ada
    created = call("account.createMfaAuthenticator", auth, type="totp")
    MfaType.model_validate(created)
    secret = created["secret"]
    uri = pyotp.parse_uri(created["uri"])
    assert uri.secret == secret and uri.issuer == "default" and uri.name == EMAIL
    stored = user_row(engine, account["$id"])["totp_secret"]
    assert stored.startswith("enc1:") and secret not in stored
    # Until verified, a new one replaces it.
    secret = call("account.createMFAAuthenticator", auth, type="totp")["secret"]
    assert call("account.listMFAFactors", auth)["totp"] is False
    wrong = error_of(call, "account.updateMFAAuthenticator", auth, type="totp", otp="000000")
    assert (wrong.type, wrong.code) == ("user_invalid_token", 401)
    verified = call("account.updateMfaAuthenticator", auth, type="totp", otp=pyotp.TOTP(secret).now())
    User.with_data(verified)
    assert "hash" not in verified
    factors = call("account.listMfaFactors", auth)
    MfaFactors.model_validate(factors)
    assert factors == {"totp": True, "phone": False, "email": False, "recoveryCode": False}
    again = error_of(call, "account.updateMFAAuthenticator", auth, type="totp", otp=pyotp.TOTP(secret).now())
    assert again.type == "user_authenticator_already_verified"
    assert error_of(call, "account.createMFAAuthenticator", auth, type="totp").type == (
        "user_authenticator_already_verified"
    )
    # Verifying it added the factor to this session.
    assert call("account.getSession", auth, sessionId="current")["factors"] == ["password", "totp"]


def test_verifying_needs_an_authenticator(engine, call, ada):
    _, auth = ada
    missing = error_of(call, "account.updateMFAAuthenticator", auth, type="totp", otp="123456")
    assert (missing.type, missing.code) == ("user_authenticator_not_found", 404)


def test_mfa_sign_in_end_to_end(engine, call, ada):
    account, auth = ada
    secret = enroll_totp(call, auth)
    enabled = call("account.updateMFA", auth, mfa=True)
    User.with_data(enabled)
    assert enabled["mfa"] is True
    # The session that turned MFA on keeps working.
    call("account.updateName", auth, name="Ada L.")

    pending = sign_in(engine, call)
    assert pending.mfa_pending is True
    for operation, params in (
        ("account.updateName", {"name": "Mallory"}),
        ("account.listLogs", {}),
        ("account.createJWT", {}),
        ("account.getPrefs", {}),
    ):
        refused = error_of(call, operation, pending, **params)
        assert (refused.type, refused.code) == ("user_more_factors_required", 401)
    assert call("account.listMFAFactors", pending)["totp"] is True

    created = call("account.createMFAChallenge", pending, factor="totp")
    MfaChallenge.model_validate(created)
    assert created["userId"] == account["$id"] and created["expire"] > created["$createdAt"]
    wrong = error_of(call, "account.updateMFAChallenge", pending, challengeId=created["$id"], otp="000000")
    assert (wrong.type, wrong.code) == ("user_invalid_token", 401)
    done = call("account.updateMFAChallenge", pending, challengeId=created["$id"], otp=pyotp.TOTP(secret).now())
    Session.model_validate(done)
    assert done["factors"] == ["password", "totp"] and done["mfaUpdatedAt"] and done["current"] is True
    assert done["secret"] == ""
    # A challenge works once.
    assert (
        error_of(
            call, "account.updateMFAChallenge", pending, challengeId=created["$id"], otp=pyotp.TOTP(secret).now()
        ).type
        == "user_invalid_token"
    )

    assert sign_in(engine, call).mfa_pending is True  # another sign-in starts over
    refreshed = session_auth_of(engine, pending)
    assert refreshed.mfa_pending is False
    assert call("account.updateName", refreshed, name="Ada")["name"] == "Ada"


def session_auth_of(engine, auth):
    """The Auth of an existing session, read again (what the next request with that session would get)."""
    connection = engine.project().connection
    record = connection.execute("SELECT * FROM _sessions WHERE id = ?", (auth.session_id,)).fetchone()
    return roles_auth(connection, user_row(engine, auth.user_id), record)


def test_disabling_mfa_lifts_the_requirement(engine, call, ada):
    _, auth = ada
    enroll_totp(call, auth)
    call("account.updateMFA", auth, mfa=True)
    assert sign_in(engine, call).mfa_pending is True
    assert call("account.updateMFA", auth, mfa=False)["mfa"] is False
    assert sign_in(engine, call).mfa_pending is False


def test_email_and_phone_challenges_through_the_outbox(engine, call, ada):
    _, auth = ada
    unverified = error_of(call, "account.createMFAChallenge", auth, factor="email")
    assert unverified.type == "user_email_not_verified"
    assert error_of(call, "account.createMFAChallenge", auth, factor="phone").type == "user_phone_not_found"
    call("account.updatePhone", auth, phone="+15550002222", password=PASSWORD)
    assert error_of(call, "account.createMFAChallenge", auth, factor="phone").type == "user_phone_not_verified"
    connection = engine.project().connection
    connection.execute("UPDATE _users SET email_verification = 1, phone_verification = 1 WHERE id = ?", ("ada",))

    call("account.updateMFA", auth, mfa=True)
    pending = sign_in(engine, call)
    assert pending.mfa_pending is True
    created = call("account.createMFAChallenge", pending, factor="email")
    code = last_code(engine, EMAIL)
    assert len(code) == 6 and code.isdigit()
    stored = connection.execute("SELECT code_hash FROM _challenges WHERE id = ?", (created["$id"],)).fetchone()[0]
    assert stored and code not in stored
    assert error_of(call, "account.updateMFAChallenge", pending, challengeId=created["$id"], otp="x").code == 401
    done = call("account.updateMFAChallenge", pending, challengeId=created["$id"], otp=code)
    assert done["factors"] == ["password", "email"]

    by_sms = sign_in(engine, call)
    created = call("account.createMFAChallenge", by_sms, factor="phone")
    assert call(
        "account.updateMFAChallenge", by_sms, challengeId=created["$id"], otp=last_code(engine, "+15550002222")
    )["factors"] == ["password", "phone"]


def test_challenges_belong_to_their_user_and_expire(engine, call, ada):
    _, auth = ada
    secret = enroll_totp(call, auth)
    call("account.create", GUEST, userId="bob", email="bob@example.com", password=PASSWORD)
    bob = session_auth(
        engine.project().connection,
        call("account.createEmailPasswordSession", GUEST, email="bob@example.com", password=PASSWORD)["secret"],
    )
    created = call("account.createMFAChallenge", auth, factor="totp")
    stolen = error_of(call, "account.updateMFAChallenge", bob, challengeId=created["$id"], otp=pyotp.TOTP(secret).now())
    assert stolen.type == "user_invalid_token"
    engine.project().connection.execute(
        "UPDATE _challenges SET expire = '2000-01-01T00:00:00.000+00:00' WHERE id = ?", (created["$id"],)
    )
    expired = error_of(
        call, "account.updateMFAChallenge", auth, challengeId=created["$id"], otp=pyotp.TOTP(secret).now()
    )
    assert expired.type == "user_invalid_token"


def test_recovery_codes(engine, call, ada):
    account, auth = ada
    created = call("account.createMFARecoveryCodes", auth)
    MfaRecoveryCodes.model_validate(created)
    codes = created["recoveryCodes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(len(code) == 10 and code.isalnum() for code in codes)
    stored = user_row(engine, account["$id"])["recovery_codes"]
    assert stored.startswith("enc1:") and codes[0] not in stored
    assert error_of(call, "account.createMfaRecoveryCodes", auth).type == "user_recovery_codes_already_exists"
    assert call("account.listMFAFactors", auth)["recoveryCode"] is True
    # Reading or regenerating them needs a challenge completed recently in this session.
    recent = error_of(call, "account.getMFARecoveryCodes", auth)
    assert (recent.type, recent.code) == ("user_challenge_required", 401)
    assert error_of(call, "account.updateMFARecoveryCodes", auth).type == "user_challenge_required"

    done = challenge(call, auth, "recoverycode", codes[0])
    assert "recoverycode" in done["factors"]
    left = call("account.getMfaRecoveryCodes", auth)["recoveryCodes"]
    assert left == codes[1:]
    again = call("account.createMFAChallenge", auth, factor="recoverycode")
    assert error_of(call, "account.updateMFAChallenge", auth, challengeId=again["$id"], otp=codes[0]).type == (
        "user_invalid_token"
    )
    regenerated = call("account.updateMfaRecoveryCodes", auth)["recoveryCodes"]
    assert len(regenerated) == 10 and not set(regenerated) & set(codes)
    assert call("account.getMFARecoveryCodes", auth)["recoveryCodes"] == regenerated


def test_a_recovery_code_completes_an_mfa_sign_in(engine, call, ada):
    _, auth = ada
    enroll_totp(call, auth)
    codes = call("account.createMFARecoveryCodes", auth)["recoveryCodes"]
    call("account.updateMFA", auth, mfa=True)
    pending = sign_in(engine, call)
    challenge(call, pending, "recoverycode", codes[3])
    passed = session_auth_of(engine, pending)
    assert passed.mfa_pending is False
    assert codes[3] not in call("account.getMFARecoveryCodes", passed)["recoveryCodes"]


def test_deleting_the_authenticator_needs_a_recent_challenge(engine, call, ada):
    account, auth = ada
    secret = enroll_totp(call, auth)
    assert error_of(call, "account.deleteMFAAuthenticator", auth, type="totp").type == "user_challenge_required"
    challenge(call, auth, "totp", pyotp.TOTP(secret).now())
    assert call("account.deleteMfaAuthenticator", auth, type="totp") is None
    row = user_row(engine, account["$id"])
    assert row["totp_secret"] is None and row["totp_verified"] == 0
    missing = error_of(call, "account.deleteMFAAuthenticator", auth, type="totp")
    assert missing.type == "user_authenticator_not_found"


def test_users_service_manages_any_users_mfa(engine, call, ada):
    account, auth = ada
    user_id = account["$id"]
    updated = call("users.updateMFA", ADMIN, userId=user_id, mfa=True)
    User.with_data(updated)
    assert updated["mfa"] is True and call("users.updateMfa", ADMIN, userId=user_id, mfa=False)["mfa"] is False
    factors = call("users.listMFAFactors", ADMIN, userId=user_id)
    MfaFactors.model_validate(factors)
    assert (
        factors
        == call("users.listMfaFactors", ADMIN, userId=user_id)
        == {
            "totp": False,
            "phone": False,
            "email": False,
            "recoveryCode": False,
        }
    )
    assert error_of(call, "users.getMFARecoveryCodes", ADMIN, userId=user_id).type == "user_recovery_codes_not_found"
    assert error_of(call, "users.updateMFARecoveryCodes", ADMIN, userId=user_id).type == (
        "user_recovery_codes_not_found"
    )
    codes = call("users.createMFARecoveryCodes", ADMIN, userId=user_id)
    MfaRecoveryCodes.model_validate(codes)
    assert error_of(call, "users.createMfaRecoveryCodes", ADMIN, userId=user_id).type == (
        "user_recovery_codes_already_exists"
    )
    assert call("users.getMfaRecoveryCodes", ADMIN, userId=user_id) == codes
    regenerated = call("users.updateMfaRecoveryCodes", ADMIN, userId=user_id)
    assert regenerated != codes and call("users.getMFARecoveryCodes", ADMIN, userId=user_id) == regenerated
    assert error_of(call, "users.deleteMFAAuthenticator", ADMIN, userId=user_id, type="totp").type == (
        "user_authenticator_not_found"
    )
    enroll_totp(call, auth)
    assert call("users.deleteMfaAuthenticator", ADMIN, userId=user_id, type="totp") is None
    assert call("users.listMFAFactors", ADMIN, userId=user_id)["totp"] is False
    assert error_of(call, "users.listMFAFactors", ADMIN, userId="nobody").type == "user_not_found"
    # Users see their own codes only through account.*, and administrators write to the log as admins.
    assert error_of(call, "users.getMFARecoveryCodes", auth, userId=user_id).type == "general_unauthorized_scope"
    modes = {
        row["mode"] for row in engine.project().connection.execute("SELECT mode FROM _logs WHERE event = 'user.update'")
    }
    assert modes == {"admin", "user"}


def test_every_mfa_operation_has_a_handler(catalog):
    from mcp_server.engine.registry import HANDLERS

    ids = {op.id for op in catalog.operations if op.service in ("account", "users") and "mfa" in op.id.lower()}
    assert len(ids) >= 30 and ids - set(HANDLERS) == set()
