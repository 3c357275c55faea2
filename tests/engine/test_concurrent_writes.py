"""Row writes from many threads at once (they share commits), and X-Appwrite-Timestamp conflicts."""

from __future__ import annotations

import threading

import pytest

from mcp_server.engine import Engine
from mcp_server.engine.errors import AppwriteError
from mcp_server.engine.projectdb import ProjectDB
from tests.engine.conftest import error_of

T = {"databaseId": "main", "tableId": "notes"}
THREADS = 16
ROWS_PER_THREAD = 25


@pytest.fixture
def notes(call):
    call("tablesDB.create", databaseId="main", name="Main")
    call("tablesDB.createTable", **T, name="Notes")
    call("tablesDB.createVarcharColumn", **T, key="title", size=100, required=True)
    call("tablesDB.createIntegerColumn", **T, key="likes", required=False, min=0, max=10)
    call("tablesDB.createIndex", **T, key="unique_title", type="unique", columns=["title"])
    return T


def in_threads(work, count: int = THREADS) -> list:
    """Run work(number) in `count` threads started together; each thread's result or exception."""
    results: list = [None] * count
    start = threading.Barrier(count)

    def run(number: int) -> None:
        start.wait()
        try:
            results[number] = work(number)
        except Exception as error:
            results[number] = error

    threads = [threading.Thread(target=run, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_concurrent_creates_all_land_and_survive_reopening(engine, call, notes, tmp_path):
    def create(number: int) -> list[str]:
        return [
            call("tablesDB.createRow", **T, rowId=f"r{number}-{i}", data={"title": f"t{number}-{i}"})["$id"]
            for i in range(ROWS_PER_THREAD)
        ]

    results = in_threads(create)
    assert all(isinstance(result, list) for result in results), results
    engine.close()
    reopened = Engine(tmp_path / "data", list_cache_ttl=0)
    try:
        listed = reopened.call("tablesDB.listRows", {**T, "queries": ['{"method":"limit","values":[1000]}']})
    finally:
        reopened.close()
    assert listed["total"] == THREADS * ROWS_PER_THREAD
    assert {row["$id"] for row in listed["rows"]} == {
        f"r{n}-{i}" for n in range(THREADS) for i in range(ROWS_PER_THREAD)
    }


def test_a_failing_write_among_concurrent_ones_fails_alone(call, notes):
    # Every thread writes the same title once: exactly one wins the unique index, the others get the
    # conflict, and a thread with an invalid row gets its own error, while the valid writes land.
    def write(number: int) -> str:
        if number == 0:
            call("tablesDB.createRow", **T, rowId="bad", data={"title": "x", "likes": 99})
        call("tablesDB.createRow", **T, rowId=f"own{number}", data={"title": f"own {number}"})
        return call("tablesDB.createRow", **T, rowId=f"same{number}", data={"title": "same"})["$id"]

    results = in_threads(write)
    errors = [result for result in results if isinstance(result, AppwriteError)]
    winners = [result for result in results if isinstance(result, str)]
    assert len(winners) == 1
    assert {error.type for error in errors} == {"row_already_exists", "row_invalid_structure"}
    listed = call("tablesDB.listRows", **T, queries=['{"method":"limit","values":[100]}'])
    ids = {row["$id"] for row in listed["rows"]}
    assert "bad" not in ids
    assert winners[0] in ids
    assert {f"own{n}" for n in range(1, THREADS)} <= ids


def test_a_change_older_than_the_row_is_refused(engine, call, notes):
    row = call("tablesDB.createRow", **T, rowId="n1", data={"title": "first", "likes": 1})
    before = "2000-01-01T00:00:00.000+00:00"
    for operation, params in [
        ("tablesDB.updateRow", {**T, "rowId": "n1", "data": {"likes": 2}}),
        ("tablesDB.upsertRow", {**T, "rowId": "n1", "data": {"title": "first", "likes": 2}}),
        ("tablesDB.incrementRowColumn", {**T, "rowId": "n1", "column": "likes"}),
        ("tablesDB.deleteRow", {**T, "rowId": "n1"}),
    ]:
        error = error_of(engine.call, operation, params, request_timestamp=before)
        assert (error.type, error.code) == ("row_update_conflict", 409), operation
    assert call("tablesDB.getRow", **T, rowId="n1")["likes"] == 1
    later = engine.call(
        "tablesDB.updateRow", {**T, "rowId": "n1", "data": {"likes": 3}}, request_timestamp=row["$updatedAt"]
    )
    assert later["likes"] == 3


def test_the_timestamp_check_speaks_each_vocabulary_and_refuses_bad_times(engine, call, notes):
    call("tablesDB.createRow", **T, rowId="n1", data={"title": "first"})
    document = {"databaseId": "main", "collectionId": "notes", "documentId": "n1", "data": {"likes": 2}}
    error = error_of(engine.call, "databases.updateDocument", document, request_timestamp="2000-01-01T00:00:00Z")
    assert error.type == "document_update_conflict"
    error = error_of(engine.call, "tablesDB.updateRow", {**T, "rowId": "n1", "data": {}}, request_timestamp="soon")
    assert error.type == "general_argument_invalid" and "X-Appwrite-Timestamp" in error.message
    fresh = engine.call(
        "tablesDB.updateRow", {**T, "rowId": "n1", "data": {"likes": 4}}, request_timestamp="2999-01-01T00:00:00Z"
    )
    assert fresh["likes"] == 4


def test_many_openings_of_a_new_project_file_at_once_all_succeed(tmp_path) -> None:
    """Converting a new file to WAL from two connections at once can deadlock in SQLite: the API's key
    store and the engine open a project's file together on its first request."""
    for attempt in range(40):
        path = tmp_path / str(attempt) / "project.sqlite3"
        opened = in_threads(lambda number, path=path: ProjectDB(path), count=6)
        assert all(isinstance(db, ProjectDB) for db in opened), opened
        for db in opened:
            db.close()
