"""Delivery through messaging providers: SMTP for real (STARTTLS, implicit TLS, login) against a local aiosmtpd
server; every HTTP provider's request as a local receiver gets it (method, path, auth, body), pointed there with
BAAS_MCP_MESSAGING_BASE_URL_<PROVIDER>; failures (refused connections, error answers, addresses the outbound policy
refuses) come back as Appwrite's delivery errors, never as exceptions; and the provider Appwrite picks."""

from __future__ import annotations

import base64
import json
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs

import jwt
import pytest
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mcp_server.engine import Engine
from mcp_server.engine.messaging.delivery import deliver, pick_provider
from mcp_server.engine.outbound import trusted_roots
from mcp_server.engine.permissions import ADMIN
from tests.backends.servers import Answer, Recorder, free_port, json_answer, scripted
from tests.smtp_sink import QUIET, Sink
from tests.tls import self_signed

pytestmark = QUIET
SENDER = {
    "fromName": "Shop",
    "fromEmail": "shop@example.com",
    "replyToName": "Help",
    "replyToEmail": "help@example.com",
}
EMAIL = {"subject": "Hello", "content": "<p>Hi <b>there</b></p>", "html": True}


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:
    instance = Engine(tmp_path / "data", list_cache_ttl=0, allow_private_urls=True)
    yield instance
    instance.close()


@pytest.fixture
def tls(tmp_path, monkeypatch) -> ssl.SSLContext:
    """A server-side TLS context for 127.0.0.1 whose certificate the engine trusts (SSL_CERT_FILE)."""
    cert, key, _ = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    trusted_roots.cache_clear()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    yield context
    trusted_roots.cache_clear()


def provider(engine: Engine, operation: str, **params) -> dict:
    return engine.call(
        f"messaging.{operation}", {"providerId": "unique()", "name": "P", "enabled": True, **params}, ADMIN
    )


def send(engine: Engine, chosen: dict, kind: str, message: dict, recipients: list[str]):
    return deliver(engine, engine.project("default"), chosen, kind, message, recipients)


@contextmanager
def smtp_server(tls: ssl.SSLContext, *, implicit: bool) -> Iterator[Sink]:
    """An SMTP server on 127.0.0.1 that takes mail after a login over TLS (STARTTLS, or TLS from the start)."""
    sink = Sink(free_port(), "mailer", "s3cret")
    # aiosmtpd does not see a session of implicit TLS as TLS, so it is told logins need no STARTTLS there.
    implicit_tls = {"ssl_context": tls, "auth_require_tls": False}
    security = implicit_tls if implicit else {"tls_context": tls, "require_starttls": True}
    controller = Controller(
        sink, hostname="127.0.0.1", port=sink.port, authenticator=sink.authenticate, auth_required=True, **security
    )
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@pytest.mark.parametrize(("encryption", "implicit"), [("tls", False), ("ssl", True), ("none", False)])
def test_smtp_delivers_over_tls_after_a_login_every_recipient_a_blind_copy(engine, tls, encryption, implicit):
    """`none` with autoTLS (the default) takes the STARTTLS the server offers, as PHPMailer does."""
    with smtp_server(tls, implicit=implicit) as sink:
        chosen = provider(
            engine, "createSMTPProvider", host="127.0.0.1", port=sink.port, username="mailer", password="s3cret",
            encryption=encryption, mailer="Shop mailer", **SENDER,
        )  # fmt: skip
        message = {**EMAIL, "cc": ["boss@example.com"], "attachments": [("a.txt", "text/plain", b"attached")]}
        result = send(engine, chosen, "email", message, ["ada@example.com", "bob@example.com"])
        assert (result.delivered, result.errors) == (2, [])
        [email] = sink.wait_for(1)
        mail_from, rcpt = sink.envelopes[0]
    assert mail_from == "shop@example.com"
    assert sorted(rcpt) == ["ada@example.com", "bob@example.com", "boss@example.com"]
    assert "ada@example.com" not in str(email["To"]) and email["Cc"] == "boss@example.com"
    assert (email["From"], email["Reply-To"]) == ("Shop <shop@example.com>", "Help <help@example.com>")
    assert (email["Subject"], email["X-Mailer"]) == ("Hello", "Shop mailer")
    body = email.get_body(("html",)).get_content()
    assert "<b>there</b>" in body and email.get_body(("plain",)).get_content().strip() == "Hi there"
    [attachment] = list(email.iter_attachments())
    assert (attachment.get_filename(), attachment.get_content()) == ("a.txt", "attached")


