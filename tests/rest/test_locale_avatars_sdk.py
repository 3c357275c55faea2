"""The locale and avatars services through `baas-mcp api` with the official Python SDK (appwrite 16.0.0):
JSON answers parse into the SDK's models, images come back as raw PNG bytes."""

from __future__ import annotations

import io
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from appwrite.client import Client
from appwrite.enums.browser import Browser
from appwrite.enums.credit_card import CreditCard
from appwrite.enums.flag import Flag
from appwrite.models.country_list import CountryList
from appwrite.models.currency_list import CurrencyList
from appwrite.models.locale import Locale as LocaleModel
from appwrite.services.avatars import Avatars
from appwrite.services.locale import Locale
from PIL import Image

from tests.commands import API_LINE, ServeProcess, create_key, serve_env, serving, start_api_server
from tests.rest.sdk_errors import raised
from tests.sites import Site
from tests.tls import self_signed

PROJECT = "default"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass
class Api:
    server: ServeProcess
    data_dir: Path
    endpoint: str
    key: str
    other_key: str

    def client(self, key: str | None = None) -> Client:
        """An SDK client with the locale and avatars key (or `key`; "" for none: a guest)."""
        client = Client().set_endpoint(self.endpoint).set_project(PROJECT)
        chosen = self.key if key is None else key
        if chosen:
            client.set_key(chosen)
        return client


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> Iterator[Api]:
    data_dir = tmp_path_factory.mktemp("locale-avatars") / "data"
    key = create_key(data_dir, "locale.read,avatars.read")
    other = create_key(data_dir, "rows.read")
    server = start_api_server(data_dir)
    try:
        yield Api(server, data_dir, server.url("/v1"), key["secret"], other["secret"])
    finally:
        code = server.stop()
    assert code == 0, f"the API server did not shut down cleanly ({code}): {server.stderr.text()}"


def png_image(data: bytes) -> Image.Image:
    assert isinstance(data, bytes) and data.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# ---------------------------------------------------------------------------------------------
# locale


def test_countries(api):
    countries = Locale(api.client()).list_countries()
    assert isinstance(countries, CountryList)
    assert countries.total == len(countries.countries) == 249
    names = {country.code: country.name for country in countries.countries}
    assert names["US"] == "United States"
    assert names["FR"] == "France"


def test_eu_countries(api):
    eu = Locale(api.client()).list_countries_eu()
    assert isinstance(eu, CountryList)
    assert eu.total == 27
    assert {"DE", "FR", "NL"} <= {country.code for country in eu.countries}
    assert "GB" not in {country.code for country in eu.countries}


def test_get(api):
    locale = Locale(api.client()).get()
    assert isinstance(locale, LocaleModel)
    assert locale.ip == "127.0.0.1"
    assert (locale.countrycode, locale.country, locale.continentcode, locale.eu) == ("--", "Unknown", "--", False)


def test_every_locale_list_parses(api):
    service = Locale(api.client())
    assert service.list_continents().total == 7
    assert service.list_countries_phones().total > 230
    currencies = service.list_currencies()
    assert isinstance(currencies, CurrencyList) and currencies.total > 150
    assert service.list_languages().total > 180
    codes = {code.code: code.name for code in service.list_codes().localecodes}
    assert codes["en-us"] == "English (United States)"


# ---------------------------------------------------------------------------------------------
# avatars


def test_initials(api):
    data = Avatars(api.client()).get_initials(name="Ada Lovelace", width=64, height=64)
    image = png_image(data)
    assert image.size == (64, 64)
    assert image.convert("RGBA").getpixel((0, 0)) == (0xFE, 0x95, 0x67, 255)
    tinted = png_image(Avatars(api.client()).get_initials(name="Ada", width=10, height=20, background="1e90ff"))
    assert tinted.size == (10, 20)
    assert tinted.convert("RGB").getpixel((0, 0)) == (30, 144, 255)


def test_qr(api):
    image = png_image(Avatars(api.client()).get_qr(text="https://appwrite.io", size=300, margin=2))
    assert image.size == (300, 300)
    assert png_image(Avatars(api.client()).get_qr(text="hi")).size == (400, 400)


def test_flag_browser_and_card(api):
    avatars = Avatars(api.client())
    assert png_image(avatars.get_flag(Flag.GERMANY)).size == (100, 100)
    assert png_image(avatars.get_flag(Flag.JAPAN, width=160, height=120, quality=90)).size == (160, 120)
    assert png_image(avatars.get_browser(Browser.MOZILLA_FIREFOX, width=48, height=48)).size == (48, 48)
    assert png_image(avatars.get_credit_card(CreditCard.VISA, width=200, height=126)).size == (200, 126)


