"""The official Python SDK (appwrite 16.0.0) against `baas-mcp api`: every call goes over HTTP to a real server,
and every answer must parse into the SDK's models.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from appwrite.client import Client
from appwrite.enums.index_type import IndexType
from appwrite.enums.order_by import OrderBy
from appwrite.id import ID
from appwrite.models.column_boolean import ColumnBoolean
from appwrite.models.column_datetime import ColumnDatetime
from appwrite.models.column_email import ColumnEmail
from appwrite.models.column_enum import ColumnEnum
from appwrite.models.column_float import ColumnFloat
from appwrite.models.column_integer import ColumnInteger
from appwrite.models.column_string import ColumnString
from appwrite.permission import Permission
from appwrite.query import Query
from appwrite.role import Role
from appwrite.services.databases import Databases
from appwrite.services.health import Health
from appwrite.services.tables_db import TablesDB

from tests.rest.sdk_errors import raised

BIG = 9007199254740993  # 2**53 + 1: not a double, so it survives only if nothing parses it as one
PRODUCTS = [
    {
        "name": "Dune",
        "description": "a desert planet and its spice",
        "price": 9.5,
        "stock": 10,
        "active": True,
        "released": "2020-01-15T10:00:00.000+00:00",
        "category": "book",
        "contact": "dune@example.com",
        "tags": ["scifi", "classic"],
    },
    {
        "name": "Chess",
        "description": "a board game of kings and queens",
        "price": 30.0,
        "stock": 0,
        "active": False,
        "released": "2021-06-01T00:00:00.000+00:00",
        "category": "game",
        "contact": "chess@example.com",
        "tags": ["strategy"],
    },
    {
        "name": "Hammer",
        "description": "a heavy tool for nails",
        "price": 15.25,
        "stock": 5,
        "active": True,
        "released": None,
        "category": "tool",
        "contact": None,
        "tags": [],
    },
    {
        "name": "Neuromancer",
        "description": "cyberspace and a desert of the real",
        "price": 12.0,
        "stock": 3,
        "active": True,
        "released": "2019-03-03T12:30:00.000+00:00",
        "category": "book",
        "contact": "neuro@example.com",
        "tags": ["scifi", "cyberpunk"],
    },
    {
        "name": "Go",
        "description": "stones on a grid",
        "price": 25.0,
        "stock": 7,
        "active": False,
        "released": "2022-09-09T09:09:09.000+00:00",
        "category": "game",
        "contact": None,
        "tags": ["strategy", "classic"],
    },
]


def make_client(api, key: str | None = None, project: str = "default") -> Client:
    client = Client().set_endpoint(api.endpoint).set_project(project)
    chosen = api.key if key is None else key
    if chosen:
        client.set_key(chosen)
    return client


@dataclass
class Shop:
    """The module's database: a `products` table with one column of each kind, two indexes and five rows."""

    database_id: str
    table_id: str
    ids: dict[str, str] = field(default_factory=dict)  # product name -> row id
    columns: dict[str, object] = field(default_factory=dict)  # key -> the model createXColumn returned
    indexes: dict[str, object] = field(default_factory=dict)


@pytest.fixture(scope="module")
def tables(api) -> TablesDB:
    return TablesDB(make_client(api))


@pytest.fixture(scope="module")
def shop(tables) -> Shop:
    database = tables.create(ID.unique(), "Shop")
    table = tables.create_table(
        database.id,
        ID.unique(),
        "products",
        permissions=[Permission.read(Role.any()), Permission.create(Role.users())],
        row_security=True,
    )
    shop = Shop(database.id, table.id)
    db, t = shop.database_id, shop.table_id
    shop.columns = {
        "name": tables.create_string_column(db, t, "name", 100, True),
        "description": tables.create_string_column(db, t, "description", 500, False),
        "price": tables.create_float_column(db, t, "price", False, min=0, max=1000),
        "stock": tables.create_integer_column(db, t, "stock", False, default=0),
        "active": tables.create_boolean_column(db, t, "active", False, default=True),
        "released": tables.create_datetime_column(db, t, "released", False),
        "category": tables.create_enum_column(db, t, "category", ["book", "game", "tool"], False),
        "contact": tables.create_email_column(db, t, "contact", False),
        "tags": tables.create_string_column(db, t, "tags", 32, False, array=True),
        "serial": tables.create_integer_column(db, t, "serial", False),
    }
    shop.indexes = {
        "by_price": tables.create_index(db, t, "by_price", IndexType.KEY, ["price"], orders=[OrderBy.DESC]),
        "text": tables.create_index(db, t, "text", IndexType.FULLTEXT, ["description"]),
    }
    for product in PRODUCTS:
        row = tables.create_row(db, t, ID.unique(), product)
        shop.ids[product["name"]] = row.id
    return shop


