"""Relationship columns: definition, linking, reading, onDelete, schema changes, legacy vocabulary."""

from __future__ import annotations

import pytest

from tests.engine.conftest import error_of, q

DB = "db"
TYPES = ("oneToOne", "oneToMany", "manyToOne", "manyToMany")
# Whether each side of a relationship of this type links to many rows.
PARENT_MANY = {"oneToOne": False, "oneToMany": True, "manyToOne": False, "manyToMany": True}
CHILD_MANY = {"oneToOne": False, "oneToMany": False, "manyToOne": True, "manyToMany": True}


# ---------------------------------------------------------------------------------------------
# helpers


@pytest.fixture
def db(call):
    call("tablesDB.create", databaseId=DB, name="Main")
    return DB


def make_table(call, table_id: str, database_id: str = DB) -> None:
    call("tablesDB.createTable", databaseId=database_id, tableId=table_id, name=table_id)
    call("tablesDB.createStringColumn", databaseId=database_id, tableId=table_id, key="name", size=100, required=False)


def relate(call, table: str, related: str, kind: str, **options) -> dict:
    return call(
        "tablesDB.createRelationshipColumn", databaseId=DB, tableId=table, relatedTableId=related, type=kind, **options
    )


def put(call, table: str, row_id: str, data: dict | None = None) -> dict:
    return call("tablesDB.createRow", databaseId=DB, tableId=table, rowId=row_id, data=data or {})


def patch(call, table: str, row_id: str, data: dict) -> dict:
    return call("tablesDB.updateRow", databaseId=DB, tableId=table, rowId=row_id, data=data)


def get(call, table: str, row_id: str, select: list[str] | None = None) -> dict:
    queries = [q("select", values=select)] if select is not None else []
    return call("tablesDB.getRow", databaseId=DB, tableId=table, rowId=row_id, queries=queries)


def exists(call, table: str, row_id: str) -> bool:
    listed = call("tablesDB.listRows", databaseId=DB, tableId=table, queries=[q("equal", "$id", [row_id])])
    return listed["total"] == 1


def remove(call, table: str, row_id: str) -> None:
    call("tablesDB.deleteRow", databaseId=DB, tableId=table, rowId=row_id)


def ids(rows: list[dict]) -> list[str]:
    return sorted(row["$id"] for row in rows)


def column_keys(call, table: str) -> list[str]:
    return [column["key"] for column in call("tablesDB.listColumns", databaseId=DB, tableId=table)["columns"]]


@pytest.fixture
def pair(call, db):
    """Tables `p` (parent) and `c` (child), each with a string column `name`."""
    make_table(call, "p")
    make_table(call, "c")


def linked(call, kind: str, two_way: bool = True, on_delete: str | None = None) -> None:
    """Relationship p.rel -> c (twoWayKey `back`)."""
    options = {"key": "rel", "twoWay": two_way, "twoWayKey": "back"}
    if on_delete is not None:
        options["onDelete"] = on_delete
    relate(call, "p", "c", kind, **options)


def shown(call, table: str, row_id: str, key: str, many: bool):
    """What a row's relationship key links to: ids for many sides (loaded with select), the id for single ones."""
    if many:
        return ids(get(call, table, row_id, ["*", f"{key}.*"])[key])
    return get(call, table, row_id)[key]


# ---------------------------------------------------------------------------------------------
# creating the column


@pytest.mark.parametrize("two_way", [False, True])
@pytest.mark.parametrize("kind", TYPES)
def test_create_relationship_column_model(call, pair, kind, two_way):
    model = relate(call, "p", "c", kind, key="rel", twoWay=two_way, twoWayKey="back", onDelete="cascade")
    assert model["key"] == "rel"
    assert model["type"] == "relationship"
    assert model["relatedTable"] == "c"
    assert model["relationType"] == kind
    assert model["twoWay"] is two_way
    assert model["twoWayKey"] == "back"
    assert model["onDelete"] == "cascade"
    assert model["side"] == "parent"
    assert model["required"] is False
    fetched = call("tablesDB.getColumn", databaseId=DB, tableId="p", key="rel")
    assert fetched["relatedTable"] == "c" and fetched["side"] == "parent" and fetched["relationType"] == kind
    if two_way:
        child = call("tablesDB.getColumn", databaseId=DB, tableId="c", key="back")
        assert child["type"] == "relationship"
        assert child["side"] == "child"
        assert child["relatedTable"] == "p"
        assert child["twoWayKey"] == "rel"
        assert child["twoWay"] is True
        assert child["relationType"] == kind
        assert child["onDelete"] == "cascade"
        assert "back" in column_keys(call, "c")
    else:
        assert error_of(call, "tablesDB.getColumn", databaseId=DB, tableId="c", key="back").type == "column_not_found"
        assert "back" not in column_keys(call, "c")


def test_relationship_defaults(call, pair):
    model = relate(call, "p", "c", "manyToOne")
    assert model["key"] == "c"
    assert model["twoWayKey"] == "p"
    assert model["twoWay"] is False
    assert model["onDelete"] == "restrict"


def test_relationship_key_taken_and_related_table_missing(call, pair):
    linked(call, "manyToOne")
    assert error_of(relate, call, "p", "c", "oneToOne", key="rel", twoWayKey="other").type == "column_already_exists"
    assert error_of(relate, call, "p", "missing", "oneToOne", key="x").type == "table_not_found"


def test_second_many_to_many_between_same_tables_refused(call, pair):
    linked(call, "manyToMany")
    err = error_of(relate, call, "p", "c", "manyToMany", key="rel2", twoWayKey="back2")
    assert err.type == "column_already_exists"


# ---------------------------------------------------------------------------------------------
# linking rows


