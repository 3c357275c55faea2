"""The state of one project in this process: its database, encryption key, schema and list caches,
and the batches its row writes are committed in."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .batching import WriteBatches
from .cache import ListCache
from .dialects import Dialect
from .encryption import Cipher
from .query_sql import register_functions
from .schema import Table, require_table, schema_epoch
from .storage import ProjectDB, project_path


class Project:
    def __init__(self, data_dir: Path, project_id: str, list_cache_ttl: float) -> None:
        path = project_path(data_dir, project_id)
        self.id = project_id
        self.db = ProjectDB(path)
        register_functions(self.db.connection)
        self.cipher = Cipher(path.parent / "encryption.key")
        self.cache = ListCache(list_cache_ttl)
        self.tables: dict[tuple[str, str], Table] = {}
        self.seen_version = self.db.data_version()
        self.seen_epoch = schema_epoch(self.db.connection)
        self.writes = WriteBatches(self.db, self.refresh)

    @property
    def connection(self) -> sqlite3.Connection:
        return self.db.connection

    def refresh(self) -> None:
        """Forget cached schemas and lists when another process has changed the database."""
        version = self.db.data_version()
        if version == self.seen_version:
            return
        self.seen_version = version
        self.cache.clear()
        epoch = schema_epoch(self.connection)
        if epoch != self.seen_epoch:
            self.seen_epoch = epoch
            self.tables.clear()

    def table(self, database_id: str, table_id: str, dialect: Dialect) -> Table:
        """The table with its columns and indexes, from the cache when the schema has not changed."""
        key = (database_id, table_id)
        table = self.tables.get(key)
        if table is None:
            table = require_table(self.connection, database_id, table_id, dialect)
            self.tables[key] = table
        return table

    def schema_changed(self) -> None:
        """Called after a schema change made here: drop cached schemas and lists."""
        self.tables.clear()
        self.cache.clear()
        self.seen_epoch = schema_epoch(self.connection)

    def close(self) -> None:
        self.db.close()