def names(row_list) -> list[str]:
    return [row.data["name"] for row in row_list.rows]


# --- databases, tables, columns, indexes ------------------------------------------------------------------


def test_databases_get_and_list(tables, shop):
    database = tables.get(shop.database_id)
    assert (database.id, database.name, database.enabled) == (shop.database_id, "Shop", True)
    assert database.type.value == "tablesdb"
    listed = tables.list(queries=[Query.equal("name", ["Shop"])])
    assert [item.id for item in listed.databases] == [shop.database_id]
    assert listed.total == 1
    assert tables.list(search="Shop").total >= 1
    assert tables.list(queries=[Query.equal("name", ["No such database"])]).databases == []


def test_table_carries_its_permissions_row_security_columns_and_indexes(tables, shop):
    table = tables.get_table(shop.database_id, shop.table_id)
    assert table.name == "products"
    assert table.databaseid == shop.database_id
    assert table.rowsecurity is True
    assert sorted(table.permissions) == sorted(['read("any")', 'create("users")'])
    assert [column.key for column in table.columns] == list(shop.columns)
    assert sorted(index.key for index in table.indexes) == ["by_price", "text"]
    listed = tables.list_tables(shop.database_id)
    assert [item.id for item in listed.tables] == [shop.table_id]
    assert listed.total == 1


def test_created_columns_are_the_typed_models(shop):
    expected = {
        "name": ColumnString,
        "description": ColumnString,
        "price": ColumnFloat,
        "stock": ColumnInteger,
        "active": ColumnBoolean,
        "released": ColumnDatetime,
        "category": ColumnEnum,
        "contact": ColumnEmail,
        "tags": ColumnString,
        "serial": ColumnInteger,
    }
    assert {key: type(model) for key, model in shop.columns.items()} == expected
    assert shop.columns["name"].size == 100
    assert shop.columns["name"].required is True
    assert (shop.columns["price"].min, shop.columns["price"].max) == (0, 1000)
    assert shop.columns["stock"].default == 0
    assert shop.columns["active"].default is True
    assert shop.columns["category"].elements == ["book", "game", "tool"]
    assert shop.columns["contact"].format == "email"
    assert shop.columns["tags"].array is True
    assert all(model.status.value == "available" for model in shop.columns.values())


def test_columns_list_and_get(tables, shop):
    listed = tables.list_columns(shop.database_id, shop.table_id)
    assert listed.total == len(shop.columns)
    assert [column.key for column in listed.columns] == list(shop.columns)
    # getColumn answers one of several models; the SDK takes the first that parses, so check the fields.
    enum = tables.get_column(shop.database_id, shop.table_id, "category").to_dict()
    assert (enum["key"], enum["type"], enum["format"]) == ("category", "string", "enum")
    assert enum["elements"] == ["book", "game", "tool"]
    email = tables.get_column(shop.database_id, shop.table_id, "contact").to_dict()
    assert (email["type"], email["format"]) == ("string", "email")
    when = tables.get_column(shop.database_id, shop.table_id, "released").to_dict()
    assert when["type"] == "datetime"
    price = tables.get_column(shop.database_id, shop.table_id, "price").to_dict()
    assert (price["type"], price["min"], price["max"]) == ("double", 0, 1000)
    error = raised(tables.get_column, shop.database_id, shop.table_id, "missing")
    assert (error.code, error.type) == (404, "column_not_found")


