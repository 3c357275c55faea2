"""The health service: every operation through Engine.call, checked against the official SDK models."""

from __future__ import annotations

import os
import socket
import sqlite3
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from appwrite.models.health_antivirus import HealthAntivirus
from appwrite.models.health_certificate import HealthCertificate
from appwrite.models.health_queue import HealthQueue
from appwrite.models.health_status import HealthStatus
from appwrite.models.health_status_list import HealthStatusList
from appwrite.models.health_time import HealthTime
from cryptography.hazmat.primitives import serialization

from mcp_server.engine.permissions import GUEST, key_auth, user_auth
from mcp_server.engine.platform import health
from mcp_server.engine.registry import HANDLERS
from tests.engine.conftest import error_of
from tests.tls import self_signed

SDK_MODELS = {
    "healthStatus": HealthStatus,
    "healthStatusList": HealthStatusList,
    "healthQueue": HealthQueue,
    "healthTime": HealthTime,
    "healthAntivirus": HealthAntivirus,
    "healthCertificate": HealthCertificate,
}
QUEUE_NAMES = [
    "v1-database",
    "v1-deletes",
    "v1-audits",
    "v1-mails",
    "v1-functions",
    "v1-stats-resources",
    "v1-stats-usage",
    "v1-webhooks",
    "v1-certificates",
    "v1-builds",
    "v1-screenshots",
    "v1-messaging",
    "v1-migrations",
]
HEALTH_KEY = key_auth(frozenset({"health.read"}))


def health_operations(catalog) -> dict:
    return {op.id: op for op in catalog.operations if op.service == "health"}


def storage_dir(engine) -> Path:
    return engine.project().db.path.parent


# ---------------------------------------------------------------------------------------------
# a local TLS server with a self-signed certificate


@contextmanager
def local_server(answer: Callable[[socket.socket], None]) -> Iterator[int]:
    """A TCP server on 127.0.0.1 that hands each connection to `answer`, then closes it, until the block
    ends; yields its port."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                answer(connection)
            finally:
                connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def tls_server(cert_path: Path, key_path: Path):
    """A TLS server on 127.0.0.1 that completes handshakes until the block ends; yields its port."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)

    def handshake(connection: socket.socket) -> None:
        connection.settimeout(3)
        try:
            with context.wrap_socket(connection, server_side=True) as tls:
                tls.recv(1)
        except OSError:
            pass

    return local_server(handshake)


def plain_server():
    """A TCP server that accepts and hangs up without speaking TLS."""
    return local_server(lambda connection: None)


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# every operation


def test_every_health_operation_has_a_handler(catalog):
    ids = set(health_operations(catalog))
    assert len(ids) == 23
    assert ids - set(HANDLERS) == set()


def test_every_operation_returns_what_the_sdk_model_accepts(engine, catalog, tmp_path, monkeypatch):
    cert_path, key_path, _ = self_signed(tmp_path)
    params = {"health.getFailedJobs": {"name": "v1-database"}, "health.getCertificate": {"domain": "localhost"}}
    with tls_server(cert_path, key_path) as port:
        monkeypatch.setattr(health, "HTTPS_PORT", port)
        for operation_id, op in sorted(health_operations(catalog).items()):
            result = engine.call(operation_id, params.get(operation_id, {}))
            assert isinstance(result, dict), operation_id
            SDK_MODELS[op.returns["model"]].model_validate(result)


def test_spec_required_fields_are_exactly_what_is_returned(engine, catalog, spec):
    schemas = spec["components"]["schemas"]
    for operation_id, op in health_operations(catalog).items():
        if operation_id == "health.getCertificate":
            continue  # needs a TLS server: checked below
        params = {"name": "v1-mails"} if operation_id == "health.getFailedJobs" else {}
        result = engine.call(operation_id, params)
        assert set(result) == set(schemas[op.returns["model"]]["required"]), operation_id


# ---------------------------------------------------------------------------------------------
# status checks


def test_http_status(call):
    result = call("health.get")
    assert result["name"] == "http" and result["status"] == "pass"
    assert isinstance(result["ping"], int) and result["ping"] >= 0


def test_db_passes_on_a_healthy_database(call):
    result = call("health.getDB")
    assert result["total"] == 1
    [status] = result["statuses"]
    assert status["name"] == "database" and status["status"] == "pass"
    assert isinstance(status["ping"], int)


def test_db_fails_when_the_database_refuses_queries(engine, call):
    readers = engine.project().db.readers

    def no_selects(action, *args):
        return sqlite3.SQLITE_DENY if action == sqlite3.SQLITE_SELECT else sqlite3.SQLITE_OK

    # The one idle read connection, which the next read borrows, refuses every query.
    with readers.lend() as connection:
        connection.set_authorizer(no_selects)
    try:
        [status] = call("health.getDB")["statuses"]
    finally:
        with readers.lend() as connection:
            connection.set_authorizer(None)
    assert status["status"] == "fail" and status["name"] == "database"
    HealthStatusList.model_validate(call("health.getDB"))
    assert call("health.getDB")["statuses"][0]["status"] == "pass"


