"""The teams service through Engine.call: teams, preferences and memberships, as servers (keys, the
administrator) and as users (owners, members, invitees), with invitations followed through the outbox.
Every response is checked against the official Python SDK's models and the spec's properties."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from appwrite.models.membership import Membership
from appwrite.models.membership_list import MembershipList
from appwrite.models.preferences import Preferences
from appwrite.models.team import Team
from appwrite.models.team_list import TeamList

from mcp_server.engine import outbox
from mcp_server.engine.identity import identities
from mcp_server.engine.permissions import GUEST, key_auth
from mcp_server.engine.registry import HANDLERS
from tests.engine.conftest import error_of, q

URL = "https://app.example.com/join?from=mail"


@pytest.fixture
def project(engine):
    return engine.project()


@pytest.fixture
def users(call):
    """Owner ada, member bob (both in team `crew` once it exists), and outsider cy."""
    for user_id, email, name in (("ada", "ada@example.com", "Ada"), ("bob", "bob@example.com", "Bob")):
        call("users.create", userId=user_id, email=email, name=name)
    call("users.create", userId="cy", email="cy@example.com", phone="+14155550123", name="Cy")
    return ("ada", "bob", "cy")


@pytest.fixture
def as_user(engine):
    """as_user(id): the user's Auth as it is now (roles follow confirmed memberships, so ask again after changes)."""
    return lambda user_id: engine.user_auth("default", user_id)


@pytest.fixture
def crew(call, users, as_user):
    """Team `crew`, created by ada (owner), with bob added by a server as a confirmed `dev`."""
    call("teams.create", as_user("ada"), teamId="crew", name="Crew")
    bob = call("teams.createMembership", teamId="crew", roles=["dev"], userId="bob")
    return bob["$id"]


def messages(project) -> list[dict]:
    return outbox.messages(project.db.path.parent)


def link_of(message: dict) -> dict:
    """The query values of an invitation's link."""
    return {name: values[0] for name, values in parse_qs(urlsplit(message["data"]["url"]).query).items()}


def check_team(spec: dict, model: dict) -> dict:
    assert set(model) == set(spec["components"]["schemas"]["team"]["properties"])
    Team.with_data(model)
    return model


# Fields Appwrite 1.9 added to the 1.8.1 spec's membership (1.9.6 src/Appwrite/Utopia/Response/Model/Membership.php).
MEMBERSHIP_1_9 = {"userPhone", "userAccessedAt"}


def check_membership(spec: dict, model: dict) -> dict:
    assert set(model) == set(spec["components"]["schemas"]["membership"]["properties"]) | MEMBERSHIP_1_9
    Membership.model_validate(model)
    return model


def roles_of(engine, user_id: str) -> set[str]:
    return set(engine.user_auth("default", user_id).roles)


def test_every_teams_operation_has_a_handler(catalog):
    ids = {op.id for op in catalog.operations if op.service == "teams"}
    assert len(ids) == 13
    assert ids - set(HANDLERS) == set()


# --- teams ------------------------------------------------------------------------------------------


def test_a_server_creates_a_team_without_members(call, spec):
    team = check_team(spec, call("teams.create", teamId="staff", name="Staff", roles=["ignored"]))
    assert (team["$id"], team["name"], team["total"], team["prefs"]) == ("staff", "Staff", 0, {})
    assert team["$createdAt"] == team["$updatedAt"]
    assert call("teams.listMemberships", teamId="staff") == {"total": 0, "memberships": []}
    generated = call("teams.create", teamId="unique()", name="Generated")
    assert len(generated["$id"]) == 20
    assert error_of(call, "teams.create", teamId="staff", name="Again").type == "team_already_exists"
    assert error_of(call, "teams.create", teamId="_bad", name="Bad").type == "general_argument_invalid"
    assert error_of(call, "teams.create", teamId="long", name="x" * 129).type == "general_argument_invalid"
    assert error_of(call, "teams.create", teamId="roles", name="R", roles=["-x"]).type == "general_argument_invalid"


