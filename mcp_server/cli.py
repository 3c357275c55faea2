"""The `baas-mcp` command: argument parsing, output formatting and exit codes.

Exit codes: 0 success, 2 bad input (the message says which argument and what was expected).
Modules behind a subcommand are imported only when that subcommand runs, to keep start-up fast.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import ipaddress
import json
import os
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .migration import RESOURCES as MIGRATE_RESOURCES

if TYPE_CHECKING:
    from .backends.versions import ApiVersion

MAX_CLI_LIMIT = 100
DEFAULT_DATA_DIR = ".baas"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_API_PORT = 8080
TRANSPORTS = {"stdio": "stdio", "http": "http", "sse": "http"}
HTTP_ONLY_OPTIONS = {
    "--host": "host",
    "--port": "port",
    "--allow-host": "allow_host",
    "--no-auth": "no_auth",
    "--files-root": "files_root",
}
WILDCARD_HOSTS = ("0.0.0.0", "::", "[::]")
# `baas-mcp events`: events read per query, and how often --follow looks for new ones (seconds).
EVENTS_PAGE = 500
FOLLOW_POLL = 0.2
MAX_EVENTS_KEPT = 10_000_000
# push: seconds to wait for a server to build the columns and indexes of one phase.
PUSH_TIMEOUT = 300
PRIVATE_URLS_HELP = "let avatars and webhooks reach loopback, private and reserved addresses (refused by default)"
NO_CODE_HELP = "refuse function and site deployments and executions, and run no function in the background"
STDIO_HINT = (
    "baas-mcp: MCP server on stdio, waiting for a client such as Claude Code, Cursor or VS Code (README: "
    '"Use it from your editor"); Ctrl+C stops it. For HTTP: baas-mcp serve --transport http'
)


class UsageError(Exception):
    """Bad input from the command line; shown as one line, exit code 2."""


def whole_number(low: int, high: int, expected: str) -> Callable[[str], int]:
    """An option type: a whole number from `low` to `high`; `expected` says what is wanted."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{expected}, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{expected}, got {value}")
        return value

    return parse


positive_limit = whole_number(1, MAX_CLI_LIMIT, f"expected a whole number from 1 to {MAX_CLI_LIMIT}")
port_number = whole_number(0, 65535, "expected a port number from 0 to 65535")
sequence_number = whole_number(0, 2**63 - 1, "expected an event's sequence number (0 or more)")
backups_kept = whole_number(1, 10_000, "expected a number of backups from 1 to 10000")
events_kept = whole_number(1, MAX_EVENTS_KEPT, f"expected a whole number from 1 to {MAX_EVENTS_KEPT:,}")


def transport_name(text: str) -> str:
    if text not in TRANSPORTS:
        raise argparse.ArgumentTypeError(f"expected stdio or http (sse is an alias of http), got {text!r}")
    return TRANSPORTS[text]


def days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of days above 0 (at most 3650), got {text!r}") from None
    if not 0 < value <= 3650:
        raise argparse.ArgumentTypeError(f"expected a number of days above 0 (at most 3650), got {text}")
    return value


def retention_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--events-max-age",
        type=days,
        default=None,
        metavar="DAYS",
        help="keep events this many days at most (default 7); the project keeps the setting",
    )
    parser.add_argument(
        "--events-max-count",
        type=events_kept,
        default=None,
        metavar="N",
        help="keep this many events at most (default 100000); the project keeps the setting",
    )


def retention_of(args: argparse.Namespace):
    """The event retention the options give (None: each project keeps its own)."""
    if args.events_max_age is None and args.events_max_count is None:
        return None
    from .engine.events import DEFAULT_MAX_AGE_DAYS, DEFAULT_MAX_COUNT, Retention

    return Retention(
        max_age_days=args.events_max_age or DEFAULT_MAX_AGE_DAYS, max_count=args.events_max_count or DEFAULT_MAX_COUNT
    )


