"""The proxy service on the embedded engine: API, function and redirect rules, one domain per data dir, the
statuses a rule takes locally, listing, and what bad domains and missing resources answer."""

from __future__ import annotations

import pytest

from tests.engine.conftest import error_of, q
from tests.engine.test_functions import PYTHON


@pytest.fixture
def function(call) -> dict:
    return call("functions.create", functionId="hello", name="Hello", runtime=PYTHON, entrypoint="main.py")


def test_an_api_rule_under_localhost_is_verified_and_answers_appwrites_model(call):
    rule = call("proxy.createAPIRule", domain="api.myapp.localhost")
    assert {key: rule[key] for key in ("domain", "type", "trigger", "status", "logs", "redirectStatusCode")} == {
        "domain": "api.myapp.localhost",
        "type": "api",
        "trigger": "manual",
        "status": "verified",
        "logs": "",
        "redirectStatusCode": 301,
    }
    assert set(rule) >= {"$id", "$createdAt", "$updatedAt", "deploymentId", "deploymentResourceType", "renewAt"}
    assert call("proxy.getRule", ruleId=rule["$id"]) == rule
    assert call("proxy.updateRuleStatus", ruleId=rule["$id"])["status"] == "verified"


def test_another_domain_stays_unverified_and_verifying_it_fails_saying_why(call):
    rule = call("proxy.createAPIRule", domain="api.example.com")
    assert rule["status"] == "unverified"
    assert "not verified locally" in rule["logs"]
    error = error_of(call, "proxy.updateRuleStatus", ruleId=rule["$id"])
    assert (error.type, error.code) == ("rule_verification_failed", 400)


def test_a_function_rule_leads_to_the_function_and_a_missing_one_is_refused(call, function):
    rule = call("proxy.createFunctionRule", domain="hello.example.com", functionId="hello", branch="main")
    assert (rule["type"], rule["deploymentResourceType"], rule["deploymentResourceId"]) == (
        "deployment",
        "function",
        "hello",
    )
    assert rule["deploymentVcsProviderBranch"] == "main"
    error = error_of(call, "proxy.createFunctionRule", domain="other.example.com", functionId="nope")
    assert (error.type, error.code) == ("rule_resource_not_found", 404)
    assert call("proxy.listRules")["total"] == 1


def test_a_redirect_rule_keeps_its_url_and_code(call, function):
    rule = call(
        "proxy.createRedirectRule",
        domain="old.example.com",
        url="https://new.example.com/start",
        statusCode=308,
        resourceId="hello",
        resourceType="function",
    )
    assert (rule["type"], rule["redirectUrl"], rule["redirectStatusCode"]) == (
        "redirect",
        "https://new.example.com/start",
        308,
    )


def test_a_domain_is_taken_once_across_every_project_of_the_data_dir(engine, call):
    call("proxy.createAPIRule", domain="shared.example.com")
    again = error_of(call, "proxy.createAPIRule", domain="SHARED.example.com")
    assert (again.type, again.code) == ("rule_already_exists", 409)
    call("organization.createProject", projectId="second", name="Second")
    elsewhere = error_of(engine.call, "proxy.createAPIRule", {"domain": "shared.example.com"}, project="second")
    assert elsewhere.type == "rule_already_exists"
    assert engine.rule_for_domain("Shared.Example.com")[0] == "default"


@pytest.mark.parametrize(
    "domain",
    ["localhost", "https://x.example.com", "bad_label.example.com", "trailing.", "-lead.example.com", "a" * 300],
)
def test_bad_domains_are_refused_naming_the_param_and_change_nothing(call, domain):
    error = error_of(call, "proxy.createAPIRule", domain=domain)
    assert (error.type, error.code) == ("general_argument_invalid", 400)
    assert "`domain`" in error.message
    assert call("proxy.listRules")["total"] == 0


def test_rules_are_listed_with_queries_and_search_and_deleted(call, function):
    api = call("proxy.createAPIRule", domain="api.example.com")
    call("proxy.createFunctionRule", domain="fn.example.com", functionId="hello")
    assert [r["domain"] for r in call("proxy.listRules", queries=[q("equal", "type", ["api"])])["rules"]] == [
        "api.example.com"
    ]
    assert call("proxy.listRules", search="fn.example")["total"] == 1
    assert call("proxy.listRules", total=False)["total"] == 0
    call("proxy.deleteRule", ruleId=api["$id"])
    assert error_of(call, "proxy.getRule", ruleId=api["$id"]).type == "rule_not_found"
    assert error_of(call, "proxy.deleteRule", ruleId=api["$id"]).code == 404
    assert call("proxy.createAPIRule", domain="api.example.com")["domain"] == "api.example.com"


def test_a_site_rule_leads_to_the_site(call):
    call("sites.create", siteId="shop", name="Shop", framework="other", buildRuntime="node-20.0")
    rule = call("proxy.createSiteRule", domain="shop.example.com", siteId="shop")
    found = (rule["type"], rule["deploymentResourceType"], rule["deploymentResourceId"])
    assert found == ("deployment", "site", "shop")
    assert error_of(call, "proxy.createSiteRule", domain="none.example.com", siteId="none").type == (
        "rule_resource_not_found"
    )


@pytest.mark.parametrize(
    "url", ["https://x.example.com/\r\nSet-Cookie: a=b", "javascript:alert(1)", "not a url", "/relative"]
)
def test_a_redirect_to_anything_but_an_absolute_url_is_refused_naming_the_param(call, function, url):
    params = {"url": url, "statusCode": 301, "resourceId": "hello", "resourceType": "function"}
    error = error_of(call, "proxy.createRedirectRule", domain="old.example.com", **params)
    assert (error.type, error.code) == ("general_argument_invalid", 400)
    assert "`url`" in error.message
    assert call("proxy.listRules")["total"] == 0
