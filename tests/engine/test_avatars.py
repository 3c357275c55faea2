"""The avatars service: every operation through Engine.call; images decoded with Pillow, remote ones
fetched from a small HTTP server in the test (on loopback: by an engine that allows private URLs)."""

from __future__ import annotations

import base64
import io
import socket
import time
from collections.abc import Callable, Iterator

import pytest
import segno
from PIL import Image

from mcp_server.engine import Engine
from mcp_server.engine.permissions import ADMIN, GUEST, key_auth, user_auth
from mcp_server.engine.platform import avatars
from mcp_server.engine.registry import HANDLERS, Call
from mcp_server.uploads import Media
from tests.engine.conftest import error_of

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RED, GREEN, BLUE, YELLOW = (255, 0, 0), (0, 160, 0), (0, 0, 255), (250, 220, 0)


def image_of(media: Media) -> Image.Image:
    assert isinstance(media, Media)
    assert media.content_type == "image/png"
    assert media.data.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(media.data))
    image.load()
    assert image.format == "PNG"
    return image


def encoded(color: tuple[int, int, int], size: tuple[int, int], kind: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, color)
    if kind == "ICO":
        image.save(buffer, format="ICO", sizes=[size])
    else:
        image.save(buffer, format=kind)
    return buffer.getvalue()


def rgb_at(image: Image.Image, x: int, y: int) -> tuple[int, int, int]:
    return image.convert("RGBA").getpixel((x, y))[:3]


def transparent_pixels(image: Image.Image) -> int:
    return image.getchannel("A").histogram()[0]


def avatars_operations(catalog) -> dict:
    return {op.id: op for op in catalog.operations if op.service == "avatars"}


def test_every_avatars_operation_has_a_handler(catalog):
    ids = set(avatars_operations(catalog))
    assert len(ids) == 8
    assert ids - set(HANDLERS) == set()


def test_guests_and_scopes(call):
    assert image_of(call("avatars.getInitials", auth=GUEST, name="Ada", width=10, height=10)).size == (10, 10)
    assert image_of(call("avatars.getFlag", auth=key_auth(frozenset({"avatars.read"})), code="fr")).size == (100, 100)
    error = error_of(call, "avatars.getQR", auth=key_auth(frozenset({"locale.read"})), text="x")
    assert error.type == "general_unauthorized_scope"


# ---------------------------------------------------------------------------------------------
# initials


@pytest.mark.parametrize(
    ("name", "initials"),
    [
        ("Ada Lovelace", "AL"),
        ("ada_lovelace", "AL"),
        ("Ada Byron Lovelace", "AB"),
        ("ada", "A"),
        ("  ", ""),
        ("", ""),
        ("émile zola", "ÉZ"),
        ("#hash tag", "T"),
        ("7 Samurai", "7S"),
    ],
)
def test_initials_of(name, initials):
    assert avatars.initials_of(name) == initials


def test_initials_image(call):
    media = call("avatars.getInitials", name="Ada Lovelace", width=64, height=48)
    assert media.filename == "initials.png"
    image = image_of(media)
    assert image.size == (64, 48)
    # Appwrite's pick for A (65) + L (76) = 141: the theme at 1.
    assert avatars.theme_color("AL") == "#FE9567"
    assert rgb_at(image, 0, 0) == (0xFE, 0x95, 0x67)
    # The letters are cut out of the background.
    assert transparent_pixels(image) > 50
    # The same name, the same image; another name, another color.
    assert call("avatars.getInitials", name="Ada Lovelace", width=64, height=48).data == media.data
    assert rgb_at(image_of(call("avatars.getInitials", name="Cy", width=8, height=8)), 0, 0) == (0x7C, 0x67, 0xFE)


def test_initials_defaults_and_sizes(call):
    assert image_of(call("avatars.getInitials", name="Ada")).size == (500, 500)
    assert image_of(call("avatars.getInitials", name="Ada", width=0, height=64)).size == (64, 64)
    assert image_of(call("avatars.getInitials", name="Ada", width=30, height=0)).size == (30, 30)
    assert image_of(call("avatars.getInitials", name="Ada", width=0, height=0)).size == (500, 500)
    assert image_of(call("avatars.getInitials", name="Ada", width=2000, height=1)).size == (2000, 1)


