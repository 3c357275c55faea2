"""The official web SDK (appwrite, pinned in web_sdk/package.json: the last release for Appwrite 1.8.x) in headless
Chromium against `baas-mcp api`.

A key sets up a table and a bucket; then a page on another loopback origin (http://localhost:<port>, another site
than the API's 127.0.0.1) signs a user up and in, works with rows and a file, takes a JWT and signs out. The API's
cookie cannot be kept across sites, so the session travels as the SDK's "fallback cookies": the X-Fallback-Cookies
header, kept in localStorage. web_sdk/run.js drives the browser and prints what the page observed; the assertions
are here. The packages are installed with `npm ci` from the committed lock file the first time; Chromium is the
system's (Debian package `chromium`), never downloaded.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.commands import create_key, start_api_server
from tests.rest.node_packages import assert_pinned, install, node_commands

WEB_DIR = Path(__file__).resolve().parent / "web_sdk"
PINS = {"appwrite": "23.0.0", "playwright-core": "1.65.2"}
PROJECT, DATABASE, TABLE, BUCKET = "default", "web", "notes", "uploads"
SCOPES = "databases.read,databases.write,tables.write,columns.write,buckets.write"
COOKIE = f"a_session_{PROJECT}"


def png_pixel() -> bytes:
    """A 1x1 green PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00\xff\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


PNG = png_pixel()
MINE = ['read("user:ME")', 'update("user:ME")', 'delete("user:ME")']
EXPECTED = {
    "account.create": {"id": "webber", "email": "webber@example.com", "name": "Web Tester", "status": True},
    "fallback.beforeSignIn": None,
    # Guests never see a session's secret: it travels in the cookie, or here in X-Fallback-Cookies.
    "session": {"userId": "webber", "current": True, "provider": "email", "secret": ""},
    "fallback.afterSignIn": {"keys": [COOKIE], "holdsTheSession": True},
    # The browser keeps no cookie of the API (another site), so what follows goes through the fallback.
    "cookies.afterSignIn": [],
    "account.get": {"id": "webber", "email": "webber@example.com", "name": "Web Tester"},
    "account.get.withoutFallback": {"code": 401, "type": "general_unauthorized_scope"},
    "tablesDB.createRow": {"title": "From the browser", "n": 7, "tableId": TABLE, "permissions": MINE},
    "tablesDB.listRows": {"total": 2, "titles": ["And another", "From the browser"]},
    "tablesDB.listRows.withoutFallback": {"total": 0},
    "storage.createFile": {
        "name": "pixel.png",
        "mimeType": "image/png",
        "sizeOriginal": len(PNG),
        "chunks": [1, 1],
        "permissions": ['read("user:ME")'],
    },
    "getFileView.url": {"path": True, "project": PROJECT},
    "getFileView.fetch": {"status": 200, "contentType": "image/png", "sameBytes": True},
    "getFileView.image": {"loaded": True, "width": 1, "height": 1},
    "getFileView.guest": {"status": 404, "type": "storage_file_not_found"},
    "account.createJWT": {"parts": 3},
    "jwt.withTheSession": {"code": 403, "type": "user_jwt_and_cookie_set"},
    "jwt.get": {"sameUser": True},
    # A 204 answer has no JSON body; the SDK gives back its (empty) text. The stored session is replaced by [].
    "account.deleteSession": {"answer": {"message": ""}, "fallback": "[]"},
    "account.get.afterSignOut": {"code": 401, "type": "general_unauthorized_scope"},
    "cookies.afterSignOut": [],
}


def chromium() -> str:
    """The system's Chromium, or the test fails saying what to install."""
    found = shutil.which("chromium")
    if not found:
        pytest.fail("the web SDK test needs Chromium: install the Debian package `chromium` (apt-get install chromium)")
    return found


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory) -> Iterator[str]:
    """`baas-mcp api` with table `web/notes` (title, n; users may create rows, rows say who reads them) and bucket
    `uploads` (users may upload, files say who reads them), made with a key beforehand."""
    data_dir = tmp_path_factory.mktemp("web") / "data"
    key = create_key(data_dir, SCOPES)["secret"]
    server = start_api_server(data_dir)
    url = server.url("/v1")
    try:
        columns = f"/tablesdb/{DATABASE}/tables/{TABLE}/columns"
        users_create = ['create("users")']
        setup = [
            ("/tablesdb", {"databaseId": DATABASE, "name": "Web"}),
            (
                f"/tablesdb/{DATABASE}/tables",
                {"tableId": TABLE, "name": "Notes", "permissions": users_create, "rowSecurity": True},
            ),
            (f"{columns}/string", {"key": "title", "size": 100, "required": True}),
            (f"{columns}/integer", {"key": "n", "required": False}),
            (
                "/storage/buckets",
                {"bucketId": BUCKET, "name": "Uploads", "permissions": users_create, "fileSecurity": True},
            ),
        ]
        with httpx.Client(base_url=url, headers={"X-Appwrite-Project": PROJECT, "X-Appwrite-Key": key}) as admin:
            for path, body in setup:
                response = admin.post(path, json=body)
                assert response.status_code in (201, 202), response.text
        yield url
    finally:
        assert server.stop() == 0, server.stderr.text()


@pytest.fixture(scope="module")
def browser_run(endpoint) -> dict:
    """run.js once against the module's server: the page's origin, what it observed, and its console."""
    browser = chromium()
    node, npm = node_commands()
    install(npm, WEB_DIR, PINS)
    env = os.environ | {
        "ENDPOINT": endpoint,
        "PROJECT": PROJECT,
        "USER_ID": "webber",
        "PASSWORD": "a long passphrase",
        "DATABASE": DATABASE,
        "TABLE": TABLE,
        "BUCKET": BUCKET,
        "PNG_BASE64": base64.b64encode(PNG).decode(),
        "CHROMIUM": browser,
    }
    result = subprocess.run([node, "run.js"], cwd=WEB_DIR, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, f"run.js failed:\n{result.stdout}\n{result.stderr}"
    return json.loads(result.stdout)


def test_the_packages_are_pinned_in_the_manifest_and_the_lock_file():
    assert_pinned(WEB_DIR, PINS)


def test_the_page_is_on_another_site_than_the_api(browser_run, endpoint):
    assert endpoint.startswith("http://127.0.0.1:")
    assert browser_run["pageOrigin"].startswith("http://localhost:")


@pytest.mark.parametrize("label", list(EXPECTED))
def test_browser_observation(browser_run, label):
    assert label in browser_run["checks"], f"the scenario stopped before {label!r}: {browser_run['console']}"
    assert browser_run["checks"][label] == EXPECTED[label]


def test_the_browser_observes_nothing_unexpected(browser_run):
    """Every observation the page makes is asserted here too."""
    assert set(browser_run["checks"]) == set(EXPECTED)


def test_the_sdk_says_it_keeps_the_session_in_local_storage(browser_run):
    warning = "Appwrite is using localStorage for session management."
    assert any(warning in line for line in browser_run["console"]), browser_run["console"]
