"""Email through an SMTP provider, as Appwrite sends it (utopia-php/messaging's SMTP adapter, PHPMailer): every
recipient as a blind copy of one message, up to 1000 a message, through engine/mail.py's bounded, policy-checked
sessions. `host` may list several servers, `;`-separated, each with its own `tls://` or `ssl://` and `:port`; they
are tried in order."""

from __future__ import annotations

from ...mail import deliver
from ...outbound import Failed, Outbound
from .mime import document

BATCH = 1000


def servers(credentials: dict, encryption: str) -> list[tuple[str, int, str]]:
    """(host, port, encryption) of each server the `host` credential lists."""
    found = []
    for entry in (credentials.get("host") or "").split(";"):
        entry = entry.strip()
        secure = encryption
        for scheme in ("tls", "ssl"):
            if entry.lower().startswith(f"{scheme}://"):
                secure, entry = scheme, entry[len(scheme) + 3 :]
        host, _, port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if host:
            found.append((host, int(port) if port.isdigit() else int(credentials.get("port") or 25), secure))
    return found


def send(provider: dict, message: dict, recipients: list[str], outbound: Outbound) -> list[str | None]:
    """Each recipient's error, or None when the server took the message for them."""
    credentials, options = provider["credentials"], provider["options"]
    password = credentials.get("password") or ""
    errors: list[str | None] = []
    for start in range(0, len(recipients), BATCH):
        batch = recipients[start : start + BATCH]
        email = document(provider, message, [], options.get("mailer") or "")
        envelope = [*batch, *(message.get("cc") or []), *(message.get("bcc") or [])]
        error = "Unknown error"
        for host, port, secure in servers(credentials, options.get("encryption") or ""):
            settings = {
                "host": host,
                "port": port,
                "username": (credentials.get("username") or "") if password else "",
                "password": password,
                "secure": secure,
                "autoTLS": bool(options.get("autoTLS")),
            }
            try:
                deliver(settings, [email], outbound, recipients=envelope)
                error = None
                break
            except Failed as failed:  # Refused included: an address the outbound policy does not permit
                error = str(failed)
        errors.extend([error] * len(batch))
    return errors