def test_indexes_create_list_and_get(tables, shop):
    created = shop.indexes["by_price"]
    assert (created.key, created.type, created.columns) == ("by_price", "key", ["price"])
    assert [order.lower() for order in created.orders] == ["desc"]
    listed = tables.list_indexes(shop.database_id, shop.table_id)
    assert listed.total == 2
    assert sorted(index.key for index in listed.indexes) == ["by_price", "text"]
    fulltext = tables.get_index(shop.database_id, shop.table_id, "text")
    assert (fulltext.type, fulltext.columns, fulltext.status) == ("fulltext", ["description"], "available")
    error = raised(tables.get_index, shop.database_id, shop.table_id, "missing")
    assert (error.code, error.type) == (404, "column_index_not_found")


# --- rows ------------------------------------------------------------------------------------------------


def test_created_rows_parse_into_row_models(tables, shop):
    row = tables.get_row(shop.database_id, shop.table_id, shop.ids["Dune"])
    assert row.id == shop.ids["Dune"]
    assert (row.tableid, row.databaseid) == (shop.table_id, shop.database_id)
    assert row.sequence >= 1
    assert row.permissions == []
    assert row.createdat == row.updatedat
    data = row.data
    assert data["name"] == "Dune"
    assert data["price"] == 9.5
    assert data["stock"] == 10
    assert data["active"] is True
    assert data["released"] == "2020-01-15T10:00:00.000+00:00"
    assert data["category"] == "book"
    assert data["contact"] == "dune@example.com"
    assert data["tags"] == ["scifi", "classic"]
    assert data["serial"] is None
    ids = list(shop.ids.values())
    assert len(set(ids)) == len(PRODUCTS)
    assert all(len(row_id) == 20 for row_id in ids)


def test_column_defaults_fill_missing_values(tables, shop):
    row = tables.create_row(shop.database_id, shop.table_id, ID.unique(), {"name": "Defaults"})
    try:
        assert row.data["stock"] == 0
        assert row.data["active"] is True
        assert row.data["price"] is None
    finally:
        tables.delete_row(shop.database_id, shop.table_id, row.id)


QUERIES = [
    pytest.param([Query.equal("category", ["book"])], ["Dune", "Neuromancer"], id="equal"),
    pytest.param([Query.equal("category", ["tool", "game"])], ["Chess", "Hammer", "Go"], id="equal-any-of"),
    pytest.param([Query.not_equal("category", "book")], ["Chess", "Hammer", "Go"], id="not-equal"),
    pytest.param([Query.greater_than("price", 14)], ["Chess", "Hammer", "Go"], id="greater-than"),
    pytest.param([Query.less_than_equal("stock", 5)], ["Chess", "Hammer", "Neuromancer"], id="less-than-equal"),
    pytest.param([Query.between("price", 10, 25)], ["Hammer", "Neuromancer", "Go"], id="between"),
    pytest.param([Query.starts_with("name", "N")], ["Neuromancer"], id="starts-with"),
    pytest.param([Query.ends_with("name", "er")], ["Hammer", "Neuromancer"], id="ends-with"),
    pytest.param([Query.search("description", "desert")], ["Dune", "Neuromancer"], id="search"),
    pytest.param([Query.is_null("released")], ["Hammer"], id="is-null"),
    pytest.param([Query.is_not_null("contact")], ["Dune", "Chess", "Neuromancer"], id="is-not-null"),
    pytest.param([Query.contains("tags", ["classic"])], ["Dune", "Go"], id="contains-array"),
    pytest.param([Query.contains("description", "game")], ["Chess"], id="contains-substring"),
    pytest.param([Query.equal("active", [False])], ["Chess", "Go"], id="equal-boolean"),
    pytest.param(
        [Query.greater_than("released", "2020-06-01T00:00:00.000+00:00")], ["Chess", "Go"], id="datetime-compare"
    ),
    pytest.param(
        [Query.or_queries([Query.equal("name", ["Go"]), Query.less_than("price", 10)])], ["Dune", "Go"], id="or"
    ),
    pytest.param(
        [Query.and_queries([Query.equal("category", ["book"]), Query.greater_than("stock", 5)])], ["Dune"], id="and"
    ),
    pytest.param([Query.order_desc("price")], ["Chess", "Go", "Hammer", "Neuromancer", "Dune"], id="order-desc"),
    pytest.param(
        [Query.order_asc("category"), Query.order_desc("stock")],
        ["Dune", "Neuromancer", "Go", "Chess", "Hammer"],
        id="order-two-columns",
    ),
    pytest.param([Query.order_asc("price"), Query.limit(2)], ["Dune", "Neuromancer"], id="limit"),
    pytest.param([Query.order_asc("price"), Query.limit(2), Query.offset(3)], ["Go", "Chess"], id="offset"),
]


