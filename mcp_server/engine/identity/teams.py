"""Handlers of the teams service: teams, their preferences, and memberships with email invitations,
as Appwrite 1.8 runs them.

Servers (API keys, the local administrator) manage every team: a team they create has no members,
and a member they add is confirmed at once (a user is created for an email or phone nobody has).
A user sees only the teams they are a confirmed member of (the role team:ID), and only the team's
owners (team:ID/owner) may rename it, change its preferences, delete it, invite members or change
their roles; a member may always leave. A user who creates a team becomes its confirmed member with
the role `owner` added to the roles they ask for. An invitation from a user is an unconfirmed
membership whose secret (kept only as a hash) travels in an email (or SMS) in the project's outbox;
updateMembershipStatus with that secret confirms it.

A team's `total` is its number of confirmed members. As in Appwrite outside its console project, a
team may be left without owners. Members see of each other only the details the project's membership
privacy policy shows (policy.py); servers see everything.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
from collections.abc import Callable
from pathlib import Path

from .. import outbox
from ..datetimes import now_iso
from ..errors import AppwriteError, invalid_argument
from ..ids import new_id, resolve_id
from ..links import check_url, with_query
from ..listing import list_models
from ..permissions import Auth
from ..registry import Call, handles
from . import policy
from .identities import (
    check_phone,
    digest,
    find_user,
    insert_user,
    log_event,
    mfa_in_force,
    new_secret,
    normalize_email,
    require_user,
)

TEAM_ATTRIBUTES = {"name", "total"}
MEMBERSHIP_ATTRIBUTES = {"userId", "teamId", "invited", "joined", "confirm", "roles"}
MAX_NAME = 128
MAX_ROLES = 100
ROLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,35}")
MAX_PREFS_BYTES = 65535
OWNER = "owner"


# --- who may do what ------------------------------------------------------------------------------


def is_server(auth: Auth) -> bool:
    """API keys and the local administrator: team permissions do not apply to them."""
    return auth.roles is None


def can_read(auth: Auth, team_id: str) -> bool:
    return is_server(auth) or f"team:{team_id}" in auth.roles


def is_owner(auth: Auth, team_id: str) -> bool:
    return is_server(auth) or f"team:{team_id}/{OWNER}" in auth.roles


def require_owner(auth: Auth, team_id: str, message: str) -> None:
    if not is_owner(auth, team_id):
        raise AppwriteError("user_unauthorized", message, 401)


def log(call: Call, connection: sqlite3.Connection, event: str, user_id: str | None = None) -> None:
    """An entry in the log of the user who acted (or `user_id`); servers' own actions are not logged."""
    subject = user_id or call.auth.user_id
    if subject:
        log_event(connection, subject, event, call.requester, "admin" if is_server(call.auth) else "user")


# --- records and models ---------------------------------------------------------------------------


def team_not_found() -> AppwriteError:
    return AppwriteError("team_not_found", "Team with the requested ID could not be found.", 404)


def membership_not_found() -> AppwriteError:
    return AppwriteError("membership_not_found", "Membership with the requested ID could not be found.", 404)


def find_team(connection: sqlite3.Connection, team_id: str) -> sqlite3.Row | None:
    return connection.execute("SELECT * FROM _teams WHERE id = ?", (team_id,)).fetchone()


def require_team(connection: sqlite3.Connection, auth: Auth, team_id: str) -> sqlite3.Row:
    """The team, if the caller may see it: a team a user is no confirmed member of is not found."""
    record = find_team(connection, team_id)
    if record is None or not can_read(auth, team_id):
        raise team_not_found()
    return record


def find_membership(connection: sqlite3.Connection, membership_id: str) -> sqlite3.Row | None:
    return connection.execute("SELECT * FROM _memberships WHERE id = ?", (membership_id,)).fetchone()


def require_membership(connection: sqlite3.Connection, team: sqlite3.Row, membership_id: str) -> sqlite3.Row:
    """A membership of this team (one of another team is not found here)."""
    record = find_membership(connection, membership_id)
    if record is None or record["team_id"] != team["id"]:
        raise membership_not_found()
    return record


