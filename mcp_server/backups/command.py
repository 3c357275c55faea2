"""`baas-mcp backup create | list | restore | delete`: running each and printing what it did.

A failure prints its Appwrite error (`{"message", "code", "type", "version"}`; the file system's and SQLite's as
general_server_error) on standard output with `--json`, one line on standard error always, and exits 1.
`--project` names the project to back up (create), the project whose backups to show or keep (list, delete
--keep), and, given with an ID, the project the backup must be of.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path

from ..engine.errors import AppwriteError
from . import archive
from .restore import restore_backup
from .snapshot import create_backup


def run(args: argparse.Namespace, data_dir: Path) -> int:
    """Run one backup action; the exit code."""
    try:
        try:
            result, text = ACTIONS[args.backup_command](args, data_dir)
        except (OSError, sqlite3.Error) as failure:  # a full disk, a database locked for too long, …
            raise AppwriteError("general_server_error", f"{type(failure).__name__}: {failure}") from None
    except AppwriteError as error:
        if args.json:
            print(json.dumps(error.to_dict(), ensure_ascii=False))
        print(f"baas-mcp backup {args.backup_command}: {error.type}: {error.message}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.json else text)
    return 0


def create(args: argparse.Namespace, data_dir: Path) -> tuple[dict, str]:
    header = archive.summary(create_backup(data_dir, args.project))
    deleted = archive.keep_newest(data_dir, args.project, args.keep) if args.keep else []
    lines = [
        f"created backup {header['$id']} of project {args.project}: {header['files']} files, {header['size']} bytes"
    ]
    lines += [f"deleted backup {backup_id} (keeping the newest {args.keep})" for backup_id in deleted]
    return {**header, "deleted": deleted}, "\n".join(lines)


def listing(args: argparse.Namespace, data_dir: Path) -> tuple[list, str]:
    found = []
    for _, header in archive.headers(data_dir):
        if isinstance(header, AppwriteError):
            print(f"baas-mcp backup list: {header.message}", file=sys.stderr)
        elif args.project in (None, header["project"]):
            found.append(archive.summary(header))
    lines = [
        f"{item['$id']}  {item['project']}  {item['$createdAt']}  {item['size']} bytes  {item['files']} files"
        for item in found
    ]
    return found, "\n".join(lines) or "no backups; take one with: baas-mcp backup create"


def restore(args: argparse.Namespace, data_dir: Path) -> tuple[dict, str]:
    of_project(data_dir, args.id, args.project)
    result = restore_backup(data_dir, args.id, args.as_project, args.force)
    text = (
        f"restored backup {args.id} into project {result['project']}: {result['files']} files, {result['size']} bytes"
    )
    return result, text


def delete(args: argparse.Namespace, data_dir: Path) -> tuple[dict, str]:
    if args.id is None and args.keep is None:
        raise archive.invalid("Give the ID of the backup to delete, or --keep N to keep only the newest N.")
    deleted = []
    if args.id is not None:
        of_project(data_dir, args.id, args.project)
        archive.delete(data_dir, args.id)
        deleted.append(args.id)
    if args.keep is not None:
        deleted += archive.keep_newest(data_dir, args.project or "default", args.keep)
    return {"deleted": deleted}, "\n".join(
        f"deleted backup {backup_id}" for backup_id in deleted
    ) or "nothing to delete"


def of_project(data_dir: Path, backup_id: str, project: str | None) -> None:
    """Refuse a backup that is not of `project` (when given) as not found."""
    if project is not None:
        header = archive.read_header(archive.backup_folder(data_dir, backup_id), backup_id)
        if header["project"] != project:
            raise archive.not_found(backup_id)


ACTIONS = {"create": create, "list": listing, "restore": restore, "delete": delete}
