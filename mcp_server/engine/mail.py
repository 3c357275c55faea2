"""A project's custom SMTP server: its settings, and sending email through it.

The settings (Appwrite's project `smtp` attribute) are kept in the project's database; the password is
sealed with the project's key (encryption.py) and never shown again. A connection goes only where the
engine's outbound policy lets requests go (outbound.py): the host is resolved, every address checked
(loopback and private addresses need --allow-private-urls), and the connection made to a checked
address while STARTTLS (asked for, or taken when the server offers it and the settings say `autoTLS`) or implicit
TLS still verifies the certificate of the host's name. Every step
is bounded by a timeout; failures read the same whatever the cause, so they do not map the network.
"""

from __future__ import annotations

import re
import smtplib
import socket
import sqlite3
import ssl
import time
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any

from .outbound import Failed, Outbound, trusted_roots
from .projectdb import read_setting, write_setting

META_KEY = "project.smtp"
FIELDS: dict[str, Any] = {
    "host": "",
    "port": 0,
    "username": "",
    "password": "",
    "senderEmail": "",
    "senderName": "",
    "replyToEmail": "",
    "replyToName": "",
    "secure": "",
    "enabled": False,
}
SECURE = ("tls", "ssl")
CHECK_TIMEOUT = 5.0
SEND_TIMEOUT = 10.0
HOSTNAME = re.compile(r"(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?")
# The engine's own sender when neither the SMTP settings nor a template name one (Appwrite's defaults).
DEFAULT_SENDER = ("Appwrite", "team@appwrite.io")


def read(project: Any, connection: sqlite3.Connection) -> dict:
    """The project's SMTP settings, password opened (for sending, never for showing)."""
    settings = {**FIELDS, **read_setting(connection, META_KEY, {})}
    if settings["password"]:
        settings["password"] = project.cipher.decrypt(settings["password"])
    return settings


def store(project: Any, connection: sqlite3.Connection, settings: dict) -> None:
    sealed = {**settings, "password": project.cipher.encrypt(settings["password"]) if settings["password"] else ""}
    write_setting(connection, META_KEY, sealed)


def valid_host(host: str) -> bool:
    """A host name or an IP address (one SMTP server; no port, path or list)."""
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
        return True
    except (OSError, ValueError):
        return bool(HOSTNAME.fullmatch(host))


class PinnedSMTP(smtplib.SMTP):
    """SMTP to one checked address, speaking to (and verifying the certificate of) the host's name."""

    def __init__(self, address: str, **kwargs: Any) -> None:
        self.address = address
        super().__init__(**kwargs)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return socket.create_connection((self.address, port), timeout)


class PinnedSMTPS(smtplib.SMTP_SSL):
    """SMTP over implicit TLS (port 465 style) to one checked address."""

    def __init__(self, address: str, **kwargs: Any) -> None:
        self.address = address
        super().__init__(**kwargs)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        plain = socket.create_connection((self.address, port), timeout)
        return self.context.wrap_socket(plain, server_hostname=self._host)


def unreachable(timeout: float) -> Failed:
    return Failed(
        f"the SMTP server could not be reached, did not answer within {timeout:g} s, refused the login or the "
        "message, or has no valid TLS certificate"
    )


def session(settings: dict, outbound: Outbound, timeout: float) -> smtplib.SMTP:
    """A connection to the settings' server, greeted, secured as they say and logged in.

    Raises Refused for an address the outbound policy does not permit, Failed for anything else.
    """
    host, port = settings["host"], settings["port"]
    deadline = time.monotonic() + timeout
    addresses = outbound.addresses(host, port, deadline, timeout, "the SMTP host")
    for address in addresses:
        remaining = max(deadline - time.monotonic(), 0.001)
        kind = PinnedSMTPS if settings["secure"] == "ssl" else PinnedSMTP
        extra = {"context": trusted_roots()} if settings["secure"] == "ssl" else {}
        client = kind(str(address), timeout=remaining, **extra)
        try:
            client.connect(host, port)
            client.ehlo()
            upgrade = not settings["secure"] and settings.get("autoTLS") and client.has_extn("starttls")
            if settings["secure"] == "tls" or upgrade:
                client.starttls(context=trusted_roots())
                client.ehlo()
            if settings["username"]:
                client.login(settings["username"], settings["password"])
            return client
        except (OSError, smtplib.SMTPException, ssl.SSLError, UnicodeError):
            client.close()
    raise unreachable(timeout)


def check(settings: dict, outbound: Outbound, timeout: float = CHECK_TIMEOUT) -> None:
    """Connect and log in as the settings say, then leave (Appwrite checks a configuration so)."""
    client = session(settings, outbound, timeout)
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()


def one_line(text: str) -> str:
    """A header value on one line (line breaks in a name or subject cannot add headers)."""
    return " ".join(text.split())


def message(
    settings: dict, to: str, subject: str, body: str, *, html: bool, sender: dict | None = None
) -> EmailMessage:
    """The email to send: From and Reply-To from `sender` (a template's), else the SMTP settings."""
    chosen = {key: value for key, value in (sender or {}).items() if value}
    name = chosen.get("senderName") or settings["senderName"] or DEFAULT_SENDER[0]
    address = chosen.get("senderEmail") or settings["senderEmail"] or DEFAULT_SENDER[1]
    email = EmailMessage()
    email["From"] = formataddr((one_line(name), address))
    email["To"] = to
    email["Subject"] = one_line(subject)
    reply_to = chosen.get("replyToEmail") or settings["replyToEmail"]
    if reply_to:
        email["Reply-To"] = formataddr((one_line(chosen.get("replyToName") or settings["replyToName"]), reply_to))
    email.set_content(body, subtype="html" if html else "plain")
    return email


def deliver(
    settings: dict,
    emails: list[EmailMessage],
    outbound: Outbound,
    timeout: float = SEND_TIMEOUT,
    recipients: list[str] | None = None,
) -> None:
    """Send emails through the settings' server, in one connection, to the addresses of their headers or to
    `recipients`; Failed (or Refused) when they could not be."""
    client = session(settings, outbound, timeout)
    try:
        for email in emails:
            client.send_message(email, to_addrs=recipients)
    except (OSError, smtplib.SMTPException, ssl.SSLError, UnicodeError):
        raise unreachable(timeout) from None
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()
