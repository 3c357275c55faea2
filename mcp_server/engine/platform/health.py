"""Handlers for the health service: real checks of what this embedded engine runs on.

What each check measures here, on one machine:

- get: the engine answers; ping is the time the handler took.
- getDB: a timed query on the project's SQLite database; status `fail` if it raises.
- getCache, getPubSub: there is no cache server or message broker. The list cache lives in this
  process, and so would any hand-off of messages. getCache takes the list cache's lock (status
  `fail` if it cannot within a second) and round-trips a value; getPubSub round-trips a message
  through an in-process queue. Both report what they timed.
- getDB, getCache and getPubSub answer a list (healthStatusList) holding one status.
- getStorage, getStorageLocal: write, read back and delete a small temporary file in the directory
  holding the project's database file; status `fail` if any step fails (getStorageLocal also
  checks that the directory is readable and writable).
- getTime: there is no network time source, so remoteTime is the local clock and diff is 0.
  Times are Unix timestamps in seconds, as in Appwrite; diff would be in milliseconds per the spec.
- getQueueWebhooks: the events the project's enabled webhooks have still to go through (webhooks/).
- getQueue* (the others), getFailedJobs: every other job runs inside the call that causes it, so no
  queue ever holds anything and size is 0. The threshold check is Appwrite's: size >= threshold fails with
  health_queue_size_exceeded (503), so threshold=0 or lower always fails.
- getAntivirus: there is no virus scanner: status `disabled`, version "".
- getCertificate: a TLS handshake to the domain on port 443 (3 s for resolving, connecting and the
  handshake together). Like Appwrite's check it reports the certificate served rather than judging
  the chain: the handshake does not verify the chain or the host name, so self-signed and
  privately issued certificates are reported too. An expired certificate fails with
  health_certificate_expired; a host that does not resolve, cannot be reached or does not complete
  a TLS handshake fails with health_invalid_host.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import queue
import re
import socket
import sqlite3
import ssl
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import AppwriteError, invalid_argument
from ..registry import Call, handles
from ..webhooks.store import backlog

HTTPS_PORT = 443
CERTIFICATE_TIMEOUT = 3.0
CACHE_LOCK_TIMEOUT = 1.0
QUEUE_OPERATIONS = (
    "health.getQueueAudits",
    "health.getQueueBuilds",
    "health.getQueueCertificates",
    "health.getQueueDatabases",
    "health.getQueueDeletes",
    "health.getQueueFunctions",
    "health.getQueueLogs",
    "health.getQueueMails",
    "health.getQueueMessaging",
    "health.getQueueMigrations",
    "health.getQueueStatsResources",
    "health.getQueueUsage",
    "health.getQueueWebhooks",
)
DEFAULT_THRESHOLD = 5000

_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")


def elapsed_ms(start: float) -> int:
    return round((time.perf_counter() - start) * 1000)


def status(name: str, start: float, passed: bool) -> dict:
    """A healthStatus model: `ping` is the milliseconds since `start`."""
    return {"name": name, "ping": elapsed_ms(start), "status": "pass" if passed else "fail"}


def status_list(*statuses: dict) -> dict:
    """A healthStatusList model (getDB, getCache and getPubSub answer one status per server)."""
    return {"total": len(statuses), "statuses": list(statuses)}


@handles("health.get")
def get_http(call: Call) -> dict:
    start = time.perf_counter()
    return status("http", start, True)


@handles("health.getDB")
def get_db(call: Call) -> dict:
    start = time.perf_counter()
    try:
        # Reads a page of the database file, not only the SQL engine.
        call.project.connection.execute("SELECT count(*) FROM _meta").fetchone()
        passed = True
    except sqlite3.Error:
        passed = False
    return status_list(status("database", start, passed))


@handles("health.getCache")
def get_cache(call: Call) -> dict:
    start = time.perf_counter()
    lock = call.project.cache.lock
    passed = lock.acquire(timeout=CACHE_LOCK_TIMEOUT)
    if passed:
        try:
            probe = object()
            scratch = {"probe": probe}
            passed = scratch.get("probe") is probe
        finally:
            lock.release()
    return status_list(status("cache", start, passed))


@handles("health.getPubSub")
def get_pubsub(call: Call) -> dict:
    start = time.perf_counter()
    channel: queue.SimpleQueue = queue.SimpleQueue()
    probe = object()
    channel.put(probe)
    try:
        passed = channel.get(timeout=CACHE_LOCK_TIMEOUT) is probe
    except queue.Empty:
        passed = False
    return status_list(status("pubsub", start, passed))


def storage_directory(call: Call) -> Path:
    """The directory holding the project's database file."""
    return Path(call.project.db.path).parent


