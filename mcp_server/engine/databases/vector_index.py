"""vectorsDB's hnsw_* indexes: an HNSW graph (usearch) per index, a cache of the vectors SQLite holds.

SQLite stays the source of truth. Each index has a change log (`vlog_<k>`, schema.py) that triggers fill in the
writing transaction, so a rolled-back write leaves no trace and every process sees the changes another one
committed. A process keeps each graph in memory with the last change it applied, and before a search applies the
changes since (a graph is never used inside a write transaction, whose changes could still roll back). Graphs are
saved beside the project database (`vectors/`) after a build and after enough changes, so another process loads
one rather than building it; a saved graph that does not match the database (an index recreated, a database
restored) is rebuilt from SQLite. A search loads a saved graph and applies a few hundred changes itself; building
(minutes at 100,000 vectors, longer than a query may take), larger catch-ups and saving run on the index's own
thread, on a connection of its own, and searches are exact until it is done.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy
from usearch.index import Index as Graph

from .schema import Index, Table

# The usearch metric of each index type, and the vector query each one answers.
METRICS = {"hnsw_euclidean": "l2sq", "hnsw_dot": "ip", "hnsw_cosine": "cos"}
QUERIES = {"vectorEuclidean": "hnsw_euclidean", "vectorDot": "hnsw_dot", "vectorCosine": "hnsw_cosine"}
# Graph shape: neighbours per node, and the candidate lists kept while adding and searching.
CONNECTIVITY = 16
EXPANSION_ADD = 128
EXPANSION_SEARCH = 512
# Rows read (and vectors added) per batch while building.
BATCH_ROWS = 4096
# A graph is saved again once this share of its size (and at least SAVE_MIN) changed since it was saved.
SAVE_SHARE = 0.02
SAVE_MIN = 500
# With more changes to apply than this share of the graph, rebuilding is quicker.
REBUILD_SHARE = 0.5
# Changes a search applies itself: with more (or a graph to build or save) the index's own thread does the work,
# and searches are exact meanwhile (a query has a time limit; adding thousands of vectors can outlast it).
INLINE_CHANGES = 256
# How long a search waits for a graph its own thread is using before it scans instead.
LOCK_WAIT = 0.05

_graphs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_graphs_lock = threading.Lock()


@dataclass
class Cached:
    """One index's graph in this process: the last change applied, and how many since it was saved."""

    created: str
    dimension: int
    graph: Graph | None = None
    change: int = 0
    unsaved: int = 0
    building: bool = False
    # Whether the graph is known to hold a vector per document (one loaded from a file is checked once).
    checked: bool = False
    lock: threading.Lock = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        self.lock = threading.Lock()


def vector_index(table: Table, method: str, attribute: str) -> Index | None:
    """The hnsw_* index that answers a vector query on an attribute, if the collection has one."""
    wanted = QUERIES[method]
    return next((index for index in table.indexes if index.type == wanted and index.columns == [attribute]), None)


def searchable(project, table: Table, index: Index) -> tuple[Graph, threading.Lock] | None:
    """The index's graph brought up to the snapshot being read, with the lock to hold while searching it; None
    inside a write transaction, for an index made before indexes kept a change log, and while the index's own
    thread builds, brings up to date or saves its graph."""
    connection = project.connection
    if connection is project.db.connection and connection.in_transaction:
        return None
    logged = connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [index.sql_name])
    if logged.fetchone() is None:
        return None
    dimension = table.column(index.columns[0]).spec["size"]  # an empty collection may change it
    with _graphs_lock:
        entries = _graphs.setdefault(project, {})
        cached = entries.get(index.seq)
        if cached is None or (cached.created, cached.dimension) != (index.created, dimension):
            cached = entries[index.seq] = Cached(index.created, dimension)
    if not cached.lock.acquire(timeout=LOCK_WAIT):
        return None
    try:
        if cached.building:
            return None
        vector_sql = table.column(index.columns[0]).sql_name
        if cached.graph is None:
            load(connection, folder(project.db.path), index, cached)
        if (
            cached.graph is not None
            and pending(connection, index, cached) <= INLINE_CHANGES
            and catch_up(connection, table, index, cached, vector_sql)
            and counted(connection, table, cached)
            and cached.unsaved < max(SAVE_MIN, SAVE_SHARE * len(cached.graph))
        ):
            return cached.graph, cached.lock
        cached.building = True
        arguments = (Path(project.db.path), table, index, cached, vector_sql)
        threading.Thread(target=refresh, args=arguments, name=f"hnsw-{index.seq}", daemon=True).start()
        return None
    finally:
        cached.lock.release()


def new_graph(index: Index, dimension: int) -> Graph:
    return Graph(
        ndim=dimension,
        metric=METRICS[index.type],
        dtype="f32",
        connectivity=CONNECTIVITY,
        expansion_add=EXPANSION_ADD,
        expansion_search=EXPANSION_SEARCH,
    )


def last_change(connection, index: Index) -> int:
    return connection.execute(f"SELECT COALESCE(MAX(change), 0) FROM {index.sql_name}").fetchone()[0]


def add_rows(graph: Graph, cursor) -> None:
    """Add the (_seq, float32 blob) rows of a cursor to a graph."""
    while batch := cursor.fetchmany(BATCH_ROWS):
        keys = numpy.fromiter((seq for seq, _ in batch), dtype=numpy.uint64, count=len(batch))
        matrix = numpy.frombuffer(b"".join(blob for _, blob in batch), dtype=numpy.float32).reshape(len(batch), -1)
        graph.add(keys, matrix)


