"""Node and the pinned npm packages the REST tests run (the Node SDK, appwrite-cli, the web SDK and what drives it).

Each package directory holds a package.json pinning its packages and its committed package-lock.json; they are
installed there with `npm ci` the first time a test needs them (Node >= 20 and npm must be on PATH). A pin is an exact
version, or an npm alias `npm:<package>@<version>` (two versions of one package side by side).
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


ALIAS = re.compile(r"npm:(?P<package>(?:@[^/@]+/)?[^@]+)@(?P<version>.+)")


def pinned_package(name: str, pin: str) -> tuple[str, str]:
    """The package and the exact version a pin names: `name` itself, or the package an alias stands for."""
    alias = ALIAS.fullmatch(pin)
    return (alias["package"], alias["version"]) if alias else (name, pin)


def installed_version(directory: Path, package: str) -> str | None:
    manifest = directory / "node_modules" / package / "package.json"
    return json.loads(manifest.read_text())["version"] if manifest.is_file() else None


def install(npm: str, directory: Path, pins: dict[str, str]) -> None:
    """`npm ci` in `directory` from its lock file, unless every pinned package is installed at its version."""
    versions = {name: pinned_package(name, pin)[1] for name, pin in pins.items()}
    if all(installed_version(directory, name) == version for name, version in versions.items()):
        return
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"], cwd=directory, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, f"npm ci failed in {directory}:\n{result.stdout}\n{result.stderr}"
    for name, version in versions.items():
        assert installed_version(directory, name) == version


def assert_pinned(directory: Path, pins: dict[str, str]) -> None:
    """The manifest and the lock file pin exactly `pins`."""
    manifest = json.loads((directory / "package.json").read_text())
    assert manifest["private"] is True
    assert manifest["dependencies"] == pins
    lock = json.loads((directory / "package-lock.json").read_text())
    assert lock["packages"][""]["dependencies"] == pins
    for name, pin in pins.items():
        package, version = pinned_package(name, pin)
        locked = lock["packages"][f"node_modules/{name}"]
        assert (locked.get("name", name), locked["version"]) == (package, version)