@pytest.mark.parametrize(("queries", "expected"), QUERIES)
def test_list_rows_with_query_helpers(tables, shop, queries, expected):
    # Rows made by other tests carry no category, so filtering on the five products is safe to do in any order.
    listed = tables.list_rows(shop.database_id, shop.table_id, [*queries, Query.is_not_null("category")])
    ordered = any(query.startswith('{"method":"order') for query in queries)
    found = names(listed)
    assert (found if ordered else sorted(found)) == (expected if ordered else sorted(expected))


def test_list_rows_counts_the_total_unless_told_not_to(tables, shop):
    queries = [Query.is_not_null("category"), Query.limit(2)]
    listed = tables.list_rows(shop.database_id, shop.table_id, queries)
    assert (len(listed.rows), listed.total) == (2, 5)
    uncounted = tables.list_rows(shop.database_id, shop.table_id, queries, total=False)
    assert (len(uncounted.rows), uncounted.total) == (2, 0)


def test_cursor_after_pages_through_the_rows(tables, shop):
    pages, cursor = [], None
    while True:
        queries = [Query.is_not_null("category"), Query.order_asc("price"), Query.limit(2)]
        if cursor:
            queries.append(Query.cursor_after(cursor))
        page = tables.list_rows(shop.database_id, shop.table_id, queries)
        if not page.rows:
            break
        pages.append(names(page))
        cursor = page.rows[-1].id
    assert pages == [["Dune", "Neuromancer"], ["Hammer", "Go"], ["Chess"]]
    before = tables.list_rows(
        shop.database_id,
        shop.table_id,
        [Query.is_not_null("category"), Query.order_asc("price"), Query.cursor_before(shop.ids["Hammer"])],
    )
    assert names(before) == ["Dune", "Neuromancer"]


def test_select_returns_only_the_chosen_columns(tables, shop):
    listed = tables.list_rows(
        shop.database_id, shop.table_id, [Query.equal("name", ["Go"]), Query.select(["name", "price"])]
    )
    [row] = listed.rows
    assert row.data == {"name": "Go", "price": 25.0}
    assert row.id == shop.ids["Go"]
    one = tables.get_row(shop.database_id, shop.table_id, shop.ids["Chess"], queries=[Query.select(["stock"])])
    assert one.data == {"stock": 0}


def test_update_row_changes_only_the_given_columns(tables, shop):
    db, t = shop.database_id, shop.table_id
    row = tables.create_row(db, t, ID.unique(), {"name": "Lamp", "price": 20, "stock": 1})
    try:
        updated = tables.update_row(db, t, row.id, {"price": 22.5})
        assert updated.data["price"] == 22.5
        assert updated.data["stock"] == 1
        assert updated.data["name"] == "Lamp"
        assert updated.updatedat >= row.updatedat
        assert tables.get_row(db, t, row.id).data["price"] == 22.5
        with_permissions = tables.update_row(db, t, row.id, permissions=[Permission.read(Role.guests())])
        assert with_permissions.permissions == ['read("guests")']
        assert with_permissions.data["price"] == 22.5
    finally:
        tables.delete_row(db, t, row.id)


