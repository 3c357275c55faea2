"""Print Cursor's "Add to Cursor" links for the server entry in mcp.json (the README shows them).

Cursor's install link carries one server: its name, and its entry as standard base64 of the JSON,
URL-encoded: cursor://anysphere.cursor-deeplink/mcp/install?name=NAME&config=BASE64 (and the same
through https://cursor.com/en/install-mcp for pages that cannot link to cursor:// directly).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent


def install_links(config_path: Path = HERE / "mcp.json") -> tuple[str, str]:
    """The cursor:// deeplink and the https:// link for the first server in `config_path`."""
    name, entry = next(iter(json.loads(config_path.read_text())["mcpServers"].items()))
    encoded = base64.b64encode(json.dumps(entry, separators=(",", ":")).encode()).decode()
    query = f"name={quote(name, safe='')}&config={quote(encoded, safe='')}"
    return f"cursor://anysphere.cursor-deeplink/mcp/install?{query}", f"https://cursor.com/en/install-mcp?{query}"


if __name__ == "__main__":
    for link in install_links():
        print(link)