@pytest.mark.parametrize("kind", TYPES)
def test_link_by_id_from_parent(call, pair, kind):
    linked(call, kind)
    put(call, "c", "c1", {"name": "one"})
    put(call, "c", "c2", {"name": "two"})
    value = ["c1", "c2"] if PARENT_MANY[kind] else "c1"
    put(call, "p", "p1", {"name": "parent", "rel": value})
    plain = get(call, "p", "p1")
    if PARENT_MANY[kind]:
        assert "rel" not in plain
        loaded = get(call, "p", "p1", ["*", "rel.*"])
        assert ids(loaded["rel"]) == ["c1", "c2"]
        assert {row["name"] for row in loaded["rel"]} == {"one", "two"}
    else:
        assert plain["rel"] == "c1"
        loaded = get(call, "p", "p1", ["*", "rel.*"])
        assert loaded["rel"]["$id"] == "c1"
        assert loaded["rel"]["name"] == "one"
        assert loaded["rel"]["$tableId"] == "c"
        assert loaded["rel"]["$databaseId"] == DB
    assert loaded["name"] == "parent"


@pytest.mark.parametrize("kind", TYPES)
def test_child_side_of_two_way_shows_link(call, pair, kind):
    linked(call, kind)
    put(call, "c", "c1")
    value = ["c1"] if PARENT_MANY[kind] else "c1"
    put(call, "p", "p1", {"rel": value})
    plain = get(call, "c", "c1")
    if CHILD_MANY[kind]:
        assert "back" not in plain
        assert ids(get(call, "c", "c1", ["*", "back.*"])["back"]) == ["p1"]
    else:
        assert plain["back"] == "p1"
        assert get(call, "c", "c1", ["*", "back.*"])["back"]["$id"] == "p1"


@pytest.mark.parametrize("kind", TYPES)
def test_link_from_child_side(call, pair, kind):
    linked(call, kind)
    put(call, "p", "p1")
    value = ["p1"] if CHILD_MANY[kind] else "p1"
    put(call, "c", "c1", {"back": value})
    assert shown(call, "p", "p1", "rel", PARENT_MANY[kind]) == (["c1"] if PARENT_MANY[kind] else "c1")


@pytest.mark.parametrize("kind", TYPES)
def test_one_way_child_has_no_key(call, pair, kind):
    linked(call, kind, two_way=False)
    put(call, "c", "c1")
    put(call, "p", "p1", {"rel": ["c1"] if PARENT_MANY[kind] else "c1"})
    assert "back" not in get(call, "c", "c1")
    assert "back" not in get(call, "c", "c1", ["*"])
    err = error_of(put, call, "c", "c2", {"back": "p1"})
    assert err.type == "row_invalid_structure"


@pytest.mark.parametrize("kind", TYPES)
def test_link_by_nested_object_creates_related_row(call, pair, kind):
    linked(call, kind)
    nested = {"$id": "n1", "name": "nested"}
    put(call, "p", "p1", {"rel": [nested] if PARENT_MANY[kind] else nested})
    assert get(call, "c", "n1")["name"] == "nested"
    assert shown(call, "p", "p1", "rel", PARENT_MANY[kind]) == (["n1"] if PARENT_MANY[kind] else "n1")


@pytest.mark.parametrize("kind", TYPES)
def test_nested_object_without_id_gets_generated_id(call, pair, kind):
    linked(call, kind)
    nested = {"name": "anonymous"}
    put(call, "p", "p1", {"rel": [nested] if PARENT_MANY[kind] else nested})
    children = call("tablesDB.listRows", databaseId=DB, tableId="c")["rows"]
    assert len(children) == 1 and children[0]["name"] == "anonymous"
    new_id = children[0]["$id"]
    assert new_id and new_id != "unique()"
    assert shown(call, "p", "p1", "rel", PARENT_MANY[kind]) == ([new_id] if PARENT_MANY[kind] else new_id)


@pytest.mark.parametrize("kind", TYPES)
def test_nested_object_with_existing_id_updates_related_row(call, pair, kind):
    linked(call, kind)
    put(call, "c", "c1", {"name": "old"})
    nested = {"$id": "c1", "name": "new"}
    put(call, "p", "p1", {"rel": [nested] if PARENT_MANY[kind] else nested})
    assert get(call, "c", "c1")["name"] == "new"
    assert call("tablesDB.listRows", databaseId=DB, tableId="c")["total"] == 1
    assert shown(call, "p", "p1", "rel", PARENT_MANY[kind]) == (["c1"] if PARENT_MANY[kind] else "c1")


def test_nested_row_inherits_parent_permissions(call, pair):
    linked(call, "oneToOne")
    permissions = ['read("any")']
    call(
        "tablesDB.createRow",
        databaseId=DB,
        tableId="p",
        rowId="p1",
        data={"rel": {"$id": "n1", "name": "x"}},
        permissions=permissions,
    )
    assert get(call, "c", "n1")["$permissions"] == permissions


@pytest.mark.parametrize("kind", TYPES)
def test_unlink(call, pair, kind):
    linked(call, kind)
    put(call, "c", "c1")
    many = PARENT_MANY[kind]
    put(call, "p", "p1", {"rel": ["c1"] if many else "c1"})
    patch(call, "p", "p1", {"rel": [] if many else None})
    if many:
        assert get(call, "p", "p1", ["*", "rel.*"])["rel"] == []
    else:
        assert get(call, "p", "p1")["rel"] is None
        assert get(call, "p", "p1", ["*", "rel.*"])["rel"] is None
    # the related row stays, and no longer links back
    assert exists(call, "c", "c1")
    if CHILD_MANY[kind]:
        assert get(call, "c", "c1", ["*", "back.*"])["back"] == []
    else:
        assert get(call, "c", "c1")["back"] is None


@pytest.mark.parametrize("kind", ["oneToMany", "manyToMany"])
def test_update_replaces_many_links(call, pair, kind):
    linked(call, kind)
    for row_id in ("c1", "c2", "c3"):
        put(call, "c", row_id)
    put(call, "p", "p1", {"rel": ["c1", "c2"]})
    patch(call, "p", "p1", {"rel": ["c2", "c3"]})
    assert ids(get(call, "p", "p1", ["*", "rel.*"])["rel"]) == ["c2", "c3"]


@pytest.mark.parametrize("kind", ["oneToOne", "manyToOne"])
def test_update_relinks_single_side(call, pair, kind):
    linked(call, kind)
    put(call, "c", "c1")
    put(call, "c", "c2")
    put(call, "p", "p1", {"rel": "c1"})
    patch(call, "p", "p1", {"rel": "c2"})
    assert get(call, "p", "p1")["rel"] == "c2"
    assert shown(call, "c", "c1", "back", CHILD_MANY[kind]) == ([] if CHILD_MANY[kind] else None)