def test_smtp_failures_are_delivery_errors_for_each_recipient(engine, tls):
    with smtp_server(tls, implicit=False) as sink:
        wrong = provider(
            engine, "createSMTPProvider", host="127.0.0.1", port=sink.port, username="mailer", password="wrong",
            encryption="tls", **SENDER,
        )  # fmt: skip
        result = send(engine, wrong, "email", EMAIL, ["ada@example.com"])
        assert sink.received == []
    assert result.delivered == 0
    [error] = result.errors
    assert error.startswith("Failed sending to target ada@example.com with error: the SMTP server could not be")
    # Several hosts are tried in order: the first refuses connections, the second takes the mail.
    with smtp_server(tls, implicit=False) as sink:
        hosts = f"127.0.0.1:{free_port()};tls://127.0.0.1:{sink.port}"
        chosen = provider(engine, "createSMTPProvider", host=hosts, username="mailer", password="s3cret", **SENDER)
        assert send(engine, chosen, "email", EMAIL, ["ada@example.com"]).delivered == 1


def test_a_private_address_is_refused_without_allow_private_urls(tmp_path, tls):
    engine = Engine(tmp_path / "strict", list_cache_ttl=0)
    try:
        with smtp_server(tls, implicit=False) as sink:
            chosen = provider(engine, "createSMTPProvider", host="127.0.0.1", port=sink.port, **SENDER)
            result = send(engine, chosen, "email", EMAIL, ["ada@example.com"])
            assert sink.received == []
        assert result.delivered == 0 and "--allow-private-urls" in result.errors[0]
        twilio = provider(engine, "createTwilioProvider", **{"from": "+15550001111"}, accountSid="AC", authToken="t")
        result = send(engine, twilio, "sms", {"content": "hi"}, ["+15550002222"])
        assert result.delivered == 0 and "Failed sending to target +15550002222" in result.errors[0]
    finally:
        engine.close()


@contextmanager
def receiver(monkeypatch, provider_name: str, *answers: Answer) -> Iterator[Recorder]:
    """A local HTTP server standing in for the provider's API."""
    recorder = Recorder(scripted(*(answers or (json_answer(200, {}),))))
    monkeypatch.setenv(f"BAAS_MCP_MESSAGING_BASE_URL_{provider_name.upper()}", recorder.endpoint.removesuffix("/v1"))
    try:
        yield recorder
    finally:
        recorder.close()


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def form(seen) -> dict:
    return {key: values[0] for key, values in parse_qs(seen.body.decode(), keep_blank_values=True).items()}


def test_twilio_sends_one_form_per_number_with_basic_auth(engine, monkeypatch):
    chosen = provider(engine, "createTwilioProvider", **{"from": "+15550001111"}, accountSid="AC9", authToken="tok")
    with receiver(monkeypatch, "twilio", json_answer(201, {}), json_answer(400, {"message": "Invalid 'To'"})) as api:
        result = send(engine, chosen, "sms", {"content": "Your code is 1"}, ["+15550002222", "+15550003333"])
    first = api.requests[0]
    assert (first.method, first.path) == ("POST", "/2010-04-01/Accounts/AC9/Messages.json")
    assert first.headers["authorization"] == basic("AC9", "tok")
    assert form(first) == {"Body": "Your code is 1", "From": "+15550001111", "To": "+15550002222"}
    assert result.delivered == 1
    assert result.errors == ["Failed sending to target +15550003333 with error: Invalid 'To'"]


def test_vonage_sends_the_key_and_secret_in_the_form(engine, monkeypatch):
    chosen = provider(engine, "createVonageProvider", **{"from": "+15550001111"}, apiKey="key", apiSecret="sec")
    ok = json_answer(200, {"messages": [{"status": "0", "to": "15550002222"}]})
    with receiver(monkeypatch, "vonage", ok) as api:
        result = send(engine, chosen, "sms", {"content": "hi"}, ["+15550002222"])
    [seen] = api.requests
    assert (seen.method, seen.path) == ("POST", "/sms/json")
    assert form(seen) == {"text": "hi", "from": "+15550001111", "to": "15550002222", "api_key": "key",
                          "api_secret": "sec"}  # fmt: skip
    assert (result.delivered, result.errors) == (1, [])


