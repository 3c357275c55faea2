"""The `messaging` service's providers, as Appwrite 1.9.6 keeps them (app/controllers/api/messaging.php): create and
update for each provider (SMTP, Sendgrid, Mailgun, Resend, SES for email; Twilio, Vonage, Msg91, Telesign,
Textmagic for SMS; FCM and APNS for push), list, get, delete and the provider's logs.

Each parameter goes where Appwrite puts it: secrets and account settings in `credentials` (sealed at rest,
store.py), sender settings in `options`. A create keeps only what was given (and the fields Appwrite always keeps,
such as the sender of an email provider); it is enabled only when asked to be and complete, else quietly disabled,
as Appwrite does. An update changes only the fields given a non-empty value, and asking to enable an incomplete
provider is `provider_missing_credentials`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..datetimes import now_iso
from ..errors import AppwriteError, invalid_argument
from ..events import announce
from ..identity.identities import EMAIL, check_phone
from ..ids import resolve_id
from ..listing import list_models
from ..registry import Call, handles
from . import logs
from .store import all_providers, require, save

QUERYABLE = {"name", "provider", "type", "enabled"}
SEARCHED = ("$id", "name", "provider", "type")
# Appwrite keeps a provider's credentials and options in columns of 16384 characters each.
MAX_TEXT = 16_384
MAX_NAME = 128
SENDER = ("fromName", "fromEmail", "replyToName", "replyToEmail")


@dataclass(frozen=True)
class Kind:
    """One provider as Appwrite's routes define it: its message type, where each parameter is kept (`credentials`
    or `options`), the ones a create keeps even empty, and what it needs to be enabled on create and on update
    (`key` present, `!key` present and not empty; `options.` prefixed for an option)."""

    provider: str
    type: str
    credentials: tuple[str, ...]
    options: tuple[str, ...]
    always: tuple[str, ...]
    needs_on_create: tuple[str, ...]
    needs_on_update: tuple[str, ...]


EMAIL_NEEDS = ("!options.fromEmail",)
KINDS = {
    "smtp": Kind(
        "smtp", "email", ("host", "port", "username", "password"), (*SENDER, "encryption", "autoTLS", "mailer"),
        ("port", "username", "password", *SENDER, "encryption", "autoTLS", "mailer"),
        ("host", *EMAIL_NEEDS), ("host", *EMAIL_NEEDS),
    ),
    "sendgrid": Kind(
        "sendgrid", "email", ("apiKey",), SENDER, SENDER, ("apiKey", *EMAIL_NEEDS), ("apiKey", "options.fromEmail")
    ),
    "resend": Kind(
        "resend", "email", ("apiKey",), SENDER, SENDER, ("apiKey", *EMAIL_NEEDS), ("apiKey", "options.fromEmail")
    ),
    "mailgun": Kind(
        "mailgun", "email", ("isEuRegion", "apiKey", "domain"), SENDER, SENDER,
        ("isEuRegion", "apiKey", "domain", *EMAIL_NEEDS), ("isEuRegion", "apiKey", "domain", "options.fromEmail"),
    ),
    "ses": Kind(
        "ses", "email", ("accessKey", "secretKey", "region"), SENDER, SENDER,
        ("!accessKey", "!secretKey", "!region", *EMAIL_NEEDS), ("!accessKey", "!secretKey", "!region", *EMAIL_NEEDS),
    ),
    "twilio": Kind(
        "twilio", "sms", ("accountSid", "authToken"), ("from",), (),
        ("accountSid", "authToken", "options.from"), ("accountSid", "authToken", "options.from"),
    ),
    "vonage": Kind(
        "vonage", "sms", ("apiKey", "apiSecret"), ("from",), (),
        ("apiKey", "apiSecret", "options.from"), ("apiKey", "apiSecret", "options.from"),
    ),
    "telesign": Kind(
        "telesign", "sms", ("customerId", "apiKey"), ("from",), (),
        ("customerId", "apiKey", "options.from"), ("customerId", "apiKey", "options.from"),
    ),
    "textmagic": Kind(
        "textmagic", "sms", ("username", "apiKey"), ("from",), (),
        ("username", "apiKey", "options.from"), ("username", "apiKey", "options.from"),
    ),
    "msg91": Kind(
        "msg91", "sms", ("templateId", "senderId", "authKey"), (), (),
        ("senderId", "authKey"), ("senderId", "authKey", "templateId"),
    ),
    "fcm": Kind("fcm", "push", ("serviceAccountJSON",), (), (), ("serviceAccountJSON",), ("serviceAccountJSON",)),
    "apns": Kind(
        "apns", "push", ("authKey", "authKeyId", "teamId", "bundleId"), ("sandbox",), ("sandbox",),
        ("authKey", "authKeyId", "teamId", "bundleId"), ("authKey", "authKeyId", "teamId", "bundleId"),
    ),
}  # fmt: skip
# What a create keeps when the parameter is left out (Appwrite's defaults).
DEFAULTS = {"port": 587, "autoTLS": True, "sandbox": False}
# The operation ids of each provider, in both spellings the catalog has (e.g. createSmtpProvider, createSMTPProvider).
SPELLINGS = {
    "smtp": ("Smtp", "SMTP"), "sendgrid": ("Sendgrid",), "resend": ("Resend",), "mailgun": ("Mailgun",),
    "ses": ("Ses",), "twilio": ("Twilio",), "vonage": ("Vonage",), "telesign": ("Telesign",),
    "textmagic": ("Textmagic",), "msg91": ("Msg91",), "fcm": ("Fcm", "FCM"), "apns": ("Apns", "APNS"),
}  # fmt: skip


def given(value: object) -> bool:
    """Whether a parameter counts as given: PHP's `!empty` for text, `!is_null` for the booleans and numbers."""
    return value is not None and value != "" and value != {} and value != []


