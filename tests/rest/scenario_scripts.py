"""Running a scenario script (an official SDK driven by a script of ours) and reading the JSON report it prints."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest


def run_script(command: list[str], directory: Path, env: dict[str, str]) -> dict:
    """A scenario script's report (what it printed as JSON), with its exit code and stderr."""
    result = subprocess.run(command, cwd=directory, capture_output=True, text=True, timeout=300, env=os.environ | env)
    try:
        printed = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"{command[-1]} printed no JSON (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    return {"returncode": result.returncode, "stderr": result.stderr, **printed}


def problems(scenario: dict) -> list[str]:
    """What went wrong in a scenario's report (with what went over its sockets, when it recorded that)."""
    found = [*scenario["mismatches"], *([scenario["error"]] if scenario["error"] else [])]
    if found and scenario.get("frames"):
        found.append(f"frames: {json.dumps(scenario['frames'])}")
    return found


def assert_every_scenario_reported(found: dict, sdk: str, scenarios) -> None:
    """The report comes from the pinned SDK (`sdk`, e.g. "appwrite 20.1.0") and covers every scenario, in order."""
    assert found["sdk"] == sdk
    assert list(found["scenarios"]) == list(scenarios), found["stderr"]


def assert_scenario_passed(found: dict, sdk: str, name: str) -> None:
    """A scenario ran, checked something, and met every expectation."""
    scenario = found["scenarios"].get(name)
    assert scenario is not None, f"{sdk} did not run {name}"
    found_problems = problems(scenario)
    assert found_problems == [], "\n".join(found_problems)
    assert scenario["checks"]
