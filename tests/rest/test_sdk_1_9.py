"""The official SDKs for Appwrite 1.9 (Python appwrite 20.1.0, Node node-appwrite 27.1.0) against `baas-mcp api`.

Each SDK runs its scenario script (sdk_python19/scenario.py, sdk_node19/scenario.js) once per module, in its own
process: the Python SDK from its own install (it cannot share the test environment with appwrite 16.0.0, see
python_packages.py), the Node SDK from its committed lock file (node_packages.py). Both scripts run the same named
scenarios and report each one's checks; a test per SDK and scenario asserts it passed. To add a scenario, write it
in both scripts under one name and add the name to SCENARIOS.
"""

from __future__ import annotations

import io
import os
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.commands import create_key
from tests.rest.node_packages import assert_pinned, install, node_commands
from tests.rest.python_packages import install as install_python
from tests.rest.python_packages import pinned, python_path
from tests.rest.scenario_scripts import assert_every_scenario_reported, assert_scenario_passed, run_script

HERE = Path(__file__).resolve().parent
PYTHON_DIR = HERE / "sdk_python19"
NODE_DIR = HERE / "sdk_node19"
PYTHON_SDK = "20.1.0"
NODE_SDK = "27.1.0"
SDKS = {"python": f"appwrite {PYTHON_SDK}", "node": f"node-appwrite {NODE_SDK}"}
SCENARIOS = (
    "tablesdb", "bigint", "rows", "queries", "users", "storage", "errors", "encrypted", "project", "webhooks",
    "functions",
)  # fmt: skip
SCOPES = (
    "databases.read,databases.write,tables.read,tables.write,columns.read,columns.write,indexes.read,indexes.write,"
    "rows.read,rows.write,users.read,users.write,buckets.read,buckets.write,files.read,files.write,keys.read,keys.write,"
    "platforms.read,platforms.write,project.read,project.write,policies.read,policies.write,webhooks.read,webhooks.write,"
    "functions.read,functions.write,execution.read,execution.write"
)
# The functions scenario's code: main.py echoes the request, and incompressible filler makes it three 5 MB chunks.
ECHO = b"""
import os


def main(context):
    context.log("echoing", context.req.method)
    return context.res.json({
        "method": context.req.method,
        "path": context.req.path,
        "query": context.req.query,
        "body": context.req.body_json if context.req.body_text else None,
        "greeting": os.environ.get("GREETING"),
    })
"""


def run_python(env: dict[str, str]) -> dict:
    target = install_python(PYTHON_DIR)
    return run_script([sys.executable, "scenario.py"], PYTHON_DIR, env | python_path(target))


def run_node(env: dict[str, str]) -> dict:
    node, npm = node_commands()
    install(npm, NODE_DIR, {"node-appwrite": NODE_SDK})
    return run_script([node, "scenario.js"], NODE_DIR, env)


RUNNERS: dict[str, Callable[[dict[str, str]], dict]] = {"python": run_python, "node": run_node}


def echo_archive(path: Path) -> Path:
    with tarfile.open(path, mode="w:gz") as tar:
        for name, data in (("main.py", ECHO), ("filler.bin", os.urandom(11 * 1024 * 1024))):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture(scope="module")
def report(api, tmp_path_factory) -> Callable[[str], dict]:
    """Each SDK's report, its script run once (on first use) against the module's server with a key for it."""
    env = {
        "ENDPOINT": api.endpoint,
        "PROJECT": "default",
        "KEY": create_key(api.data_dir, SCOPES)["secret"],
        "RUNTIME": "python-{}.{}".format(*sys.version_info[:2]),
        "ARCHIVE": str(echo_archive(tmp_path_factory.mktemp("sdk19") / "code.tar.gz")),
    }
    made: dict[str, dict] = {}

    def of(sdk: str) -> dict:
        if sdk not in made:
            made[sdk] = RUNNERS[sdk](env)
        return made[sdk]

    return of


def test_the_sdks_are_pinned():
    assert pinned(PYTHON_DIR)["appwrite"] == PYTHON_SDK
    assert_pinned(NODE_DIR, {"node-appwrite": NODE_SDK})


@pytest.mark.parametrize("sdk", list(SDKS))
def test_each_sdk_runs_at_its_pinned_version_and_reports_every_scenario(report, sdk: str):
    assert_every_scenario_reported(report(sdk), SDKS[sdk], SCENARIOS)


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("sdk", list(SDKS))
def test_scenario(report, sdk: str, name: str):
    assert_scenario_passed(report(sdk), sdk, name)
