"""What every step of a migration shares: both ends, the state, the report, progress, and how work is
planned (dry run), spread over bounded concurrency and kept going when one resource fails."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio

from ..project_file.layout import stated
from .endpoint import MODEL_NAMES, Endpoint, MigrationFailure, creation_params
from .progress import Progress
from .report import CREATE, FAILED, SKIP, UPDATE, Report
from .state import State

Item = TypeVar("Item")


@dataclass
class Migration:
    source: Endpoint
    target: Endpoint
    state: State
    report: Report
    progress: Progress
    dry_run: bool
    concurrency: int

    def plan(self, resource: str, action: str, amount: int = 1) -> bool:
        """Count an action; whether to carry it out (never in a dry run)."""
        if amount:
            self.report.count(resource, action, amount)
        return not self.dry_run

    async def each(self, items: Iterable[Item], work: Callable[[Item], Awaitable[None]]) -> None:
        """`work` on every item, at most `concurrency` at a time; a failure is reported and the rest go on."""
        limiter = anyio.CapacityLimiter(self.concurrency)

        async def one(item: Item) -> None:
            async with limiter:
                await self.guarded(work(item))

        async with anyio.create_task_group() as group:
            for item in items:
                group.start_soon(one, item)

    async def guarded(self, step: Awaitable[None]) -> None:
        try:
            await step
        except MigrationFailure as failure:
            self.report.note(FAILED, failure.resource, failure.reason)


def checksum(items: Iterable[Any]) -> str:
    """A digest of items in canonical JSON (sorted keys), in the given order."""
    digest = hashlib.sha256()
    for item in items:
        digest.update(json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def pick(model: dict, fields: Iterable[str]) -> dict:
    return {name: model.get(name) for name in fields}


async def sync_model(
    m: Migration,
    resource: str,
    name: str,
    model: dict,
    ids: dict,
    ops: tuple[str, str, str],
    leave: tuple[str, ...] = (),
    shape: Callable[[dict], dict] | None = None,
) -> dict | None:
    """Create the model in the target (get, create, update operations), or bring it in line with the source,
    or skip it when its parameters already match; `leave` names parameters moved by a later step, `shape` lays
    out the target's model as `model` is (when nested fields were lifted). The target's model as it was found
    (None when it was missing). A setting the model answers "" (never set) is left out of a creation, as an
    Appwrite create operation may refuse "" where it takes no value (a site's `adapter`)."""
    get, create, update = ops
    existing = await m.target.find(get, ids, name)
    if existing is None:
        if m.plan(resource, CREATE):
            await m.target.call(create, stated(model_params(m.target, create, model, ids, leave)), name)
        return None
    wanted = model_params(m.target, update, model, ids, leave)
    seen = shape(existing) if shape else existing
    if all(key in ids or seen.get(MODEL_NAMES.get(key, key)) == value for key, value in wanted.items()):
        m.plan(resource, SKIP)
    elif m.plan(resource, UPDATE):
        await m.target.call(update, wanted, name)
    return existing


def model_params(target: Endpoint, operation: str, model: dict, ids: dict, leave: tuple[str, ...]) -> dict:
    params = creation_params(target.operation(operation), model, ids)
    return {key: value for key, value in params.items() if key not in leave}