def refresh(path: Path, table: Table, index: Index, cached: Cached, vector_sql: str) -> None:
    """On the index's own thread, from one snapshot of the database: load the saved graph or keep the one in
    memory, bring it up to date, build it again from every stored vector when that fails or is quicker, and save
    it when it changed enough. On failure (the collection deleted meanwhile) a later search starts again."""
    try:
        connection = sqlite3.connect(path, check_same_thread=False)
        try:
            connection.execute("BEGIN")
            with cached.lock:
                if cached.graph is None:
                    load(connection, folder(path), index, cached)
                built = (
                    cached.graph is None
                    or not catch_up(connection, table, index, cached, vector_sql)
                    or not counted(connection, table, cached)
                )
                if built:
                    cached.graph = None
                    change = last_change(connection, index)
                    graph = new_graph(index, cached.dimension)
                    rows = f"SELECT _seq, {vector_sql} FROM {table.sql_name} WHERE {vector_sql} IS NOT NULL"
                    add_rows(graph, connection.execute(rows))
                    cached.graph, cached.change, cached.checked = graph, change, True
                if built or cached.unsaved >= max(SAVE_MIN, SAVE_SHARE * len(cached.graph)):
                    save(connection, folder(path), index, cached)
        finally:
            connection.close()
    except (sqlite3.Error, OSError, RuntimeError, ValueError):
        pass
    finally:
        cached.building = False


def pending(connection, index: Index, cached: Cached) -> int:
    """How many changes the graph has yet to apply."""
    return connection.execute(f"SELECT COUNT(*) FROM {index.sql_name} WHERE change > ?", [cached.change]).fetchone()[0]


def catch_up(connection, table: Table, index: Index, cached: Cached, vector_sql: str) -> bool:
    """Apply the changes committed since the graph's position: each changed row's vector is removed, then the
    row's current vector (if it still has one) added. False when there are so many that a build is quicker."""
    changes = connection.execute(
        f"SELECT change, row FROM {index.sql_name} WHERE change > ? ORDER BY change", [cached.change]
    ).fetchall()
    if not changes:
        return True
    if len(changes) > REBUILD_SHARE * max(len(cached.graph), 1):
        return False
    graph = cached.graph
    for start in range(0, len(changes), BATCH_ROWS):
        seqs = numpy.asarray([row for _, row in changes[start : start + BATCH_ROWS]], dtype=numpy.uint64)
        present = seqs[graph.contains(seqs)]
        if len(present):
            graph.remove(present)
        add_rows(
            graph,
            connection.execute(
                f"SELECT _seq, {vector_sql} FROM {table.sql_name} "
                f"WHERE _seq IN (SELECT value FROM json_each(?)) AND {vector_sql} IS NOT NULL",
                [json.dumps(seqs.tolist())],
            ),
        )
    cached.change = max(cached.change, changes[-1][0])
    cached.unsaved += len(changes)
    return True


def folder(database: Path) -> Path:
    return Path(database).parent / "vectors"


def save(connection, directory: Path, index: Index, cached: Cached) -> None:
    """Write the graph and then the note naming it (each replaced atomically), and remove the files of older
    graphs and of indexes that no longer exist."""
    directory.mkdir(exist_ok=True)
    name = f"{index.seq}-{uuid.uuid4().hex}.usearch"
    cached.graph.save(str(directory / name))
    note = {"created": index.created, "change": cached.change, "file": name}
    temporary = directory / f".{name}.json"
    temporary.write_text(json.dumps(note), encoding="utf-8")
    os.replace(temporary, directory / f"{index.seq}.json")
    cached.unsaved = 0
    live = {
        str(seq)
        for (seq,) in connection.execute("SELECT seq FROM _indexes WHERE type IN (?, ?, ?)", list(METRICS)).fetchall()
    }
    for path in directory.iterdir():
        owner = path.name.split("-")[0].split(".")[0]
        if path.name.startswith(".") or path.name == name:
            continue
        if owner not in live or (path.suffix == ".usearch" and owner == str(index.seq)):
            path.unlink(missing_ok=True)


def load(connection, directory: Path, index: Index, cached: Cached) -> None:
    """Take the saved graph when it belongs to this index and the log has reached its position."""
    try:
        note = json.loads((directory / f"{index.seq}.json").read_text(encoding="utf-8"))
        if note["created"] != index.created or not isinstance(note["change"], int):
            return
        graph = Graph.restore(str(directory / note["file"]))
    except (OSError, ValueError, KeyError, TypeError, RuntimeError):
        return
    if graph is None or graph.ndim != cached.dimension or note["change"] > last_change(connection, index):
        return
    graph.expansion_add, graph.expansion_search = EXPANSION_ADD, EXPANSION_SEARCH  # a saved graph keeps neither
    cached.graph, cached.change, cached.unsaved, cached.checked = graph, note["change"], 0, False


def counted(connection, table: Table, cached: Cached) -> bool:
    """Whether the graph (caught up) holds a vector per document (the vector is required); a graph that does not
    is dropped."""
    if not cached.checked:
        cached.checked = connection.execute(f"SELECT COUNT(*) FROM {table.sql_name}").fetchone()[0] == len(cached.graph)
        if not cached.checked:
            cached.graph = None
    return cached.checked