# auth-policy's options: the setting each changes (engine/identity/policy.py), its kind, and its help.
AUTH_POLICY_FLAGS: dict[str, tuple[str, type, str]] = {
    "--min-length": ("passwordMinLength", int, "shortest password allowed (default 8)"),
    "--uppercase": ("passwordUppercase", bool, "require an uppercase letter in passwords"),
    "--lowercase": ("passwordLowercase", bool, "require a lowercase letter in passwords"),
    "--number": ("passwordNumber", bool, "require a digit in passwords"),
    "--symbols": ("passwordSymbols", bool, "require a symbol in passwords"),
    "--history": ("passwordHistory", int, "refuse a password among a user's last N (0-5000; default 0)"),
    "--dictionary": ("passwordDictionary", bool, "refuse the 30,000 most common passwords"),
    "--personal-data": ("personalDataCheck", bool, "refuse passwords with the user's name etc."),
    "--session-duration": ("sessionDuration", int, "seconds a session lasts (5-31536000; default one year)"),
    "--session-limit": ("maxSessions", int, "sessions a user keeps, oldest ended first (0 = no limit, default)"),
    "--invalidate-sessions": ("invalidateSessions", bool, "end a user's other sessions when the password changes"),
    "--session-alerts": ("sessionAlerts", bool, "email users about each new session but their first"),
    "--user-limit": ("userLimit", int, "most users sign-ups may reach (0 = no limit, default)"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="baas-mcp",
        description="A whole backend for AI coding assistants: search and run Appwrite-compatible operations.",
    )
    parser.add_argument("--version", action="version", version=f"baas-mcp {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser("serve", help="run the MCP server (stdio by default)")
    serve.add_argument(
        "--transport",
        type=transport_name,
        default="stdio",
        help="stdio (default), or http: streamable HTTP at /mcp and SSE at /sse on one port (sse is an alias)",
    )
    serve.add_argument("--host", default=None, help=f"HTTP: address to listen on (default {DEFAULT_HOST})")
    serve.add_argument(
        "--port", type=port_number, default=None, help=f"HTTP: port, 0 for any free one (default {DEFAULT_PORT})"
    )
    serve.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="HTTP: a host name clients may use besides loopback (repeatable; DNS-rebinding protection)",
    )
    serve.add_argument(
        "--no-auth", action="store_true", help="HTTP on a loopback host only: accept requests without an API key"
    )
    serve.add_argument(
        "--files-root",
        default=None,
        metavar="DIR",
        help="HTTP: a file parameter may name a path inside DIR (otherwise remote callers send data: URLs only)",
    )
    serve.add_argument(
        "--data-dir", default=None, help="where project data lives (env BAAS_MCP_DATA_DIR, default ./.baas)"
    )
    serve.add_argument(
        "--project", default=None, help="project id (default: default; env APPWRITE_PROJECT_ID with --endpoint)"
    )
    serve.add_argument("--key", default=None, help="restrict the server to this API key's scopes (env BAAS_MCP_KEY)")
    serve.add_argument("--read-only", action="store_true", help="offer and run only operations that read")
    serve.add_argument(
        "--endpoint",
        default=None,
        help="run operations on this Appwrite server, e.g. https://cloud.appwrite.io/v1 (env APPWRITE_ENDPOINT)",
    )
    serve.add_argument("--api-key", default=None, help="with --endpoint: the server's API key (env APPWRITE_API_KEY)")
    serve.add_argument(
        "--self-signed", action="store_true", help="with --endpoint: accept a self-signed TLS certificate"
    )
    serve.add_argument(
        "--api-version",
        default=None,
        metavar="X.Y",
        help="with --endpoint: the server's Appwrite version, e.g. 1.8 (default: read from /v1/health/version)",
    )
    serve.add_argument("--allow-private-urls", action="store_true", help=PRIVATE_URLS_HELP)
    serve.add_argument("--no-code", action="store_true", help=NO_CODE_HELP)
    retention_options(serve)
    serve.set_defaults(run=run_serve)

    api = commands.add_parser("api", help="serve the embedded engine as an Appwrite-compatible REST API on /v1")
    api.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    api.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_API_PORT,
        help=f"port, 0 for any free one (default {DEFAULT_API_PORT})",
    )
    api.add_argument(
        "--data-dir", default=None, help="where project data lives (env BAAS_MCP_DATA_DIR, default ./.baas)"
    )
    api.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="let browser pages of this origin (scheme://host[:port]) call the API, besides loopback ones; "
        "repeatable; * allows every origin",
    )
    api.add_argument(
        "--project", default="default", help="the project whose sites <siteId>.localhost serves (default: default)"
    )
    api.add_argument("--allow-private-urls", action="store_true", help=PRIVATE_URLS_HELP)
    api.add_argument("--no-code", action="store_true", help=NO_CODE_HELP)
    retention_options(api)
    api.set_defaults(run=run_api)

    install = commands.add_parser("install", help="add this server to an MCP client's configuration")
    install.add_argument("client", choices=("claude-code", "cursor", "claude-desktop", "vscode"), help="the client")
    install.add_argument(
        "--scope",
        choices=("project", "user"),
        default=None,
        help="project (the current directory) or user; default: project, or user for claude-desktop",
    )
    install.add_argument(
        "--data-dir", default=None, help="where the server keeps its data (default: ./.baas, or a per-user folder)"
    )
    install.add_argument("--name", default="baas", help="the server's name in the client (default: baas)")
    install.add_argument("--read-only", action="store_true", help="the server offers and runs only reads")
    install.set_defaults(run=run_install)

    policy = commands.add_parser(
        "auth-policy", help="show or change a project's auth policy (the project.*Policy operations' settings)"
    )
    for flag, (_, kind, words) in AUTH_POLICY_FLAGS.items():
        if kind is int:
            policy.add_argument(flag, type=int, help=words)
        else:
            policy.add_argument(flag, choices=("on", "off"), help=words)
    outbox = commands.add_parser("outbox", help="show the emails and text messages the engine sent")
    outbox.add_argument("--last", type=positive_limit, default=None, help="only the last N messages")
    for sub in (policy, outbox):
        sub.add_argument("--data-dir", default=None, help="where project data lives (env BAAS_MCP_DATA_DIR)")
        sub.add_argument("--project", default="default", help="project id (default: default)")
        sub.add_argument("--json", action="store_true", help="print JSON")
    policy.set_defaults(run=run_auth_policy)
    outbox.set_defaults(run=run_outbox)

    events = commands.add_parser("events", help="print the project's event stream (every committed change)")
    events.add_argument("--follow", action="store_true", help="keep printing events as they are committed")
    events.add_argument("--last", type=events_kept, default=None, help="start with the last N events")
    events.add_argument("--after", type=sequence_number, default=None, help="start after this sequence number")
    events.add_argument(
        "--event",
        action="append",
        default=[],
        metavar="NAME",
        help="only events with this name, e.g. databases.*.tables.*.rows.*.create (repeatable)",
    )
    events.add_argument("--data-dir", default=None, help="where project data lives (env BAAS_MCP_DATA_DIR)")
    events.add_argument("--project", default="default", help="project id (default: default)")
    events.add_argument("--json", action="store_true", help="print one JSON object per event (JSON Lines)")
    events.set_defaults(run=run_events)

    search = commands.add_parser("search", help="find operations for what you want to do")
    search.add_argument("query", help="what you want to do, in your own words")
    search.add_argument("--limit", type=positive_limit, default=5, help="how many hits to show (default 5)")
    search.add_argument("--service", help="only search this service (e.g. tablesDB, users, storage)")
    search.add_argument("--key", help="only operations this API key may run (the key lives in --data-dir)")
    search.add_argument("--data-dir", default=None, help="with --key: where project data lives (env BAAS_MCP_DATA_DIR)")
    search.add_argument("--project", default="default", help="with --key: the key's project (default: default)")
    search.add_argument("--json", action="store_true", help="print a JSON array of hits")
    search.set_defaults(run=run_search)

    describe = commands.add_parser("describe", help="show one operation with its full parameter schema")
    describe.add_argument("operation", help="operation id, e.g. tablesDB.createRow")
    describe.add_argument("--json", action="store_true", help="print the catalog entry as JSON")
    describe.set_defaults(run=run_describe)

    call = commands.add_parser("call", help="run one operation on the embedded backend and print its JSON result")
    call.add_argument("operation", help="operation id, e.g. tablesDB.createRow")
    call.add_argument(
        "--params", default="{}", help="parameters as a JSON object, @FILE to read them from a file, - for stdin"
    )
    call.add_argument(
        "--data-dir", default=None, help="where project data lives (env BAAS_MCP_DATA_DIR, default ./.baas)"
    )
    call.add_argument("--project", default="default", help="project id (default: default)")
    call.add_argument("--key", help="run as this API key: only its scopes are allowed")
    call.add_argument("--confirm", action="store_true", help="allow an operation that deletes data")
    call.add_argument("--allow-private-urls", action="store_true", help=PRIVATE_URLS_HELP)
    call.set_defaults(run=run_call)

    keys = commands.add_parser("keys", help="create, list and revoke API keys").add_subparsers(
        dest="keys_command", metavar="ACTION", required=True
    )
    create = keys.add_parser("create", help="create a key; its secret is printed once")
    create.add_argument("--name", required=True, help="what the key is for")
    create.add_argument("--scopes", required=True, help="comma-separated scopes, e.g. rows.read,rows.write")
    create.add_argument("--expire", type=positive_days, help="days until the key expires (default: never)")
    listing = keys.add_parser("list", help="list keys (never their secrets)")
    revoke = keys.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("id", help="key id, as keys list shows it")
    for sub in (create, listing, revoke):
        sub.add_argument("--data-dir", default=None, help="where project data lives (env BAAS_MCP_DATA_DIR)")
        sub.add_argument("--project", default="default", help="project id (default: default)")
        sub.add_argument("--json", action="store_true", help="print JSON")
    for sub, run in ((create, run_keys_create), (listing, run_keys_list), (revoke, run_keys_revoke)):
        sub.set_defaults(run=run, command="keys")

    backup_parsers(commands)

    webhooks = commands.add_parser("webhooks", help="deliver webhooks without a server").add_subparsers(
        dest="webhooks_command", metavar="ACTION", required=True
    )
    deliver = webhooks.add_parser(
        "deliver", help="deliver the projects' webhooks (as baas-mcp api and serve do) until stopped, or --once"
    )
    deliver.add_argument(
        "--once", action="store_true", help="try each pending delivery once, print what happened and exit"
    )
    deliver.add_argument("--data-dir", default=None, help="where project data lives (env BAAS_MCP_DATA_DIR)")
    deliver.add_argument("--project", default=None, help="only this project (default: every project)")
    deliver.add_argument("--allow-private-urls", action="store_true", help=PRIVATE_URLS_HELP)
    deliver.add_argument("--json", action="store_true", help="with --once: print JSON")
    # Started by a server (baas-mcp api, serve): stop when standard input closes, that is when the server ends.
    deliver.add_argument("--supervised", action="store_true", help=argparse.SUPPRESS)
    deliver.set_defaults(run=run_webhooks_deliver, command="webhooks")

    migrate = commands.add_parser(
        "migrate", help="move a project's data between the embedded engine and Appwrite servers, resumable, verified"
    )
    for end, what in (("from", "source"), ("to", "target")):
        migrate.add_argument(f"--{end}-data-dir", metavar="DIR", help=f"the {what} is the embedded engine in DIR")
        migrate.add_argument(f"--{end}-project", metavar="ID", help=f"the {what} project (embedded default: default)")
        migrate.add_argument(f"--{end}-endpoint", metavar="URL", help=f"the {what} is the Appwrite server at URL")
        migrate.add_argument(f"--{end}-api-key", metavar="KEY", help=f"an API key of the {what} project")
    migrate.add_argument(
        "--resources",
        default=",".join(MIGRATE_RESOURCES),
        help="what to move (default: all): " + ",".join(MIGRATE_RESOURCES),
    )
    migrate.add_argument("--dry-run", action="store_true", help="print what would be done and write nothing")
    migrate.add_argument("--json", action="store_true", help="progress and the report as JSON lines on stdout")
    migrate.add_argument(
        "--concurrency",
        type=whole_number(1, 64, "expected a whole number from 1 to 64"),
        default=4,
        metavar="N",
        help="operations in flight at once (default 4)",
    )
    migrate.add_argument(
        "--state",
        metavar="PATH",
        help="the progress file (default: under the target data dir, or .baas-migrate-*.json in the current folder)",
    )
    migrate.set_defaults(run=run_migrate)

    background = commands.add_parser(
        "background",
        help="run the servers' background work (webhooks; messages; functions on events, schedules and scheduledAt) "
        "until stopped, or --once",
    )
    background.add_argument(
        "--once",
        action="store_true",
        help="do what is pending (webhook deliveries tried once, function events, schedules and executions due) "
        "and exit",
    )
    background.add_argument("--data-dir", default=None, help="where project data lives (env BAAS_MCP_DATA_DIR)")
    background.add_argument("--project", default=None, help="only this project (default: every project)")
    background.add_argument("--allow-private-urls", action="store_true", help=PRIVATE_URLS_HELP)
    background.add_argument("--no-code", action="store_true", help="deliver webhooks only: run no function")
    background.add_argument(
        "--api-endpoint",
        default=None,
        metavar="URL",
        help="the /v1 URL of the baas-mcp api serving this data dir, given to functions to call back "
        "(APPWRITE_FUNCTION_API_ENDPOINT)",
    )
    background.add_argument("--json", action="store_true", help="with --once: print JSON")
    background.add_argument("--supervised", action="store_true", help=argparse.SUPPRESS)
    background.set_defaults(run=run_background, command="background")
    project_file_commands(commands)
    return parser