def test_initials_background(call):
    assert rgb_at(image_of(call("avatars.getInitials", name="Ada", background="1e90ff")), 0, 0) == (30, 144, 255)
    assert rgb_at(image_of(call("avatars.getInitials", name="Ada", background="F0f")), 0, 0) == (255, 0, 255)
    for bad in ("#1e90ff", "zzzzzz", "12345", "red"):
        error = error_of(call, "avatars.getInitials", name="Ada", background=bad)
        assert error.type == "general_argument_invalid", bad
        assert "background" in error.message


def test_initials_bad_arguments(call):
    for params in ({"width": 2001}, {"height": -1}, {"name": "x" * 129}):
        assert error_of(call, "avatars.getInitials", **params).type == "general_argument_invalid", params
    assert image_of(call("avatars.getInitials", name="x" * 128, width=4, height=4)).size == (4, 4)


def test_initials_of_the_signed_in_user(call):
    call("users.create", userId="grace", name="Grace Hopper", email="grace@example.com")
    call("users.create", userId="zed", email="zed@example.com")
    grace = call("avatars.getInitials", auth=user_auth("grace"), width=40, height=40)
    assert grace.data == call("avatars.getInitials", name="Grace Hopper", width=40, height=40).data
    # A user without a name: the email's initial.
    zed = call("avatars.getInitials", auth=user_auth("zed"), width=40, height=40)
    assert zed.data == call("avatars.getInitials", name="zed@example.com", width=40, height=40).data
    # A name given wins over the user's.
    named = call("avatars.getInitials", auth=user_auth("grace"), name="Ada", width=40, height=40)
    assert named.data == call("avatars.getInitials", name="Ada", width=40, height=40).data


def test_initials_without_a_name_is_a_placeholder(call):
    for auth in (GUEST, ADMIN):
        image = image_of(call("avatars.getInitials", auth=auth, width=100, height=100))
        assert rgb_at(image, 0, 0) == avatars.rgb(avatars.PLACEHOLDER_BACKGROUND)
        assert transparent_pixels(image) > 1000  # the silhouette
        assert image.getchannel("A").getpixel((50, 25)) == 0  # its head
    custom = image_of(call("avatars.getInitials", background="000000", width=10, height=10))
    assert rgb_at(custom, 0, 0) == (0, 0, 0)


# ---------------------------------------------------------------------------------------------
# flags, browsers, credit cards


def test_flag(call):
    media = call("avatars.getFlag", code="de")
    assert media.filename == "flag-de.png"
    image = image_of(media)
    assert image.size == (100, 100)
    assert rgb_at(image, 1, 1) == avatars.color_of("DE")
    assert rgb_at(image_of(call("avatars.getFlag", code="fr")), 1, 1) != rgb_at(image, 1, 1)
    assert image_of(call("avatars.getFlag", code="jp", width=320, height=200)).size == (320, 200)
    assert image_of(call("avatars.getFlag", code="jp", width=0, height=0)).size == avatars.FLAG_SIZE
    assert image_of(call("avatars.getFlag", code="jp", width=200, height=0)).size == (200, 150)
    assert image_of(call("avatars.getFlag", code="jp", width=0, height=30)).size == (40, 30)
    assert image_of(call("avatars.getFlag", code="vc", width=1, height=1)).size == (1, 1)


def test_flag_codes(call, catalog):
    op = catalog.get("avatars.getFlag")
    codes = op.input_schema["properties"]["code"]["enum"]
    for code in codes:
        assert image_of(call("avatars.getFlag", code=code, width=8, height=6)).size == (8, 6)
    for bad in ("DE", "xx", "eu", ""):
        assert error_of(call, "avatars.getFlag", code=bad).type == "general_argument_invalid", bad
    # A code the catalog would let through but no country has (the catalog is checked first in Engine.call).
    params = {"code": "zz", "width": 100, "height": 100, "quality": -1}
    error = error_of(HANDLERS["avatars.getFlag"], Call(None, ADMIN, None, op, params))
    assert (error.type, error.code) == ("avatar_not_found", 404)


def test_quality_sets_the_png_compression(call):
    stored = call("avatars.getFlag", code="de", width=400, height=300, quality=0)
    packed = call("avatars.getFlag", code="de", width=400, height=300, quality=100)
    assert len(stored.data) > len(packed.data)
    assert image_of(stored).tobytes() == image_of(packed).tobytes()
    for bad in (101, -2):
        assert error_of(call, "avatars.getFlag", code="de", quality=bad).type == "general_argument_invalid"


