"""Run the MCP conformance suite against `baas-mcp serve --transport http` on a free loopback port.

Usage: python conformance/run.py [BAAS_MCP_COMMAND]. Needs npx (Node 20 is enough: the suite runs on
a Node 22 fetched by npx). Exit code: the suite's (0 when every failure is an expected one).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

SUITE = "@modelcontextprotocol/conformance@0.1.16"
HERE = Path(__file__).resolve().parent
STARTUP_LINE = re.compile(r"serving (http://\S+/mcp)")


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else str(Path(sys.executable).with_name("baas-mcp"))
    with tempfile.TemporaryDirectory() as data_dir:
        server = subprocess.Popen(
            [command, "serve", "--transport", "http", "--port", "0", "--no-auth", "--data-dir", data_dir],
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            url = server_url(server)
            threading.Thread(target=copy_lines, args=(server.stderr,), daemon=True).start()
            expected = str(HERE / "expected-failures.yml")
            suite = ["npx", "-y", "-p", "node@22", "-p", SUITE, "--", "conformance", "server", "--url", url]
            suite += ["--expected-failures", expected]
            return subprocess.run(suite, timeout=600).returncode
        finally:
            server.terminate()
            server.wait(timeout=30)


def copy_lines(stream) -> None:
    """Keep passing the server's log to ours, so its pipe never fills up."""
    for line in stream:
        sys.stderr.write(line)


def server_url(server: subprocess.Popen) -> str:
    for line in server.stderr:
        sys.stderr.write(line)
        found = STARTUP_LINE.search(line)
        if found:
            return found.group(1)
    raise SystemExit(f"baas-mcp serve exited with code {server.wait()} before serving")


if __name__ == "__main__":
    sys.exit(main())
