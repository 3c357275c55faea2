"""The storage service through Engine.call: buckets, uploads (whole and chunked), content at rest
(compression, encryption, atomic writes), downloads, views, previews, and permissions for users,
guests and keys. Every response is checked against the official Python SDK's models.

Facts from Appwrite 1.8 (storage module):
- chunks are 5 MB; chunk n (from 1) starts at (n - 1) * 5 MB, chunksTotal = ceil(size / 5 MB);
- the size limit is checked against the Content-Range total, the extension against the file's name;
- a user's upload without permissions gets read/update/delete("user:ID"); a key's gets none;
- without the bucket's read permission: no fileSecurity -> user_unauthorized, fileSecurity -> only
  files granting read are seen; update/delete need the bucket's permission or the file's;
- a disabled bucket is storage_bucket_not_found for all but keys; previews of a bucket without
  transformations are refused for all but keys;
- a view sends types outside its list of safe types as text/plain, and SVG as an attachment.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import os
import time
from pathlib import Path

import pytest
import zstandard
from appwrite.models.bucket import Bucket
from appwrite.models.bucket_list import BucketList
from appwrite.models.file import File
from appwrite.models.file_list import FileList
from PIL import Image

from mcp_server.engine.permissions import GUEST, key_auth, user_auth
from mcp_server.engine.registry import HANDLERS
from mcp_server.engine.storage import file_uploads, files
from mcp_server.uploads import Media, Upload
from tests.engine.conftest import error_of, q

MB = 1024 * 1024
CHUNK = 5 * MB
ADA = user_auth("ada")
BOB = user_auth("bob")
FILES_KEY = key_auth(frozenset({"files.read", "files.write"}))
TEXT = b"The quick brown fox jumps over the lazy dog. " * 200


@pytest.fixture
def project_dir(engine) -> Path:
    return engine.project().db.path.parent


def bucket(call, bucket_id: str = "b", **settings) -> dict:
    created = call("storage.createBucket", bucketId=bucket_id, name=bucket_id, **settings)
    Bucket(**created)
    return created


def upload(call, data: bytes = TEXT, name: str = "notes.txt", auth=None, bucket_id="b", file_id="unique()", **extra):
    params = {"bucketId": bucket_id, "fileId": file_id, "file": Upload(name, "", data), **extra}
    result = call("storage.createFile", auth, **params) if auth else call("storage.createFile", **params)
    File(**result)
    return result


def png(width: int = 400, height: int = 300, color=(255, 0, 0, 255), mode: str = "RGBA", kind: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), color if mode == "RGBA" else color[:3]).save(buffer, kind)
    return buffer.getvalue()


def stored_files(project_dir: Path) -> list[Path]:
    """Every regular file under the project's storage folder (content, chunks, temporaries, trash)."""
    root = project_dir / "storage"
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def image_of(media: Media) -> Image.Image:
    image = Image.open(io.BytesIO(media.data))
    image.load()
    return image


def test_every_storage_operation_has_a_handler(catalog):
    ids = {op.id for op in catalog.operations if op.service == "storage"}
    assert len(ids) == 13
    assert ids - set(HANDLERS) == set()


# --- buckets ----------------------------------------------------------------------------------------


def test_create_bucket_with_appwrites_defaults(call):
    created = bucket(call)
    assert created["$permissions"] == []
    assert (created["fileSecurity"], created["enabled"], created["encryption"]) == (False, True, True)
    assert (created["antivirus"], created["transformations"], created["compression"]) == (True, True, "none")
    assert created["maximumFileSize"] == 30_000_000
    assert created["allowedFileExtensions"] == []
    assert created["totalSize"] == 0
    assert call("storage.getBucket", bucketId="b") == created


def test_create_bucket_with_settings_and_a_generated_id(call):
    created = call(
        "storage.createBucket",
        bucketId="unique()",
        name="Photos",
        permissions=['read("any")', 'write("users")'],
        fileSecurity=True,
        enabled=False,
        maximumFileSize=1000,
        allowedFileExtensions=["JPG", ".png", "png"],
        compression="zstd",
        encryption=False,
        antivirus=False,
        transformations=False,
    )
    Bucket(**created)
    assert len(created["$id"]) == 20
    assert created["$permissions"] == ['read("any")', 'create("users")', 'update("users")', 'delete("users")']
    assert created["allowedFileExtensions"] == ["jpg", "png"]
    assert (created["fileSecurity"], created["enabled"], created["maximumFileSize"]) == (True, False, 1000)
    assert (created["compression"], created["encryption"], created["antivirus"]) == ("zstd", False, False)
    assert created["transformations"] is False


