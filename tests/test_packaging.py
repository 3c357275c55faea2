"""What ships: the wheel carries the catalog and runs without the source tree; docs and CI agree."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile

import pytest


@pytest.fixture(scope="module")
def wheel(root, tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(root), "--no-deps", "--quiet", "-w", str(out)],
        check=True,
        capture_output=True,
    )
    return next(out.glob("baas_mcp-*.whl"))


def test_wheel_ships_the_catalog_but_not_the_spec(wheel, root):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert archive.read("mcp_server/operations.json") == (root / "catalog" / "operations.json").read_bytes()
    assert not [name for name in names if "appwrite-spec" in name or name.endswith("build_catalog.py")]


def test_installed_wheel_reads_its_own_catalog_from_any_directory(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    probe = (
        "from mcp_server.catalog import catalog_path, load_catalog; "
        "print(catalog_path()); print(len(load_catalog().operations))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    path, count = result.stdout.split()
    assert path == str(target / "mcp_server" / "operations.json")
    assert count == "615"


def test_ci_runs_the_readme_test_command(root):
    readme = (root / "README.md").read_text()
    ci = (root / ".ci" / "run").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^(python3 -m venv .*)$", quick_start, flags=re.MULTILINE)
    assert len(commands) == 2, "the Quick start holds exactly two commands"
    test_command = next(command for command in commands if "pytest" in command)
    assert test_command in ci.splitlines()