def test_updating_other_columns_keeps_links(call, pair):
    linked(call, "manyToMany")
    put(call, "c", "c1")
    put(call, "p", "p1", {"name": "a", "rel": ["c1"]})
    patch(call, "p", "p1", {"name": "b"})
    assert ids(get(call, "p", "p1", ["*", "rel.*"])["rel"]) == ["c1"]


@pytest.mark.parametrize("kind", ["oneToOne", "manyToOne"])
def test_single_side_refuses_array(call, pair, kind):
    linked(call, kind)
    put(call, "c", "c1")
    assert error_of(put, call, "p", "p1", {"rel": ["c1"]}).type == "relationship_value_invalid"
    assert not exists(call, "p", "p1")


@pytest.mark.parametrize("kind", ["oneToMany", "manyToMany"])
def test_many_side_refuses_single_value(call, pair, kind):
    linked(call, kind)
    put(call, "c", "c1")
    assert error_of(put, call, "p", "p1", {"rel": "c1"}).type == "relationship_value_invalid"
    assert not exists(call, "p", "p1")


def test_non_string_non_object_value_refused(call, pair):
    linked(call, "oneToOne")
    assert error_of(put, call, "p", "p1", {"rel": 42}).type == "relationship_value_invalid"
    assert error_of(put, call, "p", "p1", {"rel": {"$id": 5, "name": "x"}}).type == "relationship_value_invalid"
    assert not exists(call, "p", "p1")


@pytest.mark.parametrize("kind", TYPES)
def test_unknown_related_id_refused(call, pair, kind):
    linked(call, kind)
    value = ["ghost"] if PARENT_MANY[kind] else "ghost"
    err = error_of(put, call, "p", "p1", {"name": "x", "rel": value})
    assert err.type == "relationship_value_invalid"
    assert not exists(call, "p", "p1")
    assert call("tablesDB.listRows", databaseId=DB, tableId="c")["total"] == 0


def test_unknown_related_id_on_update_changes_nothing(call, pair):
    linked(call, "manyToOne")
    put(call, "c", "c1")
    put(call, "p", "p1", {"name": "before", "rel": "c1"})
    err = error_of(patch, call, "p", "p1", {"name": "after", "rel": "ghost"})
    assert err.type == "relationship_value_invalid"
    row = get(call, "p", "p1")
    assert row["name"] == "before" and row["rel"] == "c1"


@pytest.mark.parametrize("two_way", [False, True])
def test_one_to_one_refuses_child_linked_elsewhere(call, pair, two_way):
    linked(call, "oneToOne", two_way=two_way)
    put(call, "c", "c1")
    put(call, "p", "p1", {"rel": "c1"})
    err = error_of(put, call, "p", "p2", {"rel": "c1"})
    assert err.type == "relationship_value_invalid"
    assert not exists(call, "p", "p2")
    put(call, "p", "p3")
    assert error_of(patch, call, "p", "p3", {"rel": "c1"}).type == "relationship_value_invalid"
    assert get(call, "p", "p3")["rel"] is None
    assert get(call, "p", "p1")["rel"] == "c1"


def test_one_to_one_child_freed_by_unlink_can_be_relinked(call, pair):
    linked(call, "oneToOne")
    put(call, "c", "c1")
    put(call, "p", "p1", {"rel": "c1"})
    patch(call, "p", "p1", {"rel": None})
    put(call, "p", "p2", {"rel": "c1"})
    assert get(call, "c", "c1")["back"] == "p2"


def test_one_to_many_child_moves_to_new_parent(call, pair):
    linked(call, "oneToMany")
    put(call, "c", "c1")
    put(call, "p", "p1", {"rel": ["c1"]})
    put(call, "p", "p2", {"rel": ["c1"]})
    assert get(call, "c", "c1")["back"] == "p2"
    assert get(call, "p", "p1", ["*", "rel.*"])["rel"] == []


# ---------------------------------------------------------------------------------------------
# reading with select


def test_select_related_field_only(call, pair):
    linked(call, "manyToOne")
    put(call, "c", "c1", {"name": "child"})
    put(call, "p", "p1", {"name": "parent", "rel": "c1"})
    row = get(call, "p", "p1", ["rel.name"])
    assert row["rel"]["name"] == "child"
    assert row["rel"]["$id"] == "c1"
    assert "name" not in row
    both = get(call, "p", "p1", ["name", "rel.name"])
    assert both["name"] == "parent" and both["rel"]["name"] == "child"


def test_select_related_field_leaves_out_other_related_columns(call, pair):
    call("tablesDB.createIntegerColumn", databaseId=DB, tableId="c", key="size", required=False)
    linked(call, "oneToMany")
    put(call, "c", "c1", {"name": "child", "size": 3})
    put(call, "p", "p1", {"rel": ["c1"]})
    related = get(call, "p", "p1", ["name", "rel.name"])["rel"][0]
    assert related["name"] == "child"
    assert "size" not in related
    full = get(call, "p", "p1", ["*", "rel.*"])["rel"][0]
    assert full["size"] == 3


def test_select_star_alone_does_not_load_related_rows(call, pair):
    linked(call, "manyToOne")
    put(call, "c", "c1")
    put(call, "p", "p1", {"rel": "c1"})
    assert get(call, "p", "p1", ["*"])["rel"] == "c1"


def test_select_relationship_key_alone_gives_ids(call, pair):
    linked(call, "manyToMany")
    put(call, "c", "c1")
    put(call, "c", "c2")
    put(call, "p", "p1", {"rel": ["c1", "c2"]})
    assert sorted(get(call, "p", "p1", ["rel"])["rel"]) == ["c1", "c2"]


