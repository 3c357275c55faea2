"""The project's email templates (project.*EmailTemplate*) through Engine.call: defaults, customising
them per locale, and the engine's emails rendered from them, placeholders filled and HTML-escaped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mcp_server.engine import outbox
from mcp_server.engine.email_templates import TEMPLATE_IDS
from mcp_server.engine.permissions import GUEST
from tests.engine.conftest import error_of, q
from tests.engine.event_audit import AuditedEngine
from tests.smtp_sink import QUIET, Sink, smtp_sink

pytestmark = QUIET
FIELDS = {"templateId", "locale", "message", "senderName", "senderEmail", "replyToEmail", "replyToName", "subject"}
URL = "https://app.example.com/reset?from=mail&x=1"


@pytest.fixture
def sink() -> Iterator[Sink]:
    with smtp_sink() as server:
        yield server


@pytest.fixture
def smtp_on(tmp_path, sink) -> Iterator[AuditedEngine]:
    """An engine whose project has custom SMTP on (a loopback server, so private URLs are allowed)."""
    engine = AuditedEngine(tmp_path / "smtp", list_cache_ttl=0, allow_private_urls=True)
    engine.call("project.updateSMTP", {"host": "127.0.0.1", "port": sink.port, "senderEmail": "app@example.com"})
    yield engine
    engine.close()
    assert engine.problems == []


def test_every_template_has_a_default_and_none_is_listed(call):
    assert call("project.listEmailTemplates") == {"total": 0, "templates": []}
    for template_id in TEMPLATE_IDS:
        template = call("project.getEmailTemplate", templateId=template_id)
        assert set(template) == FIELDS and (template["templateId"], template["locale"]) == (template_id, "en")
        assert template["subject"] and "{{user}}" in template["message"]
        assert template["senderEmail"] == template["replyToName"] == ""
    assert call("project.getEmailTemplate", templateId="recovery", locale="pt-br")["locale"] == "pt-br"


def test_unknown_template_ids_and_locales_are_refused(call):
    for params, field in (
        ({"templateId": "welcome"}, "templateId"),
        ({"templateId": "recovery\n"}, "templateId"),
        ({"templateId": "recovery", "locale": "xx"}, "locale"),
        ({"templateId": "recovery", "locale": "../en"}, "locale"),
    ):
        refused = error_of(call, "project.getEmailTemplate", **params)
        assert refused.type == "general_argument_invalid" and field in refused.message


def test_templates_change_only_with_smtp_on(call):
    refused = error_of(call, "project.updateEmailTemplate", templateId="recovery", subject="Hi", message="Body")
    assert refused.type == "general_argument_invalid" and "SMTP must be enabled" in refused.message
    assert call("project.listEmailTemplates")["total"] == 0


def test_customised_templates_are_kept_per_locale(smtp_on):
    run = smtp_on.call
    refused = error_of(run, "project.updateEmailTemplate", {"templateId": "recovery", "subject": "Only a subject"})
    assert refused.type == "general_argument_invalid" and '"message"' in refused.message
    changed = run(
        "project.updateEmailTemplate",
        {"templateId": "recovery", "locale": "de", "subject": "Passwort", "message": "<p>Hallo {{user}}</p>",
         "senderName": "Team", "replyToEmail": "help@example.com"},
    )  # fmt: skip
    assert changed == {
        "templateId": "recovery",
        "locale": "de",
        "subject": "Passwort",
        "message": "<p>Hallo {{user}}</p>",
        "senderName": "Team",
        "senderEmail": "",
        "replyToEmail": "help@example.com",
        "replyToName": "",
    }
    assert run("project.getEmailTemplate", {"templateId": "recovery", "locale": "de"}) == changed
    assert run("project.getEmailTemplate", {"templateId": "recovery"})["subject"] == "{{project}} password reset"
    # A field left out keeps its value; an empty string clears it.
    again = run("project.updateEmailTemplate", {"templateId": "recovery", "locale": "de", "senderName": ""})
    assert (again["subject"], again["senderName"], again["replyToEmail"]) == ("Passwort", "", "help@example.com")
    run("project.updateEmailTemplate", {"templateId": "invitation", "subject": "Join", "message": "Join {{team}}"})
    listed = run("project.listEmailTemplates", {})
    assert [(t["templateId"], t["locale"]) for t in listed["templates"]] == [("invitation", "en"), ("recovery", "de")]
    assert run("project.listEmailTemplates", {"queries": [q("offset", values=[1])]})["templates"] == [again]
    for hostile in ({"senderEmail": "nope"}, {"subject": "s" * 256}, {"message": "m" * (10 * 1024 * 1024 + 1)}):
        refused = error_of(run, "project.updateEmailTemplate", {"templateId": "recovery", "locale": "de", **hostile})
        assert refused.type == "general_argument_invalid"
    assert run("project.getEmailTemplate", {"templateId": "recovery", "locale": "de"}) == again


def test_engine_emails_use_the_customised_template_with_values_escaped(smtp_on, sink):
    run = smtp_on.call
    message = (
        "<h1>Hi {{user}}</h1><a href=\"{{redirect}}\">Reset for {{project}}</a> {{nope}} {{ user }} {{{{user}}}}"
    )
    run("project.updateEmailTemplate", {"templateId": "recovery", "subject": "Reset {{user}}", "message": message})
    hostile = '<script>alert(1)</script> {{redirect}} "Ada"'
    run("users.create", {"userId": "ada", "email": "ada@example.com", "password": "pass word 1", "name": hostile})
    run("account.createRecovery", {"email": "ada@example.com", "url": URL}, GUEST)
    [sent] = outbox.messages(smtp_on.project().db.path.parent)
    link = sent["data"]["url"]
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt; {{redirect}} &quot;Ada&quot;"
    assert sent["html"] is True and sent["template"] == "recovery"
    assert sent["text"] == (
        f'<h1>Hi {escaped}</h1><a href="{link.replace("&", "&amp;")}">Reset for default</a> {{{{nope}}}} '
        f"{{{{ user }}}} {{{{{escaped}}}}}"
    )
    assert sent["subject"] == f"Reset {hostile}"  # a subject is plain text, on one line
    [email] = sink.wait_for(1)
    assert email.get_content_type() == "text/html" and escaped in email.get_content()
    assert email["Subject"] == f"Reset {hostile}"


def test_a_template_in_another_locale_is_not_used_for_the_default_one(smtp_on, sink):
    run = smtp_on.call
    run("project.updateEmailTemplate", {"templateId": "otpSession", "locale": "fr", "subject": "Code", "message": "x"})
    run("account.createEmailToken", {"userId": "unique()", "email": "lin@example.com"}, GUEST)
    [sent] = outbox.messages(smtp_on.project().db.path.parent)
    assert sent["subject"] == "default sign-in code" and sent["html"] is False
    assert sent["data"]["secret"] in sent["text"]
    assert sink.wait_for(1)[0].get_content_type() == "text/plain"
