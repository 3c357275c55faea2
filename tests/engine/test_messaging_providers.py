"""Messaging providers: create and update for each provider (both spellings of the catalog), list, get, delete and
their logs, with Appwrite's rules: what is kept where, when a provider may be enabled, the errors naming the
parameter, credentials sealed at rest, and the events each change announces."""

from __future__ import annotations

import re
import sqlite3

import pytest

from mcp_server.engine.events import read_after
from mcp_server.engine.projectdb import project_path
from tests.engine.conftest import error_of, q

SENDER = {"fromName": "Shop", "fromEmail": "shop@example.com"}
# Each provider: the spellings of its operations, and parameters that make it complete (so it may be enabled).
PROVIDERS = {
    "smtp": (("Smtp", "SMTP"), {"host": "smtp.example.com", "username": "u", "password": "smtp-secret", **SENDER}),
    "sendgrid": (("Sendgrid",), {"apiKey": "sendgrid-secret", **SENDER}),
    "mailgun": (("Mailgun",), {"apiKey": "mailgun-secret", "domain": "mg.example.com", "isEuRegion": False, **SENDER}),
    "resend": (("Resend",), {"apiKey": "resend-secret", **SENDER}),
    "ses": (("Ses",), {"accessKey": "AKIA1", "secretKey": "ses-secret", "region": "eu-west-1", **SENDER}),
    "twilio": (("Twilio",), {"from": "+15550001111", "accountSid": "AC1", "authToken": "twilio-secret"}),
    "vonage": (("Vonage",), {"from": "+15550001111", "apiKey": "k", "apiSecret": "vonage-secret"}),
    "telesign": (("Telesign",), {"from": "+15550001111", "customerId": "c", "apiKey": "telesign-secret"}),
    "textmagic": (("Textmagic",), {"from": "+15550001111", "username": "u", "apiKey": "textmagic-secret"}),
    "msg91": (("Msg91",), {"templateId": "t", "senderId": "s", "authKey": "msg91-secret"}),
    "fcm": (("Fcm", "FCM"), {"serviceAccountJSON": {"project_id": "p", "private_key": "fcm-secret"}}),
    "apns": (("Apns", "APNS"), {"authKey": "apns-secret", "authKeyId": "k", "teamId": "t", "bundleId": "b"}),
}
TYPES = {"smtp": "email", "sendgrid": "email", "mailgun": "email", "resend": "email", "ses": "email", "fcm": "push",
         "apns": "push"}  # fmt: skip
SECRETS = {f"{name}-secret" for name in PROVIDERS}
CASES = [(name, spelling) for name, (spellings, _) in PROVIDERS.items() for spelling in spellings]


def stored_rows(engine) -> bytes:
    """Everything the project's database file and its write-ahead log hold, as bytes."""
    path = project_path(engine.data_dir, "default")
    return b"".join(part.read_bytes() for part in path.parent.glob(path.name + "*"))


@pytest.mark.parametrize(("name", "spelling"), CASES)
def test_a_complete_provider_created_enabled_is_enabled_and_updates_as_appwrite_keeps_it(call, name, spelling):
    params = PROVIDERS[name][1]
    created = call(f"messaging.create{spelling}Provider", providerId="p1", name="First", enabled=True, **params)
    assert created["$id"] == "p1" and created["provider"] == name and created["enabled"] is True
    assert created["type"] == TYPES.get(name, "sms")
    updated = call(f"messaging.update{spelling}Provider", providerId="p1", name="Renamed", enabled=False)
    assert (updated["name"], updated["enabled"]) == ("Renamed", False)
    assert updated["credentials"] == created["credentials"] and updated["options"] == created["options"]
    again = call(f"messaging.update{spelling}Provider", providerId="p1", enabled=True)
    assert again["enabled"] is True
    assert call("messaging.getProvider", providerId="p1") == again


