"""A project's proxy rules as kept in its database (`_rules`), the ProxyRule model, and the rules by domain that
the servers' Host routing reads from the project's settings cache (any change here clears it)."""

from __future__ import annotations

import json
import sqlite3

from ..errors import AppwriteError

SETTING = "proxy_rules"


def model(row: sqlite3.Row) -> dict:
    return {"$id": row["id"], "$createdAt": row["created"], "$updatedAt": row["updated"], **json.loads(row["body"])}


def all_rules(connection: sqlite3.Connection) -> list[dict]:
    return [model(row) for row in connection.execute("SELECT * FROM _rules ORDER BY seq")]


def by_domain(project) -> dict[str, dict]:
    """The project's rules by lower-cased domain, from its settings cache."""
    return project.setting(SETTING, lambda connection: {rule["domain"].lower(): rule for rule in all_rules(connection)})


def require(connection: sqlite3.Connection, rule_id: str) -> dict:
    row = connection.execute("SELECT * FROM _rules WHERE id = ?", (rule_id,)).fetchone()
    if row is None:
        raise AppwriteError(
            "rule_not_found",
            "Rule with the requested ID could not be found. Please check if the ID provided is correct or if the "
            "rule actually exists.",
        )
    return model(row)
