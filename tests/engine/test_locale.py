"""The locale service: every operation through Engine.call, checked against the official SDK models."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from appwrite.models.continent_list import ContinentList
from appwrite.models.country_list import CountryList
from appwrite.models.currency_list import CurrencyList
from appwrite.models.language_list import LanguageList
from appwrite.models.locale import Locale
from appwrite.models.locale_code_list import LocaleCodeList
from appwrite.models.phone_list import PhoneList

from mcp_server.engine.permissions import GUEST, key_auth, user_auth
from mcp_server.engine.registry import HANDLERS, Requester
from tests.engine.conftest import error_of

SDK_MODELS = {
    "locale": Locale,
    "localeCodeList": LocaleCodeList,
    "continentList": ContinentList,
    "countryList": CountryList,
    "phoneList": PhoneList,
    "currencyList": CurrencyList,
    "languageList": LanguageList,
}
ISO3166_TABLE = Path("/usr/share/zoneinfo/iso3166.tab")


def locale_operations(catalog) -> dict:
    return {op.id: op for op in catalog.operations if op.service == "locale"}


def test_every_locale_operation_has_a_handler(catalog):
    ids = set(locale_operations(catalog))
    assert len(ids) == 8
    assert ids - set(HANDLERS) == set()


def test_every_answer_parses_into_its_sdk_model(call, catalog):
    for op in locale_operations(catalog).values():
        result = call(op.id)
        SDK_MODELS[op.returns["model"]].model_validate(result, strict=True)
        items = [value for value in result.values() if isinstance(value, list)]
        if items:
            assert result["total"] == len(items[0]), op.id


def test_locale_scopes_and_guests(call):
    assert call("locale.listContinents", auth=GUEST)["total"] == 7
    assert call("locale.get", auth=user_auth("u1"))["countryCode"] == "--"
    assert call("locale.listCountries", auth=key_auth(frozenset({"locale.read"})))["total"] > 0
    error = error_of(call, "locale.listCountries", auth=key_auth(frozenset({"avatars.read"})))
    assert error.type == "general_unauthorized_scope"


def test_get_reports_an_unknown_place_without_a_geoip_database(engine):
    result = engine.call("locale.get", {}, requester=Requester("203.0.113.9", "tests"))
    assert result == {
        "ip": "203.0.113.9",
        "countryCode": "--",
        "country": "Unknown",
        "continentCode": "--",
        "continent": "Unknown",
        "eu": False,
        "currency": "",
    }
    # A call from this machine (the MCP tools, the command line) has no address.
    assert engine.call("locale.get", {})["ip"] == ""


def by_code(items: list[dict], key: str = "code") -> dict[str, dict]:
    mapped = {item[key]: item for item in items}
    assert len(mapped) == len(items), "codes repeat"
    return mapped


def test_countries_are_the_iso_3166_countries_sorted_by_name(call):
    result = call("locale.listCountries")
    countries = by_code(result["countries"])
    assert result["total"] == len(countries) == 249
    assert all(re.fullmatch(r"[A-Z]{2}", code) for code in countries)
    assert countries["US"]["name"] == "United States"
    assert countries["DE"]["name"] == "Germany"
    assert countries["AQ"]["name"] == "Antarctica"
    # Not countries: groupings, user-assigned and exceptionally reserved codes.
    assert not {"EU", "EZ", "UN", "ZZ", "XK", "QO", "AC", "TA", "IC"} & set(countries)
    names = [country["name"] for country in result["countries"]]
    assert names == sorted(names)


@pytest.mark.skipif(not ISO3166_TABLE.exists(), reason="no tz database table of ISO 3166 codes on this system")
def test_countries_match_the_tz_databases_iso_3166_table(call):
    codes = {line.split("\t")[0] for line in ISO3166_TABLE.read_text().splitlines() if line and line[0] != "#"}
    assert {country["code"] for country in call("locale.listCountries")["countries"]} == codes


def test_eu_countries(call):
    result = call("locale.listCountriesEU")
    eu = by_code(result["countries"])
    assert result["total"] == 27
    assert {"DE", "FR", "IT", "ES", "PL", "IE", "HR", "BG", "RO"} <= set(eu)
    assert not {"GB", "CH", "NO", "IS", "UA"} & set(eu)
    countries = by_code(call("locale.listCountries")["countries"])
    assert all(countries[code]["name"] == country["name"] for code, country in eu.items())
    names = [country["name"] for country in result["countries"]]
    assert names == sorted(names)


def test_continents(call):
    result = call("locale.listContinents")
    assert result == {
        "total": 7,
        "continents": [
            {"name": "Africa", "code": "AF"},
            {"name": "Antarctica", "code": "AN"},
            {"name": "Asia", "code": "AS"},
            {"name": "Europe", "code": "EU"},
            {"name": "North America", "code": "NA"},
            {"name": "Oceania", "code": "OC"},
            {"name": "South America", "code": "SA"},
        ],
    }


def test_phone_codes(call):
    result = call("locale.listCountriesPhones")
    phones = by_code(result["phones"], "countryCode")
    assert 235 <= result["total"] == len(phones) <= 249
    assert phones["US"] == {"code": "+1", "countryCode": "US", "countryName": "United States"}
    assert phones["GB"]["code"] == "+44"
    assert phones["DE"]["code"] == "+49"
    assert phones["JP"]["code"] == "+81"
    assert all(re.fullmatch(r"\+[1-9]\d{0,2}", phone["code"]) for phone in result["phones"])
    countries = by_code(call("locale.listCountries")["countries"])
    assert all(countries[code]["name"] == phone["countryName"] for code, phone in phones.items())
    # Sorted by calling code, as numbers: +1 first, +7 before +20.
    numbers = [int(phone["code"][1:]) for phone in result["phones"]]
    assert numbers == sorted(numbers)
    assert numbers[0] == 1


def test_currencies(call):
    result = call("locale.listCurrencies")
    currencies = by_code(result["currencies"])
    assert result["total"] == len(currencies) > 150
    assert currencies["USD"] == {
        "symbol": "$",
        "name": "US Dollar",
        "symbolNative": "$",
        "decimalDigits": 2,
        "rounding": 0,
        "code": "USD",
        "namePlural": "US dollars",
    }
    assert currencies["EUR"]["symbol"] == "€"
    assert currencies["EUR"]["namePlural"] == "euros"
    assert currencies["JPY"]["decimalDigits"] == 0
    assert currencies["JPY"]["symbolNative"] == "￥"
    assert currencies["KWD"]["decimalDigits"] == 3
    assert currencies["CAD"]["symbol"] == "CA$"
    assert currencies["CAD"]["symbolNative"] == "$"
    # Only money in use: no Deutsche Mark, no French franc.
    assert not {"DEM", "FRF", "XXX"} & set(currencies)
    codes = [currency["code"] for currency in result["currencies"]]
    assert codes == sorted(codes)
    assert all(re.fullmatch(r"[A-Z]{3}", code) for code in codes)


def test_languages(call):
    result = call("locale.listLanguages")
    languages = by_code(result["languages"])
    assert result["total"] == len(languages) > 180
    assert languages["it"] == {"name": "Italian", "code": "it", "nativeName": "Italiano"}
    assert languages["de"]["nativeName"] == "Deutsch"
    assert languages["ja"]["nativeName"] == "日本語"
    assert languages["en"]["nativeName"] == "English"
    assert all(re.fullmatch(r"[a-z]{2}", code) for code in languages)
    assert all(language["name"] and language["nativeName"] for language in result["languages"])


def test_locale_codes(call):
    result = call("locale.listCodes")
    codes = by_code(result["localeCodes"])
    assert result["total"] == len(codes) > 100
    assert codes["en-us"]["name"] == "English (United States)"
    assert codes["pt-br"]["name"] == "Portuguese (Brazil)"
    assert codes["de"]["name"] == "German"
    assert all(re.fullmatch(r"[a-z]{2}(-[a-z]{2})?", code) for code in codes)
    assert list(codes) == sorted(codes)


def test_answers_are_copies(call):
    first = call("locale.listCountries")
    first["countries"][0]["name"] = "changed"
    first["countries"].clear()
    again = call("locale.listCountries")
    assert again["total"] == len(again["countries"]) == 249
    assert again["countries"][0]["name"] != "changed"
