"""The official web SDK's realtime client against `baas-mcp api`'s /v1/realtime: appwrite 23.0.0 (the last release
for Appwrite 1.8.x: channels and per-subscription queries in the connect URL) and 26.2.0 (the last for 1.9.x:
subscribe and unsubscribe messages over one socket), side by side in realtime_web/package.json as npm aliases.

realtime_web/scenario.js runs in Node, `ws` standing in for the browser's WebSocket, once per SDK version: users signed
in through REST subscribe with the SDK's Realtime service while a server key writes rows through REST, and it reports
what each scenario observed; a test per version and scenario asserts it passed. The reconnect test kills the server
(SIGKILL) under a subscribed SDK and starts it again on the same port over the same data: the SDK reconnects with its
own backoff, signs in again and gets events again. The packages are installed with `npm ci` from the committed lock
file the first time.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.commands import LineReader, create_key, start_api_server
from tests.rest.node_packages import assert_pinned, install, node_commands
from tests.rest.scenario_scripts import assert_every_scenario_reported, assert_scenario_passed, problems, run_script

WEB_DIR = Path(__file__).resolve().parent / "realtime_web"
PINS = {"appwrite18": "npm:appwrite@23.0.0", "appwrite19": "npm:appwrite@26.2.0", "ws": "8.23.1"}
SDKS = {"appwrite18": "appwrite 23.0.0", "appwrite19": "appwrite 26.2.0"}
SCENARIOS = ("events", "permissions", "queries", "unsubscribe", "multiplex")
SCOPES = (
    "databases.read,databases.write,tables.read,tables.write,columns.read,columns.write,rows.read,rows.write,"
    "users.read,users.write"
)


@pytest.fixture(scope="module")
def node() -> str:
    node, npm = node_commands()
    install(npm, WEB_DIR, PINS)
    return node


@pytest.fixture(scope="module")
def report(api, node: str) -> Callable[[str], dict]:
    """Each SDK version's report, its script run once (on first use) against the module's server."""
    env = {"ENDPOINT": api.endpoint, "PROJECT": "default", "KEY": create_key(api.data_dir, SCOPES)["secret"]}
    made: dict[str, dict] = {}

    def of(sdk: str) -> dict:
        if sdk not in made:
            made[sdk] = run_script([node, "scenario.js", sdk], WEB_DIR, env)
        return made[sdk]

    return of


def test_the_sdks_are_pinned():
    assert_pinned(WEB_DIR, PINS)


@pytest.mark.parametrize("sdk", list(SDKS))
def test_each_sdk_runs_at_its_pinned_version_and_reports_every_scenario(report, sdk: str):
    assert_every_scenario_reported(report(sdk), SDKS[sdk], SCENARIOS)


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("sdk", list(SDKS))
def test_scenario(report, sdk: str, name: str):
    assert_scenario_passed(report(sdk), sdk, name)


@pytest.mark.parametrize("sdk", list(SDKS))
def test_the_sdk_reconnects_to_a_restarted_server_and_gets_events_again(tmp_path: Path, node: str, sdk: str):
    data_dir = tmp_path / "data"
    env = {"ENDPOINT": "", "PROJECT": "default", "KEY": create_key(data_dir, SCOPES)["secret"]}
    server = start_api_server(data_dir)
    env["ENDPOINT"] = server.url("/v1")
    script = subprocess.Popen(
        [node, "scenario.js", sdk, "--reconnect"],
        cwd=WEB_DIR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | env,
    )
    printed, logged = LineReader(script.stdout), LineReader(script.stderr)
    try:
        subscribed = printed.next_line(timeout=60)
        assert subscribed is not None and json.loads(subscribed) == {"subscribed": True}, logged.text()
        assert server.stop(signal.SIGKILL) == -signal.SIGKILL
        server = start_api_server(data_dir, "--port", str(server.port))
        script.stdin.write("restarted\n")
        script.stdin.flush()
        line = printed.next_line(timeout=120)
        assert line is not None, logged.text()
        found = json.loads(line)
        assert script.wait(30) == 0, logged.text()
    finally:
        if script.poll() is None:
            script.kill()
            script.wait(10)
        code = server.stop()
    assert found["sdk"] == SDKS[sdk]
    assert problems(found["scenarios"]["reconnect"]) == []
    assert code == 0, f"the restarted server did not shut down cleanly ({code}): {server.stderr.text()}"