def test_a_user_who_creates_a_team_is_its_confirmed_owner(engine, call, users, as_user, spec):
    team = check_team(spec, call("teams.create", as_user("ada"), teamId="crew", name="Crew"))
    assert team["total"] == 1
    [membership] = call("teams.listMemberships", teamId="crew")["memberships"]
    check_membership(spec, membership)
    assert membership["userId"] == "ada"
    assert (membership["userName"], membership["userEmail"], membership["teamName"]) == (
        "Ada",
        "ada@example.com",
        "Crew",
    )
    assert membership["roles"] == ["owner"]
    assert membership["confirm"] is True
    assert membership["joined"] and membership["invited"]
    assert {"team:crew", "team:crew/owner", f"member:{membership['$id']}"} <= roles_of(engine, "ada")
    # Roles asked for come on top of owner, which Appwrite always gives the creator.
    call("teams.create", as_user("bob"), teamId="band", name="Band", roles=["lead"])
    [lead] = call("teams.listMemberships", teamId="band")["memberships"]
    assert lead["roles"] == ["lead", "owner"]


def test_users_see_only_their_teams(call, crew, as_user, spec):
    call("teams.create", teamId="other", name="Other team")
    everything = call("teams.list")
    TeamList.with_data(everything)
    assert [team["$id"] for team in everything["teams"]] == ["crew", "other"]
    assert everything["total"] == 2
    mine = call("teams.list", as_user("bob"))
    assert (mine["total"], [team["$id"] for team in mine["teams"]]) == (1, ["crew"])
    check_team(spec, mine["teams"][0])
    assert call("teams.list", as_user("cy")) == {"total": 0, "teams": []}
    assert call("teams.get", as_user("bob"), teamId="crew")["total"] == 2
    assert error_of(call, "teams.get", as_user("cy"), teamId="crew").type == "team_not_found"
    assert error_of(call, "teams.get", teamId="nope").type == "team_not_found"


def test_team_queries_and_search(call, crew):
    call("teams.create", teamId="other", name="Other team")
    ids = lambda **params: [team["$id"] for team in call("teams.list", **params)["teams"]]  # noqa: E731
    assert ids(queries=[q("equal", "name", ["Crew"])]) == ["crew"]
    assert ids(queries=[q("greaterThan", "total", [0])]) == ["crew"]
    assert ids(queries=[q("orderDesc", "name")]) == ["other", "crew"]
    assert ids(queries=[q("limit", values=[1]), q("offset", values=[1])]) == ["other"]
    assert ids(queries=[q("cursorAfter", values=["crew"])]) == ["other"]
    assert ids(search="other") == ["other"]
    assert ids(search="crew") == ["crew"]
    assert call("teams.list", total=False)["total"] == 0
    refused = error_of(call, "teams.list", queries=[q("equal", "prefs", ["x"])])
    assert refused.type == "general_query_invalid"


def test_only_owners_rename_or_delete_a_team(engine, call, crew, as_user, spec):
    refused = error_of(call, "teams.updateName", as_user("bob"), teamId="crew", name="Mine")
    assert (refused.type, refused.code) == ("user_unauthorized", 401)
    assert error_of(call, "teams.updateName", as_user("cy"), teamId="crew", name="Mine").type == "team_not_found"
    renamed = check_team(spec, call("teams.updateName", as_user("ada"), teamId="crew", name="The crew"))
    assert renamed["name"] == "The crew"
    assert renamed["$updatedAt"] >= renamed["$createdAt"]
    assert call("teams.getMembership", teamId="crew", membershipId=crew)["teamName"] == "The crew"
    assert call("teams.updateName", teamId="crew", name="Crew")["name"] == "Crew"

    assert error_of(call, "teams.delete", as_user("bob"), teamId="crew").type == "user_unauthorized"
    assert error_of(call, "teams.delete", as_user("cy"), teamId="crew").type == "team_not_found"
    assert call("teams.delete", as_user("ada"), teamId="crew") is None
    assert error_of(call, "teams.get", teamId="crew").type == "team_not_found"
    assert not any(role.startswith(("team:", "member:")) for role in roles_of(engine, "bob"))
    assert call("users.listMemberships", userId="bob")["memberships"] == []
    assert error_of(call, "teams.delete", teamId="crew").type == "team_not_found"


