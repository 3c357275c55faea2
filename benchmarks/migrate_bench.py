"""`baas-mcp migrate` from the embedded engine to `baas-mcp api`: rows, documents and file megabytes per second.

Usage: python benchmarks/migrate_bench.py [--rows 10000] [--documents 10000] [--files 8] [--file-mb 12]
[--concurrency 4]

Builds a fresh embedded project (a table of four columns holding --rows rows, a bucket of --files random
files of --file-mb MB each) and another holding a documentsDB collection of --documents schemaless documents,
starts `baas-mcp api` over a fresh data directory, then times three runs of the command to it:
`--resources databases` (schema, rows in pages of 100, verification reading both ends), `--resources storage`
(each file downloaded, uploaded in 5 MB chunks, downloaded back and compared by SHA-256, then verified), and
`--resources databases` from the second project into another served project (its documents in pages of 100,
verified alike). The figures are whole-command wall times, start-up included.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mcp_server.catalog import load_catalog
from mcp_server.engine import Engine
from mcp_server.engine.keys import SCOPES
from mcp_server.uploads import Upload

COMMAND = Path(sys.executable).with_name("baas-mcp")
API_LINE = re.compile(r"API at http://127\.0\.0\.1:(\d+)/v1")
PAGE = 100


def build(data_dir: Path, rows: int, files: int, file_mb: int) -> None:
    engine = Engine(data_dir, catalog=load_catalog())
    try:
        engine.call("tablesDB.create", {"databaseId": "bench", "name": "Bench"})
        engine.call("tablesDB.createTable", {"databaseId": "bench", "tableId": "items", "name": "Items"})
        ids = {"databaseId": "bench", "tableId": "items"}
        engine.call("tablesDB.createStringColumn", ids | {"key": "title", "size": 128, "required": False})
        engine.call("tablesDB.createIntegerColumn", ids | {"key": "count", "required": False})
        engine.call("tablesDB.createFloatColumn", ids | {"key": "price", "required": False})
        engine.call("tablesDB.createBooleanColumn", ids | {"key": "done", "required": False})
        for start in range(0, rows, PAGE):
            batch = [
                {"$id": f"r{n}", "title": f"item number {n}", "count": n, "price": n / 4, "done": n % 2 == 0}
                for n in range(start, min(rows, start + PAGE))
            ]
            engine.call("tablesDB.createRows", ids | {"rows": batch})
        engine.call("storage.createBucket", {"bucketId": "blobs", "name": "Blobs"})
        for n in range(files):
            upload = Upload(f"blob{n}.bin", "application/octet-stream", os.urandom(file_mb * 1024 * 1024))
            engine.call("storage.createFile", {"bucketId": "blobs", "fileId": f"blob{n}", "file": upload})
    finally:
        engine.close()


def build_documents(data_dir: Path, documents: int) -> None:
    engine = Engine(data_dir, catalog=load_catalog())
    try:
        engine.call("documentsDB.create", {"databaseId": "notes", "name": "Notes"})
        ids = {"databaseId": "notes", "collectionId": "pages"}
        engine.call("documentsDB.createCollection", ids | {"name": "Pages"})
        for start in range(0, documents, PAGE):
            batch = [
                {"$id": f"d{n}", "title": f"page {n}", "words": n, "meta": {"tags": ["a", "b"], "draft": n % 2 == 0}}
                for n in range(start, min(documents, start + PAGE))
            ]
            engine.call("documentsDB.createDocuments", ids | {"documents": batch})
    finally:
        engine.close()


def create_key(data_dir: Path, project: str) -> str:
    created = subprocess.run(
        [str(COMMAND), "keys", "create", "--name", "bench", "--data-dir", str(data_dir), "--project", project, "--json",
         "--scopes", ",".join(sorted(SCOPES))],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(created.stdout)["secret"]


def timed_migrate(source: Path, target: tuple[str, str, str], resources: str, concurrency: int, cwd: str) -> float:
    """Seconds `baas-mcp migrate` takes from `source` to `target` (endpoint, project, key)."""
    endpoint, project, key = target
    started = time.perf_counter()
    done = subprocess.run(
        [str(COMMAND), "migrate", "--from-data-dir", str(source), "--to-endpoint", endpoint, "--to-project", project,
         "--to-api-key", key, "--resources", resources, "--concurrency", str(concurrency), "--json"],
        capture_output=True, text=True, cwd=cwd,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    report = json.loads(done.stdout.splitlines()[-1])
    if done.returncode != 0 or not report["ok"]:
        sys.exit(f"migrate {resources} failed: {json.dumps(report)[:2000]}\n{done.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="rows in the table (default 10000)")
    parser.add_argument("--documents", type=int, default=10_000, help="documentsDB documents (default 10000)")
    parser.add_argument("--files", type=int, default=8, help="files in the bucket (default 8)")
    parser.add_argument("--file-mb", type=int, default=12, help="size of each file in MB (default 12)")
    parser.add_argument("--concurrency", type=int, default=4, help="--concurrency of the command (default 4)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        source, served, notes = Path(root) / "a", Path(root) / "b", Path(root) / "d"
        build(source, args.rows, args.files, args.file_mb)
        build_documents(notes, args.documents)
        key, notes_key = create_key(served, "default"), create_key(served, "notes")
        server = subprocess.Popen(
            [str(COMMAND), "api", "--port", "0", "--data-dir", str(served)], stderr=subprocess.PIPE, text=True
        )
        try:
            endpoint = f"http://127.0.0.1:{API_LINE.search(server.stderr.readline()).group(1)}/v1"
            rows_s = timed_migrate(source, (endpoint, "default", key), "databases", args.concurrency, root)
            files_s = timed_migrate(source, (endpoint, "default", key), "storage", args.concurrency, root)
            documents_s = timed_migrate(notes, (endpoint, "notes", notes_key), "databases", args.concurrency, root)
        finally:
            server.terminate()
            server.wait(timeout=30)
    megabytes = args.files * args.file_mb
    print(f"embedded -> baas-mcp api on loopback, --concurrency {args.concurrency}")
    print(
        f"rows:  {args.rows:,} in {rows_s:.1f} s = {args.rows / rows_s:,.0f} rows/s (schema and verification included)"
    )
    print(
        f"documents: {args.documents:,} in {documents_s:.1f} s = {args.documents / documents_s:,.0f} documents/s "
        "(documentsDB, verification included)"
    )
    print(
        f"files: {args.files} x {args.file_mb} MB in {files_s:.1f} s = {megabytes / files_s:,.1f} MB/s "
        "(download, chunked upload, download back and SHA-256, verification)"
    )


if __name__ == "__main__":
    main()
