"""Databases: tablesDB and the legacy databases API over one model (dialects.py): databases and
tables (tables.py), columns (columns.py, column_types.py), indexes, rows (the handlers in rows.py,
the work in row_operations.py, a stored row in row_records.py), relationships, queries compiled to
SQL (query_sql.py), transactions, and the SQL objects behind them (schema.py)."""