def test_team_preferences(call, crew, as_user):
    assert call("teams.getPrefs", as_user("bob"), teamId="crew") == {}
    prefs = {"theme": "dark", "limits": {"seats": 5}}
    saved = call("teams.updatePrefs", as_user("ada"), teamId="crew", prefs=prefs)
    assert saved == prefs
    Preferences.with_data(saved)
    assert call("teams.getPrefs", as_user("bob"), teamId="crew") == prefs
    assert call("teams.get", teamId="crew")["prefs"] == prefs
    assert error_of(call, "teams.updatePrefs", as_user("bob"), teamId="crew", prefs={}).type == "user_unauthorized"
    assert error_of(call, "teams.getPrefs", as_user("cy"), teamId="crew").type == "team_not_found"
    too_big = {"blob": "x" * 70_000}
    assert error_of(call, "teams.updatePrefs", teamId="crew", prefs=too_big).type == "general_argument_invalid"
    assert call("teams.updatePrefs", teamId="crew", prefs={}) == {}


def test_guests_and_narrow_keys_lack_the_scopes(call, crew):
    assert error_of(call, "teams.list", GUEST).type == "general_unauthorized_scope"
    reader = key_auth(frozenset({"teams.read"}))
    assert call("teams.get", reader, teamId="crew")["total"] == 2
    refused = error_of(call, "teams.create", reader, teamId="x", name="X")
    assert (refused.type, refused.code) == ("general_unauthorized_scope", 401)


# --- memberships added by servers ------------------------------------------------------------------


def test_a_server_adds_confirmed_members(engine, project, call, users, spec):
    call("teams.create", teamId="staff", name="Staff")
    bob = check_membership(spec, call("teams.createMembership", teamId="staff", roles=["dev"], userId="bob"))
    assert bob["confirm"] is True
    assert bob["joined"]
    assert (bob["userName"], bob["userEmail"], bob["teamName"]) == ("Bob", "bob@example.com", "Staff")
    assert {"team:staff", "team:staff/dev", f"member:{bob['$id']}"} <= roles_of(engine, "bob")
    # By email: an existing user is found; a new address becomes a new user, named after it or `name`.
    ada = call("teams.createMembership", teamId="staff", roles=[], email="ADA@example.com")
    assert ada["userId"] == "ada"
    new = call("teams.createMembership", teamId="staff", roles=["guest"], email="dan@example.com")
    dan = call("users.get", userId=new["userId"])
    assert (dan["email"], dan["name"], dan["passwordUpdate"]) == ("dan@example.com", "dan@example.com", "")
    named = call("teams.createMembership", teamId="staff", roles=[], email="eve@example.com", name="Eve")
    assert named["userName"] == "Eve"
    by_phone = call("teams.createMembership", teamId="staff", roles=[], phone="+14155550123")
    assert by_phone["userId"] == "cy"
    assert call("teams.get", teamId="staff")["total"] == 5
    assert messages(project) == []  # nobody is emailed: members a server adds are in at once

    again = error_of(call, "teams.createMembership", teamId="staff", roles=[], userId="bob")
    assert (again.type, again.code) == ("membership_already_confirmed", 409)
    assert error_of(call, "teams.createMembership", teamId="staff", roles=[], userId="nobody").type == "user_not_found"
    mismatch = error_of(call, "teams.createMembership", teamId="staff", roles=[], userId="bob", email="ada@example.com")
    assert (mismatch.type, mismatch.code) == ("user_already_exists", 409)
    assert error_of(call, "teams.createMembership", teamId="staff", roles=[]).type == "general_argument_invalid"
    assert error_of(call, "teams.createMembership", teamId="none", roles=[], userId="bob").type == "team_not_found"
    invalid = error_of(call, "teams.createMembership", teamId="staff", roles=[], email="not-an-email")
    assert invalid.type == "general_invalid_email"


# --- invitations from users ------------------------------------------------------------------------


