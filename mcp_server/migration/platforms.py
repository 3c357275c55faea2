"""The project's platforms (web hostnames, app identifiers), each made with the create operation of its type.
The project's API keys and its settings held as secrets are not readable and are listed to be made again."""

from __future__ import annotations

from .context import Migration, checksum, sync_model
from .endpoint import Endpoint, operation_named
from .report import FAILED, SET_AGAIN

SETTLED = ("$createdAt", "$updatedAt")


async def migrate_platforms(m: Migration) -> None:
    for platform in await m.source.all("project.listPlatforms", {}, "platforms", "platforms"):
        name = f"platform {platform['$id']}"
        create = operation_named(m.target.catalog, "project", f"create{platform['type']}Platform")
        if create is None:
            m.report.note(FAILED, name, f"no operation creates a {platform['type']} platform")
            continue
        update = create.replace(".create", ".update", 1)
        ops = ("project.getPlatform", create, update)
        await m.guarded(sync_model(m, "platforms", name, platform, {"platformId": platform["$id"]}, ops))
    m.report.note(SET_AGAIN, "api keys", "API keys never leave a project: create the keys you need in the target")


async def snapshot(endpoint: Endpoint) -> dict[str, tuple[int, str]]:
    platforms = await endpoint.all("project.listPlatforms", {}, "platforms", "platforms")
    kept = [{key: value for key, value in platform.items() if key not in SETTLED} for platform in platforms]
    return {"platforms": (len(kept), checksum(sorted(kept, key=lambda platform: platform["$id"])))}