def test_bucket_refusals(call):
    bucket(call)
    assert error_of(call, "storage.createBucket", bucketId="b", name="again").type == "storage_bucket_already_exists"
    assert error_of(call, "storage.getBucket", bucketId="nope").type == "storage_bucket_not_found"
    for size in (0, 30_000_001):
        error = error_of(call, "storage.createBucket", bucketId="c", name="c", maximumFileSize=size)
        assert error.type == "general_argument_invalid"
    error = error_of(call, "storage.createBucket", bucketId="c", name="c", permissions=['read("nobody")'])
    assert error.type == "general_argument_invalid"
    error = error_of(call, "storage.createBucket", bucketId="c", name="c", allowedFileExtensions=["x" * 65])
    assert error.type == "general_argument_invalid"
    assert error_of(call, "storage.createBucket", bucketId="-c", name="c").type == "general_argument_invalid"


def test_update_bucket_keeps_what_it_is_not_given(call):
    bucket(call, permissions=['read("any")'], fileSecurity=True, compression="gzip", maximumFileSize=5000)
    updated = call("storage.updateBucket", bucketId="b", name="Renamed", enabled=False)
    Bucket(**updated)
    assert (updated["name"], updated["enabled"]) == ("Renamed", False)
    assert updated["$permissions"] == ['read("any")']
    assert (updated["fileSecurity"], updated["compression"], updated["maximumFileSize"]) == (True, "gzip", 5000)
    changed = call(
        "storage.updateBucket",
        bucketId="b",
        name="Renamed",
        permissions=[],
        allowedFileExtensions=["PDF"],
        transformations=False,
        maximumFileSize=10,
    )
    assert (changed["$permissions"], changed["allowedFileExtensions"]) == ([], ["pdf"])
    assert (changed["transformations"], changed["maximumFileSize"]) == (False, 10)
    assert changed["$updatedAt"] >= changed["$createdAt"]
    assert error_of(call, "storage.updateBucket", bucketId="nope", name="x").type == "storage_bucket_not_found"


def test_update_bucket_with_its_own_settings_keeps_updated_at(call):
    """appwrite-cli pushes every bucket with its settings: when none changes, neither does the bucket."""
    settings = {"permissions": ['read("any")'], "allowedFileExtensions": ["png"], "compression": "gzip"}
    created = bucket(call, **settings)
    time.sleep(0.01)
    again = call("storage.updateBucket", bucketId="b", name="b", **settings, fileSecurity=False, enabled=True)
    assert again == created
    time.sleep(0.01)
    renamed = call("storage.updateBucket", bucketId="b", name="Renamed", **settings)
    assert renamed["$updatedAt"] > created["$updatedAt"]


def test_list_buckets_with_queries_search_and_sizes(call):
    bucket(call, "photos", compression="gzip")
    bucket(call, "docs", fileSecurity=True, maximumFileSize=100)
    bucket(call, "music", enabled=False)
    upload(call, bucket_id="docs", data=b"x" * 50)
    listed = call("storage.listBuckets")
    BucketList(**listed)
    assert listed["total"] == 3
    assert [b["$id"] for b in listed["buckets"]] == ["photos", "docs", "music"]
    assert listed["buckets"][1]["totalSize"] > 0
    assert listed["buckets"][0]["totalSize"] == 0

    def ids(**params):
        return [b["$id"] for b in call("storage.listBuckets", **params)["buckets"]]

    assert ids(queries=[q("equal", "fileSecurity", [True])]) == ["docs"]
    assert ids(queries=[q("equal", "enabled", [False])]) == ["music"]
    assert ids(queries=[q("lessThan", "maximumFileSize", [1000])]) == ["docs"]
    assert ids(queries=[q("equal", "compression", ["gzip"])]) == ["photos"]
    assert ids(queries=[q("orderDesc", "name"), q("limit", None, [2])]) == ["photos", "music"]
    assert ids(search="mus") == ["music"]
    assert call("storage.listBuckets", total=False)["total"] == 0
    assert error_of(call, "storage.listBuckets", queries=[q("equal", "secret", ["x"])]).type == "general_query_invalid"


def test_delete_bucket_removes_its_files_and_their_content(call, project_dir):
    bucket(call)
    upload(call)
    upload(call, png(), "a.png")
    assert len(stored_files(project_dir)) == 2
    assert call("storage.deleteBucket", bucketId="b") is None
    assert stored_files(project_dir) == []
    assert error_of(call, "storage.getBucket", bucketId="b").type == "storage_bucket_not_found"
    # A bucket made again under the same id starts empty.
    bucket(call)
    assert call("storage.listFiles", bucketId="b")["total"] == 0
    assert error_of(call, "storage.deleteBucket", bucketId="nope").type == "storage_bucket_not_found"


# --- uploads and content at rest ---------------------------------------------------------------------


