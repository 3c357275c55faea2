"""Reads run beside writes: a slow read holds up neither writes (to its own table or another) nor other
reads, is stopped with database_timeout past its time limit, and is stopped at once when the engine
closes (also by Ctrl+C of `baas-mcp api`). A list read while a write commits is never cached stale.

The slow read is a legitimately heavy query: notContains with 400 values, repeated, over a table of
2,000 rows, so every row is tested against every value (about half a second per repetition here).
Timeouts only guard against a hang: the old engine, which ran reads and writes one at a time under
one lock, took a minute or more where these tests wait a few seconds.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from mcp_server.engine import Engine
from mcp_server.engine.errors import AppwriteError
from tests.commands import create_key, start_api_server
from tests.engine.conftest import q

DB = "db"
ROWS = 2000
# Repetitions of the heavy filter: one that runs for minutes, and one that ends on its own in seconds.
ENDLESS = 100
SECONDS = 8
# Over HTTP the queries travel in the URL: fewer repetitions, over more rows, all of which are read.
API_ROWS = 60_000
API_REPETITIONS = 10


class Running:
    """A call running on a thread of its own: its result or error once it ends."""

    def __init__(self, function: Callable[[], Any]) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self.run, args=(function,), daemon=True)
        self.thread.start()

    def run(self, function: Callable[[], Any]) -> None:
        try:
            self.result = function()
        except BaseException as error:
            self.error = error

    @property
    def running(self) -> bool:
        return self.thread.is_alive()

    def finish(self, timeout: float) -> Running:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"still running after {timeout} s"
        return self


def heavy(repetitions: int, *, matching: bool = True) -> list[str]:
    """Filters that test every row against 400 values each; every row passes them, or (not `matching`)
    none passes the last, so that the whole table is read however large it is."""
    filters = [q("notContains", "note", [f"z{value:03d}{n}" for value in range(400)]) for n in range(repetitions)]
    if not matching:
        filters[-1] = q("contains", "note", [f"z{value:03d}" for value in range(400)])
    return filters


def fill(engine: Engine, rows: int = ROWS) -> None:
    """A database with the big table `slow` (`rows` rows) and a small table `other`."""
    engine.call("tablesDB.create", {"databaseId": DB, "name": "Reads"})
    columns = [{"key": "note", "type": "varchar", "size": 32}]
    for table_id in ("slow", "other"):
        params = {"databaseId": DB, "tableId": table_id, "name": table_id, "columns": columns}
        engine.call("tablesDB.createTable", params)
    for first in range(0, rows, 1000):
        batch = [{"$id": f"r{n}", "note": f"row {n}"} for n in range(first, first + 1000)]
        engine.call("tablesDB.createRows", {"databaseId": DB, "tableId": "slow", "rows": batch})


def slow_read(engine: Engine, repetitions: int, **params: Any) -> Running:
    """A heavy listRows on `slow`, started on its own thread and given a moment to get going."""
    running = Running(
        lambda: engine.call(
            "tablesDB.listRows", {"databaseId": DB, "tableId": "slow", "queries": heavy(repetitions), **params}
        )
    )
    time.sleep(0.3)
    assert running.running, "the slow read ended before the test could overlap it"
    return running


def create(engine: Engine, table_id: str, row_id: str) -> dict:
    params = {"databaseId": DB, "tableId": table_id, "rowId": row_id, "data": {"note": row_id}}
    return engine.call("tablesDB.createRow", params)


@pytest.fixture
def engines(tmp_path):
    """engines(**options): an engine over a filled data dir of its own, closed after the test."""
    made: list[Engine] = []

    def make(**options: Any) -> Engine:
        instance = Engine(tmp_path / f"data{len(made)}", **{"list_cache_ttl": 0, **options})
        made.append(instance)
        fill(instance)
        return instance

    yield make
    for instance in made:
        instance.close()


@pytest.fixture
def engine(engines) -> Engine:
    return engines()


@pytest.mark.parametrize("table_id", ["other", "slow"])
def test_a_write_does_not_wait_for_a_slow_read(engine, table_id):
    reading = slow_read(engine, ENDLESS)
    written = Running(lambda: create(engine, table_id, "new")).finish(30)
    assert written.error is None and written.result["$id"] == "new"
    assert reading.running, "the write waited for the slow read"


def test_a_read_does_not_wait_for_a_slow_read(engine):
    create(engine, "other", "there")
    reading = slow_read(engine, ENDLESS)
    other = Running(lambda: engine.call("tablesDB.getRow", {"databaseId": DB, "tableId": "other", "rowId": "there"}))
    assert other.finish(30).error is None and other.result["$id"] == "there"
    listed = Running(lambda: engine.call("tablesDB.listRows", {"databaseId": DB, "tableId": "slow"})).finish(30)
    assert listed.error is None and listed.result["total"] == ROWS
    assert reading.running, "the reads waited for the slow read"


def test_a_list_read_while_a_write_commits_is_not_cached_stale(engines):
    """The slow read sees the table before the write; its answer must not be served afterwards."""
    engine = engines(list_cache_ttl=600)
    reading = slow_read(engine, SECONDS)
    create(engine, "slow", "new")
    assert reading.running, "the write waited for the slow read"
    assert reading.finish(120).error is None and reading.result["total"] == ROWS
    again = engine.call("tablesDB.listRows", {"databaseId": DB, "tableId": "slow", "queries": heavy(SECONDS)})
    assert again["total"] == ROWS + 1


def test_a_read_past_its_time_limit_fails_with_database_timeout(engines):
    engine = engines(read_timeout=0.5)
    reading = Running(
        lambda: engine.call("tablesDB.listRows", {"databaseId": DB, "tableId": "slow", "queries": heavy(ENDLESS)})
    ).finish(30)
    assert isinstance(reading.error, AppwriteError)
    assert (reading.error.type, reading.error.code) == ("database_timeout", 408)
    # The engine goes on serving, and the next read has its own time.
    assert engine.call("tablesDB.listRows", {"databaseId": DB, "tableId": "slow"})["total"] == ROWS


def test_a_read_inside_a_transaction_is_held_to_the_time_limit_too(engines):
    engine = engines(read_timeout=0.5)
    transaction = engine.call("tablesDB.createTransaction", {})["$id"]
    engine.call(
        "tablesDB.createRow",
        {"databaseId": DB, "tableId": "slow", "rowId": "staged", "data": {}, "transactionId": transaction},
    )
    params = {"databaseId": DB, "tableId": "slow", "queries": heavy(ENDLESS), "transactionId": transaction}
    reading = Running(lambda: engine.call("tablesDB.listRows", params)).finish(30)
    assert isinstance(reading.error, AppwriteError) and reading.error.type == "database_timeout"
    # The transaction is untouched: a quick read in it sees the staged row.
    params["queries"] = [q("equal", "$id", ["staged"])]
    assert engine.call("tablesDB.listRows", params)["total"] == 1


def test_closing_the_engine_stops_a_running_read_at_once(engine):
    reading = slow_read(engine, ENDLESS)
    Running(engine.close).finish(10)
    reading.finish(10)
    assert isinstance(reading.error, AppwriteError) and reading.error.type == "general_server_error"
    with pytest.raises(AppwriteError):
        create(engine, "other", "late")


def test_ctrl_c_stops_the_api_server_during_a_slow_read(tmp_path):
    data_dir: Path = tmp_path / "data"
    filler = Engine(data_dir)
    fill(filler, API_ROWS)
    filler.close()
    key = create_key(data_dir, "rows.read")["secret"]
    served = start_api_server(data_dir)
    try:
        headers = {"X-Appwrite-Project": "default", "X-Appwrite-Key": key}
        url = served.url(f"/v1/tablesdb/{DB}/tables/slow/rows")
        params = [("queries[]", query) for query in heavy(API_REPETITIONS, matching=False)]
        request = Running(lambda: httpx.get(url, params=params, headers=headers, timeout=300))
        time.sleep(1)
        assert request.running, f"the request ended before the test could overlap it: {request.result or request.error}"
        served.process.send_signal(signal.SIGINT)
        assert served.wait(20) == 0, served.stderr.text()
        # It was being served (not refused): it ends with the server, unanswered or with a server error.
        request.finish(10)
        assert request.error is not None or request.result.status_code >= 500
    finally:
        served.stop(signal.SIGKILL)

