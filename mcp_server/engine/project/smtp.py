"""The project's custom SMTP server (Appwrite 1.9's project.updateSMTP and project.createSMTPTest).

updateSMTP changes the settings the call names (an empty string clears one); the password is kept
sealed and always shown empty. As in Appwrite, a change that does not turn SMTP off is checked by
connecting (and logging in) to the server: when the check passes and `enabled` was left out, SMTP is
switched on; when it fails while SMTP is on, the change is refused (project_smtp_config_invalid).
createSMTPTest sends a sample email to up to 10 addresses through the saved settings (or, as Appwrite
1.9.1 clients do, settings given inline with `host`), records it in the outbox, and, unlike Appwrite's
queued delivery, says at once when the server could not take it. The SMTP host must be a public
address unless the engine allows private URLs (outbound.py); ports run from 1 to 65535.
"""

from __future__ import annotations

from .. import mail, outbox
from ..errors import AppwriteError, invalid_argument
from ..identity.identities import EMAIL
from ..outbound import Failed
from ..registry import Call, handles
from .settings import project_model

TEST_SUBJECT = "Custom SMTP email sample"


def check_email(value: object, param: str) -> None:
    if not isinstance(value, str) or len(value) > 255 or not EMAIL.fullmatch(value):
        raise invalid_argument(f"Invalid `{param}` param: Value must be a valid email address")


def check_server(params: dict) -> None:
    """Refuse a host that is not one host name or IP address, a port outside 1-65535, and addresses that
    are not email addresses."""
    for name in ("senderEmail", "replyToEmail", "replyTo"):
        if params.get(name):
            check_email(params[name], name)
    host = params.get("host")
    if host and not mail.valid_host(host):
        raise invalid_argument("Invalid `host` param: Value must be a valid hostname (one host name or IP address)")
    port = params.get("port")
    if port is not None and not 1 <= port <= 65535:
        raise invalid_argument(f"Invalid `port` param: Value must be a port number from 1 to 65535, got {port}")


def smtp_failure(error: Failed) -> AppwriteError:
    return AppwriteError("project_smtp_config_invalid", f"Provided SMTP config is invalid: {error}", 400)


@handles("project.updateSMTP")
def update_smtp(call: Call) -> dict:
    params = call.params
    check_server(params)
    settings = mail.read(call.project, call.project.connection)
    settings.update({name: params[name] for name in mail.FIELDS if params.get(name) is not None})
    enabled = params.get("enabled")
    if settings["enabled"]:
        for name in ("host", "port", "senderEmail"):
            if not settings[name]:
                raise invalid_argument(f'Param "{name}" is not optional.')
    if enabled is not False and settings["senderEmail"]:
        try:
            if not (settings["host"] and settings["port"]):
                raise Failed("the SMTP host and port are not set")
            mail.check(settings, call.outbound)
            if enabled is None:
                settings["enabled"] = True
        except Failed as error:
            if settings["enabled"]:
                raise smtp_failure(error) from None
    mail.store(call.project, call.project.connection, settings)
    return project_model(call.project)


@handles("project.createSMTPTest")
def create_smtp_test(call: Call) -> None:
    params = call.params
    for index, address in enumerate(params["emails"]):
        check_email(address, f"emails[{index}]")
    check_server(params)
    if params.get("host"):
        settings = {
            **mail.FIELDS,
            **{
                name: params[name]
                for name in ("host", "port", "username", "password", "senderName", "senderEmail")
                if params.get(name) is not None
            },
            "replyToEmail": params.get("replyTo") or "",
            "secure": params.get("secure") or "",
        }
    else:
        settings = mail.read(call.project, call.project.connection)
        if not settings["enabled"]:
            raise invalid_argument("SMTP must be enabled on the project to send a test email.")
    for name, words in (("senderEmail", "sender email"), ("host", "host"), ("port", "port")):
        if not settings[name]:
            raise invalid_argument(f"SMTP {words} must be configured on the project to send a test email.")
    sender = f"{settings['senderName']} ({settings['senderEmail']})"
    reply_name = settings["replyToName"] or settings["senderName"]
    reply_to = f"{reply_name} ({settings['replyToEmail'] or settings['senderEmail']})"
    text = (
        f"This is a sample email from the project {call.project.id}: its custom SMTP server delivered it.\n\n"
        f"From: {sender}\nReply to: {reply_to}\n"
    )
    emails = [mail.message(settings, to, TEST_SUBJECT, text, html=False) for to in params["emails"]]
    try:
        mail.deliver(settings, emails, call.outbound)
    except Failed as error:
        raise smtp_failure(error) from None
    for to in params["emails"]:
        outbox.send(call.project.db.path.parent, "email", to, TEST_SUBJECT, text, {}, delivery={"status": "sent"})