def test_upsert_row_creates_then_replaces(tables, shop):
    db, t = shop.database_id, shop.table_id
    row_id = ID.unique()
    created = tables.upsert_row(db, t, row_id, {"name": "Kite", "stock": 2})
    try:
        assert (created.id, created.data["stock"]) == (row_id, 2)
        replaced = tables.upsert_row(db, t, row_id, {"name": "Kite", "stock": 4})
        assert (replaced.id, replaced.data["stock"]) == (row_id, 4)
        assert replaced.createdat == created.createdat
        assert tables.get_row(db, t, row_id).data["stock"] == 4
    finally:
        tables.delete_row(db, t, row_id)


def test_increment_and_decrement_a_column(tables, shop):
    db, t = shop.database_id, shop.table_id
    row = tables.create_row(db, t, ID.unique(), {"name": "Counter", "stock": 5})
    try:
        assert tables.increment_row_column(db, t, row.id, "stock", value=3).data["stock"] == 8
        assert tables.increment_row_column(db, t, row.id, "stock").data["stock"] == 9
        assert tables.decrement_row_column(db, t, row.id, "stock", value=4).data["stock"] == 5
        error = raised(tables.increment_row_column, db, t, row.id, "stock", value=10, max=10)
        assert error.code == 400
        assert tables.get_row(db, t, row.id).data["stock"] == 5
    finally:
        tables.delete_row(db, t, row.id)


def test_bulk_create_update_and_delete_rows(tables, shop):
    db, t = shop.database_id, shop.table_id
    created = tables.create_rows(
        db,
        t,
        [
            {"$id": ID.unique(), "name": "bulk-1", "stock": 1, "tags": ["bulk"]},
            {"$id": ID.unique(), "name": "bulk-2", "stock": 2, "tags": ["bulk"]},
            {"$id": ID.unique(), "name": "bulk-3", "stock": 3, "tags": ["bulk"]},
        ],
    )
    assert created.total == 3
    assert sorted(row.data["name"] for row in created.rows) == ["bulk-1", "bulk-2", "bulk-3"]
    in_bulk = [Query.contains("tags", ["bulk"])]
    updated = tables.update_rows(db, t, {"price": 1.5}, queries=[*in_bulk, Query.greater_than("stock", 1)])
    assert updated.total == 2
    prices = {row.data["name"]: row.data["price"] for row in tables.list_rows(db, t, in_bulk).rows}
    assert prices == {"bulk-1": None, "bulk-2": 1.5, "bulk-3": 1.5}
    deleted = tables.delete_rows(db, t, queries=in_bulk)
    assert deleted.total == 3
    assert tables.list_rows(db, t, in_bulk).total == 0


def test_upsert_rows_creates_and_updates_in_one_call(tables, shop):
    db, t = shop.database_id, shop.table_id
    existing = tables.create_row(db, t, ID.unique(), {"name": "up-1", "stock": 1, "tags": ["upsert"]})
    fresh = ID.unique()
    result = tables.upsert_rows(
        db,
        t,
        [
            {"$id": existing.id, "name": "up-1", "stock": 10, "tags": ["upsert"]},
            {"$id": fresh, "name": "up-2", "stock": 20, "tags": ["upsert"]},
        ],
    )
    assert result.total == 2
    stocks = {row.id: row.data["stock"] for row in tables.list_rows(db, t, [Query.contains("tags", ["upsert"])]).rows}
    assert stocks == {existing.id: 10, fresh: 20}
    tables.delete_rows(db, t, queries=[Query.contains("tags", ["upsert"])])


def test_delete_row_then_it_is_gone(tables, shop):
    db, t = shop.database_id, shop.table_id
    row = tables.create_row(db, t, ID.unique(), {"name": "Doomed"})
    assert tables.delete_row(db, t, row.id) == b""  # 204 No Content
    error = raised(tables.get_row, db, t, row.id)
    assert (error.code, error.type) == (404, "row_not_found")


