"""Requests the engine sends to URLs its callers name (avatars' images and favicons), and the SMTP servers
it connects to (mail.py): where they may go, and how.

A caller's URL may point anywhere, this machine and its network included, so by default a request
goes to public addresses only. The host is resolved first (every address it has), and a host with any
address that is loopback, private (RFC 1918, fc00::/7), shared (CGNAT, 100.64.0.0/10), link-local (the
cloud metadata address 169.254.169.254 among them), unspecified, multicast or reserved is refused,
numeric spellings (2130706433, 0x7f.1) and IPv6 forms carrying such an IPv4 address (::ffff:127.0.0.1,
6to4) included. The request then connects to an address that was checked, without resolving the name
again (a DNS answer that changes in between cannot move it), while TLS still verifies the certificate
of the name, sent as SNI and Host. Redirects are followed here, each hop checked the same way.
The engine option allow_private_urls (baas-mcp api and serve --allow-private-urls) lets requests go
to every address.

Failures are told in words any caller may see: a name that does not resolve, a refused connection, a
timeout and a TLS or protocol failure all read the same, so that an answer does not tell which ports
are open. Certificates are checked against certifi's roots, or SSL_CERT_FILE / SSL_CERT_DIR when set;
proxy settings of the environment are not used (a proxy would connect to addresses not checked here).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl

    import httpx

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
SCHEMES = {"http": 80, "https": 443}
ALLOW_FLAG = "--allow-private-urls"


class Failed(Exception):
    """A request that brought back no answer; its text (why) is safe to show any caller."""


class Refused(Failed):
    """The URL, or one it redirects to, leads to an address requests may not go to."""


@dataclass(frozen=True)
class Answer:
    """What a server answered: status, content type, the body, the URL that answered (after redirects), and
    its headers."""

    status: int
    content_type: str
    body: bytes
    url: str
    headers: dict[str, str] = field(default_factory=dict)


def public(address: Address) -> bool:
    """Whether `address` is a public unicast address (an IPv6 form carrying an IPv4 address: that address's)."""
    if address.version == 6:
        carried = address.ipv4_mapped or address.sixtofour
        if carried is not None:
            return public(carried)
        if address.is_site_local:
            return False
    return address.is_global and not address.is_multicast and not address.is_reserved


def unreachable(timeout: float) -> Failed:
    return Failed(
        f"the host could not be reached or did not answer within {timeout:g} s (no network access, or the host "
        "is down, unknown, too slow or without a valid TLS certificate)"
    )


def resolve(host: str, port: int, timeout: float) -> list[Address]:
    """Every address `host` has, within `timeout` seconds (a lookup taking longer is left to finish alone).

    An address written out in standard form is its own and only address (no lookup, no thread for it)."""
    if "%" not in host:
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
    found: list = []

    def look_up() -> None:
        try:
            found.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except (OSError, UnicodeError):
            found.append([])

    thread = threading.Thread(target=look_up, name="baas-mcp-resolve", daemon=True)
    thread.start()
    thread.join(max(timeout, 0))
    addresses: dict[Address, None] = {}
    for *_, sockaddr in found[0] if found else []:
        try:
            addresses[ipaddress.ip_address(sockaddr[0])] = None
        except ValueError:
            continue
    return list(addresses)


@lru_cache(maxsize=1)
def trusted_roots() -> ssl.SSLContext:
    import httpx

    return httpx.create_ssl_context(trust_env=True)


@dataclass(frozen=True)
class Outbound:
    """Where the engine's own requests may go: public addresses only, or anywhere with allow_private."""

    allow_private: bool = False

    def permits(self, address: Address) -> bool:
        return self.allow_private or public(address)

    def addresses(self, host: str, port: int, deadline: float, timeout: float, subject: str = "it") -> list[Address]:
        """Every address of `host`, resolved before `deadline`, once all of them are permitted.

        Raises Failed when the name does not resolve in time, Refused when an address is not permitted.
        """
        found = resolve(host, port, deadline - time.monotonic())
        if not found:
            raise unreachable(timeout)
        if not all(self.permits(address) for address in found):
            raise Refused(
                f"{subject} leads to a loopback, private or reserved address, which this server does not connect "
                f"to (unless started with {ALLOW_FLAG})"
            )
        return found

    def get(self, url: str, *, timeout: float, max_bytes: int, max_redirects: int, headers: dict[str, str]) -> Answer:
        """GET `url`, following up to `max_redirects` redirects, within `timeout` seconds and `max_bytes` bytes.

        Raises Refused for an address that is not permitted, Failed for anything else that brings no answer;
        an HTTP error status is an Answer.
        """
        import httpx  # imported here: only requests to remote URLs need it

        with httpx.Client(verify=trusted_roots(), trust_env=False, headers=headers) as client:
            return self.fetch(client, "GET", url, timeout=timeout, max_bytes=max_bytes, max_redirects=max_redirects)

    def fetch(
        self,
        client: httpx.Client,
        method: str,
        url: str,
        *,
        timeout: float,
        max_bytes: int,
        max_redirects: int,
        content: bytes | None = None,
        headers: dict[str, str | bytes] | None = None,
    ) -> Answer:
        """Send one request with `client` (which may keep its connections for the next), as `get` does.

        A GET follows every redirect; other methods follow only those that keep the method and body (307,
        308), and answer with the others. `headers` go to every hop, but an Authorization header only to the
        host of `url`.
        """
        import httpx

        deadline = time.monotonic() + timeout
        headers = headers or {}
        first_host = None
        for hop in range(max_redirects + 1):
            subject = "it" if hop == 0 else "the URL it redirects to"
            target = parsed(url, subject)
            first_host = first_host or target.host
            if target.host != first_host:
                headers = {name: value for name, value in headers.items() if name.lower() != "authorization"}
            try:
                response = self.send(client, method, target, subject, deadline, timeout, content, headers)
                try:
                    followed = response.is_redirect and (method == "GET" or response.status_code in (307, 308))
                    if not followed:
                        body = read(response, deadline, timeout, max_bytes)
                        content_type = response.headers.get("content-type", "")
                        return Answer(response.status_code, content_type, body, url, dict(response.headers))
                finally:
                    response.close()
            except httpx.RequestError:
                raise unreachable(timeout) from None
            url = urljoin(url, response.headers["location"])
        raise Failed(f"more than {max_redirects} redirects")

    def send(
        self,
        client: httpx.Client,
        method: str,
        target: httpx.URL,
        subject: str,
        deadline: float,
        timeout: float,
        content: bytes | None,
        headers: dict[str, str | bytes],
    ) -> httpx.Response:
        """The streamed response of `target`, sent to the addresses of its host in turn, once all are permitted."""
        import httpx

        host = target.raw_host.decode("ascii")
        addresses = self.addresses(host, target.port or SCHEMES[target.scheme], deadline, timeout, subject)
        for address in addresses[:-1]:
            try:
                request = pinned(client, method, target, host, address, deadline, content, headers)
                return client.send(request, stream=True)
            except httpx.ConnectError:
                continue
        request = pinned(client, method, target, host, addresses[-1], deadline, content, headers)
        return client.send(request, stream=True)


PUBLIC_ONLY = Outbound()


def urljoin(base: str, location: str) -> str:
    """`location` (a redirect's Location) read against `base`; kept as it is when it cannot be (parsed() says why)."""
    import httpx

    try:
        return str(httpx.URL(base).join(location))
    except httpx.InvalidURL:
        return location


def parsed(url: str, subject: str) -> httpx.URL:
    """`url` as an http(s) URL with a host, or Failed saying that `subject` is not one."""
    import httpx

    try:
        target = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise Failed(f"{subject} is not a valid URL ({error})") from None
    if target.scheme not in SCHEMES or not target.raw_host:
        raise Failed(f"{subject} is not an http or https URL with a host")
    return target


def pinned(
    client: httpx.Client,
    method: str,
    target: httpx.URL,
    host: str,
    address: Address,
    deadline: float,
    content: bytes | None = None,
    headers: dict[str, str | bytes] | None = None,
) -> httpx.Request:
    """The request for `target` sent to `address`, with the host's name as Host and for TLS (SNI, certificate)."""
    return client.build_request(
        method,
        target.copy_with(host=str(address)),
        content=content,
        headers={**(headers or {}), "Host": target.netloc.decode("ascii")},
        timeout=max(deadline - time.monotonic(), 0.001),
        extensions={"sni_hostname": host},
    )


def read(response: httpx.Response, deadline: float, timeout: float, max_bytes: int) -> bytes:
    """The body, as long as it comes before `deadline` and is at most `max_bytes` long."""
    declared = response.headers.get("content-length", "")
    too_large = Failed(f"the answer is larger than {max_bytes // (1024 * 1024)} MB")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    chunks: list[bytes] = []
    total = 0
    for chunk in response.iter_bytes():
        total += len(chunk)
        if total > max_bytes:
            raise too_large
        if time.monotonic() > deadline:
            raise unreachable(timeout)
        chunks.append(chunk)
    return b"".join(chunks)