def test_list_rows_loads_related_rows(call, pair):
    linked(call, "manyToOne")
    put(call, "c", "c1", {"name": "A"})
    put(call, "c", "c2", {"name": "B"})
    put(call, "p", "p1", {"rel": "c1"})
    put(call, "p", "p2", {"rel": "c2"})
    put(call, "p", "p3")
    plain = call("tablesDB.listRows", databaseId=DB, tableId="p")["rows"]
    assert [row["rel"] for row in plain] == ["c1", "c2", None]
    loaded = call("tablesDB.listRows", databaseId=DB, tableId="p", queries=[q("select", values=["*", "rel.*"])])
    assert [row["rel"] and row["rel"]["name"] for row in loaded["rows"]] == ["A", "B", None]


def test_nested_select_three_levels(call, db):
    for table in ("a", "b", "cc", "d"):
        make_table(call, table)
    relate(call, "a", "b", "manyToOne", key="b")
    relate(call, "b", "cc", "manyToOne", key="c")
    relate(call, "cc", "d", "manyToOne", key="d")
    put(call, "d", "d1", {"name": "D"})
    put(call, "cc", "c1", {"name": "C", "d": "d1"})
    put(call, "b", "b1", {"name": "B", "c": "c1"})
    put(call, "a", "a1", {"name": "A", "b": "b1"})

    two = get(call, "a", "a1", ["*", "b.*", "b.c.*"])
    assert two["b"]["name"] == "B"
    assert two["b"]["c"]["name"] == "C"
    assert two["b"]["c"]["$tableId"] == "cc"
    assert two["b"]["c"]["d"] == "d1"

    only_nested = get(call, "a", "a1", ["b.c.*"])
    assert only_nested["b"]["c"]["name"] == "C"
    assert "name" not in only_nested["b"]

    deep = get(call, "a", "a1", ["*", "b.*", "b.c.*", "b.c.d.*"])
    assert deep["b"]["c"]["name"] == "C"
    # rows beyond the third level are not loaded: the link stays an id
    assert deep["b"]["c"]["d"] == "d1"


def test_select_unknown_relationship_path_refused(call, pair):
    linked(call, "manyToOne")
    put(call, "p", "p1")
    err = error_of(get, call, "p", "p1", ["*", "nope.*"])
    assert err.type == "general_query_invalid"
    err = error_of(get, call, "p", "p1", ["name.x"])
    assert err.type == "general_query_invalid"


# ---------------------------------------------------------------------------------------------
# filtering


def test_filter_by_stored_relationship_column(call, pair):
    linked(call, "manyToOne")
    put(call, "c", "c1")
    put(call, "c", "c2")
    put(call, "p", "p1", {"rel": "c1"})
    put(call, "p", "p2", {"rel": "c2"})
    put(call, "p", "p3", {"rel": "c1"})
    found = call("tablesDB.listRows", databaseId=DB, tableId="p", queries=[q("equal", "rel", ["c1"])])
    assert found["total"] == 2
    assert ids(found["rows"]) == ["p1", "p3"]


def test_filter_by_child_side_of_one_to_many(call, pair):
    linked(call, "oneToMany")
    for row_id in ("c1", "c2", "c3"):
        put(call, "c", row_id)
    put(call, "p", "p1", {"rel": ["c1", "c3"]})
    put(call, "p", "p2", {"rel": ["c2"]})
    found = call("tablesDB.listRows", databaseId=DB, tableId="c", queries=[q("equal", "back", ["p1"])])
    assert ids(found["rows"]) == ["c1", "c3"]


def test_filter_by_one_to_one_parent(call, pair):
    linked(call, "oneToOne")
    put(call, "c", "c1")
    put(call, "c", "c2")
    put(call, "p", "p1", {"rel": "c1"})
    put(call, "p", "p2", {"rel": "c2"})
    found = call("tablesDB.listRows", databaseId=DB, tableId="p", queries=[q("equal", "rel", ["c2"])])
    assert ids(found["rows"]) == ["p2"]


def test_filter_by_two_way_one_to_one_child(call, pair):
    """Appwrite lets the child side of a twoWay oneToOne be queried (only the one-way child is virtual)."""
    linked(call, "oneToOne", two_way=True)
    put(call, "c", "c1")
    put(call, "c", "c2")
    put(call, "p", "p1", {"rel": "c2"})
    found = call("tablesDB.listRows", databaseId=DB, tableId="c", queries=[q("equal", "back", ["p1"])])
    assert ids(found["rows"]) == ["c2"]


@pytest.mark.parametrize(
    ("kind", "table", "key"),
    [("oneToMany", "p", "rel"), ("manyToOne", "c", "back"), ("manyToMany", "p", "rel"), ("manyToMany", "c", "back")],
)
def test_filter_by_virtual_relationship_side_refused(call, pair, kind, table, key):
    linked(call, kind)
    err = error_of(call, "tablesDB.listRows", databaseId=DB, tableId=table, queries=[q("equal", key, ["x"])])
    assert err.type == "general_query_invalid"


# ---------------------------------------------------------------------------------------------
# onDelete


@pytest.mark.parametrize("kind", ["oneToOne", "oneToMany", "manyToMany"])
def test_restrict_refuses_deleting_parent_with_links(call, pair, kind):
    linked(call, kind, on_delete="restrict")
    put(call, "c", "c1")
    put(call, "p", "p1", {"rel": ["c1"] if PARENT_MANY[kind] else "c1"})
    assert error_of(remove, call, "p", "p1").type == "row_delete_restricted"
    assert exists(call, "p", "p1") and exists(call, "c", "c1")
    assert shown(call, "p", "p1", "rel", PARENT_MANY[kind]) == (["c1"] if PARENT_MANY[kind] else "c1")


def test_restrict_allows_deleting_parent_without_links(call, pair):
    linked(call, "oneToMany", on_delete="restrict")
    put(call, "c", "c1")
    put(call, "p", "p1")
    remove(call, "p", "p1")
    assert not exists(call, "p", "p1")


def test_restrict_many_to_one_guards_the_child(call, pair):
    linked(call, "manyToOne", on_delete="restrict")
    put(call, "c", "c1")
    put(call, "p", "p1", {"rel": "c1"})
    put(call, "p", "p2", {"rel": "c1"})
    assert error_of(remove, call, "c", "c1").type == "row_delete_restricted"
    assert exists(call, "c", "c1")
    # the parent of manyToOne is not the owning side: deleting it just unlinks
    remove(call, "p", "p1")
    assert not exists(call, "p", "p1")
    assert ids(get(call, "c", "c1", ["*", "back.*"])["back"]) == ["p2"]


