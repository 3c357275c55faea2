"""The project's OAuth2 providers (project.listOAuth2Providers, getOAuth2Provider, updateOAuth2<Provider>)
through Engine.call: every provider of the catalog set up by one handler, secrets never shown."""

from __future__ import annotations

import re

from mcp_server.engine.permissions import GUEST
from tests.engine.conftest import error_of, q

SECRET_NAMES = re.compile(r"secret|p8", re.IGNORECASE)


def providers(catalog) -> dict[str, tuple[str, list[str]]]:
    """Each provider id: its update operation and fields, as the catalog has them."""
    return {
        op.path.rsplit("/", 1)[-1]: (op.id, [name for name in op.input_schema["properties"] if name != "enabled"])
        for op in catalog.operations
        if op.id.startswith("project.updateOAuth2")
    }


def stored_oauth2(engine) -> str:
    row = engine.project().connection.execute("SELECT value FROM _meta WHERE key = 'project.oauth2'").fetchone()
    return row[0] if row else ""


def test_every_provider_is_listed_off_with_its_fields(call, catalog):
    known = providers(catalog)
    listed = call("project.listOAuth2Providers")
    assert listed["total"] == len(known) == len(listed["providers"]) > 40
    assert [p["$id"] for p in listed["providers"]] == sorted(known, key=str.lower)
    for model in listed["providers"]:
        _, fields = known[model["$id"]]
        assert list(model) == ["$id", "enabled", *fields] and model["enabled"] is False
        assert [name for name in fields if SECRET_NAMES.search(name)], model  # one write-only field at least
        assert call("project.getOAuth2Provider", providerId=model["$id"]) == model
    assert call("project.getOAuth2Provider", providerId="google")["prompt"] == ["consent"]
    page = call("project.listOAuth2Providers", queries=[q("limit", values=[3]), q("offset", values=[1])])
    assert page["providers"] == listed["providers"][1:4] and page["total"] == listed["total"]


def test_every_provider_is_set_up_by_its_operation_and_secrets_are_never_shown(engine, call, catalog):
    for provider, (operation, fields) in providers(catalog).items():
        values = {name: f"https://{provider}.example.com/{name}" for name in fields if name != "prompt"}
        saved = call(operation, **values)
        assert saved["$id"] == provider and saved["enabled"] is True, provider  # complete: switched on
        for name in fields:
            if SECRET_NAMES.search(name):
                assert saved[name] == "", (provider, name)
            elif name != "prompt":
                assert saved[name] == values[name], (provider, name)
        assert call("project.getOAuth2Provider", providerId=provider) == saved
        # A field left out keeps its value.
        assert call(operation, enabled=False) == {**saved, "enabled": False}
    raw = stored_oauth2(engine)
    assert "clientSecret" in raw and "/clientSecret" not in raw and "/p8File" not in raw  # secrets sealed
    assert all(not p["enabled"] for p in call("project.listOAuth2Providers")["providers"])


def test_enabling_needs_the_credentials_and_each_providers_own_fields(call):
    refused = error_of(call, "project.updateOAuth2GitHub", clientId="id", enabled=True)
    assert refused.type == "general_argument_invalid" and "Client ID and Client Secret" in refused.message
    assert call("project.getOAuth2Provider", providerId="github")["clientId"] == ""  # nothing changed
    # Left out, `enabled` stays off while the credentials are incomplete.
    assert call("project.updateOAuth2GitHub", clientId="id")["enabled"] is False
    assert call("project.updateOAuth2GitHub", clientSecret="shh")["enabled"] is True
    oidc = error_of(call, "project.updateOAuth2Oidc", clientId="a", clientSecret="b", enabled=True)
    assert "wellKnownURL" in oidc.message
    assert call("project.updateOAuth2Oidc", clientId="a", clientSecret="b")["enabled"] is False
    assert call("project.updateOAuth2Oidc", wellKnownURL="https://id.example.com/.well-known")["enabled"] is True
    assert "Domain" in error_of(call, "project.updateOAuth2Okta", clientId="a", clientSecret="b", enabled=True).message
    for prompt in ([], ["none", "consent"]):
        assert error_of(call, "project.updateOAuth2Google", prompt=prompt).type == "general_argument_invalid"
    assert call("project.updateOAuth2Google", prompt=["select_account", "consent"])["prompt"] == [
        "select_account",
        "consent",
    ]


def test_hostile_provider_input_is_refused(call):
    for operation, params in (
        ("project.updateOAuth2GitHub", {"clientId": "x" * 257}),
        ("project.updateOAuth2GitHub", {"clientSecret": "x" * 513}),
        ("project.updateOAuth2Apple", {"p8File": "x" * 4097}),
        ("project.updateOAuth2GitHub", {"clientId": 5}),
        ("project.updateOAuth2GitHub", {"enabled": "yes"}),
        ("project.updateOAuth2Google", {"prompt": ["always"]}),
        ("project.updateOAuth2GitHub", {"unknown": "x"}),
    ):
        assert error_of(call, operation, **params).type == "general_argument_invalid", (operation, params)
    for provider in ("nope", "mock", "GitHub", "github/../x", "x" * 5000):
        refused = error_of(call, "project.getOAuth2Provider", providerId=provider)
        assert refused.type == "general_argument_invalid" and "providerId" in refused.message
    assert all(not p["enabled"] for p in call("project.listOAuth2Providers")["providers"])


def test_signing_in_with_a_provider_stays_offline(call):
    call("project.updateOAuth2GitHub", clientId="id", clientSecret="shh", enabled=True)
    refused = error_of(call, "account.createOAuth2Token", GUEST, provider="github")
    assert refused.type == "project_provider_disabled"
