"""The users service through Engine.call: users, hash imports, sessions, tokens, JWTs, identities,
logs, memberships and targets, each response checked against the official Python SDK's models."""

from __future__ import annotations

import hashlib
import json

import bcrypt
import pytest
from appwrite.models.identity_list import IdentityList
from appwrite.models.jwt import Jwt
from appwrite.models.log_list import LogList
from appwrite.models.membership_list import MembershipList
from appwrite.models.preferences import Preferences
from appwrite.models.session import Session
from appwrite.models.session_list import SessionList
from appwrite.models.target import Target
from appwrite.models.target_list import TargetList
from appwrite.models.token import Token
from appwrite.models.user import User
from appwrite.models.user_list import UserList
from argon2 import PasswordHasher

from mcp_server.engine.events import read_after
from mcp_server.engine.identity import identities, passwords, policy
from mcp_server.engine.permissions import GUEST, key_auth
from mcp_server.engine.registry import HANDLERS, Requester
from tests.engine.conftest import error_of, q

PASSWORD = "correct horse battery"
FIREBASE = {
    "password": "user1password",
    "salt": "42xEC+ixf3L2lw==",
    "separator": "Bw==",
    "signer": "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==",
    "hash": "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==",
}
MFA_METHODS = (
    "updateMfa updateMFA listMfaFactors listMFAFactors getMfaRecoveryCodes getMFARecoveryCodes "
    "updateMfaRecoveryCodes updateMFARecoveryCodes createMfaRecoveryCodes createMFARecoveryCodes "
    "deleteMfaAuthenticator deleteMFAAuthenticator"
).split()


