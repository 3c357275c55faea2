"""The official Python SDK's DocumentsDB and VectorsDB services against `baas-mcp api`.

The SDK releases made for Appwrite 1.9.x (up to appwrite 23.0.0) have neither service; appwrite 24.4.0 is the first
line that has them (sdk_python_dbs/requirements.txt). It runs its scenario script (sdk_python_dbs/scenario.py) from
its own install, once per module; a test per scenario asserts it passed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.rest.python_packages import install, pinned, python_path
from tests.rest.scenario_scripts import assert_every_scenario_reported, assert_scenario_passed, run_script

SDK_DIR = Path(__file__).resolve().parent / "sdk_python_dbs"
SDK = "24.4.0"
SCENARIOS = ("documents", "vectors")


@pytest.fixture(scope="module")
def report(api) -> dict:
    env = {"ENDPOINT": api.endpoint, "PROJECT": "default", "KEY": api.key}
    return run_script([sys.executable, "scenario.py"], SDK_DIR, env | python_path(install(SDK_DIR)))


def test_the_sdk_is_pinned_and_reports_every_scenario(report):
    assert pinned(SDK_DIR)["appwrite"] == SDK
    assert_every_scenario_reported(report, f"appwrite {SDK}", SCENARIOS)


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario(report, name: str):
    assert_scenario_passed(report, f"appwrite {SDK}", name)