def storage_round_trip(directory: Path) -> bool:
    """Write a small temporary file in `directory`, read it back and delete it; False if any step fails."""
    payload = os.urandom(16)
    try:
        handle, name = tempfile.mkstemp(prefix=".health-", suffix=".probe", dir=directory)
    except OSError:
        return False
    path = Path(name)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(payload)
        read_back = path.read_bytes()
        path.unlink()
    except OSError:
        with contextlib.suppress(OSError):
            path.unlink()
        return False
    return read_back == payload


@handles("health.getStorage")
def get_storage(call: Call) -> dict:
    start = time.perf_counter()
    return status("storage", start, storage_round_trip(storage_directory(call)))


@handles("health.getStorageLocal")
def get_storage_local(call: Call) -> dict:
    start = time.perf_counter()
    directory = storage_directory(call)
    accessible = directory.is_dir() and os.access(directory, os.R_OK | os.W_OK | os.X_OK)
    return status("local-storage", start, accessible and storage_round_trip(directory))


@handles("health.getTime")
def get_time(call: Call) -> dict:
    local = int(time.time())
    return {"remoteTime": local, "localTime": local, "diff": 0}


def check_threshold(size: int, threshold: int, failed: bool = False) -> None:
    if size >= threshold:
        what = "failed jobs" if failed else "jobs"
        raise AppwriteError(
            "health_queue_size_exceeded",
            f"Queue {what} threshold hit. Current value is {size} and threshold is {threshold}.",
        )


@handles(*QUEUE_OPERATIONS)
def get_queue(call: Call) -> dict:
    # Every other job runs inside the call that causes it: nothing waits.
    size = backlog(call.project.connection) if call.op.id == "health.getQueueWebhooks" else 0
    check_threshold(size, call.params.get("threshold", DEFAULT_THRESHOLD))
    return {"size": size}


@handles("health.getFailedJobs")
def get_failed_jobs(call: Call) -> dict:
    # `name` is one of the catalog's queue names: parameter validation refuses any other.
    size = 0  # no queue, so no job that failed in one
    check_threshold(size, call.params.get("threshold", DEFAULT_THRESHOLD), failed=True)
    return {"size": size}


@handles("health.getAntivirus")
def get_antivirus(call: Call) -> dict:
    return {"version": "", "status": "disabled"}


# ---------------------------------------------------------------------------------------------
# certificates


def host_of(domain: object) -> str:
    """The host name of a domain or URL (`example.com`, `https://example.com/path`), IDNA-encoded."""
    if not isinstance(domain, str) or not domain.strip():
        raise invalid_argument('Param "domain" is not optional.')
    text = domain.strip()
    if "://" in text:
        try:
            host = urlsplit(text).hostname or ""
        except ValueError:
            host = ""
    else:
        host = text
    host = host.rstrip(".")
    with contextlib.suppress(ValueError):
        return str(ipaddress.ip_address(host))
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_host = ""
    labels = ascii_host.split(".")
    if not ascii_host or len(ascii_host) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise invalid_argument(f"Invalid `domain` param: {domain!r} is not a domain name or URL")
    return ascii_host.lower()


