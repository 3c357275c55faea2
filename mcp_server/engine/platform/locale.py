"""Handlers for the locale service: countries, continents, currencies, languages and phone codes.

The data comes from the Unicode CLDR (through babel) and from libphonenumber (phonenumbers), in
English, the language Appwrite answers in when no X-Appwrite-Locale names another:

- listCountries: every ISO 3166-1 country, 249 of them: CLDR's two-letter territories without the
  codes ISO 3166 keeps for other uses (the user-assigned AA, QM-QZ, XA-XZ and ZZ, and the
  exceptionally reserved codes CLDR also names, such as EU, UN or AC).
- listCountriesEU: the member states of the European Union. CLDR groups them under the territory
  EU, but babel does not ship CLDR's territory containment, so the 27 codes are listed here.
- listContinents: Appwrite's seven continent codes, named after the CLDR regions they stand for.
- listCountriesPhones: the calling code of every country that has one (Antarctica, Bouvet Island
  and a few other uninhabited territories have none), sorted by code as Appwrite sorts them.
- listCurrencies: the currencies legal tender today in some country, with CLDR's English names
  (singular and plural), symbols (in English and in the currency's home locale), and digits.
- listLanguages: the ISO 639-1 languages, with their names in English and in themselves.
- listCodes: the locales CLDR describes as a language (ISO 639-1) alone or with a country, like
  `en-us`, named in English: "English (United States)".
- get: Appwrite looks the caller's IP address up in a GeoIP database. None ships with this
  engine, so the country is unknown, as Appwrite answers for an address its database lacks:
  countryCode and continentCode `--`, names "Unknown", eu false, and currency "" (Appwrite's null,
  as the string the response model requires).

Countries, EU countries and continents are sorted by name, byte by byte as Appwrite's strcmp does
(so "Åland Islands" comes last); phone codes by calling code; the other lists by code.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache

from babel import Locale, UnknownLocaleError, localedata
from babel.core import get_global
from babel.languages import get_official_languages
from babel.numbers import get_currency_name, get_currency_precision, get_currency_symbol, get_territory_currencies

from ..registry import Call, handles

ENGLISH = Locale("en")
UNKNOWN = "Unknown"
UNKNOWN_CODE = "--"

# ISO 3166-1 codes that are not countries: user-assigned (AA, QM-QZ, XA-XZ, ZZ) ...
_USER_ASSIGNED = re.compile(r"AA|Q[M-Z]|X[A-Z]|ZZ")
# ... and exceptionally reserved codes that CLDR names too (groupings and parts of countries).
EXCEPTIONALLY_RESERVED = frozenset("AC CP CQ DG EA EU EZ IC TA UN".split())

# The member states of the European Union (CLDR's territory group EU).
EU_MEMBERS = frozenset("AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split())

# Appwrite's continent codes and the CLDR (UN M.49) regions that name them.
CONTINENT_REGIONS = {
    "AF": "002",
    "AN": "AQ",
    "AS": "142",
    "EU": "150",
    "NA": "003",
    "OC": "009",
    "SA": "005",
}

_LOCALE_ID = re.compile(r"[a-z]{2}(?:_[A-Z]{2})?")


def by_name(items: list[dict]) -> list[dict]:
    """Sorted by name as PHP's strcmp compares UTF-8 bytes (the same order as code points)."""
    return sorted(items, key=lambda item: (item["name"], item["code"]))


def fresh(items: list[dict]) -> list[dict]:
    """Copies of cached models: a caller may change what it is given."""
    return [dict(item) for item in items]


@cache
def country_names() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code -> English name, for every country CLDR names."""
    return {
        code: name
        for code, name in ENGLISH.territories.items()
        if len(code) == 2
        and code.isalpha()
        and not _USER_ASSIGNED.fullmatch(code)
        and code not in EXCEPTIONALLY_RESERVED
    }


@cache
def countries() -> list[dict]:
    return by_name([{"name": name, "code": code} for code, name in country_names().items()])


@cache
def eu_countries() -> list[dict]:
    names = country_names()
    return by_name([{"name": names[code], "code": code} for code in EU_MEMBERS if code in names])


@cache
def continents() -> list[dict]:
    return by_name([{"name": ENGLISH.territories[region], "code": code} for code, region in CONTINENT_REGIONS.items()])


@cache
def phones() -> list[dict]:
    import phonenumbers  # imported here: its metadata takes a while to load, and only this list needs it

    result = []
    for code, name in country_names().items():
        calling_code = phonenumbers.country_code_for_region(code)
        if calling_code:
            result.append({"code": f"+{calling_code}", "countryCode": code, "countryName": name})
    return sorted(result, key=lambda phone: (int(phone["code"][1:]), phone["countryCode"]))


def native_locale(territory: str) -> Locale:
    """The locale of a country's most spoken official language there (en when CLDR knows none)."""
    for language in get_official_languages(territory, de_facto=True):
        for identifier in (f"{language}_{territory}", language):
            if localedata.exists(identifier):
                return Locale.parse(identifier)
    return ENGLISH


