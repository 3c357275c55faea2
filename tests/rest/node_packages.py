"""Node and the pinned npm packages the REST tests run (the Node SDK, appwrite-cli, the web SDK and what drives it).

Each package directory holds a package.json pinning its packages and its committed package-lock.json; they are
installed there with `npm ci` the first time a test needs them (Node >= 20 and npm must be on PATH).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

MIN_NODE = 20


def node_commands() -> tuple[str, str]:
    """node and npm, or the test fails saying what it needs."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail(f"the Node tests need Node >= {MIN_NODE} with npm on PATH (node: {node}, npm: {npm})")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    found = re.match(r"v(\d+)\.", version)
    if not found or int(found[1]) < MIN_NODE:
        pytest.fail(f"the Node tests need Node >= {MIN_NODE}; `node --version` says {version!r}")
    return node, npm


def installed_version(directory: Path, package: str) -> str | None:
    manifest = directory / "node_modules" / package / "package.json"
    return json.loads(manifest.read_text())["version"] if manifest.is_file() else None


def install(npm: str, directory: Path, pins: dict[str, str]) -> None:
    """`npm ci` in `directory` from its lock file, unless every pinned package is installed at its version."""
    if all(installed_version(directory, package) == version for package, version in pins.items()):
        return
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"], cwd=directory, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, f"npm ci failed in {directory}:\n{result.stdout}\n{result.stderr}"
    for package, version in pins.items():
        assert installed_version(directory, package) == version


def assert_pinned(directory: Path, pins: dict[str, str]) -> None:
    """The manifest and the lock file pin exactly `pins`."""
    manifest = json.loads((directory / "package.json").read_text())
    assert manifest["private"] is True
    assert manifest["dependencies"] == pins
    lock = json.loads((directory / "package-lock.json").read_text())
    assert lock["packages"][""]["dependencies"] == pins
    for package, version in pins.items():
        assert lock["packages"][f"node_modules/{package}"]["version"] == version
