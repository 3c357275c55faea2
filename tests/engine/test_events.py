"""The event stream: Appwrite's event names, what each change announces (payload, roles, user), that
only committed changes are announced, durability, pruning, the in-process subscription and workers'
cursors. Every engine test checks the events of the calls it makes (event_audit.py); the last test
here checks that the engine tests walked every write operation."""

from __future__ import annotations

import asyncio
import json
import tempfile
import threading
import time
from pathlib import Path

import pyotp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_server.engine import Engine
from mcp_server.engine.errors import AppwriteError
from mcp_server.engine.event_names import event_names
from mcp_server.engine.event_stream import EventReader
from mcp_server.engine.events import Retention, read_after
from mcp_server.engine.identity.identities import session_auth
from mcp_server.engine.permissions import ADMIN, GUEST
from mcp_server.engine.registry import HANDLERS
from mcp_server.uploads import Upload
from tests.engine import event_audit
from tests.engine.conftest import error_of

DATA = Path(__file__).parent / "data"
ROW = {"databaseId": "shop", "tableId": "orders"}
# Write operations that Appwrite refuses without configuration (or data) the embedded engine never has.
# updateDeploymentStatus (functions, sites) cancels a build under way, and local builds end within the call that starts
# them: only a call made beside that one cancels (test_sites.py), and the audit does not judge calls made together.
ALWAYS_REFUSED = {
    "account.createOAuth2Token",
    "advisor.deleteReport",
    "functions.updateDeploymentStatus",
    "sites.updateDeploymentStatus",
}


def events(engine: Engine, after: int = 0, project: str = "default"):
    with engine.project(project).db.reading() as connection:
        return read_after(connection, after, 10_000, engine.project(project).cipher)


def last(engine: Engine) -> int:
    found = events(engine)
    return found[-1].seq if found else 0


def shop(call, row_security: bool = False) -> None:
    call("tablesDB.create", databaseId="shop", name="Shop")
    call(
        "tablesDB.createTable",
        **ROW,
        name="Orders",
        permissions=['read("any")', 'create("users")', 'update("users")'],
        rowSecurity=row_security,
    )
    call("tablesDB.createIntegerColumn", **ROW, key="total", required=False)


def test_event_names_are_those_appwrite_makes():
    """The names Appwrite 1.9.6's Event::generateEvents gives these labels and ids, in its order."""
    cases = json.loads((DATA / "appwrite_event_names.json").read_text())
    assert len(cases) == 15
    for case in cases:
        assert event_names(case["label"], case["ids"]) == case["names"], case["label"]


def test_a_row_event_carries_the_row_its_readers_and_the_user(engine, call):
    shop(call, row_security=True)
    call("users.create", userId="ada", email="ada@example.com", password="password123")
    ada = session_auth(
        engine.project().connection,
        call("account.createEmailPasswordSession", GUEST, email="ada@example.com", password="password123")["secret"],
    )
    before = last(engine)
    row = call("tablesDB.createRow", ada, **ROW, rowId="o1", data={"total": 5})
    [event] = events(engine, before)
    assert event.name == "databases.shop.tables.orders.rows.o1.create"
    assert {"databases.*.tables.*.rows.*.create", "databases.shop.collections.orders.documents.o1.create"} <= set(
        event.names
    )
    assert event.payload == row
    # The table's readers, and (row security) the row's: its creator may read it.
    assert set(event.roles) == {"any", "user:ada"}
    assert event.user_id == "ada"


def test_bulk_writes_announce_every_row(engine, call):
    shop(call)
    before = last(engine)
    call("tablesDB.createRows", **ROW, rows=[{"$id": f"o{n}", "total": n} for n in range(150)])
    call("tablesDB.updateRows", **ROW, data={"total": 1})
    call("tablesDB.deleteRows", **ROW)
    names = [event.name for event in events(engine, before)]
    assert len(names) == 450
    assert names[:2] == ["databases.shop.tables.orders.rows.o0.create", "databases.shop.tables.orders.rows.o1.create"]
    assert names[150] == "databases.shop.tables.orders.rows.o0.update"
    assert names[-1] == "databases.shop.tables.orders.rows.o149.delete"


def test_a_delete_announces_the_resource_as_it_was(engine, call):
    shop(call)
    row = call("tablesDB.createRow", **ROW, rowId="o1", data={"total": 5})
    before = last(engine)
    call("tablesDB.deleteRow", **ROW, rowId="o1")
    call("tablesDB.deleteColumn", **ROW, key="total")
    deleted, column = events(engine, before)
    assert deleted.name == "databases.shop.tables.orders.rows.o1.delete" and deleted.payload == row
    assert column.name == "databases.shop.tables.orders.columns.total.update"
    assert column.payload["key"] == "total"


