"""The project record: Appwrite's Project model, labels, switches honoured for guests and users, mock phones,
variables, and deleting the project."""

from __future__ import annotations

import sqlite3

import pytest

from mcp_server.engine import Engine, keys
from mcp_server.engine.errors import AppwriteError
from mcp_server.engine.permissions import GUEST, key_auth
from mcp_server.engine.projectdb import ProjectDB, project_path

# Appwrite's Project model (appwrite 20.1.0 models/project.py), field for field.
PROJECT_FIELDS = set(
    """$id $createdAt $updatedAt name teamId region devKeys smtpEnabled smtpSenderName smtpSenderEmail
    smtpReplyToName smtpReplyToEmail smtpHost smtpPort smtpUsername smtpPassword smtpSecure pingCount pingedAt labels
    status authMethods services protocols blocks consoleAccessedAt billingLimits oAuth2ServerEnabled
    oAuth2ServerAuthorizationUrl oAuth2ServerScopes oAuth2ServerAccessTokenDuration oAuth2ServerRefreshTokenDuration
    oAuth2ServerPublicAccessTokenDuration oAuth2ServerPublicRefreshTokenDuration oAuth2ServerConfidentialPkce
    oAuth2ServerDiscoveryUrl""".split()
)
SERVICE_IDS = (
    "account avatars databases tablesdb locale health project storage teams users vcs sites functions proxy graphql "
    "migrations messaging advisor"
).split()
KEY = key_auth(frozenset({"locale.read", "sessions.write", "users.read"}))


def error_of(call, operation: str, auth=None, **params) -> AppwriteError:
    with pytest.raises(AppwriteError) as caught:
        call(operation, auth, **params) if auth is not None else call(operation, **params)
    return caught.value


def test_get_answers_appwrite_s_project_model(call):
    project = call("project.get")
    assert set(project) == PROJECT_FIELDS
    assert (project["$id"], project["name"], project["status"], project["region"]) == (
        "default",
        "default",
        "active",
        "default",
    )
    assert [service["$id"] for service in project["services"]] == SERVICE_IDS
    assert [method["$id"] for method in project["authMethods"]] == [
        "email-password",
        "magic-url",
        "email-otp",
        "anonymous",
        "invites",
        "jwt",
        "phone",
    ]
    assert [protocol["$id"] for protocol in project["protocols"]] == ["rest", "graphql", "websocket"]
    assert all(item["enabled"] for item in project["services"] + project["authMethods"] + project["protocols"])


def test_labels_replace_the_old_ones_once_each(call):
    project = call("project.updateLabels", labels=["beta", "EU1", "beta"])
    assert project["labels"] == ["beta", "EU1"]
    assert project["$updatedAt"] >= project["$createdAt"]
    assert call("project.get")["labels"] == ["beta", "EU1"]
    assert call("project.updateLabels", labels=[])["labels"] == []


@pytest.mark.parametrize("labels", [["has space"], ["dash-ed"], [""], ["x" * 37]])
def test_bad_labels_are_refused(call, labels):
    call("project.updateLabels", labels=["kept"])
    assert error_of(call, "project.updateLabels", labels=labels).code == 400
    assert call("project.get")["labels"] == ["kept"]


def test_a_service_switched_off_refuses_guests_and_users_but_not_keys(call):
    assert call("locale.get", GUEST)
    project = call("project.updateService", serviceId="locale", enabled=False)
    assert {service["$id"]: service["enabled"] for service in project["services"]}["locale"] is False
    error = error_of(call, "locale.get", GUEST)
    assert (error.type, error.code) == ("general_service_disabled", 403)
    assert call("locale.get", KEY)
    assert call("locale.get")
    call("project.updateService", serviceId="locale", enabled=True)
    assert call("locale.get", GUEST)


