"""`baas-mcp pull`, `plan` and `push` on a backend: reading and writing the file, printing, exit codes.

Exit codes: 0 done (or nothing to do), 1 refused or failed on the target, 2 a bad file (nothing applied). `push`
refuses deletions and recreations without `allow_destroy`, and asks before applying only when standard input is a
terminal (and the output is not JSON).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..catalog import Catalog
from ..engine.errors import AppwriteError
from .apply import ApplyError, apply
from .layout import SECTIONS
from .load import FileError, read_schema
from .plan import DESTRUCTIVE, Action, plan
from .render import done_line, plan_text
from .schema import DATABASES, TABLES, Schema, as_file
from .settings import SETTINGS
from .target import read_target

CONFIG_FILE = "appwrite.config.json"
LEGACY_CONFIG_FILE = "appwrite.json"
MAX_EXISTING_BYTES = 16 * 1024 * 1024
# Sections a pull writes afresh: the legacy API's names of databases and tables go, their TablesDB names stay.
LEGACY_SECTIONS = ("databases", "collections")
SCHEMA_SECTIONS = (DATABASES, TABLES)


@dataclass(frozen=True)
class Options:
    """What the command line asked for: the file (None: appwrite.config.json, or appwrite.json where only that
    exists), the project, JSON output, and for push whether to destroy and how long to wait for the server."""

    config: str | None
    project: str
    json: bool
    allow_destroy: bool = False
    timeout: float = 300.0


class CommandError(Exception):
    """A refusal or failure to report in Appwrite's error shape, with the exit code it ends with."""

    def __init__(
        self,
        message: str,
        code: int = 400,
        kind: str = "general_argument_invalid",
        status: int = 1,
        extra: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.message, self.code, self.kind, self.status = message, code, kind, status
        self.extra = extra or {}

    def as_json(self) -> dict:
        return {"message": self.message, "code": self.code, "type": self.kind, **self.extra}


async def run_command(name: str, backend: Any, catalog: Catalog, options: Options, confirm: Callable[[], bool]) -> int:
    """Run pull, plan or push; an error of the target (an Appwrite error) becomes a CommandError."""
    try:
        if name == "pull":
            return await run_pull(backend, options)
        if name == "plan":
            return await run_plan(backend, catalog, options)
        return await run_push(backend, catalog, options, confirm)
    except AppwriteError as error:
        raise CommandError(error.message, error.code, error.type) from None


def config_path(options: Options, reading: bool) -> Path:
    if options.config is not None:
        return Path(options.config)
    if reading and not Path(CONFIG_FILE).exists() and Path(LEGACY_CONFIG_FILE).exists():
        return Path(LEGACY_CONFIG_FILE)
    return Path(CONFIG_FILE)


async def run_pull(backend: Any, options: Options) -> int:
    """Write the project's schema to the file (keeping the file's other keys, such as endpoint)."""
    path = config_path(options, reading=False)
    kept = existing_document(path)
    skipped: list[tuple[str, str]] = []
    written = as_file(await read_target(backend, None, skipped), options.project)
    for name, reason in skipped:
        print(f"baas-mcp pull: {name} left as the file had it: {reason}", file=sys.stderr)
    left = {name for name, _ in skipped}
    replaced = {"projectId", *LEGACY_SECTIONS, *SCHEMA_SECTIONS, SETTINGS, *(section.name for section in SECTIONS)}
    replaced -= left
    document = {**{key: value for key, value in kept.items() if key not in replaced}, **written}
    text = json.dumps(document, indent=4, ensure_ascii=False) + "\n"
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise CommandError(f"cannot write {str(path)!r}: {error.strerror}", status=2) from None
    if options.json:
        print(text, end="")
    else:
        counts = ", ".join(f"{len(written[name])} {name}" for name in written if isinstance(written[name], list))
        print(f"wrote {path} ({counts or 'an empty project'})")
    return 0


def existing_document(path: Path) -> dict:
    """The file's top-level keys (none when there is no file yet); a file that is no JSON object is not touched."""
    if not path.exists():
        return {}
    try:
        with path.open("rb") as stream:
            document = json.loads(stream.read(MAX_EXISTING_BYTES + 1).decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        document = None
    if not isinstance(document, dict):
        raise CommandError(f"{str(path)!r} exists and is not an appwrite.config.json; move it away first", status=2)
    return document


async def planned(backend: Any, catalog: Catalog, options: Options) -> list[Action]:
    path = config_path(options, reading=True)
    try:
        wanted = read_schema(path, catalog)
    except FileError as error:
        raise CommandError(f"{path}: {error}", status=2) from None
    return plan(wanted, await read_target(backend, wanted.managed | stated_sections(wanted)), catalog)


async def run_plan(backend: Any, catalog: Catalog, options: Options) -> int:
    actions = await planned(backend, catalog, options)
    print(json.dumps([action.as_json() for action in actions], indent=2) if options.json else plan_text(actions))
    return 0


async def run_push(backend: Any, catalog: Catalog, options: Options, confirm: Callable[[], bool]) -> int:
    """Apply the plan; `confirm` asks the person at the terminal (called only when stdin is one)."""
    actions = await planned(backend, catalog, options)
    if not options.json:
        print(plan_text(actions))
    if not actions:
        if options.json:
            print("[]")
        return 0
    destructive = [action for action in actions if action.action in DESTRUCTIVE]
    if destructive and not options.allow_destroy:
        raise CommandError(
            f"refused: {len(destructive)} action(s) delete or recreate ({', '.join(describe(a) for a in destructive)})"
            "; review them with `baas-mcp plan` and run again with --allow-destroy"
        )
    if not options.json and sys.stdin.isatty() and not confirm():
        raise CommandError("cancelled: nothing was applied")
    applied: list[Action] = []

    def report(action: Action) -> None:
        applied.append(action)
        if not options.json:
            print(done_line(action), flush=True)

    try:
        await apply(backend, catalog, actions, options.timeout, report)
    except ApplyError as error:
        message = f"{error} ({len(applied)} of {len(actions)} actions were applied)"
        raise CommandError(message, 500, "general_unknown", extra={"applied": [a.as_json() for a in applied]}) from None
    print(json.dumps([action.as_json() for action in applied], indent=2) if options.json else "Push complete.")
    return 0


def stated_sections(schema: Schema) -> frozenset[str]:
    """The sections a file gives resources of (whether or not it states them in full)."""
    tables = {DATABASES, TABLES} if schema.databases or schema.tables else set()
    settings = {SETTINGS} if schema.settings else set()
    return frozenset({*tables, *settings, *(name for name, entries in schema.flat.items() if entries)})


def describe(action: Action) -> str:
    return f"{action.action} {action.resource} {action.address}"