def test_guests_may_use_locale_and_avatars(api):
    guest = api.client(key="")
    assert Locale(guest).list_countries().total == 249
    assert png_image(Avatars(guest).get_initials(name="Guest", width=16, height=16)).size == (16, 16)


def test_a_key_without_the_scopes_is_refused(api):
    error = raised(Locale(api.client(key=api.other_key)).list_countries)
    assert (error.code, error.type) == (401, "general_unauthorized_scope")
    error = raised(Avatars(api.client(key=api.other_key)).get_qr, text="x")
    assert (error.code, error.type) == (401, "general_unauthorized_scope")


def test_errors_come_back_as_appwrite_errors(api):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = raised(Avatars(api.client()).get_image, url=f"http://127.0.0.1:{port}/a.png")
    assert (error.code, error.type) == (404, "avatar_remote_url_failed")
    error = raised(Avatars(api.client()).get_initials, name="Ada", width=5000)
    assert (error.code, error.type) == (400, "general_argument_invalid")
    error = raised(Avatars(api.client()).get_screenshot, url="https://example.com")
    assert (error.code, error.type) == (405, "general_not_implemented")


def test_media_headers(api):
    with httpx.Client(base_url=api.endpoint, headers={"X-Appwrite-Project": PROJECT}) as http:
        inline = http.get("/avatars/flags/it", params={"width": 30, "height": 20})
        assert inline.status_code == 200
        assert inline.headers["content-type"] == "image/png"
        assert inline.headers["content-disposition"].startswith("inline")
        assert png_image(inline.content).size == (30, 20)
        download = http.get("/avatars/qr", params={"text": "hello", "download": "true"})
        assert download.status_code == 200
        assert download.headers["content-disposition"] == "attachment; filename*=UTF-8''qr.png"


def png_of(color: tuple[int, int, int]) -> bytes:
    image = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(image, "PNG")
    return image.getvalue()


def test_guests_cannot_make_the_server_fetch_private_addresses(api, site):
    url = site.add("/photo.png", png_of((255, 0, 0)))
    with httpx.Client(base_url=api.endpoint) as http:
        for path in ("/avatars/image", "/avatars/favicon"):
            for form in (url, url.replace("127.0.0.1", "2130706433"), url.replace("127.0.0.1", "[::ffff:127.0.0.1]")):
                answer = http.get(path, params={"url": form, "project": PROJECT})
                assert answer.status_code == 404, answer.text
                error = answer.json()
                assert error["type"] == "avatar_remote_url_failed"
                assert "private" in error["message"] and "--allow-private-urls" in error["message"]
    error = raised(Avatars(api.client(key="")).get_image, url=url)
    assert (error.code, error.type) == (404, "avatar_remote_url_failed")
    assert site.requests == []


def test_allow_private_urls_lets_the_api_fetch_from_this_machine(tmp_path, site):
    cert, key, _ = self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    secure = Site(context=context)
    served = serving(
        ServeProcess(
            *("--port", "0", "--data-dir", str(tmp_path / "data"), "--allow-private-urls"),
            command="api",
            line=API_LINE,
            env=serve_env(SSL_CERT_FILE=str(cert)),
        )
    )
    try:
        plain = site.add("/photo.png", png_of((255, 0, 0)))
        tls = secure.add("/photo.png", png_of((0, 0, 255))).replace("127.0.0.1", "localhost")
        guest = Avatars(Client().set_endpoint(served.url("/v1")).set_project(PROJECT))
        assert png_image(guest.get_image(url=plain, width=4, height=4)).convert("RGB").getpixel((1, 1)) == (255, 0, 0)
        assert png_image(guest.get_image(url=tls, width=4, height=4)).convert("RGB").getpixel((1, 1)) == (0, 0, 255)
    except Exception as error:
        raise AssertionError(f"{error}\nthe API server's log:\n{served.stderr.text()}") from error
    finally:
        code = served.stop()
        secure.close()
    assert code == 0, served.stderr.text()
    assert site.requests == ["/photo.png"]
    assert secure.requests == ["/photo.png"]
    assert (secure.hosts, secure.server_names) == ([f"localhost:{secure.port}"], ["localhost"])
