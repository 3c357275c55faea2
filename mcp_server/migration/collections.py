"""documentsDB and vectorsDB databases: each database, its collections (a vectorsDB collection with its dimension)
and their indexes, waited for until `available`, then their documents, copied as rows are (rows.py): in pages,
keeping `$id`, `$permissions` and timestamps. A documentsDB document is schemaless JSON; a vectorsDB document holds
its `embeddings` and `metadata`. A server without one of these services (an Appwrite older than 1.9) is passed by.
"""

from __future__ import annotations

import anyio

from ..engine.errors import AppwriteError
from .context import Migration, checksum, pick, sync_model
from .endpoint import Endpoint, MigrationFailure, creation_params
from .report import CREATE, FAILED, SKIP
from .rows import Records, copy_records
from .rows import snapshot as documents_snapshot

SERVICES = ("documentsDB", "vectorsDB")
# What a server that lacks the service answers its list of databases.
NO_SERVICE = (404, 501)
DATABASE_FIELDS = ("$id", "name", "enabled")
COLLECTION_FIELDS = ("$id", "name", "$permissions", "documentSecurity", "enabled", "dimension")
# A collection's parameters that are not its settings: its indexes are made one by one afterwards.
MADE_LATER = ("attributes", "indexes")
# What an index model says of its build, not of its definition.
BUILD_FIELDS = {"$id", "$createdAt", "$updatedAt", "status", "error"}
WAIT_S = 120.0
POLL_S = 0.2


def documents(service: str) -> Records:
    return Records(service, "collectionId", "Document")


async def databases_of(endpoint: Endpoint, service: str) -> list[dict]:
    """The service's databases (none when the server lacks the service)."""
    try:
        return await endpoint.all(f"{service}.list", {}, "databases", f"{service} databases")
    except MigrationFailure as failure:
        if failure.error.code in NO_SERVICE:
            return []
        raise


async def collections_of(endpoint: Endpoint, service: str, database: str) -> list[dict]:
    return await endpoint.all(
        f"{service}.listCollections", {"databaseId": database}, "collections", f"{service} database {database}"
    )


async def migrate_collections(m: Migration) -> None:
    """Every documentsDB and vectorsDB database with its collections, indexes and documents."""
    for service in SERVICES:
        moved = []
        for database in await databases_of(m.source, service):
            moved += await move_database(m, service, database)
        await m.each(moved, lambda ids, service=service: copy_records(m, documents(service), *ids, set()))


async def move_database(m: Migration, service: str, database: dict) -> list[tuple[str, str]]:
    """The database and its collections with their indexes; the collections as (databaseId, collectionId)."""
    name = f"{service} database {database['$id']}"
    ops = (f"{service}.get", f"{service}.create", f"{service}.update")
    await sync_model(m, f"{service} databases", name, database, {"databaseId": database["$id"]}, ops)
    moved = []
    for collection in await collections_of(m.source, service, database["$id"]):
        ids = {"databaseId": database["$id"], "collectionId": collection["$id"]}
        label = f"{service} collection {database['$id']}/{collection['$id']}"
        ops = (f"{service}.getCollection", f"{service}.createCollection", f"{service}.updateCollection")
        await sync_model(m, f"{service} collections", label, collection, ids, ops, MADE_LATER)
        await m.guarded(move_indexes(m, service, ids, label))
        moved.append((database["$id"], collection["$id"]))
    return moved


async def move_indexes(m: Migration, service: str, ids: dict, name: str) -> None:
    """The collection's indexes the target lacks; one there with another definition is a failure to settle by hand.
    An index whose key starts with `_` is one the collection makes itself (vectorsDB's on `metadata`): an index key
    a user gives cannot start so."""
    resource = f"{service} indexes"
    listing = f"{service}.listIndexes"
    present = {index["key"]: index for index in await m.target.all(listing, ids, "indexes", name)}
    created = False
    for index in await m.source.all(listing, ids, "indexes", name):
        if index["key"].startswith("_"):
            continue
        label = f"{service} index {ids['databaseId']}/{ids['collectionId']}.{index['key']}"
        there = present.get(index["key"])
        if there is not None:
            same = definition(there) == definition(index)
            m.plan(resource, SKIP if same else FAILED)
            if not same:
                m.report.note(FAILED, label, "exists in the target with another definition; change it by hand")
        elif m.plan(resource, CREATE):
            create = m.target.operation(f"{service}.createIndex")
            params = creation_params(create, index, ids | {"key": index["key"]})
            if not any(params.get("lengths") or []):
                params.pop("lengths", None)  # listed as nulls: no length given
            await m.target.call(create.id, params, label)
            created = True
    if created:
        await wait_built(m.target, listing, ids, name)


def definition(index: dict) -> dict:
    return {key: value for key, value in index.items() if key not in BUILD_FIELDS}


async def wait_built(endpoint: Endpoint, listing: str, ids: dict, name: str) -> None:
    """Poll until every index of the collection is `available`; a failed one or the time limit is an error."""
    with anyio.move_on_after(WAIT_S):
        while True:
            indexes = await endpoint.all(listing, ids, "indexes", name)
            failed = [index for index in indexes if index.get("status") == "failed"]
            if failed:
                reason = f"{failed[0]['key']} failed to build: {failed[0].get('error') or 'no reason given'}"
                raise MigrationFailure(f"target {name} indexes", listing, AppwriteError("general_server_error", reason))
            if all(index.get("status", "available") == "available" for index in indexes):
                return
            await anyio.sleep(POLL_S)
    raise MigrationFailure(
        f"target {name} indexes", listing, AppwriteError("general_server_error", f"not available after {WAIT_S:g} s")
    )


async def snapshot(endpoint: Endpoint) -> dict[str, tuple[int, str]]:
    """{resource: (count, checksum)}: each database (its collections' settings), each collection (its indexes), and
    each collection's documents."""
    found = {}
    for service in SERVICES:
        every = []
        for database in await databases_of(endpoint, service):
            collections = await collections_of(endpoint, service, database["$id"])
            settings = [pick(collection, COLLECTION_FIELDS) for collection in collections]
            found[f"{service} database {database['$id']}"] = (
                len(collections),
                checksum([pick(database, DATABASE_FIELDS), *settings]),
            )
            for collection in collections:
                ids = {"databaseId": database["$id"], "collectionId": collection["$id"]}
                name = f"{service} collection {database['$id']}/{collection['$id']}"
                indexes = await endpoint.all(f"{service}.listIndexes", ids, "indexes", name)
                found[name] = (len(indexes), checksum(definition(index) for index in indexes))
                every.append((database["$id"], collection["$id"]))
        found |= await documents_snapshot(endpoint, every, documents(service))
    return found
