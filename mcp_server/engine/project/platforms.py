"""The project's platforms (the apps that may call it: web sites, Apple, Android, Windows and Linux apps),
and the browser origins they open to it.

A platform is a row of `_platforms` with Appwrite's fields: its type, name, web `hostname`, and `key`
(an app's bundle identifier, application id, package name or package identifier name). As in Appwrite
1.9.6 (app/init/resources/request.php, src/Appwrite/Network/Platform.php):
- web platforms give their hostnames, other platforms their keys, to the hostnames an http(s) or
  browser-extension origin may have (on any port); `*.example.com` allows every subdomain (not
  example.com itself), `*` every host;
- Apple, Android, Windows and Linux platforms let their app schemes (`appwrite-ios`, …) in.
A hostname is what Appwrite's Hostname validator takes (the catalog's schema checks it): up to 253
characters with no `/` or `:` (no scheme, path or port). createWebPlatform still takes the legacy
`type` and `key` of Appwrite's old generic call, mapping old types (flutter-ios, …) to the new ones.
The origins are cached with the project's settings (projects.py) and read again after any platform
changes.
"""

from __future__ import annotations

import sqlite3

from ..datetimes import now_iso
from ..errors import AppwriteError, invalid_argument
from ..ids import resolve_id
from ..listing import list_models
from ..registry import Call, handles
from ..web_origins import PlatformOrigins

SETTING = "platform_origins"
# The field each platform type keeps its `key` in.
KEY_FIELDS = {
    "apple": "bundleIdentifier",
    "android": "applicationId",
    "windows": "packageIdentifierName",
    "linux": "packageName",
}
# Appwrite's platform types before 1.9, and the type each became.
LEGACY_TYPES = {
    "web": "web",
    "flutter-web": "web",
    "unity": "web",
    "flutter-macos": "apple",
    "flutter-ios": "apple",
    "react-native-ios": "apple",
    "apple-ios": "apple",
    "apple-macos": "apple",
    "apple-watchos": "apple",
    "apple-tvos": "apple",
    "flutter-android": "android",
    "android": "android",
    "react-native-android": "android",
    "flutter-linux": "linux",
    "flutter-windows": "windows",
}
# The app schemes each platform type lets in.
SCHEMES = {
    "web": ("http", "https"),
    "apple": ("appwrite-watchos", "appwrite-macos", "appwrite-tvos", "appwrite-ios"),
    "android": ("appwrite-android",),
    "windows": ("appwrite-windows",),
    "linux": ("appwrite-linux",),
}
QUERYABLE = {"type", "name", "hostname", *KEY_FIELDS.values()}


def read_origins(connection: sqlite3.Connection) -> PlatformOrigins:
    hostnames: list[str] = []
    schemes: set[str] = set()
    for row in connection.execute("SELECT type, hostname, key FROM _platforms"):
        kind = row["type"]
        value = (row["hostname"] if kind == "web" else row["key"]).lower()
        if value:
            hostnames.extend(dict.fromkeys((value, ascii_form(value))))
        schemes.update(SCHEMES.get(kind, ()))
    return PlatformOrigins(tuple(dict.fromkeys(hostnames)), frozenset(schemes))


def ascii_form(hostname: str) -> str:
    """An internationalised hostname as browsers send it in an Origin (punycode), else the hostname itself."""
    if hostname.isascii():
        return hostname
    try:
        return hostname.encode("idna").decode("ascii")
    except UnicodeError:
        return hostname


def platform_model(row: sqlite3.Row, kind: str | None = None) -> dict:
    """Appwrite's Platform model of the row's type (or of `kind`: createWebPlatform answers a web one)."""
    model = {"$id": row["id"], "$createdAt": row["created"], "$updatedAt": row["updated"], "name": row["name"]}
    model["type"] = row["type"]
    kind = kind or row["type"]
    if kind == "web":
        model["hostname"] = row["hostname"]
    else:
        model[KEY_FIELDS[kind]] = row["key"]
    return model


def not_found(platform_id: str) -> AppwriteError:
    return AppwriteError("platform_not_found", f"Platform with the requested ID '{platform_id}' could not be found.")


def require(connection: sqlite3.Connection, platform_id: str) -> sqlite3.Row:
    row = connection.execute("SELECT * FROM _platforms WHERE id = ?", (platform_id,)).fetchone()
    if row is None:
        raise not_found(platform_id)
    return row