@pytest.mark.parametrize("kind", ["oneToOne", "oneToMany", "manyToMany"])
def test_restrict_deleting_child_just_unlinks(call, pair, kind):
    linked(call, kind, on_delete="restrict")
    put(call, "c", "c1")
    put(call, "c", "c2")
    many = PARENT_MANY[kind]
    put(call, "p", "p1", {"rel": ["c1", "c2"] if many else "c1"})
    remove(call, "c", "c1")
    assert not exists(call, "c", "c1")
    assert exists(call, "p", "p1")
    assert shown(call, "p", "p1", "rel", many) == (["c2"] if many else None)


def test_restrict_legacy_error_type(call, pair):
    linked(call, "oneToOne", on_delete="restrict")
    put(call, "c", "c1")
    put(call, "p", "p1", {"rel": "c1"})
    err = error_of(call, "databases.deleteDocument", databaseId=DB, collectionId="p", documentId="p1")
    assert err.type == "document_delete_restricted"


@pytest.mark.parametrize("kind", ["oneToOne", "oneToMany", "manyToMany"])
def test_cascade_deletes_related_rows(call, pair, kind):
    linked(call, kind, on_delete="cascade")
    put(call, "c", "c1")
    put(call, "c", "c2")
    put(call, "c", "other")
    put(call, "p", "p1", {"rel": ["c1", "c2"] if PARENT_MANY[kind] else "c1"})
    remove(call, "p", "p1")
    assert not exists(call, "p", "p1")
    assert not exists(call, "c", "c1")
    assert exists(call, "c", "c2") is (not PARENT_MANY[kind])
    assert exists(call, "c", "other")


def test_cascade_many_to_one_deletes_parents_with_the_child(call, pair):
    linked(call, "manyToOne", on_delete="cascade")
    put(call, "c", "c1")
    put(call, "c", "c2")
    put(call, "p", "p1", {"rel": "c1"})
    put(call, "p", "p2", {"rel": "c1"})
    put(call, "p", "p3", {"rel": "c2"})
    remove(call, "c", "c1")
    assert not exists(call, "p", "p1") and not exists(call, "p", "p2")
    assert exists(call, "p", "p3")
    # deleting the parent of manyToOne does not cascade to the child
    remove(call, "p", "p3")
    assert exists(call, "c", "c2")


def test_cascade_deleting_child_of_one_to_many_just_unlinks(call, pair):
    linked(call, "oneToMany", on_delete="cascade")
    put(call, "c", "c1")
    put(call, "c", "c2")
    put(call, "p", "p1", {"rel": ["c1", "c2"]})
    remove(call, "c", "c1")
    assert exists(call, "p", "p1")
    assert ids(get(call, "p", "p1", ["*", "rel.*"])["rel"]) == ["c2"]


def test_cascade_is_recursive(call, db):
    for table in ("a", "b", "cc"):
        make_table(call, table)
    relate(call, "a", "b", "oneToMany", key="bs", twoWayKey="a", onDelete="cascade")
    relate(call, "b", "cc", "oneToMany", key="cs", twoWayKey="b", onDelete="cascade")
    put(call, "a", "a1", {"bs": [{"$id": "b1", "cs": [{"$id": "x1"}, {"$id": "x2"}]}, {"$id": "b2"}]})
    put(call, "a", "a2", {"bs": [{"$id": "b3", "cs": [{"$id": "x3"}]}]})
    assert exists(call, "cc", "x1") and exists(call, "cc", "x2")
    remove(call, "a", "a1")
    assert not exists(call, "b", "b1") and not exists(call, "b", "b2")
    assert not exists(call, "cc", "x1") and not exists(call, "cc", "x2")
    assert exists(call, "a", "a2") and exists(call, "b", "b3") and exists(call, "cc", "x3")


def test_cascade_stops_at_restrict_and_changes_nothing(call, db):
    for table in ("a", "b", "cc"):
        make_table(call, table)
    relate(call, "a", "b", "oneToMany", key="bs", twoWayKey="a", onDelete="cascade")
    relate(call, "b", "cc", "oneToOne", key="c", twoWayKey="b", onDelete="restrict")
    put(call, "cc", "x1")
    put(call, "a", "a1", {"bs": [{"$id": "b1", "c": "x1"}, {"$id": "b2"}]})
    assert error_of(remove, call, "a", "a1").type == "row_delete_restricted"
    assert exists(call, "a", "a1") and exists(call, "b", "b1") and exists(call, "b", "b2")
    assert ids(get(call, "a", "a1", ["*", "bs.*"])["bs"]) == ["b1", "b2"]


@pytest.mark.parametrize("kind", ["oneToOne", "oneToMany", "manyToMany"])
def test_set_null_unlinks_and_keeps_related_rows(call, pair, kind):
    linked(call, kind, on_delete="setNull")
    put(call, "c", "c1")
    put(call, "c", "c2")
    put(call, "p", "p1", {"rel": ["c1", "c2"] if PARENT_MANY[kind] else "c1"})
    remove(call, "p", "p1")
    assert not exists(call, "p", "p1")
    assert exists(call, "c", "c1") and exists(call, "c", "c2")
    if CHILD_MANY[kind]:
        assert get(call, "c", "c1", ["*", "back.*"])["back"] == []
    else:
        assert get(call, "c", "c1")["back"] is None
    if kind == "oneToMany":
        listed = call("tablesDB.listRows", databaseId=DB, tableId="c", queries=[q("isNotNull", "back")])
        assert listed["total"] == 0


def test_set_null_many_to_one_child_deletion(call, pair):
    linked(call, "manyToOne", on_delete="setNull")
    put(call, "c", "c1")
    put(call, "p", "p1", {"rel": "c1"})
    put(call, "p", "p2", {"rel": "c1"})
    remove(call, "c", "c1")
    assert get(call, "p", "p1")["rel"] is None
    assert get(call, "p", "p2")["rel"] is None
    assert call("tablesDB.listRows", databaseId=DB, tableId="p", queries=[q("equal", "rel", ["c1"])])["total"] == 0


