"""What a migration did (or, in a dry run, would do): counts per resource and action, what cannot move or
must be set again, what failed, and the verification of source against target."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

CREATE, UPDATE, SKIP = "create", "update", "skip"
CANNOT_MOVE, SET_AGAIN, FAILED = "cannot move", "set again", "failed"


@dataclass
class Report:
    dry_run: bool = False
    counts: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    notes: list[dict] = field(default_factory=list)
    checks: list[dict] = field(default_factory=list)

    def count(self, resource: str, action: str, amount: int = 1) -> None:
        self.counts[resource][action] += amount

    def note(self, kind: str, resource: str, message: str) -> None:
        self.notes.append({"kind": kind, "resource": resource, "message": message})

    def check(self, resource: str, source: tuple[int, str] | None, target: tuple[int, str] | None) -> None:
        """One verification: (count, checksum) at each end (None: missing there)."""
        self.checks.append(
            {
                "resource": resource,
                "source": {"count": source[0], "checksum": source[1]} if source else None,
                "target": {"count": target[0], "checksum": target[1]} if target else None,
                "same": source == target,
            }
        )

    @property
    def failed(self) -> bool:
        return any(note["kind"] == FAILED for note in self.notes) or any(not check["same"] for check in self.checks)

    def as_json(self) -> dict:
        return {
            "dryRun": self.dry_run,
            "ok": not self.failed,
            "resources": {resource: dict(actions) for resource, actions in self.counts.items()},
            "notes": self.notes,
            "verification": self.checks,
        }

    def as_text(self) -> str:
        verb = (
            {CREATE: "would create", UPDATE: "would update", SKIP: "already there"}
            if self.dry_run
            else {
                CREATE: "created",
                UPDATE: "updated",
                SKIP: "already there",
            }
        )
        lines = ["dry run: nothing was written" if self.dry_run else "migration finished"]
        for resource, actions in self.counts.items():
            said = ", ".join(f"{verb.get(action, action)} {amount:,}" for action, amount in sorted(actions.items()))
            lines.append(f"  {resource}: {said}")
        for kind in (CANNOT_MOVE, SET_AGAIN, FAILED):
            found = [note for note in self.notes if note["kind"] == kind]
            if found:
                lines.append(f"{kind}:")
                lines.extend(f"  {note['resource']}: {note['message']}" for note in found)
        if self.checks:
            differ = [check for check in self.checks if not check["same"]]
            lines.append(f"verification: {len(self.checks) - len(differ)} of {len(self.checks)} resources identical")
            for check in differ:
                lines.append(
                    f"  DIFFERS {check['resource']}: source {summary(check['source'])}, "
                    f"target {summary(check['target'])}"
                )
        return "\n".join(lines)


def summary(side: dict | None) -> str:
    return "missing" if side is None else f"{side['count']:,} items, checksum {side['checksum'][:12]}"
