"""docs/services.md says, per service, how many operations the catalog has and how many the embedded engine runs."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from mcp_server.engine import Engine  # noqa: F401 - registers every handler
from mcp_server.engine.registry import HANDLERS

PAGE = Path(__file__).resolve().parents[1] / "docs" / "services.md"
ROW = re.compile(r"^\| `(?P<service>\w+)` \| (?P<total>\d+) \| (?P<local>\d+) \|", re.M)


def test_the_services_page_counts_what_the_catalog_has_and_the_engine_runs(catalog):
    text = PAGE.read_text()
    stated = {m["service"]: (int(m["total"]), int(m["local"])) for m in ROW.finditer(text)}
    total, local = Counter(), Counter()
    for op in catalog.operations:
        total[op.service] += 1
        local[op.service] += op.id in HANDLERS
    assert stated == {service: (total[service], local[service]) for service in total}
    runs = sum(local.values())
    assert f"runs {runs} of them" in text and f"other {len(catalog.operations) - runs} answers" in text
    assert f"{len(catalog.operations)} operations in {len(total)} services" in text