@cache
def currencies(today: date) -> list[dict]:
    """The currencies that are legal tender somewhere on `today`."""
    users: dict[str, list[str]] = {}
    for territory in sorted(country_names()):
        for code in get_territory_currencies(territory, start_date=today, tender=True):
            users.setdefault(code, []).append(territory)
    fractions = get_global("currency_fractions")
    result = []
    for code in sorted(users):
        # The currency's home: the country its ISO 4217 code starts with (USD: US), else the first user.
        home = code[:2] if code[:2] in users[code] else users[code][0]
        digits = get_currency_precision(code)
        increment = fractions.get(code, fractions["DEFAULT"])[1]
        rounding = increment / 10**digits if increment else 0
        result.append(
            {
                "symbol": get_currency_symbol(code, ENGLISH),
                "name": get_currency_name(code, locale=ENGLISH),
                "symbolNative": get_currency_symbol(code, native_locale(home)),
                "decimalDigits": digits,
                "rounding": rounding,
                "code": code,
                "namePlural": get_currency_name(code, count=2, locale=ENGLISH),
            }
        )
    return result


def autonym(code: str) -> str:
    """A language's name in itself, capitalized as in a language menu; "" when CLDR has no data for it.

    A code CLDR replaces (tl by fil, tw by ak, sh by sr_Latn) takes the name of its replacement.
    """
    code = get_global("language_aliases").get(code, code)
    try:
        name = Locale.parse(code).get_language_name() if localedata.exists(code) else ""
    except (UnknownLocaleError, ValueError):
        name = ""
    return name[:1].upper() + name[1:] if name else ""


@cache
def languages() -> list[dict]:
    result = []
    for code, name in sorted(ENGLISH.languages.items()):
        if len(code) == 2 and code.isalpha():
            result.append({"name": name, "code": code, "nativeName": autonym(code) or name})
    return result


@cache
def locale_codes() -> list[dict]:
    result = []
    for identifier in localedata.locale_identifiers():
        if _LOCALE_ID.fullmatch(identifier) and identifier.split("_")[0] in ENGLISH.languages:
            name = Locale.parse(identifier).get_display_name(ENGLISH)
            result.append({"code": identifier.lower().replace("_", "-"), "name": name})
    return sorted(result, key=lambda item: item["code"])


@handles("locale.get")
def get_locale(call: Call) -> dict:
    return {
        "ip": call.requester.ip if call.requester else "",
        "countryCode": UNKNOWN_CODE,
        "country": UNKNOWN,
        "continentCode": UNKNOWN_CODE,
        "continent": UNKNOWN,
        "eu": False,
        "currency": "",
    }


@handles("locale.listCodes")
def list_codes(call: Call) -> dict:
    items = locale_codes()
    return {"total": len(items), "localeCodes": fresh(items)}


@handles("locale.listContinents")
def list_continents(call: Call) -> dict:
    items = continents()
    return {"total": len(items), "continents": fresh(items)}


@handles("locale.listCountries")
def list_countries(call: Call) -> dict:
    items = countries()
    return {"total": len(items), "countries": fresh(items)}


@handles("locale.listCountriesEU")
def list_countries_eu(call: Call) -> dict:
    items = eu_countries()
    return {"total": len(items), "countries": fresh(items)}


@handles("locale.listCountriesPhones")
def list_countries_phones(call: Call) -> dict:
    items = phones()
    return {"total": len(items), "phones": fresh(items)}


@handles("locale.listCurrencies")
def list_currencies(call: Call) -> dict:
    items = currencies(date.today())
    return {"total": len(items), "currencies": fresh(items)}


@handles("locale.listLanguages")
def list_languages(call: Call) -> dict:
    items = languages()
    return {"total": len(items), "languages": fresh(items)}