@pytest.fixture(autouse=True)
def quick_argon2(monkeypatch):
    """New passwords hash with cheap Argon2 parameters here; verification reads them from each hash."""
    monkeypatch.setattr(passwords, "ARGON2", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


@pytest.fixture
def project(engine):
    return engine.project()


@pytest.fixture
def ada(call):
    return call("users.create", userId="ada", email="Ada@Example.com", phone="+14155550100", name="Ada Lovelace")


def record(project, user_id: str):
    return identities.find_user(project.connection, user_id)


def count(project, table: str, user_id: str) -> int:
    return project.connection.execute(f"SELECT count(*) FROM {table} WHERE user_id = ?", (user_id,)).fetchone()[0]


def events(call, user_id: str) -> list[str]:
    return [entry["event"] for entry in call("users.listLogs", userId=user_id)["logs"]]


def test_every_users_operation_but_mfa_has_a_handler(catalog):
    ids = {op.id for op in catalog.operations if op.service == "users"}
    mfa = {f"users.{method}" for method in MFA_METHODS}
    assert ids - mfa - set(HANDLERS) == set()
    assert len(ids - mfa) == 37


# --- creating and reading users -------------------------------------------------------------------


def test_create_user_with_everything(call, project):
    user = call(
        "users.create", userId="ada", email=" Ada@Example.com ", phone="+14155550100", password=PASSWORD, name="Ada"
    )
    User.model_validate(user)
    assert user["$id"] == "ada" and user["name"] == "Ada" and user["status"] is True
    assert user["email"] == "ada@example.com" and user["phone"] == "+14155550100"
    assert user["emailVerification"] is False and user["passwordUpdate"] and user["hash"] == "argon2"
    assert {(t["providerType"], t["identifier"]) for t in user["targets"]} == {
        ("email", "ada@example.com"),
        ("sms", "+14155550100"),
    }
    assert identities.password_matches(record(project, "ada"), PASSWORD)
    assert call("users.get", userId="ada") == user
    assert events(call, "ada") == ["user.create"]


def test_create_user_with_only_an_id(call, project):
    user = User.model_validate(call("users.create", userId="unique()"))
    assert len(user.id) == 20 and user.email == "" and user.phone == "" and user.passwordupdate == ""
    assert user.targets == [] and user.hash is None
    blank = call("users.create", userId="blank", email=None, phone=None, password="", name="")
    assert blank["email"] == "" and not record(project, "blank")["password"]


def test_create_user_errors(call, ada):
    assert error_of(call, "users.create", userId="ada").type == "user_already_exists"
    taken = error_of(call, "users.create", userId="other", email="ADA@example.com")
    assert (taken.type, taken.code) == ("user_email_already_exists", 409)
    phone = error_of(call, "users.create", userId="other", phone="+14155550100")
    assert (phone.type, phone.code) == ("user_phone_already_exists", 409)
    assert error_of(call, "users.create", userId="other", email="not-an-email").type == "general_invalid_email"
    assert error_of(call, "users.create", userId="other", phone="0800").type == "general_invalid_phone"
    bad_id = error_of(call, "users.create", userId="_bad")
    assert bad_id.type == "general_argument_invalid" and "userId" in bad_id.message
    assert error_of(call, "users.create", userId="other", name="x" * 129).type == "general_argument_invalid"
    short = error_of(call, "users.create", userId="other", password="short")
    assert short.type == "general_argument_invalid" and "password" in short.message
    assert call("users.list")["total"] == 1


def test_email_of_another_users_identity_is_taken(call, project, ada):
    with project.db.transaction() as connection:
        insert_identity(connection, "i1", "ada", "github", "42", "grace@example.com")
    assert error_of(call, "users.create", userId="grace", email="grace@example.com").type == (
        "user_email_already_exists"
    )
    # Their own identity's email is theirs to take.
    assert call("users.updateEmail", userId="ada", email="grace@example.com")["email"] == "grace@example.com"


def test_email_target_held_by_someone_else_is_not_duplicated(call):
    call("users.create", userId="ada")
    call("users.createTarget", userId="ada", targetId="t1", providerType="email", identifier="grace@example.com")
    grace = call("users.create", userId="grace", email="grace@example.com")
    assert grace["targets"] == []


# --- importing password hashes ----------------------------------------------------------------------


def scrypt_hex(password: str) -> str:
    return hashlib.scrypt(password.encode(), salt=b"pepper", n=16, r=8, p=1, dklen=32).hex()


IMPORTS = {
    "argon2": (
        "users.createArgon2User",
        lambda: {"password": PasswordHasher(time_cost=1, memory_cost=64, parallelism=1).hash(PASSWORD)},
        PASSWORD,
    ),
    "bcrypt": (
        "users.createBcryptUser",
        lambda: {"password": bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()},
        PASSWORD,
    ),
    "md5": ("users.createMD5User", lambda: {"password": hashlib.md5(PASSWORD.encode()).hexdigest()}, PASSWORD),
    "sha": (
        "users.createSHAUser",
        lambda: {"password": hashlib.sha512(PASSWORD.encode()).hexdigest(), "passwordVersion": "sha512"},
        PASSWORD,
    ),
    "phpass": ("users.createPHPassUser", lambda: {"password": "$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0"}, "test12345"),
    "scrypt": (
        "users.createScryptUser",
        lambda: {
            "password": scrypt_hex(PASSWORD),
            "passwordSalt": "pepper",
            "passwordCpu": 16,
            "passwordMemory": 8,
            "passwordParallel": 1,
            "passwordLength": 32,
        },
        PASSWORD,
    ),
    "scryptMod": (
        "users.createScryptModifiedUser",
        lambda: {
            "password": FIREBASE["hash"],
            "passwordSalt": FIREBASE["salt"],
            "passwordSaltSeparator": FIREBASE["separator"],
            "passwordSignerKey": FIREBASE["signer"],
        },
        FIREBASE["password"],
    ),
}


@pytest.mark.parametrize("algorithm", IMPORTS)
def test_imported_hash_signs_in_with_the_original_password(call, project, algorithm):
    operation, make, plain = IMPORTS[algorithm]
    user = call(operation, userId="unique()", email=f"{algorithm.lower()}@example.com", name="Imported", **make())
    User.model_validate(user)
    assert user["hash"] == algorithm and user["passwordUpdate"]
    assert user["targets"][0]["identifier"] == f"{algorithm.lower()}@example.com"
    stored = record(project, user["$id"])
    assert stored["hash"] == algorithm
    assert identities.password_matches(stored, plain)
    assert not identities.password_matches(stored, plain + "!")


def test_sha_import_defaults_to_sha3_512(call, project):
    hashed = hashlib.sha3_512(PASSWORD.encode()).hexdigest()
    user = call("users.createSHAUser", userId="sha", email="sha@example.com", password=hashed)
    assert identities.password_matches(record(project, user["$id"]), PASSWORD)


def test_scrypt_import_options_are_stored_for_verification(call, project):
    call("users.createScryptUser", userId="s", email="s@example.com", **IMPORTS["scrypt"][1]())
    assert json.loads(record(project, "s")["hash_options"]) == {
        "salt": "pepper",
        "costCpu": 16,
        "costMemory": 8,
        "costParallel": 1,
        "length": 32,
    }


@pytest.mark.parametrize(
    ("operation", "changes", "param"),
    [
        ("users.createScryptUser", {"passwordCpu": 12}, "passwordCpu"),
        ("users.createScryptUser", {"passwordMemory": 0}, "passwordMemory"),
        ("users.createScryptUser", {"passwordLength": 8}, "passwordLength"),
        ("users.createScryptUser", {"passwordSalt": ""}, "passwordSalt"),
        ("users.createScryptUser", {"passwordCpu": 2**20, "passwordMemory": 64}, "passwordMemory"),
        ("users.createScryptModifiedUser", {"passwordSignerKey": "not base64!"}, "passwordSignerKey"),
        ("users.createScryptModifiedUser", {"passwordSalt": ""}, "passwordSalt"),
        ("users.createMD5User", {"password": "short"}, "password"),
        ("users.createSHAUser", {"passwordVersion": "md4"}, "passwordVersion"),
    ],
)
def test_import_with_unusable_options_is_refused(call, operation, changes, param):
    makers = {"users.createScryptUser": IMPORTS["scrypt"][1], "users.createScryptModifiedUser": IMPORTS["scryptMod"][1]}
    base = makers[operation]() if operation in makers else {"password": "0" * 64}
    error = error_of(call, operation, userId="x", email="x@example.com", **{**base, **changes})
    assert error.type == "general_argument_invalid"
    assert f"`{param}`" in error.message or f"'{param}'" in error.message
    assert call("users.list")["total"] == 0


def test_import_needs_an_email(call):
    error = error_of(call, "users.createMD5User", userId="x", email="", password="0" * 32)
    assert error.type == "general_invalid_email"


# --- listing ----------------------------------------------------------------------------------------


@pytest.fixture
def people(call):
    call("users.create", userId="ada", email="ada@example.com", name="Ada Lovelace")
    call("users.create", userId="grace", email="grace@navy.mil", phone="+14155550101", name="Grace Hopper")
    call("users.create", userId="alan", name="Alan Turing")
    call("users.updateLabels", userId="grace", labels=["admiral", "vip"])
    call("users.updateStatus", userId="alan", status=False)
    call("users.updateEmailVerification", userId="ada", emailVerification=True)


def ids(result: dict, key: str = "users") -> list[str]:
    return [item["$id"] for item in result[key]]


def test_list_queries_search_and_paging(call, people):
    everyone = call("users.list")
    UserList.model_validate(everyone)
    assert everyone["total"] == 3 and ids(everyone) == ["ada", "grace", "alan"]
    assert ids(call("users.list", queries=[q("equal", "name", ["Grace Hopper"])])) == ["grace"]
    assert ids(call("users.list", queries=[q("equal", "status", [False])])) == ["alan"]
    assert ids(call("users.list", queries=[q("contains", "labels", ["vip"])])) == ["grace"]
    assert ids(call("users.list", queries=[q("equal", "emailVerification", [True])])) == ["ada"]
    assert ids(call("users.list", queries=[q("equal", "phoneVerification", [True])])) == []
    assert ids(call("users.list", queries=[q("startsWith", "email", ["grace"])])) == ["grace"]
    assert ids(call("users.list", queries=[q("equal", "phone", ["+14155550101"])])) == ["grace"]
    assert ids(call("users.list", queries=[q("orderDesc", "name")])) == ["grace", "alan", "ada"]
    since = q("greaterThan", "registration", ["2000-01-01T00:00:00.000+00:00"])
    assert len(call("users.list", queries=[since])["users"]) == 3
    assert ids(call("users.list", search="navy")) == ["grace"]
    assert ids(call("users.list", search="ALAN")) == ["alan"]
    assert ids(call("users.list", search="+1415")) == ["grace"]
    page = call("users.list", queries=[q("limit", values=[1]), q("offset", values=[1])])
    assert page["total"] == 3 and ids(page) == ["grace"]
    assert ids(call("users.list", queries=[q("cursorAfter", values=["ada"])])) == ["grace", "alan"]
    assert call("users.list", total=False)["total"] == 0
    assert error_of(call, "users.list", queries=[q("equal", "password", ["x"])]).type == "general_query_invalid"
    assert error_of(call, "users.list", queries=[q("cursorAfter", values=["nobody"])]).type == (
        "general_cursor_not_found"
    )


# --- changing users ---------------------------------------------------------------------------------


def test_update_name_status_and_verification(call, ada):
    renamed = call("users.updateName", userId="ada", name="Countess")
    User.model_validate(renamed)
    assert renamed["name"] == "Countess" and renamed["$updatedAt"] >= ada["$updatedAt"]
    assert call("users.updateName", userId="ada", name="")["name"] == ""
    assert call("users.updateStatus", userId="ada", status=False)["status"] is False
    assert call("users.updateStatus", userId="ada", status=True)["status"] is True
    assert call("users.updateEmailVerification", userId="ada", emailVerification=True)["emailVerification"]
    assert call("users.updatePhoneVerification", userId="ada", phoneVerification=True)["phoneVerification"]
    assert error_of(call, "users.updateName", userId="ada", name="x" * 129).type == "general_argument_invalid"
    assert events(call, "ada")[:2] == ["verification.update", "verification.update"]


def test_update_email_keeps_the_target_in_step(call, ada):
    call("users.updateEmailVerification", userId="ada", emailVerification=True)
    changed = call("users.updateEmail", userId="ada", email="Countess@Example.com")
    User.model_validate(changed)
    assert changed["email"] == "countess@example.com" and changed["emailVerification"] is False
    email_targets = [t for t in changed["targets"] if t["providerType"] == "email"]
    assert [t["identifier"] for t in email_targets] == ["countess@example.com"]
    assert email_targets[0]["$id"] == next(t["$id"] for t in ada["targets"] if t["providerType"] == "email")
    removed = call("users.updateEmail", userId="ada", email="")
    assert removed["email"] == "" and [t["providerType"] for t in removed["targets"]] == ["sms"]
    added = call("users.updateEmail", userId="ada", email="ada@example.com")
    assert {t["identifier"] for t in added["targets"]} == {"ada@example.com", "+14155550100"}
    assert error_of(call, "users.updateEmail", userId="ada", email="nope").type == "general_invalid_email"


def test_update_email_conflicts_change_nothing(call, ada):
    call("users.create", userId="grace", email="grace@example.com")
    taken = error_of(call, "users.updateEmail", userId="ada", email="GRACE@example.com")
    assert (taken.type, taken.code) == ("user_email_already_exists", 409)
    call("users.createTarget", userId="grace", targetId="work", providerType="email", identifier="work@example.com")
    target = error_of(call, "users.updateEmail", userId="ada", email="work@example.com")
    assert (target.type, target.code) == ("user_target_already_exists", 409)
    assert call("users.get", userId="ada")["email"] == "ada@example.com"
    # A target of the user's own for the new address becomes the address's target.
    call("users.createTarget", userId="ada", targetId="mine", providerType="email", identifier="mine@example.com")
    moved = call("users.updateEmail", userId="ada", email="mine@example.com")
    assert [t["$id"] for t in moved["targets"] if t["providerType"] == "email"] == ["mine"]


def test_update_phone(call, ada):
    changed = call("users.updatePhone", userId="ada", number="+442071838750")
    User.model_validate(changed)
    assert changed["phone"] == "+442071838750" and changed["phoneVerification"] is False
    assert {t["identifier"] for t in changed["targets"] if t["providerType"] == "sms"} == {"+442071838750"}
    call("users.create", userId="grace", phone="+14155550101")
    taken = error_of(call, "users.updatePhone", userId="ada", number="+14155550101")
    assert (taken.type, taken.code) == ("user_phone_already_exists", 409)
    assert error_of(call, "users.updatePhone", userId="ada", number="12345").type == "general_invalid_phone"
    removed = call("users.updatePhone", userId="ada", number="")
    assert removed["phone"] == "" and all(t["providerType"] != "sms" for t in removed["targets"])


def test_update_labels(call, ada):
    labeled = call("users.updateLabels", userId="ada", labels=["vip", "beta", "vip"])
    User.model_validate(labeled)
    assert labeled["labels"] == ["vip", "beta"]
    for bad in (["has space"], ["dash-ed"], [""], ["x" * 37], ["é"]):
        error = error_of(call, "users.updateLabels", userId="ada", labels=bad)
        assert error.type == "general_argument_invalid" and "labels" in error.message
    assert error_of(call, "users.updateLabels", userId="ada", labels=["a"] * 1001).type == "general_argument_invalid"
    assert call("users.updateLabels", userId="ada", labels=[])["labels"] == []


def test_prefs(call, ada):
    assert call("users.getPrefs", userId="ada") == {}
    prefs = {"theme": "dark", "nested": {"n": 1}}
    updated = call("users.updatePrefs", userId="ada", prefs=prefs)
    assert updated == prefs
    assert Preferences.with_data(updated).data == prefs
    assert call("users.getPrefs", userId="ada") == prefs
    assert call("users.get", userId="ada")["prefs"] == prefs
    too_big = error_of(call, "users.updatePrefs", userId="ada", prefs={"blob": "x" * 65535})
    assert too_big.type == "general_argument_invalid" and "prefs" in too_big.message
    assert call("users.getPrefs", userId="ada") == prefs


# --- passwords ---------------------------------------------------------------------------------------


def test_update_password_and_clear_it(call, project, ada):
    updated = call("users.updatePassword", userId="ada", password=PASSWORD)
    User.model_validate(updated)
    assert updated["hash"] == "argon2" and updated["passwordUpdate"]
    assert identities.password_matches(record(project, "ada"), PASSWORD)
    cleared = call("users.updatePassword", userId="ada", password="")
    User.model_validate(cleared)
    assert not identities.password_matches(record(project, "ada"), PASSWORD)
    assert record(project, "ada")["password"] is None
    assert events(call, "ada")[:2] == ["user.update", "user.update"]


def test_password_policy(call, project, ada):
    policy.write(project.db, {"passwordMinLength": 12})
    short = error_of(call, "users.updatePassword", userId="ada", password="elevenchars")
    assert short.type == "general_argument_invalid" and "12" in short.message
    assert error_of(call, "users.create", userId="bob", password="elevenchars").type == "general_argument_invalid"

    policy.write(project.db, {"passwordMinLength": 8, "passwordHistory": 2})
    call("users.updatePassword", userId="ada", password="first password")
    call("users.updatePassword", userId="ada", password="second password")
    reused = error_of(call, "users.updatePassword", userId="ada", password="first password")
    assert (reused.type, reused.code) == ("password_recently_used", 400)
    assert identities.password_matches(record(project, "ada"), "second password")

    policy.write(project.db, {"passwordHistory": 0, "passwordDictionary": True})
    common = error_of(call, "users.updatePassword", userId="ada", password="password123")
    assert common.type == "general_argument_invalid" and "common" in common.message

    policy.write(project.db, {"passwordDictionary": False, "personalDataCheck": True})
    personal = error_of(call, "users.updatePassword", userId="ada", password="my name is Ada Lovelace")
    assert personal.type == "password_personal_data"
    assert error_of(call, "users.create", userId="bob", email="bob@x.io", password="bob@x.io!!").type == (
        "password_personal_data"
    )
    assert identities.password_matches(record(project, "ada"), "second password")


# --- sessions, JWTs and tokens ---------------------------------------------------------------------


def test_sessions(engine, call, project, ada):
    requester = Requester(ip="203.0.113.9", user_agent="Console/1.0")
    session = engine.call("users.createSession", {"userId": "ada"}, requester=requester)
    Session.model_validate(session)
    assert session["provider"] == "server" and session["factors"] == ["server"] and session["secret"]
    assert session["ip"] == "203.0.113.9" and session["current"] is False
    auth = identities.session_auth(project.connection, session["secret"])
    assert auth.user_id == "ada" and auth.session_id == session["$id"]
    assert call("users.get", userId="ada")["accessedAt"]

    second = call("users.createSession", userId="ada")
    listed = call("users.listSessions", userId="ada")
    SessionList.model_validate(listed)
    assert listed["total"] == 2 and [s["$id"] for s in listed["sessions"]] == [session["$id"], second["$id"]]
    assert all(s["secret"] == "" for s in listed["sessions"])
    assert call("users.listSessions", userId="ada", total=False)["total"] == 0

    assert call("users.deleteSession", userId="ada", sessionId=session["$id"]) is None
    assert error_of(identities.session_auth, project.connection, session["secret"]).type == "user_unauthorized"
    missing = error_of(call, "users.deleteSession", userId="ada", sessionId=session["$id"])
    assert (missing.type, missing.code) == ("user_session_not_found", 404)
    call("users.create", userId="grace")
    assert error_of(call, "users.deleteSession", userId="grace", sessionId=second["$id"]).type == (
        "user_session_not_found"
    )
    assert call("users.deleteSessions", userId="ada") is None
    assert call("users.listSessions", userId="ada")["total"] == 0
    assert events(call, "ada")[:4] == ["session.delete", "session.delete", "session.create", "session.create"]


def test_blocked_users_sessions_are_refused(call, project, ada):
    session = call("users.createSession", userId="ada")
    jwt = call("users.createJWT", userId="ada", sessionId=session["$id"])["jwt"]
    call("users.updateStatus", userId="ada", status=False)
    blocked = error_of(identities.session_auth, project.connection, session["secret"])
    assert (blocked.type, blocked.code) == ("user_blocked", 401)
    assert error_of(identities.jwt_auth, project, jwt).type == "user_blocked"
    call("users.updateStatus", userId="ada", status=True)
    assert identities.session_auth(project.connection, session["secret"]).user_id == "ada"


def test_jwts(call, project, ada):
    call("users.updateLabels", userId="ada", labels=["vip"])
    plain = call("users.createJWT", userId="ada")
    Jwt.model_validate(plain)
    auth = identities.jwt_auth(project, plain["jwt"])
    assert auth.user_id == "ada" and auth.session_id is None
    assert {"label:vip", "user:ada", "users", "any"} <= auth.roles

    no_session_yet = call("users.createJWT", userId="ada", sessionId="recent")["jwt"]
    assert identities.jwt_auth(project, no_session_yet).session_id is None
    first = call("users.createSession", userId="ada")
    latest = call("users.createSession", userId="ada")
    recent = identities.jwt_auth(project, call("users.createJWT", userId="ada", sessionId="recent")["jwt"])
    assert recent.session_id == latest["$id"]
    tied = call("users.createJWT", userId="ada", sessionId=first["$id"], duration=60)["jwt"]
    assert identities.jwt_auth(project, tied).session_id == first["$id"]
    call("users.deleteSession", userId="ada", sessionId=first["$id"])
    assert error_of(identities.jwt_auth, project, tied).type == "user_jwt_invalid"

    assert error_of(call, "users.createJWT", userId="ada", sessionId="nope").type == "user_session_not_found"
    too_long = error_of(call, "users.createJWT", userId="ada", duration=3601)
    assert too_long.type == "general_argument_invalid" and "duration" in too_long.message
    expired = call("users.createJWT", userId="ada", duration=0)["jwt"]
    assert error_of(identities.jwt_auth, project, expired).type == "user_jwt_invalid"


def test_tokens(call, project, ada):
    token = call("users.createToken", userId="ada")
    Token.model_validate(token)
    assert token["userId"] == "ada" and len(token["secret"]) == 6 and token["phrase"] == ""
    long = call("users.createToken", userId="ada", length=128, expire=60)
    assert len(long["secret"]) == 128 and long["expire"] < token["expire"]
    assert len(call("users.createToken", userId="ada", length=5)["secret"]) == 5
    consumed = identities.consume_token(project.connection, "ada", token["secret"], ("session",))
    assert consumed["id"] == token["$id"]
    # The client trades a token's secret for a session.
    fresh = call("users.createToken", userId="ada")
    session = call("account.createSession", auth=GUEST, userId="ada", secret=fresh["secret"])
    assert identities.session_auth(project.connection, session["secret"]).user_id == "ada"
    for params in ({"length": 3}, {"length": 129}, {"expire": 59}, {"expire": 31_536_001}):
        error = error_of(call, "users.createToken", userId="ada", **params)
        assert error.type == "general_argument_invalid" and next(iter(params)) in error.message
    assert events(call, "ada").count("tokens.create") == 4


# --- identities, logs, memberships ------------------------------------------------------------------


def insert_identity(connection, identity_id, user_id, provider, uid, email, token=""):
    now = "2025-01-01T00:00:00.000+00:00"
    connection.execute(
        "INSERT INTO _identities (id, user_id, provider, provider_uid, provider_email, access_token, "
        "access_token_expiry, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (identity_id, user_id, provider, uid, email, token, now, now, now),
    )


def test_identities(call, project, ada):
    call("users.create", userId="grace")
    with project.db.transaction() as connection:
        insert_identity(connection, "i1", "ada", "github", "101", "ada@github.test", "plain-token")
        insert_identity(connection, "i2", "ada", "google", "202", "ada@gmail.test", project.cipher.encrypt("sealed"))
        insert_identity(connection, "i3", "grace", "github", "303", "grace@github.test")
    listed = call("users.listIdentities")
    IdentityList.model_validate(listed)
    assert listed["total"] == 3 and ids(listed, "identities") == ["i1", "i2", "i3"]
    tokens = {i["$id"]: i["providerAccessToken"] for i in listed["identities"]}
    assert tokens["i1"] == "plain-token" and tokens["i2"] == "sealed"
    assert ids(call("users.listIdentities", queries=[q("equal", "provider", ["github"])]), "identities") == [
        "i1",
        "i3",
    ]
    assert ids(call("users.listIdentities", queries=[q("equal", "userId", ["grace"])]), "identities") == ["i3"]
    assert ids(call("users.listIdentities", search="gmail"), "identities") == ["i2"]
    assert call("users.deleteIdentity", identityId="i1") is None
    missing = error_of(call, "users.deleteIdentity", identityId="i1")
    assert (missing.type, missing.code) == ("user_identity_not_found", 404)
    assert call("users.listIdentities")["total"] == 2
    assert events(call, "ada")[0] == "identity.delete"


def test_logs(engine, call, ada):
    engine.call("users.updateName", {"userId": "ada", "name": "A"}, requester=Requester("198.51.100.7", "Agent/2.1"))
    call("users.createSession", userId="ada")
    logs = call("users.listLogs", userId="ada")
    LogList.model_validate(logs)
    assert logs["total"] == 3
    assert [entry["event"] for entry in logs["logs"]] == ["session.create", "user.update", "user.create"]
    update = logs["logs"][1]
    assert update["mode"] == "admin" and update["ip"] == "198.51.100.7" and update["clientName"] == "Agent"
    assert update["userEmail"] == "ada@example.com" and update["userName"] == "A" and update["userId"] == "ada"
    page = call("users.listLogs", userId="ada", queries=[q("limit", values=[1]), q("offset", values=[1])])
    assert [entry["event"] for entry in page["logs"]] == ["user.update"] and page["total"] == 3
    assert call("users.listLogs", userId="ada", total=False)["total"] == 0
    refused = error_of(call, "users.listLogs", userId="ada", queries=[q("equal", "event", ["user.update"])])
    assert refused.type == "general_query_invalid"


def insert_membership(connection, membership_id, team_id, user_id, roles, confirm):
    now = "2025-01-01T00:00:00.000+00:00"
    connection.execute(
        "INSERT INTO _memberships (id, team_id, user_id, roles, invited, joined, confirm, created, updated) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (membership_id, team_id, user_id, json.dumps(roles), now, now if confirm else "", int(confirm), now, now),
    )


def test_memberships(call, project, ada):
    now = "2025-01-01T00:00:00.000+00:00"
    with project.db.transaction() as connection:
        for team_id, name in (("eng", "Engineering"), ("ops", "Operations")):
            connection.execute(
                "INSERT INTO _teams (id, name, created, updated) VALUES (?, ?, ?, ?)", (team_id, name, now, now)
            )
        insert_membership(connection, "m1", "eng", "ada", ["owner"], True)
        insert_membership(connection, "m2", "ops", "ada", [], False)
    listed = call("users.listMemberships", userId="ada")
    MembershipList.model_validate(listed)
    assert listed["total"] == 2
    first = listed["memberships"][0]
    assert first["teamName"] == "Engineering" and first["userName"] == "Ada Lovelace"
    assert first["userEmail"] == "ada@example.com" and first["roles"] == ["owner"] and first["confirm"] is True
    assert ids(
        call("users.listMemberships", userId="ada", queries=[q("equal", "confirm", [False])]), "memberships"
    ) == ["m2"]
    assert ids(call("users.listMemberships", userId="ada", search="operations"), "memberships") == ["m2"]
    assert ids(
        call("users.listMemberships", userId="ada", queries=[q("contains", "roles", ["owner"])]), "memberships"
    ) == ["m1"]
    # The JWT's roles include the confirmed team only.
    roles = identities.jwt_auth(project, call("users.createJWT", userId="ada")["jwt"]).roles
    assert "team:eng" in roles and "team:eng/owner" in roles and "team:ops" not in roles


# --- targets -----------------------------------------------------------------------------------------


def test_targets(call, ada):
    push = call(
        "users.createTarget",
        userId="ada",
        targetId="phone1",
        providerType="push",
        identifier="fcm-token-1",
        name="Pixel",
        providerId="fcm",
    )
    Target.model_validate(push)
    assert push["providerType"] == "push" and push["name"] == "Pixel" and push["providerId"] == "fcm"
    email = call("users.createTarget", userId="ada", targetId="unique()", providerType="email", identifier="W@x.io")
    assert email["identifier"] == "w@x.io" and email["providerId"] is None
    assert call("users.getTarget", userId="ada", targetId="phone1") == push
    listed = call("users.listTargets", userId="ada")
    TargetList.model_validate(listed)
    assert listed["total"] == 4
    pushes = call("users.listTargets", userId="ada", queries=[q("equal", "providerType", ["push"])])
    assert ids(pushes, "targets") == ["phone1"]
    updated = call("users.updateTarget", userId="ada", targetId="phone1", identifier="fcm-token-2", name="Work")
    Target.model_validate(updated)
    assert updated["identifier"] == "fcm-token-2" and updated["name"] == "Work" and updated["providerId"] == "fcm"
    assert call("users.updateTarget", userId="ada", targetId="phone1")["identifier"] == "fcm-token-2"
    assert call("users.deleteTarget", userId="ada", targetId="phone1") is None
    missing = error_of(call, "users.getTarget", userId="ada", targetId="phone1")
    assert (missing.type, missing.code) == ("user_target_not_found", 404)
    assert events(call, "ada")[:4] == ["target.delete", "target.update", "target.update", "target.create"]


def test_target_errors(call, ada):
    call("users.create", userId="grace")
    call("users.createTarget", userId="grace", targetId="g1", providerType="push", identifier="tok")
    same_id = error_of(call, "users.createTarget", userId="ada", targetId="g1", providerType="push", identifier="x")
    assert (same_id.type, same_id.code) == ("user_target_already_exists", 409)
    same = error_of(call, "users.createTarget", userId="ada", targetId="a1", providerType="push", identifier="tok")
    assert same.type == "user_target_already_exists"
    target = {"userId": "ada", "targetId": "a1"}
    bad_email = error_of(call, "users.createTarget", **target, providerType="email", identifier="nope")
    assert bad_email.type == "general_invalid_email"
    bad_phone = error_of(call, "users.createTarget", **target, providerType="sms", identifier="555")
    assert bad_phone.type == "general_invalid_phone"
    blank = error_of(call, "users.createTarget", userId="ada", targetId="a1", providerType="push", identifier=" ")
    assert blank.type == "general_argument_invalid" and "identifier" in blank.message
    # Another user's target is not found under this user.
    assert error_of(call, "users.getTarget", userId="ada", targetId="g1").type == "user_target_not_found"
    assert error_of(call, "users.deleteTarget", userId="ada", targetId="g1").type == "user_target_not_found"
    call("users.createTarget", userId="ada", targetId="a1", providerType="push", identifier="mine")
    clash = error_of(call, "users.updateTarget", userId="ada", targetId="a1", identifier="tok")
    assert clash.type == "user_target_already_exists"
    sms = next(t for t in ada["targets"] if t["providerType"] == "sms")
    assert error_of(call, "users.updateTarget", userId="ada", targetId=sms["$id"], identifier="x").type == (
        "general_invalid_phone"
    )
    assert call("users.getTarget", userId="ada", targetId="a1")["identifier"] == "mine"


# --- deleting -------------------------------------------------------------------------------------------


def test_delete_cascades(call, project, ada):
    call("users.create", userId="grace")
    call("users.createSession", userId="ada")
    call("users.createSession", userId="grace")
    call("users.createToken", userId="ada")
    call("users.createTarget", userId="ada", targetId="t1", providerType="push", identifier="tok")
    now = "2025-01-01T00:00:00.000+00:00"
    with project.db.transaction() as connection:
        insert_identity(connection, "i1", "ada", "github", "1", "ada@github.test")
        connection.execute("INSERT INTO _teams (id, name, created, updated) VALUES ('eng', 'Eng', ?, ?)", (now, now))
        insert_membership(connection, "m1", "eng", "ada", [], True)
        insert_membership(connection, "m2", "eng", "grace", [], True)
        connection.execute(
            "INSERT INTO _challenges (id, user_id, factor, expire, created) VALUES ('c1', 'ada', 'totp', ?, ?)",
            (now, now),
        )
    assert call("users.delete", userId="ada") is None
    for table in ("_sessions", "_tokens", "_identities", "_targets", "_memberships", "_challenges"):
        assert count(project, table, "ada") == 0, table
    assert count(project, "_logs", "ada") > 0
    assert count(project, "_sessions", "grace") == 1 and count(project, "_memberships", "grace") == 1
    assert error_of(call, "users.get", userId="ada").type == "user_not_found"
    assert error_of(call, "users.delete", userId="ada").type == "user_not_found"
    # The id, email and phone are free again.
    again = call("users.create", userId="ada", email="ada@example.com", phone="+14155550100")
    assert len(again["targets"]) == 2


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("users.get", {}),
        ("users.updateName", {"name": "x"}),
        ("users.updatePassword", {"password": PASSWORD}),
        ("users.updateEmail", {"email": "x@example.com"}),
        ("users.updatePhone", {"number": "+14155550199"}),
        ("users.updateStatus", {"status": False}),
        ("users.updateLabels", {"labels": []}),
        ("users.getPrefs", {}),
        ("users.updatePrefs", {"prefs": {}}),
        ("users.updateEmailVerification", {"emailVerification": True}),
        ("users.updatePhoneVerification", {"phoneVerification": True}),
        ("users.listSessions", {}),
        ("users.createSession", {}),
        ("users.deleteSessions", {}),
        ("users.deleteSession", {"sessionId": "s"}),
        ("users.createJWT", {}),
        ("users.createToken", {}),
        ("users.listLogs", {}),
        ("users.listMemberships", {}),
        ("users.listTargets", {}),
        ("users.createTarget", {"targetId": "t", "providerType": "push", "identifier": "x"}),
        ("users.getTarget", {"targetId": "t"}),
        ("users.updateTarget", {"targetId": "t"}),
        ("users.deleteTarget", {"targetId": "t"}),
    ],
)
def test_unknown_user(call, operation, params):
    error = error_of(call, operation, userId="nobody", **params)
    assert (error.type, error.code) == ("user_not_found", 404)


