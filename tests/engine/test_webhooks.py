"""Webhooks: the `webhooks` service, and deliveries to a real receiver on loopback (tests/webhook_receiver.py)
that checks every signature: event names, headers and payloads of rows, files, users and memberships;
Basic auth; TLS with a self-signed certificate; retries with backoff; disabling after 10 failed attempts;
one process delivering at a time; and nothing lost when the delivering engine stops."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from mcp_server.engine import Engine
from mcp_server.engine.event_names import event_names
from mcp_server.engine.events import read_after
from mcp_server.engine.process_lock import ProcessLock
from mcp_server.engine.webhooks.delivery import DeliveryPolicy, retry_after
from mcp_server.engine.webhooks.store import require
from mcp_server.engine.webhooks.worker import LOCK_FILE
from mcp_server.uploads import Upload
from tests.engine.conftest import error_of, q
from tests.engine.event_audit import AuditedEngine
from tests.tls import self_signed
from tests.webhook_receiver import Receiver, expected_signature

ROWS = "databases.*.tables.*.rows.*"
# Retries within tens of milliseconds, so tests of backoff and disabling take a moment.
QUICK = DeliveryPolicy(first_retry=0.02, max_retry=0.1, timeout=5.0)


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:
    """An engine whose requests may go to loopback (the receiver), checking the events of every call."""
    instance = AuditedEngine(tmp_path / "data", list_cache_ttl=0, allow_private_urls=True, webhook_policy=QUICK)
    yield instance
    instance.close()
    assert instance.problems == []


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    served = Receiver()
    yield served
    served.close()


def hook(call, receiver: Receiver, events: list[str], **params) -> dict:
    """A webhook to the receiver, which learns its secret."""
    created = call("webhooks.create", webhookId="unique()", url=receiver.url, name="Orders", events=events, **params)
    receiver.secret = created["secret"]
    return created


def drain(engine: Engine, projects: tuple[str, ...] = ("default",)) -> dict:
    return asyncio.run(engine.deliver_webhooks(list(projects)))


@contextmanager
def delivering(engine: Engine) -> Iterator[None]:
    """The engine's background work running (as in baas-mcp api), on an event loop of its own."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    future = asyncio.run_coroutine_threadsafe(engine.run_background(), loop)
    try:
        yield
    finally:
        future.cancel()
        concurrent.futures.wait([future], timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def shop(call) -> None:
    call("tablesDB.create", databaseId="shop", name="Shop")
    call("tablesDB.createTable", databaseId="shop", tableId="orders", name="Orders")
    call("tablesDB.createStringColumn", databaseId="shop", tableId="orders", key="item", size=50, required=False)


def settle(engine: Engine, webhook_id: str, condition, timeout: float = 20.0) -> dict:
    """The webhook once `condition(webhook)` holds, read from the project's database (a call would be audited for
    the events the delivery worker announces meanwhile)."""
    deadline = time.monotonic() + timeout
    project = engine.project()
    while True:
        with project.db.reading() as connection:
            found = require(connection, project.cipher, webhook_id).model()
        if condition(found):
            return found
        assert time.monotonic() < deadline, f"the webhook stayed {found}"
        time.sleep(0.02)


# The service


def test_create_answers_appwrites_model_and_shows_the_secret_only_then(call, receiver):
    created = call(
        "webhooks.create",
        webhookId="orders",
        url=receiver.url,
        name="Orders",
        events=["databases.*.tables.*.rows.*.create", "users.*.update.email"],
        authUsername="hook",
        authPassword="s3cret",
    )
    assert set(created) == {
        "$id", "$createdAt", "$updatedAt", "name", "url", "events", "tls", "authUsername", "authPassword",
        "secret", "enabled", "logs", "attempts",
    }  # fmt: skip
    assert (created["tls"], created["enabled"], created["attempts"], created["logs"]) == (False, True, 0, "")
    assert len(created["secret"]) == 128 and int(created["secret"], 16) >= 0
    fetched = call("webhooks.get", webhookId="orders")
    assert fetched["secret"] == "" and fetched["authPassword"] == "s3cret"
    assert {key: value for key, value in fetched.items() if key != "secret"} == {
        key: value for key, value in created.items() if key != "secret"
    }
    listed = call("webhooks.list", queries=[q("equal", "name", ["Orders"])])
    assert listed["total"] == 1 and listed["webhooks"][0]["secret"] == ""
    assert call("webhooks.list", queries=[q("equal", "enabled", [False])])["total"] == 0
    assert error_of(call, "webhooks.create", webhookId="orders", url=receiver.url, name="x", events=[]).type == (
        "webhook_already_exists"
    )


def test_the_secret_never_reaches_the_event_stream(engine, call, receiver):
    created = hook(call, receiver, [ROWS], secret="my-own-secret")
    assert created["secret"] == "my-own-secret"
    rotated = call("webhooks.updateSecret", webhookId=created["$id"])
    assert len(rotated["secret"]) == 128
    mine = call("webhooks.updateSecret", webhookId=created["$id"], secret="another-secret")["secret"]
    assert mine == "another-secret"
    with engine.project().db.reading() as connection:
        stored = [event.payload for event in read_after(connection, 0, 100)]
        raw = b"".join(row[0].encode() for row in connection.execute("SELECT body FROM _events"))
        table = json.dumps([list(row) for row in connection.execute("SELECT secret, auth_password FROM _webhooks")])
    assert [payload["secret"] for payload in stored] == ["", "", ""]
    for secret in ("my-own-secret", rotated["secret"], "another-secret"):
        assert secret.encode() not in raw and secret not in table


def test_update_replaces_the_settings_and_turning_on_resets_the_attempts(engine, call, receiver):
    created = hook(call, receiver, [ROWS], authUsername="a", authPassword="b", tls=True)
    with engine.project().db.lock, engine.project().db.transaction() as connection:
        connection.execute("UPDATE _webhooks SET attempts = 7, enabled = 0")
    engine.project().forget_settings()
    changed = call(
        "webhooks.update", webhookId=created["$id"], name="Renamed", url=receiver.url + "?v=2", events=["users.*"]
    )
    assert (changed["name"], changed["url"], changed["events"]) == ("Renamed", receiver.url + "?v=2", ["users.*"])
    # Appwrite's update is a PUT: what is left out takes its default.
    assert (changed["authUsername"], changed["authPassword"], changed["tls"], changed["enabled"]) == (
        "",
        "",
        False,
        True,
    )
    assert (changed["attempts"], changed["secret"]) == (0, "")
    off = call(
        "webhooks.update", webhookId=created["$id"], name="Off", url=receiver.url, events=["users.*"], enabled=False
    )
    assert off["enabled"] is False


def test_bad_events_urls_and_ids_are_refused_naming_what_is_wrong(tmp_path, call, receiver):
    error = error_of(
        call, "webhooks.create", webhookId="w", url=receiver.url, name="n", events=["users.*.create", "users.*.explode"]
    )
    assert (
        error.type == "general_argument_invalid" and "`events`" in error.message and "users.*.explode" in error.message
    )
    for url in ("ftp://example.com/x", "not a url", "https://"):
        error = error_of(call, "webhooks.create", webhookId="w", url=url, name="n", events=["users.*"])
        assert error.type == "general_argument_invalid" and "`url`" in error.message
    assert (
        "`url`"
        in error_of(
            call, "webhooks.create", webhookId="w", url="https://x.io/" + "a" * 3000, name="n", events=[]
        ).message
    )
    assert error_of(call, "webhooks.get", webhookId="nope").type == "webhook_not_found"
    assert error_of(call, "webhooks.update", webhookId="nope", name="n", url=receiver.url, events=[]).type == (
        "webhook_not_found"
    )
    assert error_of(call, "webhooks.delete", webhookId="nope").type == "webhook_not_found"
    assert call("webhooks.list")["total"] == 0
    # Without --allow-private-urls, a URL naming a loopback or private address outright is refused.
    strict = Engine(tmp_path / "strict")
    try:
        for url in (
            "http://127.0.0.1:9/x",
            "http://localhost/x",
            "http://[::1]/x",
            "http://10.1.2.3/",
            "http://api.localhost/",
        ):
            error = error_of(strict.call, "webhooks.create", {"webhookId": "w", "url": url, "name": "n", "events": []})
            assert "--allow-private-urls" in error.message, url
        assert strict.call(
            "webhooks.create", {"webhookId": "w", "url": "https://example.com/hook", "name": "n", "events": []}
        )
    finally:
        strict.close()


def test_a_deleted_webhook_gets_nothing_more(engine, call, receiver):
    created = hook(call, receiver, ["users.*.create"])
    call("users.create", userId="ada", email="ada@example.com")
    call("webhooks.delete", webhookId=created["$id"])
    call("users.create", userId="bob", email="bob@example.com")
    drain(engine)
    assert receiver.tries == []


# Deliveries


def test_row_events_arrive_signed_with_appwrites_names_headers_and_payloads(engine, call, receiver):
    shop(call)
    created = hook(
        call,
        receiver,
        ["databases.*.tables.*.rows.*.create", "databases.shop.tables.orders.rows.*.update", f"{ROWS}.delete"],
    )
    row = call("tablesDB.createRow", databaseId="shop", tableId="orders", rowId="r1", data={"item": "tea"})
    updated = call("tablesDB.updateRow", databaseId="shop", tableId="orders", rowId="r1", data={"item": "coffee"})
    call("tablesDB.createRow", databaseId="shop", tableId="orders", rowId="r2", data={"item": "cake"})
    call("tablesDB.deleteRow", databaseId="shop", tableId="orders", rowId="r2")
    report = drain(engine)
    assert report["default"].delivered == {created["$id"]: 4}
    create, update, _, delete = receiver.deliveries
    assert all(delivery.signed for delivery in receiver.deliveries)
    assert create.payload == row and update.payload == updated and delete.payload["$id"] == "r2"
    ids = {"databaseId": "shop", "tableId": "orders", "rowId": "r1"}
    assert create.events == event_names("databases.[databaseId].tables.[tableId].rows.[rowId].create", ids)
    assert "databases.*.collections.*.documents.*.create" in create.events  # the legacy names too
    assert update.events[0] == "databases.shop.tables.orders.rows.r1.update"
    assert delete.events[0] == "databases.shop.tables.orders.rows.r2.delete"
    headers = create.headers
    assert headers["x-appwrite-webhook-id"] == created["$id"]
    assert headers["x-appwrite-webhook-name"] == "Orders"
    assert headers["x-appwrite-webhook-project-id"] == "default"
    assert headers["x-appwrite-webhook-user-id"] == ""
    assert headers["content-type"] == "application/json"
    assert headers["x-appwrite-webhook-attempt"] == "1"
    assert [d.delivery_id for d in receiver.deliveries] == sorted({d.delivery_id for d in receiver.deliveries})
    # Once delivered, a second pass has nothing to send.
    assert drain(engine)["default"].delivered == {}
    assert len(receiver.tries) == 4


def test_files_users_and_memberships_arrive_with_who_made_them(engine, call, receiver):
    hook(
        call,
        receiver,
        ["buckets.*.files.*.create", "users.*.create", "teams.*.memberships.*.create", "users.*.update.name"],
    )
    call("storage.createBucket", bucketId="b", name="Docs", permissions=['create("users")'])
    user = call("users.create", userId="ada", email="ada@example.com", password="correct horse battery")
    call("users.updateName", userId="ada", name="Ada L.")
    call("teams.create", teamId="crew", name="Crew")
    member = call("teams.createMembership", teamId="crew", roles=["dev"], userId="ada")
    ada = engine.user_auth("default", "ada")
    file = call("storage.createFile", ada, bucketId="b", fileId="f1", file=Upload("notes.txt", "", b"hello"))
    drain(engine)
    by_first_name = {delivery.events[0]: delivery for delivery in receiver.deliveries}
    assert set(by_first_name) == {
        "users.ada.create", "users.ada.update", f"teams.crew.memberships.{member['$id']}.create",
        "buckets.b.files.f1.create",
    }  # fmt: skip
    assert by_first_name["users.ada.create"].payload == user
    renamed = by_first_name["users.ada.update"]
    assert renamed.payload["name"] == "Ada L." and "users.*.update.name" in renamed.events
    assert by_first_name[f"teams.crew.memberships.{member['$id']}.create"].payload == member
    uploaded = by_first_name["buckets.b.files.f1.create"]
    assert uploaded.payload == file and uploaded.headers["x-appwrite-webhook-user-id"] == "ada"
    assert "buckets.*.files.*.create" in uploaded.events and "buckets.*.files.*" in uploaded.events
    assert all(delivery.signed for delivery in receiver.deliveries)


def test_a_receiver_with_another_secret_sees_a_wrong_signature(engine, call, receiver):
    created = hook(call, receiver, ["users.*.create"])
    call("users.create", userId="ada", email="ada@example.com")
    call("webhooks.updateSecret", webhookId=created["$id"], secret="rotated-secret")  # the receiver keeps the old one
    call("users.create", userId="bob", email="bob@example.com")
    drain(engine)
    # Each delivery is signed with the secret of the moment it is sent: both with the rotated one.
    assert [delivery.signed for delivery in receiver.deliveries] == [False, False]
    receiver.secret = "rotated-secret"
    call("users.create", userId="cy", email="cy@example.com")
    drain(engine)
    assert receiver.deliveries[-1].signed


def test_basic_auth_is_sent_when_both_parts_are_set(engine, call, receiver):
    receiver.basic = "hook:pa:ss"
    created = hook(call, receiver, ["users.*.create"], authUsername="hook", authPassword="pa:ss")
    call("users.create", userId="ada", email="ada@example.com")
    drain(engine)
    assert len(receiver.deliveries) == 1
    call(
        "webhooks.update",
        webhookId=created["$id"],
        name="n",
        url=receiver.url,
        events=["users.*.create"],
        authUsername="hook",
        authPassword="wrong",
    )
    call("users.create", userId="bob", email="bob@example.com")
    report = drain(engine)["default"]
    # 401 is the receiver's answer, not a failure to reach it: counted and logged, not tried again.
    assert report.failed == {created["$id"]: 1} and report.pending == {}
    failed = call("webhooks.get", webhookId=created["$id"])
    assert failed["attempts"] == 1 and "Status code: 401" in failed["logs"] and receiver.url in failed["logs"]


def test_tls_true_checks_the_certificate_and_false_does_not(engine, call, tmp_path):
    cert, key, _ = self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    secure = Receiver(context)
    try:
        checked = hook(call, secure, ["users.*.create"], tls=True)
        call("users.create", userId="ada", email="ada@example.com")
        report = drain(engine)["default"]
        assert report.failed == {checked["$id"]: 1} and report.pending == {checked["$id"]: 1}
        assert secure.deliveries == [] and "Error:" in call("webhooks.get", webhookId=checked["$id"])["logs"]
        call(
            "webhooks.update", webhookId=checked["$id"], name="n", url=secure.url, events=["users.*.create"], tls=False
        )
        report = drain(engine)["default"]
        # The event that failed is the one delivered now: the webhook kept its place.
        assert report.delivered == {checked["$id"]: 1}
        assert secure.deliveries[0].payload["$id"] == "ada" and secure.deliveries[0].signed
    finally:
        secure.close()


def test_failures_are_retried_with_backoff_in_order_and_success_resets_the_count(engine, call, receiver):
    receiver.script = [500, 503, 429]
    created = hook(call, receiver, ["users.*.create"])
    for name in ("ada", "bob", "cy"):
        call("users.create", userId=name, email=f"{name}@example.com")
    with delivering(engine):
        receiver.wait_for(3)
        settled = settle(engine, created["$id"], lambda webhook: webhook["attempts"] == 0)
    assert [delivery.payload["$id"] for delivery in receiver.tries] == ["ada", "ada", "ada", "ada", "bob", "cy"]
    assert [delivery.headers["x-appwrite-webhook-attempt"] for delivery in receiver.tries[:4]] == ["1", "2", "3", "4"]
    assert len({delivery.delivery_id for delivery in receiver.tries[:4]}) == 1
    assert "Status code: 429" in settled["logs"]  # the last failure's log stays
    gaps = [
        later.received - earlier.received
        for earlier, later in zip(receiver.tries[:3], receiver.tries[1:4], strict=True)
    ]
    assert all(gap >= QUICK.first_retry / 2 for gap in gaps)


def test_retry_after_is_waited_for():
    assert retry_after("3") == 3.0 and retry_after("") is None and retry_after("soon") is None
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert QUICK.retry_delay(1, retry_after=1.5) == 1.5
    assert QUICK.retry_delay(1, retry_after=10**9) == QUICK.max_retry_after
    delays = [DeliveryPolicy().retry_delay(tries) for tries in range(1, 12)]
    assert 0.5 <= delays[0] <= 1 and 1 <= delays[1] <= 2 and all(150 <= delay <= 300 for delay in delays[9:])


def test_a_receiver_that_honours_retry_after_is_not_asked_sooner(engine, call, receiver):
    receiver.script, receiver.retry_after = [429], "1"
    hook(call, receiver, ["users.*.create"])
    call("users.create", userId="ada", email="ada@example.com")
    with delivering(engine):
        first, second = receiver.wait_for(2, tries=True)
    assert second.received - first.received >= 0.95


def test_a_receiver_down_for_10_attempts_disables_the_webhook_which_keeps_its_place(engine, call, receiver):
    receiver.script = [502] * 10
    created = hook(call, receiver, ["users.*.create"])
    start = max(event.seq for event in read_after(engine.project().db.connection, 0, 100))
    call("users.create", userId="ada", email="ada@example.com")
    call("users.create", userId="bob", email="bob@example.com")
    with delivering(engine):
        disabled = settle(engine, created["$id"], lambda webhook: not webhook["enabled"])
        time.sleep(0.3)
    assert disabled["attempts"] == 10 and "Status code: 502" in disabled["logs"]
    assert len(receiver.tries) == 10 and receiver.deliveries == []
    with engine.project().db.reading() as connection:
        announced = [event for event in read_after(connection, start, 100) if event.name.startswith("webhooks.")]
    assert [event.name for event in announced] == [f"webhooks.{created['$id']}.update"]
    assert announced[0].payload["enabled"] is False and announced[0].payload["secret"] == ""
    # Turned on again, it starts over from the event it could not deliver.
    call("webhooks.update", webhookId=created["$id"], name="Orders", url=receiver.url, events=["users.*.create"])
    drain(engine)
    assert [delivery.payload["$id"] for delivery in receiver.deliveries] == ["ada", "bob"]


def test_one_process_delivers_a_project_at_a_time(engine, call, receiver):
    hook(call, receiver, ["users.*.create"])
    call("users.create", userId="ada", email="ada@example.com")
    held = ProcessLock(engine.project().db.path.parent / LOCK_FILE)
    assert held.acquire()
    try:
        assert drain(engine) == {"default": None}
        assert receiver.tries == []
    finally:
        held.release()
    assert drain(engine)["default"].delivered


def test_deliveries_resume_after_the_engine_stops_and_none_is_lost(tmp_path, receiver):
    data = tmp_path / "data"
    first = Engine(data, allow_private_urls=True, webhook_policy=QUICK)
    created = first.call(
        "webhooks.create", {"webhookId": "w", "url": receiver.url, "name": "n", "events": ["users.*.create"]}
    )
    receiver.secret = created["secret"]
    for number in range(40):
        first.call("users.create", {"userId": f"u{number}", "email": f"u{number}@example.com"})
    with delivering(first):
        receiver.wait_for(10)
    first.close()
    second = Engine(data, allow_private_urls=True, webhook_policy=QUICK)
    try:
        for number in range(40, 50):
            second.call("users.create", {"userId": f"u{number}", "email": f"u{number}@example.com"})
        with delivering(second):
            receiver.wait_for(50)
            time.sleep(0.2)
    finally:
        second.close()
    received = [delivery.payload["$id"] for delivery in receiver.deliveries]
    first_seen = list(dict.fromkeys(received))
    assert first_seen == [f"u{number}" for number in range(50)]


def test_a_new_webhook_gets_the_events_after_its_creation_only(engine, call, receiver):
    call("users.create", userId="before", email="before@example.com")
    hook(call, receiver, ["users.*.create"])
    call("users.create", userId="after", email="after@example.com")
    drain(engine)
    assert [delivery.payload["$id"] for delivery in receiver.deliveries] == ["after"]


def test_a_recovery_tokens_secret_reaches_webhooks_only(engine, call, receiver):
    hook(call, receiver, ["users.*.recovery.*.create", "users.*.verification.*.create"])
    call("users.create", userId="ada", email="ada@example.com", password="correct horse battery")
    guest = engine.identify("default")
    engine.call("account.createRecovery", {"email": "ada@example.com", "url": "https://app.example.com/reset"}, guest)
    drain(engine)
    (delivery,) = receiver.deliveries
    secret = delivery.payload["secret"]
    assert delivery.events[0].startswith("users.ada.recovery.") and len(secret) == 64
    # The secret works: it is the one the recovery email carried.
    engine.call(
        "account.updateRecovery", {"userId": "ada", "secret": secret, "password": "another good password"}, guest
    )
    with engine.project().db.reading() as connection:
        found = read_after(connection, 0, 100, engine.project().cipher)
        (event,) = [event for event in found if "recovery" in event.name and "create" in event.name]
        raw = "".join(row[0] for row in connection.execute("SELECT body FROM _events"))
    assert event.sensitive == ("secret",) and event.public_payload["secret"] == ""
    assert event.as_json("default")["payload"]["secret"] == "" and secret not in raw


def test_redirects_that_keep_the_post_are_followed_and_others_are_the_answer(engine, call, receiver):
    receiver.redirects = {"/moved": (308, "/hook"), "/elsewhere": (302, "/hook")}
    moved = hook(call, receiver, ["users.*.create"])
    call("webhooks.update", webhookId=moved["$id"], name="n", url=receiver.base + "/moved", events=["users.*.create"])
    call("users.create", userId="ada", email="ada@example.com")
    drain(engine)
    (delivery,) = receiver.deliveries
    # Followed with the same body and headers; signed over the webhook's own URL, as Appwrite signs it.
    assert delivery.path == "/hook" and delivery.payload["$id"] == "ada"
    assert delivery.headers["x-appwrite-webhook-signature"] == expected_signature(
        receiver.secret, receiver.base + "/moved", delivery.body
    )
    call(
        "webhooks.update", webhookId=moved["$id"], name="n", url=receiver.base + "/elsewhere", events=["users.*.create"]
    )
    call("users.create", userId="bob", email="bob@example.com")
    assert drain(engine)["default"].delivered == {moved["$id"]: 1}
    assert [try_.path for try_ in receiver.tries] == ["/moved", "/hook", "/elsewhere"]


def test_an_answer_larger_than_5_mb_is_a_failure(engine, call, receiver):
    receiver.answer = b"x" * (5 * 1024 * 1024 + 1)
    created = hook(call, receiver, ["users.*.create"])
    call("users.create", userId="ada", email="ada@example.com")
    report = drain(engine)["default"]
    assert report.failed == {created["$id"]: 1}
    assert "larger than 5 MB" in call("webhooks.get", webhookId=created["$id"])["logs"]


def test_updates_and_deletes_of_files_users_and_memberships_arrive(engine, call, receiver):
    hook(
        call,
        receiver,
        ["buckets.*.files.*", "users.*.delete", "teams.*.memberships.*.update", "teams.*.memberships.*.delete"],
    )
    call("storage.createBucket", bucketId="b", name="Docs")
    call("users.create", userId="ada", email="ada@example.com")
    call("teams.create", teamId="crew", name="Crew")
    member = call("teams.createMembership", teamId="crew", roles=["dev"], userId="ada")
    call("storage.createFile", bucketId="b", fileId="f1", file=Upload("notes.txt", "", b"hello"))
    renamed = call("storage.updateFile", bucketId="b", fileId="f1", name="renamed.txt")
    call("storage.deleteFile", bucketId="b", fileId="f1")
    changed = call("teams.updateMembership", teamId="crew", membershipId=member["$id"], roles=["lead"])
    call("teams.deleteMembership", teamId="crew", membershipId=member["$id"])
    call("users.delete", userId="ada")
    drain(engine)
    firsts = [delivery.events[0] for delivery in receiver.deliveries]
    assert firsts == [
        "buckets.b.files.f1.create", "buckets.b.files.f1.update", "buckets.b.files.f1.delete",
        f"teams.crew.memberships.{member['$id']}.update", f"teams.crew.memberships.{member['$id']}.delete",
        "users.ada.delete",
    ]  # fmt: skip
    payloads = [delivery.payload for delivery in receiver.deliveries]
    assert payloads[1] == renamed and payloads[2]["name"] == "renamed.txt" and payloads[3] == changed
    assert payloads[4]["$id"] == member["$id"] and payloads[5]["$id"] == "ada"
    assert all(delivery.signed for delivery in receiver.deliveries)


def test_the_webhooks_queue_of_health_counts_what_is_still_to_deliver(engine, call, receiver):
    created = hook(call, receiver, ["users.*.create"])
    for name in ("ada", "bob"):
        call("users.create", userId=name, email=f"{name}@example.com")
    assert call("health.getQueueWebhooks") == {"size": 2}
    assert error_of(call, "health.getQueueWebhooks", threshold=2).type == "health_queue_size_exceeded"
    drain(engine)
    assert call("health.getQueueWebhooks") == {"size": 0}
    call("webhooks.update", webhookId=created["$id"], name="n", url=receiver.url, events=["users.*"], enabled=False)
    call("users.create", userId="cy", email="cy@example.com")
    assert call("health.getQueueWebhooks") == {"size": 0}  # a disabled webhook waits, it is not behind


def test_a_deleted_webhook_leaves_no_place_in_the_stream_behind(engine, call, receiver):
    created = hook(call, receiver, ["users.*.create"])
    with delivering(engine):
        call("users.create", userId="ada", email="ada@example.com")
        receiver.wait_for(1)
        call("webhooks.delete", webhookId=created["$id"])
        time.sleep(0.5)  # the worker writes the places that moved every 0.1 s
    with engine.project().db.reading() as connection:
        names = [row[0] for row in connection.execute("SELECT name FROM _event_cursors")]
    # A place left behind would keep old events from being pruned by age.
    assert names == []


def test_a_server_closing_while_it_looks_for_webhooks_hears_no(engine, call, receiver):
    hook(call, receiver, ["users.*.create"])
    assert engine.webhooks_configured() is True
    engine.close()
    # The servers look from a thread; a look that meets the closing engine is no error to report.
    assert engine.webhooks_configured() is False
