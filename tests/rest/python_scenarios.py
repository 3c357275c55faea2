"""What the Python SDK scenario scripts share: a scenario's Report, the @scenario registry, and the main that runs
the chosen scenarios and prints their report as JSON.

The scripts (sdk_python19/scenario.py, sdk_python_dbs/scenario.py) run in a process of their own with their SDK's
install first on the path and this folder after it (python_packages.python_path); this module imports only
`appwrite.exception`, which every SDK release has.
"""

from __future__ import annotations

import importlib.metadata
import json
import sys
import traceback
from collections.abc import Callable

from appwrite.exception import AppwriteException


class Report:
    """What one scenario observed, and where it differed from what it expected."""

    def __init__(self) -> None:
        self.checks: dict[str, object] = {}
        self.mismatches: list[str] = []

    def check(self, label: str, actual: object, expected: object) -> None:
        self.checks[label] = actual
        if actual != expected:
            self.mismatches.append(f"{label}: expected {expected!r}, got {actual!r}")

    def fails(self, label: str, call: Callable[[], object], code: int, error_type: str) -> None:
        """The call raises AppwriteException with `code` and `error_type` (its message non-empty)."""
        try:
            value = call()
        except AppwriteException as error:
            observed: object = {"code": error.code, "type": error.type, "message": bool(error.message)}
        else:
            observed = {"returned": repr(value)[:200]}
        self.check(label, observed, {"code": code, "type": error_type, "message": True})


Scenario = Callable[[Report], None]
SCENARIOS: dict[str, Scenario] = {}


def scenario(function: Scenario) -> Scenario:
    """Register a scenario under its function's name."""
    SCENARIOS[function.__name__] = function
    return function


def run(name: str) -> dict:
    report = Report()
    error = None
    try:
        SCENARIOS[name](report)
    except Exception:
        error = traceback.format_exc(limit=4)
    return {"checks": report.checks, "mismatches": report.mismatches, "error": error}


def main(names: list[str]) -> int:
    """Run the named scenarios (all when none is named), print {"sdk", "scenarios"} as JSON; 1 if any failed."""
    chosen = names or list(SCENARIOS)
    reports = {name: run(name) for name in chosen}
    version = importlib.metadata.version("appwrite")
    print(json.dumps({"sdk": f"appwrite {version}", "scenarios": reports}, default=repr))
    failed = [name for name, report in reports.items() if report["mismatches"] or report["error"]]
    for name in failed:
        print(f"{name}: {reports[name]['mismatches']} {reports[name]['error'] or ''}", file=sys.stderr)
    return 1 if failed else 0
