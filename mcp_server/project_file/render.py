"""A plan as text, the way Terraform shows one: a symbol per action, the keys that change, what is lost, and a
closing count."""

from __future__ import annotations

import json

from .plan import CREATE, DELETE, RECREATE, UPDATE, Action

SYMBOLS = {CREATE: "+", UPDATE: "~", RECREATE: "-/+", DELETE: "-"}
WORDS = {CREATE: "create", UPDATE: "update in place", RECREATE: "recreate", DELETE: "delete"}
DONE = {CREATE: "created", UPDATE: "updated in place", RECREATE: "recreated", DELETE: "deleted"}
SHOWN_VALUE = 60


def plan_text(actions: list[Action]) -> str:
    if not actions:
        return "No changes. The project matches the file."
    lines = ["Actions to bring the project to the file:", ""]
    for action in actions:
        lines.append(f"  {SYMBOLS[action.action]:>3} {action.resource} {action.address}  ({WORDS[action.action]})")
        for change in action.changes:
            lines.append(f"        {change['key']}: {shown(change['from'])} -> {shown(change['to'])}")
        if action.reason:
            lines.append(f"        because {action.reason}")
        if action.loses:
            lines.append(f"        data loss: {action.loses}")
    lines += ["", f"Plan: {summary(actions)}."]
    return "\n".join(lines)


def summary(actions: list[Action]) -> str:
    counts = {kind: sum(action.action == kind for action in actions) for kind in WORDS}
    return ", ".join(f"{counts[kind]} to {WORDS[kind]}" for kind in WORDS)


def done_line(action: Action) -> str:
    return f"{SYMBOLS[action.action]:>3} {action.resource} {action.address}: {DONE[action.action]}"


def shown(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= SHOWN_VALUE else text[: SHOWN_VALUE - 1] + "…"