def test_an_owner_invites_by_email_and_the_invitee_accepts(engine, project, call, crew, as_user, spec):
    invited = check_membership(
        spec,
        call(
            "teams.createMembership",
            as_user("ada"),
            teamId="crew",
            roles=["dev", "qa"],
            email="cy@example.com",
            url=URL,
        ),
    )
    assert (invited["userId"], invited["confirm"], invited["joined"]) == ("cy", False, "")
    assert invited["invited"]
    assert call("teams.get", teamId="crew")["total"] == 2  # invitations do not count
    assert not any(role.startswith("team:") for role in roles_of(engine, "cy"))
    assert error_of(call, "teams.get", as_user("cy"), teamId="crew").type == "team_not_found"
    # The members see the pending invitation.
    pending = call("teams.listMemberships", as_user("bob"), teamId="crew", queries=[q("equal", "confirm", [False])])
    assert [m["$id"] for m in pending["memberships"]] == [invited["$id"]]

    [message] = messages(project)
    assert (message["channel"], message["to"]) == ("email", "cy@example.com")
    assert "Crew" in message["subject"] and message["data"]["url"] in message["text"]
    link = link_of(message)
    assert link == {
        "from": "mail",
        "membershipId": invited["$id"],
        "userId": "cy",
        "secret": message["data"]["secret"],
        "teamId": "crew",
        "teamName": "Crew",
    }
    stored = project.connection.execute("SELECT secret_hash FROM _memberships WHERE id = ?", (invited["$id"],))
    assert stored.fetchone()[0] == identities.digest(link["secret"]) != link["secret"]

    accept = {"teamId": "crew", "membershipId": invited["$id"], "userId": "cy"}
    wrong = error_of(call, "teams.updateMembershipStatus", as_user("cy"), **accept, secret="0" * 64)
    assert (wrong.type, wrong.code) == ("team_invalid_secret", 401)
    stranger = error_of(call, "teams.updateMembershipStatus", as_user("bob"), **accept, secret=link["secret"])
    assert (stranger.type, stranger.code) == ("team_invite_mismatch", 401)
    other_user = {**accept, "userId": "bob"}
    assert error_of(call, "teams.updateMembershipStatus", **other_user, secret=link["secret"]).type == (
        "team_invite_mismatch"
    )
    call("teams.create", teamId="other", name="Other")
    elsewhere = {**accept, "teamId": "other"}
    assert error_of(call, "teams.updateMembershipStatus", **elsewhere, secret=link["secret"]).type == (
        "team_membership_mismatch"
    )
    missing = {**accept, "membershipId": "missing"}
    assert error_of(call, "teams.updateMembershipStatus", **missing, secret="x").type == "membership_not_found"

    joined = check_membership(
        spec, call("teams.updateMembershipStatus", as_user("cy"), **accept, secret=link["secret"])
    )
    assert (joined["confirm"], joined["roles"], joined["teamName"]) == (True, ["dev", "qa"], "Crew")
    assert joined["joined"] >= joined["invited"]
    assert call("users.get", userId="cy")["emailVerification"] is True  # the link proved the address
    assert {"team:crew", "team:crew/dev", "team:crew/qa", f"member:{invited['$id']}"} <= roles_of(engine, "cy")
    assert call("teams.get", as_user("cy"), teamId="crew")["total"] == 3
    # The secret works once.
    again = error_of(call, "teams.updateMembershipStatus", as_user("cy"), **accept, secret=link["secret"])
    assert (again.type, again.code) == ("membership_already_confirmed", 409)


def test_a_guest_accepts_an_invitation_with_the_link_alone(engine, project, call, crew, as_user):
    created = call("teams.createMembership", as_user("ada"), teamId="crew", roles=[], email="new@example.com", url=URL)
    [message] = messages(project)
    link = link_of(message)
    assert link["userId"] == created["userId"]
    accept = {key: link[key] for key in ("teamId", "membershipId", "userId", "secret")}
    joined = call("teams.updateMembershipStatus", GUEST, **accept)
    assert joined["confirm"] is True
    assert joined["userEmail"] == "new@example.com"
    assert "team:crew" in roles_of(engine, created["userId"])


