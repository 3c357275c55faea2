"""The project's OAuth2 providers (Appwrite 1.9's project.listOAuth2Providers, getOAuth2Provider and the
project.updateOAuth2<Provider> operations): their settings, stored and shown, never used to sign in
(the embedded engine stays offline: account.createOAuth2Session and its kin still answer that no
provider is enabled).

The providers, and each one's fields, are the catalog's: one update operation per provider, whose
path ends with the provider id and whose parameters are the provider's fields. The first is the client
id; fields holding a secret (clientSecret, appSecret, p8File, ...) are write-only: kept sealed with the
project's key and always shown empty. As in Appwrite, a field left out (or null) keeps its value;
`enabled: true` needs the client id and secret (and a provider's own required fields) and fails
without them, while leaving `enabled` out switches the provider on once they are all set (Appwrite
first checks the credentials with the provider, which an offline engine cannot do).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ...catalog import load_catalog
from ..errors import AppwriteError, invalid_argument
from ..listing import limit_offset_page
from ..projectdb import read_setting, write_setting
from ..registry import Call, handles

META_KEY = "project.oauth2"
UPDATE_PREFIX = "project.updateOAuth2"
WRITE_ONLY = re.compile(r"secret|p8", re.IGNORECASE)
# Model defaults other than an empty string.
DEFAULTS = {"prompt": ["consent"]}


# Each update operation, with the id of the provider it sets up (its path's last segment).
UPDATES = {op.id: op.path.rsplit("/", 1)[-1] for op in load_catalog().operations if op.id.startswith(UPDATE_PREFIX)}


def provider_fields() -> dict[str, tuple[str, ...]]:
    """Each provider id, by name, with its fields in the catalog's order (`enabled` apart)."""
    catalog = load_catalog()
    found = {
        provider: tuple(name for name in catalog.get(operation_id).input_schema["properties"] if name != "enabled")
        for operation_id, provider in UPDATES.items()
    }
    return dict(sorted(found.items(), key=lambda item: item[0].lower()))


PROVIDERS = provider_fields()


def check_prompt(prompt: list | None) -> None:
    """Google's prompt: not empty, and "none" only on its own."""
    if prompt is not None and not prompt:
        raise invalid_argument("Prompt array cannot be empty.")
    if prompt and "none" in prompt and len(prompt) > 1:
        raise invalid_argument('When "none" is used as a prompt value, it must be the only element in the array.')


def oidc_endpoints(fields: dict) -> str | None:
    if fields.get("wellKnownURL") or all(fields.get(name) for name in ("authorizationURL", "tokenURL", "userInfoURL")):
        return None
    return (
        "Enabling OpenID Connect requires either wellKnownURL, or all of authorizationURL, tokenURL, and userInfoURL."
    )


def okta_domain(fields: dict) -> str | None:
    return None if fields.get("domain") else "Domain is required when enabling Okta OAuth2 provider."


# What a provider needs besides its client id and secret to be enabled (Appwrite's own rules): why not, or None.
ENABLING_RULES: dict[str, Callable[[dict], str | None]] = {"oidc": oidc_endpoints, "okta": okta_domain}


def stored(connection) -> dict:
    return read_setting(connection, META_KEY, {})


def provider_model(provider: str, fields: dict) -> dict:
    model = {"$id": provider, "enabled": bool(fields.get("enabled", False))}
    for name in PROVIDERS[provider]:
        model[name] = "" if WRITE_ONLY.search(name) else fields.get(name, DEFAULTS.get(name, ""))
    return model


@handles("project.listOAuth2Providers")
def list_providers(call: Call) -> dict:
    settings = stored(call.project.connection)
    models = [provider_model(provider, settings.get(provider, {})) for provider in PROVIDERS]
    total, page = limit_offset_page(models, call.params.get("queries"), count=call.params.get("total", True))
    return {"total": total, "providers": page}


@handles("project.getOAuth2Provider")
def get_provider(call: Call) -> dict:
    provider = call.params["providerId"]
    if provider not in PROVIDERS:
        raise invalid_argument(f"Invalid `providerId` param: Value must be one of ({', '.join(PROVIDERS)})")
    return provider_model(provider, stored(call.project.connection).get(provider, {}))


@handles(*UPDATES)
def update_provider(call: Call) -> dict:
    provider = UPDATES[call.op.id]
    connection = call.project.connection
    check_prompt(call.params.get("prompt"))
    settings = stored(connection)
    fields = dict(settings.get(provider, {}))
    was_enabled = bool(fields.get("enabled", False))
    for name in PROVIDERS[provider]:
        value = call.params.get(name)
        if value is not None:
            fields[name] = call.project.cipher.encrypt(value) if WRITE_ONLY.search(name) and value else value
    enabled = call.params.get("enabled")
    fields["enabled"] = was_enabled if enabled is None else enabled
    if enabled is not False:
        credentials = [PROVIDERS[provider][0], *(name for name in PROVIDERS[provider] if WRITE_ONLY.search(name))]
        problem = None
        if not all(fields.get(name) for name in credentials):
            problem = "Client ID and Client Secret are required when enabling OAuth2 provider."
        elif provider in ENABLING_RULES:
            problem = ENABLING_RULES[provider](fields)
        if problem is not None and enabled:
            raise AppwriteError("general_argument_invalid", f"Could not enable OAuth2 provider: {problem}")
        if problem is None:
            fields["enabled"] = True
    settings[provider] = fields
    write_setting(connection, META_KEY, settings)
    return provider_model(provider, fields)