# --- Appwrite 1.9: impersonators, target scopes ----------------------------------------------------


def test_update_impersonator_sets_the_flag(call, ada):
    assert ada["impersonator"] is False and ada["impersonatorUserId"] is None
    flagged = call("users.updateImpersonator", userId="ada", impersonator=True)
    User.model_validate(flagged)
    assert flagged["impersonator"] is True and flagged["$updatedAt"] >= ada["$updatedAt"]
    assert call("users.get", userId="ada")["impersonator"] is True
    assert [user["impersonator"] for user in call("users.list")["users"]] == [True]
    assert call("users.updateImpersonator", userId="ada", impersonator=False)["impersonator"] is False
    assert call("users.get", userId="ada")["impersonator"] is False


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"userId": "nobody", "impersonator": True}, "user_not_found"),
        ({"userId": "ada", "impersonator": "yes"}, "general_argument_invalid"),
        ({"userId": "ada"}, "general_argument_invalid"),
        ({"userId": "../ada", "impersonator": True}, "general_argument_invalid"),
    ],
)
def test_update_impersonator_refuses_bad_input(call, ada, params, expected):
    assert error_of(call, "users.updateImpersonator", **params).type == expected
    assert call("users.get", userId="ada")["impersonator"] is False


def test_an_impersonator_acts_as_another_user(engine, call, ada):
    call("users.create", userId="bob", email="bob@example.com", phone="+14155550101", name="Bob")
    secret = call("users.createSession", userId="ada")["secret"]
    # Not flagged yet: the request stays Ada's, and the users service stays closed to her.
    plain = engine.identify("default", session=secret, impersonate={"id": "bob"})
    assert plain.user_id == "ada"
    assert error_of(call, "users.list", auth=plain).type == "general_unauthorized_scope"
    call("users.updateImpersonator", userId="ada", impersonator=True)
    own = engine.identify("default", session=secret)
    assert call("users.list", auth=own)["total"] == 2  # impersonators may look users up
    assert call("account.get", auth=own)["impersonatorUserId"] is None
    for target in ({"id": "bob"}, {"email": "BOB@example.com"}, {"phone": "+14155550101"}):
        acting = engine.identify("default", session=secret, impersonate=target)
        me = call("account.get", auth=acting)
        assert (me["$id"], me["name"], me["impersonatorUserId"]) == ("bob", "Bob", "ada")
        assert acting.session_id is None and "user:bob" in acting.roles and "user:ada" not in acting.roles
    # Someone unknown: the request stays the impersonator's own, as in Appwrite.
    for target in ({"id": "nobody"}, {"email": "nobody@example.com"}, {"phone": "+10000000000"}, {"id": ""}):
        assert engine.identify("default", session=secret, impersonate=target).user_id == "ada"
    # Only flagged users impersonate: Bob cannot act as Ada.
    bob_secret = call("users.createSession", userId="bob")["secret"]
    assert engine.identify("default", session=bob_secret, impersonate={"id": "ada"}).user_id == "bob"