def project_file_commands(commands) -> None:
    """pull, plan and push: the project as code in appwrite-cli's file, on the engine or an Appwrite server."""
    helps = {
        "pull": "write the project's schema to appwrite.config.json (appwrite-cli's format)",
        "plan": "show what push would change to make the project match the file",
        "push": "apply the file's schema to the project (deletions and recreations need --allow-destroy)",
    }
    for name, words in helps.items():
        sub = commands.add_parser(name, help=words)
        sub.add_argument(
            "--config", default=None, metavar="FILE", help="the file (default appwrite.config.json, or appwrite.json)"
        )
        if name == "push":
            sub.add_argument("--allow-destroy", action="store_true", help="allow deleting and recreating resources")
            sub.add_argument(
                "--timeout",
                type=whole_number(1, 86_400, "expected a whole number of seconds from 1 to 86400"),
                default=PUSH_TIMEOUT,
                help="seconds to wait for columns and indexes to become available (default 300)",
            )
        sub.add_argument("--json", action="store_true", help="print JSON")
        sub.add_argument("--data-dir", default=None, help="where project data lives (env BAAS_MCP_DATA_DIR)")
        sub.add_argument(
            "--project", default=None, help="project id (default: default; env APPWRITE_PROJECT_ID with --endpoint)"
        )
        sub.add_argument("--endpoint", default=None, help="an Appwrite server, e.g. https://cloud.appwrite.io/v1")
        sub.add_argument("--api-key", default=None, help="with --endpoint: the server's API key (env APPWRITE_API_KEY)")
        sub.add_argument("--self-signed", action="store_true", help="with --endpoint: accept a self-signed certificate")
        sub.add_argument(
            "--api-version", default=None, metavar="X.Y", help="with --endpoint: the server's Appwrite version"
        )
        # pull and plan destroy nothing; the options serve's --endpoint check reads are the engine's own.
        sub.set_defaults(run=run_project_file, allow_destroy=False, timeout=PUSH_TIMEOUT)
        sub.set_defaults(allow_private_urls=False, no_code=False, events_max_age=None, events_max_count=None)


