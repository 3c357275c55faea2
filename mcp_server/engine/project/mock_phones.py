"""Mock phone numbers: test numbers that sign in with a fixed code, no SMS sent (Appwrite's mockNumbers).

Each is a row of `_mock_numbers`: an E.164 number and its 6-digit code, at most 5,000 of them. As in
Appwrite, a phone token or phone verification for a mock number is given the number's code as its
secret and sends no SMS (identity/identities.py `mock_otp`, asked by identity/account.py).
"""

from __future__ import annotations

import re
import sqlite3

from ..datetimes import now_iso
from ..errors import AppwriteError, invalid_argument
from ..identity.identities import mock_otp
from ..queries import invalid, parse_queries, plan
from ..registry import Call, handles

MAX_MOCK_NUMBERS = 5000
NUMBER = re.compile(r"\+[1-9][0-9]{1,14}")
OTP = re.compile(r"[0-9]{6}")


def model(row: sqlite3.Row) -> dict:
    return {"number": row["number"], "otp": row["otp"], "$createdAt": row["created"], "$updatedAt": row["updated"]}


def check_number(value: object) -> str:
    if not isinstance(value, str) or not NUMBER.fullmatch(value):
        raise invalid_argument(
            "Invalid `number` param: Phone number must start with a '+' can have a maximum of fifteen digits."
        )
    return value


def check_otp(value: object) -> str:
    if not isinstance(value, str) or not OTP.fullmatch(value):
        raise invalid_argument(
            "Invalid `otp` param: Value must be a valid string and at least 6 chars and no longer than 6 chars, "
            "of digits only"
        )
    return value


def require(connection: sqlite3.Connection, number: str) -> sqlite3.Row:
    row = connection.execute("SELECT * FROM _mock_numbers WHERE number = ?", (number,)).fetchone()
    if row is None:
        raise AppwriteError("mock_number_not_found", f"Mock number '{number}' could not be found.")
    return row


@handles("project.listMockPhones")
def list_mock_phones(call: Call) -> dict:
    """Mock numbers in the order they were made; as in Appwrite, only limit and offset queries apply."""
    queries = parse_queries(call.params.get("queries"))
    if any(query.method not in ("limit", "offset") for query in queries):
        raise invalid("Only limit and offset queries are supported for mock phones")
    query_plan = plan(queries)
    rows = call.project.connection.execute("SELECT * FROM _mock_numbers ORDER BY seq").fetchall()
    end = None if query_plan.limit is None else query_plan.skip + query_plan.limit
    total = len(rows) if call.params.get("total", True) else 0
    return {"total": total, "mockNumbers": [model(row) for row in rows[query_plan.skip : end]]}


@handles("project.createMockPhone")
def create_mock_phone(call: Call) -> dict:
    number, otp = check_number(call.params["number"]), check_otp(call.params["otp"])
    connection = call.project.connection
    if connection.execute("SELECT count(*) FROM _mock_numbers").fetchone()[0] >= MAX_MOCK_NUMBERS:
        raise AppwriteError(
            "mock_number_limit_exceeded", "The maximum number of mock phones for this project has been reached."
        )
    if mock_otp(connection, number) is not None:
        raise AppwriteError(
            "mock_number_already_exists",
            f"Mock number '{number}' already exists: update its OTP, or use another number.",
        )
    now = now_iso()
    connection.execute(
        "INSERT INTO _mock_numbers (number, otp, created, updated) VALUES (?, ?, ?, ?)", (number, otp, now, now)
    )
    return model(require(connection, number))


@handles("project.getMockPhone")
def get_mock_phone(call: Call) -> dict:
    return model(require(call.project.connection, call.params["number"]))


@handles("project.updateMockPhone")
def update_mock_phone(call: Call) -> dict:
    otp = check_otp(call.params["otp"])
    connection = call.project.connection
    row = require(connection, call.params["number"])
    connection.execute("UPDATE _mock_numbers SET otp = ?, updated = ? WHERE seq = ?", (otp, now_iso(), row["seq"]))
    return model(require(connection, row["number"]))


@handles("project.deleteMockPhone")
def delete_mock_phone(call: Call) -> None:
    row = require(call.project.connection, call.params["number"])
    call.project.connection.execute("DELETE FROM _mock_numbers WHERE seq = ?", (row["seq"],))
