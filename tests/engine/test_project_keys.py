"""The project's API keys through project.*Key: Appwrite's Key model, one store with `baas-mcp keys`, ephemeral keys."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime, timedelta

import pytest

from mcp_server.engine import keys
from mcp_server.engine.errors import AppwriteError
from mcp_server.engine.projectdb import ProjectDB, project_path

# Appwrite's Key and EphemeralKey models (appwrite 20.1.0 models/key.py, ephemeral_key.py), field for field.
KEY_FIELDS = {"$id", "$createdAt", "$updatedAt", "name", "expire", "scopes", "secret", "accessedAt", "sdks"}


def error_of(call, operation: str, **params) -> AppwriteError:
    with pytest.raises(AppwriteError) as caught:
        call(operation, **params)
    return caught.value


@pytest.fixture
def store(engine):
    """The project's key store as `baas-mcp keys` opens it: a database connection of its own."""
    engine.project("default")
    database = ProjectDB(project_path(engine.data_dir, "default"))
    yield database
    database.close()


def events_text(engine) -> str:
    connection = sqlite3.connect(project_path(engine.data_dir, "default"))
    try:
        return json.dumps([list(row) for row in connection.execute("SELECT label, body FROM _events")])
    finally:
        connection.close()


def test_create_answers_the_key_with_its_secret_once(call, engine):
    key = call("project.createKey", keyId="ci", name="CI", scopes=["rows.read", "rows.write"])
    assert set(key) == KEY_FIELDS
    assert key["$id"] == "ci"
    assert key["name"] == "CI"
    assert key["scopes"] == ["rows.read", "rows.write"]
    assert key["expire"] == "" and key["accessedAt"] == "" and key["sdks"] == []
    assert key["secret"].startswith("standard_ci_")
    fetched = call("project.getKey", keyId="ci")
    listed = call("project.listKeys")
    assert fetched["secret"] == "" and listed["keys"][0]["secret"] == ""
    assert {**fetched, "secret": key["secret"]} == key
    assert listed["total"] == 1
    # The secret is written nowhere: not in the key table, not in the event stream.
    assert key["secret"] not in events_text(engine)
    assert key["secret"].rsplit("_", 1)[1] not in events_text(engine)


def test_a_key_made_here_is_the_cli_s_key_and_works(call, store):
    key = call("project.createKey", keyId="unique()", name="app", scopes=["users.read"])
    [listed] = keys.list_all(store)
    assert listed["$id"] == key["$id"] and listed["scopes"] == ["users.read"]
    used = keys.authenticate(store, key["secret"])
    assert used["$id"] == key["$id"]
    assert call("project.getKey", keyId=key["$id"])["accessedAt"] == used["accessedAt"] != ""


def test_a_key_made_by_the_cli_is_seen_changed_and_deleted_here(call, store):
    made, secret = keys.create(store, "deploy", ["rows.read"], 30)
    fetched = call("project.getKey", keyId=made["$id"])
    assert fetched["name"] == "deploy" and fetched["expire"] == made["expire"]
    call("project.updateKey", keyId=made["$id"], name="deploy 2", scopes=["rows.read", "files.read"])
    [listed] = keys.list_all(store)
    assert listed["name"] == "deploy 2"
    assert listed["scopes"] == ["files.read", "rows.read"]
    # updateKey without expire removes it, as in Appwrite.
    assert listed["expire"] == ""
    assert keys.authenticate(store, secret)["scopes"] == ["files.read", "rows.read"]
    call("project.deleteKey", keyId=made["$id"])
    assert keys.list_all(store) == []
    with pytest.raises(AppwriteError) as caught:
        keys.authenticate(store, secret)
    assert caught.value.type == "user_unauthorized"


def test_a_key_revoked_by_the_cli_is_gone_here(call, store):
    key = call("project.createKey", keyId="gone", name="x", scopes=["rows.read"])
    keys.revoke(store, key["$id"])
    assert error_of(call, "project.getKey", keyId="gone").type == "key_not_found"
    assert error_of(call, "project.deleteKey", keyId="gone").type == "key_not_found"


def test_custom_ids_with_underscores_work_as_secrets(call, store):
    key = call("project.createKey", keyId="my_key_v2-x", name="x", scopes=["rows.read"])
    assert keys.authenticate(store, key["secret"])["$id"] == "my_key_v2-x"


def test_a_key_may_have_no_scopes_as_in_appwrite(call):
    assert call("project.createKey", keyId="bare", name="bare", scopes=[])["scopes"] == []


def test_an_expiry_is_kept_in_appwrite_s_form(call):
    key = call("project.createKey", keyId="k", name="k", scopes=["rows.read"], expire="2099-01-02T03:04:05Z")
    assert key["expire"] == "2099-01-02T03:04:05.000+00:00"
    updated = call("project.updateKey", keyId="k", name="k", scopes=["rows.read"], expire="2098-01-01T00:00:00.000Z")
    assert updated["expire"] == "2098-01-01T00:00:00.000+00:00"


