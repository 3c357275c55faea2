"""A writer killed with SIGKILL mid-stream loses nothing it committed and leaves no partial bulk write."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import textwrap
from collections import Counter

from mcp_server.engine import Engine
from tests.engine.conftest import q

WRITER = textwrap.dedent(
    """
    import sys
    from mcp_server.engine import Engine

    engine = Engine(sys.argv[1])
    call = engine.call
    call("tablesDB.create", {"databaseId": "d", "name": "D"})
    call("tablesDB.createTable", {"databaseId": "d", "tableId": "t", "name": "T", "columns": [
        {"key": "batch", "type": "integer", "required": True},
        {"key": "text", "type": "varchar", "size": 200, "required": False}]})
    print("ready", flush=True)
    batch = 0
    while True:
        batch += 1
        if batch % 2:
            call("tablesDB.createRow", {"databaseId": "d", "tableId": "t", "rowId": f"single-{batch}",
                                        "data": {"batch": batch, "text": "x" * 150}})
            print("single", batch, flush=True)
        else:
            rows = [{"$id": f"bulk-{batch}-{i}", "batch": batch, "text": "y" * 150} for i in range(BULK)]
            call("tablesDB.createRows", {"databaseId": "d", "tableId": "t", "rows": rows})
            print("bulk", batch, flush=True)
    """
).replace("BULK", "60")
BULK = 60


def killed_after(script: str, data_dir, acknowledgements: int) -> list[list[str]]:
    """Run `script` on `data_dir` until it has printed `acknowledgements` lines after "ready", then SIGKILL it;
    the words of each line it printed."""
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(data_dir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready", process.stderr.read() if process.stderr else ""
    lines: list[list[str]] = []
    for line in process.stdout:
        lines.append(line.split())
        if len(lines) >= acknowledgements:
            break
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    return lines


def test_sigkill_mid_stream_keeps_every_commit_and_no_partial_bulk(tmp_path):
    acknowledged = [(kind, int(batch)) for kind, batch in killed_after(WRITER, tmp_path, 40)]

    engine = Engine(tmp_path)
    try:
        counts: Counter = Counter()
        cursor = None
        while True:
            queries = [q("limit", values=[500])] + ([q("cursorAfter", values=[cursor])] if cursor else [])
            page = engine.call("tablesDB.listRows", {"databaseId": "d", "tableId": "t", "queries": queries})["rows"]
            if not page:
                break
            counts.update(row["batch"] for row in page)
            assert all(len(row["text"]) == 150 for row in page)
            cursor = page[-1]["$id"]
    finally:
        engine.close()
    for kind, batch in acknowledged:
        assert counts[batch] == (1 if kind == "single" else BULK), (kind, batch)
    for batch, count in counts.items():
        assert count == (1 if batch % 2 else BULK), f"batch {batch} has {count} rows: a partial write"


UPLOADER = textwrap.dedent(
    """
    import hashlib, os, sys
    from mcp_server.engine import Engine
    from mcp_server.uploads import Upload

    engine = Engine(sys.argv[1])
    engine.call("storage.createBucket", {"bucketId": "b", "name": "B", "compression": "gzip"})
    print("ready", flush=True)
    number = 0
    while True:
        number += 1
        data = os.urandom(256 * 1024 + number)
        engine.call("storage.createFile", {"bucketId": "b", "fileId": f"f{number}",
                                           "file": Upload(f"f{number}.bin", "", data)})
        print(number, hashlib.md5(data).hexdigest(), flush=True)
    """
)


def test_sigkill_mid_upload_lists_only_whole_files(tmp_path):
    acknowledged = {f"f{number}": signature for number, signature in killed_after(UPLOADER, tmp_path, 25)}

    engine = Engine(tmp_path)
    try:
        listed = engine.call("storage.listFiles", {"bucketId": "b", "queries": [q("limit", values=[5000])]})
        files = {file["$id"]: file for file in listed["files"]}
        assert set(acknowledged) <= set(files)
        for file_id, file in files.items():
            data = engine.call("storage.getFileDownload", {"bucketId": "b", "fileId": file_id}).data
            assert len(data) == file["sizeOriginal"]
            assert hashlib.md5(data).hexdigest() == file["signature"] == acknowledged.get(file_id, file["signature"])
    finally:
        engine.close()
    # The upload the kill interrupted may have left its content, unlisted; no other content is unaccounted for.
    stored = {path.name for path in (tmp_path / "default" / "storage" / "b").iterdir()}
    unlisted = {name for name in stored if not name.startswith(".")} - set(files)
    assert len(unlisted) <= 1
    assert not unlisted & set(acknowledged)