@pytest.mark.parametrize(
    ("operation", "names"), [("getBrowser", avatars.BROWSERS), ("getCreditCard", avatars.CREDIT_CARDS)]
)
def test_icon_names_are_appwrites(operation, names, catalog, spec):
    codes = catalog.get(f"avatars.{operation}").input_schema["properties"]["code"]["enum"]
    assert list(names) == codes
    path = "/avatars/browsers/{code}" if operation == "getBrowser" else "/avatars/credit-cards/{code}"
    (schema,) = [param["schema"] for param in spec["paths"][path]["get"]["parameters"] if param["name"] == "code"]
    assert dict(zip(schema["enum"], schema["x-enum-keys"], strict=True)) == names


def test_browser_and_credit_card_icons(call):
    for code in avatars.BROWSERS:
        media = call("avatars.getBrowser", code=code, width=60, height=60)
        assert media.filename == f"browser-{code}.png"
        image = image_of(media)
        assert image.size == (60, 60)
        assert image.getchannel("A").getpixel((0, 0)) == 0  # a disc: the corners are clear
        assert rgb_at(image, 30, 3) == avatars.color_of(f"browser:{code}")
    for code in avatars.CREDIT_CARDS:
        media = call("avatars.getCreditCard", code=code, width=160, height=101)
        assert media.filename == f"credit-card-{code}.png"
        image = image_of(media)
        assert image.size == (160, 101)
        assert image.getchannel("A").getpixel((0, 0)) == 0  # rounded corners
        assert rgb_at(image, 80, 3) == avatars.color_of(f"card:{code}")
    assert image_of(call("avatars.getBrowser", code="ff")).size == (100, 100)
    assert image_of(call("avatars.getCreditCard", code="visa", width=0, height=0)).size == avatars.CARD_SIZE
    assert image_of(call("avatars.getCreditCard", code="visa", width=200, height=0)).size == (200, 126)
    assert error_of(call, "avatars.getBrowser", code="xx").type == "general_argument_invalid"
    assert error_of(call, "avatars.getCreditCard", code="visa", width=3000).type == "general_argument_invalid"


# ---------------------------------------------------------------------------------------------
# QR codes


def modules_of(image: Image.Image, count: int) -> list[list[bool]]:
    """Dark (True) or light at the center of each of count x count modules."""
    side = image.width / count
    gray = image.convert("L")
    return [
        [gray.getpixel((int((x + 0.5) * side), int((y + 0.5) * side))) < 128 for x in range(count)]
        for y in range(count)
    ]


def test_qr_holds_the_text(call):
    text = "https://example.com/invite?code=42"
    media = call("avatars.getQR", text=text, size=400, margin=2)
    assert (media.filename, media.download) == ("qr.png", False)
    image = image_of(media)
    assert image.size == (400, 400)
    symbol = segno.make(text, micro=False)
    expected = [[bool(module) for module in row] for row in symbol.matrix]
    margin = 2
    count = len(expected) + 2 * margin
    found = modules_of(image, count)
    assert [row[margin:-margin] for row in found[margin:-margin]] == expected
    assert not any(found[0]) and not any(found[-1])  # the quiet zone


def light_rows_on_top(image: Image.Image) -> int:
    gray = image.convert("L")
    rows = 0
    while rows < image.height and all(gray.getpixel((x, rows)) > 128 for x in range(image.width)):
        rows += 1
    return rows


def test_qr_size_margin_and_download(call):
    assert image_of(call("avatars.getQR", text="hi")).size == (400, 400)
    assert image_of(call("avatars.getQR", text="hi", size=1000)).size == (1000, 1000)
    assert image_of(call("avatars.getQR", text="hi", size=1)).size == (1, 1)
    none = light_rows_on_top(image_of(call("avatars.getQR", text="hi", size=500, margin=0)))
    some = light_rows_on_top(image_of(call("avatars.getQR", text="hi", size=500, margin=1)))
    wide = light_rows_on_top(image_of(call("avatars.getQR", text="hi", size=500, margin=10)))
    assert none == 0 < some < wide
    assert call("avatars.getQR", text="hi", download=True).download is True
    for params in ({"size": 0}, {"size": 1001}, {"margin": -1}, {"margin": 11}, {"text": ""}, {"text": "x" * 513}):
        error = error_of(call, "avatars.getQR", **{"text": "hi", **params})
        assert error.type == "general_argument_invalid", params