def team_model(connection: sqlite3.Connection, record: sqlite3.Row) -> dict:
    total = connection.execute(
        "SELECT count(*) FROM _memberships WHERE team_id = ? AND confirm = 1", (record["id"],)
    ).fetchone()[0]
    return {
        "$id": record["id"],
        "$createdAt": record["created"],
        "$updatedAt": record["updated"],
        "name": record["name"],
        "total": total,
        "prefs": json.loads(record["prefs"]),
    }


def membership_model(
    connection: sqlite3.Connection, record: sqlite3.Row, team_name: str | None = None, *, accessed: bool = False
) -> dict:
    """A membership as Appwrite 1.9 shows it; the member's last access only when `accessed` (getting and listing
    memberships show it, to whom the membership privacy policy lets see it: private_view)."""
    user = find_user(connection, record["user_id"])
    if team_name is None:
        team = find_team(connection, record["team_id"])
        team_name = team["name"] if team is not None else ""
    return {
        "$id": record["id"],
        "$createdAt": record["created"],
        "$updatedAt": record["updated"],
        "userId": record["user_id"],
        "userName": user["name"] if user is not None else "",
        "userEmail": (user["email"] or "") if user is not None else "",
        "userPhone": (user["phone"] or "") if user is not None else "",
        "teamId": record["team_id"],
        "teamName": team_name,
        "invited": record["invited"],
        "joined": record["joined"],
        "confirm": bool(record["confirm"]),
        "mfa": mfa_in_force(user) if user is not None else False,
        "userAccessedAt": user["accessed"] if accessed and user is not None else "",
        "roles": json.loads(record["roles"]),
    }


# Membership fields the membership privacy policy may hide, the setting that shows each, and its hidden value.
PRIVATE_FIELDS = {
    "userId": ("membershipsUserId", ""),
    "userName": ("membershipsUserName", ""),
    "userEmail": ("membershipsUserEmail", ""),
    "userPhone": ("membershipsUserPhone", ""),
    "mfa": ("membershipsMfa", False),
    "userAccessedAt": ("membershipsUserAccessedAt", ""),
}


def private_view(connection: sqlite3.Connection, auth: Auth) -> Callable[[dict], dict]:
    """What a caller sees of memberships: servers everything; team members only the details of other
    members that the project's membership privacy policy shows."""
    if is_server(auth):
        return lambda model: model
    settings = policy.read(connection)
    hidden = {field: blank for field, (name, blank) in PRIVATE_FIELDS.items() if not settings[name]}
    return lambda model: {**model, **{field: blank for field, blank in hidden.items() if field in model}}


def fresh_membership(connection: sqlite3.Connection, membership_id: str) -> dict:
    return membership_model(connection, find_membership(connection, membership_id))


# --- parameters -----------------------------------------------------------------------------------


def check_name(value: object, param: str = "name") -> str:
    if not isinstance(value, str) or len(value) > MAX_NAME:
        raise invalid_argument(f"Invalid `{param}` param: expected a string of at most {MAX_NAME} characters")
    return value


def check_roles(value: object) -> list[str]:
    """Team roles: up to 100 keys (1 to 36 of a-z A-Z 0-9 . - _, not starting with a special character)."""
    if not isinstance(value, list) or len(value) > MAX_ROLES:
        raise invalid_argument(f"Invalid `roles` param: expected an array of at most {MAX_ROLES} role names")
    for role in value:
        if not isinstance(role, str) or not ROLE.fullmatch(role):
            raise invalid_argument(
                f"Invalid `roles` param: {role!r} is not a valid role; a role has 1 to 36 characters from a-z, "
                "A-Z, 0-9, period, hyphen and underscore, and cannot start with a special character"
            )
    return list(dict.fromkeys(value))


def check_prefs(value: object) -> str:
    if not isinstance(value, dict):
        raise invalid_argument("Invalid `prefs` param: expected a JSON object")
    encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if len(encoded.encode("utf-8")) > MAX_PREFS_BYTES:
        raise invalid_argument(f"Invalid `prefs` param: the preferences take more than {MAX_PREFS_BYTES} bytes as JSON")
    return encoded


# --- teams ----------------------------------------------------------------------------------------


@handles("teams.list")
def list_teams(call: Call) -> dict:
    connection = call.project.connection
    records = connection.execute("SELECT * FROM _teams ORDER BY seq").fetchall()
    models = [team_model(connection, record) for record in records if can_read(call.auth, record["id"])]
    total, page = list_models(
        models,
        call.params.get("queries"),
        TEAM_ATTRIBUTES,
        search=call.params.get("search"),
        search_fields=("$id", "name"),
        count=call.params.get("total", True),
        noun="team",
    )
    return {"total": total, "teams": page}


