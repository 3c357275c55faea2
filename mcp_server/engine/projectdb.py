"""One SQLite database file per project: connection, pragmas, system tables, transactions.

The file is `<data dir>/<project>/project.sqlite3`, in WAL mode with full sync, so a committed write
survives a crash of the process or the machine; the folder and the file are private to their owner.
Every write runs inside `transaction()`, on the one write connection under `lock`: all of it commits
or none of it does; a nested `transaction()` is a savepoint that rolls back alone. A read runs inside
`reading()`, on a read connection of its own (readers.py) that sees one snapshot of the database from
its first statement to its end; `current()` is the connection the running code reads: the write
connection inside a transaction, else the read's.
User tables live beside the system tables under generated names (`rows_<n>`, `col_<n>`), so no text
from a request ever becomes part of SQL.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .datetimes import now_iso
from .private_files import prepare_database
from .process_lock import IN_USE, hold_shared
from .readers import Guard, Prepare, Readers

SCHEMA_VERSION = 1
_PROJECT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,35}")

SYSTEM_SCHEMA = """
CREATE TABLE IF NOT EXISTS _meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS _databases (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    type TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS _tables (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    database_id TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    row_security INTEGER NOT NULL,
    permissions TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    UNIQUE (database_id, id)
);
CREATE TABLE IF NOT EXISTS _columns (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    table_seq INTEGER NOT NULL,
    key TEXT NOT NULL,
    type TEXT NOT NULL,
    spec TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    UNIQUE (table_seq, key)
);
CREATE TABLE IF NOT EXISTS _indexes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    table_seq INTEGER NOT NULL,
    key TEXT NOT NULL,
    type TEXT NOT NULL,
    columns TEXT NOT NULL,
    orders TEXT NOT NULL,
    lengths TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    UNIQUE (table_seq, key)
);
CREATE TABLE IF NOT EXISTS _transactions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    owner TEXT,
    status TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    expires TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS _keys (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    expire TEXT,
    accessed TEXT,
    secret_hash TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS _transaction_operations (
    transaction_seq INTEGER NOT NULL,
    position INTEGER NOT NULL,
    operation TEXT NOT NULL,
    PRIMARY KEY (transaction_seq, position)
);
CREATE TABLE IF NOT EXISTS _users (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    email TEXT UNIQUE,
    phone TEXT UNIQUE,
    password TEXT,
    hash TEXT,
    hash_options TEXT NOT NULL DEFAULT '{}',
    password_update TEXT NOT NULL DEFAULT '',
    password_history TEXT NOT NULL DEFAULT '[]',
    registration TEXT NOT NULL,
    status INTEGER NOT NULL DEFAULT 1,
    labels TEXT NOT NULL DEFAULT '[]',
    prefs TEXT NOT NULL DEFAULT '{}',
    email_verification INTEGER NOT NULL DEFAULT 0,
    phone_verification INTEGER NOT NULL DEFAULT 0,
    mfa INTEGER NOT NULL DEFAULT 0,
    totp_secret TEXT,
    totp_verified INTEGER NOT NULL DEFAULT 0,
    recovery_codes TEXT,
    accessed TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
-- Users who may impersonate others (Appwrite 1.9's `impersonator` flag).
CREATE TABLE IF NOT EXISTS _impersonators (user_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS _sessions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    provider TEXT NOT NULL,
    provider_uid TEXT NOT NULL DEFAULT '',
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    factors TEXT NOT NULL DEFAULT '[]',
    mfa_updated TEXT NOT NULL DEFAULT '',
    expire TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS _sessions_user ON _sessions (user_id);
CREATE TABLE IF NOT EXISTS _tokens (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    phrase TEXT NOT NULL DEFAULT '',
    data TEXT NOT NULL DEFAULT '{}',
    expire TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS _tokens_user ON _tokens (user_id, kind);
CREATE TABLE IF NOT EXISTS _identities (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    provider_uid TEXT NOT NULL,
    provider_email TEXT NOT NULL DEFAULT '',
    access_token TEXT NOT NULL DEFAULT '',
    access_token_expiry TEXT NOT NULL DEFAULT '',
    refresh_token TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    UNIQUE (provider, provider_uid)
);
CREATE TABLE IF NOT EXISTS _targets (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    provider_id TEXT,
    provider_type TEXT NOT NULL,
    identifier TEXT NOT NULL,
    expired INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    UNIQUE (provider_type, identifier)
);
CREATE TABLE IF NOT EXISTS _events (
    seq INTEGER PRIMARY KEY,
    time INTEGER NOT NULL,
    label TEXT NOT NULL,
    user_id TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS _event_cursors (
    name TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS _teams (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    prefs TEXT NOT NULL DEFAULT '{}',
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS _memberships (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    team_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    roles TEXT NOT NULL DEFAULT '[]',
    invited TEXT NOT NULL,
    joined TEXT NOT NULL DEFAULT '',
    confirm INTEGER NOT NULL DEFAULT 0,
    secret_hash TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    UNIQUE (team_id, user_id)
);
CREATE INDEX IF NOT EXISTS _memberships_user ON _memberships (user_id);
CREATE TABLE IF NOT EXISTS _challenges (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    factor TEXT NOT NULL,
    code_hash TEXT NOT NULL DEFAULT '',
    expire TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS _logs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    event TEXT NOT NULL,
    mode TEXT NOT NULL,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    time TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS _logs_user ON _logs (user_id, seq);
CREATE TABLE IF NOT EXISTS _buckets (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    permissions TEXT NOT NULL,
    file_security INTEGER NOT NULL,
    enabled INTEGER NOT NULL,
    maximum_file_size INTEGER NOT NULL,
    allowed_file_extensions TEXT NOT NULL,
    compression TEXT NOT NULL,
    encryption INTEGER NOT NULL,
    antivirus INTEGER NOT NULL,
    transformations INTEGER NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS _files (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket_seq INTEGER NOT NULL REFERENCES _buckets (seq) ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    permissions TEXT NOT NULL,
    signature TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    size_original INTEGER NOT NULL,
    size_actual INTEGER NOT NULL,
    chunks_total INTEGER NOT NULL,
    chunks_uploaded INTEGER NOT NULL,
    compression TEXT NOT NULL,
    encryption INTEGER NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    UNIQUE (bucket_seq, id)
);
CREATE TABLE IF NOT EXISTS _file_tokens (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    file_seq INTEGER NOT NULL REFERENCES _files (seq) ON DELETE CASCADE,
    expire TEXT,
    accessed TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS _file_tokens_file ON _file_tokens (file_seq);
CREATE TABLE IF NOT EXISTS _platforms (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    key TEXT NOT NULL DEFAULT '',
    hostname TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS _variables (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    secret INTEGER NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS _webhooks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    tls INTEGER NOT NULL,
    auth_username TEXT NOT NULL,
    auth_password TEXT NOT NULL,
    secret TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    logs TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
-- Messaging providers (messaging/store.py): credentials sealed with the project's cipher, options as JSON.
CREATE TABLE IF NOT EXISTS _providers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    provider TEXT NOT NULL,
    type TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    credentials TEXT NOT NULL,
    options TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
-- What was done to a messaging resource (Appwrite's audit by resource, e.g. `provider/<id>`), messaging/logs.py.
CREATE TABLE IF NOT EXISTS _resource_logs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    resource TEXT NOT NULL,
    user_id TEXT NOT NULL,
    event TEXT NOT NULL,
    mode TEXT NOT NULL,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    time TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS _resource_logs_resource ON _resource_logs (resource, seq);
-- Who is online, one presence per user (Appwrite's presenceLogs), each with an expiry.
CREATE TABLE IF NOT EXISTS _presences (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL UNIQUE,
    status TEXT,
    source TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    permissions TEXT NOT NULL DEFAULT '[]',
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS _presences_expiry ON _presences (expires_at);
-- Proxy rules: which Host a request names decides whether it reaches the API, a function, a site or a redirect.
CREATE TABLE IF NOT EXISTS _rules (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    domain TEXT NOT NULL UNIQUE COLLATE NOCASE,
    body TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS _functions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS _deployments (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    function_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS _deployments_function ON _deployments (function_id);
CREATE TABLE IF NOT EXISTS _executions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    function_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS _executions_function ON _executions (function_id);
CREATE TABLE IF NOT EXISTS _function_schedules (
    function_id TEXT PRIMARY KEY,
    last_tick TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS _scheduled_executions (
    execution_id TEXT PRIMARY KEY,
    function_id TEXT NOT NULL,
    due TEXT NOT NULL,
    user_id TEXT NOT NULL,
    request TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS _scheduled_executions_due ON _scheduled_executions (due);
CREATE TABLE IF NOT EXISTS _function_variables (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    function_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    secret INTEGER NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    UNIQUE (function_id, key)
);
CREATE TABLE IF NOT EXISTS _sites (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS _site_deployments (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    site_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS _site_deployments_site ON _site_deployments (site_id);
-- A site's request logs (Appwrite keeps them as executions), the oldest pruned past a bound per site.
CREATE TABLE IF NOT EXISTS _site_logs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    site_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS _site_logs_site ON _site_logs (site_id);
CREATE TABLE IF NOT EXISTS _site_variables (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    site_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    secret INTEGER NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    UNIQUE (site_id, key)
);
-- Messaging: topics, the targets subscribed to them, messages (their recipients and content as JSON).
CREATE TABLE IF NOT EXISTS _topics (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    subscribe TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS _subscribers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    topic_id TEXT NOT NULL,
    target_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    provider_type TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    UNIQUE (topic_id, target_id)
);
CREATE TABLE IF NOT EXISTS _messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    provider_type TEXT NOT NULL,
    topics TEXT NOT NULL,
    users TEXT NOT NULL,
    targets TEXT NOT NULL,
    data TEXT NOT NULL,
    status TEXT NOT NULL,
    scheduled_at TEXT,
    delivered_at TEXT,
    delivery_errors TEXT NOT NULL DEFAULT '[]',
    delivered_total INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS _messages_status ON _messages (status, scheduled_at);
CREATE TABLE IF NOT EXISTS _mock_numbers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    number TEXT NOT NULL UNIQUE,
    otp TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
"""


# The SDKs' pings of the project (platform/ping.py), which its Project model shows (project/settings.py).
PING_COUNT = "ping_count"
PINGED_AT = "pinged_at"
# Set in `_meta` by the committed deletion of the project (project/deletion.py): nothing may use it any more.
TOMBSTONE = "project.deleted"


def read_setting(connection: sqlite3.Connection, key: str, default: Any = None) -> Any:
    """A project setting kept as JSON in `_meta`, or `default` when it was never set."""
    row = connection.execute("SELECT value FROM _meta WHERE key = ?", (key,)).fetchone()
    return json.loads(row[0]) if row else default


def write_setting(connection: sqlite3.Connection, key: str, value: Any) -> None:
    """Keep a project setting as JSON in `_meta` (inside the caller's transaction)."""
    connection.execute(
        "INSERT INTO _meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, json.dumps(value)),
    )


def tombstoned(connection: sqlite3.Connection) -> bool:
    """Whether the project's deletion has been committed."""
    return connection.execute("SELECT 1 FROM _meta WHERE key = ?", (TOMBSTONE,)).fetchone() is not None


def update_record(connection: sqlite3.Connection, table: str, seq: int, values: dict[str, object]) -> None:
    """Write `values` (stored column -> value) into record `seq` of the system table `table`. Its `updated`
    time changes only when a value does: as in Appwrite, an update that changes nothing leaves the record
    as it was."""
    current = connection.execute(f"SELECT {', '.join(values)} FROM {table} WHERE seq = ?", (seq,)).fetchone()
    if current is not None and tuple(current) == tuple(values.values()):
        return
    assignments = ", ".join(f"{column} = ?" for column in values)
    stamped = (*values.values(), now_iso(), seq)
    connection.execute(f"UPDATE {table} SET {assignments}, updated = ? WHERE seq = ?", stamped)


def bump_schema_epoch(connection: sqlite3.Connection) -> None:
    connection.execute(
        "INSERT INTO _meta (key, value) VALUES ('schema_epoch', '1') "
        "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
    )


def schema_epoch(connection: sqlite3.Connection) -> int:
    row = connection.execute("SELECT value FROM _meta WHERE key = 'schema_epoch'").fetchone()
    return int(row[0]) if row else 0


def project_path(data_dir: Path, project: str) -> Path:
    if not _PROJECT_ID.fullmatch(project):
        raise ValueError(f"invalid project id {project!r}: use up to 36 characters a-z A-Z 0-9 . - _")
    return Path(data_dir) / project / "project.sqlite3"


def use_wal(connection: sqlite3.Connection, patience: float = 30.0) -> None:
    """Switch a new connection's database to WAL. Two connections converting a new file at once can
    deadlock, and SQLite then answers one of them "database is locked" at once, without waiting:
    that one tries again until `patience` runs out."""
    deadline = time.monotonic() + patience
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class ProjectDB:
    """The SQLite database of one project, shared by the threads of one process.

    `prepare` runs on every connection it opens (to register SQL functions); `settled` runs after
    each outermost transaction ends, committed or not, still under the write lock. Open, it holds the
    project's in-use lock (process_lock.py), so that no restore replaces the project under it.
    """

    def __init__(self, path: Path, prepare: Prepare | None = None, settled: Callable[[], None] | None = None) -> None:
        self.in_use = hold_shared(path.parent / IN_USE)
        try:
            self.open(path, prepare, settled)
        except BaseException:
            self.let_go()
            raise

    def open(self, path: Path, prepare: Prepare | None, settled: Callable[[], None] | None) -> None:
        prepare_database(path)
        self.path = path
        self.settled = settled
        self.lock = threading.RLock()
        self.local = threading.local()
        self.closing = threading.Event()
        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self.connection.row_factory = sqlite3.Row
        use_wal(self.connection)
        self.connection.execute("PRAGMA synchronous=FULL")
        self.connection.execute("PRAGMA foreign_keys=ON")
        if prepare is not None:
            prepare(self.connection)
        self.guard = Guard(self.connection, self.closing)
        self.readers = Readers(path, prepare, self.closing)
        self.depth = 0
        with self.transaction():
            for statement in SYSTEM_SCHEMA.split(";"):
                if statement.strip():
                    self.connection.execute(statement)
            self.connection.execute(
                "INSERT OR IGNORE INTO _meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
            self.connection.execute("INSERT OR IGNORE INTO _meta (key, value) VALUES ('created', ?)", (now_iso(),))

    def current(self) -> sqlite3.Connection:
        """The connection this thread reads on: its read's, unless it is inside a write transaction."""
        return getattr(self.local, "reader", None) or self.connection

    @contextmanager
    def reading(self, limit: float | None = None) -> Iterator[sqlite3.Connection]:
        """A read on a connection of its own, seeing one snapshot throughout, stopped after `limit`
        seconds with database_timeout; a read inside a read goes on with the outer one's."""
        outer = getattr(self.local, "reader", None)
        if outer is not None:
            yield outer
            return
        with self.readers.lend(limit) as connection:
            connection.execute("BEGIN")
            self.local.reader = connection
            try:
                yield connection
            finally:
                self.local.reader = None
                if connection.in_transaction:
                    connection.execute("ROLLBACK")

    @contextmanager
    def bounded(self, limit: float | None) -> Iterator[None]:
        """A read on the write connection (under the lock: a read that must see a transaction's staged
        writes) bounded like any other."""
        with self.lock, self.guard.bounded(limit):
            yield

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the write lock; statements inside read the write connection, even within a read."""
        with self.lock:
            reader = getattr(self.local, "reader", None)
            self.local.reader = None
            try:
                yield
            finally:
                self.local.reader = reader

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All statements inside commit together or not at all; nested use makes a savepoint."""
        with self.writing():
            name = f"sp{self.depth}"
            self.connection.execute("BEGIN IMMEDIATE" if self.depth == 0 else f"SAVEPOINT {name}")
            self.depth += 1
            try:
                yield self.connection
            except BaseException:
                self.depth -= 1
                if self.depth == 0:
                    self.end("ROLLBACK")
                else:
                    self.connection.execute(f"ROLLBACK TO {name}")
                    self.connection.execute(f"RELEASE {name}")
                raise
            self.depth -= 1
            if self.depth:
                self.connection.execute(f"RELEASE {name}")
                return
            try:
                self.end("COMMIT")
            except BaseException:
                if self.connection.in_transaction:
                    self.end("ROLLBACK")
                raise

    @contextmanager
    def rolled_back(self) -> Iterator[sqlite3.Connection]:
        """Statements inside see their own changes, which are then undone (transaction previews)."""
        with self.writing():
            name = f"preview{self.depth}"
            outermost = self.depth == 0
            self.connection.execute("BEGIN IMMEDIATE" if outermost else f"SAVEPOINT {name}")
            self.depth += 1
            try:
                yield self.connection
            finally:
                self.depth -= 1
                if outermost:
                    self.end("ROLLBACK")
                else:
                    self.connection.execute(f"ROLLBACK TO {name}")
                    self.connection.execute(f"RELEASE {name}")

    def end(self, statement: str) -> None:
        """End the outermost transaction (COMMIT or ROLLBACK), then tell `settled`."""
        try:
            self.connection.execute(statement)
        finally:
            if self.settled is not None:
                self.settled()

    def data_version(self) -> int:
        """Changes when another connection (another process) commits to this file."""
        return self.connection.execute("PRAGMA data_version").fetchone()[0]

    def close(self) -> None:
        """Stop running reads at once, then close once the write under way (if any) is done, and give back the
        in-use lock."""
        self.readers.close()
        with self.lock:
            self.connection.close()
        self.let_go()

    def let_go(self) -> None:
        if self.in_use is not None:
            with contextlib.suppress(OSError):
                os.close(self.in_use)
            self.in_use = None
