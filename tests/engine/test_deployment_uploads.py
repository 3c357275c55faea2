"""A deployment's archive in Appwrite's 5 MB chunks, in any order and sent again, and archives too large refused
before any of them is read or kept."""

from __future__ import annotations

import io
import os
import tarfile

from mcp_server.engine.functions.deployment_uploads import ARCHIVE_LIMIT
from mcp_server.uploads import CHUNK_SIZE, LocalFile, Upload
from tests.engine.conftest import error_of
from tests.engine.test_functions import PYTHON

MAIN = b"def main(context):\n    return context.res.text('chunked')\n"


def big_archive() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in (("main.py", MAIN), ("filler.bin", os.urandom(2 * CHUNK_SIZE + 1000))):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def chunk(data: bytes, index: int, upload_id: str | None = None) -> Upload:
    start = index * CHUNK_SIZE
    piece = data[start : start + CHUNK_SIZE]
    return Upload("code.tar.gz", "application/gzip", piece, (start, start + len(piece) - 1, len(data)), upload_id)


def deploy(call, code, **params) -> dict:
    return call("functions.createDeployment", functionId="f", code=code, entrypoint="main.py", activate=True, **params)


def test_chunks_in_any_order_and_sent_again_make_one_deployment(call, engine):
    call("functions.create", functionId="f", name="f", runtime=PYTHON)
    data = big_archive()
    first = deploy(call, chunk(data, 0))
    deployment_id = first["$id"]
    assert first["status"] == "waiting"
    assert call("functions.listDeployments", functionId="f")["total"] == 0
    assert deploy(call, chunk(data, 2, deployment_id))["status"] == "waiting"
    assert deploy(call, chunk(data, 2, deployment_id))["status"] == "waiting"
    done = deploy(call, chunk(data, 1, deployment_id))
    assert (done["$id"], done["status"], done["sourceSize"]) == (deployment_id, "ready", len(data))
    again = deploy(call, chunk(data, 1, deployment_id))
    assert (again["$id"], again["status"]) == (deployment_id, "ready")
    assert call("functions.listDeployments", functionId="f")["total"] == 1
    assert call("functions.createExecution", functionId="f")["responseBody"] == "chunked"
    assert call("functions.getDeploymentDownload", functionId="f", deploymentId=deployment_id).data == data
    assert not list((engine.data_dir / "default" / "functions" / "f" / ".uploads").iterdir())


def test_an_archive_over_the_limit_is_refused_before_it_is_read(call, tmp_path):
    call("functions.create", functionId="f", name="f", runtime=PYTHON)
    announced = Upload("code.tar.gz", "application/gzip", b"x" * CHUNK_SIZE, (0, CHUNK_SIZE - 1, ARCHIVE_LIMIT + 1))
    error = error_of(deploy, call, announced)
    assert (error.type, error.code) == ("storage_invalid_file_size", 400)
    local = tmp_path / "huge.tar.gz"
    with open(local, "wb") as handle:
        handle.truncate(ARCHIVE_LIMIT + 1)
    opened = LocalFile("code", os.open(local, os.O_RDONLY), local.name, local.stat().st_size)
    try:
        error = error_of(deploy, call, opened)
        assert error.type == "storage_invalid_file_size"
        assert opened.handle.tell() == 0
    finally:
        opened.close()
    assert error_of(deploy, call, Upload("code.tar.gz", "application/gzip", b"")).type == "storage_file_empty"
    assert call("functions.listDeployments", functionId="f")["total"] == 0