# ---------------------------------------------------------------------------------------------
# remote images, from a local web server


@pytest.fixture
def local_call(tmp_path) -> Iterator[Callable]:
    """Like `call`, on an engine whose requests may go to loopback and private addresses (allow_private_urls)."""
    engine = Engine(tmp_path / "local", list_cache_ttl=0, allow_private_urls=True)
    yield lambda operation_id, auth=ADMIN, **params: engine.call(operation_id, params, auth)
    engine.close()


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_image_is_fetched_and_cropped(local_call, site):
    url = site.add("/photo.png", encoded(RED, (200, 100)))
    media = local_call("avatars.getImage", url=url, width=50, height=50)
    assert media.filename == "image.png"
    image = image_of(media)
    assert image.size == (50, 50)
    assert rgb_at(image, 25, 25) == RED
    assert image_of(local_call("avatars.getImage", url=url)).size == (400, 400)
    assert image_of(local_call("avatars.getImage", url=url, width=100, height=0)).size == (100, 50)
    assert image_of(local_call("avatars.getImage", url=url, width=0, height=25)).size == (50, 25)
    assert image_of(local_call("avatars.getImage", url=url, width=0, height=0)).size == (200, 100)


def test_image_formats_and_redirects(local_call, site):
    jpeg = site.add("/photo.jpg", encoded(BLUE, (64, 64), "JPEG"), "image/jpeg")
    assert image_of(local_call("avatars.getImage", url=jpeg, width=10, height=10)).size == (10, 10)
    gif = site.add("/anim.gif", encoded(GREEN, (30, 30), "GIF"), "image/gif")
    assert rgb_at(image_of(local_call("avatars.getImage", url=gif, width=0, height=0)), 5, 5) == GREEN
    site.redirects["/old"] = "/photo.jpg"
    assert image_of(local_call("avatars.getImage", url=site.base + "/old", width=12, height=12)).size == (12, 12)


def test_image_that_is_not_there_or_not_an_image(local_call, site):
    missing = error_of(local_call, "avatars.getImage", url=site.base + "/nothing.png")
    assert (missing.type, missing.code) == ("avatar_image_not_found", 404)
    assert "/nothing.png" in missing.message and "404" in missing.message
    page = site.add("/page.html", b"<html><body>hello</body></html>", "text/html")
    not_image = error_of(local_call, "avatars.getImage", url=page)
    assert not_image.type == "avatar_image_not_found"
    assert page in not_image.message and "text/html" in not_image.message
    broken = site.add("/broken.png", PNG_SIGNATURE + b"garbage")
    assert error_of(local_call, "avatars.getImage", url=broken).type == "avatar_image_not_found"


def test_unreachable_image(local_call):
    url = f"http://127.0.0.1:{closed_port()}/photo.png"
    error = error_of(local_call, "avatars.getImage", url=url)
    assert (error.type, error.code) == ("avatar_remote_url_failed", 404)
    assert url in error.message
    assert "could not" in error.message.lower() and "network" in error.message


def test_fetch_limits(local_call, site, monkeypatch):
    monkeypatch.setattr(avatars, "MAX_FETCH_BYTES", 1000)
    big = site.add("/big.png", encoded(RED, (400, 400), "BMP"), "image/bmp")
    error = error_of(local_call, "avatars.getImage", url=big)
    assert error.type == "avatar_remote_url_failed" and "larger than" in error.message
    monkeypatch.setattr(avatars, "FETCH_TIMEOUT", 0.3)
    slow = site.add("/slow.png", encoded(RED, (4, 4)))
    site.delays["/slow.png"] = 1.5
    started = time.monotonic()
    error = error_of(local_call, "avatars.getImage", url=slow)
    assert error.type == "avatar_remote_url_failed" and "0.3 s" in error.message
    assert time.monotonic() - started < 1.4
    site.redirects["/loop"] = "/loop"
    error = error_of(local_call, "avatars.getImage", url=site.base + "/loop")
    assert error.type == "avatar_remote_url_failed" and "redirects" in error.message


def test_image_url_must_be_http(call):
    for url in ("ftp://example.com/a.png", "file:///etc/passwd", "not a url", "http://"):
        assert error_of(call, "avatars.getImage", url=url).type == "general_argument_invalid", url
    assert error_of(call, "avatars.getImage", url="http://example.com/a.png", width=2001).type == (
        "general_argument_invalid"
    )