def test_an_expiry_in_the_past_makes_a_key_that_is_refused(call, store):
    key = call("project.createKey", keyId="old", name="old", scopes=["rows.read"], expire="2001-01-01T00:00:00Z")
    with pytest.raises(AppwriteError) as caught:
        keys.authenticate(store, key["secret"])
    assert caught.value.type == "api_key_expired"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"scopes": ["rows.read", "everything.admin"]}, "scopes"),
        ({"scopes": ["x" * 10_000]}, "scopes"),
        ({"scopes": ["rows.read"] * 101}, "scopes"),
        ({"name": ""}, "name"),
        ({"name": "n" * 129}, "name"),
        ({"expire": "tomorrow"}, "expire"),
        ({"expire": "2024-13-45T00:00:00Z"}, "expire"),
        ({"keyId": "-bad"}, "keyId"),
        ({"keyId": "k" * 37}, "keyId"),
        ({"keyId": "a/b"}, "keyId"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_stores_nothing(call, store, params, field):
    base = {"keyId": "unique()", "name": "k", "scopes": ["rows.read"]}
    error = error_of(call, "project.createKey", **(base | params))
    assert error.code == 400
    assert field in error.message
    assert len(error.message) < 500
    assert keys.list_all(store) == []


def test_a_taken_id_is_refused(call):
    call("project.createKey", keyId="same", name="a", scopes=["rows.read"])
    error = error_of(call, "project.createKey", keyId="same", name="b", scopes=["rows.read"])
    assert (error.type, error.code) == ("key_already_exists", 409)
    assert call("project.getKey", keyId="same")["name"] == "a"


def test_updating_an_unknown_key_says_so(call):
    assert error_of(call, "project.updateKey", keyId="nope", name="x", scopes=[]).type == "key_not_found"


def test_list_filters_and_pages(call):
    for name in ("alpha", "beta", "gamma"):
        call("project.createKey", keyId=name, name=name, scopes=["rows.read"])
    found = call("project.listKeys", queries=['{"method":"equal","attribute":"name","values":["beta"]}'])
    assert [key["$id"] for key in found["keys"]] == ["beta"]
    page = call("project.listKeys", queries=['{"method":"limit","values":[2]}'], total=False)
    assert len(page["keys"]) == 2 and page["total"] == 0
    error = error_of(call, "project.listKeys", queries=['{"method":"equal","attribute":"secret","values":["x"]}'])
    assert error.type == "general_query_invalid"


# --- ephemeral keys ---------------------------------------------------------------------------------------


def test_an_ephemeral_key_works_until_it_expires_and_is_never_stored(call, store, engine):
    before = datetime.now(UTC)
    key = call("project.createEphemeralKey", scopes=["rows.read", "users.read"], duration=600)
    assert set(key) == KEY_FIELDS
    assert key["secret"].startswith("ephemeral_")
    assert key["name"] == ""
    expire = datetime.fromisoformat(key["expire"])
    assert before + timedelta(seconds=599) <= expire <= datetime.now(UTC) + timedelta(seconds=601)
    found = keys.KeyStore(store).check(key["secret"])[0]
    assert found["scopes"] == ["rows.read", "users.read"]
    assert call("project.listKeys")["total"] == 0
    assert key["secret"] not in events_text(engine)


def test_an_ephemeral_key_expires(call, store):
    key = call("project.createEphemeralKey", scopes=["rows.read"], duration=1)
    time.sleep(2.1)
    with pytest.raises(AppwriteError) as caught:
        keys.KeyStore(store).check(key["secret"])
    assert caught.value.type == "api_key_expired"


def test_an_altered_ephemeral_key_is_refused(call, store):
    secret = call("project.createEphemeralKey", scopes=["rows.read"], duration=60)["secret"]
    header, claims, signature = secret.removeprefix("ephemeral_").split(".")
    forged = ".".join((header, claims, signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")))
    for bad in ("ephemeral_" + forged, "ephemeral_", "ephemeral_x.y.z", secret + "x"):
        with pytest.raises(AppwriteError) as caught:
            keys.KeyStore(store).check(bad)
        assert caught.value.type == "user_unauthorized"


def test_an_ephemeral_key_of_another_project_is_refused(engine, store):
    secret = engine.call("project.createEphemeralKey", {"scopes": ["rows.read"], "duration": 60}, project="other")[
        "secret"
    ]
    with pytest.raises(AppwriteError) as caught:
        keys.KeyStore(store).check(secret)
    assert caught.value.type == "user_unauthorized"


@pytest.mark.parametrize(
    "params",
    [
        {"scopes": ["rows.read"], "duration": 0},
        {"scopes": ["rows.read"], "duration": 3601},
        {"scopes": ["root"], "duration": 60},
    ],
)
def test_ephemeral_keys_take_appwrite_s_limits(call, params):
    assert error_of(call, "project.createEphemeralKey", **params).code == 400
