"""Lists kept for a caller's ttl (Appwrite 1.9's `ttl` on tablesDB.listRows and databases.listDocuments),
and `purge` on tablesDB.updateTable / databases.updateCollection."""

from __future__ import annotations

import types

import pytest

from mcp_server.engine import list_cache
from mcp_server.engine.permissions import user_auth
from tests.engine.conftest import error_of, q

DB = {"databaseId": "main"}
T = {**DB, "tableId": "notes"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(list_cache, "time", types.SimpleNamespace(monotonic=clock.monotonic))
    return clock


@pytest.fixture
def notes(call):
    call("tablesDB.create", databaseId="main", name="Main")
    columns = [{"key": "title", "type": "varchar", "size": 20, "required": False}]
    call("tablesDB.createTable", **T, name="Notes", columns=columns, permissions=['read("any")'])
    call("tablesDB.createRow", **T, rowId="a", data={"title": "a"})


def titles(call, ttl: int | None = None, **params) -> list[str]:
    extra = {"ttl": ttl} if ttl is not None else {}
    return [row["title"] for row in call("tablesDB.listRows", **T, **extra, **params)["rows"]]


def test_a_kept_list_is_served_for_its_ttl_whatever_is_written(call, notes, clock):
    assert titles(call, ttl=60) == ["a"]
    call("tablesDB.createRow", **T, rowId="b", data={"title": "b"})
    # As in Appwrite, row writes do not drop a kept list: it may be stale for its ttl.
    assert titles(call, ttl=60) == ["a"]
    assert call("tablesDB.listRows", **T, ttl=60)["total"] == 1
    # Without ttl, or with other queries or another caller, the answer is fresh.
    assert titles(call) == ["a", "b"]
    assert titles(call, ttl=60, queries=[q("limit", None, [5])]) == ["a", "b"]
    assert titles(call, ttl=60, auth=user_auth("someone")) == ["a", "b"]
    # The same legacy call keeps its own answer (another service's key).
    assert [d["title"] for d in call("databases.listDocuments", **DB, collectionId="notes", ttl=60)["documents"]] == [
        "a",
        "b",
    ]
    clock.now += 59
    assert titles(call, ttl=60) == ["a"]
    # A shorter ttl takes only what was kept within it.
    assert titles(call, ttl=30) == ["a", "b"]
    clock.now += 61
    assert titles(call, ttl=60) == ["a", "b"]


def test_a_schema_change_or_purge_retires_kept_lists(call, notes, clock):
    assert titles(call, ttl=600) == ["a"]
    call("tablesDB.createRow", **T, rowId="b", data={"title": "b"})
    call("tablesDB.updateTable", **T, name="Notes", purge=True)
    assert titles(call, ttl=600) == ["a", "b"]
    call("tablesDB.createRow", **T, rowId="c", data={"title": "c"})
    call("tablesDB.createBooleanColumn", **T, key="done", required=False)
    assert titles(call, ttl=600) == ["a", "b", "c"]


@pytest.mark.parametrize("ttl", [-1, 86401, "60", 1.5, True, None])
def test_ttl_must_be_seconds_from_0_to_a_day(call, notes, ttl):
    assert error_of(call, "tablesDB.listRows", **T, ttl=ttl).type == "general_argument_invalid"


@pytest.mark.parametrize("purge", ["yes", 1, None])
def test_purge_must_be_a_boolean(call, notes, purge):
    error = error_of(call, "tablesDB.updateTable", **T, name="Changed", purge=purge)
    assert error.type == "general_argument_invalid"
    assert call("tablesDB.getTable", **T)["name"] == "Notes"
