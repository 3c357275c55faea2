"""Users, teams, sessions and JWTs end to end: the official Python SDK (appwrite 16.0.0) and raw HTTP against
`baas-mcp api`, down to which rows each kind of caller may read.

A server (API key) creates the users (one with a plain password, two imported with bcrypt and Argon2 hashes)
and the teams, and signs users in the server-side-rendering way: Account with the key returns the session's
secret, which a client then sends as X-Appwrite-Session. JWTs come from users.createJWT.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import bcrypt
import httpx
import pytest
from appwrite.client import Client
from appwrite.models.membership import Membership
from appwrite.models.membership_list import MembershipList
from appwrite.models.team import Team
from appwrite.permission import Permission
from appwrite.role import Role
from appwrite.services.account import Account
from appwrite.services.tables_db import TablesDB
from appwrite.services.teams import Teams
from appwrite.services.users import Users
from argon2 import PasswordHasher

from tests.commands import ServeProcess, create_key, start_api_server
from tests.rest.sdk_errors import raised

PROJECT = "default"
COOKIE = f"a_session_{PROJECT}"
SCOPES = (
    "users.read,users.write,teams.read,teams.write,sessions.write,databases.read,databases.write,tables.read,"
    "tables.write,columns.read,columns.write,rows.read,rows.write,policies.write"
)
DATABASE, TABLE = "matrix", "notes"
# Each row is readable by exactly one role; the row's id names the role kind.
MEMBER_ROW = "arg-in-blue"
PASSWORDS = {
    "pat": "pat plain passphrase",
    "bea": "bea bcrypt passphrase",
    "arg": "arg argon2 passphrase",
    "una": "una plain passphrase",
}
# What each caller may read: guests; pat (verified, label vip); bea (imported with bcrypt, verified, red
# editor); arg (imported with Argon2, unverified, red viewer, member of blue); una (unverified, nothing else).
VISIBLE = {
    "guest": {"any", "guests"},
    "pat": {"any", "users", "verified", "pat", "vip"},
    "bea": {"any", "users", "verified", "bea-verified", "red", "red-editor"},
    "arg": {"any", "users", "red", MEMBER_ROW},
    "una": {"any", "users"},
}


@dataclass
class World:
    server: ServeProcess
    data_dir: Path
    endpoint: str
    key: str
    memberships: dict[str, str] = field(default_factory=dict)  # "user@team" -> membership id
    sessions: dict[str, tuple[str, str]] = field(default_factory=dict)  # user -> (session id, secret)

    def client(self, *, key: bool = False, session: str | None = None, jwt: str | None = None) -> Client:
        client = Client().set_endpoint(self.endpoint).set_project(PROJECT)
        if key:
            client.set_key(self.key)
        if session:
            client.set_session(session)
        if jwt:
            client.set_jwt(jwt)
        return client

    @property
    def admin(self) -> Client:
        return self.client(key=True)

    def sign_in(self, user: str) -> tuple[str, str]:
        """(session id, secret) of a new session, made the SSR way: Account with the key returns the secret."""
        session = Account(self.admin).create_email_password_session(f"{user}@example.com", PASSWORDS[user])
        assert session.userid == user
        assert session.secret
        return session.id, session.secret

    def session_of(self, user: str) -> str:
        if user not in self.sessions:
            self.sessions[user] = self.sign_in(user)
        return self.sessions[user][1]

    def jwt_of(self, user: str) -> str:
        self.session_of(user)
        return Users(self.admin).create_jwt(user, session_id=self.sessions[user][0]).jwt

    def caller(self, user: str, via: str) -> Client:
        if user == "guest":
            return self.client()
        if via == "session":
            return self.client(session=self.session_of(user))
        return self.client(jwt=self.jwt_of(user))


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    data_dir = tmp_path_factory.mktemp("identities") / "data"
    key = create_key(data_dir, SCOPES)
    server = start_api_server(data_dir)
    try:
        world = World(server, data_dir, server.url("/v1"), key["secret"])
        populate(world)
        yield world
    finally:
        code = server.stop()
    assert code == 0, f"the API server did not shut down cleanly ({code}): {server.stderr.text()}"


def populate(world: World) -> None:
    users, teams, tables = Users(world.admin), Teams(world.admin), TablesDB(world.admin)
    users.create("pat", email="pat@example.com", password=PASSWORDS["pat"], name="Pat")
    users.update_labels("pat", ["vip"])
    users.update_email_verification("pat", True)
    bcrypt_hash = bcrypt.hashpw(PASSWORDS["bea"].encode(), bcrypt.gensalt(rounds=4)).decode()
    users.create_bcrypt_user("bea", "bea@example.com", bcrypt_hash, name="Bea")
    users.update_email_verification("bea", True)
    argon2_hash = PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1).hash(PASSWORDS["arg"])
    users.create_argon2_user("arg", "arg@example.com", argon2_hash, name="Arg")
    users.create("una", email="una@example.com", password=PASSWORDS["una"], name="Una")

    # A new Appwrite 1.9 project shows members none of each other's details; this one shows their ids.
    shown = world.admin.call(
        "patch", "/project/policies/membership-privacy", {"content-type": "application/json"}, {"userId": True}
    )
    assert shown["$id"] == PROJECT
    teams.create("red", "Red")
    teams.create("blue", "Blue")
    for user, team, roles in (("bea", "red", ["editor"]), ("arg", "red", ["viewer"]), ("arg", "blue", [])):
        membership = teams.create_membership(team, roles, user_id=user)
        assert membership.confirm is True  # a server adds members at once
        world.memberships[f"{user}@{team}"] = membership.id

    tables.create(DATABASE, "Matrix")
    tables.create_table(DATABASE, TABLE, "Notes", permissions=[], row_security=True)
    tables.create_text_column(DATABASE, TABLE, "title", True)
    for row_id, role in (
        ("any", Role.any()),
        ("guests", Role.guests()),
        ("users", Role.users()),
        ("verified", Role.users("verified")),
        ("pat", Role.user("pat")),
        ("bea-verified", Role.user("bea", "verified")),
        ("red", Role.team("red")),
        ("red-editor", Role.team("red", "editor")),
        (MEMBER_ROW, Role.member(world.memberships["arg@blue"])),
        ("vip", Role.label("vip")),
    ):
        tables.create_row(DATABASE, TABLE, row_id, {"title": row_id}, permissions=[Permission.read(role)])


# --- users, teams and signing in -------------------------------------------------------------------


def test_server_made_memberships_are_confirmed(world):
    listed = Teams(world.admin).list_memberships("red")
    assert isinstance(listed, MembershipList)
    assert listed.total == 2
    assert {(m.userid, m.confirm, tuple(m.roles)) for m in listed.memberships} == {
        ("bea", True, ("editor",)),
        ("arg", True, ("viewer",)),
    }
    bea = next(m for m in listed.memberships if m.userid == "bea")
    assert (bea.username, bea.useremail, bea.teamname) == ("Bea", "bea@example.com", "Red")
    assert bea.joined
    red = Teams(world.admin).get("red")
    assert isinstance(red, Team)
    assert red.total == 2


@pytest.mark.parametrize("user", ["pat", "bea", "arg"])
def test_users_sign_in_with_their_original_passwords(world, user):
    session_id, secret = world.sign_in(user)
    me = Account(world.client(session=secret)).get()
    assert (me.id, me.email) == (user, f"{user}@example.com")
    wrong = raised(Account(world.admin).create_email_password_session, f"{user}@example.com", "not the password")
    assert (wrong.code, wrong.type) == (401, "user_invalid_credentials")
    # Signing in again still works (an imported hash may have been replaced by the default algorithm).
    again_id, _ = world.sign_in(user)
    assert again_id != session_id


def test_users_see_their_own_teams(world):
    seen = {
        user: sorted(team.id for team in Teams(world.caller(user, "session")).list().teams)
        for user in ("pat", "bea", "arg", "una")
    }
    assert seen == {"pat": [], "bea": ["red"], "arg": ["blue", "red"], "una": []}
    members = Teams(world.caller("arg", "jwt")).list_memberships("red")
    assert sorted(m.userid for m in members.memberships) == ["arg", "bea"]
    refused = raised(Teams(world.caller("pat", "session")).get, "red")
    assert (refused.code, refused.type) == (404, "team_not_found")
    # Only owners may add members; a server-added member is no owner.
    not_owner = raised(
        Teams(world.caller("bea", "session")).create_membership, "red", [], user_id="una", url="https://app.example/"
    )
    assert (not_owner.code, not_owner.type) == (401, "user_unauthorized")


def test_a_user_creates_a_team_and_owns_it(world):
    team = Teams(world.caller("una", "session")).create("una-team", "Una's team")
    assert team.total == 1
    [mine] = Teams(world.caller("una", "jwt")).list_memberships("una-team").memberships
    assert isinstance(mine, Membership)
    assert (mine.userid, mine.roles, mine.confirm) == ("una", ["owner"], True)
    renamed = Teams(world.caller("una", "session")).update_name("una-team", "Renamed")
    assert renamed.name == "Renamed"
    Teams(world.caller("una", "session")).delete("una-team")
    gone = raised(Teams(world.admin).get, "una-team")
    assert gone.type == "team_not_found"


# --- the permission matrix ---------------------------------------------------------------------------

CALLERS = [("guest", "none")] + [(user, via) for user in ("pat", "bea", "arg", "una") for via in ("session", "jwt")]
ALL_ROWS = set().union(*VISIBLE.values())


@pytest.mark.parametrize(("user", "via"), CALLERS, ids=[f"{user}-{via}" for user, via in CALLERS])
def test_each_caller_reads_exactly_its_rows(world, user, via):
    tables = TablesDB(world.caller(user, via))
    listed = tables.list_rows(DATABASE, TABLE)
    assert {row.id for row in listed.rows} == VISIBLE[user]
    assert listed.total == len(VISIBLE[user])
    for row_id in sorted(VISIBLE[user]):
        assert tables.get_row(DATABASE, TABLE, row_id).id == row_id
    for row_id in sorted(ALL_ROWS - VISIBLE[user]):
        hidden = raised(tables.get_row, DATABASE, TABLE, row_id)
        assert (hidden.code, hidden.type) == (404, "row_not_found"), row_id


def test_the_server_reads_every_row(world):
    assert {row.id for row in TablesDB(world.admin).list_rows(DATABASE, TABLE).rows} == ALL_ROWS


def test_roles_follow_changes_at_once(world):
    """Labels, verification and memberships are read at each request: a change applies to the next one."""
    users = Users(world.admin)
    una = TablesDB(world.caller("una", "session"))
    users.update_labels("una", ["vip"])
    users.update_email_verification("una", True)
    membership = Teams(world.admin).create_membership("red", ["editor"], user_id="una")
    try:
        expected = {"any", "users", "verified", "vip", "red", "red-editor"}
        assert {row.id for row in una.list_rows(DATABASE, TABLE).rows} == expected
    finally:
        Teams(world.admin).delete_membership("red", membership.id)
        users.update_labels("una", [])
        users.update_email_verification("una", False)
    assert {row.id for row in una.list_rows(DATABASE, TABLE).rows} == VISIBLE["una"]


def test_users_write_only_what_they_may(world):
    """The table grants no create: a user's write is refused, while the server's goes through."""
    refused = raised(TablesDB(world.caller("pat", "session")).create_row, DATABASE, TABLE, "by-pat", {"title": "mine"})
    assert refused.code == 401
    assert refused.type == "user_unauthorized"


# --- the account: credentials, rate limits, cookies ----------------------------------------------------


def test_the_account_needs_credentials(world):
    refused = raised(Account(world.client()).get)
    assert refused.code == 401
    assert refused.type == "general_unauthorized_scope"
    for via in ("session", "jwt"):
        assert Account(world.caller("bea", via)).get().id == "bea"
    unknown = raised(Account(world.client(jwt="not.a.jwt")).get)
    assert (unknown.code, unknown.type) == (401, "user_jwt_invalid")


def test_password_guessing_is_rate_limited_per_email(world):
    Users(world.admin).create("target", email="target@example.com", password="target passphrase")
    Users(world.admin).create("bystander", email="bystander@example.com", password="bystander passphrase")
    guest = Account(world.client())
    for _ in range(10):
        wrong = raised(guest.create_email_password_session, "target@example.com", "guess")
        assert (wrong.code, wrong.type) == (401, "user_invalid_credentials")
    limited = raised(guest.create_email_password_session, "target@example.com", "guess")
    assert (limited.code, limited.type) == (429, "general_rate_limit_exceeded")
    # Even the right password waits now; another email is not held up.
    right = raised(guest.create_email_password_session, "target@example.com", "target passphrase")
    assert right.code == 429
    session = Account(world.client()).create_email_password_session("bystander@example.com", "bystander passphrase")
    assert session.userid == "bystander"
    assert session.secret == ""  # a guest's session travels in the cookie
    # A server is not rate limited: it signs the target in.
    assert Account(world.admin).create_email_password_session("target@example.com", "target passphrase").secret


def sign_in_over_http(world: World, email: str, password: str) -> httpx.Response:
    response = httpx.post(
        f"{world.endpoint}/account/sessions/email",
        json={"email": email, "password": password},
        headers={"X-Appwrite-Project": PROJECT},
        timeout=60,
    )
    assert response.status_code == 201, response.text
    return response


def test_a_guest_sign_in_sets_the_session_cookie(world):
    Users(world.admin).create("cookie", email="cookie@example.com", password="cookie passphrase")
    response = sign_in_over_http(world, "cookie@example.com", "cookie passphrase")
    assert response.json()["secret"] == ""
    assert response.json()["userId"] == "cookie"
    jar = SimpleCookie()
    jar.load(response.headers["set-cookie"])
    assert COOKIE in jar
    assert jar[COOKIE]["httponly"]
    value = jar[COOKIE].value
    assert value

    def account_with(headers: dict) -> httpx.Response:
        return httpx.get(f"{world.endpoint}/account", headers={"X-Appwrite-Project": PROJECT, **headers}, timeout=60)

    by_cookie = account_with({"Cookie": f"{COOKIE}={value}"})
    assert (by_cookie.status_code, by_cookie.json()["$id"]) == (200, "cookie")
    # Clients without cookies get the same value in X-Fallback-Cookies and send it back in that header.
    fallback = json.loads(response.headers["x-fallback-cookies"])
    assert fallback == {COOKIE: value}  # Appwrite's format: the web SDK keeps it and sends it back as it is
    by_header = account_with({"X-Fallback-Cookies": json.dumps({COOKIE: fallback[COOKIE]})})
    assert (by_header.status_code, by_header.json()["$id"]) == (200, "cookie")
    # The value is the one a server sends as X-Appwrite-Session.
    assert Account(world.client(session=value)).get().id == "cookie"
    nothing = account_with({"Cookie": f"{COOKIE}=forged"})
    assert nothing.status_code == 401


def test_signing_out_empties_the_fallback_cookies(world):
    """The web SDK keeps X-Fallback-Cookies in localStorage; signing out must replace it, with `[]` as Appwrite does."""
    Users(world.admin).create("leaver", email="leaver@example.com", password="leaver passphrase")
    fallback = sign_in_over_http(world, "leaver@example.com", "leaver passphrase").headers["x-fallback-cookies"]
    headers = {"X-Appwrite-Project": PROJECT, "X-Fallback-Cookies": fallback}
    ended = httpx.delete(f"{world.endpoint}/account/sessions/current", headers=headers, timeout=60)
    assert ended.status_code == 204, ended.text
    assert ended.headers["x-fallback-cookies"] == "[]"
    jar = SimpleCookie()
    jar.load(ended.headers["set-cookie"])
    assert (jar[COOKIE].value, jar[COOKIE]["max-age"]) == ("", "0")
    assert httpx.get(f"{world.endpoint}/account", headers=headers, timeout=60).status_code == 401
    emptied = httpx.get(f"{world.endpoint}/account", headers=headers | {"X-Fallback-Cookies": "[]"}, timeout=60)
    assert emptied.status_code == 401


def test_a_blocked_users_session_and_jwt_stop_working(world):
    Users(world.admin).create("blocky", email="blocky@example.com", password="blocky passphrase")
    session = Account(world.admin).create_email_password_session("blocky@example.com", "blocky passphrase")
    jwt = Users(world.admin).create_jwt("blocky", session_id=session.id).jwt
    assert Account(world.client(session=session.secret)).get().id == "blocky"
    Users(world.admin).update_status("blocky", False)
    for client in (world.client(session=session.secret), world.client(jwt=jwt)):
        blocked = raised(Account(client).get)
        assert (blocked.code, blocked.type) == (401, "user_blocked")
    refused = raised(Account(world.client()).create_email_password_session, "blocky@example.com", "blocky passphrase")
    assert refused.type == "user_blocked"
    Users(world.admin).update_status("blocky", True)
    assert Account(world.client(session=session.secret)).get().id == "blocky"


def test_a_jwt_dies_with_its_session(world):
    Users(world.admin).create("short", email="short@example.com", password="short passphrase")
    session = Account(world.admin).create_email_password_session("short@example.com", "short passphrase")
    jwt = Users(world.admin).create_jwt("short", session_id=session.id).jwt
    assert Account(world.client(jwt=jwt)).get().id == "short"
    Users(world.admin).delete_session("short", session.id)
    refused = raised(Account(world.client(jwt=jwt)).get)
    assert (refused.code, refused.type) == (401, "user_jwt_invalid")
    # The ended session itself now makes a guest, who has no account.
    ended = raised(Account(world.client(session=session.secret)).get)
    assert (ended.code, ended.type) == (401, "general_unauthorized_scope")