def test_target_routes_need_users_scopes(call, ada):
    """Appwrite 1.9 moved the users service's target routes from targets.* to users.*; keys may still hold
    targets.* (the messaging service's scopes)."""
    targets_only = key_auth(frozenset({"targets.read", "targets.write"}))
    users_scopes = key_auth(frozenset({"users.read", "users.write"}))
    denied = error_of(call, "users.listTargets", auth=targets_only, userId="ada")
    assert denied.type == "general_unauthorized_scope" and "users.read" in denied.message
    assert (
        error_of(
            call,
            "users.createTarget",
            auth=targets_only,
            userId="ada",
            targetId="t1",
            providerType="email",
            identifier="ada@example.com",
        ).type
        == "general_unauthorized_scope"
    )
    assert call("users.listTargets", auth=users_scopes, userId="ada")["total"] >= 1
    created = call(
        "users.createTarget",
        auth=users_scopes,
        userId="ada",
        targetId="t1",
        providerType="email",
        identifier="ada2@example.com",
    )
    assert created["$id"] == "t1"


def test_logs_say_who_acted(engine, call, ada):
    """Appwrite 1.9's userType: the user themselves, or the administration (keys, the local administrator)."""
    call("users.updateName", userId="ada", name="Ada L.")
    secret = call("users.createSession", userId="ada")["secret"]
    call("account.updateName", engine.identify("default", session=secret), name="Ada")
    logs = [(log["event"], log["mode"], log["userType"]) for log in call("users.listLogs", userId="ada")["logs"]]
    assert logs[:2] == [("user.update", "user", "user"), ("session.create", "admin", "admin")]
    assert ("user.update", "admin", "admin") in logs


