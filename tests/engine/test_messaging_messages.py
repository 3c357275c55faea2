"""Messaging topics, subscribers and messages on the embedded engine: Appwrite's models, checks, errors,
permissions and logs, and messages sent by the background work (`drain_background`), scheduled ones included."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from mcp_server.engine.permissions import ADMIN
from mcp_server.uploads import Upload
from tests.engine.conftest import error_of, q


def future(minutes: int = 10) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


def person(call, user_id: str, email: str | None = None, phone: str | None = None) -> dict:
    """A user and their targets by kind."""
    user = call("users.create", userId=user_id, email=email, phone=phone, name=user_id.title())
    return {target["providerType"]: target["$id"] for target in user["targets"]}


def subscribe(call, topic_id: str, target_id: str, auth=ADMIN) -> dict:
    return call("messaging.createSubscriber", auth, subscriberId="unique()", topicId=topic_id, targetId=target_id)


def drain(engine, now: datetime | None = None) -> dict:
    return asyncio.run(engine.drain_background(["default"], now))["messages"]["default"].messages


def test_a_topic_counts_its_subscribers_by_kind_and_answers_appwrites_model(call):
    topic = call("messaging.createTopic", topicId="news", name="News")
    assert topic["subscribe"] == ["users"]
    assert {key: topic[key] for key in ("emailTotal", "smsTotal", "pushTotal")} == dict.fromkeys(
        ("emailTotal", "smsTotal", "pushTotal"), 0
    )
    ann = person(call, "ann", email="ann@example.com", phone="+15550001")
    call("messaging.createSubscriber", subscriberId="s1", topicId="news", targetId=ann["email"])
    subscriber = call("messaging.createSubscriber", subscriberId="s2", topicId="news", targetId=ann["sms"])
    assert subscriber["target"]["identifier"] == "+15550001"
    assert (subscriber["userId"], subscriber["userName"], subscriber["providerType"]) == ("ann", "Ann", "sms")
    topic = call("messaging.getTopic", topicId="news")
    assert (topic["emailTotal"], topic["smsTotal"], topic["pushTotal"]) == (1, 1, 0)
    listed = call("messaging.listSubscribers", topicId="news", queries=[q("equal", "providerType", ["sms"])])
    assert [s["$id"] for s in listed["subscribers"]] == ["s2"] and listed["total"] == 1
    assert call("messaging.listTopics", search="new")["total"] == 1
    updated = call("messaging.updateTopic", topicId="news", name="Daily", subscribe=["team:staff"])
    assert (updated["name"], updated["subscribe"]) == ("Daily", ["team:staff"])
    # A target that goes (its user deleted) no longer counts.
    call("users.delete", userId="ann")
    assert call("messaging.getTopic", topicId="news")["emailTotal"] == 0


def test_topics_and_subscribers_refuse_what_appwrite_refuses(call):
    call("messaging.createTopic", topicId="news", name="News")
    assert error_of(call, "messaging.createTopic", topicId="news", name="Again").type == "topic_already_exists"
    assert error_of(call, "messaging.createTopic", topicId="x", name="n" * 129).type == "general_argument_invalid"
    error = error_of(call, "messaging.createTopic", topicId="x", name="X", subscribe=["nobody:here"])
    assert error.type == "general_argument_invalid"
    assert error_of(call, "messaging.getTopic", topicId="nope").code == 404
    ann = person(call, "ann", email="ann@example.com")
    error = error_of(call, "messaging.createSubscriber", subscriberId="s", topicId="nope", targetId=ann["email"])
    assert error.type == "topic_not_found"
    error = error_of(call, "messaging.createSubscriber", subscriberId="s", topicId="news", targetId="nope")
    assert error.type == "user_target_not_found"
    call("messaging.createSubscriber", subscriberId="s", topicId="news", targetId=ann["email"])
    error = error_of(call, "messaging.createSubscriber", subscriberId="t", topicId="news", targetId=ann["email"])
    assert (error.type, error.code) == ("subscriber_already_exists", 409)
    call("messaging.createTopic", topicId="other", name="Other")
    error = error_of(call, "messaging.getSubscriber", topicId="other", subscriberId="s")
    assert error.type == "subscriber_not_found"


def test_a_user_subscribes_their_own_target_where_the_topic_lets_them_and_sees_only_their_own(engine, call):
    call("messaging.createTopic", topicId="open", name="Open")
    call("messaging.createTopic", topicId="staff", name="Staff", subscribe=["label:staff"])
    ann = person(call, "ann", email="ann@example.com")
    bob = person(call, "bob", email="bob@example.com")
    as_ann = engine.user_auth("default", "ann")
    error = error_of(subscribe, call, "staff", ann["email"], as_ann)
    assert (error.type, error.code) == ("user_unauthorized", 401)
    error = error_of(subscribe, call, "open", bob["email"], as_ann)
    assert error.type == "user_target_not_found"
    mine = subscribe(call, "open", ann["email"], as_ann)
    call("messaging.createSubscriber", subscriberId="b", topicId="open", targetId=bob["email"])
    as_bob = engine.user_auth("default", "bob")
    error = error_of(call, "messaging.deleteSubscriber", as_bob, topicId="open", subscriberId=mine["$id"])
    assert error.type == "subscriber_not_found"
    call("users.updateLabels", userId="ann", labels=["staff"])
    as_staff = engine.user_auth("default", "ann")
    staff = subscribe(call, "staff", ann["email"], as_staff)
    logs = call("messaging.listSubscriberLogs", subscriberId=staff["$id"])["logs"]
    assert [(log["event"], log["userId"], log["mode"]) for log in logs] == [("subscriber.create", "ann", "user")]
    call("messaging.deleteSubscriber", as_ann, topicId="open", subscriberId=mine["$id"])
    assert call("messaging.getTopic", topicId="open")["emailTotal"] == 1
    assert error_of(call, "messaging.listSubscriberLogs", subscriberId=mine["$id"]).type == "subscriber_not_found"


def test_a_message_is_a_draft_processing_or_scheduled_as_asked(call):
    ann = person(call, "ann", email="ann@example.com", phone="+15550001")
    draft = call("messaging.createEmail", messageId="d", subject="Hi", content="Hello", draft=True)
    assert (draft["status"], draft["providerType"], draft["deliveredTotal"]) == ("draft", "email", 0)
    assert draft["data"] == {"subject": "Hi", "content": "Hello", "html": False, "cc": [], "bcc": [], "attachments": []}
    when = future()
    scheduled = call("messaging.createSMS", messageId="s", content="Soon", targets=[ann["sms"]], scheduledAt=when)
    assert scheduled["status"] == "scheduled" and scheduled["scheduledAt"].startswith(when[:16])
    sent = call("messaging.createPush", messageId="p", title="T", body="B", users=["ann"], badge=0)
    assert sent["status"] == "processing"
    assert sent["data"] == {"title": "T", "body": "B", "badge": 0, "priority": "high"}
    assert call("messaging.listMessages", queries=[q("equal", "status", ["draft"])])["total"] == 1
    assert [t["$id"] for t in call("messaging.listTargets", messageId="s")["targets"]] == [ann["sms"]]
    # A draft becomes a message to send once it has recipients.
    error = error_of(call, "messaging.updateEmail", messageId="d", draft=False)
    assert (error.type, error.code) == ("message_missing_target", 400)
    updated = call("messaging.updateEmail", messageId="d", draft=False, users=["ann"], subject="Hey")
    assert (updated["status"], updated["users"], updated["data"]["subject"]) == ("processing", ["ann"], "Hey")
    assert error_of(call, "messaging.updateEmail", messageId="d", subject="Late").type == "message_already_processing"
    assert error_of(call, "messaging.delete", messageId="d").type == "message_already_scheduled"
    call("messaging.delete", messageId="s")
    assert error_of(call, "messaging.getMessage", messageId="s").type == "message_not_found"
    logs = call("messaging.listMessageLogs", messageId="d")["logs"]
    assert [log["event"] for log in logs] == ["message.update", "message.create"]


def test_messages_refuse_what_appwrite_refuses(call):
    ann = person(call, "ann", email="ann@example.com", phone="+15550001")
    error = error_of(call, "messaging.createEmail", messageId="m", subject="S", content="C")
    assert error.type == "message_missing_target"
    error = error_of(call, "messaging.createEmail", messageId="m", subject="S", content="C", targets=[ann["sms"]])
    assert (error.type, error.code) == ("message_target_not_email", 400)
    error = error_of(call, "messaging.createSms", messageId="m", content="C", targets=["nope"])
    assert error.type == "message_target_not_sms"
    error = error_of(call, "messaging.createEmail", messageId="m", subject="S", content="C", users=["ann"], cc=["x"])
    assert error.type == "message_target_not_email"
    error = error_of(call, "messaging.createSms", messageId="m", content="C", users=["ann"], scheduledAt="2000-01-01")
    assert error.type == "general_argument_invalid" and "scheduledAt" in error.message
    error = error_of(call, "messaging.createEmail", messageId="m", subject="s" * 999, content="C", users=["ann"])
    assert error.type == "general_argument_invalid" and "subject" in error.message
    error = error_of(call, "messaging.createSms", messageId="m", content="C", users=["u"] * 101)
    assert error.type == "general_argument_invalid"
    error = error_of(call, "messaging.createEmail", messageId="m", subject="S", content="C", users=["ann"],
                     attachments=["nobucket:nofile"])  # fmt: skip
    assert error.type == "storage_bucket_not_found"
    error = error_of(call, "messaging.createPush", messageId="m", users=["ann"], priority="urgent")
    assert error.type == "general_argument_invalid"
    call("messaging.createSms", messageId="m", content="C", draft=True)
    assert error_of(call, "messaging.createSms", messageId="m", content="C", draft=True).code == 409
    error = error_of(call, "messaging.updateSms", messageId="m", draft=False, scheduledAt=None, content="x")
    assert error.type == "message_missing_target"
    assert call("messaging.listMessages")["total"] == 1


def test_attachments_and_push_images_are_stored_files(call):
    call("storage.createBucket", bucketId="b", name="B")
    call("storage.createFile", bucketId="b", fileId="doc", file=Upload("doc.txt", "text/plain", b"words"))
    ann = person(call, "ann", email="ann@example.com")
    error = error_of(call, "messaging.createEmail", messageId="m", subject="S", content="C", users=["ann"],
                     attachments=["b:missing"])  # fmt: skip
    assert error.type == "storage_file_not_found"
    message = call("messaging.createEmail", messageId="m", subject="S", content="C", targets=[ann["email"]],
                   attachments=["b:doc"], draft=True)  # fmt: skip
    assert message["data"]["attachments"] == [{"bucketId": "b", "fileId": "doc"}]
    error = error_of(call, "messaging.createPush", messageId="p", users=["ann"], image="b:doc")
    assert error.type == "storage_file_type_unsupported"


def test_a_message_without_an_enabled_provider_fails_when_sent(engine, call):
    person(call, "ann", email="ann@example.com")
    call("messaging.createEmail", messageId="m", subject="S", content="C", users=["ann"])
    assert drain(engine) == {"m": "failed"}
    message = call("messaging.getMessage", messageId="m")
    assert (message["status"], message["deliveryErrors"], message["deliveredAt"]) == (
        "failed",
        ["No enabled provider found."],
        None,
    )


@pytest.mark.parametrize("operation", ["messaging.getMessage"])
def test_a_scheduled_message_waits_for_its_time(engine, call, operation):
    ann = person(call, "ann", email="ann@example.com")
    call("messaging.createEmail", messageId="m", subject="S", content="C", targets=[ann["email"]], scheduledAt=future())
    assert drain(engine) == {}
    assert call(operation, messageId="m")["status"] == "scheduled"
    assert drain(engine, datetime.now(UTC) + timedelta(minutes=11)) == {"m": "failed"}
    assert call(operation, messageId="m")["deliveryErrors"] == ["No enabled provider found."]


def test_every_change_is_announced_and_sending_announces_the_outcome(engine, call):
    ann = person(call, "ann", email="ann@example.com")
    call("messaging.createTopic", topicId="news", name="News")
    call("messaging.createSubscriber", subscriberId="s", topicId="news", targetId=ann["email"])
    call("messaging.createEmail", messageId="m", subject="S", content="C", topics=["news"])
    drain(engine)
    names = [event.name for event in engine.project().events.read(0, 1000)]
    assert "messages.m.update" in names
    assert names.index("messages.m.create") < names.index("messages.m.update")
    call("messaging.deleteSubscriber", topicId="news", subscriberId="s")
    call("messaging.deleteTopic", topicId="news")
    assert error_of(call, "messaging.listSubscribers", topicId="news").type == "topic_not_found"


def test_each_kind_s_update_changes_only_what_it_is_given(call):
    ann = person(call, "ann", email="ann@example.com", phone="+15550001")
    call("messaging.createSms", messageId="s", content="One", draft=True)
    assert call("messaging.updateSms", messageId="s", content="Two")["data"] == {"content": "Two"}
    updated = call("messaging.updateSMS", messageId="s", targets=[ann["sms"]], scheduledAt=future())
    assert (updated["status"], updated["data"]["content"]) == ("scheduled", "Two")
    call("messaging.createPush", messageId="p", title="T", draft=True, contentAvailable=True)
    pushed = call("messaging.updatePush", messageId="p", body="B", badge=3, critical=False)
    assert pushed["data"] == {"title": "T", "priority": "high", "contentAvailable": True, "body": "B", "badge": 3,
                              "critical": False}  # fmt: skip
    error = error_of(call, "messaging.updatePush", messageId="s", body="B")
    assert error.type == "general_argument_invalid"