def test_msg91_sends_a_flow_with_the_auth_key(engine, monkeypatch):
    chosen = provider(engine, "createMsg91Provider", templateId="tpl", senderId="SHOP", authKey="auth")
    with receiver(monkeypatch, "msg91", json_answer(500, {})) as api:
        result = send(engine, chosen, "sms", {"content": "123456"}, ["+15550002222", "+15550003333"])
    [seen] = api.requests
    assert (seen.method, seen.path, seen.headers["authkey"]) == ("POST", "/api/v5/flow/", "auth")
    body = seen.json()
    assert (body["sender"], body["template_id"]) == ("SHOP", "tpl")
    assert body["recipients"][1] == {"mobiles": "15550003333", "content": "123456", "otp": "123456"}
    assert (
        result.delivered == 0 and result.errors[1] == "Failed sending to target +15550003333 with error: Unknown error"
    )


def test_telesign_sends_a_bulk_sms_with_a_reference_per_number(engine, monkeypatch):
    chosen = provider(engine, "createTelesignProvider", **{"from": "+15550001111"}, customerId="cust", apiKey="key")
    with receiver(monkeypatch, "telesign") as api:
        result = send(engine, chosen, "sms", {"content": "hi"}, ["+15550002222", "+15550003333"])
    [seen] = api.requests
    assert (seen.method, seen.path, seen.headers["authorization"]) == (
        "POST",
        "/v1/verify/bulk_sms",
        basic("cust", "key"),
    )
    sent = form(seen)
    assert sent["template"] == "hi"
    assert [entry.split(":")[0] for entry in sent["recipients"].split(",")] == ["+15550002222", "+15550003333"]
    assert (result.delivered, result.errors) == (2, [])


def test_textmagic_sends_the_numbers_without_plus_and_its_headers(engine, monkeypatch):
    chosen = provider(engine, "createTextmagicProvider", **{"from": "+15550001111"}, username="user", apiKey="key")
    with receiver(monkeypatch, "textmagic", json_answer(401, {"message": "Unauthorized"})) as api:
        result = send(engine, chosen, "sms", {"content": "hi"}, ["+15550002222"])
    [seen] = api.requests
    assert (seen.path, seen.headers["x-tm-username"], seen.headers["x-tm-key"]) == ("/api/v2/messages", "user", "key")
    assert form(seen) == {"text": "hi", "from": "15550001111", "phones": "15550002222"}
    assert result.errors == ["Failed sending to target +15550002222 with error: Unauthorized"]


def test_sendgrid_sends_a_personalization_per_recipient(engine, monkeypatch):
    chosen = provider(engine, "createSendgridProvider", apiKey="SG.key", **SENDER)
    message = {**EMAIL, "bcc": ["audit@example.com"], "attachments": [("a.txt", "text/plain", b"attached")]}
    with receiver(monkeypatch, "sendgrid", Answer(202)) as api:
        result = send(engine, chosen, "email", message, ["ada@example.com", "bob@example.com"])
    [seen] = api.requests
    assert (seen.method, seen.path, seen.headers["authorization"]) == ("POST", "/v3/mail/send", "Bearer SG.key")
    body = seen.json()
    assert body["personalizations"][1] == {"to": [{"email": "bob@example.com"}], "subject": "Hello",
                                           "bcc": [{"email": "audit@example.com"}]}  # fmt: skip
    assert body["from"] == {"name": "Shop", "email": "shop@example.com"}
    assert body["reply_to"] == {"name": "Help", "email": "help@example.com"}
    assert body["content"] == [{"type": "text/html", "value": EMAIL["content"]}]
    assert base64.b64decode(body["attachments"][0]["content"]) == b"attached"
    assert (result.delivered, result.errors) == (2, [])