def checked(params: dict, kind: Kind) -> dict:
    """The provider's parameters that were given, checked as Appwrite's validators check them."""
    values = {}
    for param in ("name", *kind.credentials, *kind.options):
        value = params.get(param)
        if not given(value):
            continue
        if isinstance(value, str) and len(value) > MAX_TEXT:
            raise invalid_argument(f"Invalid `{param}` param: Value must be a valid string no longer than {MAX_TEXT}")
        values[param] = check(param, value)
    return values


def check(param: str, value: object) -> object:
    if param in ("name", "fromName", "replyToName", "region") and len(value) > MAX_NAME:
        raise invalid_argument(
            f"Invalid `{param}` param: Value must be a valid string and at least 1 chars and no longer than {MAX_NAME}"
        )
    if param in ("fromEmail", "replyToEmail") and not EMAIL.fullmatch(value):
        raise invalid_argument(f"Invalid `{param}` param: Value must be a valid email address")
    if param == "from":
        return check_phone(value, "from")
    if param == "port" and not 1 <= value <= 65535:
        raise invalid_argument("Invalid `port` param: Value must be a valid range between 1 and 65,535")
    if param == "encryption":
        return "" if value == "none" else value
    return value


def complete(provider: dict, needs: tuple[str, ...]) -> bool:
    for need in needs:
        filled = need.startswith("!")
        place, _, key = need.lstrip("!").rpartition(".")
        values = provider["options"] if place == "options" else provider["credentials"]
        if key not in values or (filled and not values[key]):
            return False
    return True


def place(provider: dict, kind: Kind, values: dict) -> None:
    for key, value in values.items():
        if key == "name":
            provider["name"] = value
        else:
            provider["credentials" if key in kind.credentials else "options"][key] = value


def announced(call: Call, provider: dict, label: str) -> dict:
    logs.record(call, f"provider/{provider['$id']}", f"provider.{label}")
    ids = {"providerId": provider["$id"]}
    # The payload holds the credentials, which are sealed at rest: so is the event.
    announce(call.project, call.auth, f"providers.[providerId].{label}", ids, provider, sealed=True)
    return provider


def create(call: Call, kind: Kind) -> dict:
    params, connection, cipher = call.params, call.project.connection, call.project.cipher
    provider_id = resolve_id(params["providerId"], "providerId")
    if not params.get("name"):
        raise invalid_argument(
            f"Invalid `name` param: Value must be a valid string and at least 1 chars and no longer than {MAX_NAME}"
        )
    values = checked(params, kind)
    now = now_iso()
    provider = {
        "$id": provider_id,
        "$createdAt": now,
        "$updatedAt": now,
        "name": "",
        "provider": kind.provider,
        "enabled": False,
        "type": kind.type,
        "credentials": {},
        "options": {},
    }
    place(provider, kind, {key: values.get(key, DEFAULTS.get(key, "")) for key in kind.always})
    place(provider, kind, values)
    provider["enabled"] = params.get("enabled") is True and complete(provider, kind.needs_on_create)
    if connection.execute("SELECT 1 FROM _providers WHERE id = ?", (provider_id,)).fetchone():
        raise AppwriteError("provider_already_exists", "Provider with the requested ID already exists.")
    save(connection, cipher, provider, created=True)
    return announced(call, provider, "create")


def update(call: Call, kind: Kind) -> dict:
    connection, cipher = call.project.connection, call.project.cipher
    provider = require(connection, cipher, call.params["providerId"])
    if provider["provider"] != kind.provider:
        raise AppwriteError("provider_incorrect_type", "Provider with the requested ID is of the incorrect type.")
    place(provider, kind, checked(call.params, kind))
    enabled = call.params.get("enabled")
    if enabled is True and not complete(provider, kind.needs_on_update):
        raise AppwriteError("provider_missing_credentials", "Provider with the requested ID is missing credentials.")
    if enabled is not None:
        provider["enabled"] = enabled
    provider["$updatedAt"] = now_iso()
    save(connection, cipher, provider, created=False)
    return announced(call, provider, "update")


def register(name: str, kind: Kind) -> None:
    spellings = SPELLINGS[name]
    handles(*(f"messaging.create{s}Provider" for s in spellings), announces=True)(lambda call: create(call, kind))
    handles(*(f"messaging.update{s}Provider" for s in spellings), announces=True)(lambda call: update(call, kind))


for _name, _kind in KINDS.items():
    register(_name, _kind)


@handles("messaging.listProviders")
def list_providers(call: Call) -> dict:
    total, page = list_models(
        all_providers(call.project.connection, call.project.cipher),
        call.params.get("queries"),
        QUERYABLE,
        search=call.params.get("search"),
        search_fields=SEARCHED,
        count=call.params.get("total", True),
        noun="provider",
    )
    return {"total": total, "providers": page}


@handles("messaging.getProvider")
def get_provider(call: Call) -> dict:
    return require(call.project.connection, call.project.cipher, call.params["providerId"])


@handles("messaging.listProviderLogs")
def list_provider_logs(call: Call) -> dict:
    connection = call.project.connection
    provider = require(connection, call.project.cipher, call.params["providerId"])
    resource = f"provider/{provider['$id']}"
    return logs.page(connection, resource, call.params.get("queries"), call.params.get("total", True))


@handles("messaging.deleteProvider", announces=True)
def delete_provider(call: Call) -> None:
    connection = call.project.connection
    provider = require(connection, call.project.cipher, call.params["providerId"])
    connection.execute("DELETE FROM _providers WHERE id = ?", (provider["$id"],))
    announced(call, provider, "delete")