def test_cache_and_pubsub(call):
    cache, pubsub = call("health.getCache"), call("health.getPubSub")
    assert cache["total"] == 1 and pubsub["total"] == 1
    assert [(s["name"], s["status"]) for s in cache["statuses"]] == [("cache", "pass")]
    assert [(s["name"], s["status"]) for s in pubsub["statuses"]] == [("pubsub", "pass")]


def test_cache_fails_when_its_lock_is_held(engine, call, monkeypatch):
    monkeypatch.setattr(health, "CACHE_LOCK_TIMEOUT", 0.05)
    lock = engine.project().cache.lock
    holder_ready, release = threading.Event(), threading.Event()

    def hold() -> None:
        with lock:
            holder_ready.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    holder_ready.wait(5)
    try:
        failed = call("health.getCache")
    finally:
        release.set()
        holder.join(5)
    assert failed["statuses"][0]["status"] == "fail"
    HealthStatusList.model_validate(failed)
    assert call("health.getCache")["statuses"][0]["status"] == "pass"


def test_storage_passes_and_leaves_nothing_behind(engine, call):
    before = set(storage_dir(engine).iterdir())
    storage, local = call("health.getStorage"), call("health.getStorageLocal")
    assert (storage["name"], storage["status"]) == ("storage", "pass")
    assert (local["name"], local["status"]) == ("local-storage", "pass")
    assert set(storage_dir(engine).iterdir()) == before


@contextmanager
def unwritable(directory: Path) -> Iterator[None]:
    """Make `directory` unusable for new files: read-only, or (as root, where modes do not bind) a plain file."""
    if os.geteuid() != 0:
        mode = directory.stat().st_mode
        directory.chmod(0o500)
        try:
            yield
        finally:
            directory.chmod(mode)
        return
    moved = directory.with_name(directory.name + ".moved")
    directory.rename(moved)  # open database files keep working through their descriptors
    directory.write_text("not a directory")
    try:
        yield
    finally:
        directory.unlink()
        moved.rename(directory)


def test_storage_fails_when_the_data_directory_is_unwritable(engine, call):
    call("health.getDB")  # the project is open
    with unwritable(storage_dir(engine)):
        storage, local = call("health.getStorage"), call("health.getStorageLocal")
        assert call("health.getDB")["statuses"][0]["status"] == "pass"  # the open database still answers
    assert storage["status"] == "fail" and local["status"] == "fail"
    HealthStatus.model_validate(storage)
    HealthStatus.model_validate(local)
    assert call("health.getStorage")["status"] == "pass"
    assert call("health.getStorageLocal")["status"] == "pass"


def test_time_is_the_local_clock_in_seconds(call):
    before = int(time.time())
    result = call("health.getTime")
    after = int(time.time())
    assert before <= result["localTime"] <= after
    assert result["remoteTime"] == result["localTime"] and result["diff"] == 0
    assert all(isinstance(value, int) for value in result.values())


def test_antivirus_is_disabled(call):
    assert call("health.getAntivirus") == {"version": "", "status": "disabled"}


# ---------------------------------------------------------------------------------------------
# queues


@pytest.mark.parametrize("operation_id", health.QUEUE_OPERATIONS)
def test_queues_are_empty_and_honour_the_threshold(call, operation_id):
    assert call(operation_id) == {"size": 0}
    assert call(operation_id, threshold=1) == {"size": 0}
    # Appwrite fails when the size reaches the threshold (size >= threshold).
    error = error_of(call, operation_id, threshold=0)
    assert (error.type, error.code) == ("health_queue_size_exceeded", 503)
    assert "threshold is 0" in error.message
    assert error_of(call, operation_id, threshold=-5).type == "health_queue_size_exceeded"


def test_queue_databases_takes_a_queue_name(call):
    assert call("health.getQueueDatabases", name="database_db_fra1") == {"size": 0}


@pytest.mark.parametrize("name", QUEUE_NAMES)
def test_failed_jobs_for_every_queue(call, name):
    assert call("health.getFailedJobs", name=name) == {"size": 0}
    error = error_of(call, "health.getFailedJobs", name=name, threshold=0)
    assert (error.type, error.code) == ("health_queue_size_exceeded", 503)
    assert "failed jobs" in error.message


def test_failed_jobs_queue_names_are_the_catalogs(catalog, call):
    assert health_operations(catalog)["health.getFailedJobs"].input_schema["properties"]["name"]["enum"] == QUEUE_NAMES
    error = error_of(call, "health.getFailedJobs", name="v1-nope")
    assert error.type == "general_argument_invalid" and "v1-database" in error.message
    assert error_of(call, "health.getFailedJobs").type == "general_argument_invalid"