def test_upload_records_signature_type_and_sizes(call, project_dir):
    bucket(call)
    created = upload(call, TEXT, "notes.txt", file_id="notes")
    assert created["$id"] == "notes"
    assert created["bucketId"] == "b"
    assert created["name"] == "notes.txt"
    assert created["signature"] == hashlib.md5(TEXT).hexdigest()
    assert created["mimeType"] == "text/plain"
    assert created["sizeOriginal"] == len(TEXT)
    assert (created["chunksTotal"], created["chunksUploaded"]) == (1, 1)
    assert (created["encryption"], created["compression"]) == (True, "none")
    assert created["$permissions"] == []
    assert call("storage.getFile", bucketId="b", fileId="notes") == created
    assert (project_dir / "storage" / "b" / "notes").is_file()


@pytest.mark.parametrize(
    ("data", "name", "declared", "expected"),
    [
        (png(), "picture.bin", "", "image/png"),
        (png(mode="RGB", kind="JPEG"), "x", "", "image/jpeg"),
        (png(kind="GIF", mode="RGB"), "x", "", "image/gif"),
        (png(kind="WEBP"), "x", "", "image/webp"),
        (b"%PDF-1.7\n...", "doc", "", "application/pdf"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "x.txt", "", "image/svg+xml"),
        (b"<!DOCTYPE html><html></html>", "page", "text/plain", "text/html"),
        (b"a,b\n1,2\n", "table.csv", "", "text/csv"),
        (b"plain words", "readme", "", "text/plain"),
        (b"{}", "data", "application/json", "application/json"),
        (bytes(range(256)), "blob", "", "application/octet-stream"),
    ],
)
def test_the_type_comes_from_the_content_then_the_upload_then_the_name(call, data, name, declared, expected):
    bucket(call)
    created = call("storage.createFile", bucketId="b", fileId="unique()", file=Upload(name, declared, data))
    assert created["mimeType"] == expected


@pytest.mark.parametrize("compression", ["none", "gzip", "zstd"])
@pytest.mark.parametrize("encryption", [False, True])
def test_content_at_rest_is_compressed_then_encrypted(call, project_dir, compression, encryption):
    bucket(call, compression=compression, encryption=encryption)
    created = upload(call, TEXT, file_id="f")
    assert (created["compression"], created["encryption"]) == (compression, encryption)
    raw = (project_dir / "storage" / "b" / "f").read_bytes()
    if not encryption:
        decoded = {"none": lambda b: b, "gzip": gzip.decompress, "zstd": zstandard.ZstdDecompressor().decompress}
        assert decoded[compression](raw) == TEXT
        if compression != "none":
            assert len(raw) < len(TEXT) / 10
    else:
        assert b"quick brown fox" not in raw
        assert raw != gzip.compress(TEXT, mtime=0)
        with pytest.raises(gzip.BadGzipFile):
            gzip.decompress(raw)
        with pytest.raises(zstandard.ZstdError):
            zstandard.ZstdDecompressor().decompress(raw)
        # nonce (12) + compressed bytes + tag (16): compression happened before encryption.
        if compression == "gzip":
            assert len(raw) == len(gzip.compress(TEXT, mtime=0)) + 28
        elif compression == "none":
            assert len(raw) == len(TEXT) + 28
    # sizeActual (Appwrite 1.9): the bytes stored, after compression and encryption.
    assert created["sizeActual"] == len(raw) and created["sizeOriginal"] == len(TEXT)
    assert call("storage.getFile", bucketId="b", fileId="f")["sizeActual"] == len(raw)
    download = call("storage.getFileDownload", bucketId="b", fileId="f")
    assert download.data == TEXT


def test_the_same_content_encrypts_differently_each_time(call, project_dir):
    bucket(call)
    upload(call, TEXT, file_id="one")
    upload(call, TEXT, file_id="two")
    folder = project_dir / "storage" / "b"
    assert (folder / "one").read_bytes() != (folder / "two").read_bytes()


@pytest.mark.parametrize("encryption", [False, True])
def test_altered_content_is_refused_not_served(call, project_dir, encryption):
    bucket(call, encryption=encryption)
    upload(call, TEXT, file_id="f")
    path = project_dir / "storage" / "b" / "f"
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    error = error_of(call, "storage.getFileDownload", bucketId="b", fileId="f")
    assert (error.type, error.code) == ("general_server_error", 500)
    path.unlink()
    assert error_of(call, "storage.getFileView", bucketId="b", fileId="f").type == "storage_file_not_found"


def test_encrypted_content_is_bound_to_its_file(call, project_dir):
    bucket(call)
    upload(call, b"first secret", file_id="one")
    upload(call, b"other secret", file_id="two")
    folder = project_dir / "storage" / "b"
    (folder / "two").write_bytes((folder / "one").read_bytes())
    assert error_of(call, "storage.getFileDownload", bucketId="b", fileId="two").type == "general_server_error"


