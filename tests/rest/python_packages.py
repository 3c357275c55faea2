"""Python packages a test runs apart from the test environment (an SDK release that cannot share it with another).

A directory holds a requirements.txt pinning the packages; they are installed into its .packages/ folder (a dot
folder, which pytest does not collect from) with `pip install --target` the first time a test needs them, and again
whenever requirements.txt changes. A script then runs with that folder first on its path (`python_path`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

MARKER = ".requirements.txt"
HERE = Path(__file__).resolve().parent


def install(directory: Path, no_deps: bool = False) -> Path:
    """The .packages/ folder of `directory`, holding exactly what its requirements.txt pins (without what those
    packages depend on, with `no_deps`)."""
    wanted = (directory / "requirements.txt").read_text()
    target = directory / ".packages"
    marker = target / MARKER
    if marker.is_file() and marker.read_text() == wanted:
        return target
    shutil.rmtree(target, ignore_errors=True)
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    command += ["--no-deps", "--target"] if no_deps else ["--target"]
    result = subprocess.run(
        [*command, str(target), "-r", str(directory / "requirements.txt")], capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, f"pip install --target failed in {directory}:\n{result.stdout}\n{result.stderr}"
    marker.write_text(wanted)
    return target


def python_path(target: Path) -> dict[str, str]:
    """Environment variables that put `target` before the test environment's own packages, and this folder
    (python_scenarios.py, which the scenario scripts share) after it."""
    return {"PYTHONPATH": os.pathsep.join([str(target), str(HERE)]), "PYTHONNOUSERSITE": "1"}


def pinned(directory: Path) -> dict[str, str]:
    """The packages requirements.txt pins, by name."""
    pins = {}
    for line in (directory / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[name.strip().lower()] = version.strip()
    return pins