def test_account_events_are_the_user_s(engine, call):
    created = call("account.create", GUEST, userId="bob", email="bob@example.com", password="password123")
    session = call("account.createEmailPasswordSession", GUEST, email="bob@example.com", password="password123")
    bob = session_auth(engine.project().connection, session["secret"])
    call("account.updateName", bob, name="Robert")
    user, signed_in, renamed = events(engine)
    assert user.name == "users.bob.create" and user.payload["$id"] == created["$id"]
    assert signed_in.name == "users.bob.sessions." + session["$id"] + ".create"
    assert "users.bob.update.name" in renamed.names and renamed.payload["name"] == "Robert"
    assert {event.roles for event in (user, signed_in, renamed)} == {("user:bob",)}
    assert renamed.user_id == "bob" and user.user_id == ""


def test_ended_sessions_are_announced_with_what_appwrite_sends(engine, call):
    call("users.create", userId="cy", email="cy@example.com", password="password123")
    first = call("users.createSession", userId="cy")
    call("users.createSession", userId="cy")
    before = last(engine)
    call("users.deleteSession", userId="cy", sessionId=first["$id"])
    call("users.deleteSessions", userId="cy")
    one, every = events(engine, before)
    assert one.name == f"users.cy.sessions.{first['$id']}.delete" and one.payload["$id"] == first["$id"]
    assert "users.cy.sessions.delete" in every.names and every.payload["$id"] == "cy"
    assert one.roles == every.roles == ("user:cy",)


def test_file_events_are_seen_by_the_bucket_s_readers(engine, call):
    call("storage.createBucket", bucketId="pics", name="Pics", permissions=['read("team:crew")'], fileSecurity=True)
    upload = Upload("cat.txt", "text/plain", b"meow")
    call("storage.createFile", bucketId="pics", fileId="cat", file=upload, permissions=['read("user:cy")'])
    [bucket, file] = events(engine)
    assert bucket.name == "buckets.pics.create" and bucket.roles == ()
    assert file.name == "buckets.pics.files.cat.create"
    assert set(file.roles) == {"team:crew", "user:cy"}