def test_text_in_place_of_a_file_is_never_read_as_a_path(call, project_dir, tmp_path):
    """The engine takes content only as a file; a path or a data URL given as text is refused, as in Appwrite."""
    bucket(call)
    secret = project_dir / "encryption.key"
    local = tmp_path / "report.txt"
    local.write_bytes(b"from a path")
    url = "data:text/plain;name=hello.txt;base64," + base64.b64encode(b"hello").decode()
    for text in (str(secret), str(local), url, "/etc/passwd"):
        error = error_of(call, "storage.createFile", bucketId="b", fileId="p", file=text)
        assert (error.type, error.code) == ("storage_file_empty", 400)
        assert "`file`" in error.message
    assert_nothing_stored(call, project_dir)


# --- refusals leave nothing behind ---------------------------------------------------------------


def assert_nothing_stored(call, project_dir: Path) -> None:
    assert call("storage.listFiles", bucketId="b")["total"] == 0
    assert stored_files(project_dir) == []


def test_an_oversized_file_is_refused(call, project_dir):
    bucket(call, maximumFileSize=1000)
    error = error_of(call, "storage.createFile", bucketId="b", fileId="f", file=Upload("a.txt", "", b"x" * 1001))
    assert (error.type, error.code) == ("storage_invalid_file_size", 400)
    assert_nothing_stored(call, project_dir)
    assert upload(call, b"x" * 1000, file_id="f")["sizeOriginal"] == 1000


def test_an_oversized_chunked_upload_is_refused_at_its_first_chunk(call, project_dir):
    bucket(call, maximumFileSize=6 * MB)
    first = Upload("big.bin", "", os.urandom(CHUNK), (0, CHUNK - 1, 12 * MB))
    error = error_of(call, "storage.createFile", bucketId="b", fileId="f", file=first)
    assert error.type == "storage_invalid_file_size"
    assert_nothing_stored(call, project_dir)


def test_a_forbidden_extension_is_refused(call, project_dir):
    bucket(call, allowedFileExtensions=["png", "JPG"])
    for name in ("notes.txt", "noextension", "png"):
        error = error_of(call, "storage.createFile", bucketId="b", fileId="f", file=Upload(name, "", TEXT))
        assert (error.type, error.code) == ("storage_file_type_unsupported", 400)
    assert_nothing_stored(call, project_dir)
    assert upload(call, png(), "Photo.JPG")["name"] == "Photo.JPG"


def test_an_empty_file_is_refused(call, project_dir):
    bucket(call)
    error = error_of(call, "storage.createFile", bucketId="b", fileId="f", file=Upload("a.txt", "", b""))
    assert (error.type, error.code) == ("storage_file_empty", 400)
    assert_nothing_stored(call, project_dir)


def test_an_existing_id_is_refused_and_the_file_kept(call, project_dir):
    bucket(call)
    upload(call, b"original", file_id="f")
    error = error_of(call, "storage.createFile", bucketId="b", fileId="f", file=Upload("a.txt", "", b"replacement"))
    assert (error.type, error.code) == ("storage_file_already_exists", 409)
    assert call("storage.getFileDownload", bucketId="b", fileId="f").data == b"original"
    assert len(stored_files(project_dir)) == 1


def test_a_missing_or_disabled_bucket(call):
    assert error_of(call, "storage.createFile", bucketId="b", fileId="f", file=Upload("a", "", b"x")).type == (
        "storage_bucket_not_found"
    )
    bucket(call, enabled=False, permissions=['read("any")', 'create("any")'])
    for auth in (ADA, GUEST):
        assert error_of(call, "storage.listFiles", auth, bucketId="b").type == "storage_bucket_not_found"
        error = error_of(call, "storage.createFile", auth, bucketId="b", fileId="f", file=Upload("a", "", b"x"))
        assert error.type == "storage_bucket_not_found"
    # Keys still reach a disabled bucket.
    assert upload(call, auth=FILES_KEY)["bucketId"] == "b"
    assert call("storage.listFiles", FILES_KEY, bucketId="b")["total"] == 1


def test_a_failure_after_the_content_is_in_place_leaves_neither(call, project_dir, monkeypatch):
    bucket(call)

    def fail(directory):
        raise OSError("disk gone")

    monkeypatch.setattr(file_uploads, "fsync_directory", fail)
    with pytest.raises(OSError):
        call("storage.createFile", bucketId="b", fileId="f", file=Upload("a.txt", "", TEXT))
    monkeypatch.undo()
    assert_nothing_stored(call, project_dir)


def test_a_failed_delete_keeps_the_content(call, project_dir, monkeypatch):
    bucket(call)
    upload(call, TEXT, file_id="f")
    original = files.set_aside

    def failing_aside(root):
        manager = original(root)

        class Failing:
            def __enter__(self):
                aside = manager.__enter__()

                def then_fail(path):
                    aside(path)
                    raise OSError("interrupted")

                return then_fail

            def __exit__(self, *exc):
                return manager.__exit__(*exc)

        return Failing()

    monkeypatch.setattr(files, "set_aside", failing_aside)
    with pytest.raises(OSError):
        call("storage.deleteFile", bucketId="b", fileId="f")
    monkeypatch.undo()
    assert call("storage.getFileDownload", bucketId="b", fileId="f").data == TEXT
    assert call("storage.deleteFile", bucketId="b", fileId="f") is None
    assert_nothing_stored(call, project_dir)


