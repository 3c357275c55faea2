"""The storage and tokens services through the official Python SDK (appwrite 16.0.0) against `baas-mcp api`:
chunked uploads as the SDK sends them, downloads, previews, refusals that leave nothing behind, and
file tokens opening a file to plain HTTP requests without a key.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from appwrite.client import Client
from appwrite.id import ID
from appwrite.input_file import InputFile
from appwrite.models.bucket import Bucket
from appwrite.models.file import File
from appwrite.models.resource_token import ResourceToken
from appwrite.services.storage import Storage
from appwrite.services.tokens import Tokens
from PIL import Image

from tests.commands import ServeProcess, create_key, start_api_server
from tests.rest.sdk_errors import raised

PROJECT = "default"
SCOPES = "buckets.read,buckets.write,files.read,files.write,tokens.read,tokens.write"
MB = 1024 * 1024


@dataclass
class Server:
    process: ServeProcess
    data_dir: Path
    endpoint: str
    key: str


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("storage") / "data"
    key = create_key(data_dir, SCOPES)
    process = start_api_server(data_dir)
    try:
        yield Server(process, data_dir, process.url("/v1"), key["secret"])
    finally:
        code = process.stop()
    assert code == 0, f"the API server did not shut down cleanly ({code}): {process.stderr.text()}"


@pytest.fixture(scope="module")
def storage(server) -> Storage:
    return Storage(Client().set_endpoint(server.endpoint).set_project(PROJECT).set_key(server.key))


@pytest.fixture(scope="module")
def tokens(server) -> Tokens:
    return Tokens(Client().set_endpoint(server.endpoint).set_project(PROJECT).set_key(server.key))


def stored_files(server: Server, bucket_id: str) -> list[Path]:
    """Every file under the project's storage folder for a bucket: content, and chunks waiting."""
    root = server.data_dir / PROJECT / "storage"
    places = [root / bucket_id, root / ".uploads" / bucket_id]
    return [path for place in places if place.exists() for path in place.rglob("*") if path.is_file()]


def new_bucket(storage: Storage, **settings) -> Bucket:
    bucket = storage.create_bucket(ID.unique(), "test", **settings)
    assert isinstance(bucket, Bucket)
    return bucket


def test_a_large_file_goes_up_in_chunks_and_comes_back_whole(server, storage):
    bucket = new_bucket(storage, compression="gzip")
    data = os.urandom(12 * MB)
    created = storage.create_file(bucket.id, ID.unique(), InputFile.from_bytes(data, "big.bin"))
    assert isinstance(created, File)
    assert (created.chunkstotal, created.chunksuploaded, created.sizeoriginal) == (3, 3, 12 * MB)
    assert (created.name, created.encryption, created.compression) == ("big.bin", True, "gzip")
    assert storage.get_file_download(bucket.id, created.id) == data
    assert storage.get_file_view(bucket.id, created.id) == data
    listed = storage.list_files(bucket.id)
    assert (listed.total, listed.files[0].id) == (1, created.id)
    files = stored_files(server, bucket.id)
    assert [path.name for path in files] == [created.id]
    assert data[:4096] not in files[0].read_bytes()


def test_encryption_at_rest_shows_in_the_stored_file(server, storage):
    text = b"Quarterly numbers: revenue 1,234,567; margin 42%.\n" * 20
    sealed = new_bucket(storage)
    plain = new_bucket(storage, encryption=False)
    for bucket in (sealed, plain):
        storage.create_file(bucket.id, "report", InputFile.from_bytes(text, "report.txt"))
        assert storage.get_file_download(bucket.id, "report") == text
    [stored] = stored_files(server, sealed.id)
    at_rest = stored.read_bytes()
    # AES-GCM: a 12-byte nonce and a 16-byte tag around ciphertext as long as the text, none of it readable.
    assert len(at_rest) == len(text) + 28
    assert b"revenue" not in at_rest
    [unsealed] = stored_files(server, plain.id)
    assert unsealed.read_bytes() == text
    assert storage.get_file(sealed.id, "report").encryption is True
    assert storage.get_file(plain.id, "report").encryption is False


def test_a_preview_is_resized(storage):
    bucket = new_bucket(storage)
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), (10, 20, 30)).save(buffer, "PNG")
    created = storage.create_file(bucket.id, ID.unique(), InputFile.from_bytes(buffer.getvalue(), "photo.png"))
    assert created.mimetype == "image/png"
    preview = Image.open(io.BytesIO(storage.get_file_preview(bucket.id, created.id, width=100)))
    assert (preview.format, preview.size) == ("PNG", (100, 75))
    jpeg = Image.open(io.BytesIO(storage.get_file_preview(bucket.id, created.id, width=100, height=100, output="jpg")))
    assert (jpeg.format, jpeg.size) == ("JPEG", (100, 100))


