"""ping.get: the text Pong!, for any caller, counted on the project."""

from __future__ import annotations

from mcp_server.engine.permissions import GUEST, key_auth
from tests.engine.conftest import error_of


def stored(engine) -> dict:
    rows = engine.project().connection.execute("SELECT key, value FROM _meta WHERE key LIKE 'ping%'")
    return dict(rows.fetchall())


def test_ping_answers_pong_and_counts(engine, call):
    assert stored(engine) == {}
    assert call("ping.get") == "Pong!"
    first = stored(engine)
    assert first["ping_count"] == "1" and first["pinged_at"].endswith("+00:00")
    assert call("ping.get", auth=GUEST) == "Pong!"
    assert call("ping.get", auth=key_auth(frozenset({"rows.read"}))) == "Pong!"
    later = stored(engine)
    assert later["ping_count"] == "3" and later["pinged_at"] >= first["pinged_at"]


def test_ping_takes_no_parameters(engine, call):
    assert error_of(call, "ping.get", project="elsewhere").type == "general_argument_invalid"
    assert stored(engine) == {}