def resolve(host: str, port: int, timeout: float) -> list[tuple]:
    """getaddrinfo with a time limit (the resolver's own can be much longer)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["addresses"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as error:
            outcome["error"] = error

    worker = threading.Thread(target=run, name="health-resolve", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError(f"resolving {host} took longer than {timeout:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["addresses"]


def peer_certificate(host: str, port: int = HTTPS_PORT, timeout: float = CERTIFICATE_TIMEOUT) -> bytes:
    """The DER certificate `host:port` presents in a TLS handshake, all within `timeout` seconds.

    The chain and host name are not verified: the point is to read the certificate, whoever issued it.
    Raises OSError (ssl.SSLError included) when the host cannot be resolved, reached or shaken hands with.
    """
    deadline = time.monotonic() + timeout
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    last_error: OSError = OSError(f"no address found for {host}")
    for family, kind, protocol, _, address in resolve(host, port, timeout):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no TLS handshake with {host}:{port} within {timeout:g} s")
        try:
            with socket.socket(family, kind, protocol) as raw:
                raw.settimeout(remaining)
                raw.connect(address)
                raw.settimeout(max(deadline - time.monotonic(), 0.001))
                with context.wrap_socket(raw, server_hostname=host) as tls:
                    certificate = tls.getpeercert(binary_form=True)
        except OSError as error:
            last_error = error
            continue
        if not certificate:
            raise ssl.SSLError(f"{host}:{port} presented no certificate")
        return certificate
    raise last_error


# OpenSSL's short names, which Appwrite reports (PHP's openssl_x509_parse).
_NAME_SHORT_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.4": "SN",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.9": "street",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.12": "title",
    "2.5.4.42": "GN",
    "2.5.4.15": "businessCategory",
    "2.5.4.17": "postalCode",
    "0.9.2342.19200300.100.1.1": "UID",
    "0.9.2342.19200300.100.1.25": "DC",
    "1.2.840.113549.1.9.1": "emailAddress",
    "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionC",
}
_SIGNATURE_SHORT_NAMES = {
    "1.2.840.113549.1.1.4": "RSA-MD5",
    "1.2.840.113549.1.1.5": "RSA-SHA1",
    "1.2.840.113549.1.1.14": "RSA-SHA224",
    "1.2.840.113549.1.1.11": "RSA-SHA256",
    "1.2.840.113549.1.1.12": "RSA-SHA384",
    "1.2.840.113549.1.1.13": "RSA-SHA512",
    "1.2.840.113549.1.1.10": "RSASSA-PSS",
    "1.2.840.10045.4.1": "ecdsa-with-SHA1",
    "1.2.840.10045.4.3.1": "ecdsa-with-SHA224",
    "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
    "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
    "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
    "1.2.840.10040.4.3": "DSA-SHA1",
    "2.16.840.1.101.3.4.3.1": "dsa_with_SHA224",
    "2.16.840.1.101.3.4.3.2": "dsa_with_SHA256",
    "1.3.101.112": "ED25519",
    "1.3.101.113": "ED448",
}


def certificate_model(der: bytes, now: float | None = None) -> dict:
    """The healthCertificate model of a DER certificate; health_certificate_expired once it has expired."""
    from cryptography import x509  # imported here: the rest of the engine does not need it

    try:
        certificate = x509.load_der_x509_certificate(der)
    except ValueError as error:
        raise AppwriteError("health_invalid_host", f"The certificate presented could not be read: {error}") from None
    valid_from = int(certificate.not_valid_before_utc.timestamp())
    valid_to = int(certificate.not_valid_after_utc.timestamp())
    if valid_to < (time.time() if now is None else now):
        raise AppwriteError("health_certificate_expired", "The SSL certificate for the domain has expired.")

    def values(name: x509.Name, oid: str) -> list[str]:
        return [str(attribute.value) for attribute in name if attribute.oid.dotted_string == oid]

    common_names = values(certificate.subject, "2.5.4.3")
    organisations = values(certificate.issuer, "2.5.4.10")
    signature_oid = certificate.signature_algorithm_oid
    return {
        "name": oneline(certificate.subject),
        "subjectSN": common_names[-1] if common_names else "",
        "issuerOrganisation": organisations[-1] if organisations else "",
        "validFrom": str(valid_from),
        "validTo": str(valid_to),
        "signatureTypeSN": _SIGNATURE_SHORT_NAMES.get(signature_oid.dotted_string, signature_oid.dotted_string),
    }


def oneline(name: Any) -> str:
    """A distinguished name as OpenSSL prints it on one line: `/C=US/O=Example/CN=example.com`."""
    parts = []
    for rdn in name.rdns:
        attributes = [
            f"{_NAME_SHORT_NAMES.get(attribute.oid.dotted_string, attribute.rfc4514_attribute_name)}={attribute.value}"
            for attribute in rdn
        ]
        parts.append("+".join(attributes))
    return "".join(f"/{part}" for part in parts)


@handles("health.getCertificate")
def get_certificate(call: Call) -> dict:
    host = host_of(call.params.get("domain"))
    try:
        der = peer_certificate(host, HTTPS_PORT, CERTIFICATE_TIMEOUT)
    except OSError as error:
        reason = str(error) or type(error).__name__
        raise AppwriteError("health_invalid_host", f"Failed to connect to host {host}: {reason}") from None
    return certificate_model(der)
