"""The vocabularies of one database engine: tablesDB (tables, columns, rows), the legacy databases
API (collections, attributes, documents), documentsDB (schemaless collections of documents) and vectorsDB
(collections, attributes, documents; a vectorsDB collection has a fixed schema).

A collection is a table, an attribute is a column, a document is a row: handlers work with one
model and use the dialect of the operation for parameter names, response keys and error types.
A schemaless dialect's tables keep each row's fields as one JSON object (schema.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Dialect:
    service: str
    database_type: str
    table: str
    tables: str
    column: str
    columns: str
    row: str
    rows: str
    index_error: str
    table_id: str
    row_id: str
    related_table: str
    row_security: str
    table_key: str
    schemaless: bool = False
    # The database types the dialect's operations reach (Appwrite's getAllowedDatabaseTypes): tablesDB also
    # reaches legacy databases, the legacy API every type; another type's database is not found.
    database_types: tuple[str, ...] = ()
    # The event root of increment/decrement (Appwrite 1.9.6's documentsDB names them documentsdb.…).
    counter_event_root: str = "databases"

    def error(self, noun: str, suffix: str) -> str:
        """The error type for a noun of this dialect: error("row", "not_found") -> document_not_found."""
        word = {"table": self.table, "column": self.column, "row": self.row, "index": self.index_error}[noun]
        return f"{word}_{suffix}"

    def reaches(self, database_type: str) -> bool:
        return not self.database_types or database_type in self.database_types

    def title(self, noun: str) -> str:
        return {"table": self.table, "column": self.column, "row": self.row}[noun].capitalize()


TABLES_DB = Dialect(
    service="tablesDB",
    database_type="tablesdb",
    table="table",
    tables="tables",
    column="column",
    columns="columns",
    row="row",
    rows="rows",
    index_error="column_index",
    table_id="tableId",
    row_id="rowId",
    related_table="relatedTable",
    row_security="rowSecurity",
    table_key="$tableId",
    database_types=("tablesdb", "legacy"),
)
LEGACY = Dialect(
    service="databases",
    database_type="legacy",
    table="collection",
    tables="collections",
    column="attribute",
    columns="attributes",
    row="document",
    rows="documents",
    index_error="index",
    table_id="collectionId",
    row_id="documentId",
    related_table="relatedCollection",
    row_security="documentSecurity",
    table_key="$collectionId",
)
# documentsDB and vectorsDB speak the legacy API's vocabulary (collections, attributes, documents).
DOCUMENTS_DB = replace(
    LEGACY,
    service="documentsDB",
    database_type="documentsdb",
    schemaless=True,
    database_types=("documentsdb",),
    counter_event_root="documentsdb",
)
VECTORS_DB = replace(LEGACY, service="vectorsDB", database_type="vectorsdb", database_types=("vectorsdb",))
DIALECTS = {dialect.service: dialect for dialect in (TABLES_DB, LEGACY, DOCUMENTS_DB, VECTORS_DB)}