@handles("teams.create")
def create_team(call: Call) -> dict:
    params = call.params
    team_id = resolve_id(params["teamId"], "teamId")
    name = check_name(params["name"])
    roles = check_roles(params["roles"]) if params.get("roles") is not None else [OWNER]
    now = now_iso()
    with call.project.db.transaction() as connection:
        if find_team(connection, team_id) is not None:
            raise AppwriteError("team_already_exists", "Team with the requested ID already exists.", 409)
        connection.execute(
            "INSERT INTO _teams (id, name, prefs, created, updated) VALUES (?, ?, '{}', ?, ?)",
            (team_id, name, now, now),
        )
        if not is_server(call.auth):
            # The creator joins at once, and always as an owner (Appwrite adds the role when it is missing).
            if OWNER not in roles:
                roles.append(OWNER)
            require_user(connection, call.auth.user_id)
            insert_membership(connection, team_id, call.auth.user_id, roles, confirmed=True)
        log(call, connection, "team.create")
        return team_model(connection, find_team(connection, team_id))


@handles("teams.get")
def get_team(call: Call) -> dict:
    connection = call.project.connection
    return team_model(connection, require_team(connection, call.auth, call.params["teamId"]))


@handles("teams.updateName")
def update_name(call: Call) -> dict:
    name = check_name(call.params["name"])
    with call.project.db.transaction() as connection:
        team = require_team(connection, call.auth, call.params["teamId"])
        require_owner(call.auth, team["id"], "Only the team's owners may rename it.")
        connection.execute("UPDATE _teams SET name = ?, updated = ? WHERE seq = ?", (name, now_iso(), team["seq"]))
        log(call, connection, "team.update")
        return team_model(connection, find_team(connection, team["id"]))


@handles("teams.delete")
def delete_team(call: Call) -> None:
    with call.project.db.transaction() as connection:
        team = require_team(connection, call.auth, call.params["teamId"])
        require_owner(call.auth, team["id"], "Only the team's owners may delete it.")
        connection.execute("DELETE FROM _memberships WHERE team_id = ?", (team["id"],))
        connection.execute("DELETE FROM _teams WHERE seq = ?", (team["seq"],))
        log(call, connection, "team.delete")


@handles("teams.getPrefs")
def get_prefs(call: Call) -> dict:
    return json.loads(require_team(call.project.connection, call.auth, call.params["teamId"])["prefs"])


@handles("teams.updatePrefs")
def update_prefs(call: Call) -> dict:
    encoded = check_prefs(call.params["prefs"])
    with call.project.db.transaction() as connection:
        team = require_team(connection, call.auth, call.params["teamId"])
        require_owner(call.auth, team["id"], "Only the team's owners may change its preferences.")
        connection.execute("UPDATE _teams SET prefs = ?, updated = ? WHERE seq = ?", (encoded, now_iso(), team["seq"]))
        log(call, connection, "team.update")
    return json.loads(encoded)


# --- memberships ----------------------------------------------------------------------------------


def insert_membership(
    connection: sqlite3.Connection,
    team_id: str,
    user_id: str,
    roles: list[str],
    *,
    confirmed: bool,
    secret: str = "",
) -> str:
    membership_id = new_id()
    now = now_iso()
    connection.execute(
        "INSERT INTO _memberships (id, team_id, user_id, roles, invited, joined, confirm, secret_hash, created, "
        "updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            membership_id,
            team_id,
            user_id,
            json.dumps(roles),
            now,
            now if confirmed else "",
            int(confirmed),
            digest(secret) if secret else "",
            now,
            now,
        ),
    )
    return membership_id


@handles("teams.listMemberships")
def list_memberships(call: Call) -> dict:
    connection = call.project.connection
    team = require_team(connection, call.auth, call.params["teamId"])
    records = connection.execute("SELECT * FROM _memberships WHERE team_id = ? ORDER BY seq", (team["id"],)).fetchall()
    total, page = list_models(
        [membership_model(connection, record, team["name"], accessed=True) for record in records],
        call.params.get("queries"),
        MEMBERSHIP_ATTRIBUTES,
        search=call.params.get("search"),
        search_fields=("$id", "userId", "userName", "userEmail"),
        count=call.params.get("total", True),
        noun="membership",
    )
    visible = private_view(connection, call.auth)
    return {"total": total, "memberships": [visible(model) for model in page]}