# --- chunked uploads ---------------------------------------------------------------------------------


def chunks_of(data: bytes) -> list[tuple[int, int, bytes]]:
    return [
        (start, min(start + CHUNK, len(data)) - 1, data[start : start + CHUNK]) for start in range(0, len(data), CHUNK)
    ]


def send_chunk(call, data: bytes, start: int, end: int, total: int, file_id="unique()", upload_id=None, **extra):
    file = Upload("big.bin", "application/octet-stream", data, (start, end, total), upload_id)
    return call("storage.createFile", bucketId="b", fileId=file_id, file=file, **extra)


def test_a_chunked_upload_is_assembled_once_every_chunk_is_in(call, project_dir):
    bucket(call, compression="gzip")
    data = os.urandom(12 * MB)
    answers = []
    file_id = "unique()"
    upload_id = None
    for start, end, part in chunks_of(data):
        answer = send_chunk(call, part, start, end, len(data), file_id, upload_id)
        File(**answer)
        answers.append(answer)
        upload_id = answer["$id"]
        if len(answers) < 3:
            # Not listed while incomplete; getFile shows the progress.
            assert call("storage.listFiles", bucketId="b")["total"] == 0
            progress = call("storage.getFile", bucketId="b", fileId=upload_id)
            assert (progress["chunksTotal"], progress["chunksUploaded"]) == (3, len(answers))
    assert [(a["chunksTotal"], a["chunksUploaded"]) for a in answers] == [(3, 1), (3, 2), (3, 3)]
    assert len({a["$id"] for a in answers}) == 1
    final = answers[-1]
    assert final["signature"] == hashlib.md5(data).hexdigest()
    assert final["sizeOriginal"] == 12 * MB
    assert call("storage.getFileDownload", bucketId="b", fileId=final["$id"]).data == data
    assert call("storage.listFiles", bucketId="b")["total"] == 1
    assert not any((project_dir / "storage" / ".uploads").rglob("*.part"))
    # A chunk sent again once the file is complete is answered with the file; a new first chunk is refused.
    again = send_chunk(call, data[CHUNK : 2 * CHUNK], CHUNK, 2 * CHUNK - 1, len(data), "unique()", final["$id"])
    assert again["chunksUploaded"] == 3
    error = error_of(send_chunk, call, data[:CHUNK], 0, CHUNK - 1, len(data), final["$id"])
    assert error.type == "storage_file_already_exists"


def test_chunks_may_arrive_out_of_order_and_be_sent_again(call):
    bucket(call)
    data = os.urandom(11 * MB)
    parts = chunks_of(data)
    for index in (2, 0, 0, 1):
        start, end, part = parts[index]
        answer = send_chunk(call, part, start, end, len(data), "f")
    assert (answer["chunksUploaded"], answer["signature"]) == (3, hashlib.md5(data).hexdigest())
    assert call("storage.getFileDownload", bucketId="b", fileId="f").data == data


def test_a_chunked_upload_keeps_the_permissions_of_its_first_chunk(call):
    bucket(call, permissions=['create("users")', 'read("users")'])
    data = os.urandom(6 * MB)
    (s1, e1, p1), (s2, e2, p2) = chunks_of(data)
    first = call(
        "storage.createFile",
        ADA,
        bucketId="b",
        fileId="f",
        file=Upload("big.bin", "", p1, (s1, e1, len(data))),
    )
    assert first["$permissions"] == ['read("user:ada")', 'update("user:ada")', 'delete("user:ada")']
    # Another user cannot add to ada's upload.
    intruder = error_of(
        call, "storage.createFile", BOB, bucketId="b", fileId="f", file=Upload("big.bin", "", p2, (s2, e2, len(data)))
    )
    assert intruder.type == "user_unauthorized"
    done = call(
        "storage.createFile", ADA, bucketId="b", fileId="f", file=Upload("big.bin", "", p2, (s2, e2, len(data)), "f")
    )
    assert done["chunksUploaded"] == 2
    assert done["$permissions"] == first["$permissions"]


@pytest.mark.parametrize(
    ("start", "end", "total", "size"),
    [
        (0, CHUNK - 2, 12 * MB, CHUNK - 1),  # a chunk other than the last is shorter than 5 MB
        (100, 100 + CHUNK - 1, 12 * MB, CHUNK),  # does not start on a chunk boundary
        (0, CHUNK - 1, 12 * MB, 10),  # the range and the bytes sent disagree
        (0, 12 * MB, 12 * MB, CHUNK),  # ends past the file
    ],
)
def test_bad_content_ranges(call, project_dir, start, end, total, size):
    bucket(call)
    error = error_of(send_chunk, call, b"x" * size, start, end, total, "f")
    assert (error.type, error.code) == ("storage_invalid_content_range", 400)
    assert_nothing_stored(call, project_dir)


