"""The project's policies (project.*Policy) through Engine.call: one store with `baas-mcp auth-policy`,
Appwrite 1.9's defaults and models, and each policy honoured where Appwrite honours it."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mcp_server.engine import outbox
from mcp_server.engine.identity import policy
from mcp_server.engine.identity.identities import session_auth
from mcp_server.engine.permissions import GUEST
from tests.engine.conftest import error_of, q
from tests.engine.test_project_settings import PROJECT_FIELDS

PASSWORD = "correct horse 1"
COMMAND = Path(sys.executable).with_name("baas-mcp")
DEFAULTS = [
    {"$id": "password-dictionary", "enabled": False},
    {"$id": "password-history", "total": 0},
    {"$id": "password-strength", "min": 8, "uppercase": False, "lowercase": False, "number": False, "symbols": False},
    {"$id": "password-personal-data", "enabled": False},
    {"$id": "session-alert", "enabled": False},
    {"$id": "session-duration", "duration": 31536000},
    {"$id": "session-invalidation", "enabled": True},
    {"$id": "session-limit", "total": 0},
    {"$id": "user-limit", "total": 0},
    {
        "$id": "membership-privacy",
        "userId": False,
        "userEmail": False,
        "userPhone": False,
        "userName": False,
        "userMFA": False,
        "userAccessedAt": False,
    },
]
# The Project model of Appwrite 1.9 (server src/Appwrite/Utopia/Response/Model/Project.php).


def sign_up(call, email: str = "ada@example.com", name: str = "Ada") -> dict:
    return call("account.create", GUEST, userId="unique()", email=email, password=PASSWORD, name=name)


def sign_in(engine, call, email: str = "ada@example.com", password: str = PASSWORD):
    created = call("account.createEmailPasswordSession", GUEST, email=email, password=password)
    return session_auth(engine.project().connection, created["secret"]), created


def session_ids(engine, user_id: str) -> list[str]:
    rows = engine.project().connection.execute("SELECT id FROM _sessions WHERE user_id = ? ORDER BY seq", (user_id,))
    return [row[0] for row in rows]


def outbox_of(engine, to: str) -> list[dict]:
    return [message for message in outbox.messages(engine.project().db.path.parent) if message["to"] == to]


def auth_policy(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """`baas-mcp auth-policy` on the test engine's data dir, as a user runs it."""
    command = [str(COMMAND), "auth-policy", "--data-dir", str(tmp_path / "data"), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_policies_are_listed_and_read_with_appwrite_defaults(call):
    assert call("project.listPolicies") == {"total": 10, "policies": DEFAULTS}
    for expected in DEFAULTS:
        assert call("project.getPolicy", policyId=expected["$id"]) == expected
    page = call("project.listPolicies", queries=[q("limit", values=[2]), q("offset", values=[8])], total=False)
    assert page == {"total": 0, "policies": DEFAULTS[8:10]}
    refused = error_of(call, "project.listPolicies", queries=[q("equal", "$id", ["user-limit"])])
    assert refused.type == "general_query_invalid" and "limit and offset" in refused.message


def test_an_unknown_policy_is_refused_by_name(call):
    for policy_id in ("nope", "password_strength", "x" * 10_000, "user-limit\x00"):
        refused = error_of(call, "project.getPolicy", policyId=policy_id)
        assert refused.type == "general_argument_invalid" and "policyId" in refused.message


def test_updates_answer_as_appwrite_and_change_nothing_on_bad_input(engine, call):
    project = call("project.updateSessionLimitPolicy", total=5)
    assert set(project) == PROJECT_FIELDS and project["$id"] == "default"
    strength = call("project.updatePasswordStrengthPolicy", uppercase=True)
    assert strength == {**DEFAULTS[2], "uppercase": True}
    # Omitted fields keep their value; a null total turns the count off.
    assert call("project.updatePasswordStrengthPolicy", min=12)["uppercase"] is True
    call("project.updateSessionLimitPolicy", total=None)
    assert call("project.getPolicy", policyId="session-limit")["total"] == 0
    assert set(call("project.updatePasswordHistoryPolicy", total=3)) == PROJECT_FIELDS
    assert call("project.getPolicy", policyId="password-history")["total"] == 3
    call("project.updatePasswordHistoryPolicy", total=None)
    call("project.updatePasswordDictionaryPolicy", enabled=True)
    call("project.updatePasswordPersonalDataPolicy", enabled=True)
    stored = policy.read(engine.project().connection)
    assert (stored["passwordHistory"], stored["passwordDictionary"], stored["personalDataCheck"]) == (0, True, True)
    call("project.updateMembershipPrivacyPolicy", userName=True)
    call("project.updateMembershipPrivacyPolicy", userEmail=True)
    privacy = call("project.getPolicy", policyId="membership-privacy")
    assert (privacy["userName"], privacy["userEmail"], privacy["userId"]) == (True, True, False)
    before = call("project.listPolicies")
    for operation, params in (
        ("project.updatePasswordStrengthPolicy", {"min": 7}),
        ("project.updatePasswordStrengthPolicy", {"min": 257}),
        ("project.updatePasswordStrengthPolicy", {"symbols": "yes"}),
        ("project.updateSessionDurationPolicy", {"duration": 4}),
        ("project.updateSessionDurationPolicy", {"duration": 31536001}),
        ("project.updateSessionLimitPolicy", {"total": 0}),
        ("project.updateUserLimitPolicy", {"total": 5001}),
        ("project.updatePasswordHistoryPolicy", {"total": -1}),
        ("project.updatePasswordDictionaryPolicy", {}),
        ("project.updateMembershipPrivacyPolicy", {"userPhone": "true"}),
    ):
        assert error_of(call, operation, **params).type == "general_argument_invalid", (operation, params)
    assert call("project.listPolicies") == before


def test_the_auth_policy_command_and_the_operations_share_one_store(engine, call, tmp_path):
    policy.write(engine.project().db, {"passwordHistory": 4, "passwordDictionary": True})
    assert call("project.getPolicy", policyId="password-history")["total"] == 4
    assert call("project.getPolicy", policyId="password-dictionary")["enabled"] is True
    call("project.updatePasswordStrengthPolicy", min=10, number=True)
    call("project.updateUserLimitPolicy", total=3)
    call("project.updateSessionAlertPolicy", enabled=True)
    shown = auth_policy(tmp_path, "--json")
    assert shown.returncode == 0, shown.stderr
    settings = json.loads(shown.stdout)
    assert (settings["passwordMinLength"], settings["passwordNumber"], settings["userLimit"]) == (10, True, 3)
    assert (settings["sessionAlerts"], settings["passwordHistory"]) == (True, 4)
    changed = auth_policy(tmp_path, "--session-limit", "2", "--uppercase", "on")
    assert changed.returncode == 0, changed.stderr
    assert call("project.getPolicy", policyId="session-limit")["total"] == 2
    assert call("project.getPolicy", policyId="password-strength")["uppercase"] is True


def test_password_strength_is_required_wherever_a_password_is_set(engine, call):
    call("project.updatePasswordStrengthPolicy", min=10, uppercase=True, number=True, symbols=True)
    for weak in ("Short1!", "longer but no caps 1!", "NoDigitsHere!!", "NoSymbols123abc"):
        refused = error_of(call, "users.create", userId="unique()", email="a@example.com", password=weak)
        assert refused.type == "general_argument_invalid"
        assert refused.message == (
            "Invalid `password` param: Password must be between 10 and 256 characters long, include an uppercase "
            "letter, include a number, include a symbol."
        )
    user = call("users.create", userId="ada", email="ada@example.com", password="Strong pass 1!")
    assert error_of(call, "users.updatePassword", userId=user["$id"], password="weak").type == (
        "general_argument_invalid"
    )
    # A symbol is any character that is no letter, digit or space: accented letters are not symbols.
    assert error_of(call, "users.updatePassword", userId="ada", password="Élan Vital 12é").type == (
        "general_argument_invalid"
    )
    call("users.updatePassword", userId="ada", password="Élan Vital 12€")


def test_session_duration_sets_when_sessions_end(engine, call):
    sign_up(call)
    call("project.updateSessionDurationPolicy", duration=60)
    _, created = sign_in(engine, call)
    lasts = datetime.fromisoformat(created["expire"]) - datetime.now(UTC)
    assert 50 < lasts.total_seconds() <= 60
    admin_made = call("users.createSession", userId=created["userId"])
    assert (datetime.fromisoformat(admin_made["expire"]) - datetime.now(UTC)).total_seconds() <= 60


def test_a_password_change_ends_the_other_sessions_unless_the_policy_is_off(engine, call):
    account = sign_up(call)
    sign_in(engine, call)
    second, _ = sign_in(engine, call)
    call("account.updatePassword", second, password="another pass 2", oldPassword=PASSWORD)
    assert session_ids(engine, account["$id"]) == [second.session_id]
    call("project.updateSessionInvalidationPolicy", enabled=False)
    third, _ = sign_in(engine, call, password="another pass 2")
    call("account.updatePassword", third, password="a third pass 3", oldPassword="another pass 2")
    call("users.updatePassword", userId=account["$id"], password="a fourth pass 4")
    assert session_ids(engine, account["$id"]) == [second.session_id, third.session_id]
    call("project.updateSessionInvalidationPolicy", enabled=True)
    call("users.updatePassword", userId=account["$id"], password="a fifth pass 5")
    assert session_ids(engine, account["$id"]) == []


def test_the_user_limit_stops_sign_ups_but_not_servers(engine, call):
    call("project.updateUserLimitPolicy", total=2)
    sign_up(call)
    sign_up(call, "bob@example.com", "Bob")
    refused = error_of(call, "account.create", GUEST, userId="unique()", email="cy@example.com", password=PASSWORD)
    assert (refused.type, refused.code) == ("user_count_exceeded", 400)
    assert error_of(call, "account.createAnonymousSession", GUEST).type == "user_count_exceeded"
    token = error_of(call, "account.createEmailToken", GUEST, userId="unique()", email="dan@example.com")
    assert token.type == "user_count_exceeded"
    assert outbox_of(engine, "dan@example.com") == []
    # An existing user still signs in with a code; an API key (or the administrator) still creates users.
    call("account.createEmailToken", GUEST, userId="unique()", email="ada@example.com")
    assert call("users.create", userId="eve", email="eve@example.com")["$id"] == "eve"
    call("project.updateUserLimitPolicy", total=None)
    sign_up(call, "cy@example.com", "Cy")


def test_membership_privacy_hides_members_details_from_members(engine, call):
    for user_id, name in (("ada", "Ada"), ("bob", "Bob")):
        call("users.create", userId=user_id, email=f"{user_id}@example.com", phone=None, name=name)
    call("teams.create", engine.user_auth("default", "ada"), teamId="crew", name="Crew")
    call("teams.createMembership", teamId="crew", roles=["dev"], userId="bob")
    bob = engine.user_auth("default", "bob")
    hidden = call("teams.listMemberships", bob, teamId="crew")["memberships"]
    assert [(m["userId"], m["userName"], m["userEmail"], m["mfa"]) for m in hidden] == [("", "", "", False)] * 2
    assert [m["teamName"] for m in hidden] == ["Crew", "Crew"]
    shown = call("teams.listMemberships", teamId="crew")["memberships"]
    assert [(m["userId"], m["userName"]) for m in shown] == [("ada", "Ada"), ("bob", "Bob")]
    call("project.updateMembershipPrivacyPolicy", userId=True, userName=True)
    partly = call("teams.getMembership", bob, teamId="crew", membershipId=shown[1]["$id"])
    assert (partly["userId"], partly["userName"], partly["userEmail"]) == ("bob", "Bob", "")


def test_a_session_alert_is_emailed_for_each_new_session_but_the_first(engine, call):
    account = sign_up(call)
    call("project.updateSessionAlertPolicy", enabled=True)
    sign_in(engine, call)
    assert outbox_of(engine, "ada@example.com") == []  # the user's only session
    _, created = sign_in(engine, call)
    [alert] = outbox_of(engine, "ada@example.com")
    assert alert["template"] == "sessionAlert" and alert["data"]["sessionId"] == created["$id"]
    assert "new session" in alert["subject"] and "Ada" in alert["text"]
    # Signing in with a code sent to that very address needs no alert.
    token = call("account.createEmailToken", GUEST, userId=account["$id"], email="ada@example.com")
    code = outbox_of(engine, "ada@example.com")[-1]["data"]["secret"]
    call("account.createSession", GUEST, userId=token["userId"], secret=code)
    assert [m["template"] for m in outbox_of(engine, "ada@example.com")] == ["sessionAlert", "otpSession"]
    call("project.updateSessionAlertPolicy", enabled=False)
    sign_in(engine, call)
    assert len(outbox_of(engine, "ada@example.com")) == 2


@pytest.mark.parametrize("total", [1, 3])
def test_the_session_limit_ends_the_oldest_sessions(engine, call, total):
    account = sign_up(call)
    call("project.updateSessionLimitPolicy", total=total)
    made = [sign_in(engine, call)[0].session_id for _ in range(total + 2)]
    assert session_ids(engine, account["$id"]) == made[-total:]
