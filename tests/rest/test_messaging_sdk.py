"""Messaging through `baas-mcp api` with the official Python SDK (appwrite 16.0.0): a topic, a subscriber, an
SMTP provider, and an email the server's background work delivers to a local SMTP server."""

from __future__ import annotations

import time

from appwrite.client import Client
from appwrite.models.message import Message
from appwrite.services.messaging import Messaging
from appwrite.services.users import Users

from tests.commands import create_key, start_api_server
from tests.rest.sdk_errors import raised
from tests.smtp_sink import smtp_sink

SCOPES = "users.read,users.write,providers.read,providers.write,topics.read,topics.write,subscribers.read," \
         "subscribers.write,messages.read,messages.write"  # fmt: skip


def test_an_email_to_a_topic_reaches_its_subscriber(tmp_path):
    data_dir = tmp_path / "data"
    key = create_key(data_dir, SCOPES)["secret"]
    server = start_api_server(data_dir, "--allow-private-urls")
    try:
        client = Client().set_endpoint(server.url("/v1")).set_project("default").set_key(key)
        messaging = Messaging(client)
        user = Users(client).create(user_id="ann", email="ann@example.com", name="Ann")
        with smtp_sink() as sink:
            messaging.create_smtp_provider(provider_id="mail", name="Mail", host="127.0.0.1", port=sink.port,
                                           from_email="news@example.com", enabled=True)  # fmt: skip
            topic = messaging.create_topic(topic_id="news", name="News")
            subscriber = messaging.create_subscriber(topic_id=topic.id, subscriber_id="unique()",
                                                     target_id=user.targets[0].id)  # fmt: skip
            assert (subscriber.username, subscriber.target.identifier) == ("Ann", "ann@example.com")
            assert messaging.get_topic(topic_id="news").emailtotal == 1
            message = messaging.create_email(message_id="welcome", subject="Welcome", content="Hello Ann",
                                             topics=["news"])  # fmt: skip
            assert isinstance(message, Message) and message.status.value == "processing"
            [email] = sink.wait_for(1, timeout=30)
        assert email["Subject"] == "Welcome" and "Hello Ann" in email.get_body(("plain",)).get_content()
        deadline = time.monotonic() + 15
        while (message := messaging.get_message(message_id="welcome")).status.value == "processing":
            assert time.monotonic() < deadline, "the message stayed processing"
            time.sleep(0.2)
        assert (message.status.value, message.deliveredtotal) == ("sent", 1)
        assert messaging.list_messages().total == 1
        error = raised(messaging.delete, message_id="nope")
        assert (error.type, error.code) == ("message_not_found", 404)
    finally:
        code = server.stop()
    assert code == 0, server.stderr.text()