@handles("teams.getMembership")
def get_membership(call: Call) -> dict:
    connection = call.project.connection
    team = require_team(connection, call.auth, call.params["teamId"])
    record = require_membership(connection, team, call.params["membershipId"])
    model = membership_model(connection, record, team["name"], accessed=True)
    return private_view(connection, call.auth)(model)


def invitee(connection: sqlite3.Connection, user_id: str, email: str, phone: str) -> sqlite3.Row | None:
    """The user a membership is for: by id, else by email, else by phone; the others must agree."""
    if user_id:
        found = find_user(connection, user_id)
        if found is None:
            raise AppwriteError("user_not_found", "User with given userId doesn't exist.", 404)
        if email and (found["email"] or "") != email:
            raise AppwriteError("user_already_exists", "Given userId and email doesn't match", 409)
        if phone and (found["phone"] or "") != phone:
            raise AppwriteError("user_already_exists", "Given userId and phone doesn't match", 409)
        return found
    if email:
        found = connection.execute("SELECT * FROM _users WHERE email = ?", (email,)).fetchone()
        if found is not None and phone and (found["phone"] or "") != phone:
            raise AppwriteError("user_already_exists", "Given email and phone doesn't match", 409)
        return found
    found = connection.execute("SELECT * FROM _users WHERE phone = ?", (phone,)).fetchone()
    if found is not None and email and (found["email"] or "") != email:
        raise AppwriteError("user_already_exists", "Given phone and email doesn't match", 409)
    return found


def new_invitee(call: Call, email: str, phone: str, name: str) -> sqlite3.Row:
    """The user Appwrite creates for an address nobody has yet: no password, named after the address."""
    connection = call.project.connection
    if email and connection.execute("SELECT 1 FROM _identities WHERE lower(provider_email) = ?", (email,)).fetchone():
        raise AppwriteError("user_email_already_exists", "A user with the same email already exists.", 409)
    return insert_user(call, new_id(), email=email or None, phone=phone or None, name=name or email)


@handles("teams.createMembership")
def create_membership(call: Call) -> dict:
    params = call.params
    server = is_server(call.auth)
    roles = check_roles(params["roles"])
    url = params.get("url") or ""
    if url:
        check_url(url)
    elif not server:
        raise invalid_argument("Invalid `url` param: URL is required; the invitation email links to it")
    user_id = params.get("userId") or ""
    email = normalize_email(params["email"]) if params.get("email") else ""
    phone = check_phone(params["phone"]) if params.get("phone") else ""
    if not (user_id or email or phone):
        raise invalid_argument("At least one of userId, email, or phone is required")
    name = check_name(params.get("name") or "")
    secret = new_secret()
    with call.project.db.transaction() as connection:
        team = require_team(connection, call.auth, params["teamId"])
        require_owner(call.auth, team["id"], "User is not allowed to send invitations for this team")
        user = invitee(connection, user_id, email, phone) or new_invitee(call, email, phone, name)
        existing = connection.execute(
            "SELECT * FROM _memberships WHERE team_id = ? AND user_id = ?", (team["id"], user["id"])
        ).fetchone()
        now = now_iso()
        if existing is None:
            membership_id = insert_membership(
                connection, team["id"], user["id"], roles, confirmed=server, secret="" if server else secret
            )
        elif existing["confirm"]:
            raise AppwriteError("membership_already_confirmed", "Membership is already confirmed.", 409)
        else:
            # A new invitation to someone still invited: a new secret (the old link stops working).
            membership_id = existing["id"]
            connection.execute(
                "UPDATE _memberships SET secret_hash = ?, invited = ?, joined = ?, confirm = ?, updated = ? "
                "WHERE seq = ?",
                ("" if server else digest(secret), now, now if server else "", int(server), now, existing["seq"]),
            )
        log(call, connection, "membership.create")
        model = fresh_membership(connection, membership_id)
    if not server:
        send_invitation(call, team, user, model, url, secret, name)
    return model