def test_a_later_chunk_naming_unique_is_refused(call):
    bucket(call)
    error = error_of(send_chunk, call, b"x" * CHUNK, CHUNK, 2 * CHUNK - 1, 12 * MB, "unique()", "unique()")
    assert error.type == "storage_invalid_appwrite_id"


def test_a_small_file_sent_with_a_content_range_is_stored_at_once(call):
    bucket(call)
    answer = send_chunk(call, b"hello", 0, 4, 5, "small")
    assert (answer["chunksTotal"], answer["chunksUploaded"], answer["sizeOriginal"]) == (1, 1, 5)


# --- files -------------------------------------------------------------------------------------------


def test_list_files_with_queries_and_search(call):
    bucket(call)
    upload(call, b"a" * 10, "alpha.txt", file_id="a")
    upload(call, png(), "beta.png", file_id="b")
    upload(call, b"c" * 30, "gamma.txt", file_id="c")
    listed = call("storage.listFiles", bucketId="b")
    FileList(**listed)
    assert listed["total"] == 3

    def ids(**params):
        return [f["$id"] for f in call("storage.listFiles", bucketId="b", **params)["files"]]

    assert ids(queries=[q("equal", "mimeType", ["image/png"])]) == ["b"]
    assert ids(queries=[q("greaterThan", "sizeOriginal", [10]), q("orderDesc", "sizeOriginal")]) == ["b", "c"]
    assert ids(queries=[q("startsWith", "name", ["gam"])]) == ["c"]
    assert ids(queries=[q("equal", "signature", [hashlib.md5(b"a" * 10).hexdigest()])]) == ["a"]
    assert ids(queries=[q("equal", "chunksTotal", [1]), q("limit", None, [1]), q("offset", None, [1])]) == ["b"]
    assert ids(queries=[q("cursorAfter", None, ["a"])]) == ["b", "c"]
    assert ids(search="alpha") == ["a"]
    error = error_of(call, "storage.listFiles", bucketId="b", queries=[q("equal", "path", ["x"])])
    assert error.type == "general_query_invalid"


def test_update_and_delete_a_file(call, project_dir):
    bucket(call)
    upload(call, TEXT, "old.txt", file_id="f")
    updated = call("storage.updateFile", bucketId="b", fileId="f", name="new.txt", permissions=['read("any")'])
    File(**updated)
    assert (updated["name"], updated["$permissions"]) == ("new.txt", ['read("any")'])
    kept = call("storage.updateFile", bucketId="b", fileId="f")
    assert (kept["name"], kept["$permissions"]) == ("new.txt", ['read("any")'])
    assert call("storage.getFileDownload", bucketId="b", fileId="f").filename == "new.txt"
    assert error_of(call, "storage.updateFile", bucketId="b", fileId="f", name="").type == "general_argument_invalid"
    assert call("storage.deleteFile", bucketId="b", fileId="f") is None
    assert error_of(call, "storage.getFile", bucketId="b", fileId="f").type == "storage_file_not_found"
    assert error_of(call, "storage.deleteFile", bucketId="b", fileId="f").type == "storage_file_not_found"
    assert stored_files(project_dir) == []
    # The id is free again.
    assert upload(call, b"again", file_id="f")["sizeOriginal"] == 5


def test_download_and_view(call):
    bucket(call)
    picture = png()
    upload(call, picture, "cat.png", file_id="cat")
    download = call("storage.getFileDownload", bucketId="b", fileId="cat")
    assert (download.data, download.content_type, download.filename, download.download) == (
        picture,
        "image/png",
        "cat.png",
        True,
    )
    view = call("storage.getFileView", bucketId="b", fileId="cat")
    assert (view.data, view.content_type, view.download) == (picture, "image/png", False)


@pytest.mark.parametrize(
    ("data", "name", "content_type", "download"),
    [
        (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "page.html", "text/plain", False),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "x.svg", "image/svg+xml", True),
        (b"%PDF-1.4 ...", "doc.pdf", "application/pdf", False),
        (b"function f() {}", "app.js", "text/plain", False),
    ],
)
def test_a_view_never_serves_active_content(call, data, name, content_type, download):
    bucket(call)
    upload(call, data, name, file_id="f")
    view = call("storage.getFileView", bucketId="b", fileId="f")
    assert (view.content_type, view.download, view.data) == (content_type, download, data)


# --- previews ----------------------------------------------------------------------------------------


