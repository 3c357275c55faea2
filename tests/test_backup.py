"""`baas-mcp backup`: backups taken while `baas-mcp api` serves a writer restore to a state the writer went through,
whole; damaged and hostile backups are refused before anything is written; a running server's project is never
replaced; `--keep` keeps the newest; `--as` gives a new project the server serves.

Everything runs for real: the CLI and the API server as subprocesses, requests over loopback with httpx.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.commands import COMMAND, baas_mcp, create_key, start_api_server

SCOPES = "databases.read,databases.write,tables.read,tables.write,rows.read,rows.write,buckets.read,buckets.write,"
SCOPES += "files.read,files.write,columns.write"
ROWS_PER_STEP = 3


def content(step: int) -> bytes:
    """The content of the file uploaded at `step` (a few kilobytes)."""
    return f"file of step {step};".encode() * (100 + step % 200)


def backup(*args: str, data_dir: Path) -> tuple[int, dict | list, str]:
    """Run `baas-mcp backup ARGS --json`: exit code, the JSON printed, and standard error."""
    result = baas_mcp("backup", *args, "--data-dir", str(data_dir), "--json", timeout=120)
    return result.returncode, json.loads(result.stdout) if result.stdout.strip() else {}, result.stderr


def created(data_dir: Path, *args: str) -> str:
    code, made, errors = backup("create", *args, data_dir=data_dir)
    assert code == 0, errors
    return made["$id"]


class Api:
    """Requests to a running `baas-mcp api` with an API key, for one project at a time."""

    def __init__(self, endpoint: str, key: str) -> None:
        self.client = httpx.Client(base_url=endpoint, headers={"X-Appwrite-Key": key}, timeout=60)

    def call(self, method: str, path: str, project: str = "default", **options) -> httpx.Response:
        response = self.client.request(method, path, headers={"X-Appwrite-Project": project}, **options)
        assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
        return response

    def prepare(self) -> None:
        """A table of rows with a step and a part, and an encrypted, compressed bucket."""
        self.call("POST", "/tablesdb", json={"databaseId": "db", "name": "db"})
        self.call("POST", "/tablesdb/db/tables", json={"tableId": "t", "name": "t"})
        for key in ("step", "part"):
            self.call("POST", "/tablesdb/db/tables/t/columns/integer", json={"key": key, "required": True})
        bucket = {"bucketId": "b", "name": "b", "encryption": True, "compression": "gzip"}
        self.call("POST", "/storage/buckets", json=bucket)

    def upload(self, step: int, project: str = "default") -> None:
        files = {"file": (f"f{step}.txt", content(step), "text/plain")}
        self.call("POST", "/storage/buckets/b/files", project, data={"fileId": f"f{step}"}, files=files)

    def add_rows(self, step: int) -> None:
        rows = [{"$id": f"s{step}p{part}", "step": step, "part": part} for part in range(ROWS_PER_STEP)]
        self.call("POST", "/tablesdb/db/tables/t/rows", json={"rows": rows})

    def delete_file(self, step: int) -> None:
        self.call("DELETE", f"/storage/buckets/b/files/f{step}")

    def state(self, project: str) -> tuple[frozenset, dict]:
        """The project's rows (step, part) and its files' SHA-256 by id, as the API serves them."""
        limit = json.dumps({"method": "limit", "values": [5000]})
        listed = self.call("GET", "/tablesdb/db/tables/t/rows", project, params={"queries[]": [limit]}).json()
        rows = frozenset((row["step"], row["part"]) for row in listed["rows"])
        assert listed["total"] == len(rows)
        files = self.call("GET", "/storage/buckets/b/files", project, params={"queries[]": [limit]}).json()["files"]
        sums = {}
        for file in files:
            body = self.call("GET", f"/storage/buckets/b/files/{file['$id']}/download", project).content
            sums[file["$id"]] = hashlib.sha256(body).hexdigest()
        return rows, sums


class Writer(threading.Thread):
    """Writes through the API until stopped, step after step: upload a file, add its rows in one bulk write, and
    every fourth step delete the file of two steps before. `done` lists each write once it has succeeded."""

    def __init__(self, api: Api) -> None:
        super().__init__(daemon=True)
        self.api = api
        self.done: list[tuple[str, int]] = []
        self.stopping = threading.Event()
        self.failure: BaseException | None = None

    def run(self) -> None:
        step = 0
        try:
            while not self.stopping.is_set():
                self.api.upload(step)
                self.done.append(("upload", step))
                self.api.add_rows(step)
                self.done.append(("rows", step))
                if step % 4 == 3:
                    self.api.delete_file(step - 2)
                    self.done.append(("delete", step - 2))
                step += 1
        except BaseException as error:  # reported by the test
            self.failure = error


def states_passed(writes: list[tuple[str, int]]) -> Iterator[tuple[frozenset, dict]]:
    """Every state the writer's project went through, from before the first write to after the last."""
    rows: set = set()
    files: dict = {}
    yield frozenset(rows), dict(files)
    for kind, step in writes:
        if kind == "upload":
            files[f"f{step}"] = hashlib.sha256(content(step)).hexdigest()
        elif kind == "rows":
            rows.update((step, part) for part in range(ROWS_PER_STEP))
        else:
            del files[f"f{step}"]
        yield frozenset(rows), dict(files)


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[Path, Api, object]]:
    """A data dir with a prepared default project, served by `baas-mcp api`."""
    data_dir = tmp_path / "data"
    key = create_key(data_dir, SCOPES)
    server = start_api_server(data_dir)
    api = Api(server.url("/v1"), key["secret"])
    try:
        api.prepare()
        yield data_dir, api, server
    finally:
        api.client.close()
        server.stop()