def test_inviting_again_replaces_the_secret(project, call, crew, as_user):
    invite = {"teamId": "crew", "roles": ["dev"], "userId": "cy", "url": URL}
    first = call("teams.createMembership", as_user("ada"), **invite)
    second = call("teams.createMembership", as_user("ada"), **invite)
    assert first["$id"] == second["$id"]
    old, new = (link_of(message) for message in messages(project))
    accept = {"teamId": "crew", "membershipId": first["$id"], "userId": "cy"}
    assert error_of(call, "teams.updateMembershipStatus", **accept, secret=old["secret"]).type == "team_invalid_secret"
    assert call("teams.updateMembershipStatus", **accept, secret=new["secret"])["confirm"] is True
    # A server adding someone still invited confirms them at once.
    call("teams.createMembership", as_user("ada"), teamId="crew", roles=[], email="late@example.com", url=URL)
    late = call("teams.createMembership", teamId="crew", roles=[], email="late@example.com")
    assert late["confirm"] is True and late["joined"]


def test_an_invitation_by_phone_goes_by_sms(project, call, users, as_user):
    call("teams.create", as_user("ada"), teamId="crew", name="Crew")
    call("users.create", userId="phoebe", phone="+14155550199", name="Phoebe")
    invited = call("teams.createMembership", as_user("ada"), teamId="crew", roles=[], phone="+14155550199", url=URL)
    assert invited["userId"] == "phoebe"
    [message] = messages(project)
    assert (message["channel"], message["to"]) == ("sms", "+14155550199")
    assert message["data"]["url"] in message["text"]
    assert link_of(message)["membershipId"] == invited["$id"]


def test_only_owners_invite_and_invitations_need_a_url(project, call, crew, as_user):
    refused = error_of(call, "teams.createMembership", as_user("bob"), teamId="crew", roles=[], userId="cy", url=URL)
    assert (refused.type, refused.code) == ("user_unauthorized", 401)
    outsider = error_of(call, "teams.createMembership", as_user("cy"), teamId="crew", roles=[], userId="cy", url=URL)
    assert outsider.type == "team_not_found"
    no_url = error_of(call, "teams.createMembership", as_user("ada"), teamId="crew", roles=[], userId="cy")
    assert (no_url.type, "URL is required" in no_url.message) == ("general_argument_invalid", True)
    bad_url = error_of(
        call, "teams.createMembership", as_user("ada"), teamId="crew", roles=[], userId="cy", url="javascript:x"
    )
    assert bad_url.type == "general_argument_invalid"
    already = error_of(call, "teams.createMembership", as_user("ada"), teamId="crew", roles=[], userId="bob", url=URL)
    assert already.type == "membership_already_confirmed"
    # Refused invitations create no user and send nothing.
    refused_new = error_of(
        call, "teams.createMembership", as_user("bob"), teamId="crew", roles=[], email="x@example.com", url=URL
    )
    assert refused_new.type == "user_unauthorized"
    assert call("users.list", queries=[q("equal", "email", ["x@example.com"])])["total"] == 0
    assert messages(project) == []


# --- reading, changing and removing memberships ----------------------------------------------------


def test_members_list_and_get_memberships(call, crew, as_user, spec):
    # A new Appwrite 1.9 project shows members none of each other's details; this one shows them all.
    call("project.updateMembershipPrivacyPolicy", userId=True, userName=True, userEmail=True, userMFA=True)
    listed = call("teams.listMemberships", as_user("bob"), teamId="crew")
    MembershipList.model_validate(listed)
    assert listed["total"] == 2
    assert [m["userId"] for m in listed["memberships"]] == ["ada", "bob"]
    for membership in listed["memberships"]:
        check_membership(spec, membership)
    got = check_membership(spec, call("teams.getMembership", as_user("bob"), teamId="crew", membershipId=crew))
    assert got == listed["memberships"][1]
    assert error_of(call, "teams.listMemberships", as_user("cy"), teamId="crew").type == "team_not_found"
    assert error_of(call, "teams.getMembership", as_user("cy"), teamId="crew", membershipId=crew).type == (
        "team_not_found"
    )
    assert error_of(call, "teams.getMembership", teamId="crew", membershipId="nope").type == "membership_not_found"
    call("teams.create", teamId="other", name="Other")
    assert error_of(call, "teams.getMembership", teamId="other", membershipId=crew).type == "membership_not_found"