def halves(width: int = 400, height: int = 200) -> bytes:
    """An image red on its left half and blue on its right."""
    image = Image.new("RGB", (width, height), (255, 0, 0))
    image.paste((0, 0, 255), (width // 2, 0, width, height))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def preview(call, file_id="f", auth=None, **params) -> Media:
    args = {"bucketId": "b", "fileId": file_id, **params}
    return call("storage.getFilePreview", auth, **args) if auth else call("storage.getFilePreview", **args)


def test_preview_sizes(call):
    bucket(call)
    upload(call, png(400, 300), "a.png", file_id="f")
    assert image_of(preview(call)).size == (400, 300)
    assert image_of(preview(call, width=100)).size == (100, 75)
    assert image_of(preview(call, height=150)).size == (200, 150)
    assert image_of(preview(call, width=100, height=100)).size == (100, 100)
    assert image_of(preview(call, width=800, height=50)).size == (800, 50)
    media = preview(call, width=100)
    assert (media.content_type, media.filename, media.download) == ("image/png", "a.png", False)


@pytest.mark.parametrize(
    ("gravity", "color"),
    [("left", (255, 0, 0)), ("right", (0, 0, 255)), ("top-left", (255, 0, 0)), ("bottom-right", (0, 0, 255))],
)
def test_preview_gravity_decides_what_a_crop_keeps(call, gravity, color):
    bucket(call)
    upload(call, halves(), "h.png", file_id="f")
    image = image_of(preview(call, width=100, height=100, gravity=gravity)).convert("RGB")
    assert image.size == (100, 100)
    assert image.getpixel((50, 50)) == color


@pytest.mark.parametrize(
    ("output", "pillow_format", "content_type"),
    [
        ("jpg", "JPEG", "image/jpeg"),
        ("jpeg", "JPEG", "image/jpeg"),
        ("png", "PNG", "image/png"),
        ("gif", "GIF", "image/gif"),
        ("webp", "WEBP", "image/webp"),
        ("avif", "AVIF", "image/avif"),
    ],
)
def test_preview_outputs(call, output, pillow_format, content_type):
    bucket(call)
    upload(call, png(), "a.png", file_id="f")
    media = preview(call, width=40, output=output, quality=50)
    assert media.content_type == content_type
    image = image_of(media)
    assert (image.format, image.width) == (pillow_format, 40)


def test_preview_defaults_to_the_originals_format(call):
    bucket(call)
    upload(call, png(mode="RGB", kind="JPEG"), "photo.jpg", file_id="j")
    upload(call, png(kind="WEBP"), "photo.webp", file_id="w")
    upload(call, png(), "photo", file_id="n")
    assert image_of(preview(call, "j", width=10)).format == "JPEG"
    assert image_of(preview(call, "w", width=10)).format == "WEBP"
    assert image_of(preview(call, "n", width=10)).format == "PNG"


def test_preview_effects(call):
    bucket(call)
    upload(call, png(100, 50, (255, 0, 0, 255)), "a.png", file_id="f")
    rotated = image_of(preview(call, rotation=90))
    assert rotated.size == (50, 100)
    assert image_of(preview(call, rotation=-270)).size == (50, 100)
    bordered = image_of(preview(call, borderWidth=5, borderColor="00ff00")).convert("RGBA")
    assert bordered.size == (110, 60)
    assert bordered.getpixel((1, 1)) == (0, 255, 0, 255)
    assert bordered.getpixel((55, 30)) == (255, 0, 0, 255)
    rounded = image_of(preview(call, borderRadius=20)).convert("RGBA")
    assert rounded.getpixel((0, 0))[3] == 0
    assert rounded.getpixel((50, 25))[3] == 255
    faded = image_of(preview(call, opacity=0.5)).convert("RGBA")
    assert 120 <= faded.getpixel((50, 25))[3] <= 130
    upload(call, png(20, 20, (0, 0, 0, 0)), "clear.png", file_id="clear")
    filled = image_of(preview(call, "clear", background="fff")).convert("RGBA")
    assert filled.getpixel((10, 10)) == (255, 255, 255, 255)


def test_a_file_that_is_no_image_previews_as_an_icon(call):
    bucket(call)
    upload(call, TEXT, "notes.txt", file_id="f")
    media = preview(call, width=64, height=64)
    image = image_of(media)
    assert (media.content_type, image.format, image.size) == ("image/png", "PNG", (64, 64))
    # Appwrite's icon background fills the transparent corners.
    assert image.convert("RGB").getpixel((0, 0)) == (0xEC, 0xEF, 0xF1)
    assert image_of(preview(call, output="jpg")).format == "JPEG"


def test_a_damaged_image_is_unsupported(call):
    bucket(call)
    upload(call, png()[:60], "broken.png", file_id="f")
    assert error_of(preview, call).type == "storage_file_type_unsupported"


@pytest.mark.parametrize(
    "params",
    [
        {"width": 4001},
        {"height": -1},
        {"quality": 101},
        {"borderWidth": 101},
        {"rotation": 361},
        {"opacity": 1.5},
        {"borderColor": "zzzzzz"},
        {"background": "12345"},
        {"background": "#ffffff"},
        {"output": "heic"},
    ],
)
def test_preview_parameters_are_checked(call, params):
    bucket(call)
    upload(call, png(), "a.png", file_id="f")
    assert error_of(preview, call, **params).type == "general_argument_invalid"


def test_previews_of_a_bucket_without_transformations(call):
    bucket(call, transformations=False, permissions=['read("any")'])
    upload(call, png(), "a.png", file_id="f")
    error = error_of(preview, call, auth=GUEST)
    assert (error.type, error.code) == ("storage_bucket_transformations_disabled", 403)
    assert image_of(preview(call, auth=FILES_KEY, width=10)).width == 10
    assert call("storage.getFileView", GUEST, bucketId="b", fileId="f").data == png()


# --- permissions -------------------------------------------------------------------------------------


def test_bucket_permissions_without_file_security(call):
    bucket(call, permissions=['read("any")', 'create("users")'])
    mine = upload(call, TEXT, auth=ADA, file_id="mine")
    assert mine["$permissions"] == ['read("user:ada")', 'update("user:ada")', 'delete("user:ada")']
    # Reading follows the bucket: everyone may; file permissions do not count without fileSecurity.
    for auth in (ADA, BOB, GUEST):
        assert call("storage.listFiles", auth, bucketId="b")["total"] == 1
        assert call("storage.getFileDownload", auth, bucketId="b", fileId="mine").data == TEXT
    for auth in (ADA, BOB):
        assert error_of(call, "storage.updateFile", auth, bucketId="b", fileId="mine", name="x").type == (
            "user_unauthorized"
        )
        assert error_of(call, "storage.deleteFile", auth, bucketId="b", fileId="mine").type == "user_unauthorized"
    guest_upload = error_of(call, "storage.createFile", GUEST, bucketId="b", fileId="g", file=Upload("a", "", b"x"))
    assert guest_upload.type == "user_unauthorized"


def test_file_security_filters_what_each_user_sees(call):
    bucket(call, permissions=['create("users")'], fileSecurity=True)
    upload(call, b"ada's", auth=ADA, file_id="a")
    upload(call, b"bob's", auth=BOB, file_id="b")
    upload(call, b"public", auth=ADA, file_id="p", permissions=['read("any")'])
    assert [f["$id"] for f in call("storage.listFiles", ADA, bucketId="b")["files"]] == ["a", "p"]
    assert [f["$id"] for f in call("storage.listFiles", BOB, bucketId="b")["files"]] == ["b", "p"]
    assert [f["$id"] for f in call("storage.listFiles", GUEST, bucketId="b")["files"]] == ["p"]
    assert error_of(call, "storage.getFile", BOB, bucketId="b", fileId="a").type == "storage_file_not_found"
    assert error_of(call, "storage.getFileDownload", BOB, bucketId="b", fileId="a").type == "storage_file_not_found"
    assert call("storage.getFileView", GUEST, bucketId="b", fileId="p").data == b"public"
    assert error_of(call, "storage.updateFile", BOB, bucketId="b", fileId="a", name="x").type == "user_unauthorized"
    assert error_of(call, "storage.deleteFile", BOB, bucketId="b", fileId="a").type == "user_unauthorized"
    assert call("storage.updateFile", ADA, bucketId="b", fileId="a", name="renamed")["name"] == "renamed"
    assert call("storage.deleteFile", ADA, bucketId="b", fileId="a") is None
    # A key sees everything.
    assert call("storage.listFiles", FILES_KEY, bucketId="b")["total"] == 2


def test_without_read_and_without_file_security_listing_is_unauthorized(call):
    bucket(call, permissions=['create("users")'])
    upload(call, auth=ADA, file_id="a")
    assert error_of(call, "storage.listFiles", ADA, bucketId="b").type == "user_unauthorized"
    assert error_of(call, "storage.getFile", ADA, bucketId="b", fileId="a").type == "user_unauthorized"
    assert error_of(call, "storage.getFileView", GUEST, bucketId="b", fileId="a").type == "user_unauthorized"


def test_users_may_only_grant_their_own_roles(call):
    bucket(call, permissions=['create("users")'], fileSecurity=True)
    error = error_of(
        call,
        "storage.createFile",
        ADA,
        bucketId="b",
        fileId="f",
        file=Upload("a", "", b"x"),
        permissions=['read("user:bob")'],
    )
    assert error.type == "user_unauthorized"
    allowed = upload(call, auth=ADA, file_id="f", permissions=['read("users")', 'write("user:ada")'])
    assert allowed["$permissions"] == [
        'read("users")',
        'update("user:ada")',
        'delete("user:ada")',
    ]
    error = error_of(
        call, "storage.createFile", bucketId="b", fileId="g", file=Upload("a", "", b"x"), permissions=['create("any")']
    )
    assert error.type == "general_argument_invalid"


def test_a_keys_upload_carries_no_permissions_unless_given(call):
    bucket(call)
    assert upload(call, auth=FILES_KEY)["$permissions"] == []
