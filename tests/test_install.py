"""`baas-mcp install`: each client's real configuration shape is merged, never clobbered, and what it
writes starts a working server."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import anyio
import pytest

from mcp_server.install import CLIENTS, InstallError, install
from tests.commands import COMMAND, baas_mcp, tool_names

# Each client's configuration as it looks in the wild, with entries and settings that must survive.
EXISTING = {
    ("claude-code", "project"): {
        "mcpServers": {
            "github": {"type": "http", "url": "https://api.example.com/mcp", "headers": {"X-Key": "${GH_KEY}"}},
            "files": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "."]},
        }
    },
    ("claude-code", "user"): {
        "numStartups": 42,
        "projects": {"/home/u/app": {"mcpServers": {"local-one": {"command": "local-mcp"}}, "allowedTools": []}},
        "mcpServers": {"notes": {"type": "stdio", "command": "notes-mcp", "args": [], "env": {"TOKEN": "x"}}},
    },
    ("cursor", "project"): {"mcpServers": {"remote": {"url": "https://mcp.example.com/sse"}}},
    ("cursor", "user"): {"mcpServers": {"fs": {"command": "fs-mcp", "env": {"ROOT": "${userHome}"}}}},
    ("claude-desktop", "user"): {
        "globalShortcut": "Alt+Space",
        "preferences": {"sidebarMode": "chat"},
        "mcpServers": {"weather": {"command": "/usr/local/bin/weather", "args": ["--units", "metric"]}},
    },
    ("vscode", "project"): {
        "inputs": [{"type": "promptString", "id": "token", "description": "Token", "password": True}],
        "servers": {"tracker": {"type": "http", "url": "https://tracker.example.com/mcp"}},
    },
    ("vscode", "user"): {"servers": {"memory": {"type": "stdio", "command": "memory-mcp"}}},
}
CASES = sorted(EXISTING)


@pytest.fixture
def place(tmp_path):
    """A project folder and a home folder, and the environment that points the command at them."""
    project, home = tmp_path / "project", tmp_path / "home"
    project.mkdir()
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "BAAS_MCP_"))} | {"HOME": str(home)}
    return project, home, env


def config_file(client: str, scope: str, project: Path, home: Path) -> Path:
    return CLIENTS[client].config_path(scope, project, home, sys.platform, {})


def run_install(place, *args: str):
    project, _, env = place
    return baas_mcp("install", *args, env=env, cwd=project)


@pytest.mark.parametrize(("client", "scope"), CASES)
def test_install_keeps_everything_else_and_adds_a_working_entry(place, client, scope):
    project, home, _ = place
    path = config_file(client, scope, project, home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(EXISTING[client, scope], indent=4))
    before = path.read_text()

    result = run_install(place, client, "--scope", scope)
    assert result.returncode == 0, result.stderr
    written = json.loads(path.read_text())
    key = CLIENTS[client].servers_key
    original = EXISTING[client, scope]
    assert {k: v for k, v in written.items() if k != key} == {k: v for k, v in original.items() if k != key}
    assert {k: v for k, v in written[key].items() if k != "baas"} == original[key]
    entry = written[key]["baas"]
    assert entry["command"] == str(COMMAND)
    data_dir = Path(entry["args"][entry["args"].index("--data-dir") + 1])
    assert data_dir.is_absolute()
    assert data_dir == (project / ".baas" if scope == "project" else home / ".local" / "share" / "baas-mcp")
    assert ("type" in entry) == CLIENTS[client].typed
    backups = list(path.parent.glob(f"{path.name}.*.bak"))
    assert [backup.read_text() for backup in backups] == [before]
    assert "added server 'baas'" in result.stdout


@pytest.mark.parametrize(("client", "scope"), CASES)
def test_installing_twice_is_installing_once(place, client, scope):
    project, home, _ = place
    assert run_install(place, client, "--scope", scope).returncode == 0
    path = config_file(client, scope, project, home)
    first = path.read_bytes()
    again = run_install(place, client, "--scope", scope)
    assert again.returncode == 0, again.stderr
    assert "nothing changed" in again.stdout
    assert path.read_bytes() == first
    assert list(path.parent.glob(f"{path.name}.*.bak")) == []


@pytest.mark.parametrize(("client", "scope"), CASES)
@pytest.mark.parametrize(
    "content", ['{"mcpServers": {', "// comment\n{}", "[1, 2]", '{"mcpServers": [], "servers": []}']
)
def test_a_malformed_file_is_left_untouched(place, client, scope, content):
    project, home, _ = place
    path = config_file(client, scope, project, home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    result = run_install(place, client, "--scope", scope)
    assert result.returncode == 2
    assert str(path) in result.stderr and "nothing was changed" in result.stderr
    assert path.read_text() == content
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_a_changed_entry_is_updated_and_the_old_file_kept(place):
    project, home, _ = place
    assert run_install(place, "cursor").returncode == 0
    path = config_file("cursor", "project", project, home)
    first = path.read_text()
    result = run_install(place, "cursor", "--read-only", "--data-dir", "elsewhere")
    assert result.returncode == 0
    assert "updated server 'baas'" in result.stdout
    args = json.loads(path.read_text())["mcpServers"]["baas"]["args"]
    assert args == ["serve", "--data-dir", str(project / "elsewhere"), "--read-only"]
    assert [b.read_text() for b in path.parent.glob("mcp.json.*.bak")] == [first]


def test_claude_desktop_has_only_a_user_configuration(place):
    result = run_install(place, "claude-desktop", "--scope", "project")
    assert result.returncode == 2
    assert "Claude Desktop has no project configuration; use --scope user" in result.stderr


def test_unknown_clients_and_bad_names_are_refused(place):
    assert run_install(place, "emacs").returncode == 2
    assert "invalid choice" in run_install(place, "emacs").stderr
    result = run_install(place, "cursor", "--name", " ")
    assert result.returncode == 2 and "--name" in result.stderr


@pytest.mark.parametrize(
    ("client", "platform", "environ", "expected"),
    [
        ("claude-desktop", "darwin", {}, "Library/Application Support/Claude/claude_desktop_config.json"),
        ("claude-desktop", "win32", {"APPDATA": "C:/Users/u/AppData/Roaming"}, "Claude/claude_desktop_config.json"),
        ("claude-desktop", "linux", {"XDG_CONFIG_HOME": "/cfg"}, "/cfg/Claude/claude_desktop_config.json"),
        ("vscode", "darwin", {}, "Library/Application Support/Code/User/mcp.json"),
        ("vscode", "win32", {"APPDATA": "C:/Users/u/AppData/Roaming"}, "Code/User/mcp.json"),
        ("vscode", "linux", {}, ".config/Code/User/mcp.json"),
    ],
)
def test_user_configuration_paths_follow_the_os(client, platform, environ, expected):
    path = CLIENTS[client].config_path("user", Path("/p"), Path("/home/u"), platform, environ)
    assert path.as_posix().endswith(expected)
    if "APPDATA" in environ:
        assert path.as_posix().startswith("C:/Users/u/AppData/Roaming")


def test_the_module_refuses_an_unreadable_file(tmp_path):
    target = tmp_path / ".cursor" / "mcp.json"
    target.mkdir(parents=True)  # a directory where the file should be
    with pytest.raises(InstallError, match="cannot read"):
        install("cursor", "project", project_dir=tmp_path, home=tmp_path, command="/bin/baas-mcp")


@pytest.mark.parametrize(("client", "scope"), CASES)
def test_the_written_command_line_serves_mcp(place, client, scope):
    """Spawn exactly what the client would: the entry's command and args, then initialize + tools/list."""
    project, home, env = place
    assert run_install(place, client, "--scope", scope).returncode == 0
    entry = json.loads(config_file(client, scope, project, home).read_text())[CLIENTS[client].servers_key]["baas"]
    names = anyio.run(tool_names, entry["command"], entry["args"], env, str(project))
    assert names == ["search_operations", "execute_operation"]