def test_membership_queries_and_search(call, crew, as_user):
    call("teams.createMembership", as_user("ada"), teamId="crew", roles=["qa"], userId="cy", url=URL)
    ids = lambda **params: [  # noqa: E731
        m["userId"] for m in call("teams.listMemberships", teamId="crew", **params)["memberships"]
    ]
    assert ids(queries=[q("equal", "userId", ["bob"])]) == ["bob"]
    assert ids(queries=[q("equal", "confirm", [True])]) == ["ada", "bob"]
    assert ids(queries=[q("contains", "roles", ["owner"])]) == ["ada"]
    assert ids(queries=[q("equal", "teamId", ["crew"]), q("orderDesc", "userId"), q("limit", values=[2])]) == [
        "cy",
        "bob",
    ]
    assert ids(queries=[q("equal", "joined", [""])]) == ["cy"]
    assert ids(search="bob@example") == ["bob"]
    assert ids(search="Cy") == ["cy"]
    assert call("teams.listMemberships", teamId="crew", total=False)["total"] == 0
    refused = error_of(call, "teams.listMemberships", teamId="crew", queries=[q("equal", "userName", ["Bob"])])
    assert refused.type == "general_query_invalid"


def test_membership_mfa_follows_the_user(project, call, crew):
    assert call("teams.getMembership", teamId="crew", membershipId=crew)["mfa"] is False
    with project.db.transaction() as connection:
        connection.execute("UPDATE _users SET mfa = 1 WHERE id = 'bob'")
    # MFA on without a verified factor to pass is no MFA, as Appwrite shows it.
    assert call("teams.getMembership", teamId="crew", membershipId=crew)["mfa"] is False
    with project.db.transaction() as connection:
        connection.execute("UPDATE _users SET email_verification = 1 WHERE id = 'bob'")
    assert call("teams.getMembership", teamId="crew", membershipId=crew)["mfa"] is True


def test_only_owners_change_roles(engine, call, crew, as_user, spec):
    refused = error_of(
        call, "teams.updateMembership", as_user("bob"), teamId="crew", membershipId=crew, roles=["owner"]
    )
    assert (refused.type, refused.code) == ("user_unauthorized", 401)
    promoted = check_membership(
        spec, call("teams.updateMembership", as_user("ada"), teamId="crew", membershipId=crew, roles=["owner", "dev"])
    )
    assert promoted["roles"] == ["owner", "dev"]
    assert promoted["$updatedAt"] >= promoted["$createdAt"]
    assert "team:crew/owner" in roles_of(engine, "bob")
    # Now an owner, bob may rename the team; a server may change anyone's roles.
    assert call("teams.updateName", as_user("bob"), teamId="crew", name="Bob's crew")["name"] == "Bob's crew"
    assert call("teams.updateMembership", teamId="crew", membershipId=crew, roles=[])["roles"] == []
    assert "team:crew/owner" not in roles_of(engine, "bob")
    assert "team:crew" in roles_of(engine, "bob")
    invalid = error_of(call, "teams.updateMembership", teamId="crew", membershipId=crew, roles=["a b"])
    assert invalid.type == "general_argument_invalid"
    assert error_of(call, "teams.updateMembership", teamId="crew", membershipId="nope", roles=[]).type == (
        "membership_not_found"
    )
    outsider = error_of(call, "teams.updateMembership", as_user("cy"), teamId="crew", membershipId=crew, roles=[])
    assert outsider.type == "team_not_found"


