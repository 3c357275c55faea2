"""Databases: tablesDB and the legacy databases API over one model (dialects.py): databases and
tables (tables.py), columns (columns.py, column_types.py), indexes, rows, relationships, queries
compiled to SQL (query_sql.py), transactions, and the SQL objects behind them (schema.py)."""
