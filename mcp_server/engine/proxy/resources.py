"""The functions and sites a rule may lead to, looked up in the store they share (functions/store.py)."""

from __future__ import annotations

import sqlite3

from ..errors import AppwriteError
from ..functions import store


def find(call, resource_type: str, resource_id: str) -> dict:
    """`require` in a read of the call's project (the rule handlers run outside its transaction)."""
    with call.project.db.reading() as connection:
        return require(connection, resource_type, resource_id)


def require(connection: sqlite3.Connection, resource_type: str, resource_id: str) -> dict:
    """The function or site `resource_id`, or Appwrite's `rule_resource_not_found`."""
    found = store.find(connection, resource_type, resource_id) if resource_type in ("function", "site") else None
    if found is None:
        raise AppwriteError(
            "rule_resource_not_found",
            "Resource could not be found. Please check if the resourceId and resourceType are correct, or if the "
            "resource actually exists.",
        )
    return found