def backup_parsers(commands) -> None:
    """`baas-mcp backup create | list | restore | delete` (run by backups/command.py)."""
    backup = commands.add_parser(
        "backup", help="take, list, restore and delete consistent online backups of a project"
    ).add_subparsers(dest="backup_command", metavar="ACTION", required=True)
    create = backup.add_parser("create", help="back up the project (database, files, key material) while it runs")
    create.add_argument("--keep", type=backups_kept, help="then delete the project's oldest backups beyond N")
    listing = backup.add_parser("list", help="list the backups, oldest first")
    restore = backup.add_parser("restore", help="check a backup, then put it back into its project or another")
    restore.add_argument("id", help="backup id, as backup list shows it")
    restore.add_argument("--as", dest="as_project", metavar="PROJECT", help="restore into this project id instead")
    restore.add_argument("--force", action="store_true", help="replace an existing project's data")
    delete = backup.add_parser("delete", help="delete a backup, or (--keep N) all but the project's newest N")
    delete.add_argument("id", nargs="?", help="backup id, as backup list shows it")
    delete.add_argument("--keep", type=backups_kept, help="delete the project's oldest backups beyond N")
    for sub in (create, listing, restore, delete):
        sub.add_argument("--data-dir", default=None, help="where project data lives (env BAAS_MCP_DATA_DIR)")
        sub.add_argument(
            "--project",
            default="default" if sub is create else None,
            help="create: the project to back up (default: default); list, delete --keep: only this project's "
            "backups; with an ID: the project the backup must be of",
        )
        sub.add_argument("--json", action="store_true", help="print JSON")
        sub.set_defaults(run=run_backup, command="backup")


def run_backup(args: argparse.Namespace) -> int:
    from .backups.command import run

    if args.project is not None:
        usable_data_dir(args.data_dir, args.project)
    return run(args, data_dir(args.data_dir))


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_serve_options(args: argparse.Namespace) -> None:
    """Refuse options that do not fit together, before anything starts."""
    if args.transport == "stdio":
        given = [flag for flag, value in HTTP_ONLY_OPTIONS.items() if getattr(args, value) not in (None, False, [])]
        if given:
            raise UsageError(f"{', '.join(given)} apply only to --transport http")
        return
    args.host = args.host or DEFAULT_HOST
    args.port = DEFAULT_PORT if args.port is None else args.port
    if args.files_root is not None:
        root = Path(args.files_root).expanduser()
        if not root.is_dir():
            raise UsageError(f"--files-root: {args.files_root!r} is not a folder")
        args.files_root = root.resolve()
    if args.no_auth and not is_loopback(args.host):
        raise UsageError(
            f"--no-auth is allowed only on a loopback host (127.0.0.1, localhost, ::1), not {args.host!r}; "
            "create a key with: baas-mcp keys create"
        )


def remote_backend(args: argparse.Namespace):
    """The Appwrite server to run operations on (HTTP backend), or None for the embedded engine."""
    from urllib.parse import urlsplit

    from .runtime import Remote

    endpoint = args.endpoint or os.environ.get("APPWRITE_ENDPOINT")
    if not endpoint:
        for flag, value in (
            ("--api-key", args.api_key),
            ("--self-signed", args.self_signed),
            ("--api-version", args.api_version),
        ):
            if value not in (None, False):
                raise UsageError(f"{flag} applies only with --endpoint (or APPWRITE_ENDPOINT)")
        args.project = args.project or "default"
        return None
    for flag, value in (
        ("--allow-private-urls", args.allow_private_urls),
        ("--no-code", args.no_code),
        ("--events-max-age", args.events_max_age),
        ("--events-max-count", args.events_max_count),
    ):
        if value:
            raise UsageError(f"{flag} applies only to the embedded engine, not with --endpoint")
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"--endpoint: expected an http(s) URL such as https://cloud.appwrite.io/v1, got {endpoint!r}")
    if parts.path in ("", "/"):
        endpoint = endpoint.rstrip("/") + "/v1"
    api_key = args.api_key or os.environ.get("APPWRITE_API_KEY")
    args.project = args.project or os.environ.get("APPWRITE_PROJECT_ID")
    if not api_key:
        raise UsageError("--endpoint needs --api-key (or APPWRITE_API_KEY): an API key of that Appwrite project")
    if not args.project:
        raise UsageError("--endpoint needs --project (or APPWRITE_PROJECT_ID): the Appwrite project id")
    return Remote(endpoint, args.project, api_key, verify=not args.self_signed, api_version=api_version(args))


def api_version(args: argparse.Namespace) -> ApiVersion | None:
    """The server's Appwrite version as --api-version gives it (None: the backend asks the server)."""
    from .backends.versions import parse_version

    if args.api_version is None:
        return None
    try:
        return parse_version(args.api_version)
    except ValueError as error:
        raise UsageError(f"--api-version: {error}") from None


