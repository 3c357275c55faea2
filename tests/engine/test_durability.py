"""A writer killed with SIGKILL mid-stream loses nothing it committed and leaves no partial bulk write."""

from __future__ import annotations

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


def test_sigkill_mid_stream_keeps_every_commit_and_no_partial_bulk(tmp_path):
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    acknowledged: list[tuple[str, int]] = []
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "ready"
    for line in writer.stdout:
        kind, batch = line.split()
        acknowledged.append((kind, int(batch)))
        if len(acknowledged) >= 40:
            break
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL

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
