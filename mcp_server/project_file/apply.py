"""Carrying out a plan: its operations phase by phase through the backend, each checked against its catalog schema
first, waiting after each phase until the columns and indexes it touched are `available` (or gone), as an Appwrite
server builds them in the background. Waiting is bounded: a column or index that does not get there in time, or
fails, stops the push with an error saying which.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio

from ..catalog import Catalog
from ..engine.errors import AppwriteError
from ..engine.permissions import ADMIN
from ..validation import validate_params
from .plan import Action, Step

FIRST_POLL = 0.1
LONGEST_POLL = 2.0
# What a server answers for a resource that is not there (a deletion finds it gone: what it was for is done).
NOT_FOUND = 404


class ApplyError(Exception):
    """A push that stopped: what failed, after the operations it lists had run."""


async def apply(
    backend: Any, catalog: Catalog, actions: list[Action], timeout: float, report: Callable[[Action], None]
) -> None:
    """Run every step of `actions` in phase order; `report` hears of each action once all its steps ran."""
    steps = sorted(
        ((step.phase, number, action, step) for number, action in enumerate(actions) for step in action.steps),
        key=lambda item: (item[0], item[1]),
    )
    left = {id(action): len(action.steps) for action in actions}
    phases = sorted({phase for phase, *_ in steps})
    for phase in phases:
        done = [(action, step) for step_phase, _, action, step in steps if step_phase == phase]
        for action, step in done:
            await run(backend, catalog, step, action)
        with anyio.move_on_after(timeout) as waiting:
            for _, step in done:
                if step.wait is not None:
                    await wait_for(backend, step.wait)
        if waiting.cancelled_caught:
            late = [describe(step.wait) for _, step in done if step.wait is not None]
            raise ApplyError(f"waited {timeout:g} s and still not done: {', '.join(late)}")
        for action, _ in done:
            left[id(action)] -= 1
            if left[id(action)] == 0:
                report(action)


async def run(backend: Any, catalog: Catalog, step: Step, action: Action) -> None:
    operation = catalog.get(step.operation)
    try:
        await backend.call(step.operation, validate_params(operation, step.params), ADMIN)
    except AppwriteError as error:
        if error.code == NOT_FOUND and operation.access == "delete":
            return
        where = f"{action.action} {action.resource} {action.address}"
        raise ApplyError(f"{where}: {step.operation}: {error.message}") from None


async def wait_for(backend: Any, wait: tuple[str, str, str, str, str]) -> None:
    """Poll the column or index until it is in the state wanted; ApplyError if it failed."""
    kind, database, table, key, state = wait
    operation = "tablesDB.getColumn" if kind == "column" else "tablesDB.getIndex"
    pause = FIRST_POLL
    while True:
        try:
            model = await backend.call(operation, {"databaseId": database, "tableId": table, "key": key}, ADMIN)
        except AppwriteError as error:
            if error.code == NOT_FOUND and state == "gone":
                return
            raise ApplyError(f"{describe(wait)}: {error.message}") from None
        status = model.get("status")
        if state == "available" and status == "available":
            return
        if status == "failed":
            raise ApplyError(f"{describe(wait)} failed: {model.get('error') or 'no reason given'}")
        await anyio.sleep(pause)
        pause = min(pause * 2, LONGEST_POLL)


def describe(wait: tuple[str, str, str, str, str]) -> str:
    kind, database, table, key, state = wait
    return f"{kind} {database}/{table}/{key} ({'to be deleted' if state == 'gone' else 'to become available'})"
