"""A migration's progress on disk, so a re-run after an interruption continues where it stopped.

The state file names its source and target (never their keys) and holds what is finished (`done`)
and where each long listing got to (`cursors`). It is replaced atomically after every step, so a
kill at any moment leaves the last finished step on disk. What a step wrote before it was recorded
is found again in the target and skipped, so nothing is ever written twice.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..engine.private_files import create_private, make_private_dirs

VERSION = 1


def state_name(source: str, target: str) -> str:
    """The state file's name for this pair of ends: migrate-<digest of both descriptions>.json."""
    digest = hashlib.sha256(f"{source}\n{target}".encode()).hexdigest()[:16]
    return f"migrate-{digest}.json"


class State:
    """What is done, kept in `path` (None: kept in memory only, as a dry run does)."""

    def __init__(self, path: Path | None, source: str, target: str) -> None:
        self.path = path
        self.data: dict = {"version": VERSION, "source": source, "target": target, "done": {}, "cursors": {}}
        if path is not None and path.exists():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
                raise ValueError(f"--state: {path} cannot be read as a migration's progress ({error})") from None
            if not isinstance(loaded, dict) or not all(
                isinstance(loaded.get(key), dict) for key in ("done", "cursors")
            ):
                raise ValueError(f"--state: {path} is not a migration's progress")
            if loaded.get("source") != source or loaded.get("target") != target:
                raise ValueError(
                    f"--state: {path} records another migration ({loaded.get('source')} to {loaded.get('target')})"
                )
            self.data = loaded

    def done(self, key: str) -> bool:
        return key in self.data["done"]

    def mark(self, key: str) -> None:
        self.data["done"][key] = True
        self.data["cursors"].pop(key, None)
        self.save()

    def cursor(self, key: str) -> str | None:
        return self.data["cursors"].get(key)

    def advance(self, key: str, cursor: str) -> None:
        self.data["cursors"][key] = cursor
        self.save()

    def save(self) -> None:
        if self.path is None:
            return
        make_private_dirs(self.path.parent)
        partial = self.path.with_name(self.path.name + ".partial")
        if partial.exists():
            partial.unlink()
        with open(create_private(partial), "w", encoding="utf-8") as handle:
            json.dump(self.data, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, self.path)