@pytest.mark.parametrize(("name", "spelling"), CASES)
def test_an_incomplete_provider_is_created_disabled_and_cannot_be_enabled(call, name, spelling):
    required = {"host": "smtp.example.com"} if name == "smtp" else {}  # SMTP's host is required, its sender is not
    created = call(f"messaging.create{spelling}Provider", providerId="unique()", name="Bare", enabled=True, **required)
    assert created["enabled"] is False and len(created["$id"]) == 20
    error = error_of(call, f"messaging.update{spelling}Provider", providerId=created["$id"], enabled=True)
    assert (error.type, error.code) == ("provider_missing_credentials", 400)
    assert call("messaging.getProvider", providerId=created["$id"])["enabled"] is False


def test_where_appwrite_keeps_each_parameter(call):
    smtp = call(
        "messaging.createSMTPProvider", providerId="smtp", name="Mail", host="smtp.example.com", encryption="none",
        password="pw", mailer="Shop", **SENDER,
    )  # fmt: skip
    assert smtp["credentials"] == {"host": "smtp.example.com", "port": 587, "username": "", "password": "pw"}
    assert smtp["options"] == {**SENDER, "replyToName": "", "replyToEmail": "", "encryption": "", "autoTLS": True,
                               "mailer": "Shop"}  # fmt: skip
    twilio = call("messaging.createTwilioProvider", providerId="tw", name="SMS", accountSid="AC1")
    assert (twilio["credentials"], twilio["options"]) == ({"accountSid": "AC1"}, {})
    mailgun = call("messaging.createMailgunProvider", providerId="mg", name="MG", isEuRegion=False)
    assert mailgun["credentials"] == {"isEuRegion": False}
    fcm = call("messaging.createFCMProvider", providerId="fcm", name="Push", serviceAccountJSON={"project_id": "p"})
    assert fcm["credentials"] == {"serviceAccountJSON": {"project_id": "p"}} and fcm["options"] == {}
    apns = call("messaging.createAPNSProvider", providerId="apns", name="Apple")
    assert apns["options"] == {"sandbox": False}
    # An update changes only what it is given a value for; `none` clears the encryption.
    changed = call("messaging.updateSMTPProvider", providerId="smtp", port=2525, encryption="tls", password="")
    assert changed["credentials"] == {**smtp["credentials"], "port": 2525}
    assert changed["options"]["encryption"] == "tls"
    assert call("messaging.updateSMTPProvider", providerId="smtp", encryption="none")["options"]["encryption"] == ""


def test_an_update_of_another_providers_type_is_refused(call):
    call("messaging.createSendgridProvider", providerId="sg", name="SG")
    error = error_of(call, "messaging.updateResendProvider", providerId="sg", name="x")
    assert (error.type, error.code) == ("provider_incorrect_type", 400)
    assert call("messaging.getProvider", providerId="sg")["name"] == "SG"


@pytest.mark.parametrize(
    ("operation", "params", "field"),
    [
        ("messaging.createTwilioProvider", {"from": "5550001111"}, "from"),
        ("messaging.createVonageProvider", {"from": "+0123"}, "from"),
        ("messaging.createSendgridProvider", {"fromEmail": "not-an-address"}, "fromEmail"),
        ("messaging.createResendProvider", {"replyToEmail": "nobody"}, "replyToEmail"),
        ("messaging.createSMTPProvider", {"host": "h", "port": 70000}, "port"),
        ("messaging.createSMTPProvider", {"host": "h", "fromName": "n" * 129}, "fromName"),
        ("messaging.createSesProvider", {"region": "r" * 129}, "region"),
        ("messaging.createMsg91Provider", {"authKey": "k" * 20_000}, "authKey"),
        ("messaging.createApnsProvider", {"name": "n" * 129}, "name"),
        ("messaging.createTextmagicProvider", {"name": ""}, "name"),
    ],
)
def test_bad_input_is_refused_naming_the_parameter_and_changes_nothing(call, operation, params, field):
    error = error_of(call, operation, **{"providerId": "bad", "name": "Bad", **params})
    assert error.code == 400 and re.search(f"[`']{field}[`']", error.message), error.message
    assert call("messaging.listProviders")["total"] == 0