def test_big_integers_round_trip_exactly(tables, shop):
    db, t = shop.database_id, shop.table_id
    row = tables.create_row(db, t, ID.unique(), {"name": "Big", "serial": BIG})
    try:
        assert row.data["serial"] == BIG
        assert tables.get_row(db, t, row.id).data["serial"] == BIG
        [found] = tables.list_rows(db, t, [Query.equal("serial", [BIG])]).rows
        assert found.id == row.id
        assert found.data["serial"] == BIG
        assert tables.list_rows(db, t, [Query.equal("serial", [BIG - 1])]).total == 0
    finally:
        tables.delete_row(db, t, row.id)


# --- transactions ----------------------------------------------------------------------------------------


def test_transaction_stages_rows_until_commit(tables, shop):
    db, t = shop.database_id, shop.table_id
    transaction = tables.create_transaction(ttl=120)
    assert transaction.status == "pending"
    row_id = ID.unique()
    tables.create_row(db, t, row_id, {"name": "Staged", "tags": ["txn"]}, transaction_id=transaction.id)
    error = raised(tables.get_row, db, t, row_id)
    assert error.type == "row_not_found"
    inside = tables.get_row(db, t, row_id, transaction_id=transaction.id)
    assert inside.data["name"] == "Staged"
    assert tables.get_transaction(transaction.id).operations == 1
    committed = tables.update_transaction(transaction.id, commit=True)
    assert committed.status == "committed"
    assert tables.get_row(db, t, row_id).data["name"] == "Staged"
    tables.delete_row(db, t, row_id)


def test_transaction_rollback_discards_the_staged_rows(tables, shop):
    db, t = shop.database_id, shop.table_id
    transaction = tables.create_transaction()
    row_id = ID.unique()
    tables.create_row(db, t, row_id, {"name": "Never"}, transaction_id=transaction.id)
    rolled_back = tables.update_transaction(transaction.id, rollback=True)
    assert rolled_back.status == "failed"  # Appwrite's status for a rolled-back transaction
    error = raised(tables.get_row, db, t, row_id)
    assert error.type == "row_not_found"


def test_transaction_operations_staged_in_one_call(tables, shop):
    db, t = shop.database_id, shop.table_id
    transaction = tables.create_transaction()
    first, second = ID.unique(), ID.unique()
    staged = tables.create_operations(
        transaction.id,
        [
            {"action": "create", "databaseId": db, "tableId": t, "rowId": first, "data": {"name": "op-1"}},
            {"action": "create", "databaseId": db, "tableId": t, "rowId": second, "data": {"name": "op-2"}},
            {"action": "update", "databaseId": db, "tableId": t, "rowId": first, "data": {"stock": 9}},
        ],
    )
    assert staged.operations == 3
    assert tables.list_rows(db, t, [Query.starts_with("name", "op-")]).total == 0
    assert tables.update_transaction(transaction.id, commit=True).status == "committed"
    rows = {
        row.data["name"]: row.data["stock"] for row in tables.list_rows(db, t, [Query.starts_with("name", "op-")]).rows
    }
    assert rows == {"op-1": 9, "op-2": 0}
    tables.delete_rows(db, t, queries=[Query.starts_with("name", "op-")])


# --- deleting tables and databases ---------------------------------------------------------------------


def test_delete_table_and_database(tables):
    database = tables.create(ID.unique(), "Scratch")
    table = tables.create_table(database.id, ID.unique(), "scratch")
    tables.create_string_column(database.id, table.id, "title", 50, False)
    tables.create_row(database.id, table.id, ID.unique(), {"title": "x"})
    tables.delete_table(database.id, table.id)
    error = raised(tables.get_table, database.id, table.id)
    assert (error.code, error.type) == (404, "table_not_found")
    error = raised(tables.list_rows, database.id, table.id)
    assert (error.code, error.type) == (404, "table_not_found")
    tables.delete(database.id)
    error = raised(tables.get, database.id)
    assert (error.code, error.type) == (404, "database_not_found")
    assert database.id not in [item.id for item in tables.list().databases]


# --- the legacy Databases service ------------------------------------------------------------------------