def test_backups_under_load_restore_to_a_state_the_writer_went_through(served):
    data_dir, api, _ = served
    writer = Writer(api)
    writer.start()
    ids = []
    try:
        for _ in range(5):
            time.sleep(0.4)
            ids.append(created(data_dir))
    finally:
        writer.stopping.set()
        writer.join(60)
    assert writer.failure is None, writer.failure
    passed = list(states_passed(writer.done))
    seen = []
    for number, backup_id in enumerate(ids, 1):
        code, restored, errors = backup("restore", backup_id, "--as", f"r{number}", data_dir=data_dir)
        assert code == 0, errors
        assert restored["project"] == f"r{number}"
        state = api.state(f"r{number}")
        assert state in passed, f"backup {number} holds a state the writer never left: {state}"
        seen.append(passed.index(state))
    # The backups were taken while the writer wrote: they hold different, later and later states.
    assert seen == sorted(seen) and len(set(seen)) > 1, seen
    # Stored files stay encrypted in a backup.
    stored = next((data_dir / ".backups" / ids[-1] / "project" / "storage" / "b").iterdir()).read_bytes()
    assert b"file of step" not in stored


def test_list_shows_each_backup_and_keep_deletes_the_oldest(tmp_path):
    data_dir = tmp_path / "data"
    create_key(data_dir, "rows.read")
    first, second = created(data_dir), created(data_dir)
    code, listed, _ = backup("list", data_dir=data_dir)
    assert code == 0
    assert [item["$id"] for item in listed] == [first, second]
    assert {item["project"] for item in listed} == {"default"}
    assert all(item["files"] >= 1 and item["size"] > 0 and item["$createdAt"] for item in listed)
    third = created(data_dir, "--keep", "2")
    assert [item["$id"] for item in backup("list", data_dir=data_dir)[1]] == [second, third]
    code, result, _ = backup("delete", "--keep", "1", data_dir=data_dir)
    assert (code, result["deleted"]) == (0, [second])
    code, result, _ = backup("delete", third, data_dir=data_dir)
    assert (code, result["deleted"]) == (0, [third])
    assert backup("list", data_dir=data_dir)[1] == []


def test_restore_into_a_running_project_is_refused_then_replaces_it_once_stopped(served):
    data_dir, api, server = served
    api.upload(1)
    backup_id = created(data_dir)
    api.upload(2)
    for extra in ((), ("--force",)):
        code, error, _ = backup("restore", backup_id, *extra, data_dir=data_dir)
        assert code == 1
        assert "is in use by a running baas-mcp process" in error["message"]
    assert {file["$id"] for file in api.call("GET", "/storage/buckets/b/files").json()["files"]} == {"f1", "f2"}
    server.stop()
    code, error, _ = backup("restore", backup_id, data_dir=data_dir)
    assert (code, error["type"]) == (1, "project_already_exists")
    code, restored, errors = backup("restore", backup_id, "--force", data_dir=data_dir)
    assert (code, restored["project"]) == (0, "default"), errors
    assert (restored["project"], restored["from"]) == ("default", "default")
    again = start_api_server(data_dir)
    try:
        api.client.base_url = again.url("/v1")
        assert {file["$id"] for file in api.call("GET", "/storage/buckets/b/files").json()["files"]} == {"f1"}
    finally:
        again.stop()


@pytest.fixture
def one_backup(tmp_path) -> tuple[Path, str, Path]:
    """A data dir whose default project has one stored file, and a backup of it: (data dir, id, its folder)."""
    data_dir = tmp_path / "data"
    (tmp_path / "f.txt").write_bytes(content(7))
    for operation, params in (
        ("storage.createBucket", {"bucketId": "b", "name": "b"}),
        ("storage.createFile", {"bucketId": "b", "fileId": "f7", "file": str(tmp_path / "f.txt")}),
    ):
        result = baas_mcp("call", operation, "--params", json.dumps(params), "--data-dir", str(data_dir))
        assert result.returncode == 0, result.stdout
    backup_id = created(data_dir)
    return data_dir, backup_id, data_dir / ".backups" / backup_id