def test_users_service_shows_the_hash_and_its_options_the_account_service_does_not(call, project):
    """As Appwrite's User model: an API key reads `password`, `hash` and `hashOptions`, enough to import the user
    elsewhere with the same password (baas-mcp migrate relies on it); the user's own account never shows them."""
    options = IMPORTS["scrypt"][1]()
    call("users.createScryptUser", userId="s", email="s@example.com", **options)
    user = call("users.get", userId="s")
    assert user["password"] == options["password"] and user["hash"] == "scrypt"
    assert user["hashOptions"] == {
        "type": "scrypt",
        "salt": "pepper",
        "costCpu": 16,
        "costMemory": 8,
        "costParallel": 1,
        "length": 32,
    }
    assert call("users.list")["users"][0]["password"] == options["password"]
    created = call("users.create", userId="ada", email="ada@example.com", password=PASSWORD)
    assert created["password"].startswith("$argon2id$") and created["hashOptions"]["type"] == "argon2"


def test_a_users_password_hash_reaches_webhooks_but_not_realtime_or_the_event_log(call, engine):
    """The hash the users service shows an API key travels in user events as Appwrite's User model, but only to
    webhooks and functions: marked sensitive, emptied for realtime and `baas-mcp events`, sealed at rest."""
    call("users.create", userId="ada", email="ada@example.com", password=PASSWORD)
    call("users.updateName", userId="ada", name="Ada")
    with engine.project().db.reading() as connection:
        found = read_after(connection, 0, 100, engine.project().cipher)
        raw = "".join(row[0] for row in connection.execute("SELECT body FROM _events"))
    events = [event for event in found if event.name.startswith("users.ada.")]
    assert {event.name for event in events} == {"users.ada.create", "users.ada.update"}
    for event in events:
        assert event.payload["password"].startswith("$argon2id$") and event.payload["hashOptions"]["type"] == "argon2"
        assert event.public_payload["password"] == "" and event.public_payload["hashOptions"] == ""
        assert event.payload["password"] not in raw