def send_invitation(
    call: Call, team: sqlite3.Row, user: sqlite3.Row, model: dict, url: str, secret: str, name: str
) -> None:
    """The invitation in the outbox: an email (or an SMS for a phone-only invitee) with the link."""
    values = {
        "membershipId": model["$id"],
        "userId": user["id"],
        "secret": secret,
        "teamId": team["id"],
        "teamName": team["name"],
    }
    link = with_query(url, values)
    data = {**values, "url": link}
    if user["email"]:
        inviter = find_user(call.project.connection, call.auth.user_id) if call.auth.user_id else None
        values = {
            "user": name or user["name"] or user["email"],
            "team": team["name"],
            "owner": inviter["name"] if inviter is not None else "",
            "project": call.project.id,
            "redirect": link,
        }
        outbox.send_email(call.project, call.outbound, "invitation", user["email"], values, data)
    elif user["phone"]:
        project_dir: Path = call.project.db.path.parent
        outbox.send(project_dir, "sms", user["phone"], "", f"Join the team {team['name']}: {link}", data)


@handles("teams.updateMembership")
def update_membership(call: Call) -> dict:
    roles = check_roles(call.params["roles"])
    with call.project.db.transaction() as connection:
        team = require_team(connection, call.auth, call.params["teamId"])
        membership = require_membership(connection, team, call.params["membershipId"])
        require_user(connection, membership["user_id"])
        require_owner(call.auth, team["id"], "User is not allowed to modify roles")
        connection.execute(
            "UPDATE _memberships SET roles = ?, updated = ? WHERE seq = ?",
            (json.dumps(roles), now_iso(), membership["seq"]),
        )
        log(call, connection, "membership.update")
        return fresh_membership(connection, membership["id"])


@handles("teams.deleteMembership")
def delete_membership(call: Call) -> None:
    params = call.params
    with call.project.db.transaction() as connection:
        membership = find_membership(connection, params["membershipId"])
        if membership is None:
            raise AppwriteError("team_invite_not_found", "The requested team invitation could not be found.", 404)
        require_user(connection, membership["user_id"])
        team = require_team(connection, call.auth, params["teamId"])
        if membership["team_id"] != team["id"]:
            raise AppwriteError("team_membership_mismatch", "The membership ID does not belong to the team ID.", 404)
        # Owners remove anyone; every member may leave (or turn down an invitation) themself.
        if not is_owner(call.auth, team["id"]) and membership["user_id"] != call.auth.user_id:
            raise AppwriteError("user_unauthorized", "Only the team's owners may remove other members.", 401)
        connection.execute("DELETE FROM _memberships WHERE seq = ?", (membership["seq"],))
        log(call, connection, "membership.delete")


@handles("teams.updateMembershipStatus")
def update_membership_status(call: Call) -> dict:
    """Accept an invitation with the secret from its link. It proves the invitee reads that email, so
    their email counts as verified from then on, as in Appwrite."""
    params = call.params
    with call.project.db.transaction() as connection:
        membership = find_membership(connection, params["membershipId"])
        if membership is None:
            raise membership_not_found()
        team = find_team(connection, params["teamId"])
        if team is None:
            raise team_not_found()
        if membership["team_id"] != team["id"]:
            raise AppwriteError("team_membership_mismatch", "The membership ID does not belong to the team ID.", 404)
        stored = membership["secret_hash"]
        if not stored or not secrets.compare_digest(stored, digest(str(params["secret"]))):
            raise AppwriteError("team_invalid_secret", "The team invitation secret is invalid.", 401)
        invited = membership["user_id"]
        if params["userId"] != invited or (call.auth.user_id is not None and call.auth.user_id != invited):
            raise AppwriteError("team_invite_mismatch", "The invitation does not belong to the current user.", 401)
        if membership["confirm"]:
            raise AppwriteError("membership_already_confirmed", "Membership is already confirmed.", 409)
        user = require_user(connection, invited)
        now = now_iso()
        connection.execute(
            "UPDATE _memberships SET confirm = 1, joined = ?, updated = ? WHERE seq = ?", (now, now, membership["seq"])
        )
        if user["email"]:
            connection.execute("UPDATE _users SET email_verification = 1, updated = ? WHERE id = ?", (now, invited))
        log(call, connection, "membership.update", invited)
        return membership_model(connection, find_membership(connection, membership["id"]), team["name"])
