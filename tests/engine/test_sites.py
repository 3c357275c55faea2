"""The sites service on the embedded engine: sites and their frameworks, deployments of a tar.gz built here with
the site's install and build commands (the machine's node), what a built site serves, its request logs and its
variables."""

from __future__ import annotations

import io
import tarfile
import threading
import time

import pytest

from mcp_server.engine.errors import AppwriteError
from mcp_server.engine.sites import logs
from mcp_server.uploads import Upload
from tests.engine.conftest import error_of
from tests.engine.test_functions import archive

BUILD_JS = """
const fs = require("fs");
fs.mkdirSync("dist/docs", { recursive: true });
fs.writeFileSync("dist/index.html", "<h1>" + process.env.GREETING + "</h1>");
fs.writeFileSync("dist/docs/index.html", "docs");
"""


def site(call, site_id: str = "blog", **fields) -> dict:
    params = {"framework": "other", "buildRuntime": "node-22", "name": site_id, **fields}
    return call("sites.create", siteId=site_id, **params)


def built(call, site_id: str = "blog", files: dict[str, str] | None = None, **params) -> dict:
    code = archive(files if files is not None else {"build.js": BUILD_JS})
    return call("sites.createDeployment", siteId=site_id, code=code, **params)


def names_in(data: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return tar.getnames()


def test_frameworks_and_specifications_are_appwrites(call):
    frameworks = {framework["key"]: framework for framework in call("sites.listFrameworks")["frameworks"]}
    assert len(frameworks) == 15 and frameworks["nextjs"]["name"] == "Next.js"
    react = frameworks["react"]["adapters"]
    assert react == [
        {
            "key": "static",
            "installCommand": "npm install",
            "buildCommand": "npm run build",
            "outputDirectory": "./dist",
            "fallbackFile": "index.html",
        }
    ]
    assert "node-22" in frameworks["other"]["runtimes"]
    assert call("sites.listSpecifications")["specifications"][0]["slug"] == "s-1vcpu-512mb"


def test_a_site_is_created_read_updated_listed_and_deleted(call, engine):
    created = site(call, installCommand="true")
    assert created["timeout"] == 30 and created["adapter"] == "" and created["deploymentId"] == ""
    assert created["enabled"] and created["vars"] == [] and created["buildRuntime"] == "node-22"
    assert call("sites.get", siteId="blog")["installCommand"] == "true"
    assert error_of(site, call).type == "site_already_exists"
    updated = call("sites.update", siteId="blog", name="Blog", framework="react", adapter="static", fallbackFile="x")
    assert (updated["name"], updated["adapter"], updated["buildRuntime"]) == ("Blog", "static", "node-22")
    assert updated["installCommand"] == ""
    site(call, "shop", framework="vue")
    assert call("sites.list", search="vue")["total"] == 1
    assert call("sites.list", queries=['{"method":"equal","attribute":"framework","values":["react"]}'])["total"] == 1
    built(call, "shop", outputDirectory="dist", activate=True)
    folder = engine.project().db.path.parent / "sites" / "shop"
    assert folder.is_dir()
    call("sites.delete", siteId="shop")
    assert error_of(call, "sites.get", siteId="shop").type == "site_not_found"
    assert not folder.exists()


@pytest.mark.parametrize(
    ("fields", "kind", "named"),
    [
        ({"framework": "react", "adapter": "ssr"}, "general_argument_invalid", "`adapter`"),
        ({"timeout": 31}, "general_argument_invalid", "`timeout`"),
        ({"buildSpecification": "s-8vcpu-8gb"}, "general_argument_invalid", "`buildSpecification`"),
        ({"installationId": "gh"}, "installation_not_found", "Installation"),
        ({"providerRepositoryId": "repo"}, "general_argument_invalid", "installationId"),
    ],
)
def test_a_site_with_parameters_appwrite_refuses_is_not_created(call, fields, kind, named):
    error = error_of(site, call, "bad", **fields)
    assert error.type == kind and named in error.message
    assert call("sites.list")["total"] == 0


def test_a_deployment_is_built_with_the_sites_commands_and_variables_then_served(call, engine):
    site(
        call, installCommand="node -e \"require('fs').writeFileSync('installed', 'yes')\"", buildCommand="node build.js"
    )
    call("sites.createVariable", siteId="blog", variableId="unique()", key="GREETING", value="hello", secret=True)
    deployment = built(call, outputDirectory="./dist", activate=True)
    assert deployment["status"] == "ready", deployment["buildLogs"]
    assert deployment["resourceType"] == "sites" and deployment["resourceId"] == "blog"
    current = call("sites.get", siteId="blog")
    assert current["deploymentId"] == deployment["$id"] == current["latestDeploymentId"]
    assert current["latestDeploymentStatus"] == "ready" and current["vars"][0]["value"] == ""
    served = engine.site_to_serve("default", "blog")
    assert (served.root / "index.html").read_text() == "<h1>hello</h1>"
    assert (served.root.parent / "installed").read_text() == "yes"
    source = call("sites.getDeploymentDownload", siteId="blog", deploymentId=deployment["$id"])
    assert names_in(source.data) == ["build.js"]
    output = call("sites.getDeploymentDownload", siteId="blog", deploymentId=deployment["$id"], type="output")
    names = names_in(output.data)
    assert "./index.html" in names and "./docs/index.html" in names and "./build.js" not in names
    listed = call(
        "sites.listDeployments", siteId="blog", queries=['{"method":"equal","attribute":"status","values":["ready"]}']
    )
    assert listed["total"] == 1


def test_builds_that_fail_or_leave_no_output_are_failed_and_never_activated(call, engine):
    site(call, buildCommand="echo building; exit 3", outputDirectory="dist")
    failed = built(call, activate=True)
    assert failed["status"] == "failed" and "building" in failed["buildLogs"]
    assert call("sites.get", siteId="blog")["deploymentId"] == ""
    assert error_of(call, "sites.updateSiteDeployment", siteId="blog", deploymentId=failed["$id"]).type == (
        "build_not_ready"
    )
    missing = built(call, buildCommand="true", activate=True)
    assert missing["status"] == "failed" and "'dist' was not found" in missing["buildLogs"]
    assert error_of(engine.site_to_serve, "default", "blog").type == "deployment_not_found"
    escaping = error_of(built, call, outputDirectory="../other")
    assert escaping.type == "general_argument_invalid" and "`outputDirectory`" in escaping.message
    junk = Upload("code.tar.gz", "application/gzip", b"not a tar")
    bad_code = error_of(call, "sites.createDeployment", siteId="blog", code=junk)
    assert bad_code.type == "general_argument_invalid" and "`code`" in bad_code.message
    assert call("sites.listDeployments", siteId="blog")["total"] == 2


def test_a_server_side_rendered_build_must_leave_its_frameworks_server(call, engine):
    site(call, framework="nuxt", adapter="ssr", buildCommand="node build.js")
    no_server = 'require("fs").mkdirSync(".output/public", {recursive: true})'
    missing = built(call, files={"build.js": no_server}, activate=True)
    assert missing["status"] == "failed" and "./server/index.mjs is not in the output directory" in missing["buildLogs"]
    server = 'require("fs").mkdirSync(".output/server", {recursive: true}); '
    server += 'require("fs").writeFileSync(".output/server/index.mjs", process.env.NITRO_PRESET)'
    ready = built(call, files={"build.js": server}, activate=True)
    assert ready["status"] == "ready", ready["buildLogs"]
    served = engine.site_to_serve("default", "blog")
    assert served.server is not None and served.server.key.command == "node ./server/index.mjs"
    assert (served.root / "server" / "index.mjs").read_text() == "node_server"
    assert served.server.static == served.root / "public" and served.server.timeout == 30


def test_deployments_are_duplicated_activated_deleted_and_canceled(call, engine):
    site(call, buildCommand="node build.js", outputDirectory="dist")
    first = built(call, activate=True)
    copy = call("sites.createDuplicateDeployment", siteId="blog", deploymentId=first["$id"])
    assert copy["status"] == "ready" and copy["$id"] != first["$id"]
    assert call("sites.get", siteId="blog")["deploymentId"] == first["$id"]
    activated = call("sites.updateSiteDeployment", siteId="blog", deploymentId=copy["$id"])
    assert activated["deploymentId"] == copy["$id"]
    done = error_of(call, "sites.updateDeploymentStatus", siteId="blog", deploymentId=copy["$id"])
    assert done.type == "build_already_completed"
    call("sites.deleteDeployment", siteId="blog", deploymentId=copy["$id"])
    assert call("sites.get", siteId="blog")["deploymentId"] == ""
    assert error_of(call, "sites.getDeployment", siteId="blog", deploymentId=copy["$id"]).type == "deployment_not_found"
    call("sites.update", siteId="blog", name="blog", framework="other", buildCommand="sleep 3; node build.js")
    building = threading.Thread(target=built, args=(call,), kwargs={"activate": True})
    building.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        listed = call("sites.listDeployments", siteId="blog")["deployments"]
        if any(deployment["status"] == "building" for deployment in listed):
            break
        time.sleep(0.05)
    slow = next(deployment for deployment in listed if deployment["status"] == "building")
    canceled = call("sites.updateDeploymentStatus", siteId="blog", deploymentId=slow["$id"])
    assert canceled["status"] == "canceled"
    building.join(30)
    assert call("sites.getDeployment", siteId="blog", deploymentId=slow["$id"])["status"] == "canceled"
    assert call("sites.get", siteId="blog")["deploymentId"] == ""


def test_requests_served_are_kept_as_bounded_logs(call, engine, monkeypatch):
    site(call, buildCommand="node build.js", outputDirectory="dist")
    built(call, activate=True)
    served = engine.site_to_serve("default", "blog")
    monkeypatch.setattr(logs, "LOG_LIMIT", 3)
    for number in range(5):
        engine.log_site_request("default", served, "GET", f"/page{number}", 200 if number else 404, 0.01)
    listed = call("sites.listLogs", siteId="blog")
    assert listed["total"] == 3
    assert [log["requestPath"] for log in listed["executions"]] == ["/page2", "/page3", "/page4"]
    first = listed["executions"][0]
    assert (first["functionId"], first["deploymentId"], first["requestMethod"]) == ("blog", served.deployment_id, "GET")
    assert first["responseStatusCode"] == 200 and first["trigger"] == "http" and first["duration"] > 0
    assert call("sites.getLog", siteId="blog", logId=first["$id"]) == first
    call("sites.deleteLog", siteId="blog", logId=first["$id"])
    assert error_of(call, "sites.getLog", siteId="blog", logId=first["$id"]).type == "log_not_found"
    assert call("sites.listLogs", siteId="blog")["total"] == 2


def test_a_disabled_site_or_one_without_a_deployment_serves_nothing(call, engine):
    site(call)
    assert error_of(engine.site_to_serve, "default", "blog").type == "deployment_not_found"
    assert error_of(engine.site_to_serve, "default", "nope").type == "site_not_found"
    built(call, activate=True)
    assert engine.site_to_serve("default", "blog").root.name == "code"
    call("sites.update", siteId="blog", name="blog", framework="other", enabled=False)
    assert error_of(engine.site_to_serve, "default", "blog").type == "site_not_found"
    assert error_of(engine.site_to_serve, "elsewhere", "blog").type == "project_not_found"


def test_site_variables(call):
    site(call)
    variable = call("sites.createVariable", siteId="blog", variableId="v1", key="API", value="one")
    assert (variable["resourceType"], variable["resourceId"], variable["value"]) == ("site", "blog", "one")
    taken = error_of(call, "sites.createVariable", siteId="blog", variableId="v2", key="API", value="two")
    assert taken.type == "variable_already_exists"
    updated = call("sites.updateVariable", siteId="blog", variableId="v1", key="API", value="uno", secret=True)
    assert updated["value"] == "" and updated["secret"]
    assert call("sites.listVariables", siteId="blog")["total"] == 1
    assert call("sites.getVariable", siteId="blog", variableId="v1")["key"] == "API"
    call("sites.deleteVariable", siteId="blog", variableId="v1")
    assert error_of(call, "sites.getVariable", siteId="blog", variableId="v1").type == "variable_not_found"
    assert error_of(call, "sites.listVariables", siteId="nope").type == "site_not_found"


@pytest.mark.parametrize("operation", ["sites.createTemplateDeployment", "sites.createVcsDeployment"])
def test_template_and_git_deployments_need_network_access(call, operation):
    site(call)
    params = {"siteId": "blog", "type": "branch", "reference": "main"}
    if operation == "sites.createTemplateDeployment":
        params.update(repository="starter", owner="appwrite", rootDirectory="./")
    error = error_of(call, operation, **params)
    assert error.type == "general_not_implemented" and "network access" in error.message
    assert isinstance(error, AppwriteError)