def test_a_sign_in_method_switched_off_refuses_it(call):
    call("project.updateAuthMethod", methodId="anonymous", enabled=False)
    error = error_of(call, "account.createAnonymousSession", GUEST)
    assert (error.type, error.code) == ("user_auth_method_unsupported", 501)
    assert error.message == "Anonymous authentication is disabled for this project"
    call("project.updateAuthMethod", methodId="email-password", enabled=False)
    signup = {"userId": "ann", "email": "ann@example.com", "password": "a long passphrase"}
    assert error_of(call, "account.create", GUEST, **signup).type == "user_auth_method_unsupported"
    project = call("project.get")
    assert {m["$id"]: m["enabled"] for m in project["authMethods"]} == {
        "email-password": False,
        "magic-url": True,
        "email-otp": True,
        "anonymous": False,
        "invites": True,
        "jwt": True,
        "phone": True,
    }
    call("project.updateAuthMethod", methodId="anonymous", enabled=True)
    assert call("account.createAnonymousSession", GUEST)["provider"] == "anonymous"


@pytest.mark.parametrize(
    ("operation", "param"),
    [
        ("project.updateAuthMethod", "methodId"),
        ("project.updateService", "serviceId"),
        ("project.updateProtocol", "protocolId"),
    ],
)
def test_unknown_switches_are_refused(call, operation, param):
    error = error_of(call, operation, **{param: "x" * 5000, "enabled": False})
    assert error.code == 400 and param in error.message and len(error.message) < 600
    assert error_of(call, operation, **{param: "console", "enabled": False}).code == 400


def test_protocols_are_stored(call):
    project = call("project.updateProtocol", protocolId="graphql", enabled=False)
    assert {p["$id"]: p["enabled"] for p in project["protocols"]} == {"rest": True, "graphql": False, "websocket": True}


# --- mock phones -------------------------------------------------------------------------------------------


def test_mock_phones_are_created_read_updated_listed_and_deleted(call):
    made = call("project.createMockPhone", number="+15555550123", otp="123456")
    assert set(made) == {"number", "otp", "$createdAt", "$updatedAt"}
    assert call("project.getMockPhone", number="+15555550123") == made
    changed = call("project.updateMockPhone", number="+15555550123", otp="654321")
    assert changed["otp"] == "654321"
    call("project.createMockPhone", number="+4915555550", otp="000000")
    listed = call("project.listMockPhones", queries=['{"method":"limit","values":[1]}'])
    assert listed["total"] == 2 and [m["number"] for m in listed["mockNumbers"]] == ["+15555550123"]
    skipped = call("project.listMockPhones", queries=['{"method":"offset","values":[1]}'])
    assert [m["number"] for m in skipped["mockNumbers"]] == ["+4915555550"]
    query = '{"method":"equal","attribute":"otp","values":["000000"]}'
    assert error_of(call, "project.listMockPhones", queries=[query]).type == "general_query_invalid"
    error = error_of(call, "project.createMockPhone", number="+15555550123", otp="111111")
    assert (error.type, error.code) == ("mock_number_already_exists", 409)
    call("project.deleteMockPhone", number="+15555550123")
    assert error_of(call, "project.getMockPhone", number="+15555550123").type == "mock_number_not_found"


@pytest.mark.parametrize(
    "params",
    [
        {"number": "15555550123"},
        {"number": "+0123"},
        {"otp": "12345"},
        {"otp": "12345a"},
        {"otp": "\uff11\uff12\uff13\uff14\uff15\uff16"},
    ],
)
def test_bad_mock_phones_are_refused(call, params):
    base = {"number": "+15555550123", "otp": "123456"}
    assert error_of(call, "project.createMockPhone", **(base | params)).code == 400
    assert call("project.listMockPhones")["total"] == 0


def test_a_mock_number_signs_in_with_its_code_and_sends_no_sms(call, engine):
    call("project.createMockPhone", number="+15555550123", otp="424242")
    token = call("account.createPhoneToken", GUEST, userId="unique()", phone="+15555550123")
    session = call("account.updatePhoneSession", GUEST, userId=token["userId"], secret="424242")
    assert session["userId"] == token["userId"]
    outbox = engine.data_dir / "default" / "outbox"
    assert not outbox.exists() or not any(outbox.rglob("*"))
    # A real number still gets a random code by SMS.
    call("account.createPhoneToken", GUEST, userId="unique()", phone="+15555550999")
    assert any(outbox.rglob("*"))


# --- variables ---------------------------------------------------------------------------------------------


