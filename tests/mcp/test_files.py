"""Files through the MCP tools, on the embedded engine and on the HTTP backend against `baas-mcp api`.

An agent uploads a file by its local path (a 12 MB one goes up in 5 MB chunks over HTTP) or as a
base64 data URL, and every download, view or preview comes back as the path of a saved file, never
as bytes in the text.
"""

from __future__ import annotations

import base64
import io
import itertools
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from mcp import Client, types
from PIL import Image

from mcp_server.mcp.server import build_server
from mcp_server.runtime import Remote, Runtime
from mcp_server.settings import Settings
from tests.commands import create_key

pytestmark = pytest.mark.anyio

SCOPES = "buckets.read,buckets.write,files.read,files.write"
MB = 1024 * 1024
PROJECT_NUMBERS = itertools.count(1)


@pytest.fixture(params=["embedded", "http"])
async def client(request, tmp_path: Path, api_server) -> AsyncIterator[Client]:
    """An MCP client of a server on the embedded engine, or on the HTTP backend pointed at `baas-mcp api`."""
    project = f"files{next(PROJECT_NUMBERS)}"
    remote = None
    if request.param == "http":
        endpoint, data_dir = api_server
        remote = Remote(endpoint, project, create_key(data_dir, SCOPES, project=project)["secret"])
    runtime = Runtime(tmp_path / "data", project, Settings(local_files=True), remote)
    try:
        async with Client(build_server(runtime)) as connected:
            yield connected
    finally:
        await runtime.aclose()


async def execute(client: Client, operation: str, **params) -> types.CallToolResult:
    return await client.call_tool("execute_operation", {"operation": operation, "params": params})


async def succeeded(client: Client, operation: str, **params):
    result = await execute(client, operation, **params)
    assert result.is_error is not True, result.content[0].text
    return result.structured_content["result"]


async def refused(client: Client, operation: str, **params) -> dict:
    result = await execute(client, operation, **params)
    assert result.is_error is True
    return result.structured_content["error"]


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 90)).save(buffer, "PNG")
    return buffer.getvalue()


async def new_bucket(client: Client, **settings) -> None:
    await succeeded(client, "storage.createBucket", bucketId="media", name="Media", **settings)


async def test_upload_by_path_and_download_to_a_path(client, tmp_path):
    await new_bucket(client, compression="zstd")
    original = tmp_path / "dataset.bin"
    original.write_bytes(os.urandom(12 * MB))

    created = await succeeded(client, "storage.createFile", bucketId="media", fileId="data", file=str(original))
    assert (created["name"], created["sizeOriginal"]) == ("dataset.bin", 12 * MB)
    # Over HTTP the file goes up in three 5 MB chunks; the embedded engine reads it whole.
    assert created["chunksUploaded"] == created["chunksTotal"] >= 1

    result = await execute(client, "storage.getFileDownload", bucketId="media", fileId="data")
    saved = result.structured_content["result"]
    assert (saved["bytes"], saved["contentType"]) == (12 * MB, "application/octet-stream")
    assert Path(saved["savedTo"]).read_bytes() == original.read_bytes()
    assert Path(saved["savedTo"]).suffix == ".bin"
    # The answer is small: a path, not 12 MB of bytes in the text.
    assert len(result.content[0].text) < 1_000


async def test_upload_as_a_data_url_and_view_it(client):
    await new_bucket(client)
    text = b"hello from an agent\n"
    url = "data:text/plain;name=notes.txt;base64," + base64.b64encode(text).decode()

    created = await succeeded(client, "storage.createFile", bucketId="media", fileId="unique()", file=url)
    assert (created["name"], created["mimeType"], created["sizeOriginal"]) == ("notes.txt", "text/plain", len(text))

    viewed = await succeeded(client, "storage.getFileView", bucketId="media", fileId=created["$id"])
    assert Path(viewed["savedTo"]).read_bytes() == text
    assert viewed["contentType"] == "text/plain"


async def test_a_preview_is_saved_at_the_size_asked(client, tmp_path):
    await new_bucket(client)
    photo = tmp_path / "photo.png"
    photo.write_bytes(png(400, 200))
    await succeeded(client, "storage.createFile", bucketId="media", fileId="photo", file=str(photo))

    preview = await succeeded(
        client, "storage.getFilePreview", bucketId="media", fileId="photo", width=120, output="webp"
    )
    assert preview["contentType"] == "image/webp"
    with Image.open(preview["savedTo"]) as image:
        assert (image.format, image.size) == ("WEBP", (120, 60))


async def test_a_path_that_cannot_be_read_is_refused_naming_the_field(client, tmp_path):
    await new_bucket(client)
    missing = tmp_path / "nowhere" / "cat.png"
    error = await refused(client, "storage.createFile", bucketId="media", fileId="cat", file=str(missing))
    assert error["type"] == "general_argument_invalid"
    assert "`file`" in error["message"]
    assert str(missing) in error["message"]
    bad_base64 = await refused(
        client, "storage.createFile", bucketId="media", fileId="cat", file="data:image/png;base64,not base64!"
    )
    assert "base64" in bad_base64["message"]
    assert (await succeeded(client, "storage.listFiles", bucketId="media"))["total"] == 0


async def test_bucket_rules_apply_to_files_sent_by_path(client, tmp_path):
    await new_bucket(client, allowedFileExtensions=["png"], maximumFileSize=MB)
    script = tmp_path / "run.sh"
    script.write_bytes(b"#!/bin/sh\necho hi\n")
    large = tmp_path / "large.png"
    large.write_bytes(os.urandom(2 * MB))

    error = await refused(client, "storage.createFile", bucketId="media", fileId="script", file=str(script))
    assert (error["type"], error["code"]) == ("storage_file_type_unsupported", 400)
    error = await refused(client, "storage.createFile", bucketId="media", fileId="large", file=str(large))
    assert (error["type"], error["code"]) == ("storage_invalid_file_size", 400)
    assert (await succeeded(client, "storage.listFiles", bucketId="media"))["total"] == 0


@pytest.mark.parametrize(
    ("stored_name", "kept", "suffix"),
    [
        ("evil%00name.txt", ("evil", "name"), ".txt"),
        ("x" * 300 + ".txt", ("x" * 100,), ".txt"),
        ("..%2F..%2F..%2Fetc%2Fpasswd", ("passwd",), ".txt"),
        ("..", ("getFileDownload",), ".txt"),
        ("tab%09and%0Anewline.md", ("tab", "and", "newline"), ".md"),
        ("caf%C3%A9%20menu.txt", ("café", "menu"), ".txt"),
        ("report.%00exe", ("report",), ".txt"),
    ],
)
async def test_a_download_is_saved_under_a_safe_name_whatever_the_stored_name(client, stored_name, kept, suffix):
    await new_bucket(client)
    url = f"data:text/plain;name={stored_name};base64," + base64.b64encode(b"content").decode()
    created = await succeeded(client, "storage.createFile", bucketId="media", fileId="f", file=url)
    saved = await succeeded(client, "storage.getFileDownload", bucketId="media", fileId=created["$id"])
    path = Path(saved["savedTo"])
    assert path.read_bytes() == b"content"
    assert path.parent.name == "downloads"
    # Letters, digits and a few marks only (no NUL, control characters or separators), a bounded length, a plain suffix.
    assert re.fullmatch(r"[\w.\- ]+", path.name) and len(path.name.encode()) <= 200, path.name
    assert path.suffix == suffix and all(part in path.stem for part in kept), path.name
