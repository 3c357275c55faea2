"""The `proxy` service's rules, as Appwrite 1.9.6 keeps them (src/Appwrite/Platform/Modules/Proxy): an API rule
serves the API on a domain, a function or site rule runs that resource's active deployment, a redirect rule sends
visitors to a URL. `baas-mcp api` routes by them (the request's Host header).

A domain belongs to one rule across every project of the data dir (`rule_already_exists`). Nothing is verified
over DNS and no certificate is made locally: a domain under `.localhost` (which always resolves to this machine)
is `verified`; any other stays `unverified`, with a log saying so, and is routed all the same.
"""

from __future__ import annotations

import json
import re
import threading
from urllib.parse import urlsplit

from ..datetimes import now_iso
from ..errors import AppwriteError, invalid_argument
from ..events import announce
from ..ids import new_id
from ..listing import list_models
from ..registry import Call, handles
from . import resources
from .store import all_rules, require

QUERYABLE = {
    "domain",
    "type",
    "trigger",
    "deploymentResourceType",
    "deploymentResourceId",
    "deploymentId",
    "deploymentVcsProviderBranch",
}
# What PHP's FILTER_VALIDATE_DOMAIN with FILTER_FLAG_HOSTNAME lets through (Appwrite's Domain validator).
LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
RESERVED = ("localhost", "localhost.")
UNVERIFIED_LOG = (
    "Domains are not verified locally: no DNS lookup, no certificate. Requests naming this domain in their Host "
    "header are routed by this rule all the same."
)
# Checking a domain is free in every project and taking it are one step within this process.
CREATING = threading.Lock()


def check_domain(value: str) -> str:
    """A hostname Appwrite's Domain validator accepts, that is not the server's own name."""
    labels = value.split(".")
    if len(value) > 253 or value.endswith((".", "-")) or not all(LABEL.match(label) for label in labels):
        raise invalid_argument(f"Invalid `domain` param: Value must be a valid domain, not {value[:300]!r}")
    if value.lower() in RESERVED:
        raise invalid_argument(
            "Invalid `domain` param: This domain name is not allowed. Please use a different domain."
        )
    return value


def check_url(value: str) -> str:
    """An absolute URL with a scheme and a host, and no whitespace or control characters (Appwrite's URL
    validator): where a redirect rule sends visitors, in a Location header."""
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or not parts.scheme or not parts.netloc or any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise invalid_argument(f"Invalid `url` param: Value must be a valid URL, not {value[:300]!r}")
    return value


def local(domain: str) -> bool:
    return domain.lower().endswith(".localhost")


def create_rule(call: Call, fields: dict) -> dict:
    """Store a rule for `domain` (free in every project) with `fields`, announce it; the ProxyRule model. Runs
    outside the caller's transaction (the rule's handler has its own), as it looks into every project."""
    engine, project_id = call.engine, call.project.id
    domain = check_domain(call.params["domain"])
    rule_id, now = new_id(), now_iso()
    body = {
        "domain": domain,
        "type": "",
        "trigger": "manual",
        "redirectUrl": "",
        "redirectStatusCode": 301,
        "deploymentId": "",
        "deploymentResourceType": "",
        "deploymentResourceId": "",
        "deploymentVcsProviderBranch": "",
        "status": "verified" if local(domain) else "unverified",
        "logs": "" if local(domain) else UNVERIFIED_LOG,
        "renewAt": "",
        **fields,
    }

    def insert(project) -> dict:
        if project.connection.execute("SELECT 1 FROM _rules WHERE domain = ?", (domain,)).fetchone():
            raise already_exists()
        project.connection.execute(
            "INSERT INTO _rules (id, domain, body, created, updated) VALUES (?, ?, ?, ?, ?)",
            (rule_id, domain, json.dumps(body), now, now),
        )
        project.settings_changed()
        rule = require(project.connection, rule_id)
        announce(project, call.auth, "rules.[ruleId].create", {"ruleId": rule_id}, rule)
        return rule

    with CREATING:
        if engine.rule_for_domain(domain) is not None:
            raise already_exists()
        return engine.change(project_id, insert)


def already_exists() -> AppwriteError:
    return AppwriteError("rule_already_exists", "Domain is already used. Please try again with a different domain.")


def deployment_fields(resource_type: str, resource: dict, branch: str) -> dict:
    return {
        "type": "deployment",
        "deploymentId": resource.get("deploymentId") or "",
        "deploymentResourceType": resource_type,
        "deploymentResourceId": resource["$id"],
        "deploymentVcsProviderBranch": branch,
    }


@handles("proxy.createAPIRule", own_transactions=True)
def create_api_rule(call: Call) -> dict:
    return create_rule(call, {"type": "api"})


@handles("proxy.createFunctionRule", own_transactions=True)
def create_function_rule(call: Call) -> dict:
    function = resources.find(call, "function", call.params["functionId"])
    return create_rule(call, deployment_fields("function", function, call.params.get("branch") or ""))


@handles("proxy.createSiteRule", own_transactions=True)
def create_site_rule(call: Call) -> dict:
    site = resources.find(call, "site", call.params["siteId"])
    return create_rule(call, deployment_fields("site", site, call.params.get("branch") or ""))


@handles("proxy.createRedirectRule", own_transactions=True)
def create_redirect_rule(call: Call) -> dict:
    params = call.params
    resources.find(call, params["resourceType"], params["resourceId"])
    return create_rule(
        call,
        {
            "type": "redirect",
            "redirectUrl": check_url(params["url"]),
            "redirectStatusCode": params["statusCode"],
            "deploymentResourceType": params["resourceType"],
            "deploymentResourceId": params["resourceId"],
        },
    )


@handles("proxy.listRules")
def list_rules(call: Call) -> dict:
    total, page = list_models(
        all_rules(call.project.connection),
        call.params.get("queries"),
        QUERYABLE,
        search=call.params.get("search"),
        search_fields=("$id", "domain", "deploymentVcsProviderBranch"),
        count=call.params.get("total", True),
        noun="rule",
    )
    return {"total": total, "rules": page}


@handles("proxy.getRule")
def get_rule(call: Call) -> dict:
    return require(call.project.connection, call.params["ruleId"])


@handles("proxy.updateRuleStatus", announces=True)
def update_rule_status(call: Call) -> dict:
    """A verified rule stays so; any other fails verification again, as Appwrite's does when DNS does not lead to
    the server (locally: always, for a domain outside `.localhost`)."""
    rule = require(call.project.connection, call.params["ruleId"])
    if rule["status"] != "verified":
        raise AppwriteError("rule_verification_failed", UNVERIFIED_LOG)
    announce(call.project, call.auth, "rules.[ruleId].update", {"ruleId": rule["$id"]}, rule)
    return rule


@handles("proxy.deleteRule", announces=True)
def delete_rule(call: Call) -> None:
    rule = require(call.project.connection, call.params["ruleId"])
    call.project.connection.execute("DELETE FROM _rules WHERE id = ?", (rule["$id"],))
    call.project.settings_changed()
    announce(call.project, call.auth, "rules.[ruleId].delete", {"ruleId": rule["$id"]}, rule)
