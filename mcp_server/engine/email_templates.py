"""The emails the engine sends, as templates a project may customise per locale (Appwrite's project
`templates`): the seven template ids, the locales, the engine's default texts, and rendering.

A template has a subject, a message and optional sender and reply-to fields. Placeholders such as
{{user}}, {{project}}, {{redirect}}, {{team}}, {{otp}} or {{phrase}} are filled once, in one pass:
a value that itself looks like a placeholder stays as it is, and an unknown placeholder is left in
place. A customised message is HTML (as in Appwrite), so the values put into it are HTML-escaped;
the engine's default messages are plain text. The subject is one line of plain text.
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
from dataclasses import dataclass

from .projectdb import read_setting, write_setting

TEMPLATE_IDS = ("verification", "magicSession", "recovery", "invitation", "mfaChallenge", "sessionAlert", "otpSession")
# Appwrite's locale codes (app/config/locale/codes.php).
LOCALES = frozenset(
    """af ar-ae ar-bh ar-dz ar-eg ar-iq ar-jo ar-kw ar-lb ar-ly ar-ma ar-om ar-qa ar-sa ar-sy ar-tn ar-ye as az be
    bg bh bn bs ca cs cy da de de-at de-ch de-li de-lu el en en-au en-bz en-ca en-gb en-ie en-jm en-nz en-tt
    en-us en-za eo es es-ar es-bo es-cl es-co es-cr es-do es-ec es-gt es-hn es-mx es-ni es-pa es-pe es-pr es-py
    es-sv es-uy es-ve et eu fa fi fo fr fr-be fr-ca fr-ch fr-lu ga gd he hi hr hu id is it it-ch ja ji ko ku lt
    lv mk ml ms mt nb ne nl nl-be nn no pa pl pt pt-br rm ro ro-md ru ru-md sb sk sl sq sr sv sv-fi th tn tr ts
    ua ur ve vi xh zh-cn zh-hk zh-sg zh-tw zu""".split()
)
DEFAULT_LOCALE = "en"
FIELDS = ("subject", "message", "senderName", "senderEmail", "replyToEmail", "replyToName")
PREFIX = "templates.email."
PLACEHOLDER = re.compile(r"\{\{(\w{1,64})\}\}")
PHRASE_NOTE = "\n\nSecurity phrase (shown only when you asked for one): {{phrase}}"
DEFAULTS: dict[str, tuple[str, str]] = {
    "verification": (
        "{{project}} account verification",
        "Hello {{user}},\n\nConfirm your email address with this link, valid for 1 hour:\n{{redirect}}\n",
    ),
    "magicSession": (
        "{{project}} sign-in link",
        "Hello {{user}},\n\nSign in to {{project}} with this link, valid for 1 hour:\n{{redirect}}" + PHRASE_NOTE,
    ),
    "recovery": (
        "{{project}} password reset",
        "Hello {{user}},\n\nReset your password with this link, valid for 1 hour:\n{{redirect}}",
    ),
    "invitation": (
        "Invitation to join {{team}}",
        "Hello {{user}},\n\nYou have been invited to join the team {{team}} in {{project}}. Follow this link to "
        "accept the invitation:\n{{redirect}}\n",
    ),
    "mfaChallenge": (
        "{{project}} verification code",
        "Hello {{user}},\n\nYour {{project}} verification code is {{otp}}.",
    ),
    "sessionAlert": (
        "Security alert: new session on your {{project}} account",
        "Hello {{user}},\n\nA new session was created on your {{project}} account on {{date}} at {{time}} UTC.\n"
        "Device: {{device}}\nIP address: {{ipAddress}}\nCountry: {{country}}\n\n"
        "If this was not you, change your password and end the sessions you do not know.",
    ),
    "otpSession": (
        "{{project}} sign-in code",
        "Hello {{user}},\n\nYour {{project}} sign-in code is {{otp}}. It expires in 15 minutes." + PHRASE_NOTE,
    ),
}


@dataclass(frozen=True)
class Rendered:
    """An email ready to send: subject, body (HTML when `html`), and the template's sender fields."""

    template: str
    subject: str
    body: str
    html: bool
    sender: dict


def meta_key(template_id: str, locale: str) -> str:
    return f"{PREFIX}{template_id}-{locale}"


def stored(connection: sqlite3.Connection, template_id: str, locale: str) -> dict:
    """The project's own version of a template in a locale ({} when it has none)."""
    return read_setting(connection, meta_key(template_id, locale), {})


def all_stored(connection: sqlite3.Connection) -> list[tuple[str, str, dict]]:
    """Every customised template: (template id, locale, fields), by key."""
    rows = connection.execute(
        "SELECT key, value FROM _meta WHERE key >= ? AND key < ? ORDER BY key", (PREFIX, PREFIX[:-1] + "/")
    )
    found = []
    for key, value in rows:
        template_id, _, locale = key[len(PREFIX) :].partition("-")
        found.append((template_id, locale, json.loads(value)))
    return found


def save(connection: sqlite3.Connection, template_id: str, locale: str, template: dict) -> None:
    write_setting(connection, meta_key(template_id, locale), template)


def fill(text: str, values: dict[str, str], escape: bool) -> str:
    """`text` with each known {{placeholder}} replaced by its value (HTML-escaped when `escape`), in one pass."""

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        return html.escape(values[name]) if escape else values[name]

    return PLACEHOLDER.sub(value, text)


def render(
    connection: sqlite3.Connection, template_id: str, values: dict[str, str], locale: str = DEFAULT_LOCALE
) -> Rendered:
    """The email of `template_id` with `values` filled in: the project's template in `locale` (else in
    the default locale), field by field over the engine's default."""
    custom = stored(connection, template_id, locale) or stored(connection, template_id, DEFAULT_LOCALE)
    subject, message = DEFAULTS[template_id]
    customised = bool(custom.get("message"))
    body = fill(custom["message"], values, escape=True) if customised else fill(message, values, escape=False)
    subject = " ".join(fill(custom.get("subject") or subject, values, escape=False).split())
    sender = {name: custom.get(name, "") for name in ("senderName", "senderEmail", "replyToEmail", "replyToName")}
    return Rendered(template_id, subject, body, customised, sender)
