"""The `baas-mcp` command: argument parsing, output formatting and exit codes.

Exit codes: 0 success, 2 bad input (the message says which argument and what was expected).
Modules behind a subcommand are imported only when that subcommand runs, to keep start-up fast.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from pathlib import Path

from . import __version__

MAX_CLI_LIMIT = 100
DEFAULT_DATA_DIR = ".baas"


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

    call = commands.add_parser("call", help="run one operation on the embedded backend and print its JSON result")
    call.add_argument("operation", help="operation id, e.g. tablesDB.createRow")
    call.add_argument(
        "--params", default="{}", help="parameters as a JSON object, @FILE to read them from a file, - for stdin"
    )
    call.add_argument(
        "--data-dir", default=None, help="where project data lives (env BAAS_MCP_DATA_DIR, default ./.baas)"
    )
    call.add_argument("--project", default="default", help="project id (default: default)")
    call.add_argument("--confirm", action="store_true", help="allow an operation that deletes data")
    call.set_defaults(run=run_call)
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

    params = read_params(args.params)
    op = load_catalog().get(args.operation)
    if op is not None and op.access == "delete" and not args.confirm:
        error = AppwriteError(
            "general_argument_invalid", f"{op.id} deletes data; run it again with --confirm if that is what you want"
        )
        return report_failure(error)
    engine = Engine(data_dir(args.data_dir))
    try:
        result = engine.call(args.operation, params, project=args.project)
    except AppwriteError as error:
        return report_failure(error)
    except ValueError as error:
        raise UsageError(str(error)) from None
    finally:
        engine.close()
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


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
