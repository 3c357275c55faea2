"""Messages sent for real by the background work: email to a local SMTP server (aiosmtpd), SMS to a local
receiver standing in for Twilio's API, a scheduled message sent by `baas-mcp background --once` in a new process
after the one that accepted it ended, and a provider's failure recorded on the message."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest

from mcp_server.engine import Engine
from mcp_server.uploads import Upload
from tests.commands import baas_mcp
from tests.engine.event_audit import AuditedEngine
from tests.smtp_sink import free_port, smtp_sink
from tests.webhook_receiver import Receiver


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:
    """An engine that may reach the local SMTP server and receiver (--allow-private-urls)."""
    instance = AuditedEngine(tmp_path / "data", list_cache_ttl=0, allow_private_urls=True)
    yield instance
    instance.close()
    assert instance.problems == []


@pytest.fixture
def sms_api(monkeypatch) -> Iterator[Receiver]:
    """A local HTTP server Twilio's requests go to (the delivery's base URL for the provider)."""
    receiver = Receiver()
    monkeypatch.setenv("BAAS_MCP_MESSAGING_BASE_URL_TWILIO", receiver.base)
    yield receiver
    receiver.close()


def smtp_provider(call, port: int, provider_id: str = "mail") -> None:
    call("messaging.createSmtpProvider", providerId=provider_id, name="Mail", host="127.0.0.1", port=port,
         fromEmail="news@example.com", fromName="News", enabled=True)  # fmt: skip


def drain(engine: Engine, now: datetime | None = None) -> dict:
    return asyncio.run(engine.drain_background(["default"], now))["messages"]["default"].messages


def newsroom(call) -> None:
    """A topic with three subscribers: two by email, one by SMS."""
    call("messaging.createTopic", topicId="news", name="News")
    for user_id, email, phone in (("ann", "ann@example.com", None), ("bob", "bob@example.com", None),
                                  ("cy", None, "+15550003")):  # fmt: skip
        user = call("users.create", userId=user_id, email=email, phone=phone)
        call("messaging.createSubscriber", subscriberId=user_id, topicId="news", targetId=user["targets"][0]["$id"])


def test_a_topic_s_email_and_sms_subscribers_receive_each_kind_of_message(engine, call, sms_api):
    call("storage.createBucket", bucketId="b", name="B")
    call("storage.createFile", bucketId="b", fileId="menu", file=Upload("menu.txt", "text/plain", b"soup"))
    newsroom(call)
    with smtp_sink() as sink:
        smtp_provider(call, sink.port)
        call("messaging.createTwilioProvider", providerId="sms", name="SMS", accountSid="AC1", authToken="t",
             **{"from": "+15550000"}, enabled=True)  # fmt: skip
        call("messaging.createEmail", messageId="mail", subject="Today", content="<b>Hi</b>", html=True,
             topics=["news"], attachments=["b:menu"])  # fmt: skip
        call("messaging.createSms", messageId="text", content="Read the news", topics=["news"])
        call("messaging.createSms", messageId="later", content="Wait", topics=["news"], draft=True)
        assert drain(engine) == {"mail": "sent", "text": "sent"}
        email = sink.wait_for(1)[0]
    # One message to both addresses, as Appwrite's SMTP adapter sends it.
    assert sorted(recipient for _, rcpt in sink.envelopes for recipient in rcpt) == ["ann@example.com",
                                                                                      "bob@example.com"]  # fmt: skip
    assert email["Subject"] == "Today" and "news@example.com" in email["From"]
    assert "<b>Hi</b>" in email.get_body(("html",)).get_content()
    [attached] = list(email.iter_attachments())
    assert (attached.get_filename(), attached.get_content()) == ("menu.txt", "soup")
    [text] = sms_api.wait_for(1)
    form = parse_qs(text.body.decode())
    assert (form["To"], form["Body"], form["From"]) == (["+15550003"], ["Read the news"], ["+15550000"])
    mail = call("messaging.getMessage", messageId="mail")
    assert (mail["status"], mail["deliveredTotal"], mail["deliveryErrors"]) == ("sent", 2, [])
    assert mail["deliveredAt"] is not None
    assert call("messaging.getMessage", messageId="text")["deliveredTotal"] == 1
    assert call("messaging.getMessage", messageId="later")["status"] == "draft"
    # A message is sent once: another pass has nothing to do.
    assert drain(engine) == {}


def test_a_provider_that_cannot_be_reached_marks_the_message_failed_with_its_error(engine, call):
    user = call("users.create", userId="ann", email="ann@example.com")
    smtp_provider(call, free_port())
    call("messaging.createEmail", messageId="m", subject="S", content="C", targets=[user["targets"][0]["$id"]])
    assert drain(engine) == {"m": "failed"}
    message = call("messaging.getMessage", messageId="m")
    assert (message["status"], message["deliveredTotal"]) == ("failed", 0)
    assert len(message["deliveryErrors"]) == 1 and "ann@example.com" in message["deliveryErrors"][0]


def test_a_message_with_no_recipient_left_fails_as_in_appwrite(engine, call):
    user = call("users.create", userId="ann", email="ann@example.com")
    smtp_provider(call, free_port())
    call("messaging.createEmail", messageId="m", subject="S", content="C", targets=[user["targets"][0]["$id"]])
    call("users.delete", userId="ann")
    assert drain(engine) == {"m": "failed"}
    assert call("messaging.getMessage", messageId="m")["deliveryErrors"] == ["No valid recipients found."]


def test_a_scheduled_message_is_sent_by_another_process_once_its_time_came(tmp_path):
    data = tmp_path / "data"
    engine = Engine(data, allow_private_urls=True)
    with smtp_sink() as sink:
        smtp_provider(lambda op, **params: engine.call(op, params), sink.port)
        user = engine.call("users.create", {"userId": "ann", "email": "ann@example.com"})
        when = datetime.now(UTC) + timedelta(seconds=2)
        target = user["targets"][0]["$id"]
        engine.call("messaging.createEmail", {"messageId": "m", "subject": "Soon", "content": "C",
                                              "targets": [target], "scheduledAt": when.isoformat()})  # fmt: skip
        engine.close()
        early = baas_mcp("background", "--once", "--allow-private-urls", "--no-code", "--data-dir", str(data))
        assert early.returncode == 0, early.stderr
        assert sink.received == []
        time.sleep(max(0.0, (when - datetime.now(UTC)).total_seconds()) + 0.1)
        done = baas_mcp("background", "--once", "--allow-private-urls", "--no-code", "--data-dir", str(data), "--json")
        assert done.returncode == 0, done.stderr
        assert '"m": "sent"' in done.stdout
        [email] = sink.wait_for(1)
    assert email["Subject"] == "Soon"
    engine = Engine(data)
    try:
        assert engine.call("messaging.getMessage", {"messageId": "m"})["status"] == "sent"
    finally:
        engine.close()