def test_legacy_databases_service_collections_attributes_documents(api):
    databases = Databases(make_client(api))
    database = databases.create(ID.unique(), "Legacy")
    collection = databases.create_collection(
        database.id, ID.unique(), "notes", permissions=[Permission.read(Role.any())], document_security=False
    )
    assert collection.documentsecurity is False
    assert collection.permissions == ['read("any")']
    attribute = databases.create_string_attribute(database.id, collection.id, "title", 64, True)
    assert (attribute.key, attribute.type, attribute.size) == ("title", "string", 64)
    databases.create_integer_attribute(database.id, collection.id, "rank", False)
    document = databases.create_document(database.id, collection.id, ID.unique(), {"title": "first", "rank": 1})
    assert (document.collectionid, document.databaseid) == (collection.id, database.id)
    assert document.data["title"] == "first"
    databases.create_document(database.id, collection.id, ID.unique(), {"title": "second", "rank": 2})
    listed = databases.list_documents(database.id, collection.id, [Query.greater_than("rank", 1)])
    assert [item.data["title"] for item in listed.documents] == ["second"]
    assert databases.get_document(database.id, collection.id, document.id).data["rank"] == 1
    assert [item.key for item in databases.list_attributes(database.id, collection.id).attributes] == ["title", "rank"]
    error = raised(databases.get_document, database.id, collection.id, "missing")
    assert (error.code, error.type) == (404, "document_not_found")
    # The same data through the tables API.
    tables = TablesDB(make_client(api))
    assert tables.get_table(database.id, collection.id).name == "notes"
    databases.delete(database.id)


# --- health ----------------------------------------------------------------------------------------------


def test_health(api):
    health = Health(make_client(api))
    status = health.get()
    assert status.status.value == "pass"
    assert status.ping >= 0
    database = health.get_db()
    assert database.statuses
    assert all(item.status.value == "pass" for item in database.statuses)
    queue = health.get_queue_webhooks()
    assert queue.size == 0


# --- errors ----------------------------------------------------------------------------------------------


def test_missing_row(tables, shop):
    error = raised(tables.get_row, shop.database_id, shop.table_id, "no-such-row")
    assert (error.code, error.type) == (404, "row_not_found")
    assert "no-such-row" in error.message


def test_missing_table_and_database(tables, shop):
    error = raised(tables.list_rows, shop.database_id, "no-such-table")
    assert (error.code, error.type) == (404, "table_not_found")
    error = raised(tables.list_rows, "no-such-database", shop.table_id)
    assert (error.code, error.type) == (404, "database_not_found")


def test_duplicate_ids(tables, shop):
    error = raised(tables.create_row, shop.database_id, shop.table_id, shop.ids["Dune"], {"name": "Again"})
    assert (error.code, error.type) == (409, "row_already_exists")
    assert tables.get_row(shop.database_id, shop.table_id, shop.ids["Dune"]).data["name"] == "Dune"
    error = raised(tables.create, shop.database_id, "Again")
    assert (error.code, error.type) == (409, "database_already_exists")
    error = raised(tables.create_table, shop.database_id, shop.table_id, "Again")
    assert (error.code, error.type) == (409, "table_already_exists")
    error = raised(tables.create_integer_column, shop.database_id, shop.table_id, "stock", False)
    assert (error.code, error.type) == (409, "column_already_exists")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"stock": 1}, id="required-missing"),
        pytest.param({"name": "X", "stock": "many"}, id="wrong-type"),
        pytest.param({"name": "X", "unknown": 1}, id="unknown-column"),
        pytest.param({"name": "X", "category": "food"}, id="enum-outside"),
        pytest.param({"name": "X", "contact": "not an email"}, id="bad-email"),
        pytest.param({"name": "X", "price": 5000}, id="above-max"),
        pytest.param({"name": "X" * 101}, id="too-long"),
        pytest.param({"name": "X", "released": "yesterday"}, id="bad-datetime"),
    ],
)
def test_invalid_structure(tables, shop, data):
    before = tables.list_rows(shop.database_id, shop.table_id).total
    error = raised(tables.create_row, shop.database_id, shop.table_id, ID.unique(), data)
    assert (error.code, error.type) == (400, "row_invalid_structure")
    assert tables.list_rows(shop.database_id, shop.table_id).total == before