def test_an_id_taken_is_refused_and_an_unknown_one_is_not_found(call):
    call("messaging.createTwilioProvider", providerId="sms", name="One")
    error = error_of(call, "messaging.createVonageProvider", providerId="sms", name="Two")
    assert (error.type, error.code) == ("provider_already_exists", 409)
    for operation in ("messaging.getProvider", "messaging.deleteProvider", "messaging.listProviderLogs",
                      "messaging.updateTwilioProvider"):  # fmt: skip
        error = error_of(call, operation, providerId="missing")
        assert (error.type, error.code) == ("provider_not_found", 404)


def test_credentials_are_sealed_at_rest_and_shown_opened_as_appwrite_shows_them(call, engine):
    for name, (spellings, params) in PROVIDERS.items():
        call(f"messaging.create{spellings[0]}Provider", providerId=name, name=name, **params)
    raw = stored_rows(engine)
    assert not [secret for secret in SECRETS if secret.encode() in raw]
    assert call("messaging.getProvider", providerId="twilio")["credentials"]["authToken"] == "twilio-secret"
    connection = sqlite3.connect(project_path(engine.data_dir, "default"))
    credentials = connection.execute("SELECT credentials FROM _providers WHERE id = 'twilio'").fetchone()[0]
    connection.close()
    assert "twilio-secret" not in credentials


def test_list_filters_searches_orders_and_pages(call):
    call("messaging.createTwilioProvider", providerId="tw", name="Twilio main", enabled=True,
         **PROVIDERS["twilio"][1])  # fmt: skip
    call("messaging.createSendgridProvider", providerId="sg", name="Mail")
    call("messaging.createFCMProvider", providerId="fcm", name="Push")
    assert call("messaging.listProviders")["total"] == 3
    sms = call("messaging.listProviders", queries=[q("equal", "type", ["sms"])])
    assert [p["$id"] for p in sms["providers"]] == ["tw"]
    enabled = call("messaging.listProviders", queries=[q("equal", "enabled", [True])])
    assert [p["$id"] for p in enabled["providers"]] == ["tw"]
    assert [p["$id"] for p in call("messaging.listProviders", search="sendgrid")["providers"]] == ["sg"]
    ordered = call("messaging.listProviders", queries=[q("orderDesc", "name"), q("limit", values=[2])])
    assert [p["$id"] for p in ordered["providers"]] == ["tw", "fcm"] and ordered["total"] == 3
    assert call("messaging.listProviders", total=False)["total"] == 0
    error = error_of(call, "messaging.listProviders", queries=[q("equal", "credentials", ["x"])])
    assert error.type == "general_query_invalid"


def test_a_provider_changes_announce_its_events_and_its_logs_keep_them_newest_first(call, engine):
    call("messaging.createTwilioProvider", providerId="tw", name="SMS")
    call("messaging.updateTwilioProvider", providerId="tw", name="SMS 2")
    logs = call("messaging.listProviderLogs", providerId="tw")
    assert logs["total"] == 2 and [log["event"] for log in logs["logs"]] == ["provider.update", "provider.create"]
    assert call("messaging.listProviderLogs", providerId="tw", queries=[q("limit", values=[1])])["logs"][0][
        "event"
    ] == "provider.update"
    error = error_of(call, "messaging.listProviderLogs", providerId="tw", queries=[q("equal", "event", ["x"])])
    assert error.type == "general_query_invalid"
    call("messaging.deleteProvider", providerId="tw")
    project = engine.project("default")
    with project.db.reading() as connection:
        events = read_after(connection, 0, 1000, project.cipher)
    names = [name for event in events for name in event.names]
    assert events[-1].payload["$id"] == "tw" and events[-1].payload["credentials"] == {}
    assert {"providers.tw.create", "providers.tw.update", "providers.tw.delete", "providers.*.create"} <= set(names)
    assert call("messaging.listProviders")["total"] == 0