def test_one_way_relationship_applies_on_delete(call, pair):
    linked(call, "oneToMany", two_way=False, on_delete="cascade")
    put(call, "c", "c1")
    put(call, "p", "p1", {"rel": ["c1"]})
    remove(call, "p", "p1")
    assert not exists(call, "c", "c1")


# ---------------------------------------------------------------------------------------------
# changing and removing the schema


def test_update_relationship_on_delete_changes_both_sides(call, pair):
    linked(call, "oneToMany", on_delete="restrict")
    model = call("tablesDB.updateRelationshipColumn", databaseId=DB, tableId="p", key="rel", onDelete="cascade")
    assert model["onDelete"] == "cascade"
    assert model["key"] == "rel" and model["side"] == "parent"
    assert call("tablesDB.getColumn", databaseId=DB, tableId="p", key="rel")["onDelete"] == "cascade"
    assert call("tablesDB.getColumn", databaseId=DB, tableId="c", key="back")["onDelete"] == "cascade"
    put(call, "c", "c1")
    put(call, "p", "p1", {"rel": ["c1"]})
    remove(call, "p", "p1")
    assert not exists(call, "c", "c1")


def test_update_relationship_on_delete_from_child_side(call, pair):
    linked(call, "oneToMany", on_delete="cascade")
    model = call("tablesDB.updateRelationshipColumn", databaseId=DB, tableId="c", key="back", onDelete="setNull")
    assert model["onDelete"] == "setNull" and model["side"] == "child"
    assert call("tablesDB.getColumn", databaseId=DB, tableId="p", key="rel")["onDelete"] == "setNull"
    put(call, "c", "c1")
    put(call, "p", "p1", {"rel": ["c1"]})
    remove(call, "p", "p1")
    assert exists(call, "c", "c1")


def test_update_relationship_new_key(call, pair):
    linked(call, "manyToOne")
    put(call, "c", "c1")
    put(call, "p", "p1", {"rel": "c1"})
    model = call("tablesDB.updateRelationshipColumn", databaseId=DB, tableId="p", key="rel", newKey="owner")
    assert model["key"] == "owner"
    assert call("tablesDB.getColumn", databaseId=DB, tableId="c", key="back")["twoWayKey"] == "owner"
    assert "rel" not in column_keys(call, "p") and "owner" in column_keys(call, "p")
    row = get(call, "p", "p1")
    assert row["owner"] == "c1" and "rel" not in row
    put(call, "p", "p2", {"owner": "c1"})
    assert ids(get(call, "c", "c1", ["*", "back.*"])["back"]) == ["p1", "p2"]
    assert error_of(put, call, "p", "p3", {"rel": "c1"}).type == "row_invalid_structure"


def test_update_relationship_new_key_of_child_side(call, pair):
    linked(call, "oneToOne")
    model = call("tablesDB.updateRelationshipColumn", databaseId=DB, tableId="c", key="back", newKey="holder")
    assert model["key"] == "holder"
    assert call("tablesDB.getColumn", databaseId=DB, tableId="p", key="rel")["twoWayKey"] == "holder"
    put(call, "c", "c1")
    put(call, "p", "p1", {"rel": "c1"})
    assert get(call, "c", "c1")["holder"] == "p1"


def test_update_relationship_new_key_taken(call, pair):
    linked(call, "manyToOne")
    err = error_of(call, "tablesDB.updateRelationshipColumn", databaseId=DB, tableId="p", key="rel", newKey="name")
    assert err.type == "column_already_exists"
    assert "rel" in column_keys(call, "p")


def test_update_relationship_unknown_key(call, pair):
    err = error_of(call, "tablesDB.updateRelationshipColumn", databaseId=DB, tableId="p", key="rel", onDelete="cascade")
    assert err.type == "column_not_found"
    err = error_of(
        call, "tablesDB.updateRelationshipColumn", databaseId=DB, tableId="p", key="name", onDelete="cascade"
    )
    assert err.type == "column_not_found"


@pytest.mark.parametrize("from_side", ["parent", "child"])
@pytest.mark.parametrize("kind", TYPES)
def test_delete_relationship_column_removes_both_sides(call, pair, kind, from_side):
    linked(call, kind)
    put(call, "c", "c1")
    put(call, "p", "p1", {"name": "kept", "rel": ["c1"] if PARENT_MANY[kind] else "c1"})
    table, key = ("p", "rel") if from_side == "parent" else ("c", "back")
    call("tablesDB.deleteColumn", databaseId=DB, tableId=table, key=key)
    assert "rel" not in column_keys(call, "p")
    assert "back" not in column_keys(call, "c")
    assert "rel" not in get(call, "p", "p1") and get(call, "p", "p1")["name"] == "kept"
    assert "back" not in get(call, "c", "c1")
    assert error_of(put, call, "p", "p2", {"rel": "c1"}).type == "row_invalid_structure"
    # both keys are free again, and bulk writes work on the tables again
    relate(call, "p", "c", kind, key="rel", twoWay=True, twoWayKey="back")
    assert shown(call, "p", "p1", "rel", PARENT_MANY[kind]) == ([] if PARENT_MANY[kind] else None)


def test_delete_one_way_relationship_column(call, pair):
    linked(call, "oneToMany", two_way=False)
    call("tablesDB.deleteColumn", databaseId=DB, tableId="p", key="rel")
    call("tablesDB.createRows", databaseId=DB, tableId="c", rows=[{"name": "a"}])
    call("tablesDB.createRows", databaseId=DB, tableId="p", rows=[{"name": "a"}])
    assert call("tablesDB.listRows", databaseId=DB, tableId="c")["total"] == 1


@pytest.mark.parametrize("kind", TYPES)
def test_deleting_related_table_removes_relationship_columns(call, pair, kind):
    linked(call, kind)
    put(call, "c", "c1")
    put(call, "p", "p1", {"name": "kept", "rel": ["c1"] if PARENT_MANY[kind] else "c1"})
    call("tablesDB.deleteTable", databaseId=DB, tableId="c")
    assert column_keys(call, "p") == ["name"]
    row = get(call, "p", "p1")
    assert row["name"] == "kept" and "rel" not in row
    remove(call, "p", "p1")
    assert not exists(call, "p", "p1")


