"""A server that refuses some requests (429 with Retry-After, 503) and a target that already holds a conflicting
user: `baas-mcp migrate` tries refused requests again and finishes identical; a conflict fails with an error that
names the resource, and the exit code says so."""

from __future__ import annotations

import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import bcrypt
import httpx
import pytest

from mcp_server.catalog import load_catalog
from mcp_server.engine import Engine
from mcp_server.engine.keys import SCOPES
from mcp_server.uploads import Upload
from tests.commands import baas_mcp, create_key, start_api_server

FORWARDED_HEADERS = (
    "content-type",
    "content-range",
    "x-appwrite-project",
    "x-appwrite-key",
    "x-appwrite-id",
    "x-appwrite-response-format",
)


class Flaky:
    """A loopback proxy to `upstream` that answers every fifth request 429 (Retry-After: 0) and every eleventh 503."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.counter = itertools.count(1)
        self.refused = 0
        self.client = httpx.Client(timeout=60)
        flaky = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                return None

            def answer(self) -> None:
                number = next(flaky.counter)
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                if number % 5 == 0 or number % 11 == 0:
                    flaky.refused += 1
                    status = 429 if number % 5 == 0 else 503
                    payload = json.dumps(
                        {"message": "slow down", "code": status, "type": "general_rate_limit_exceeded"}
                    )
                    self.send_response(status)
                    self.send_header("Retry-After", "0")
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload.encode())
                    return
                headers = {name: value for name, value in self.headers.items() if name.lower() in FORWARDED_HEADERS}
                response = flaky.client.request(self.command, flaky.upstream + self.path, headers=headers, content=body)
                self.send_response(response.status_code)
                for name in ("content-type", "content-disposition"):
                    if name in response.headers:
                        self.send_header(name, response.headers[name])
                self.send_header("Content-Length", str(len(response.content)))
                self.end_headers()
                self.wfile.write(response.content)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.client.close()


def small_project(data_dir: Path) -> None:
    engine = Engine(data_dir, catalog=load_catalog())
    try:
        engine.call("tablesDB.create", {"databaseId": "db", "name": "DB"})
        engine.call("tablesDB.createTable", {"databaseId": "db", "tableId": "notes", "name": "Notes"})
        engine.call(
            "tablesDB.createStringColumn",
            {"databaseId": "db", "tableId": "notes", "key": "text", "size": 100, "required": False},
        )
        for start in range(0, 1000, 100):
            rows = [{"$id": f"n{n}", "text": f"note {n}"} for n in range(start, start + 100)]
            engine.call("tablesDB.createRows", {"databaseId": "db", "tableId": "notes", "rows": rows})
        hashed = bcrypt.hashpw(b"a long password", bcrypt.gensalt(rounds=4)).decode()
        for n in range(20):
            user = {"userId": f"u{n}", "email": f"u{n}@example.com", "password": hashed}
            engine.call("users.createBcryptUser", user)
        engine.call("storage.createBucket", {"bucketId": "files", "name": "Files"})
        for n in range(5):
            upload = Upload(f"f{n}.txt", "text/plain", b"x" * (1000 * n + 1))
            engine.call("storage.createFile", {"bucketId": "files", "fileId": f"f{n}", "file": upload})
    finally:
        engine.close()


@pytest.fixture
def server(tmp_path):
    source, served = tmp_path / "a", tmp_path / "b"
    small_project(source)
    key = create_key(served, ",".join(sorted(SCOPES)))["secret"]
    api = start_api_server(served)
    try:
        yield source, api.url("/v1"), key
    finally:
        api.stop()


def run_migrate(source: Path, endpoint: str, key: str, cwd: Path, *extra: str) -> tuple[int, dict]:
    done = baas_mcp(
        "migrate",
        "--from-data-dir",
        str(source),
        "--to-endpoint",
        endpoint,
        "--to-project",
        "default",
        "--to-api-key",
        key,
        "--json",
        *extra,
        cwd=cwd,
        timeout=300,
    )
    report = json.loads(done.stdout.splitlines()[-1])
    return done.returncode, report


def test_refused_requests_are_tried_again_and_the_copy_is_identical(server, tmp_path):
    source, endpoint, key = server
    flaky = Flaky(endpoint.removesuffix("/v1"))
    try:
        code, report = run_migrate(source, flaky.url + "/v1", key, tmp_path, "--concurrency", "3")
    finally:
        flaky.close()
    assert code == 0, json.dumps(report)
    assert flaky.refused > 20
    assert report["resources"]["rows"] == {"create": 1000} and report["resources"]["users"] == {"create": 20}
    assert report["verification"] and all(check["same"] for check in report["verification"])


def test_a_conflict_in_the_target_names_the_resource_and_fails_the_run(server, tmp_path):
    source, endpoint, key = server
    headers = {"X-Appwrite-Project": "default", "X-Appwrite-Key": key}
    taken = httpx.post(endpoint + "/users", headers=headers, json={"userId": "other", "email": "u3@example.com"})
    assert taken.status_code == 201, taken.text
    code, report = run_migrate(source, endpoint, key, tmp_path, "--resources", "users")
    assert code == 1
    failed = [note for note in report["notes"] if note["kind"] == "failed"]
    assert [note["resource"] for note in failed] == ["target user u3"]
    assert "user_email_already_exists" in failed[0]["message"]
    assert report["resources"]["users"] == {"create": 20}
    assert [check["resource"] for check in report["verification"] if not check["same"]] == ["users"]
