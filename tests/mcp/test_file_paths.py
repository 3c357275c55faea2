"""Which local files a `file` parameter may name, per transport, against real `baas-mcp serve` processes.

Over HTTP a path is refused (data URLs only) unless the server has `--files-root DIR`, and then only a path
that resolves inside DIR. Over stdio and `baas-mcp call` the local user names their own files. Whoever asks,
only regular files are read, and a file's size is checked against the bucket before any of it is read.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.commands import COMMAND, baas_mcp, create_key, serve_env, start_http_server

pytestmark = pytest.mark.anyio

SCOPES = "buckets.read,buckets.write,files.read,files.write"
GIB = 1024**3


@contextlib.asynccontextmanager
async def http_session(data: Path, *args: str) -> AsyncIterator[Client]:
    """An MCP client of `baas-mcp serve --transport http ARGS` with a files key, over streamable HTTP."""
    secret = create_key(data, SCOPES)["secret"]
    server = start_http_server(data, *args)
    try:
        with anyio.fail_after(60):
            async with (
                httpx2.AsyncClient(headers={"Authorization": f"Bearer {secret}"}) as http,
                Client(streamable_http_client(server.url("/mcp"), http_client=http), mode="legacy") as client,
            ):
                yield client
    finally:
        server.stop()


@contextlib.asynccontextmanager
async def stdio_session(data: Path, cwd: Path) -> AsyncIterator[Client]:
    params = StdioServerParameters(
        command=str(COMMAND),
        args=["serve", "--data-dir", str(data)],
        env=serve_env(),
        cwd=str(cwd),
    )
    with anyio.fail_after(60):
        async with Client(params, mode="legacy") as client:
            yield client


async def execute(client: Client, operation: str, **params):
    result = await client.call_tool("execute_operation", {"operation": operation, "params": params})
    if result.is_error:
        return None, result.structured_content["error"]
    return result.structured_content["result"], None


async def upload(client: Client, file: str, file_id: str = "unique()"):
    return await execute(client, "storage.createFile", bucketId="b", fileId=file_id, file=file)


async def file_count(client: Client) -> int:
    listed, error = await execute(client, "storage.listFiles", bucketId="b")
    assert error is None, error
    return listed["total"]


def assert_refused_naming_file(error: dict | None) -> None:
    assert error is not None
    assert (error["type"], error["code"]) == ("general_argument_invalid", 400), error
    assert "`file`" in error["message"]


async def test_over_http_a_path_is_never_read_but_a_data_url_is(tmp_path):
    data = tmp_path / "data"
    mine = tmp_path / "notes.txt"
    mine.write_bytes(b"on the server's disk")
    async with http_session(data) as client:
        await execute(client, "storage.createBucket", bucketId="b", name="B", encryption=True)
        url = "data:text/plain;name=hello.txt;base64," + base64.b64encode(b"hello").decode()
        created, error = await upload(client, url, "hello")
        assert error is None, error
        assert (created["name"], created["sizeOriginal"]) == ("hello.txt", 5)
        # The encrypted upload made the project's key: exactly what an attacker would want to read.
        secrets = [data / "default" / "encryption.key", data / "default" / "project.sqlite3"]
        assert all(path.is_file() for path in secrets)
        for path in [*secrets, Path("/etc/passwd"), Path("/proc/self/environ"), mine, Path("notes.txt")]:
            _, error = await upload(client, str(path))
            assert_refused_naming_file(error)
            assert "data URL" in error["message"] and "--files-root" in error["message"]
        assert await file_count(client) == 1


async def test_over_http_a_data_url_carries_a_file_as_large_as_a_bucket_takes(tmp_path):
    content = os.urandom(29_000_000)
    async with http_session(tmp_path / "data") as client:
        await execute(client, "storage.createBucket", bucketId="b", name="B")
        url = "data:application/octet-stream;name=big.bin;base64," + base64.b64encode(content).decode()
        created, error = await upload(client, url, "big")
        assert error is None, error
        assert created["sizeOriginal"] == len(content)


async def test_with_files_root_only_paths_inside_it_are_read(tmp_path):
    data, root, outside = tmp_path / "data", tmp_path / "shared", tmp_path / "private"
    (root / "docs").mkdir(parents=True)
    outside.mkdir()
    (root / "docs" / "report.txt").write_bytes(b"inside the root")
    (outside / "secret.txt").write_bytes(b"outside the root")
    (root / "link-out.txt").symlink_to(outside / "secret.txt")
    (root / "dir-out").symlink_to(outside)
    (root / "link-in.txt").symlink_to(root / "docs" / "report.txt")
    async with http_session(data, "--files-root", str(root)) as client:
        await execute(client, "storage.createBucket", bucketId="b", name="B")
        for given in ("docs/report.txt", str(root / "docs" / "report.txt"), "docs/../link-in.txt"):
            created, error = await upload(client, given)
            assert error is None, (given, error)
            assert (created["name"], created["sizeOriginal"]) == ("report.txt", len(b"inside the root"))
        escapes = [
            "../private/secret.txt",
            str(outside / "secret.txt"),
            "link-out.txt",
            "dir-out/secret.txt",
            "docs/../../private/secret.txt",
            str(data / "default" / "project.sqlite3"),
            ".",
            "/",
            "~/.ssh/id_rsa",
        ]
        for given in escapes:
            _, error = await upload(client, given)
            assert_refused_naming_file(error)
        assert await file_count(client) == 3
        _, missing = await upload(client, "docs/none.txt")
        assert_refused_naming_file(missing)
        _, folder = await upload(client, "docs")
        assert_refused_naming_file(folder)
        assert "not a regular file" in folder["message"]


def test_serve_refuses_a_files_root_that_is_not_a_folder_or_over_stdio(tmp_path):
    missing = baas_mcp("serve", "--transport", "http", "--files-root", str(tmp_path / "none"), env=serve_env())
    assert missing.returncode == 2 and "--files-root" in missing.stderr
    stdio = baas_mcp("serve", "--files-root", str(tmp_path), env=serve_env())
    assert stdio.returncode == 2 and "--files-root" in stdio.stderr and "--transport http" in stdio.stderr


async def test_over_stdio_the_local_user_names_regular_files_only(tmp_path):
    data = tmp_path / "data"
    (tmp_path / "cat.txt").write_bytes(b"meow")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    async with stdio_session(data, cwd=tmp_path) as client:
        await execute(client, "storage.createBucket", bucketId="b", name="B")
        created, error = await upload(client, "cat.txt", "cat")
        assert error is None, error
        assert created["sizeOriginal"] == 4
        # Devices, FIFOs (opening one must not wait for a writer), folders and the kernel's trees are not files.
        for given in ("/dev/zero", "/dev/urandom", str(fifo), str(tmp_path), "/proc/self/environ", "/sys/kernel/mm"):
            _, error = await upload(client, given)
            assert_refused_naming_file(error)
        assert await file_count(client) == 1


async def test_a_file_over_the_bucket_limit_is_refused_before_it_is_read(tmp_path):
    data = tmp_path / "data"
    huge = tmp_path / "huge.bin"
    with open(huge, "wb") as handle:  # sparse: 64 GiB that no test machine could hold in memory
        handle.truncate(64 * GIB)
    async with stdio_session(data, cwd=tmp_path) as client:
        await execute(client, "storage.createBucket", bucketId="b", name="B", maximumFileSize=1024 * 1024)
        _, error = await upload(client, str(huge))
        assert (error["type"], error["code"]) == ("storage_invalid_file_size", 400)
        # The default bucket takes at most 30 MB: the same file is refused there too.
        await execute(client, "storage.createBucket", bucketId="c", name="C")
        _, error = await execute(client, "storage.createFile", bucketId="c", fileId="f", file=str(huge))
        assert error["type"] == "storage_invalid_file_size"
        assert await file_count(client) == 0


def test_baas_mcp_call_reads_the_local_users_file(tmp_path):
    data = tmp_path / "data"
    (tmp_path / "cat.txt").write_bytes(b"meow")

    def call(operation: str, params: dict):
        return baas_mcp("call", operation, "--data-dir", str(data), "--params", json.dumps(params), cwd=tmp_path)

    assert call("storage.createBucket", {"bucketId": "b", "name": "B"}).returncode == 0
    created = call("storage.createFile", {"bucketId": "b", "fileId": "cat", "file": "cat.txt"})
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["sizeOriginal"] == 4
    refused = call("storage.createFile", {"bucketId": "b", "fileId": "zero", "file": "/dev/zero"})
    assert refused.returncode == 1
    assert "not a regular file" in json.loads(refused.stdout)["message"]