def test_mailgun_sends_a_form_to_the_domain_with_basic_auth(engine, monkeypatch):
    chosen = provider(engine, "createMailgunProvider", apiKey="mg-key", domain="mg.example.com", isEuRegion=True,
                      **SENDER)  # fmt: skip
    with receiver(monkeypatch, "mailgun", json_answer(400, {"message": "Domain not found"})) as api:
        result = send(engine, chosen, "email", {**EMAIL, "html": False}, ["ada@example.com", "bob@example.com"])
    [seen] = api.requests
    assert (seen.method, seen.path) == ("POST", "/v3/mg.example.com/messages")
    assert seen.headers["authorization"] == basic("api", "mg-key")
    sent = form(seen)
    assert sent["to"] == "ada@example.com,bob@example.com" and sent["from"] == "Shop <shop@example.com>"
    assert (sent["text"], sent["h:Reply-To"]) == (EMAIL["content"], "Help <help@example.com>")
    assert json.loads(sent["recipient-variables"]) == {"ada@example.com": [], "bob@example.com": []}
    assert result.delivered == 0
    assert result.errors[0] == "Failed sending to target ada@example.com with error: Domain not found"


def test_resend_sends_a_batch_and_reads_each_entrys_error(engine, monkeypatch):
    chosen = provider(engine, "createResendProvider", apiKey="re_key", **SENDER)
    answer = json_answer(200, {"data": [{"id": "1"}], "errors": [{"index": 1, "message": "Invalid `to` field"}]})
    with receiver(monkeypatch, "resend", answer) as api:
        result = send(engine, chosen, "email", EMAIL, ["ada@example.com", "bad"])
    [seen] = api.requests
    assert (seen.method, seen.path, seen.headers["authorization"]) == ("POST", "/emails/batch", "Bearer re_key")
    first = seen.json()[0]
    assert first == {"from": "Shop <shop@example.com>", "to": ["ada@example.com"], "subject": "Hello",
                     "html": EMAIL["content"], "reply_to": ["Help <help@example.com>"]}  # fmt: skip
    assert result.delivered == 1 and result.errors == ["Failed sending to target bad with error: Invalid `to` field"]