def test_a_forbidden_extension_leaves_nothing_behind(server, storage):
    bucket = new_bucket(storage, allowed_file_extensions=["png"])
    error = raised(storage.create_file, bucket.id, ID.unique(), InputFile.from_bytes(b"#!/bin/sh\n", "run.sh"))
    assert (error.code, error.type) == (400, "storage_file_type_unsupported")
    assert storage.list_files(bucket.id).total == 0
    assert stored_files(server, bucket.id) == []


def test_an_oversized_file_leaves_nothing_behind(server, storage):
    bucket = new_bucket(storage, maximum_file_size=6 * MB)
    # In one request (under 5 MB chunks) and in chunks: the second is refused at its first chunk.
    small_limit = new_bucket(storage, maximum_file_size=MB)
    error = raised(storage.create_file, small_limit.id, ID.unique(), InputFile.from_bytes(os.urandom(2 * MB), "a.bin"))
    assert (error.code, error.type) == (400, "storage_invalid_file_size")
    error = raised(storage.create_file, bucket.id, ID.unique(), InputFile.from_bytes(os.urandom(12 * MB), "b.bin"))
    assert (error.code, error.type) == (400, "storage_invalid_file_size")
    for bucket_id in (bucket.id, small_limit.id):
        assert storage.list_files(bucket_id).total == 0
        assert stored_files(server, bucket_id) == []


def test_bucket_and_file_management(storage):
    bucket = new_bucket(storage, permissions=['read("any")'], file_security=True)
    assert storage.get_bucket(bucket.id).filesecurity is True
    renamed = storage.update_bucket(bucket.id, "renamed", enabled=False)
    assert (renamed.name, renamed.enabled, renamed.filesecurity) == ("renamed", False, True)
    assert bucket.id in [b.id for b in storage.list_buckets(search="renamed").buckets]
    created = storage.create_file(bucket.id, "notes", InputFile.from_bytes(b"hello", "notes.txt"))
    updated = storage.update_file(bucket.id, created.id, name="hello.txt", permissions=['read("any")'])
    assert (updated.name, updated.permissions) == ("hello.txt", ['read("any")'])
    assert storage.get_file(bucket.id, "notes").name == "hello.txt"
    error = raised(storage.create_file, bucket.id, "notes", InputFile.from_bytes(b"again", "notes.txt"))
    assert (error.code, error.type) == (409, "storage_file_already_exists")
    storage.delete_file(bucket.id, "notes")
    assert (raised(storage.get_file, bucket.id, "notes").type) == "storage_file_not_found"
    storage.delete_bucket(bucket.id)
    assert raised(storage.get_bucket, bucket.id).type == "storage_bucket_not_found"


def view(server: Server, bucket_id: str, file_id: str, token: str | None) -> httpx.Response:
    """A plain GET of the file's view URL, as a browser would open it: no key, no session."""
    params = {"project": PROJECT, **({"token": token} if token is not None else {})}
    return httpx.get(f"{server.endpoint}/storage/buckets/{bucket_id}/files/{file_id}/view", params=params)


def test_a_file_token_opens_a_file_until_it_expires_or_is_deleted(server, storage, tokens):
    bucket = new_bucket(storage)
    created = storage.create_file(bucket.id, ID.unique(), InputFile.from_bytes(b"shared text", "shared.txt"))
    refused = view(server, bucket.id, created.id, None)
    assert (refused.status_code, refused.json()["type"]) == (401, "user_unauthorized")

    expire = (datetime.now(UTC) + timedelta(seconds=3)).isoformat()
    brief = tokens.create_file_token(bucket.id, created.id, expire=expire)
    assert isinstance(brief, ResourceToken)
    assert brief.resourceid == f"{bucket.id}:{created.id}"
    opened = view(server, bucket.id, created.id, brief.secret)
    assert (opened.status_code, opened.content) == (200, b"shared text")
    assert opened.headers["content-type"].startswith("text/plain")
    assert tokens.get(brief.id).accessedat
    time.sleep(3.5)
    expired = view(server, bucket.id, created.id, brief.secret)
    assert (expired.status_code, expired.json()["type"]) == (401, "user_unauthorized")

    lasting = tokens.create_file_token(bucket.id, created.id)
    assert lasting.expire == ""
    assert [t.id for t in tokens.list(bucket.id, created.id).tokens] == [brief.id, lasting.id]
    assert view(server, bucket.id, created.id, lasting.secret).status_code == 200
    tokens.delete(lasting.id)
    deleted = view(server, bucket.id, created.id, lasting.secret)
    assert (deleted.status_code, deleted.json()["type"]) == (401, "user_unauthorized")
    assert raised(tokens.get, lasting.id).type == "token_not_found"
