"""The account service through Engine.call: sign-up, sign-in, the account itself, sessions, tokens,
verification and recovery, with codes and links read from the project's outbox."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from appwrite.models import IdentityList, Jwt, LogList, Preferences, Session, SessionList, Token, User

from mcp_server.engine import outbox
from mcp_server.engine.identity import policy
from mcp_server.engine.identity.identities import create_token, jwt_auth, later, roles_auth, session_auth
from mcp_server.engine.permissions import ADMIN, GUEST
from tests.engine.conftest import error_of, q

PASSWORD = "correct horse 1"


def messages(engine) -> list[dict]:
    return outbox.messages(engine.project().db.path.parent)


def last_message(engine, to: str) -> dict:
    return [message for message in messages(engine) if message["to"] == to][-1]


def user(result: dict) -> dict:
    User.with_data(result)
    return result


def session(result: dict) -> dict:
    Session.model_validate(result)
    return result


def token(result: dict) -> dict:
    Token.model_validate(result)
    return result


def sign_up(call, email: str = "ada@example.com", password: str = PASSWORD, name: str = "Ada") -> dict:
    return user(call("account.create", GUEST, userId="unique()", email=email, password=password, name=name))


def sign_in(engine, call, email: str = "ada@example.com", password: str = PASSWORD):
    """(Auth, session model) of a new email/password session."""
    created = session(call("account.createEmailPasswordSession", GUEST, email=email, password=password))
    return session_auth(engine.project().connection, created["secret"]), created


@pytest.fixture
def ada(engine, call):
    """A signed-up user and the Auth of their session."""
    account = sign_up(call)
    auth, _ = sign_in(engine, call)
    return account, auth


# --- sign-up and the account ----------------------------------------------------------------------


def test_sign_up_returns_the_account_without_its_password_hash(engine, call):
    account = sign_up(call, email="Ada@Example.com")
    assert account["email"] == "ada@example.com" and account["name"] == "Ada"
    assert account["emailVerification"] is False and account["status"] is True
    assert "hash" not in account and "hashOptions" not in account
    assert account["passwordUpdate"]
    assert [(t["providerType"], t["identifier"]) for t in account["targets"]] == [("email", "ada@example.com")]
    assert error_of(
        call, "account.create", GUEST, userId="unique()", email="ada@example.com", password=PASSWORD
    ).type == ("user_already_exists")
    assert error_of(call, "account.create", GUEST, userId=account["$id"], email="b@x.io", password=PASSWORD).type == (
        "user_already_exists"
    )
    assert error_of(call, "account.create", GUEST, userId="unique()", email="c@x.io", password="short").type == (
        "general_argument_invalid"
    )


def test_get_is_the_callers_own_account(engine, call, ada):
    account, auth = ada
    assert user(call("account.get", auth))["$id"] == account["$id"]
    assert error_of(call, "account.get", GUEST).type == "general_unauthorized_scope"
    refused = error_of(call, "account.get", ADMIN)
    assert refused.type == "general_unauthorized_scope" and refused.code == 401


def test_sign_in_refuses_wrong_credentials_without_saying_which(engine, call, ada):
    wrong_password = error_of(
        call, "account.createEmailPasswordSession", GUEST, email="ada@example.com", password="x" * 9
    )
    unknown = error_of(call, "account.createEmailPasswordSession", GUEST, email="bob@example.com", password=PASSWORD)
    assert wrong_password.type == unknown.type == "user_invalid_credentials"
    assert wrong_password.code == 401 and wrong_password.message == unknown.message


def test_a_signed_in_user_cannot_open_another_session(engine, call, ada):
    _, auth = ada
    for operation, params in (
        ("account.createEmailPasswordSession", {"email": "ada@example.com", "password": PASSWORD}),
        ("account.createAnonymousSession", {}),
        ("account.createSession", {"userId": auth.user_id, "secret": "123456"}),
    ):
        refused = error_of(call, operation, auth, **params)
        assert (refused.type, refused.code) == ("user_session_already_exists", 401)


def test_name_and_preferences(engine, call, ada):
    _, auth = ada
    assert user(call("account.updateName", auth, name="Ada Lovelace"))["name"] == "Ada Lovelace"
    assert error_of(call, "account.updateName", auth, name="x" * 129).type == "general_argument_invalid"
    updated = user(call("account.updatePrefs", auth, prefs={"theme": "dark", "size": 3}))
    assert updated["prefs"] == {"theme": "dark", "size": 3}
    prefs = call("account.getPrefs", auth)
    assert Preferences.with_data(prefs).data == {"theme": "dark", "size": 3}
    assert error_of(call, "account.updatePrefs", auth, prefs={"big": "x" * 70000}).type == "general_argument_invalid"


def test_update_email_needs_the_password_and_resets_verification(engine, call, ada):
    account, auth = ada
    engine.project().connection.execute("UPDATE _users SET email_verification = 1 WHERE id = ?", (account["$id"],))
    refused = error_of(call, "account.updateEmail", auth, email="new@example.com", password="wrong password")
    assert refused.type == "user_invalid_credentials"
    sign_up(call, email="taken@example.com")
    assert error_of(call, "account.updateEmail", auth, email="taken@example.com", password=PASSWORD).type == (
        "user_email_already_exists"
    )
    updated = user(call("account.updateEmail", auth, email="New@Example.com", password=PASSWORD))
    assert updated["email"] == "new@example.com" and updated["emailVerification"] is False
    assert [t["identifier"] for t in updated["targets"]] == ["new@example.com"]
    assert sign_in(engine, call, email="new@example.com")[1]["userId"] == account["$id"]


def test_update_phone_needs_the_password(engine, call, ada):
    _, auth = ada
    assert error_of(call, "account.updatePhone", auth, phone="+15551234567", password="nope nope").type == (
        "user_invalid_credentials"
    )
    assert error_of(call, "account.updatePhone", auth, phone="555", password=PASSWORD).type == "general_invalid_phone"
    updated = user(call("account.updatePhone", auth, phone="+15551234567", password=PASSWORD))
    assert updated["phone"] == "+15551234567" and updated["phoneVerification"] is False
    assert ("sms", "+15551234567") in [(t["providerType"], t["identifier"]) for t in updated["targets"]]


def test_update_password_checks_the_old_one_and_the_history_policy(engine, call, ada):
    account, auth = ada
    _, other = sign_in(engine, call)
    policy.write(engine.project().db, {"passwordHistory": 3})
    wrong = error_of(call, "account.updatePassword", auth, password="brand new pass", oldPassword="not it at all")
    assert (wrong.type, wrong.code) == ("user_invalid_credentials", 401)
    assert error_of(call, "account.updatePassword", auth, password="brand new pass").type == "user_invalid_credentials"
    user(call("account.updatePassword", auth, password="brand new pass", oldPassword=PASSWORD))
    reused = error_of(call, "account.updatePassword", auth, password=PASSWORD, oldPassword="brand new pass")
    assert reused.type == "password_recently_used"
    assert error_of(call, "account.updatePassword", auth, password="short", oldPassword="brand new pass").type == (
        "general_argument_invalid"
    )
    # The old password no longer signs in; the new one does; the other session has ended.
    assert error_of(
        call, "account.createEmailPasswordSession", GUEST, email="ada@example.com", password=PASSWORD
    ).type == ("user_invalid_credentials")
    sign_in(engine, call, password="brand new pass")
    assert user(call("account.get", auth))["$id"] == account["$id"]
    assert error_of(session_auth, engine.project().connection, other["secret"]).type == "user_unauthorized"


def test_blocking_the_account_ends_its_sessions_and_sign_in(engine, call, ada):
    account, auth = ada
    _, created = sign_in(engine, call)
    blocked = user(call("account.updateStatus", auth))
    assert blocked["status"] is False
    assert error_of(session_auth, engine.project().connection, created["secret"]).type == "user_blocked"
    refused = error_of(call, "account.createEmailPasswordSession", GUEST, email="ada@example.com", password=PASSWORD)
    assert (refused.type, refused.code) == ("user_blocked", 401)
    call("account.createEmailToken", GUEST, userId="unique()", email="ada@example.com")
    code = last_message(engine, "ada@example.com")["data"]["secret"]
    assert error_of(call, "account.createSession", GUEST, userId=account["$id"], secret=code).type == "user_blocked"


def test_logs_list_the_users_events_newest_first(engine, call, ada):
    _, auth = ada
    call("account.updateName", auth, name="Countess")
    logs = call("account.listLogs", auth)
    LogList.model_validate(logs)
    assert [entry["event"] for entry in logs["logs"]] == ["user.update", "session.create", "user.create"]
    assert logs["total"] == 3 and logs["logs"][0]["userEmail"] == "ada@example.com"
    assert len(call("account.listLogs", auth, queries=[q("limit", values=[1])])["logs"]) == 1
    assert call("account.listLogs", auth, queries=[q("offset", values=[2])])["logs"][0]["event"] == "user.create"
    assert call("account.listLogs", auth, total=False)["total"] == 0
    refused = error_of(call, "account.listLogs", auth, queries=[q("equal", "event", ["user.update"])])
    assert refused.type == "general_query_invalid"


# --- sessions -------------------------------------------------------------------------------------


def test_a_password_session_and_its_secret(engine, call, ada):
    account, _ = ada
    _, created = sign_in(engine, call)
    assert created["provider"] == "email" and created["providerUid"] == "ada@example.com"
    assert created["factors"] == ["password"] and created["current"] is True and created["secret"]
    assert created["userId"] == account["$id"] and created["expire"] > created["$createdAt"]


def test_sessions_list_get_update_and_delete(engine, call, ada):
    account, auth = ada
    second, second_session = sign_in(engine, call)
    listed = call("account.listSessions", auth)
    SessionList.model_validate(listed)
    assert listed["total"] == 2
    assert [s["current"] for s in listed["sessions"]] == [True, False]
    assert all(s["secret"] == "" for s in listed["sessions"])
    current = session(call("account.getSession", auth, sessionId="current"))
    assert current["$id"] == auth.session_id and current["current"] is True
    other = session(call("account.getSession", auth, sessionId=second.session_id))
    assert other["current"] is False
    soon = later(days=1)
    engine.project().connection.execute("UPDATE _sessions SET expire = ? WHERE id = ?", (soon, auth.session_id))
    extended = session(call("account.updateSession", auth, sessionId="current"))
    assert extended["expire"] > later(days=300)
    assert error_of(call, "account.getSession", auth, sessionId="nope").type == "user_session_not_found"
    # Another user's session is not found either.
    sign_up(call, email="bob@example.com")
    bob, _ = sign_in(engine, call, email="bob@example.com")
    assert error_of(call, "account.deleteSession", auth, sessionId=bob.session_id).code == 404
    assert call("account.deleteSession", auth, sessionId=second.session_id) is None
    assert error_of(session_auth, engine.project().connection, second_session["secret"]).code == 401
    assert call("account.listSessions", auth)["total"] == 1
    assert call("account.deleteSession", auth, sessionId="current") is None
    assert call("account.listSessions", bob)["total"] == 1
    third, _ = sign_in(engine, call)
    sign_in(engine, call)
    assert call("account.deleteSessions", third) is None
    rows = engine.project().connection.execute("SELECT 1 FROM _sessions WHERE user_id = ?", (account["$id"],))
    assert rows.fetchall() == []


def test_sessions_are_unlimited_until_the_session_limit_policy_ends_the_oldest(engine, call, ada):
    _, first = ada
    for _ in range(10):
        latest, _ = sign_in(engine, call)
    assert len(call("account.listSessions", latest)["sessions"]) == 11  # Appwrite 1.9's default: no limit
    call("project.updateSessionLimitPolicy", total=10)
    latest, _ = sign_in(engine, call)
    sessions = call("account.listSessions", latest)["sessions"]
    assert len(sessions) == 10 and first.session_id not in [s["$id"] for s in sessions]


def test_anonymous_session_then_an_email_and_password(engine, call):
    created = session(call("account.createAnonymousSession", GUEST))
    assert created["provider"] == "anonymous" and created["factors"] == ["anonymous"]
    auth = session_auth(engine.project().connection, created["secret"])
    account = user(call("account.get", auth))
    assert account["email"] == "" and account["passwordUpdate"] == ""
    # Without a password yet, the one given with the new email becomes the password.
    user(call("account.updateEmail", auth, email="anon@example.com", password=PASSWORD))
    assert sign_in(engine, call, email="anon@example.com")[1]["userId"] == account["$id"]


def test_jwt_for_the_current_session(engine, call, ada):
    account, auth = ada
    issued = call("account.createJWT", auth)
    Jwt.model_validate(issued)
    via_jwt = jwt_auth(engine.project(), issued["jwt"])
    assert (via_jwt.user_id, via_jwt.session_id) == (account["$id"], auth.session_id)
    assert user(call("account.get", via_jwt))["$id"] == account["$id"]
    assert jwt_auth(engine.project(), call("account.createJWT", auth, duration=60)["jwt"]).user_id == account["$id"]
    assert error_of(call, "account.createJWT", auth, duration=7200).type == "general_argument_invalid"
    connection = engine.project().connection
    sessionless = roles_auth(connection, connection.execute("SELECT * FROM _users").fetchone())
    assert error_of(call, "account.createJWT", sessionless).type == "user_session_not_found"
    call("account.deleteSession", auth, sessionId="current")
    assert error_of(jwt_auth, engine.project(), issued["jwt"]).type == "user_jwt_invalid"


def test_identities_of_the_caller(engine, call, ada):
    account, auth = ada
    connection = engine.project().connection
    for identity_id, user_id in (("gh1", account["$id"]), ("gh2", "someone-else")):
        connection.execute(
            "INSERT INTO _identities (id, user_id, provider, provider_uid, provider_email, created, updated) "
            "VALUES (?, ?, 'github', ?, 'ada@example.com', '2025-01-01T00:00:00.000+00:00', "
            "'2025-01-01T00:00:00.000+00:00')",
            (identity_id, user_id, identity_id),
        )
    listed = call("account.listIdentities", auth)
    IdentityList.model_validate(listed)
    assert [i["$id"] for i in listed["identities"]] == ["gh1"] and listed["total"] == 1
    assert call("account.listIdentities", auth, queries=[q("equal", "provider", ["google"])])["total"] == 0
    assert error_of(call, "account.deleteIdentity", auth, identityId="gh2").type == "user_identity_not_found"
    assert call("account.deleteIdentity", auth, identityId="gh1") is None
    assert call("account.listIdentities", auth)["total"] == 0


# --- sign-in tokens -------------------------------------------------------------------------------


def test_email_code_signs_up_and_in_once(engine, call):
    issued = token(call("account.createEmailToken", GUEST, userId="lin", email="lin@example.com"))
    assert issued["userId"] == "lin" and issued["secret"] == "" and issued["phrase"] == ""
    message = last_message(engine, "lin@example.com")
    code = message["data"]["secret"]
    assert message["channel"] == "email" and len(code) == 6 and code.isdigit() and code in message["text"]
    created = session(call("account.createSession", GUEST, userId="lin", secret=code))
    assert (created["provider"], created["factors"]) == ("token", ["email"])
    auth = session_auth(engine.project().connection, created["secret"])
    account = user(call("account.get", auth))
    assert account["emailVerification"] is True and account["passwordUpdate"] == ""
    assert error_of(call, "account.createSession", GUEST, userId="lin", secret=code).type == "user_invalid_token"
    # A known email keeps its user; a server sees the secret; a phrase comes back and in the message.
    again = token(call("account.createEmailToken", ADMIN, userId="ignored", email="lin@example.com", phrase=True))
    assert again["userId"] == "lin" and again["secret"] == last_message(engine, "lin@example.com")["data"]["secret"]
    assert again["phrase"] and again["phrase"] in last_message(engine, "lin@example.com")["text"]
    assert error_of(call, "account.createSession", GUEST, userId="nobody", secret=code).type == "user_invalid_token"


def test_magic_url_link_signs_in(engine, call):
    issued = token(
        call(
            "account.createMagicURLToken",
            GUEST,
            userId="unique()",
            email="max@example.com",
            url="https://app.test/cb?x=1",
        )
    )
    assert issued["secret"] == ""
    link = urlsplit(last_message(engine, "max@example.com")["data"]["url"])
    query = {key: values[0] for key, values in parse_qs(link.query).items()}
    assert (link.netloc, link.path, query["x"], query["project"]) == ("app.test", "/cb", "1", "default")
    assert query["userId"] == issued["userId"] and query["expire"] == issued["expire"]
    created = session(call("account.updateMagicURLSession", GUEST, userId=query["userId"], secret=query["secret"]))
    assert (created["provider"], created["factors"]) == ("magic-url", ["email"])
    refused = error_of(call, "account.createMagicURLToken", GUEST, userId="unique()", email="m@x.io", url="not a url")
    assert refused.type == "general_argument_invalid"


def test_phone_code_signs_up_and_in(engine, call):
    issued = token(call("account.createPhoneToken", GUEST, userId="unique()", phone="+14155550100"))
    message = last_message(engine, "+14155550100")
    assert message["channel"] == "sms" and message["data"]["secret"] in message["text"]
    created = session(
        call("account.updatePhoneSession", GUEST, userId=issued["userId"], secret=message["data"]["secret"])
    )
    assert (created["provider"], created["factors"]) == ("phone", ["phone"])
    account = user(call("account.get", session_auth(engine.project().connection, created["secret"])))
    assert account["phone"] == "+14155550100" and account["phoneVerification"] is True
    assert ("sms", "+14155550100") in [(t["providerType"], t["identifier"]) for t in account["targets"]]
    assert error_of(call, "account.createPhoneToken", GUEST, userId="unique()", phone="12345").type == (
        "general_invalid_phone"
    )


def test_a_server_made_token_signs_in_with_factor_token(engine, call, ada):
    account, _ = ada
    with engine.project().db.transaction() as connection:
        create_token(connection, account["$id"], "session", 900, secret="abc123")
    created = session(call("account.createSession", GUEST, userId=account["$id"], secret="abc123"))
    assert (created["provider"], created["factors"]) == ("token", ["token"])


def test_oauth2_providers_are_disabled(engine, call):
    refused = error_of(call, "account.createOAuth2Token", GUEST, provider="github")
    assert (refused.type, refused.code) == ("project_provider_disabled", 412) and "github" in refused.message


# --- verification ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "create, update",
    [("createEmailVerification", "updateEmailVerification"), ("createVerification", "updateVerification")],
)
def test_email_verification_link(engine, call, ada, create, update):
    account, auth = ada
    issued = token(call(f"account.{create}", auth, url="https://app.test/verify"))
    assert issued["secret"] == ""
    message = last_message(engine, "ada@example.com")
    query = {key: values[0] for key, values in parse_qs(urlsplit(message["data"]["url"]).query).items()}
    assert query["userId"] == account["$id"] and message["data"]["url"] in message["text"]
    assert (
        error_of(call, f"account.{update}", GUEST, userId=account["$id"], secret="wrong").type == "user_invalid_token"
    )
    assert (
        token(call(f"account.{update}", GUEST, userId=query["userId"], secret=query["secret"]))["$id"] == issued["$id"]
    )
    assert user(call("account.get", auth))["emailVerification"] is True
    already = error_of(call, f"account.{create}", auth, url="https://app.test/verify")
    assert already.type == "user_email_already_verified"
    assert error_of(call, f"account.{update}", GUEST, userId="nobody", secret="x").type == "user_not_found"


def test_phone_verification_code(engine, call, ada):
    account, auth = ada
    assert error_of(call, "account.createPhoneVerification", auth).type == "user_phone_not_found"
    call("account.updatePhone", auth, phone="+15550001111", password=PASSWORD)
    token(call("account.createPhoneVerification", auth))
    code = last_message(engine, "+15550001111")["data"]["secret"]
    token(call("account.updatePhoneVerification", GUEST, userId=account["$id"], secret=code))
    assert user(call("account.get", auth))["phoneVerification"] is True
    assert error_of(call, "account.createPhoneVerification", auth).type == "user_phone_already_verified"
    assert error_of(call, "account.updatePhoneVerification", GUEST, userId=account["$id"], secret=code).code == 401


# --- recovery -------------------------------------------------------------------------------------


def test_password_recovery(engine, call, ada):
    account, auth = ada
    assert error_of(call, "account.createRecovery", GUEST, email="bob@example.com", url="https://app.test/r").type == (
        "user_not_found"
    )
    issued = token(call("account.createRecovery", GUEST, email="ada@example.com", url="https://app.test/reset"))
    assert issued["secret"] == ""
    data = last_message(engine, "ada@example.com")["data"]
    query = {key: values[0] for key, values in parse_qs(urlsplit(data["url"]).query).items()}
    assert query["secret"] == data["secret"] and query["userId"] == account["$id"]
    # A password the policy refuses leaves the link usable.
    refused = error_of(
        call, "account.updateRecovery", GUEST, userId=account["$id"], secret=data["secret"], password="x"
    )
    assert refused.type == "general_argument_invalid"
    token(call("account.updateRecovery", GUEST, userId=account["$id"], secret=data["secret"], password="recovered pw"))
    assert (
        error_of(
            call, "account.updateRecovery", GUEST, userId=account["$id"], secret=data["secret"], password="other pw 2"
        ).type
        == "user_invalid_token"
    )
    sign_in(engine, call, password="recovered pw")
    assert user(call("account.get", auth))["emailVerification"] is True
    assert error_of(
        call, "account.createEmailPasswordSession", GUEST, email="ada@example.com", password=PASSWORD
    ).code == (401)
    admin_view = token(call("account.createRecovery", ADMIN, email="ada@example.com", url="https://app.test/reset"))
    assert admin_view["secret"] == last_message(engine, "ada@example.com")["data"]["secret"]


def test_recovery_of_a_blocked_user_is_refused(engine, call, ada):
    _, auth = ada
    call("account.updateStatus", auth)
    refused = error_of(call, "account.createRecovery", GUEST, email="ada@example.com", url="https://app.test/r")
    assert refused.type == "user_blocked"


def test_every_account_operation_has_a_handler(engine, catalog):
    from mcp_server.engine.registry import HANDLERS

    ids = {op.id for op in catalog.operations if op.service == "account"}
    assert ids - set(HANDLERS) == set()


def test_messages_are_json_files_in_the_outbox(engine, call, ada):
    _, auth = ada
    call("account.createEmailVerification", auth, url="https://app.test/verify")
    files = sorted((engine.project().db.path.parent / "outbox").glob("*.json"))
    assert files and json.loads(files[-1].read_text())["subject"].endswith("account verification")
