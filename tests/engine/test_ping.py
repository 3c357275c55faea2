"""ping.get: the text Pong!, for any caller, counted on the project."""

from __future__ import annotations

from mcp_server.engine.permissions import GUEST, key_auth
from tests.engine.conftest import error_of


def pings(call) -> tuple[int, str]:
    """The project's pingCount and pingedAt, as its Project model shows them."""
    project = call("project.get")
    return project["pingCount"], project["pingedAt"]


def test_ping_answers_pong_and_counts(call):
    assert pings(call) == (0, "")
    assert call("ping.get") == "Pong!"
    count, first = pings(call)
    assert count == 1 and first.endswith("+00:00")
    assert call("ping.get", auth=GUEST) == "Pong!"
    assert call("ping.get", auth=key_auth(frozenset({"rows.read"}))) == "Pong!"
    count, later = pings(call)
    assert count == 3 and later >= first


def test_ping_takes_no_parameters(call):
    assert error_of(call, "ping.get", project="elsewhere").type == "general_argument_invalid"
    assert pings(call) == (0, "")
