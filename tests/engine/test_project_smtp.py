"""The project's custom SMTP server (project.updateSMTP, project.createSMTPTest) through Engine.call,
against a real SMTP server on loopback: settings, checks, sample and engine emails, and the outbound
policy that keeps the SMTP host off private addresses unless allowed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from mcp_server.engine import outbox
from mcp_server.engine.permissions import GUEST
from tests.engine.conftest import error_of
from tests.engine.event_audit import AuditedEngine
from tests.smtp_sink import QUIET, Sink, smtp_sink

pytestmark = QUIET
SECRET = "s3cret-smtp-pass"


@pytest.fixture
def open_engine(tmp_path) -> Iterator[AuditedEngine]:
    """An engine that may connect to loopback (--allow-private-urls), as the SMTP server here is."""
    instance = AuditedEngine(tmp_path / "open", list_cache_ttl=0, allow_private_urls=True)
    yield instance
    instance.close()
    assert instance.problems == []


@pytest.fixture
def sink() -> Iterator[Sink]:
    with smtp_sink("mailer", SECRET) as server:
        yield server


def settings(sink: Sink, **changes) -> dict:
    return {
        "host": "127.0.0.1",
        "port": sink.port,
        "username": "mailer",
        "password": SECRET,
        "senderEmail": "noreply@example.com",
        "senderName": "Example App",
        **changes,
    }


def stored_smtp(engine) -> str:
    row = engine.project().connection.execute("SELECT value FROM _meta WHERE key = 'project.smtp'").fetchone()
    return row[0] if row else ""


def test_update_smtp_checks_the_server_switches_it_on_and_never_shows_the_password(open_engine, sink):
    project = open_engine.call("project.updateSMTP", settings(sink, replyToEmail="help@example.com"))
    assert project["smtpEnabled"] is True  # the check passed and `enabled` was left out
    assert (project["smtpHost"], project["smtpPort"], project["smtpUsername"]) == ("127.0.0.1", sink.port, "mailer")
    assert (project["smtpSenderEmail"], project["smtpReplyToEmail"], project["smtpSecure"]) == (
        "noreply@example.com",
        "help@example.com",
        "",
    )
    assert project["smtpPassword"] == "" and SECRET not in json.dumps(project)
    assert SECRET not in stored_smtp(open_engine)  # sealed with the project's key
    # Another field changes alone; the password stays (the server still takes the login).
    assert open_engine.call("project.updateSMTP", {"senderName": "Renamed"})["smtpSenderName"] == "Renamed"
    assert open_engine.call("project.updateSMTP", {"enabled": False})["smtpEnabled"] is False


def test_a_server_that_refuses_the_login_is_not_switched_on(open_engine, sink):
    refused = error_of(open_engine.call, "project.updateSMTP", settings(sink, password="wrong", enabled=True))
    assert (refused.type, refused.code) == ("project_smtp_config_invalid", 400)
    assert stored_smtp(open_engine) == ""  # a failed call changes nothing
    kept = open_engine.call("project.updateSMTP", settings(sink, password="wrong"))
    assert kept["smtpEnabled"] is False and kept["smtpHost"] == "127.0.0.1"
    assert error_of(open_engine.call, "project.createSMTPTest", {"emails": ["a@example.com"]}).type == (
        "general_argument_invalid"
    )


def test_enabling_needs_host_port_and_sender(call):
    for missing in ("host", "port", "senderEmail"):
        params = {"host": "smtp.example.com", "port": 587, "senderEmail": "a@example.com", "enabled": True}
        params.pop(missing)
        refused = error_of(call, "project.updateSMTP", **params)
        assert refused.type == "general_argument_invalid" and f'"{missing}"' in refused.message


def test_private_smtp_hosts_need_allow_private_urls(engine, call, sink):
    for host in ("127.0.0.1", "localhost", "2130706433", "10.1.2.3", "169.254.169.254"):
        refused = error_of(call, "project.updateSMTP", **settings(sink, host=host, enabled=True))
        assert refused.type == "project_smtp_config_invalid" and "--allow-private-urls" in refused.message, host
        test = error_of(call, "project.createSMTPTest", emails=["a@example.com"], **settings(sink, host=host))
        assert test.type == "project_smtp_config_invalid", host
    # A host is a hostname, as Appwrite's Hostname validator takes it: no port, path or IPv6 colons.
    for host in ("::1", "smtp.example.com:25", "smtp://smtp.example.com"):
        refused = error_of(call, "project.updateSMTP", **settings(sink, host=host, enabled=True))
        assert refused.type == "general_argument_invalid" and "host" in refused.message, host
    assert sink.received == []
    # Left to decide for itself, the change is kept without switching SMTP on.
    assert call("project.updateSMTP", **settings(sink))["smtpEnabled"] is False


def test_hostile_smtp_settings_are_refused_by_field(call):
    for params, field in (
        ({"port": 0}, "port"),
        ({"port": 65536}, "port"),
        ({"port": -25}, "port"),
        ({"port": 2**40}, "port"),
        ({"host": "smtp.example.com:25"}, "host"),
        ({"host": "a;b.example.com"}, "host"),
        ({"host": "http://smtp.example.com"}, "host"),
        ({"host": "smtp example.com"}, "host"),
        ({"host": "x" * 300}, "host"),
        ({"host": "-bad.example.com"}, "host"),
        ({"secure": "starttls"}, "secure"),
        ({"senderEmail": "not an address"}, "senderEmail"),
        ({"username": "u" * 257}, "username"),
    ):
        refused = error_of(call, "project.updateSMTP", **params)
        assert refused.type == "general_argument_invalid" and field in refused.message, (params, refused.message)
    assert call("project.updateSMTP")["smtpHost"] == ""


def test_the_sample_email_arrives_through_the_saved_or_the_inline_settings(open_engine, sink):
    open_engine.call("project.updateSMTP", settings(sink, replyToEmail="help@example.com", replyToName="Help"))
    assert open_engine.call("project.createSMTPTest", {"emails": ["a@example.com", "b@example.com"]}) is None
    first, second = sink.wait_for(2)
    assert first["Subject"] == "Custom SMTP email sample" and first["From"] == "Example App <noreply@example.com>"
    assert first["Reply-To"] == "Help <help@example.com>" and first["To"] == "a@example.com"
    assert "Example App (noreply@example.com)" in first.get_content() and second["To"] == "b@example.com"
    recorded = outbox.messages(open_engine.project().db.path.parent)
    assert [(m["to"], m["delivery"]["status"]) for m in recorded] == [
        ("a@example.com", "sent"),
        ("b@example.com", "sent"),
    ]
    # Appwrite 1.9.1's inline settings (host given) stand on their own.
    open_engine.call("project.updateSMTP", {"enabled": False})
    inline = {"emails": ["c@example.com"], **settings(sink, senderEmail="inline@example.com")}
    inline.pop("senderName")
    open_engine.call("project.createSMTPTest", inline)
    assert sink.wait_for(3)[2]["From"] == "Appwrite <inline@example.com>"
    refused = error_of(open_engine.call, "project.createSMTPTest", {**inline, "password": "wrong"})
    assert refused.type == "project_smtp_config_invalid"
    assert error_of(open_engine.call, "project.createSMTPTest", {"emails": ["x"] * 11}).type == (
        "general_argument_invalid"
    )


def test_engine_emails_go_through_smtp_when_it_is_on(open_engine, sink):
    open_engine.call("project.updateSMTP", settings(sink))
    open_engine.call("account.create", {"userId": "ada", "email": "ada@example.com", "password": "pass word 1"}, GUEST)
    open_engine.call("account.createRecovery", {"email": "ada@example.com", "url": "https://app.example.com/r"}, GUEST)
    [email] = sink.wait_for(1)
    [message] = outbox.messages(open_engine.project().db.path.parent)
    assert email["To"] == "ada@example.com" and email["Subject"] == message["subject"] == "default password reset"
    assert message["data"]["url"] in email.get_content()
    deadline = time.monotonic() + 10
    while outbox.messages(open_engine.project().db.path.parent)[0]["delivery"]["status"] == "pending":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert outbox.messages(open_engine.project().db.path.parent)[0]["delivery"] == {"status": "sent"}


def test_a_delivery_that_fails_is_noted_in_the_outbox(open_engine, sink, tmp_path):
    open_engine.call("project.updateSMTP", settings(sink))
    open_engine.call("users.create", {"userId": "ada", "email": "ada@example.com", "password": "pass word 1"})
    sink.password = "changed"  # the server stops taking the saved login
    open_engine.call("account.createRecovery", {"email": "ada@example.com", "url": "https://app.example.com/r"}, GUEST)
    deadline = time.monotonic() + 20
    while (message := outbox.messages(open_engine.project().db.path.parent)[0])["delivery"]["status"] == "pending":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert message["delivery"]["status"] == "failed" and "SMTP server" in message["delivery"]["error"]
    assert sink.received == [] and message["data"]["secret"]