def refused(data_dir: Path, backup_id: str, *args: str) -> str:
    """Restore `--as copy` is refused: the error's message; nothing was written to the data dir."""
    before = sorted(os.listdir(data_dir))
    code, error, _ = backup("restore", backup_id, "--as", "copy", *args, data_dir=data_dir)
    assert code == 1
    assert error["type"] == "general_argument_invalid"
    assert sorted(os.listdir(data_dir)) == before
    return error["message"]


def test_a_damaged_backup_is_refused_naming_the_file(one_backup):
    data_dir, backup_id, folder = one_backup
    stored = folder / "project" / "storage" / "b" / "f7"
    original = stored.read_bytes()
    stored.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    assert "project/storage/b/f7 does not match its checksum" in refused(data_dir, backup_id)
    stored.write_bytes(original)
    database = folder / "project" / "project.sqlite3"
    with database.open("r+b") as handle:
        handle.seek(4096)
        handle.write(b"\xff" * 16)
    assert "project/project.sqlite3 does not match its checksum" in refused(data_dir, backup_id)


def test_a_backup_with_a_symbolic_link_is_refused(one_backup, tmp_path):
    data_dir, backup_id, folder = one_backup
    stored = folder / "project" / "storage" / "b" / "f7"
    outside = tmp_path / "outside"
    shutil.copyfile(stored, outside)
    stored.unlink()
    stored.symlink_to(outside)
    assert "project/storage/b/f7 is a symbolic link" in refused(data_dir, backup_id)
    stored.unlink()
    shutil.copyfile(outside, stored)
    moved = tmp_path / "moved"
    folder.rename(moved)
    folder.symlink_to(moved, target_is_directory=True)
    assert "its folder is a symbolic link" in refused(data_dir, backup_id)


def test_a_manifest_naming_a_path_outside_the_project_is_refused(one_backup):
    data_dir, backup_id, folder = one_backup
    manifest = folder / "manifest.jsonl"
    lines = manifest.read_text().splitlines()
    entry = json.loads(lines[-1])
    lines[-1] = json.dumps({**entry, "path": "storage/../../../outside"})
    manifest.write_text("\n".join(lines) + "\n")
    header = json.loads((folder / "backup.json").read_text())
    header["manifest"] = hashlib.sha256(manifest.read_bytes()).hexdigest()
    (folder / "backup.json").write_text(json.dumps(header))
    assert "names no plain path inside the project folder" in refused(data_dir, backup_id)


def test_a_folder_of_the_data_dir_that_is_no_project_is_never_replaced(one_backup):
    data_dir, backup_id, _ = one_backup
    (data_dir / "downloads").mkdir()
    (data_dir / "downloads" / "saved.txt").write_text("mine")
    code, error, _ = backup("restore", backup_id, "--as", "downloads", "--force", data_dir=data_dir)
    assert (code, error["type"]) == (1, "general_argument_invalid")
    assert "is not a project folder" in error["message"]
    assert os.listdir(data_dir / "downloads") == ["saved.txt"]


def test_a_failure_of_the_file_system_is_an_appwrite_error(one_backup):
    data_dir, _, folder = one_backup
    shutil.rmtree(folder.parent)
    (data_dir / ".backups").write_text("not a folder")
    code, error, errors = backup("create", data_dir=data_dir)
    assert (code, error["type"], error["code"]) == (1, "general_server_error", 500)
    assert "Traceback" not in errors


@pytest.mark.parametrize("backup_id", ["../data", "..", "a/b", "x" * 37, ".backups"])
def test_backup_ids_are_checked_before_they_name_a_folder(one_backup, backup_id):
    data_dir, _, _ = one_backup
    for action in ("restore", "delete"):
        code, error, _ = backup(action, backup_id, data_dir=data_dir)
        assert (code, error["type"]) == (1, "general_argument_invalid")
        assert "Invalid backup ID" in error["message"]
    assert len(backup("list", data_dir=data_dir)[1]) == 1


def test_a_project_followed_by_baas_mcp_events_is_in_use_until_it_stops(one_backup):
    """`events --follow` (like `keys` and `auth-policy`) opens the project's database itself: a restore must not
    replace the project under it."""
    data_dir, backup_id, _ = one_backup
    follower = subprocess.Popen(
        [str(COMMAND), "events", "--follow", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert follower.stdout.readline(), "events --follow printed no event"  # it has the project open now
        code, error, _ = backup("restore", backup_id, "--force", data_dir=data_dir)
        assert code == 1 and "is in use by a running baas-mcp process" in error["message"], error
    finally:
        follower.terminate()
        follower.communicate(timeout=30)
    code, restored, errors = backup("restore", backup_id, "--force", data_dir=data_dir)
    assert (code, restored["project"]) == (0, "default"), errors
