"""`baas-mcp install CLIENT`: add this server to an MCP client's configuration file.

Each client keeps its servers in a JSON file of its own shape and place (per scope and per OS).
The entry runs the absolute path of the `baas-mcp` doing the install, with an absolute data
directory, so it works whatever directory the client starts it in. Installing merges: every other
server and every other setting in the file stays as it was. The old file is kept as a backup.
Running the install again changes nothing. A file that is not plain JSON is left untouched, and
the message says why and what to add by hand.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_NAME = "baas"


class InstallError(Exception):
    """The install cannot be done as asked; nothing was changed."""


@dataclass(frozen=True)
class Client:
    name: str
    label: str
    servers_key: str  # where the client keeps its servers: "mcpServers", or "servers" (VS Code)
    typed: bool  # whether entries say "type": "stdio"
    scopes: tuple[str, ...]  # the first one is the default

    def config_path(self, scope: str, project_dir: Path, home: Path, platform: str, environ: dict) -> Path:
        if scope not in self.scopes:
            raise InstallError(f"{self.label} has no {scope} configuration; use --scope {' or '.join(self.scopes)}")
        if self.name == "claude-code":
            return project_dir / ".mcp.json" if scope == "project" else home / ".claude.json"
        if self.name == "cursor":
            return (project_dir if scope == "project" else home) / ".cursor" / "mcp.json"
        if self.name == "vscode":
            if scope == "project":
                return project_dir / ".vscode" / "mcp.json"
            return app_config_dir(home, platform, environ) / "Code" / "User" / "mcp.json"
        return app_config_dir(home, platform, environ) / "Claude" / "claude_desktop_config.json"


CLIENTS = {
    client.name: client
    for client in (
        Client("claude-code", "Claude Code", "mcpServers", True, ("project", "user")),
        Client("cursor", "Cursor", "mcpServers", False, ("project", "user")),
        Client("claude-desktop", "Claude Desktop", "mcpServers", False, ("user",)),
        Client("vscode", "VS Code", "servers", True, ("project", "user")),
    )
}

AFTERWARDS = {
    "claude-code": "Claude Code asks once to approve a project's servers; /mcp shows them.",
    "cursor": "Cursor picks the server up from its MCP settings (enable it there if asked).",
    "claude-desktop": "Quit Claude Desktop completely and start it again to load the server.",
    "vscode": "VS Code asks to trust the server when it first starts; MCP: List Servers shows it.",
}


def app_config_dir(home: Path, platform: str, environ: dict) -> Path:
    """Where desktop apps keep their settings on this OS (macOS, Windows, or XDG on Linux)."""
    if platform == "darwin":
        return home / "Library" / "Application Support"
    if platform == "win32":
        return Path(environ.get("APPDATA") or home / "AppData" / "Roaming")
    return Path(environ.get("XDG_CONFIG_HOME") or home / ".config")


def user_data_dir(home: Path, platform: str, environ: dict) -> Path:
    """The data directory for a server installed for the user, not for one project."""
    if platform == "darwin":
        return home / "Library" / "Application Support" / "baas-mcp"
    if platform == "win32":
        return Path(environ.get("LOCALAPPDATA") or home / "AppData" / "Local") / "baas-mcp"
    return Path(environ.get("XDG_DATA_HOME") or home / ".local" / "share") / "baas-mcp"


def own_command() -> str:
    """The absolute path of the baas-mcp command running now (as invoked: a pipx link stays a link)."""
    invoked = Path(sys.argv[0])
    if invoked.stem == "baas-mcp" and invoked.exists():
        return str(invoked.absolute())
    beside = Path(sys.executable).with_name("baas-mcp.exe" if sys.platform == "win32" else "baas-mcp")
    return str(beside)


def server_entry(client: Client, command: str, data_dir: Path, read_only: bool) -> dict:
    entry: dict = {"type": "stdio"} if client.typed else {}
    entry["command"] = command
    entry["args"] = ["serve", "--data-dir", str(data_dir), *(["--read-only"] if read_only else [])]
    return entry


@dataclass(frozen=True)
class Outcome:
    path: Path
    status: str  # "added", "updated" or "unchanged"
    backup: Path | None


def merge(text: str | None, path: Path, servers_key: str, name: str, entry: dict) -> tuple[dict | None, str]:
    """The configuration with `entry` under servers_key/name, and what changed ("unchanged": None)."""
    if text is None or not text.strip():
        return {servers_key: {name: entry}}, "added"
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise InstallError(
            f"{path} is not plain JSON (line {error.lineno}, column {error.colno}: {error.msg}); nothing was "
            f"changed. Fix it, or add this under {servers_key!r} by hand:\n" + json.dumps({name: entry}, indent=2)
        ) from None
    if not isinstance(config, dict):
        raise InstallError(f"{path} does not hold a JSON object; nothing was changed")
    servers = config.get(servers_key, {})
    if not isinstance(servers, dict):
        raise InstallError(f"{path}: {servers_key!r} is not an object; nothing was changed")
    if servers.get(name) == entry:
        return None, "unchanged"
    status = "updated" if name in servers else "added"
    return {**config, servers_key: {**servers, name: entry}}, status


def write_with_backup(path: Path, config: dict, had_file: bool) -> Path | None:
    """Write `config` to `path` atomically, keeping the previous file as a timestamped backup."""
    path.parent.mkdir(parents=True, exist_ok=True)
    backup = None
    if had_file:
        backup = path.with_name(f"{path.name}.{time.strftime('%Y%m%d-%H%M%S')}.bak")
        counter = 1
        while backup.exists():
            backup = path.with_name(f"{path.name}.{time.strftime('%Y%m%d-%H%M%S')}-{counter}.bak")
            counter += 1
        backup.write_bytes(path.read_bytes())
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return backup


def install(
    client_name: str,
    scope: str | None = None,
    *,
    name: str = DEFAULT_NAME,
    data_dir: Path | None = None,
    read_only: bool = False,
    project_dir: Path | None = None,
    home: Path | None = None,
    platform: str = sys.platform,
    environ: dict | None = None,
    command: str | None = None,
) -> Outcome:
    """Add (or update) this server in the client's configuration for `scope`; see the module docstring."""
    client = CLIENTS[client_name]
    scope = scope or client.scopes[0]
    project_dir = (project_dir or Path.cwd()).absolute()
    home = home or Path.home()
    environ = dict(os.environ) if environ is None else environ
    path = client.config_path(scope, project_dir, home, platform, environ)
    if data_dir is None:
        data_dir = project_dir / ".baas" if scope == "project" else user_data_dir(home, platform, environ)
    entry = server_entry(client, command or own_command(), Path(data_dir).absolute(), read_only)
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else None
    except (OSError, UnicodeDecodeError) as error:
        raise InstallError(f"cannot read {path}: {error}") from None
    config, status = merge(text, path, client.servers_key, name, entry)
    if config is None:
        return Outcome(path, status, None)
    try:
        backup = write_with_backup(path, config, text is not None)
    except OSError as error:
        raise InstallError(f"cannot write {path}: {error.strerror or error}") from None
    return Outcome(path, status, backup)
