"""Every tablesDB and legacy databases operation runs through Engine.call in a realistic scenario."""

from __future__ import annotations

import pytest

from mcp_server.engine.databases.dialects import LEGACY, TABLES_DB
from mcp_server.engine.registry import HANDLERS
from tests.engine.conftest import q

SERVICES = ("tablesDB", "databases")


def operation_ids(catalog, service: str) -> set[str]:
    return {op.id for op in catalog.operations if op.service == service}


def test_every_database_operation_has_a_handler(catalog):
    ids = operation_ids(catalog, "tablesDB") | operation_ids(catalog, "databases")
    assert len(ids) == 142
    assert ids - set(HANDLERS) == set()


@pytest.mark.parametrize("dialect", [TABLES_DB, LEGACY], ids=["tablesDB", "databases"])
def test_every_operation_runs_through_call(engine, catalog, dialect):
    service, t, r, c = dialect.service, dialect.table_id, dialect.row_id, dialect.columns
    noun = dialect.column.capitalize()
    table, row = dialect.table.capitalize(), dialect.row.capitalize()
    done: set[str] = set()

    def run(method: str, **params):
        result = engine.call(f"{service}.{method}", params)
        done.add(f"{service}.{method}")
        return result

    db = {"databaseId": "shop"}
    run("create", databaseId="shop", name="Shop")
    run("list")
    run("get", **db)
    run("update", **db, name="Shop 2")
    run(f"create{table}", **db, **{t: "orders"}, name="Orders")
    run(f"create{table}", **db, **{t: "customers"}, name="Customers")
    run(f"list{table}s", **db)
    run(f"get{table}", **db, **{t: "orders"})
    run(f"update{table}", **db, **{t: "orders"}, name="All orders", permissions=['read("any")'])
    on = {**db, t: "orders"}
    kinds = {
        "BigInt": {},
        "Boolean": {},
        "Datetime": {},
        "Email": {},
        "Enum": {"elements": ["new", "paid"]},
        "Float": {},
        "Integer": {},
        "Ip": {},
        "Line": {},
        "Longtext": {},
        "Mediumtext": {},
        "Point": {},
        "Polygon": {},
        "String": {"size": 64},
        "Text": {},
        "Url": {},
        "Varchar": {"size": 64},
    }
    for kind, extra in kinds.items():
        run(f"create{kind}{noun}", **on, key=kind.lower(), required=False, **extra)
        update = {"required": False, **({"default": None} if kind not in ("Line", "Point", "Polygon") else {})}
        run(f"update{kind}{noun}", **on, key=kind.lower(), **update, **{k: v for k, v in extra.items() if k != "size"})
    related = "relatedTableId" if service == "tablesDB" else "relatedCollectionId"
    run(
        f"createRelationship{noun}",
        **on,
        **{related: "customers"},
        type="manyToOne",
        key="customer",
        twoWay=True,
        twoWayKey="orders",
    )
    run(f"updateRelationship{noun}", **on, key="customer", onDelete="setNull")
    run(f"list{c.capitalize()}", **on)
    run(f"get{noun}", **on, key="integer")
    run("createIndex", **on, key="by_integer", type="key", **{c: ["integer"]})
    run("listIndexes", **on)
    run("getIndex", **on, key="by_integer")
    run(f"create{row}", **db, **{t: "customers"}, **{r: "ada"}, data={})
    run(f"create{row}", **on, **{r: "o1"}, data={"integer": 1, "enum": "new", "customer": "ada"})
    run(f"get{row}", **on, **{r: "o1"})
    run(f"list{row}s", **on, queries=[q("equal", "enum", ["new"])])
    run(f"update{row}", **on, **{r: "o1"}, data={"enum": "paid"})
    run(f"upsert{row}", **on, **{r: "o2"}, data={"integer": 5})
    run(f"increment{row}{noun}", **on, **{r: "o1"}, **{dialect.column: "integer"}, value=2)
    run(f"decrement{row}{noun}", **on, **{r: "o1"}, **{dialect.column: "integer"}, value=1)
    run(f"delete{row}", **on, **{r: "o2"})
    tx = run("createTransaction", ttl=120)["$id"]
    run(
        "createOperations",
        transactionId=tx,
        operations=[{"action": "update", "databaseId": "shop", t: "orders", r: "o1", "data": {"integer": 9}}],
    )
    run("getTransaction", transactionId=tx)
    run("listTransactions")
    run("updateTransaction", transactionId=tx, commit=True)
    assert run(f"get{row}", **on, **{r: "o1"})["integer"] == 9
    run("deleteTransaction", transactionId=tx)
    bulk = {**db, t: "bulk"}
    run(f"create{table}", **bulk, name="Bulk", **{c: [{"key": "n", "type": "integer", "required": False}]})
    run(f"create{row}s", **bulk, **{dialect.rows: [{"$id": "b1", "n": 1}, {"$id": "b2", "n": 2}]})
    run(f"upsert{row}s", **bulk, **{dialect.rows: [{"$id": "b2", "n": 20}, {"$id": "b3", "n": 3}]})
    assert run(f"update{row}s", **bulk, data={"n": 7}, queries=[q("greaterThan", "n", [2])])["total"] == 2
    assert run(f"delete{row}s", **bulk, queries=[q("equal", "n", [7])])["total"] == 2
    run("deleteIndex", **on, key="by_integer")
    run(f"delete{noun}", **on, key="customer")
    run(f"delete{noun}", **on, key="text")
    run(f"delete{table}", **bulk)
    run("delete", **db)
    assert done == operation_ids(catalog, service)