def test_variables_keep_secrets_out_of_reads(call, engine):
    plain = call("project.createVariable", variableId="url", key="API_URL", value="https://api.example", secret=False)
    assert set(plain) == {"$id", "$createdAt", "$updatedAt", "key", "value", "secret", "resourceType", "resourceId"}
    assert (plain["value"], plain["secret"], plain["resourceType"]) == ("https://api.example", False, "project")
    hidden = call("project.createVariable", variableId="token", key="TOKEN", value="s3cr3t-value")
    assert (hidden["value"], hidden["secret"]) == ("", True)
    assert call("project.getVariable", variableId="token")["value"] == ""
    assert {v["key"]: v["value"] for v in call("project.listVariables")["variables"]} == {
        "API_URL": "https://api.example",
        "TOKEN": "",
    }
    raw = project_path(engine.data_dir, "default").read_bytes()
    assert b"s3cr3t-value" not in raw and b"api.example" not in raw
    error = error_of(call, "project.updateVariable", variableId="token", secret=False)
    assert (error.type, error.code) == ("variable_cannot_unset_secret", 400)
    changed = call("project.updateVariable", variableId="url", value="https://v2.example", secret=True)
    assert (changed["value"], changed["secret"]) == ("", True)
    assert error_of(call, "project.updateVariable", variableId="url").code == 400
    call("project.deleteVariable", variableId="url")
    assert error_of(call, "project.getVariable", variableId="url").type == "variable_not_found"


def test_variable_ids_and_keys_are_unique(call):
    call("project.createVariable", variableId="a", key="A", value="1")
    assert (
        error_of(call, "project.createVariable", variableId="a", key="B", value="1").type == "variable_already_exists"
    )
    assert (
        error_of(call, "project.createVariable", variableId="b", key="A", value="1").type == "variable_already_exists"
    )
    call("project.createVariable", variableId="b", key="B", value="")
    assert error_of(call, "project.updateVariable", variableId="b", key="A").type == "variable_already_exists"
    assert error_of(call, "project.createVariable", variableId="c", key="", value="1").code == 400
    assert error_of(call, "project.createVariable", variableId="c", key="C", value="v" * 8193).code == 400


# --- deleting the project -----------------------------------------------------------------------------------


def test_deleting_a_project_removes_all_of_it(call, engine):
    engine.call("users.create", {"userId": "ann", "email": "ann@example.com"}, project="shop")
    engine.call("project.createKey", {"keyId": "k", "name": "k", "scopes": ["rows.read"]}, project="shop")
    folder = engine.data_dir / "shop"
    assert folder.exists()
    listened: list[str] = []
    engine.deleted_listeners.append(listened.append)
    assert engine.call("project.delete", {}, project="shop") is None
    assert listened == ["shop"]
    assert not folder.exists()
    assert [path.name for path in engine.data_dir.iterdir() if path.name.startswith(".deleted")] == []
    # The default project is untouched; the deleted one starts empty if used again.
    assert call("project.get")["$id"] == "default"
    assert engine.call("users.list", {}, project="shop")["total"] == 0
    assert engine.call("project.listKeys", {}, project="shop")["total"] == 0


def test_a_deletion_left_unfinished_is_finished_when_the_project_is_opened(engine, tmp_path):
    engine.call("users.create", {"userId": "ann", "email": "ann@example.com"}, project="half")
    path = project_path(engine.data_dir, "half")
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("INSERT INTO _meta (key, value) VALUES ('project.deleted', 'x')")
    connection.close()
    other = Engine(engine.data_dir)
    try:
        assert other.call("users.list", {}, project="half")["total"] == 0
    finally:
        other.close()


def test_keys_of_a_deleted_project_stop_working(engine):
    key = engine.call("project.createKey", {"keyId": "k", "name": "k", "scopes": ["rows.read"]}, project="gone")
    engine.call("project.delete", {}, project="gone")
    engine.project("gone")
    database = ProjectDB(project_path(engine.data_dir, "gone"))
    try:
        with pytest.raises(AppwriteError):
            keys.authenticate(database, key["secret"])
    finally:
        database.close()


def test_a_project_deleted_by_another_process_is_not_used_again(engine):
    engine.call("users.create", {"userId": "ann", "email": "ann@example.com"}, project="shared")
    other = Engine(engine.data_dir)
    try:
        other.call("project.delete", {}, project="shared")
    finally:
        other.close()
    assert engine.call("users.list", {}, project="shared")["total"] == 0