def usable_data_dir(option: str | None, project: str) -> Path:
    from .engine.private_files import make_private_dirs
    from .engine.projectdb import project_path

    directory = data_dir(option)
    try:
        project_path(directory, project)
    except ValueError as error:
        raise UsageError(f"--project: {error}") from None
    try:
        make_private_dirs(directory)
    except OSError as error:
        raise UsageError(f"--data-dir: cannot create {str(directory)!r}: {error.strerror}") from None
    if not os.access(directory, os.W_OK):
        raise UsageError(f"--data-dir: {str(directory)!r} is not writable")
    return directory


def run_serve(args: argparse.Namespace) -> int:
    import logging

    import anyio

    from .engine.errors import AppwriteError
    from .mcp.server import build_server
    from .mcp.transports import serve_stdio
    from .runtime import Runtime
    from .settings import Settings

    check_serve_options(args)
    remote = remote_backend(args)
    # Over stdio the caller is the local user, whose files a path may name; over HTTP only --files-root.
    settings = Settings(read_only=args.read_only, local_files=args.transport == "stdio", files_root=args.files_root)
    engine_options = {
        "allow_private_urls": args.allow_private_urls,
        "retention": retention_of(args),
        "no_code": args.no_code,
    }
    runtime = Runtime(usable_data_dir(args.data_dir, args.project), args.project, settings, remote, engine_options)
    try:
        secret = args.key or os.environ.get("BAAS_MCP_KEY")
        if secret:
            try:
                key = runtime.check_key(secret)
            except AppwriteError as error:
                raise UsageError(f"--key: {error.message}") from None
            runtime.settings = replace(settings, scopes=frozenset(key["scopes"]))
        logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="baas-mcp: %(levelname)s: %(message)s")
        server = build_server(runtime)
        if args.transport == "stdio":
            if sys.stdin.isatty():
                print(STDIO_HINT, file=sys.stderr)
            anyio.run(serve_stdio, server, runtime.aclose, runtime.run_background)
            return 0
        serve_over_http(args, runtime, server)
        return 0
    finally:
        runtime.close()


def serve_over_http(args: argparse.Namespace, runtime, server) -> None:
    import anyio

    from .mcp.transports import http_app, listening_socket, serve_http

    try:
        sock = listening_socket(args.host, args.port)
    except OSError as error:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}") from None
    named_host = [] if is_loopback(args.host) or args.host in WILDCARD_HOSTS else [args.host]
    app = http_app(
        server,
        check_key=None if args.no_auth else runtime.check_key,
        close=runtime.aclose,
        extra_hosts=[*args.allow_host, *named_host],
        background=runtime.run_background,
    )
    shown = f"[{args.host}]" if ":" in args.host else args.host
    base = f"http://{shown}:{sock.getsockname()[1]}"
    access = "no API key needed (--no-auth)" if args.no_auth else "requests need Authorization: Bearer <API key>"

    def announce() -> None:
        print(f"baas-mcp: serving {base}/mcp (streamable HTTP) and {base}/sse (SSE); {access}", file=sys.stderr)
        sys.stderr.flush()

    anyio.run(serve_http, app, sock, announce)


def key_scopes(secret: str | None, data_dir_option: str | None, project: str) -> frozenset[str] | None:
    """The scopes of the key `secret` (None without a key); a refused key is a usage error."""
    if secret is None:
        return None
    from .engine.errors import AppwriteError
    from .runtime import Runtime
    from .settings import Settings

    runtime = Runtime(usable_data_dir(data_dir_option, project), project, Settings())
    try:
        return frozenset(runtime.check_key(secret)["scopes"])
    except AppwriteError as error:
        raise UsageError(f"--key: {error.message}") from None
    finally:
        runtime.close()


def run_api(args: argparse.Namespace) -> int:
    import logging

    import anyio

    from .background import run_worker_process, worker_options
    from .engine import Engine
    from .mcp.transports import listening_socket, serve_http
    from .rest.app import RestApp
    from .rest.origins import OriginPolicy

    try:
        origins = OriginPolicy(args.cors_origin)
    except ValueError as error:
        raise UsageError(f"--cors-origin: {error}") from None
    directory = usable_data_dir(args.data_dir, args.project)
    try:
        sock = listening_socket(args.host, args.port)
    except OSError as error:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}") from None
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="baas-mcp: %(levelname)s: %(message)s")
    shown = f"[{args.host}]" if ":" in args.host else args.host
    endpoint = f"http://{shown}:{sock.getsockname()[1]}/v1"

    def announce() -> None:
        print(f"baas-mcp: Appwrite-compatible API at {endpoint} (data in {directory})", file=sys.stderr)
        sys.stderr.flush()

    # uvloop where it exists (not on Windows): a faster event loop for a server answering many small requests.
    uvloop = importlib.util.find_spec("uvloop") is not None
    # Functions run on this machine: they call back on loopback when the server listens on every address.
    own = f"http://127.0.0.1:{sock.getsockname()[1]}/v1" if args.host in WILDCARD_HOSTS else endpoint
    engine = Engine(
        directory,
        allow_private_urls=args.allow_private_urls,
        retention=retention_of(args),
        no_code=args.no_code,
        api_endpoint=own,
    )
    options = worker_options(args.allow_private_urls, args.no_code, own)
    background = partial(run_worker_process, directory, options, engine.background_needed)
    app = RestApp(engine, origins, background=background, default_project=args.project)
    anyio.run(serve_http, app, sock, announce, backend_options={"use_uvloop": uvloop})
    return 0


