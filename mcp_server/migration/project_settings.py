"""The project's settings (services, sign-in methods, auth security, mock numbers), moved as `baas-mcp push` moves a
file's `settings`: both ends read with project_file's reader, planned with its planner and applied with its applier.
A migration deletes nothing: a mock number only the target has stays.
"""

from __future__ import annotations

from ..project_file.apply import ApplyError, apply
from ..project_file.plan import DELETE, plan
from ..project_file.schema import Schema
from ..project_file.settings import MOCK_NUMBERS, SETTINGS
from ..project_file.target import read_target
from .context import Migration, checksum
from .endpoint import Endpoint
from .report import FAILED, SKIP

SECTIONS = frozenset({SETTINGS})
RESOURCE = "settings"
WAIT_S = 60.0


async def read(endpoint: Endpoint, skipped: list | None = None) -> dict:
    """One end's settings in the file's shape; given `skipped`, an end that cannot give them has none, and why is
    added there."""
    return (await read_target(endpoint.as_backend(), SECTIONS, skipped)).settings


async def migrate_settings(m: Migration) -> None:
    unread: list[tuple[str, str]] = []
    wanted = await read(m.source, unread)
    if unread:
        m.report.note(FAILED, "project settings", f"the source's settings cannot be read: {unread[0][1]}")
        return
    found = await read(m.target, unread)
    if unread and not m.dry_run:
        m.report.note(FAILED, "project settings", f"the target's settings cannot be read: {unread[0][1]}")
        return
    actions = [
        action
        for action in plan(Schema(settings=wanted), Schema(settings=found), m.target.catalog)
        if action.action != DELETE
    ]
    for action in actions:
        m.plan(RESOURCE, action.action)
    m.plan(RESOURCE, SKIP, counted(wanted) - len(actions))
    if not m.dry_run and actions:
        try:
            await apply(m.target.as_backend(), m.target.catalog, actions, WAIT_S, lambda action: None)
        except ApplyError as error:
            m.report.note(FAILED, "project settings", str(error))


def counted(settings: dict) -> int:
    """How many settings there are: each service, sign-in method, security setting and mock number."""
    auth = settings.get("auth", {})
    security = auth.get("security", {})
    return (
        len(settings.get("services", {}))
        + len(auth.get("methods", {}))
        + len([key for key in security if key != MOCK_NUMBERS])
        + len(security.get(MOCK_NUMBERS, []))
    )


async def snapshot(endpoint: Endpoint) -> dict[str, tuple[int, str]]:
    """The settings' count and checksum; nothing for an end that cannot give them (the move said why)."""
    unread: list[tuple[str, str]] = []
    settings = await read(endpoint, unread)
    return {} if unread else {RESOURCE: (counted(settings), checksum([settings]))}
