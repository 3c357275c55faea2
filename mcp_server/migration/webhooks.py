"""Webhooks with their URL, events and settings. Their signature secret and basic-auth password are never
returned by the API: the target's webhook has its own secret, listed for receivers to be told."""

from __future__ import annotations

from .context import Migration, checksum, pick, sync_model
from .endpoint import Endpoint
from .report import SET_AGAIN

WEBHOOK_OPS = ("webhooks.get", "webhooks.create", "webhooks.update")
WEBHOOK_FIELDS = ("$id", "name", "url", "events", "enabled", "tls", "authUsername")


async def migrate_webhooks(m: Migration) -> None:
    for webhook in await m.source.all("webhooks.list", {}, "webhooks", "webhooks"):
        name = f"webhook {webhook['$id']}"
        await m.guarded(
            sync_model(
                m, "webhooks", name, webhook, {"webhookId": webhook["$id"]}, WEBHOOK_OPS, ("secret", "authPassword")
            )
        )
        said = "its signature secret is new: give receivers the target's secret"
        m.report.note(
            SET_AGAIN, name, said + (", and set its basic-auth password" if webhook.get("authUsername") else "")
        )


async def snapshot(endpoint: Endpoint) -> dict[str, tuple[int, str]]:
    webhooks = await endpoint.all("webhooks.list", {}, "webhooks", "webhooks")
    return {"webhooks": (len(webhooks), checksum(pick(webhook, WEBHOOK_FIELDS) for webhook in webhooks))}
