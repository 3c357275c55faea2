"""A target that already holds the source's table with other column and index definitions: `baas-mcp migrate`
brings a column in line where Appwrite can change it in place, and reports a change that would need deleting
a column or an index (losing the target's data) as a conflict to settle by hand, without applying it. What the
target has and the source lacks stays."""

from __future__ import annotations

import json
from pathlib import Path

from mcp_server.catalog import load_catalog
from mcp_server.engine import Engine
from tests.commands import baas_mcp

IDS = {"databaseId": "shop", "tableId": "items"}


def make(data_dir: Path, title_size: int, amount_column: str, index_on: str) -> None:
    engine = Engine(data_dir, catalog=load_catalog())
    try:
        engine.call("tablesDB.create", {"databaseId": "shop", "name": "Shop"})
        engine.call("tablesDB.createTable", IDS | {"name": "Items"})
        engine.call("tablesDB.createStringColumn", IDS | {"key": "title", "size": title_size, "required": False})
        if amount_column == "integer":
            engine.call("tablesDB.createIntegerColumn", IDS | {"key": "amount", "required": False})
        else:
            engine.call("tablesDB.createStringColumn", IDS | {"key": "amount", "size": 10, "required": False})
        engine.call("tablesDB.createIndex", IDS | {"key": "by", "type": "key", "columns": [index_on]})
    finally:
        engine.close()


def add_own(data_dir: Path) -> None:
    """A table and a database of the target's own."""
    engine = Engine(data_dir, catalog=load_catalog())
    try:
        engine.call("tablesDB.createTable", {"databaseId": "shop", "tableId": "own", "name": "Own"})
        engine.call("tablesDB.create", {"databaseId": "mine", "name": "Mine"})
    finally:
        engine.close()


def names_of(data_dir: Path) -> tuple[list[str], list[str]]:
    engine = Engine(data_dir, catalog=load_catalog())
    try:
        databases = [database["$id"] for database in engine.call("tablesDB.list", {})["databases"]]
        tables = [table["$id"] for table in engine.call("tablesDB.listTables", {"databaseId": "shop"})["tables"]]
        return sorted(databases), sorted(tables)
    finally:
        engine.close()


def columns_of(data_dir: Path) -> dict[str, tuple]:
    engine = Engine(data_dir, catalog=load_catalog())
    try:
        columns = engine.call("tablesDB.listColumns", IDS)["columns"]
        index = engine.call("tablesDB.getIndex", IDS | {"key": "by"})
        return {column["key"]: (column["type"], column.get("size")) for column in columns} | {"by": index["columns"]}
    finally:
        engine.close()


def test_a_column_changes_in_place_and_a_change_that_loses_data_is_reported_not_applied(tmp_path):
    source, target = tmp_path / "a", tmp_path / "b"
    make(source, 200, "integer", "amount")
    make(target, 20, "string", "title")
    add_own(target)
    done = baas_mcp(
        "migrate", "--from-data-dir", str(source), "--to-data-dir", str(target), "--resources", "databases", "--json",
        cwd=tmp_path,
    )  # fmt: skip
    report = json.loads(done.stdout.splitlines()[-1])
    assert done.returncode == 1, report
    failed = {note["resource"]: note["message"] for note in report["notes"] if note["kind"] == "failed"}
    assert set(failed) == {"column shop/items/amount", "index shop/items/by"}
    assert all("change it by hand" in message for message in failed.values())
    assert report["resources"]["columns"] == {"update": 1}
    assert columns_of(target) == {"title": ("string", 200), "amount": ("string", 10), "by": ["title"]}
    assert names_of(target) == (["mine", "shop"], ["items", "own"])
    differ = [check["resource"] for check in report["verification"] if not check["same"]]
    assert differ == ["database mine", "database shop", "rows shop/own", "table shop/items", "table shop/own"]