def check_text(param: str, value: object, limit: int) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= limit:
        raise invalid_argument(
            f"Invalid `{param}` param: Value must be a valid string and at least 1 chars and no longer than "
            f"{limit} chars"
        )
    return value


def changed(call: Call, row_id: str) -> dict:
    """The platform after a change, its origins to be read again once the change is committed."""
    call.project.settings_changed()
    return require(call.project.connection, row_id)


def insert(call: Call, kind: str, name: object, key: str = "", hostname: str = "") -> sqlite3.Row:
    connection = call.project.connection
    platform_id = resolve_id(call.params["platformId"], "platformId")
    name = check_text("name", name, 128)
    if connection.execute("SELECT 1 FROM _platforms WHERE id = ?", (platform_id,)).fetchone():
        raise AppwriteError(
            "platform_already_exists",
            f"Platform with the ID '{platform_id}' already exists in this project. Try again with a different ID.",
        )
    now = now_iso()
    connection.execute(
        "INSERT INTO _platforms (id, type, name, key, hostname, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (platform_id, kind, name, key, hostname, now, now),
    )
    return changed(call, platform_id)


def update(call: Call, kinds: tuple[str, ...], values: dict[str, str]) -> sqlite3.Row:
    connection = call.project.connection
    row = require(connection, call.params["platformId"])
    if row["type"] not in kinds:
        raise AppwriteError(
            "platform_method_unsupported",
            f"The platform '{row['id']}' is of type {row['type']}: use the update method of that type.",
        )
    values = {"name": check_text("name", call.params["name"], 128), **values}
    if any(row[column] != value for column, value in values.items()):
        assignments = ", ".join(f"{column} = ?" for column in values)
        connection.execute(
            f"UPDATE _platforms SET {assignments}, updated = ? WHERE seq = ?", (*values.values(), now_iso(), row["seq"])
        )
    return changed(call, row["id"])


@handles("project.createWebPlatform")
def create_web_platform(call: Call) -> dict:
    params = call.params
    legacy_type, key = params.get("type") or "", params.get("key") or ""
    hostname = params.get("hostname") or ""
    if legacy_type and legacy_type not in LEGACY_TYPES:
        raise AppwriteError(
            "general_bad_request",
            f'Param "type" is invalid: Value must be one of ({", ".join(LEGACY_TYPES)})',
        )
    if not legacy_type and not key and not hostname:
        raise invalid_argument('Param "hostname" is not optional.')
    row = insert(call, LEGACY_TYPES.get(legacy_type, "web"), params["name"], key, hostname)
    return platform_model(row, "web")


@handles("project.updateWebPlatform")
def update_web_platform(call: Call) -> dict:
    params = call.params
    values = {}
    if params.get("hostname"):
        values["hostname"] = params["hostname"]
    if params.get("key"):
        values["key"] = params["key"]
    kinds = ("web",) if "hostname" in values else tuple(SCHEMES)
    return platform_model(update(call, kinds, values), "web")


def app_platform(kind: str, param: str) -> None:
    """Register the create and update handlers of an app platform type whose key is `param`."""
    title = kind.capitalize()

    @handles(f"project.create{title}Platform")
    def create(call: Call) -> dict:
        key = check_text(param, call.params[param], 256)
        return platform_model(insert(call, kind, call.params["name"], key=key))

    @handles(f"project.update{title}Platform")
    def change(call: Call) -> dict:
        key = check_text(param, call.params[param], 256)
        return platform_model(update(call, (kind,), {"key": key}))


for platform_kind, key_field in KEY_FIELDS.items():
    app_platform(platform_kind, key_field)


@handles("project.listPlatforms")
def list_platforms(call: Call) -> dict:
    rows = call.project.connection.execute("SELECT * FROM _platforms ORDER BY seq").fetchall()
    total, page = list_models(
        [platform_model(row) for row in rows],
        call.params.get("queries"),
        QUERYABLE,
        count=call.params.get("total", True),
        noun="platform",
    )
    return {"total": total, "platforms": page}


@handles("project.getPlatform")
def get_platform(call: Call) -> dict:
    return platform_model(require(call.project.connection, call.params["platformId"]))


@handles("project.deletePlatform")
def delete_platform(call: Call) -> None:
    row = require(call.project.connection, call.params["platformId"])
    call.project.connection.execute("DELETE FROM _platforms WHERE seq = ?", (row["seq"],))
    call.project.settings_changed()