def page(*links: str, head: str = "") -> bytes:
    return f"<!doctype html><html><head>{head}{''.join(links)}<title>t</title></head><body>x</body></html>".encode()


def test_favicon_takes_the_largest_icon(local_call, site):
    site.add("/icons/small.png", encoded(GREEN, (32, 32)))
    site.add("/icons/large.png", encoded(BLUE, (64, 64)))
    site.add("/icons/vector.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml")
    site.add("/apple.png", encoded(RED, (180, 180)))
    url = site.add(
        "/",
        page(
            '<link rel="shortcut icon" href="/icons/small.png" sizes="32x32">',
            '<link rel="apple-touch-icon" href="/apple.png" sizes="180x180">',
            '<link rel="icon" type="image/svg+xml" href="/icons/vector.svg" sizes="any">',
            '<link rel="icon" href="icons/large.png" sizes="16x16 64x64">',
        ),
        "text/html; charset=utf-8",
    )
    media = local_call("avatars.getFavicon", url=url)
    assert media.filename == "favicon.png"
    image = image_of(media)
    assert image.size == (avatars.FAVICON_SIDE, avatars.FAVICON_SIDE) == (56, 56)
    assert rgb_at(image, 28, 28) == BLUE
    assert "/apple.png" not in site.requests and "/icons/vector.svg" not in site.requests


def test_favicon_falls_back_to_favicon_ico(local_call, site):
    site.add("/favicon.ico", encoded(YELLOW, (48, 48), "ICO"), "image/x-icon")
    bare = site.add("/bare.html", page(), "text/html")
    assert rgb_at(image_of(local_call("avatars.getFavicon", url=bare)), 28, 28) == YELLOW
    # Linked icons that are missing or not images are skipped.
    site.add("/text.png", b"just text", "text/plain")
    broken = site.add("/broken.html", page('<link rel="icon" href="/gone.png">', '<link rel="icon" href="/text.png">'))
    assert rgb_at(image_of(local_call("avatars.getFavicon", url=broken)), 28, 28) == YELLOW
    # <base href> moves relative links; data: URLs are icons too.
    site.add("/assets/icon.png", encoded(GREEN, (16, 16)))
    based = site.add("/based.html", page('<link rel="icon" href="icon.png">', head='<base href="/assets/">'))
    assert rgb_at(image_of(local_call("avatars.getFavicon", url=based)), 28, 28) == GREEN
    inline = "data:image/png;base64," + base64.b64encode(encoded(RED, (8, 8))).decode()
    data_page = site.add("/inline.html", page(f'<link rel="icon" href="{inline}">'), "text/html")
    assert rgb_at(image_of(local_call("avatars.getFavicon", url=data_page)), 28, 28) == RED


def test_favicon_not_found(local_call, site):
    url = site.add("/lonely.html", page('<link rel="icon" href="/gone.png">'), "text/html")
    error = error_of(local_call, "avatars.getFavicon", url=url)
    assert (error.type, error.code) == ("avatar_icon_not_found", 404)
    assert url in error.message and "/gone.png" in error.message and "/favicon.ico" in error.message


def test_favicon_of_an_unreachable_page(local_call, site):
    url = f"http://127.0.0.1:{closed_port()}/"
    error = error_of(local_call, "avatars.getFavicon", url=url)
    assert error.type == "avatar_remote_url_failed" and url in error.message
    # A page that answers with an error: the site's /favicon.ico is still tried.
    missing = error_of(local_call, "avatars.getFavicon", url=site.base + "/no-page")
    assert missing.type == "avatar_icon_not_found" and "HTTP 404" in missing.message
    assert site.requests[-2:] == ["/no-page", "/favicon.ico"]
    site.add("/favicon.ico", encoded(YELLOW, (16, 16), "ICO"), "image/x-icon")
    assert rgb_at(image_of(local_call("avatars.getFavicon", url=site.base + "/no-page")), 28, 28) == YELLOW


def test_favicon_tries_a_few_links_then_favicon_ico(local_call, site):
    site.add("/favicon.ico", encoded(YELLOW, (16, 16), "ICO"), "image/x-icon")
    links = [f'<link rel="icon" href="/gone-{number}.png" sizes="{number}x{number}">' for number in range(1, 9)]
    url = site.add("/many.html", page(*links), "text/html")
    assert rgb_at(image_of(local_call("avatars.getFavicon", url=url)), 28, 28) == YELLOW
    assert site.requests[1:] == ["/gone-8.png", "/gone-7.png", "/gone-6.png", "/favicon.ico"]