def run_project_file(args: argparse.Namespace) -> int:
    """pull, plan or push on the embedded engine or, with --endpoint, on an Appwrite server."""
    import anyio

    from .catalog import load_catalog
    from .project_file import command
    from .runtime import Runtime
    from .settings import Settings

    remote = remote_backend(args)
    options = command.Options(args.config, args.project, args.json, args.allow_destroy, args.timeout)
    catalog = load_catalog()
    # A server's project needs no data dir here: nothing is downloaded.
    directory = data_dir(args.data_dir) if remote else usable_data_dir(args.data_dir, args.project)
    backend = Runtime(directory, args.project, Settings(), remote).backend(catalog)

    async def run() -> int:
        try:
            return await command.run_command(args.command, backend, catalog, options, confirm_push)
        finally:
            await backend.aclose()

    try:
        return anyio.run(run)
    except command.CommandError as error:
        if args.json:
            print(json.dumps(error.as_json(), ensure_ascii=False))
        print(f"baas-mcp {args.command}: error: {error.message}", file=sys.stderr)
        return error.status


def confirm_push() -> bool:
    try:
        return input("Apply these actions? Only 'yes' applies them: ").strip() == "yes"
    except EOFError:
        return False


def run_install(args: argparse.Namespace) -> int:
    from .install import AFTERWARDS, InstallError, install

    if not args.name.strip():
        raise UsageError("--name must not be empty")
    try:
        outcome = install(
            args.client,
            args.scope,
            name=args.name,
            data_dir=Path(args.data_dir) if args.data_dir else None,
            read_only=args.read_only,
        )
    except InstallError as error:
        raise UsageError(str(error)) from None
    if outcome.status == "unchanged":
        print(f"server {args.name!r} is already in {outcome.path}; nothing changed")
        return 0
    print(f"{outcome.status} server {args.name!r} in {outcome.path}")
    if outcome.backup:
        print(f"the previous file is kept as {outcome.backup}")
    print(AFTERWARDS[args.client])
    return 0


def run_auth_policy(args: argparse.Namespace) -> int:
    from .engine.errors import AppwriteError
    from .engine.identity import policy

    changes = {}
    for flag, (name, kind, _) in AUTH_POLICY_FLAGS.items():
        value = getattr(args, flag[2:].replace("-", "_"))
        if value is not None:
            changes[name] = value if kind is int else value == "on"
    db = project_db(args)
    try:
        current = policy.write(db, changes) if changes else policy.read(db.connection)
    except AppwriteError as error:
        raise UsageError(error.message) from None
    finally:
        db.close()
    if args.json:
        print(json.dumps(current, indent=2))
    else:
        for name, value in current.items():
            print(f"{name}: {'on' if value is True else 'off' if value is False else value}")
    return 0


def run_outbox(args: argparse.Namespace) -> int:
    from .engine.outbox import messages
    from .engine.projectdb import project_path

    try:
        project_dir = project_path(data_dir(args.data_dir), args.project).parent
    except ValueError as error:
        raise UsageError(f"--project: {error}") from None
    found = messages(project_dir)
    if args.last:
        found = found[-args.last :]
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    if not found:
        print("the outbox is empty")
    for message in found:
        print(f"{message['time']}  {message['channel']} to {message['to']}: {message['subject']}")
        print(textwrap.indent(message["text"], "    "))
    return 0


def run_events(args: argparse.Namespace) -> int:
    from .engine.encryption import Cipher
    from .engine.events import last_seq, read_after

    if args.last and args.after is not None:
        raise UsageError("--last and --after both say where to start: give one of them")
    db = project_db(args)
    cipher = Cipher(db.path.parent / "encryption.key")
    wanted = frozenset(args.event) or None
    try:
        with db.reading() as connection:
            newest = last_seq(connection)
        cursor = args.after if args.after is not None else max(0, newest - args.last) if args.last else 0
        while True:
            with db.reading() as connection:
                found = read_after(connection, cursor, EVENTS_PAGE, cipher)
            for event in found:
                cursor = event.seq
                if wanted is None or not wanted.isdisjoint(event.names):
                    print_event(event, args)
            if len(found) == EVENTS_PAGE:
                continue
            if not args.follow:
                return 0
            time.sleep(FOLLOW_POLL)
    except KeyboardInterrupt:
        return 0
    finally:
        db.close()


def print_event(event, args: argparse.Namespace) -> None:
    if args.json:
        print(json.dumps(event.as_json(args.project)), flush=True)
        return
    by = f"  by {event.user_id}" if event.user_id else ""
    print(f"{event.seq:>6}  {event.time}  {event.name}{by}", flush=True)


def run_webhooks_deliver(args: argparse.Namespace) -> int:
    import anyio

    from .engine import Engine

    directory = usable_data_dir(args.data_dir, args.project or "default")
    engine = Engine(directory, allow_private_urls=args.allow_private_urls)
    try:
        if not args.once:
            work_until_stopped(engine, args, "baas-mcp: delivering webhooks until stopped (Ctrl-C)", False)
        projects = [args.project] if args.project else engine.project_ids()
        report = anyio.run(engine.deliver_webhooks, projects)
    finally:
        engine.close()
    summary = {project: None if tally is None else asdict(tally) for project, tally in report.items()}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print_deliveries(summary)
    return 1 if deliveries_left(summary) else 0


def print_deliveries(summary: dict) -> None:
    """One line per webhook and outcome of a pass delivering webhooks (a project another process delivers the
    webhooks of is said on standard error)."""
    for project, counts in summary.items():
        if counts is None:
            print(f"baas-mcp: project {project}: another baas-mcp process delivers its webhooks", file=sys.stderr)
            continue
        for kind in ("delivered", "failed", "pending"):
            for webhook_id, count in counts[kind].items():
                print(f"{project}  {webhook_id}  {kind} {count}")


def deliveries_left(summary: dict) -> bool:
    return any(counts is None or any(counts["pending"].values()) for counts in summary.values())


