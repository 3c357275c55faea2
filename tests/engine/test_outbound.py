"""Where the engine's own requests may go (outbound.py): which addresses are public, every redirect checked,
the checked address the one connected to, TLS still checked for the name; with real sockets on loopback."""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterator

import pytest

from mcp_server.engine.outbound import Failed, Outbound, Refused, public
from tests.sites import Site
from tests.tls import self_signed

SECOND_LOOPBACK = "127.0.0.2"  # Linux answers on all of 127.0.0.0/8


class SecondLoopbackOnly(Outbound):
    """A policy for these tests: requests may go to 127.0.0.2 and nowhere else."""

    def permits(self, address) -> bool:
        return address == ipaddress.ip_address(SECOND_LOOPBACK)


def get(outbound: Outbound, url: str, timeout: float = 5):
    return outbound.get(url, timeout=timeout, max_bytes=1 << 20, max_redirects=3, headers={})


@pytest.fixture
def permitted(site: Site) -> Iterator[Site]:
    """A second site on 127.0.0.2, at the same port as `site` (on 127.0.0.1)."""
    served = Site(SECOND_LOOPBACK, site.port)
    yield served
    served.close()


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("8.8.8.8", True),
        ("93.184.216.34", True),
        ("2606:4700:4700::1111", True),
        ("::ffff:8.8.8.8", True),
        ("2002:808:808::1", True),
        ("127.0.0.1", False),
        ("127.255.0.9", False),
        ("0.0.0.0", False),
        ("10.1.2.3", False),
        ("172.31.255.255", False),
        ("192.168.0.1", False),
        ("100.64.0.1", False),
        ("100.127.255.254", False),
        ("169.254.169.254", False),
        ("192.0.2.10", False),
        ("198.18.0.1", False),
        ("224.0.0.251", False),
        ("239.255.255.250", False),
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("::", False),
        ("::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:169.254.169.254", False),
        ("::127.0.0.1", False),
        ("2002:7f00:1::", False),
        ("2002:a00:1::", False),
        ("64:ff9b::7f00:1", False),
        ("fc00::1", False),
        ("fd12:3456::1", False),
        ("fe80::1", False),
        ("fec0::1", False),
        ("ff02::1", False),
        ("ff0e::1", False),
        ("2001:db8::1", False),
        ("2001::1", False),
    ],
)
def test_public_addresses(address, expected):
    assert public(ipaddress.ip_address(address)) is expected


def test_every_redirect_is_checked(site, permitted):
    site.add("/photo.png", b"private")
    permitted.add("/photo.png", b"permitted")
    permitted.redirects["/here"] = "/photo.png"
    assert get(SecondLoopbackOnly(), permitted.base + "/here").body == b"permitted"
    for path, location in {
        "/to-loopback": site.base + "/photo.png",
        "/to-localhost": f"http://localhost:{site.port}/photo.png",
        "/to-a-number": f"http://2130706433:{site.port}/photo.png",
        "/then": "/to-loopback",
    }.items():
        permitted.redirects[path] = location
        with pytest.raises(Refused) as refused:
            get(SecondLoopbackOnly(), permitted.base + path)
        assert str(refused.value).startswith("the URL it redirects to leads to a loopback, private or reserved")
    assert site.requests == []
    assert permitted.requests == [
        *("/here", "/photo.png"),
        *("/to-loopback", "/to-localhost", "/to-a-number"),
        *("/then", "/to-loopback"),
    ]


def test_redirects_are_bounded(permitted):
    permitted.redirects["/loop"] = "/loop"
    with pytest.raises(Failed, match="more than 3 redirects"):
        get(SecondLoopbackOnly(), permitted.base + "/loop")
    assert permitted.requests == ["/loop"] * 4
    permitted.redirects["/file"] = "file:///etc/passwd"
    with pytest.raises(Failed, match="the URL it redirects to is not an http or https URL"):
        get(SecondLoopbackOnly(), permitted.base + "/file")


def test_the_address_checked_is_the_address_connected_to(site, permitted, monkeypatch):
    """A name whose DNS answer changes after the check (rebinding) is still reached at the checked address."""
    site.add("/photo.png", b"rebound")
    permitted.add("/photo.png", b"checked")
    lookups = []
    resolve = socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):
        if host != "rebinding.test":
            return resolve(host, port, *args, **kwargs)
        lookups.append(host)
        address = SECOND_LOOPBACK if len(lookups) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    answer = get(SecondLoopbackOnly(), f"http://rebinding.test:{site.port}/photo.png")
    assert answer.body == b"checked"
    assert answer.url == f"http://rebinding.test:{site.port}/photo.png"
    assert lookups == ["rebinding.test"]
    assert permitted.hosts == [f"rebinding.test:{site.port}"]
    assert site.requests == []


def test_any_private_address_of_a_name_refuses_it(site, permitted, monkeypatch):
    resolve = socket.getaddrinfo

    def two_addresses(host, port, *args, **kwargs):
        if host != "mixed.test":
            return resolve(host, port, *args, **kwargs)
        return [
            (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))
            for address in (SECOND_LOOPBACK, "127.0.0.1")
        ]

    monkeypatch.setattr(socket, "getaddrinfo", two_addresses)
    with pytest.raises(Refused):
        get(SecondLoopbackOnly(), f"http://mixed.test:{site.port}/")
    assert permitted.requests == site.requests == []


def test_tls_still_checks_the_certificate_of_the_name(tmp_path):
    cert, key, _ = self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    secure = Site(context=context)
    try:
        secure.add("/photo.png", b"image")
        with pytest.raises(Failed) as failed:
            get(Outbound(allow_private=True), f"https://localhost:{secure.port}/photo.png")
        assert not isinstance(failed.value, Refused)
        assert str(failed.value).startswith("the host could not be reached")
        assert secure.server_names == ["localhost"]
        assert secure.requests == []
    finally:
        secure.close()
