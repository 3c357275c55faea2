"""The presences service as Appwrite 1.9.6 runs it: one presence per user, who may name the user, permissions
deciding who sees and changes a presence, expiry, list queries and kept lists (`ttl`, `purge`), the events of
each change with their readers, and the presence a realtime connection writes and leaves behind."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from mcp_server.engine.datetimes import format_datetime, parse_datetime
from mcp_server.engine.permissions import GUEST
from mcp_server.engine.realtime_channels import channels_of
from tests.engine.conftest import error_of, q

OWNED_BY_ADA = ['delete("user:ada")', 'read("user:ada")', 'update("user:ada")']


@pytest.fixture
def people(call):
    for user_id in ("ada", "bob", "eve"):
        call("users.create", userId=user_id)


def ahead(**delta) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(**delta))


def seconds_ahead(value: str) -> float:
    return (parse_datetime(value) - datetime.now(UTC)).total_seconds()


def test_a_key_writes_a_user_s_presence_which_only_that_user_may_read_by_default(engine, call, people):
    presence = call("presences.upsert", presenceId="p1", userId="ada", status="online", metadata={"page": "/home"})
    assert presence["$id"] == "p1" and presence["userId"] == "ada" and presence["status"] == "online"
    assert presence["source"] == "rest" and presence["metadata"] == {"page": "/home"}
    assert presence["$permissions"] == OWNED_BY_ADA
    assert 14 * 60 < seconds_ahead(presence["expiresAt"]) <= 15 * 60
    assert set(presence) == {
        "$id", "$createdAt", "$updatedAt", "$permissions", "userId", "status", "source", "expiresAt", "metadata"
    }  # fmt: skip
    assert call("presences.get", presenceId="p1") == presence
    assert call("presences.get", engine.user_auth("default", "ada"), presenceId="p1") == presence
    assert error_of(call, "presences.get", engine.user_auth("default", "bob"), presenceId="p1").type == (
        "presence_not_found"
    )
    assert call("presences.list", engine.user_auth("default", "bob")) == {"total": 0, "presences": []}


def test_a_user_has_one_presence_which_keeps_its_id_when_written_again(call, people):
    first = call("presences.upsert", presenceId="p1", userId="ada", status="online", metadata={"n": 1})
    second = call("presences.upsert", presenceId="other", userId="ada", status="away")
    assert second["$id"] == "p1" and second["status"] == "away" and second["metadata"] == {}
    assert second["$createdAt"] == first["$createdAt"]
    listed = call("presences.list", queries=[q("equal", "userId", ["ada"])])
    assert listed["total"] == 1 and listed["presences"][0]["status"] == "away"
    assert error_of(call, "presences.get", presenceId="other").type == "presence_not_found"


def test_another_user_s_presence_id_is_taken(call, people):
    call("presences.upsert", presenceId="shared", userId="ada", status="online", metadata={"owner": "ada"})
    refused = error_of(call, "presences.upsert", presenceId="shared", userId="bob", status="online")
    assert (refused.type, refused.code) == ("presence_already_exists", 409)
    kept = call("presences.get", presenceId="shared")
    assert kept["userId"] == "ada" and kept["metadata"] == {"owner": "ada"}


def test_only_a_key_names_the_user_and_the_user_must_exist(engine, call, people):
    ada = engine.user_auth("default", "ada")
    for operation in ("presences.upsert", "presences.update"):
        refused = error_of(call, operation, ada, presenceId="p1", userId="ada", status="online")
        assert (refused.type, refused.code) == ("general_unauthorized_scope", 401)
    missing = error_of(call, "presences.upsert", presenceId="p1", userId="nobody", status="online")
    assert (missing.type, missing.code) == ("user_not_found", 404)
    assert error_of(call, "presences.list", GUEST).type == "general_unauthorized_scope"


def test_permissions_decide_who_reads_changes_and_deletes_a_presence(engine, call, people):
    ada, bob, eve = (engine.user_auth("default", user) for user in ("ada", "bob", "eve"))
    call(
        "presences.upsert",
        presenceId="p1",
        userId="ada",
        status="online",
        permissions=['read("users")', 'write("user:bob")'],
    )
    assert call("presences.get", eve, presenceId="p1")["status"] == "online"
    assert [p["$id"] for p in call("presences.list", eve)["presences"]] == ["p1"]
    # Eve may read it but not delete it; Bob may.
    refused = error_of(call, "presences.delete", eve, presenceId="p1")
    assert (refused.type, refused.code) == ("user_unauthorized", 401)
    # The catalog's update is the server SDK's, which names the user: only a key may.
    refused = error_of(call, "presences.update", bob, presenceId="p1", userId="ada", status="busy")
    assert refused.type == "general_unauthorized_scope"
    assert call("presences.update", presenceId="p1", userId="ada", status="busy")["status"] == "busy"
    call("presences.upsert", presenceId="p2", userId="bob", status="online")
    assert error_of(call, "presences.get", ada, presenceId="p2").type == "presence_not_found"
    assert error_of(call, "presences.delete", ada, presenceId="p2").type == "presence_not_found"
    call("presences.delete", bob, presenceId="p1")
    assert error_of(call, "presences.get", presenceId="p1").type == "presence_not_found"
    call("presences.delete", bob, presenceId="p2")
    assert call("presences.list") == {"total": 0, "presences": []}


def test_a_presence_lapses_at_its_expiry_and_the_next_write_removes_it(engine, call, people):
    call("presences.upsert", presenceId="p1", userId="ada", status="online", expiresAt=ahead(seconds=1))
    call("presences.upsert", presenceId="p2", userId="bob", status="online", expiresAt=ahead(days=29))
    time.sleep(1.2)
    assert error_of(call, "presences.get", presenceId="p1").type == "presence_not_found"
    assert error_of(call, "presences.update", presenceId="p1", userId="ada", status="x").type == "presence_not_found"
    assert [p["$id"] for p in call("presences.list")["presences"]] == ["p2"]
    # A lapsed presence is gone: the user's next presence is a new one, and the lapsed one left the database.
    assert call("presences.upsert", presenceId="p3", userId="ada", status="back")["$id"] == "p3"
    rows = engine.project().connection.execute("SELECT id FROM _presences ORDER BY id").fetchall()
    assert [row["id"] for row in rows] == ["p2", "p3"]


@pytest.mark.parametrize("moment", [ahead(seconds=-5), ahead(days=31), "tomorrow", "2020-01-01T00:00:00Z"])
def test_an_expiry_in_the_past_or_beyond_30_days_is_refused(call, people, moment):
    refused = error_of(call, "presences.upsert", presenceId="p1", userId="ada", status="on", expiresAt=moment)
    assert refused.type == "general_argument_invalid" and "expiresAt" in refused.message
    call("presences.upsert", presenceId="p1", userId="ada", status="on")
    refused = error_of(call, "presences.update", presenceId="p1", userId="ada", expiresAt=moment)
    assert refused.type == "general_argument_invalid"


def test_metadata_is_a_bounded_json_object(call, people):
    huge = {"blob": "x" * 70_000}
    refused = error_of(call, "presences.upsert", presenceId="p1", userId="ada", status="on", metadata=huge)
    assert (refused.type, refused.code) == ("document_invalid_structure", 400)
    assert error_of(call, "presences.upsert", presenceId="p1", userId="ada", status="on", metadata=[1]).type == (
        "general_argument_invalid"
    )
    assert error_of(call, "presences.upsert", presenceId="p1", userId="ada", status="x" * 256).type == (
        "general_argument_invalid"
    )
    assert call("presences.list")["total"] == 0


def test_list_filters_orders_and_pages_on_appwrite_s_attributes(call, people):
    for user, status in (("ada", "online"), ("bob", "away"), ("eve", "online")):
        call("presences.upsert", presenceId=f"p-{user}", userId=user, status=status, permissions=['read("any")'])
    online = call("presences.list", queries=[q("equal", "status", ["online"]), q("orderDesc", "userId")])
    assert [p["userId"] for p in online["presences"]] == ["eve", "ada"] and online["total"] == 2
    page = call("presences.list", queries=[q("limit", None, [1]), q("cursorAfter", None, ["p-ada"])], total=False)
    assert [p["$id"] for p in page["presences"]] == ["p-bob"] and page["total"] == 0
    assert call("presences.list", queries=[q("equal", "source", ["realtime"])])["total"] == 0
    assert error_of(call, "presences.list", queries=[q("equal", "metadata", ["x"])]).type == "general_query_invalid"
    assert error_of(call, "presences.list", queries=[q("cursorAfter", None, ["nope"])]).type == (
        "general_cursor_not_found"
    )


def test_a_kept_list_stays_for_its_ttl_until_a_delete_or_a_purge(engine, call, people):
    ada = engine.user_auth("default", "ada")
    call("presences.upsert", presenceId="p1", userId="ada", status="online")
    kept = call("presences.list", ada, ttl=60)
    call("presences.upsert", presenceId="p1", userId="ada", status="away")
    # Writes do not refresh a kept answer (Appwrite serves it stale for its ttl); without ttl the list is fresh.
    assert call("presences.list", ada, ttl=60) == kept
    assert call("presences.list", ada)["presences"][0]["status"] == "away"
    # Another caller's roles, or other queries, are another answer.
    assert call("presences.list", ttl=60)["presences"][0]["status"] == "away"
    assert call("presences.update", presenceId="p1", userId="ada", purge=True) == call("presences.get", presenceId="p1")
    assert call("presences.list", ada, ttl=60)["presences"][0]["status"] == "away"
    call("presences.update", presenceId="p1", userId="ada", status="busy")
    assert call("presences.list", ada, ttl=60)["presences"][0]["status"] == "away"
    call("presences.upsert", presenceId="p2", userId="bob", status="online")
    call("presences.delete", presenceId="p2")
    assert call("presences.list", ada, ttl=60)["presences"][0]["status"] == "busy"


def test_update_changes_only_what_it_is_given_and_moving_a_presence_gives_it_to_its_new_user(engine, call, people):
    call("presences.upsert", presenceId="p1", userId="ada", status="away", metadata={"source": "setup"})
    changed = call("presences.update", presenceId="p1", userId="ada", metadata={"source": "update"})
    assert changed["status"] == "away" and changed["metadata"] == {"source": "update"}
    assert changed["$permissions"] == OWNED_BY_ADA
    moved = call("presences.update", presenceId="p1", userId="bob", status="busy")
    assert moved["userId"] == "bob" and moved["$permissions"] == [p.replace("ada", "bob") for p in OWNED_BY_ADA]
    assert error_of(call, "presences.get", engine.user_auth("default", "ada"), presenceId="p1").type == (
        "presence_not_found"
    )
    assert call("presences.get", engine.user_auth("default", "bob"), presenceId="p1")["status"] == "busy"
    call("presences.upsert", presenceId="p2", userId="ada", status="online")
    taken = error_of(call, "presences.update", presenceId="p2", userId="bob")
    assert (taken.type, taken.code) == ("presence_already_exists", 409)
    shared = call("presences.update", presenceId="p2", userId="ada", permissions=['read("any")'])
    assert shared["$permissions"] == ['read("any")'] and shared["userId"] == "ada"
    assert error_of(call, "presences.update", presenceId="nope", userId="ada", status="x").type == "presence_not_found"


def test_each_change_is_announced_with_the_presence_to_those_who_may_read_it(engine, call, people):
    before = engine.last_seq("default")
    upserted = call("presences.upsert", presenceId="p1", userId="ada", status="online")
    updated = call("presences.update", presenceId="p1", userId="ada", permissions=['read("any")', 'update("user:ada")'])
    call("presences.delete", presenceId="p1")
    upsert, update, delete = engine.events_after("default", before)
    assert upsert.name == "presences.p1.upsert" and upsert.payload == upserted and upsert.roles == ("user:ada",)
    assert {"presences.*.upsert", "presences.*", "presences.p1"} <= set(upsert.names)
    assert update.name == "presences.p1.update" and update.payload == updated and update.roles == ("any",)
    assert delete.name == "presences.p1.delete" and delete.payload == updated and delete.roles == ("any",)
    assert {"presences", "presences.p1"} <= set(channels_of(delete))


def test_a_realtime_connection_writes_its_user_s_presence_and_removes_it_when_it_closes(engine, call, people):
    ada = engine.user_auth("default", "ada")
    before = engine.last_seq("default")
    presence = engine.upsert_presence_for_connection("default", ada, {"status": "typing", "metadata": {"room": 7}})
    assert presence["userId"] == "ada" and presence["source"] == "realtime" and presence["$permissions"] == OWNED_BY_ADA
    assert 29.9 * 86400 < seconds_ahead(presence["expiresAt"]) <= 30 * 86400
    again = engine.upsert_presence_for_connection("default", ada, {"status": "idle", "presenceId": "ignored"})
    assert again["$id"] == presence["$id"] and again["metadata"] == {"room": 7} and again["status"] == "idle"
    assert call("presences.get", ada, presenceId=presence["$id"]) == again
    assert engine.delete_presence_for_connection("default", presence["$id"]) is True
    assert engine.delete_presence_for_connection("default", presence["$id"]) is False
    names = [(event.name, event.user_id) for event in engine.events_after("default", before)]
    label = f"presences.{presence['$id']}"
    assert names == [(f"{label}.upsert", "ada"), (f"{label}.upsert", "ada"), (f"{label}.delete", "ada")]
    assert call("presences.list") == {"total": 0, "presences": []}


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ({"status": "on", "presenceId": "bad id!"}, "general_argument_invalid"),
        ({}, "general_argument_invalid"),
        (["on"], "general_argument_invalid"),
        ({"status": 5}, "general_argument_invalid"),
        ({"status": "x" * 2049}, "general_argument_invalid"),
        ({"status": "x" * 300}, "document_invalid_structure"),
        ({"status": "on", "metadata": "text"}, "general_argument_invalid"),
        ({"status": "on", "permissions": ['read("user:bob")']}, "user_unauthorized"),
        ({"status": "on", "permissions": ["nonsense"]}, "general_argument_invalid"),
    ],
)
def test_a_connection_s_bad_presence_message_is_refused_and_changes_nothing(engine, call, people, data, kind):
    before = engine.last_seq("default")
    refused = error_of(engine.upsert_presence_for_connection, "default", engine.user_auth("default", "ada"), data)
    assert refused.type == kind
    assert engine.last_seq("default") == before and call("presences.list")["total"] == 0


def test_a_guest_connection_has_no_presence(engine):
    refused = error_of(engine.upsert_presence_for_connection, "default", GUEST, {"status": "on"})
    assert (refused.type, refused.code) == ("user_unauthorized", 401)
