"""execute_operation with `as_user`: the operation runs with that user's roles, so row permissions decide what
they read and write, through the MCP SDK client against an in-memory server on the embedded engine.

The administrator (no `as_user`) sets the scene through the same tool: users with labels and teams, and a
table whose rows are each readable by one role.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from mcp import Client, types

from mcp_server.engine import outbox
from mcp_server.settings import Settings

pytestmark = pytest.mark.anyio

DB, TABLE = "club", "notes"
ROWS = {
    "public": "any",
    "members": "users",
    "ann-only": "user:ann",
    "crew-only": "team:crew",
    "crew-leads": "team:crew/lead",
    "vip-only": "label:vip",
}
# ann has the label vip; ben is a lead of team crew; cid is a plain member of crew.
VISIBLE = {
    "ann": {"public", "members", "ann-only", "vip-only"},
    "ben": {"public", "members", "crew-only", "crew-leads"},
    "cid": {"public", "members", "crew-only"},
}
LISTING = {"databaseId": DB, "tableId": TABLE}


async def run(client: Client, operation: str, params: dict | None = None, **extra) -> types.CallToolResult:
    arguments = {"operation": operation, **extra}
    if params is not None:
        arguments["params"] = params
    return await client.call_tool("execute_operation", arguments)


def text_of(result: types.CallToolResult) -> str:
    assert len(result.content) == 1 and result.content[0].type == "text"
    return result.content[0].text


def succeeded(result: types.CallToolResult):
    assert result.is_error is not True, text_of(result)
    return result.structured_content["result"]


def failed(result: types.CallToolResult, error_type: str, *fragments: str) -> dict:
    text = text_of(result)
    assert result.is_error is True, text
    error = result.structured_content["error"]
    assert error["type"] == error_type, error
    assert error_type in text
    for fragment in fragments:
        assert fragment in error["message"], (fragment, error["message"])
    return error


async def set_scene(admin: Client) -> None:
    """Users, a team, and a table (row security on; only crew leads may create rows) with one row per role."""
    for user in ("ann", "ben", "cid", "dot"):
        succeeded(await run(admin, "users.create", {"userId": user, "email": f"{user}@example.com", "name": user}))
    succeeded(await run(admin, "users.updateLabels", {"userId": "ann", "labels": ["vip"]}))
    succeeded(await run(admin, "users.updateStatus", {"userId": "dot", "status": False}))
    succeeded(await run(admin, "teams.create", {"teamId": "crew", "name": "Crew"}))
    for user, roles in (("ben", ["lead"]), ("cid", [])):
        membership = succeeded(
            await run(admin, "teams.createMembership", {"teamId": "crew", "roles": roles, "userId": user})
        )
        assert membership["confirm"] is True
    succeeded(await run(admin, "tablesDB.create", {"databaseId": DB, "name": "Club"}))
    table = {**LISTING, "name": "Notes", "rowSecurity": True, "permissions": ['create("team:crew/lead")']}
    succeeded(await run(admin, "tablesDB.createTable", table))
    column = {**LISTING, "key": "title", "size": 64, "required": True}
    succeeded(await run(admin, "tablesDB.createStringColumn", column))
    for row_id, role in ROWS.items():
        row = {**LISTING, "rowId": row_id, "data": {"title": row_id}, "permissions": [f'read("{role}")']}
        succeeded(await run(admin, "tablesDB.createRow", row))


def ids(listing: dict) -> set[str]:
    return {row["$id"] for row in listing["rows"]}


async def test_each_user_reads_only_their_rows(new_server, mode: str):
    async with Client(new_server(), mode=mode) as admin:
        await set_scene(admin)
        everything = succeeded(await run(admin, "tablesDB.listRows", LISTING))
        assert ids(everything) == set(ROWS)
        for user, visible in VISIBLE.items():
            listed = succeeded(await run(admin, "tablesDB.listRows", LISTING, as_user=user))
            assert ids(listed) == visible, user
            assert listed["total"] == len(visible)
            for row_id in set(ROWS) - visible:
                hidden = {**LISTING, "rowId": row_id}
                failed(await run(admin, "tablesDB.getRow", hidden, as_user=user), "row_not_found")
        teams = succeeded(await run(admin, "teams.list", as_user="ben"))
        assert [team["$id"] for team in teams["teams"]] == ["crew"]
        assert succeeded(await run(admin, "teams.list", as_user="ann"))["teams"] == []


async def test_a_user_cannot_write_beyond_their_permissions(new_server, mode: str):
    async with Client(new_server(), mode=mode) as admin:
        await set_scene(admin)
        new_row = {**LISTING, "rowId": "by-user", "data": {"title": "mine"}}
        failed(await run(admin, "tablesDB.createRow", new_row, as_user="cid"), "user_unauthorized")
        # A lead may create; the row then belongs to them (and only them, besides the server).
        created = succeeded(await run(admin, "tablesDB.createRow", new_row, as_user="ben"))
        assert set(created["$permissions"]) == {f'{action}("user:ben")' for action in ("read", "update", "delete")}
        assert "by-user" not in ids(succeeded(await run(admin, "tablesDB.listRows", LISTING, as_user="cid")))
        # Reading a row gives no right to change it.
        change = {**LISTING, "rowId": "crew-only", "data": {"title": "changed"}}
        failed(await run(admin, "tablesDB.updateRow", change, as_user="ben"), "user_unauthorized")
        failed(
            await run(admin, "teams.updateName", {"teamId": "crew", "name": "Mine"}, as_user="cid"), "user_unauthorized"
        )
        unchanged = succeeded(await run(admin, "tablesDB.getRow", {**LISTING, "rowId": "crew-only"}))
        assert unchanged["title"] == "crew-only"


async def test_as_user_needs_an_existing_active_user(new_server, mode: str):
    async with Client(new_server(), mode=mode) as admin:
        await set_scene(admin)
        missing = failed(await run(admin, "tablesDB.listRows", LISTING, as_user="nobody"), "user_not_found")
        assert missing["code"] == 404
        blocked = failed(await run(admin, "tablesDB.listRows", LISTING, as_user="dot"), "user_blocked")
        assert blocked["code"] == 401
        failed(await run(admin, "tablesDB.listRows", LISTING, as_user=""), "general_argument_invalid", "as_user")


async def test_as_user_needs_a_key_that_reads_users(new_server, mode: str):
    async with Client(new_server(), mode=mode) as admin:
        await set_scene(admin)
    async with Client(new_server(Settings(scopes=frozenset({"rows.read"}))), mode=mode) as narrow:
        refused = failed(
            await run(narrow, "tablesDB.listRows", LISTING, as_user="ann"), "general_unauthorized_scope", "users.read"
        )
        assert refused["code"] == 401
        # Without as_user the key reads every row, as servers do.
        assert ids(succeeded(await run(narrow, "tablesDB.listRows", LISTING))) == set(ROWS)
    async with Client(new_server(Settings(scopes=frozenset({"rows.read", "users.read"}))), mode=mode) as reader:
        assert ids(succeeded(await run(reader, "tablesDB.listRows", LISTING, as_user="ann"))) == VISIBLE["ann"]


def verification_link(data_dir: Path, to: str) -> dict:
    """userId and secret of the last verification link mailed to `to` (the project's outbox)."""
    [message] = [message for message in outbox.messages(data_dir / "default") if message["to"] == to][-1:]
    query = parse_qs(urlsplit(message["data"]["url"]).query)
    return {name: query[name][0] for name in ("userId", "secret")}


async def test_acting_as_a_user_a_key_calls_what_users_may_and_no_key_may(new_server, mode: str, data_dir: Path):
    """No API key holds `public` (Appwrite's roles.php), every user does: a key refused an email verification
    runs it as the user; the user's own account stays out of a key's reach, and open to the local user."""
    async with Client(new_server(), mode=mode) as admin:
        await set_scene(admin)
        succeeded(
            await run(admin, "account.createEmailVerification", {"url": "https://app.test/verify"}, as_user="ann")
        )
    link = verification_link(data_dir, "ann@example.com")
    async with Client(new_server(Settings(scopes=frozenset({"users.read"}))), mode=mode) as key:
        refused = failed(
            await run(key, "account.updateEmailVerification", link), "general_unauthorized_scope", "public", "as_user"
        )
        assert refused["code"] == 401
        assert succeeded(await run(key, "account.updateEmailVerification", link, as_user="ann"))["userId"] == "ann"
        assert succeeded(await run(key, "users.get", {"userId": "ann"}))["emailVerification"] is True
        failed(await run(key, "account.get", as_user="ann"), "general_unauthorized_scope", "account", "no API key")
    async with Client(new_server(Settings(scopes=frozenset({"rows.read"}))), mode=mode) as narrow:
        failed(
            await run(narrow, "account.updateEmailVerification", link, as_user="ann"),
            "general_unauthorized_scope",
            "users.read",
        )
    async with Client(new_server(), mode=mode) as admin:
        assert succeeded(await run(admin, "account.get", as_user="ann"))["emailVerification"] is True