def run_background(args: argparse.Namespace) -> int:
    import anyio

    from .engine import Engine

    directory = usable_data_dir(args.data_dir, args.project or "default")
    engine = Engine(
        directory, allow_private_urls=args.allow_private_urls, no_code=args.no_code, api_endpoint=args.api_endpoint
    )
    try:
        if not args.once:
            work_until_stopped(engine, args, "baas-mcp: doing the background work until stopped (Ctrl-C)", True)
        projects = [args.project] if args.project else engine.project_ids()
        report = anyio.run(engine.drain_background, projects)
    finally:
        engine.close()
    webhooks = {project: None if tally is None else asdict(tally) for project, tally in report["webhooks"].items()}
    functions = {
        project: None if tally is None else asdict(tally) for project, tally in report.get("functions", {}).items()
    }
    messages = {project: None if tally is None else asdict(tally) for project, tally in report["messages"].items()}
    if args.json:
        print(json.dumps({"webhooks": webhooks, "messages": messages, "functions": functions}, indent=2))
    else:
        print_deliveries(webhooks)
        for project, counts in messages.items():
            for message_id, status in (counts or {"messages": {}})["messages"].items():
                print(f"{project}  {message_id}  {status}")
        for project, counts in functions.items():
            if counts is None:
                print(f"baas-mcp: project {project}: another baas-mcp process runs its functions", file=sys.stderr)
                continue
            for function_id, count in counts["executed"].items():
                print(f"{project}  {function_id}  executed {count}")
    busy = any(counts is None for counts in [*functions.values(), *messages.values()])
    return 1 if deliveries_left(webhooks) or busy else 0


def work_until_stopped(engine, args: argparse.Namespace, hint: str, with_functions: bool) -> None:
    """Run the engine's background work until stopped, then end the process (a request or an execution under way
    is not waited for: what it did not finish is done again next time)."""
    import anyio

    if not args.supervised:
        print(hint, file=sys.stderr, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(background_until_stopped, engine, args, with_functions)
    engine.close()
    sys.stderr.flush()
    os._exit(0)


async def background_until_stopped(engine, args: argparse.Namespace, with_functions: bool) -> None:
    """The background work until SIGINT or SIGTERM, or (--supervised) until standard input closes: the server that
    started this process has ended, or wants it to stop."""
    import signal

    import anyio

    from .engine.stream_worker import CROSS_PROCESS_POLL

    stopped = anyio.Event()

    async def on_signal() -> None:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                stopped.set()
                return

    async def on_end_of_input() -> None:
        await anyio.to_thread.run_sync(sys.stdin.buffer.read, abandon_on_cancel=True)
        stopped.set()

    projects = [args.project] if args.project else None
    work = partial(engine.run_background, poll=CROSS_PROCESS_POLL, projects=projects, with_functions=with_functions)
    async with anyio.create_task_group() as group:
        group.start_soon(work)
        group.start_soon(on_signal)
        if args.supervised:
            group.start_soon(on_end_of_input)
        await stopped.wait()
        group.cancel_scope.cancel()


def run_search(args: argparse.Namespace) -> int:
    from .catalog import brief
    from .search.index import SearchError, default_index

    scopes = key_scopes(args.key, args.data_dir, args.project)
    try:
        hits = default_index().search(args.query, limit=args.limit, service=args.service, scopes=scopes)
    except SearchError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps([{**brief(hit.op), "score": round(hit.score, 3)} for hit in hits], indent=2))
        return 0
    if not hits:
        print("no operation matches; try other words or drop --service")
    for rank, hit in enumerate(hits, 1):
        info = brief(hit.op)
        print(f"{rank}. {info['id']}  [{info['access']}]  {info['summary']}")
        if "deprecated" in info:
            print(f"     deprecated: {info['deprecated']}")
        print(
            textwrap.fill(
                info["params"] or "(no parameters)", width=100, initial_indent="     ", subsequent_indent="       "
            )
        )
    return 0


def run_describe(args: argparse.Namespace) -> int:
    from .catalog import load_catalog, type_signature

    catalog = load_catalog()
    op = catalog.get(args.operation)
    if op is None:
        hint = catalog.suggest_ids(args.operation)
        raise UsageError(
            f"unknown operation {args.operation!r}"
            + (f"; did you mean {', '.join(hint)}?" if hint else "; ids look like tablesDB.createRow")
        )
    if args.json:
        print(json.dumps(op.to_dict(), indent=2))
        return 0
    print(f"{op.id} — {op.summary}")
    print(textwrap.fill(op.description, width=100, initial_indent="  ", subsequent_indent="  "))
    if op.replacement:
        print(f"  deprecated since {op.deprecated_since}: use {op.replacement}")
    print(f"  {op.http_method} {op.path}")
    print(f"  access: {op.access}   scopes: {' | '.join(op.scopes)}   auth: {', '.join(op.auth)}")
    returned = op.returns.get("model") or op.returns.get("media") or " | ".join(op.returns.get("one_of", []))
    print(f"  returns: {op.returns['status']} {returned or '(no content)'}")
    properties = op.input_schema["properties"]
    print("  parameters:" if properties else "  parameters: none")
    required = set(op.required)
    for name, schema in properties.items():
        need = "required" if name in required else "optional"
        print(f"    {name}: {type_signature(schema)}  ({op.params[name]}, {need})")
        print(
            textwrap.fill(
                schema.get("description", ""), width=100, initial_indent="        ", subsequent_indent="        "
            )
        )
    return 0


def positive_days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of days, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1 day, got {value}")
    return value


def project_db(args: argparse.Namespace):
    from .engine.projectdb import ProjectDB, project_path

    try:
        return ProjectDB(project_path(data_dir(args.data_dir), args.project))
    except ValueError as error:
        raise UsageError(str(error)) from None


def run_keys_create(args: argparse.Namespace) -> int:
    from .engine import keys
    from .engine.errors import AppwriteError

    scopes = [scope.strip() for scope in args.scopes.split(",") if scope.strip()]
    db = project_db(args)
    try:
        key, secret = keys.create(db, args.name, scopes, args.expire)
    except AppwriteError as error:
        raise UsageError(error.message) from None
    finally:
        db.close()
    if args.json:
        print(
            json.dumps(
                {
                    "$id": key["$id"],
                    "name": key["name"],
                    "scopes": key["scopes"],
                    "expire": key["expire"] or None,
                    "secret": secret,
                },
                indent=2,
            )
        )
    else:
        print(f"created key {key['$id']} ({key['name']}) with scopes {', '.join(key['scopes'])}")
        print(f"expires {key['expire']}" if key["expire"] else "never expires")
        print(f"secret (shown only now): {secret}")
    return 0