# ---------------------------------------------------------------------------------------------
# private addresses: refused unless the engine allows them


PRIVATE_FORMS = (
    "127.0.0.1",
    "localhost",
    "2130706433",
    "0x7f.1",
    "0x7f000001",
    "127.1",
    "0.0.0.0",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[::1]",
    "[::]",
    "[2002:7f00:1::]",
)


@pytest.mark.parametrize("host", PRIVATE_FORMS)
def test_a_url_leading_to_this_machine_is_refused(call, site, host):
    url = site.add("/photo.png", encoded(RED, (8, 8))).replace("127.0.0.1", host)
    for operation in ("avatars.getImage", "avatars.getFavicon"):
        for auth in (GUEST, ADMIN):
            error = error_of(call, operation, auth=auth, url=url)
            assert (error.type, error.code) == ("avatar_remote_url_failed", 404), error.message
            assert "private" in error.message and "--allow-private-urls" in error.message
    assert site.requests == []


def test_an_octal_address_is_not_a_url_that_can_be_fetched(call, local_call, site):
    url = site.add("/photo.png", encoded(RED, (8, 8))).replace("127.0.0.1", "0177.0.0.1")
    for run in (call, local_call):
        error = error_of(run, "avatars.getImage", url=url)
        assert error.type == "avatar_remote_url_failed" and "not a valid URL" in error.message
    assert site.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://10.0.0.1/a.png",
        "http://172.16.5.4/a.png",
        "http://192.168.1.1/a.png",
        "http://100.64.0.1/a.png",
        "http://[fc00::1]/a.png",
        "http://[fe80::1]/a.png",
        "http://224.0.0.1/a.png",
        "http://[ff02::1]/a.png",
        "http://240.0.0.1/a.png",
        "http://255.255.255.255/a.png",
        "https://192.0.2.1/a.png",
    ],
)
def test_private_and_reserved_addresses_are_refused_without_a_connection(call, url):
    started = time.monotonic()
    error = error_of(call, "avatars.getImage", url=url)
    assert error.type == "avatar_remote_url_failed" and "private" in error.message
    assert time.monotonic() - started < 1, "refused before any connection is tried"


def test_allowing_private_urls_reaches_them(local_call, site):
    url = site.add("/photo.png", encoded(RED, (8, 8)))
    for host in ("127.0.0.1", "localhost", "2130706433"):
        image = image_of(local_call("avatars.getImage", auth=GUEST, url=url.replace("127.0.0.1", host)))
        assert rgb_at(image, 200, 200) == RED
    assert site.hosts == [f"127.0.0.1:{site.port}", f"localhost:{site.port}", f"2130706433:{site.port}"]


def test_no_answer_reads_the_same_for_a_closed_port_silence_and_an_unknown_host(local_call, monkeypatch):
    monkeypatch.setattr(avatars, "FETCH_TIMEOUT", 0.5)
    with socket.socket() as silent:  # accepts connections (the backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        urls = {
            "closed": f"http://127.0.0.1:{closed_port()}/a.png",
            "silent": f"http://127.0.0.1:{silent.getsockname()[1]}/a.png",
            "unknown": "http://no-such-host.invalid/a.png",
        }
        texts = {}
        for name, url in urls.items():
            for operation in ("avatars.getImage", "avatars.getFavicon"):
                error = error_of(local_call, operation, url=url)
                assert error.type == "avatar_remote_url_failed"
                texts[name, operation] = error.message.replace(url, "URL")
    assert texts["closed", "avatars.getImage"] == texts["silent", "avatars.getImage"]
    assert texts["closed", "avatars.getImage"] == texts["unknown", "avatars.getImage"]
    assert texts["closed", "avatars.getFavicon"] == texts["silent", "avatars.getFavicon"]
    assert texts["closed", "avatars.getFavicon"] == texts["unknown", "avatars.getFavicon"]
    assert "refused" not in str(texts).lower() and "errno" not in str(texts).lower()


def test_screenshots_need_a_browser(call):
    error = error_of(call, "avatars.getScreenshot", url="https://example.com")
    assert (error.type, error.code) == ("general_not_implemented", 405)
    assert "browser" in error.message and "Appwrite server" in error.message
    assert error_of(call, "avatars.getScreenshot", url="gopher://x").type == "general_argument_invalid"