def test_ses_sends_a_raw_email_signed_with_aws_signature_v4(engine, monkeypatch):
    chosen = provider(engine, "createSesProvider", accessKey="AKIDEXAMPLE", secretKey="secret", region="eu-west-1",
                      **SENDER)  # fmt: skip
    with receiver(monkeypatch, "ses") as api:
        result = send(engine, chosen, "email", EMAIL, ["ada@example.com"])
    [seen] = api.requests
    assert (seen.method, seen.path) == ("POST", "/v2/email/outbound-emails")
    authorization = seen.headers["authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/ses/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=" in authorization
    body = seen.json()
    assert body["Destination"]["ToAddresses"] == ["ada@example.com"]
    assert b"Subject: Hello" in base64.b64decode(body["Content"]["Raw"]["Data"])
    assert (result.delivered, result.errors) == (1, [])


def pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_fcm_trades_a_signed_jwt_for_a_token_then_sends_one_request_per_device(engine, monkeypatch):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    account = {"project_id": "shop-app", "client_email": "sender@shop.iam", "private_key": pem(key)}
    chosen = provider(engine, "createFCMProvider", serviceAccountJSON=account)
    token = json_answer(200, {"access_token": "ya29.token"})
    gone = json_answer(404, {"error": {"status": "NOT_FOUND", "message": "not found"}})
    with receiver(monkeypatch, "fcm", token, json_answer(200, {"name": "m"}), gone) as api:
        message = {"title": "Sale", "body": "50% off", "data": {"sku": "1"}, "badge": 3}
        result = send(engine, chosen, "push", message, ["device-1", "device-2"])
    exchange, first, _ = api.requests
    assert (exchange.method, exchange.path) == ("POST", "/token")
    assertion = form(exchange)["assertion"]
    claims = jwt.decode(
        assertion, key.public_key(), algorithms=["RS256"], audience="https://oauth2.googleapis.com/token"
    )
    assert claims["iss"] == "sender@shop.iam"
    assert (first.path, first.headers["authorization"]) == ("/v1/projects/shop-app/messages:send", "Bearer ya29.token")
    sent = first.json()["message"]
    assert sent["token"] == "device-1" and sent["notification"] == {"title": "Sale", "body": "50% off"}
    assert sent["data"] == {"sku": "1"} and sent["apns"]["payload"]["aps"]["badge"] == 3
    assert result.delivered == 1
    assert result.errors == ["Failed sending to target device-2 with error: Expired device token"]


def test_fcm_without_a_token_is_one_error_for_the_whole_message(engine, monkeypatch):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    account = {"project_id": "p", "client_email": "a@p.iam", "private_key": pem(key)}
    chosen = provider(engine, "createFCMProvider", serviceAccountJSON=account)
    with receiver(monkeypatch, "fcm", json_answer(401, {"error": "invalid_grant"})) as api:
        result = send(engine, chosen, "push", {"title": "t"}, ["device-1"])
    assert result.delivered == 0 and len(api.requests) == 1
    assert result.errors == ["Failed sending to targets with error: Failed to obtain FCM access token: HTTP 401"]
    unsigned = provider(engine, "createFCMProvider", serviceAccountJSON={"project_id": "p", "private_key": "junk"})
    [error] = send(engine, unsigned, "push", {"title": "t"}, ["device-1"]).errors
    assert error.startswith("Failed sending to targets with error: Failed to obtain FCM access token: the service")


def test_apns_sends_one_request_per_device_with_an_es256_token(engine, monkeypatch):
    key = ec.generate_private_key(ec.SECP256R1())
    keys = {"authKey": pem(key), "authKeyId": "KEY123", "teamId": "TEAM", "bundleId": "shop.app"}
    chosen = provider(engine, "createAPNSProvider", sandbox=True, **keys)
    with receiver(monkeypatch, "apns", Answer(200), json_answer(410, {"reason": "BadDeviceToken"})) as api:
        result = send(engine, chosen, "push", {"title": "Sale", "body": "now", "sound": "ping"}, ["aaa", "bbb"])
    first = api.requests[0]
    assert (first.method, first.path) == ("POST", "/3/device/aaa")
    assert (first.headers["apns-topic"], first.headers["apns-push-type"]) == ("shop.app", "alert")
    token = first.headers["authorization"].removeprefix("Bearer ")
    assert jwt.get_unverified_header(token)["kid"] == "KEY123"
    assert jwt.decode(token, key.public_key(), algorithms=["ES256"])["iss"] == "TEAM"
    assert first.json() == {"aps": {"alert": {"title": "Sale", "body": "now"}, "sound": "ping"}}
    assert result.delivered == 1
    assert result.errors == ["Failed sending to target bbb with error: Expired device token"]


def test_a_provider_that_does_not_answer_is_an_error_not_an_exception(engine, monkeypatch):
    chosen = provider(engine, "createSendgridProvider", apiKey="k", **SENDER)
    monkeypatch.setenv("BAAS_MCP_MESSAGING_BASE_URL_SENDGRID", f"http://127.0.0.1:{free_port()}")
    result = send(engine, chosen, "email", EMAIL, ["ada@example.com"])
    assert result.delivered == 0
    assert result.errors[0].startswith("Failed sending to target ada@example.com with error: ")


def test_a_deleted_or_mistyped_provider_is_an_error(engine):
    chosen = provider(engine, "createSendgridProvider", apiKey="k", **SENDER)
    assert send(engine, chosen, "sms", {"content": "x"}, ["+15550002222"]).errors == [
        "Failed sending to targets with error: Provider with the requested ID is of the incorrect type"
    ]
    engine.call("messaging.deleteProvider", {"providerId": chosen["$id"]}, ADMIN)
    assert send(engine, chosen, "email", EMAIL, ["ada@example.com"]).errors == [
        "Failed sending to targets with error: Provider with the requested ID could not be found"
    ]


def test_the_provider_picked_is_the_first_enabled_one_of_the_type(engine):
    project = engine.project("default")
    assert pick_provider(project.connection, "sms") is None
    provider(engine, "createTwilioProvider", providerId="off", accountSid="AC")  # incomplete: disabled
    provider(engine, "createVonageProvider", providerId="first", **{"from": "+15550001111"}, apiKey="k", apiSecret="s")
    provider(engine, "createTwilioProvider", providerId="second", **{"from": "+15550001111"}, accountSid="A",
             authToken="t")  # fmt: skip
    picked = pick_provider(project.connection, "sms")
    assert picked["$id"] == "first" and picked["credentials"] == {}
    assert pick_provider(project.connection, "email") is None