def test_a_chunked_upload_is_announced_once_all_of_it_is_in(engine, call):
    call("storage.createBucket", bucketId="big", name="Big")
    chunk = 5 * 1024 * 1024
    data = bytes(range(256)) * (2 * chunk // 256 + 40)
    pieces = [(0, chunk - 1), (chunk, 2 * chunk - 1), (2 * chunk, len(data) - 1)]
    # The last chunk is sent twice (a retry after the upload completed).
    for start, end in pieces + pieces[-1:]:
        upload = Upload("big.bin", "application/octet-stream", data[start : end + 1], (start, end, len(data)), "f1")
        call("storage.createFile", bucketId="big", fileId="f1", file=upload)
    names = [event.name for event in events(engine)]
    assert names == ["buckets.big.create", "buckets.big.files.f1.create"]


def test_a_failed_write_announces_nothing(engine, call):
    shop(call)
    before = last(engine)
    error_of(call, "tablesDB.createRow", **ROW, rowId="o1", data={"total": "not a number"})
    error_of(call, "tablesDB.createRows", **ROW, rows=[{"$id": "a", "total": 1}, {"$id": "a", "total": 2}])
    assert events(engine, before) == []
    assert call("tablesDB.listRows", **ROW)["total"] == 0


STEP = st.sampled_from(["create", "update", "increment", "delete"])


@settings(max_examples=30, deadline=None)
@given(steps=st.lists(STEP, min_size=1, max_size=12), commit=st.booleans())
def test_a_transaction_announces_its_rows_once_when_it_commits_and_never_when_it_rolls_back(steps, commit):
    with tempfile.TemporaryDirectory() as folder:
        engine = Engine(Path(folder), list_cache_ttl=0)
        try:

            def call(operation_id, **params):
                return engine.call(operation_id, params, ADMIN)

            shop(call)
            call("tablesDB.createRow", **ROW, rowId="kept", data={"total": 0})
            tx = call("tablesDB.createTransaction")["$id"]
            before = last(engine)
            expected, alive, made = [], {"kept"}, 0
            for step in steps:
                if step == "create" or not alive:
                    row_id = f"r{made}"
                    made += 1
                    call("tablesDB.createRow", **ROW, rowId=row_id, data={"total": 1}, transactionId=tx)
                    alive.add(row_id)
                    expected.append((row_id, "create"))
                    continue
                row_id = sorted(alive)[0]
                if step == "update":
                    call("tablesDB.updateRow", **ROW, rowId=row_id, data={"total": 2}, transactionId=tx)
                elif step == "increment":
                    call("tablesDB.incrementRowColumn", **ROW, rowId=row_id, column="total", transactionId=tx)
                else:
                    call("tablesDB.deleteRow", **ROW, rowId=row_id, transactionId=tx)
                    alive.discard(row_id)
                expected.append((row_id, "delete" if step == "delete" else "update"))
            assert events(engine, before) == []
            call("tablesDB.updateTransaction", transactionId=tx, commit=commit, rollback=not commit)
            announced = [(event.payload["$id"], event.name.rsplit(".", 1)[1]) for event in events(engine, before)]
            assert announced == (expected if commit else [])
        finally:
            engine.close()


def test_events_survive_a_restart_and_a_worker_resumes_where_it_stopped(tmp_path):
    engine = Engine(tmp_path)
    engine.call("teams.create", {"teamId": "crew", "name": "Crew"})
    engine.call("teams.updateName", {"teamId": "crew", "name": "Crew 2"})
    reader = EventReader(engine.project(), "webhooks")
    first, second = reader.pending()
    assert (first.name, second.name) == ("teams.crew.create", "teams.crew.update")
    reader.done(first.seq)
    engine.close()
    engine = Engine(tmp_path)
    try:
        reader = EventReader(engine.project(), "webhooks")
        assert [event.seq for event in reader.pending()] == [second.seq]
        reader.done(second.seq)
        assert reader.pending() == []
        reader.done(first.seq)
        assert reader.position() == second.seq
    finally:
        engine.close()


def test_old_events_are_pruned_but_not_those_a_worker_has_still_to_read(tmp_path):
    # Every event is old at once (max_age_days=0); a worker's cursor holds back the ones it has not read.
    engine = Engine(tmp_path, retention=Retention(max_age_days=0, max_count=1000, prune_every=5))
    try:
        reader = EventReader(engine.project(), "worker")
        engine.call("teams.create", {"teamId": "t0", "name": "T"})
        reader.done(events(engine)[0].seq)
        for n in range(1, 10):
            engine.call("teams.create", {"teamId": f"t{n}", "name": "T"})
        assert [event.name for event in events(engine)] == [f"teams.t{n}.create" for n in range(1, 10)]
        assert reader.missed() == 0
    finally:
        engine.close()
    # The count limit holds whatever the workers have read: this worker is told what it missed.
    engine = Engine(tmp_path, retention=Retention(max_count=3, prune_every=1))
    try:
        engine.call("teams.create", {"teamId": "last", "name": "T"})
        assert [event.name for event in events(engine)] == ["teams.t8.create", "teams.t9.create", "teams.last.create"]
        assert EventReader(engine.project(), "worker").missed() == 7
    finally:
        engine.close()


def test_a_subscriber_hears_committed_events_of_this_process_and_of_others(tmp_path):
    engine, other = Engine(tmp_path), Engine(tmp_path)
    engine.call("teams.create", {"teamId": "before", "name": "T"})

    async def follow() -> list[str]:
        heard = []
        stream = engine.project().events.subscribe(["teams.*.create"], poll=0.1)
        async for event in stream:
            heard.append(event.name)
            if len(heard) == 2:
                await stream.aclose()
                return heard
        return heard

    def write() -> None:
        time.sleep(0.3)
        engine.call("teams.create", {"teamId": "here", "name": "T"})
        engine.call("teams.updateName", {"teamId": "here", "name": "T2"})
        other.call("teams.create", {"teamId": "there", "name": "T"})

    writer = threading.Thread(target=write)
    writer.start()
    try:
        heard = asyncio.run(asyncio.wait_for(follow(), 10))
    finally:
        writer.join()
        engine.close()
        other.close()
    assert heard == ["teams.here.create", "teams.there.create"]


def test_mfa_operations_announce_their_events(engine, call):
    """The MFA operations under both of their names (the engine tests mostly use one)."""
    call("account.create", GUEST, userId="ada", email="ada@example.com", password="password123")
    session = call("account.createEmailPasswordSession", GUEST, email="ada@example.com", password="password123")
    ada = session_auth(engine.project().connection, session["secret"])
    secret = call("account.createMfaAuthenticator", ada, type="totp")["secret"]
    call("account.updateMfaAuthenticator", ada, type="totp", otp=pyotp.TOTP(secret).now())
    call("account.createMfaRecoveryCodes", ada)
    challenge = call("account.createMfaChallenge", ada, factor="totp")
    call("account.updateMfaChallenge", ada, challengeId=challenge["$id"], otp=pyotp.TOTP(secret).now())
    call("account.updateMFARecoveryCodes", ada)
    call("account.deleteMFAAuthenticator", ada, type="totp")
    secret = call("account.createMfaAuthenticator", ada, type="totp")["secret"]
    call("account.updateMfaAuthenticator", ada, type="totp", otp=pyotp.TOTP(secret).now())
    call("users.deleteMFAAuthenticator", userId="ada", type="totp")
    call("users.create", userId="bob")
    call("users.createMfaRecoveryCodes", userId="bob")
    call("users.updateMFARecoveryCodes", userId="bob")
    refused = error_of(call, "account.createOAuth2Token", GUEST, provider="github")
    assert isinstance(refused, AppwriteError)


def test_every_write_operation_announced_its_events(request):
    """Runs last (conftest.py orders it): the engine tests walked every write operation the engine
    implements, and each announced the events of its route's labels (event_audit.py)."""
    if not event_audit.COMPLETE_RUN:
        pytest.skip("needs the whole engine test suite: it checks what the other tests walked")
    catalog = request.getfixturevalue("catalog")
    writes = {op.id for op in catalog.operations if op.id in HANDLERS and op.access != "read"}
    assert writes - event_audit.WALKED - ALWAYS_REFUSED == set()
