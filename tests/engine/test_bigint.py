"""BigInt columns (Appwrite 1.9): exact signed 64-bit whole numbers, through tablesDB and the legacy API."""

from __future__ import annotations

import pytest

from tests.engine.conftest import error_of, q

DB = {"databaseId": "ledger"}
T = {**DB, "tableId": "entries"}
BIG = 2**63 - 1


@pytest.fixture
def ledger(call):
    call("tablesDB.create", databaseId="ledger", name="Ledger")
    call("tablesDB.createTable", **T, name="Entries")
    return call


def test_a_bigint_column_holds_every_signed_64_bit_number_exactly(ledger):
    column = ledger("tablesDB.createBigIntColumn", **T, key="cents", required=False)
    assert (column["key"], column["type"], column["min"], column["max"]) == ("cents", "bigint", -(2**63), BIG)
    for row_id, value in (("top", BIG), ("bottom", -(2**63)), ("near", BIG - 1)):
        assert ledger("tablesDB.createRow", **T, rowId=row_id, data={"cents": value})["cents"] == value
    found = ledger("tablesDB.listRows", **T, queries=[q("greaterThan", "cents", [BIG - 2])])
    assert sorted(row["$id"] for row in found["rows"]) == ["near", "top"]
    assert ledger("tablesDB.incrementRowColumn", **T, rowId="near", column="cents")["cents"] == BIG


def test_bigint_bounds_defaults_and_the_legacy_attribute(ledger):
    ledger("tablesDB.createBigIntColumn", **T, key="score", required=False, min=-5, max=10**15, default=7)
    assert ledger("tablesDB.createRow", **T, rowId="r", data={})["score"] == 7
    too_big = error_of(ledger, "tablesDB.createRow", **T, rowId="x", data={"score": 10**15 + 1})
    assert too_big.type == "row_invalid_structure"
    updated = ledger("tablesDB.updateBigIntColumn", **T, key="score", required=False, min=0, max=BIG, default=None)
    assert (updated["min"], updated["max"], updated["default"]) == (0, BIG, None)
    legacy = ledger("databases.createBigIntAttribute", **DB, collectionId="entries", key="views", required=False)
    assert legacy["type"] == "bigint"
    assert ledger("databases.getAttribute", **DB, collectionId="entries", key="views")["type"] == "bigint"
