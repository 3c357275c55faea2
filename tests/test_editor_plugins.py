"""The editor plugins' configuration files: their shapes, the Cursor install link, and that each
command line they hold starts a working server."""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import anyio
import pytest

from tests.commands import COMMAND, tool_names

PLUGINS = Path(__file__).resolve().parent.parent / "editor-plugins"
KEBAB = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")


def load(relative: str) -> dict:
    return json.loads((PLUGINS / relative).read_text())


def test_the_claude_code_plugin_and_its_marketplace_agree():
    marketplace = load("claude-code/.claude-plugin/marketplace.json")
    assert KEBAB.fullmatch(marketplace["name"]) and marketplace["owner"]["name"]
    [listed] = marketplace["plugins"]
    plugin_dir = (PLUGINS / "claude-code" / listed["source"]).resolve()
    manifest = json.loads((plugin_dir / ".claude-plugin" / "plugin.json").read_text())
    assert manifest["name"] == listed["name"] and KEBAB.fullmatch(manifest["name"])
    assert manifest["version"] == listed["version"]
    assert manifest["description"] and manifest["author"]["name"]
    servers = json.loads((plugin_dir / ".mcp.json").read_text())["mcpServers"]
    assert list(servers) == ["baas"]
    assert sorted(p.name for p in (plugin_dir / ".claude-plugin").iterdir()) == ["plugin.json"]


def test_the_cursor_links_carry_the_entry_of_its_mcp_json():
    entry = load("cursor/mcp.json")["mcpServers"]["baas"]
    readme = (PLUGINS / "cursor" / "README.md").read_text()
    deeplink = re.search(r"cursor://anysphere\.cursor-deeplink/mcp/install\?\S+", readme).group(0)
    web = re.search(r"https://cursor\.com/en/install-mcp\?[^)\s]+", readme).group(0)
    for link in (deeplink, web):
        query = parse_qs(urlsplit(link).query)
        assert query["name"] == ["baas"]
        assert json.loads(base64.b64decode(unquote(query["config"][0]))) == entry
    assert urlsplit(web).query == urlsplit(deeplink).query
    assert web in (PLUGINS.parent / "README.md").read_text(), "the project README links the same install"


def spawnable(command: str, args: list[str], project: Path) -> tuple[str, list[str]]:
    """The command line as the client runs it: its variables replaced, `baas-mcp` from PATH."""
    replaced = [arg.replace("${workspaceFolder}", str(project)) for arg in args]
    return (str(COMMAND) if command in ("baas-mcp", "/absolute/path/to/baas-mcp") else command), [
        arg.replace("/absolute/path/to/baas-data", str(project / "data")) for arg in replaced
    ]


@pytest.mark.parametrize(
    "relative",
    ["cursor/mcp.json", "claude-code/baas/.mcp.json", "claude-desktop/claude_desktop_config.json"],
)
def test_each_plugin_command_line_serves_mcp(tmp_path, relative):
    entry = load(relative)["mcpServers"]["baas"]
    command, args = spawnable(entry["command"], entry.get("args", []), tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAAS_MCP_")}
    names = anyio.run(tool_names, command, args, env, str(tmp_path))
    assert names == ["search_operations", "execute_operation"]
