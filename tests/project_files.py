"""appwrite.config.json files for the pull/plan/push tests, and a way to run those commands with no terminal."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

from tests.commands import COMMAND
from tests.rest.test_appwrite_cli import CONFIG

# The appwrite-cli test's schema (two related tables with columns of many types and indexes, a bucket), with a second
# database and one resource of each other section.
NOTES = {
    "$id": "notes",
    "$permissions": ['read("users")'],
    "databaseId": "blog",
    "name": "Notes",
    "enabled": True,
    "rowSecurity": True,
    "columns": [
        {"key": "body", "type": "text", "required": False, "array": False, "default": None, "encrypt": False},
        {"key": "views", "type": "bigint", "required": False, "array": False, "min": 0, "max": 10**15, "default": 0},
        {"key": "code", "type": "varchar", "required": True, "array": False, "size": 12, "encrypt": False},
        {"key": "area", "type": "polygon", "required": False, "array": False},
    ],
    "indexes": [{"key": "by_code", "type": "unique", "columns": ["code"], "orders": ["ASC"]}],
}
FULL = {
    **copy.deepcopy(CONFIG),
    "tablesDB": [*CONFIG["tablesDB"], {"$id": "blog", "name": "Blog", "enabled": True}],
    "tables": [*copy.deepcopy(CONFIG["tables"]), NOTES],
    "teams": [{"$id": "staff", "name": "Staff"}],
    "topics": [{"$id": "news", "name": "News", "subscribe": ["users"]}],
    "functions": [
        {
            "$id": "hello",
            "execute": ["any"],
            "name": "Hello",
            "enabled": True,
            "logging": True,
            "runtime": "node-20.0",
            "scopes": ["users.read"],
            "events": ["users.*.create"],
            "schedule": "",
            "timeout": 15,
            "entrypoint": "index.js",
            "commands": "npm install",
        }
    ],
    "sites": [
        {
            "$id": "web",
            "name": "Web",
            "enabled": True,
            "logging": True,
            "timeout": 30,
            "framework": "other",
            "buildRuntime": "node-20.0",
            "outputDirectory": "./",
            "fallbackFile": "index.html",
        }
    ],
    "webhooks": [
        {
            "$id": "hook",
            "name": "Hook",
            "url": "https://example.com/hook",
            "events": ["users.*.create"],
            "enabled": True,
            "tls": True,
        }
    ],
    "settings": {
        "services": {"graphql": False},
        "auth": {
            "methods": {"phone": False, "anonymous": False},
            "security": {
                "duration": 3600,
                "limit": 0,
                "sessionsLimit": 10,
                "passwordHistory": 5,
                "passwordDictionary": True,
                "personalDataCheck": True,
                "sessionAlerts": True,
                "mockNumbers": [{"phone": "+15550100001", "otp": "123456"}],
            },
        },
    },
    "platforms": [
        {"$id": "site", "name": "Shop site", "type": "web", "hostname": "shop.example.com"},
        {"$id": "ios", "name": "Shop for iOS", "type": "apple", "bundleIdentifier": "com.example.shop"},
    ],
}


def write(folder: Path, name: str, document: object) -> Path:
    path = folder / name
    path.write_text(document if isinstance(document, str) else json.dumps(document, indent=2))
    return path


def project_file(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """`baas-mcp ARGS` with no terminal on standard input (so push never asks)."""
    return subprocess.run(
        [str(COMMAND), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
    )


def succeeded(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout
