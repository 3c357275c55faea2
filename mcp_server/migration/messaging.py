"""Messaging: providers (their settings; credentials the API does not return are listed to be set again, and
such a provider stays disabled until they are), topics, and their subscribers (by target id, which the users
step keeps)."""

from __future__ import annotations

from .context import Migration, checksum, pick, sync_model
from .endpoint import Endpoint, operation_named
from .report import CREATE, FAILED, SET_AGAIN, SKIP

PROVIDER_FIELDS = ("$id", "name", "provider", "type", "options")
TOPIC_OPS = ("messaging.getTopic", "messaging.createTopic", "messaging.updateTopic")


async def migrate_messaging(m: Migration) -> None:
    for provider in await m.source.all("messaging.listProviders", {}, "providers", "providers"):
        await m.guarded(move_provider(m, provider))
    for topic in await m.source.all("messaging.listTopics", {}, "topics", "topics"):
        name = f"topic {topic['$id']}"
        await sync_model(m, "topics", name, topic, {"topicId": topic["$id"]}, TOPIC_OPS)
        present = {
            found["$id"]
            for found in await m.target.all("messaging.listSubscribers", {"topicId": topic["$id"]}, "subscribers", name)
        }
        for subscriber in await m.source.all(
            "messaging.listSubscribers", {"topicId": topic["$id"]}, "subscribers", name
        ):
            if subscriber["$id"] in present:
                m.plan("subscribers", SKIP)
            elif m.plan("subscribers", CREATE):
                params = {
                    "topicId": topic["$id"],
                    "subscriberId": subscriber["$id"],
                    "targetId": subscriber["targetId"],
                }
                await m.target.call("messaging.createSubscriber", params, f"{name} subscriber {subscriber['$id']}")


async def move_provider(m: Migration, provider: dict) -> None:
    name = f"provider {provider['$id']}"
    create = operation_named(m.target.catalog, "messaging", f"create{provider['provider']}Provider")
    if create is None:
        m.report.note(FAILED, name, f"no operation creates a {provider['provider']} provider")
        return
    credentials = provider.get("credentials") or {}
    if not credentials:
        m.report.note(SET_AGAIN, name, "its credentials (the API does not return them): set them, then enable it")
    update = create.replace(".create", ".update", 1)
    ops = ("messaging.getProvider", create, update)
    await sync_model(m, "providers", name, lifted(provider), {"providerId": provider["$id"]}, ops, shape=lifted)


def lifted(provider: dict) -> dict:
    """The provider with its options and credentials as top-level fields, as its create operation takes them."""
    return provider | (provider.get("options") or {}) | (provider.get("credentials") or {})


async def snapshot(endpoint: Endpoint) -> dict[str, tuple[int, str]]:
    providers = await endpoint.all("messaging.listProviders", {}, "providers", "providers")
    found = {"providers": (len(providers), checksum(pick(provider, PROVIDER_FIELDS) for provider in providers))}
    for topic in await endpoint.all("messaging.listTopics", {}, "topics", "topics"):
        subscribers = await endpoint.all("messaging.listSubscribers", {"topicId": topic["$id"]}, "subscribers", "subs")
        moved = sorted((pick(subscriber, ("$id", "targetId")) for subscriber in subscribers), key=lambda s: s["$id"])
        found[f"topic {topic['$id']}"] = (len(moved), checksum([pick(topic, ("$id", "name", "subscribe")), *moved]))
    return found
