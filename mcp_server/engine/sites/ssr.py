"""Sites rendered on the server (adapter `ssr`): how each framework's server is built and started, as open-runtimes'
node helpers do it (runtimes/javascript/helpers/<framework>/env.sh, bundle.sh and server.sh), in the form that
needs nothing but the build's own output: the framework's standalone server, `node <entry>` in the output directory
with `PORT` and `HOST` (functions/servers.py runs it).

A build exports the framework's env.sh values for that form (`NITRO_PRESET=node_server`...), then the entry must be
in the output directory, else the deployment fails saying which file was looked for. A site's `startCommand`, when
set, is run instead (in the output directory, as Appwrite runs it). The folder of static files the helper serves
ahead of the framework (`public`, `client`...) is served directly by the hosting.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Entry:
    # The file the build must leave in the output directory, and the command starting the server from there.
    file: str
    command: str
    # The output's folder of static files served ahead of the server ("" for none).
    static: str


@dataclass(frozen=True)
class Contract:
    build_env: dict[str, str]
    entries: tuple[Entry, ...]


def node(file: str, static: str) -> Entry:
    return Entry(file, f"node ./{file}", static)


NITRO = {"NITRO_PRESET": "node_server"}
CONTRACTS: dict[str, Contract] = {
    "analog": Contract(NITRO, (node("server/index.mjs", "public"),)),
    "angular": Contract({"NG_CLI_ANALYTICS": "false"}, (node("server/server.mjs", "browser"),)),
    "nextjs": Contract(
        {"NEXT_TELEMETRY_DISABLED": "1"},
        (node("standalone/server.js", "standalone/public"), node("server.js", "public")),
    ),
    "nuxt": Contract({"NUXT_TELEMETRY_DISABLED": "1", **NITRO}, (node("server/index.mjs", "public"),)),
    "sveltekit": Contract({"GCP_BUILDPACKS": "open-runtimes"}, (node("index.js", "client"),)),
    "astro": Contract(
        {"ASTRO_TELEMETRY_DISABLED": "1", "ASTRO_NODE_AUTOSTART": "enabled"}, (node("server/entry.mjs", "client"),)
    ),
    "tanstack-start": Contract(NITRO, (node("server/index.mjs", ""),)),
    "remix": Contract({}, (Entry("server/index.js", "remix-serve ./server/index.js", "client"),)),
}


def build_env(framework: str) -> dict[str, str]:
    return dict(CONTRACTS[framework].build_env) if framework in CONTRACTS else {}


def server_of(framework: str, output: Path, code: Path, start_command: str) -> dict[str, str] | str:
    """How the built output in `output` is served: {"command", "static"}; else why it cannot be (the build fails).
    A Next.js standalone build gets its static files and `public` folder beside its server, as bundle.sh does."""
    if start_command.strip():
        return {"command": start_command, "static": ""}
    contract = CONTRACTS.get(framework)
    if contract is None:
        return f"The framework {framework!r} has no server-side rendering: use the `static` adapter."
    for entry in contract.entries:
        if (output / entry.file).is_file():
            if framework == "nextjs" and entry.file.startswith("standalone/"):
                bundle_next(output, code)
            return {"command": entry.command, "static": entry.static}
    expected = " or ".join(f"./{entry.file}" for entry in contract.entries)
    return (
        f"No server was found for server-side rendering: {expected} is not in the output directory. Build the "
        "framework's standalone (node) server there, or set the site's startCommand."
    )


def bundle_next(output: Path, code: Path) -> None:
    standalone = output / "standalone"
    if (output / "static").is_dir():
        shutil.copytree(output / "static", standalone / ".next" / "static", symlinks=True, dirs_exist_ok=True)
    if (code / "public").is_dir():
        shutil.copytree(code / "public", standalone / "public", symlinks=True, dirs_exist_ok=True)