def test_deleting_parent_table_removes_child_side(call, pair):
    linked(call, "manyToOne")
    put(call, "c", "c1")
    put(call, "p", "p1", {"rel": "c1"})
    call("tablesDB.deleteTable", databaseId=DB, tableId="p")
    assert column_keys(call, "c") == ["name"]
    assert "back" not in get(call, "c", "c1")
    remove(call, "c", "c1")


# ---------------------------------------------------------------------------------------------
# bulk writes


@pytest.mark.parametrize("table", ["p", "c"])
def test_bulk_operations_refused_with_relationships(call, pair, table):
    linked(call, "manyToOne")
    put(call, table, "r1", {"name": "x"})
    attempts = [
        ("tablesDB.createRows", {"rows": [{"name": "a"}]}),
        ("tablesDB.upsertRows", {"rows": [{"$id": "r1", "name": "a"}]}),
        ("tablesDB.updateRows", {"data": {"name": "b"}, "queries": []}),
        ("tablesDB.deleteRows", {"queries": []}),
    ]
    for operation, params in attempts:
        err = error_of(call, operation, databaseId=DB, tableId=table, **params)
        assert err.type == "general_bad_request", operation
    listed = call("tablesDB.listRows", databaseId=DB, tableId=table)
    assert listed["total"] == 1 and listed["rows"][0]["name"] == "x"


# ---------------------------------------------------------------------------------------------
# legacy vocabulary


def test_legacy_relationship_attribute_and_documents(call):
    call("databases.create", databaseId=DB, name="Legacy")
    for collection in ("authors", "books"):
        call("databases.createCollection", databaseId=DB, collectionId=collection, name=collection)
        call(
            "databases.createStringAttribute",
            databaseId=DB,
            collectionId=collection,
            key="name",
            size=50,
            required=False,
        )
    model = call(
        "databases.createRelationshipAttribute",
        databaseId=DB,
        collectionId="books",
        relatedCollectionId="authors",
        type="manyToOne",
        twoWay=True,
        key="author",
        twoWayKey="books",
    )
    assert model["relatedCollection"] == "authors"
    assert "relatedTable" not in model
    assert model["relationType"] == "manyToOne" and model["side"] == "parent"
    child = call("databases.getAttribute", databaseId=DB, collectionId="authors", key="books")
    assert child["relatedCollection"] == "books" and child["side"] == "child"
    listed = call("databases.listAttributes", databaseId=DB, collectionId="books")["attributes"]
    assert next(a for a in listed if a["key"] == "author")["relatedCollection"] == "authors"

    call(
        "databases.createDocument",
        databaseId=DB,
        collectionId="books",
        documentId="b1",
        data={"name": "Book", "author": {"$id": "a1", "name": "Ann"}},
    )
    plain = call("databases.getDocument", databaseId=DB, collectionId="books", documentId="b1")
    assert plain["$collectionId"] == "books" and "$tableId" not in plain
    assert plain["author"] == "a1"
    loaded = call(
        "databases.getDocument",
        databaseId=DB,
        collectionId="books",
        documentId="b1",
        queries=[q("select", values=["*", "author.*"])],
    )
    assert loaded["author"]["$collectionId"] == "authors"
    assert "$tableId" not in loaded["author"]
    assert loaded["author"]["name"] == "Ann"
    author = call(
        "databases.getDocument",
        databaseId=DB,
        collectionId="authors",
        documentId="a1",
        queries=[q("select", values=["*", "books.*"])],
    )
    assert [book["$collectionId"] for book in author["books"]] == ["books"]
    err = error_of(call, "databases.createDocuments", databaseId=DB, collectionId="books", documents=[{"name": "x"}])
    assert err.type == "general_bad_request"
    updated = call(
        "databases.updateRelationshipAttribute", databaseId=DB, collectionId="books", key="author", onDelete="setNull"
    )
    assert updated["relatedCollection"] == "authors" and updated["onDelete"] == "setNull"


def test_relationship_created_through_legacy_is_usable_through_tables_db(call):
    call("databases.create", databaseId=DB, name="Legacy")
    for collection in ("p", "c"):
        call("databases.createCollection", databaseId=DB, collectionId=collection, name=collection)
    call(
        "databases.createRelationshipAttribute",
        databaseId=DB,
        collectionId="p",
        relatedCollectionId="c",
        type="oneToOne",
        key="rel",
        twoWay=True,
        twoWayKey="back",
    )
    assert call("tablesDB.getColumn", databaseId=DB, tableId="p", key="rel")["relatedTable"] == "c"
    put(call, "p", "p1", {"rel": {"$id": "c1"}})
    assert get(call, "c", "c1")["back"] == "p1"
    assert get(call, "p", "p1", ["*", "rel.*"])["rel"]["$tableId"] == "c"


# ---------------------------------------------------------------------------------------------
# more edges: one-way children deleted, shared children, self-relationships, permissions


@pytest.mark.parametrize("kind", ["oneToOne", "oneToMany", "manyToMany"])
def test_deleting_child_of_one_way_relationship_leaves_no_dangling_link(call, pair, kind):
    linked(call, kind, two_way=False)
    put(call, "c", "c1")
    put(call, "c", "c2")
    many = PARENT_MANY[kind]
    put(call, "p", "p1", {"rel": ["c1", "c2"] if many else "c1"})
    remove(call, "c", "c1")
    if many:
        assert get(call, "p", "p1", ["rel"])["rel"] == ["c2"]
        assert ids(get(call, "p", "p1", ["*", "rel.*"])["rel"]) == ["c2"]
    else:
        assert get(call, "p", "p1")["rel"] is None