def run_keys_list(args: argparse.Namespace) -> int:
    from .engine import keys

    db = project_db(args)
    try:
        listed = keys.list_all(db)
    finally:
        db.close()
    if args.json:
        print(json.dumps([key_summary(key) for key in listed], indent=2))
        return 0
    if not listed:
        print("no keys; create one with: baas-mcp keys create --name NAME --scopes rows.read,rows.write")
    for key in listed:
        expire = key["expire"] or "never"
        used = key["accessedAt"] or "never"
        print(f"{key['$id']}  {key['name']}  scopes: {','.join(key['scopes'])}  expires: {expire}  last used: {used}")
    return 0


def key_summary(key: dict) -> dict:
    """A key as `keys list --json` prints it: never its secret, null for no expiry and for never used."""
    fields = ("$id", "$createdAt", "$updatedAt", "name", "scopes")
    return {
        **{name: key[name] for name in fields},
        "expire": key["expire"] or None,
        "accessedAt": key["accessedAt"] or None,
    }


def run_keys_revoke(args: argparse.Namespace) -> int:
    from .engine import keys
    from .engine.errors import AppwriteError

    db = project_db(args)
    try:
        keys.revoke(db, args.id)
    except AppwriteError as error:
        raise UsageError(error.message) from None
    finally:
        db.close()
    print(json.dumps({"$id": args.id, "revoked": True}) if args.json else f"revoked key {args.id}")
    return 0


def read_params(text: str) -> object:
    if text == "-":
        text = sys.stdin.read()
    elif text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--params: cannot read {text[1:]!r}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--params is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


def data_dir(option: str | None) -> Path:
    return Path(option or os.environ.get("BAAS_MCP_DATA_DIR") or DEFAULT_DATA_DIR)


def run_call(args: argparse.Namespace) -> int:
    from .catalog import load_catalog
    from .engine import Engine
    from .engine.errors import AppwriteError
    from .mcp.execute import auth_of
    from .mcp.local_files import files_opened
    from .settings import Settings
    from .uploads import Media, save

    params = read_params(args.params)
    # The caller is the local user: a file parameter may name any file they can read.
    settings = Settings(scopes=key_scopes(args.key, args.data_dir, args.project), local_files=True)
    auth = auth_of(settings)
    op = load_catalog().get(args.operation)
    if op is not None and op.access == "delete" and not args.confirm:
        error = AppwriteError(
            "general_argument_invalid", f"{op.id} deletes data; run it again with --confirm if that is what you want"
        )
        return report_failure(error)
    engine = Engine(data_dir(args.data_dir), allow_private_urls=args.allow_private_urls)
    try:
        known = op is not None and isinstance(params, dict)
        with files_opened(op, params, settings) if known else contextlib.nullcontext(params) as ready:
            result = engine.call(args.operation, ready, auth, args.project)
    except AppwriteError as error:
        return report_failure(error)
    except ValueError as error:
        raise UsageError(str(error)) from None
    finally:
        engine.close()
    if isinstance(result, Media):
        result = save(result, data_dir(args.data_dir) / "downloads", op.method if op else "download")
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def migration_end(args: argparse.Namespace, end: str, dry_run: bool):
    """The source (`from`) or target (`to`) of a migration, from its --from-*/--to-* options."""
    from urllib.parse import urlsplit

    from .migration.runner import End

    data, project = getattr(args, f"{end}_data_dir"), getattr(args, f"{end}_project")
    endpoint, key = getattr(args, f"{end}_endpoint"), getattr(args, f"{end}_api_key")
    if (data is None) == (endpoint is None):
        raise UsageError(f"give exactly one of --{end}-data-dir DIR or --{end}-endpoint URL")
    if data is not None:
        if key is not None:
            raise UsageError(f"--{end}-api-key applies only with --{end}-endpoint")
        if dry_run or end == "from":  # read, never made
            return End(project or "default", data_dir=existing_data_dir(data, project or "default", end))
        return End(project or "default", data_dir=usable_data_dir(data, project or "default"))
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"--{end}-endpoint: expected an http(s) URL such as https://cloud.appwrite.io/v1")
    if parts.path in ("", "/"):
        endpoint = endpoint.rstrip("/") + "/v1"
    if not project or not key:
        raise UsageError(f"--{end}-endpoint needs --{end}-project and --{end}-api-key")
    return End(project, endpoint=endpoint, api_key=key)


def existing_data_dir(option: str, project: str, end: str) -> Path:
    """A data dir that is only read: it must be a folder; a source project must exist in it."""
    from .engine.projectdb import project_path

    directory = Path(option)
    try:
        exists = project_path(directory, project).exists()
    except ValueError as error:
        raise UsageError(f"--{end}-project: {error}") from None
    if end == "from" and not exists:
        raise UsageError(f"--from-data-dir: no project {project!r} in {option!r}")
    return directory


def run_migrate(args: argparse.Namespace) -> int:
    from .migration.runner import Options, migrate

    resources = tuple(name.strip() for name in args.resources.split(",") if name.strip())
    unknown = [name for name in resources if name not in MIGRATE_RESOURCES]
    if unknown or not resources:
        raise UsageError(f"--resources: expected some of {','.join(MIGRATE_RESOURCES)}, got {args.resources!r}")
    source, target = migration_end(args, "from", args.dry_run), migration_end(args, "to", args.dry_run)
    if source.describe() == target.describe():
        raise UsageError("the source and the target are the same project")
    options = Options(
        source,
        target,
        resources=resources,
        dry_run=args.dry_run,
        json=args.json,
        concurrency=args.concurrency,
        state_path=Path(args.state) if args.state else None,
    )
    try:
        report = migrate(options)
    except ValueError as error:
        raise UsageError(str(error)) from None
    if args.json:
        print(json.dumps({"event": "report", **report.as_json()}, ensure_ascii=False))
    else:
        print(report.as_text())
    return 1 if report.failed else 0


def report_failure(error) -> int:
    """An operation that failed: its Appwrite error on stdout, one line on stderr, exit 1."""
    print(json.dumps({"type": error.type, "message": error.message, "code": error.code}, ensure_ascii=False))
    print(f"baas-mcp call: {error.type}: {error.message}", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except UsageError as exc:
        if getattr(args, "json", False):
            print(json.dumps({"message": str(exc), "code": 400, "type": "general_argument_invalid"}))
        print(f"baas-mcp {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