def test_members_leave_and_owners_remove(engine, call, crew, as_user):
    cy = call("teams.createMembership", teamId="crew", roles=[], userId="cy")
    assert call("teams.get", teamId="crew")["total"] == 3
    refused = error_of(call, "teams.deleteMembership", as_user("bob"), teamId="crew", membershipId=cy["$id"])
    assert (refused.type, refused.code) == ("user_unauthorized", 401)
    assert call("teams.deleteMembership", as_user("cy"), teamId="crew", membershipId=cy["$id"]) is None
    assert not any(role.startswith("team:crew") for role in roles_of(engine, "cy"))
    assert call("teams.get", teamId="crew")["total"] == 2
    gone = error_of(call, "teams.deleteMembership", teamId="crew", membershipId=cy["$id"])
    assert (gone.type, gone.code) == ("team_invite_not_found", 404)
    call("teams.create", teamId="other", name="Other")
    mismatch = error_of(call, "teams.deleteMembership", teamId="other", membershipId=crew)
    assert (mismatch.type, mismatch.code) == ("team_membership_mismatch", 404)
    assert call("teams.deleteMembership", as_user("ada"), teamId="crew", membershipId=crew) is None
    assert call("teams.get", teamId="crew")["total"] == 1
    # An owner may leave too, even the last one (Appwrite keeps owners only in its console project).
    [ada] = call("teams.listMemberships", teamId="crew")["memberships"]
    assert call("teams.deleteMembership", as_user("ada"), teamId="crew", membershipId=ada["$id"]) is None
    assert call("teams.get", teamId="crew")["total"] == 0


def test_an_invitee_is_counted_only_once_confirmed(call, crew, as_user, project):
    call("teams.createMembership", as_user("ada"), teamId="crew", roles=[], userId="cy", url=URL)
    assert call("teams.get", teamId="crew")["total"] == 2
    [pending] = call("teams.listMemberships", teamId="crew", queries=[q("equal", "userId", ["cy"])])["memberships"]
    assert call("teams.deleteMembership", as_user("ada"), teamId="crew", membershipId=pending["$id"]) is None
    assert call("teams.get", teamId="crew")["total"] == 2
    [message] = messages(project)
    link = link_of(message)
    accept = {key: link[key] for key in ("teamId", "membershipId", "userId", "secret")}
    assert error_of(call, "teams.updateMembershipStatus", **accept).type == "membership_not_found"


def test_membership_responses_are_json(call, crew):
    """Everything the handlers return serializes as the REST layer sends it."""
    for result in (
        call("teams.get", teamId="crew"),
        call("teams.listMemberships", teamId="crew"),
        call("teams.getPrefs", teamId="crew"),
    ):
        assert json.loads(json.dumps(result)) == result


def test_memberships_show_the_phone_and_to_servers_the_last_access(call, users, as_user, engine):
    """Appwrite 1.9: userPhone; userAccessedAt only to keys and administrators getting or listing memberships."""
    call("teams.create", as_user("ada"), teamId="crew", name="Crew")
    created = call("teams.createMembership", teamId="crew", roles=["dev"], userId="cy")
    assert (created["userPhone"], created["userAccessedAt"]) == ("+14155550123", "")
    call("users.createSession", userId="cy")
    accessed = call("users.get", userId="cy")["accessedAt"]
    assert accessed
    fetched = call("teams.getMembership", teamId="crew", membershipId=created["$id"])
    assert (fetched["userPhone"], fetched["userAccessedAt"]) == ("+14155550123", accessed)
    listed = {m["userId"]: m for m in call("teams.listMemberships", teamId="crew")["memberships"]}
    assert listed["cy"]["userAccessedAt"] == accessed and listed["ada"]["userPhone"] == ""
    as_member = call("teams.getMembership", as_user("ada"), teamId="crew", membershipId=created["$id"])
    assert (as_member["userPhone"], as_member["userAccessedAt"]) == ("", "")  # a new project's privacy policy
    call("project.updateMembershipPrivacyPolicy", userPhone=True)
    as_member = call("teams.getMembership", as_user("ada"), teamId="crew", membershipId=created["$id"])
    assert (as_member["userPhone"], as_member["userAccessedAt"]) == ("+14155550123", "")
    call("project.updateMembershipPrivacyPolicy", userAccessedAt=True)
    as_member = call("teams.getMembership", as_user("ada"), teamId="crew", membershipId=created["$id"])
    listed = call("teams.listMemberships", as_user("ada"), teamId="crew")["memberships"]
    assert (
        as_member["userAccessedAt"]
        == accessed
        == next(m for m in listed if m["$id"] == created["$id"])["userAccessedAt"]
    )