def test_query_on_an_unknown_column(tables, shop):
    error = raised(tables.list_rows, shop.database_id, shop.table_id, [Query.equal("nope", ["x"])])
    assert error.code == 400
    assert error.type == "general_query_invalid"
    assert "nope" in error.message


def test_narrow_key_reads_rows_but_cannot_write_or_see_the_schema(api, shop):
    narrow = TablesDB(make_client(api, api.narrow_key))
    assert narrow.get_row(shop.database_id, shop.table_id, shop.ids["Go"]).data["name"] == "Go"
    error = raised(narrow.create_row, shop.database_id, shop.table_id, ID.unique(), {"name": "Nope"})
    assert (error.code, error.type) == (401, "general_unauthorized_scope")
    assert "rows.write" in error.message
    error = raised(narrow.list)
    assert (error.code, error.type) == (401, "general_unauthorized_scope")
    error = raised(narrow.create_table, shop.database_id, ID.unique(), "nope")
    assert (error.code, error.type) == (401, "general_unauthorized_scope")


def test_guest_sees_rows_of_a_table_anyone_may_read_but_cannot_create(api, shop, tables):
    guest = TablesDB(make_client(api, key=""))
    listed = guest.list_rows(shop.database_id, shop.table_id, [Query.is_not_null("category")])
    assert sorted(names(listed)) == sorted(product["name"] for product in PRODUCTS)
    before = tables.list_rows(shop.database_id, shop.table_id).total
    error = raised(guest.create_row, shop.database_id, shop.table_id, ID.unique(), {"name": "Guest"})
    assert (error.code, error.type) == (401, "user_unauthorized")
    assert tables.list_rows(shop.database_id, shop.table_id).total == before
    error = raised(guest.list)
    assert (error.code, error.type) == (401, "general_unauthorized_scope")


def test_guest_is_held_to_table_and_row_permissions(api, tables, shop):
    db = shop.database_id
    private = tables.create_table(db, ID.unique(), "private", permissions=[Permission.read(Role.users())])
    tables.create_string_column(db, private.id, "title", 50, False)
    hidden = tables.create_row(db, private.id, ID.unique(), {"title": "hidden"})
    guest = TablesDB(make_client(api, key=""))
    error = raised(guest.list_rows, db, private.id)
    assert (error.code, error.type) == (401, "user_unauthorized")
    # A row the caller may not read is not found, as in Appwrite.
    error = raised(guest.get_row, db, private.id, hidden.id)
    assert (error.code, error.type) == (404, "row_not_found")
    # Row security: one row opened to anyone is all a guest sees.
    secured = tables.create_table(db, ID.unique(), "secured", row_security=True)
    tables.create_string_column(db, secured.id, "title", 50, False)
    tables.create_row(db, secured.id, ID.unique(), {"title": "closed"})
    opened = tables.create_row(
        db, secured.id, ID.unique(), {"title": "open"}, permissions=[Permission.read(Role.any())]
    )
    listed = guest.list_rows(db, secured.id)
    assert [row.id for row in listed.rows] == [opened.id]
    assert listed.rows[0].permissions == ['read("any")']
    assert tables.list_rows(db, secured.id).total == 2


def test_wrong_key(api):
    error = raised(TablesDB(make_client(api, key="standard_nope_" + "0" * 64)).list)
    assert (error.code, error.type) == (401, "user_unauthorized")
    error = raised(TablesDB(make_client(api, key="not-a-key")).list)
    assert (error.code, error.type) == (401, "user_unauthorized")


def test_wrong_project(api):
    error = raised(TablesDB(make_client(api, project="no-such-project")).list)
    assert (error.code, error.type) == (404, "project_not_found")


def test_service_outside_the_engine_is_not_implemented(api):
    # The SDK has no vectorsDB service: its route, through the SDK's client.
    body, headers = {"texts": ["a sentence to embed"]}, {"content-type": "application/json"}
    error = raised(make_client(api).call, "post", "/vectorsdb/embeddings/text", headers, body)
    assert (error.code, error.type) == (405, "general_not_implemented")
    assert "vectorsDB.createTextEmbeddings" in error.message
