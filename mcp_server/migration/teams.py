"""Teams with their prefs and memberships (by user, with the same roles). An API key adds a member at once,
so a pending invitation cannot move as one: it is listed for the team to invite again."""

from __future__ import annotations

from .context import Migration, checksum, pick, sync_model
from .endpoint import Endpoint
from .report import CANNOT_MOVE, CREATE, SKIP, UPDATE

TEAM_OPS = ("teams.get", "teams.create", "teams.updateName")


async def migrate_teams(m: Migration) -> None:
    teams = await m.source.all("teams.list", {}, "teams", "teams")
    m.progress.start("teams", len(teams))
    await m.each(teams, lambda team: move_team(m, team))


async def move_team(m: Migration, team: dict) -> None:
    name = f"team {team['$id']}"
    ids = {"teamId": team["$id"]}
    there = await sync_model(m, "teams", name, team, ids, TEAM_OPS)
    if (there or {}).get("prefs") != team.get("prefs") and team.get("prefs") and m.plan("team prefs", UPDATE):
        await m.target.call("teams.updatePrefs", ids | {"prefs": team["prefs"]}, f"{name} prefs")
    present = {
        member["userId"]: member for member in await m.target.all("teams.listMemberships", ids, "memberships", name)
    }
    for member in await m.source.all("teams.listMemberships", ids, "memberships", name):
        label = f"{name} member {member['userId']}"
        if not member.get("confirm"):
            m.report.note(CANNOT_MOVE, label, "a pending invitation: invite them again")
            continue
        there_member = present.get(member["userId"])
        if there_member is None:
            if m.plan("memberships", CREATE):
                params = ids | {"userId": member["userId"], "roles": member["roles"]}
                await m.target.call("teams.createMembership", params, label)
        elif sorted(there_member["roles"]) == sorted(member["roles"]):
            m.plan("memberships", SKIP)
        elif m.plan("memberships", UPDATE):
            params = ids | {"membershipId": there_member["$id"], "roles": member["roles"]}
            await m.target.call("teams.updateMembership", params, label)
    m.progress.advance("teams")


async def snapshot(endpoint: Endpoint) -> dict[str, tuple[int, str]]:
    found = {}
    for team in await endpoint.all("teams.list", {}, "teams", "teams"):
        members = await endpoint.all("teams.listMemberships", {"teamId": team["$id"]}, "memberships", "memberships")
        moved = sorted(
            (
                pick(member, ("userId", "confirm")) | {"roles": sorted(member["roles"])}
                for member in members
                if member.get("confirm")
            ),
            key=lambda member: member["userId"],
        )
        found[f"team {team['$id']}"] = (len(moved), checksum([pick(team, ("$id", "name", "prefs")), *moved]))
    return found
