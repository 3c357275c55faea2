"""The `baas-mcp` command: argument parsing, output formatting and exit codes.

Exit codes: 0 success, 2 bad input (the message says which argument and what was expected).
Modules behind a subcommand are imported only when that subcommand runs, to keep start-up fast.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap

from . import __version__

MAX_CLI_LIMIT = 100


class UsageError(Exception):
    """Bad input from the command line; shown as one line, exit code 2."""


def positive_limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to {MAX_CLI_LIMIT}, got {text!r}") from None
    if not 1 <= value <= MAX_CLI_LIMIT:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to {MAX_CLI_LIMIT}, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="baas-mcp",
        description="A whole backend for AI coding assistants: search and run Appwrite-compatible operations.",
    )
    parser.add_argument("--version", action="version", version=f"baas-mcp {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    search = commands.add_parser("search", help="find operations for what you want to do")
    search.add_argument("query", help="what you want to do, in your own words")
    search.add_argument("--limit", type=positive_limit, default=5, help="how many hits to show (default 5)")
    search.add_argument("--service", help="only search this service (e.g. tablesDB, users, storage)")
    search.add_argument("--json", action="store_true", help="print a JSON array of hits")
    search.set_defaults(run=run_search)

    describe = commands.add_parser("describe", help="show one operation with its full parameter schema")
    describe.add_argument("operation", help="operation id, e.g. tablesDB.createRow")
    describe.add_argument("--json", action="store_true", help="print the catalog entry as JSON")
    describe.set_defaults(run=run_describe)
    return parser


def run_search(args: argparse.Namespace) -> int:
    from .catalog import brief
    from .search import SearchError, default_index

    try:
        hits = default_index().search(args.query, limit=args.limit, service=args.service)
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