def test_many_to_many_shared_children(call, pair):
    linked(call, "manyToMany")
    for row_id in ("c1", "c2", "c3"):
        put(call, "c", row_id)
    put(call, "p", "p1", {"rel": ["c1", "c2"]})
    put(call, "p", "p2", {"rel": ["c2", "c3"]})
    listed = call("tablesDB.listRows", databaseId=DB, tableId="p", queries=[q("select", values=["*", "rel.*"])])
    assert {row["$id"]: ids(row["rel"]) for row in listed["rows"]} == {"p1": ["c1", "c2"], "p2": ["c2", "c3"]}
    assert ids(get(call, "c", "c2", ["*", "back.*"])["back"]) == ["p1", "p2"]


def test_many_to_many_cascade_unlinks_other_parents(call, pair):
    linked(call, "manyToMany", on_delete="cascade")
    put(call, "c", "c1")
    put(call, "c", "c2")
    put(call, "p", "p1", {"rel": ["c1"]})
    put(call, "p", "p2", {"rel": ["c1", "c2"]})
    remove(call, "p", "p1")
    assert not exists(call, "c", "c1")
    assert ids(get(call, "p", "p2", ["*", "rel.*"])["rel"]) == ["c2"]
    assert get(call, "p", "p2", ["rel"])["rel"] == ["c2"]


def test_self_relationship(call, db):
    make_table(call, "people")
    relate(call, "people", "people", "manyToOne", key="manager", twoWay=True, twoWayKey="reports", onDelete="setNull")
    put(call, "people", "boss", {"name": "Boss"})
    put(call, "people", "e1", {"name": "E1", "manager": "boss"})
    put(call, "people", "e2", {"name": "E2", "manager": "boss"})
    assert get(call, "people", "e1")["manager"] == "boss"
    boss = get(call, "people", "boss", ["*", "reports.*"])
    assert ids(boss["reports"]) == ["e1", "e2"]
    assert get(call, "people", "e1", ["*", "manager.*"])["manager"]["name"] == "Boss"
    remove(call, "people", "boss")
    assert get(call, "people", "e1")["manager"] is None


def test_self_relationship_cascade_tree(call, db):
    make_table(call, "nodes")
    relate(call, "nodes", "nodes", "oneToMany", key="kids", twoWay=True, twoWayKey="up", onDelete="cascade")
    put(call, "nodes", "root", {"kids": [{"$id": "a", "kids": [{"$id": "a1"}]}, {"$id": "b"}]})
    put(call, "nodes", "other")
    assert get(call, "nodes", "a1")["up"] == "a"
    remove(call, "nodes", "root")
    assert [row["$id"] for row in call("tablesDB.listRows", databaseId=DB, tableId="nodes")["rows"]] == ["other"]


def test_two_way_key_taken_on_related_table(call, pair):
    err = error_of(relate, call, "p", "c", "oneToOne", key="rel", twoWay=True, twoWayKey="name")
    assert err.type == "column_already_exists"
    assert "rel" not in column_keys(call, "p")


def test_related_rows_the_caller_cannot_read_are_not_loaded(call, db):
    from mcp_server.engine.permissions import user_auth

    call("tablesDB.createTable", databaseId=DB, tableId="p", name="p", permissions=['read("any")'])
    call("tablesDB.createTable", databaseId=DB, tableId="c", name="c", permissions=[])
    call("tablesDB.createStringColumn", databaseId=DB, tableId="c", key="name", size=20, required=False)
    relate(call, "p", "c", "manyToOne", key="rel")
    put(call, "c", "c1", {"name": "secret"})
    put(call, "p", "p1", {"rel": "c1"})
    alice = user_auth("alice")
    row = call(
        "tablesDB.getRow", alice, databaseId=DB, tableId="p", rowId="p1", queries=[q("select", values=["*", "rel.*"])]
    )
    assert row["rel"] is None
    assert "secret" not in str(row)


def test_nested_create_needs_create_permission_on_related_table(call, db):
    from mcp_server.engine.permissions import user_auth

    call("tablesDB.createTable", databaseId=DB, tableId="p", name="p", permissions=['create("users")', 'read("users")'])
    call("tablesDB.createTable", databaseId=DB, tableId="c", name="c", permissions=['read("users")'])
    relate(call, "p", "c", "oneToOne", key="rel")
    alice = user_auth("alice")
    err = error_of(
        call, "tablesDB.createRow", alice, databaseId=DB, tableId="p", rowId="p1", data={"rel": {"$id": "n"}}
    )
    assert err.type == "user_unauthorized"
    assert not exists(call, "p", "p1") and not exists(call, "c", "n")


def test_filter_by_renamed_relationship_key(call, pair):
    linked(call, "manyToOne")
    put(call, "c", "c1")
    put(call, "p", "p1", {"rel": "c1"})
    put(call, "p", "p2")
    call("tablesDB.updateRelationshipColumn", databaseId=DB, tableId="p", key="rel", newKey="owner")
    found = call("tablesDB.listRows", databaseId=DB, tableId="p", queries=[q("equal", "owner", ["c1"])])
    assert ids(found["rows"]) == ["p1"]


@pytest.mark.parametrize(("kind", "key", "back"), [("manyToMany", "friends", "friendOf"), ("oneToMany", "kids", "up")])
def test_cascade_through_a_cycle_terminates(call, db, kind, key, back):
    """Two rows that cascade to each other are both deleted; the cycle does not recurse forever."""
    make_table(call, "n")
    relate(call, "n", "n", kind, key=key, twoWay=True, twoWayKey=back, onDelete="cascade")
    put(call, "n", "x")
    put(call, "n", "y", {key: ["x"]})
    patch(call, "n", "x", {key: ["y"]})
    put(call, "n", "z")
    remove(call, "n", "x")
    assert not exists(call, "n", "x")
    assert not exists(call, "n", "y")
    assert exists(call, "n", "z")


def test_delete_database_with_relationships(call, pair):
    linked(call, "manyToMany")
    put(call, "c", "c1")
    put(call, "p", "p1", {"rel": ["c1"]})
    call("tablesDB.delete", databaseId=DB)
    call("tablesDB.create", databaseId=DB, name="again")
    make_table(call, "p")
    make_table(call, "c")
    linked(call, "manyToMany")
    put(call, "p", "p1")
    assert get(call, "p", "p1", ["*", "rel.*"])["rel"] == []
