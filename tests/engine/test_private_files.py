"""Project data is readable by its owner alone: folders 0700, files 0600, whatever the umask, and older wide
installs are narrowed when opened. Checked on what the real `baas-mcp call` leaves on disk."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.commands import COMMAND


@contextlib.contextmanager
def umask(mask: int):
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def call(data: Path, operation: str, params: dict, *extra: str) -> dict:
    with umask(0o022):  # the usual umask, under which files would otherwise be readable by everyone
        result = subprocess.run(
            [str(COMMAND), "call", operation, "--data-dir", str(data), "--params", json.dumps(params), *extra],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=data.parent,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def wide(path: Path) -> int:
    """The group and other permission bits of `path`."""
    return stat.S_IMODE(path.lstat().st_mode) & 0o077


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_everything_the_engine_writes_is_private(tmp_path):
    data = tmp_path / "data"
    (tmp_path / "photo.txt").write_bytes(b"a photo")
    call(data, "storage.createBucket", {"bucketId": "b", "name": "B", "encryption": True})
    call(data, "storage.createFile", {"bucketId": "b", "fileId": "f", "file": "photo.txt"})
    call(data, "storage.getFileDownload", {"bucketId": "b", "fileId": "f"})
    call(data, "users.create", {"userId": "ada", "email": "ada@example.com", "password": "correct horse battery"})
    call(data, "account.createEmailToken", {"userId": "ada", "email": "ada@example.com"})  # a code in the outbox

    project = data / "default"
    expected = [
        data,
        project / "project.sqlite3",
        project / "encryption.key",
        project / "storage" / "b" / "f",
        data / "downloads",
    ]
    assert all(path.exists() for path in expected), [str(path) for path in expected if not path.exists()]
    assert any((project / "outbox").iterdir())
    everything = [data, *data.rglob("*")]
    assert {str(path.relative_to(tmp_path)): oct(wide(path)) for path in everything if wide(path)} == {}
    for path in everything:
        if path.is_dir():
            assert stat.S_IMODE(path.stat().st_mode) == 0o700, path


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_project_left_readable_by_an_older_version_is_narrowed(tmp_path):
    data = tmp_path / "data"
    call(data, "tablesDB.create", {"databaseId": "d", "name": "D"})
    project = data / "default"
    project.chmod(0o755)
    for file in project.glob("project.sqlite3*"):
        file.chmod(0o644)
    call(data, "tablesDB.list", {})
    assert wide(project) == 0
    assert [file.name for file in project.glob("project.sqlite3*") if wide(file)] == []