def test_threshold_must_be_an_integer(call):
    assert error_of(call, "health.getQueueMails", threshold="many").type == "general_argument_invalid"


# ---------------------------------------------------------------------------------------------
# scopes


def test_health_read_scope(catalog, call):
    """Appwrite gives every API key health.read (roles.php); guests and users never hold it."""
    for operation_id, op in health_operations(catalog).items():
        assert op.scopes == ("health.read",) or list(op.scopes) == ["health.read"], operation_id
        params = {"name": "v1-mails"} if operation_id == "health.getFailedJobs" else {}
        for caller in (GUEST, user_auth("ann")):
            error = error_of(call, operation_id, auth=caller, **params)
            assert (error.type, error.code) == ("general_unauthorized_scope", 401), operation_id
    assert call("health.get", auth=HEALTH_KEY)["status"] == "pass"
    assert call("health.getQueueLogs", auth=HEALTH_KEY) == {"size": 0}
    assert call("health.get", auth=key_auth(frozenset({"rows.read"})))["status"] == "pass"


# ---------------------------------------------------------------------------------------------
# certificates


def test_certificate_of_an_unresolvable_host(call):
    started = time.monotonic()
    error = error_of(call, "health.getCertificate", domain="does-not-exist.invalid")
    assert (error.type, error.code) == ("health_invalid_host", 404)
    assert "does-not-exist.invalid" in error.message
    assert time.monotonic() - started < health.CERTIFICATE_TIMEOUT + 1


def test_certificate_of_a_host_that_refuses_connections(call, monkeypatch):
    monkeypatch.setattr(health, "HTTPS_PORT", closed_port())
    error = error_of(call, "health.getCertificate", domain="127.0.0.1")
    assert (error.type, error.code) == ("health_invalid_host", 404)


def test_certificate_of_a_host_that_does_not_speak_tls(call, monkeypatch):
    with plain_server() as port:
        monkeypatch.setattr(health, "HTTPS_PORT", port)
        error = error_of(call, "health.getCertificate", domain="localhost")
    assert (error.type, error.code) == ("health_invalid_host", 404)


@pytest.mark.parametrize("domain", ["", "   ", "not a domain", "exa mple.com", "-bad-.com", "a" * 64 + ".com"])
def test_certificate_needs_a_domain(call, domain):
    assert error_of(call, "health.getCertificate", domain=domain).type == "general_argument_invalid"


def test_certificate_without_a_domain(call):
    error = error_of(call, "health.getCertificate")
    assert error.type == "general_argument_invalid" and "domain" in error.message


def test_certificate_of_a_local_tls_server(tmp_path):
    cert_path, key_path, certificate = self_signed(tmp_path)
    with tls_server(cert_path, key_path) as port:
        der = health.peer_certificate("127.0.0.1", port, 3.0)
    assert der == certificate.public_bytes(serialization.Encoding.DER)
    result = health.certificate_model(der)
    HealthCertificate.model_validate(result)
    assert result == {
        "name": "/C=NL/O=Example Org/CN=localhost",
        "subjectSN": "localhost",
        "issuerOrganisation": "Example Org",
        "validFrom": str(int(certificate.not_valid_before_utc.timestamp())),
        "validTo": str(int(certificate.not_valid_after_utc.timestamp())),
        "signatureTypeSN": "ecdsa-with-SHA256",
    }


@pytest.mark.parametrize("domain", ["localhost", "https://localhost/some/path", "LOCALHOST."])
def test_certificate_through_the_engine(call, tmp_path, monkeypatch, domain):
    cert_path, key_path, certificate = self_signed(tmp_path)
    with tls_server(cert_path, key_path) as port:
        monkeypatch.setattr(health, "HTTPS_PORT", port)
        result = call("health.getCertificate", auth=HEALTH_KEY, domain=domain)
    parsed = HealthCertificate.model_validate(result)
    assert parsed.subjectsn == "localhost" and parsed.issuerorganisation == "Example Org"
    assert int(result["validTo"]) == int(certificate.not_valid_after_utc.timestamp())


def test_expired_certificate(call, tmp_path, monkeypatch):
    cert_path, key_path, _ = self_signed(tmp_path, expired=True)
    with tls_server(cert_path, key_path) as port:
        monkeypatch.setattr(health, "HTTPS_PORT", port)
        error = error_of(call, "health.getCertificate", domain="localhost")
    assert (error.type, error.code) == ("health_certificate_expired", 404)


def test_the_handler_checks_port_443():
    assert health.HTTPS_PORT == 443 and health.CERTIFICATE_TIMEOUT == 3.0
