"""A project's messaging providers as kept in its database (`_providers`), and the Provider model.

Credentials are kept sealed with the project's cipher, as Appwrite keeps them encrypted at rest (its `encrypt`
filter); the model shows them opened, as Appwrite's Provider model does (the console edits them there).
"""

from __future__ import annotations

import json
import sqlite3

from ..encryption import Cipher
from ..errors import AppwriteError


def model(row: sqlite3.Row, cipher: Cipher | None) -> dict:
    """Appwrite's Provider model (its credentials left closed, as {}, without the cipher)."""
    return {
        "$id": row["id"],
        "$createdAt": row["created"],
        "$updatedAt": row["updated"],
        "name": row["name"],
        "provider": row["provider"],
        "enabled": bool(row["enabled"]),
        "type": row["type"],
        "credentials": json.loads(cipher.decrypt(row["credentials"])) if cipher else {},
        "options": json.loads(row["options"]),
    }


def all_providers(connection: sqlite3.Connection, cipher: Cipher) -> list[dict]:
    return [model(row, cipher) for row in connection.execute("SELECT * FROM _providers ORDER BY seq")]


def find(connection: sqlite3.Connection, cipher: Cipher, provider_id: str) -> dict | None:
    row = connection.execute("SELECT * FROM _providers WHERE id = ?", (provider_id,)).fetchone()
    return None if row is None else model(row, cipher)


def require(connection: sqlite3.Connection, cipher: Cipher, provider_id: str) -> dict:
    provider = find(connection, cipher, provider_id)
    if provider is None:
        raise AppwriteError("provider_not_found", "Provider with the requested ID could not be found.")
    return provider


def first_enabled(connection: sqlite3.Connection, kind: str) -> dict | None:
    """The provider Appwrite's messaging worker uses by default: the first enabled one of the type (its credentials
    left closed)."""
    row = connection.execute(
        "SELECT * FROM _providers WHERE type = ? AND enabled = 1 ORDER BY seq LIMIT 1", (kind,)
    ).fetchone()
    return None if row is None else model(row, None)


def save(connection: sqlite3.Connection, cipher: Cipher, provider: dict, *, created: bool) -> None:
    """Write `provider` (a Provider model) back, its credentials sealed."""
    values = (
        provider["name"],
        provider["provider"],
        provider["type"],
        int(provider["enabled"]),
        cipher.encrypt(json.dumps(provider["credentials"])),
        json.dumps(provider["options"]),
        provider["$updatedAt"],
    )
    if created:
        connection.execute(
            "INSERT INTO _providers (name, provider, type, enabled, credentials, options, updated, id, created) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*values, provider["$id"], provider["$createdAt"]),
        )
    else:
        connection.execute(
            "UPDATE _providers SET name = ?, provider = ?, type = ?, enabled = ?, credentials = ?, options = ?, "
            "updated = ? WHERE id = ?",
            (*values, provider["$id"]),
        )
