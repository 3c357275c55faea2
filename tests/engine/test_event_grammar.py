"""Event patterns: Appwrite 1.9.6's event tree in the catalog, and its Event validator's verdicts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mcp_server.catalog import load_catalog
from mcp_server.engine.errors import AppwriteError
from mcp_server.engine.event_grammar import check_events, event_shapes, is_event

GRAMMAR_FILE = Path(__file__).resolve().parents[2] / "catalog" / "appwrite-spec" / "events-1.9.6.json"

# Appwrite's tests/unit/Event/Validator/EventValidatorTest.php at 1.9.6.
VALID = [
    "users.*.create",
    "users.torsten.update",
    "users.torsten",
    "users.*.update.email",
    "users.*.update",
    "users.*",
    "databases.books.tables.chapters.rows.prolog.create",
    "databases.books.tables.chapters.rows.prolog",
    "databases.books.tables.chapters.rows.*.create",
    "databases.books.tables.chapters.rows.*",
    "databases.books.tables.*.rows.prolog.create",
    "databases.books.tables.*.rows.prolog",
    "databases.books.tables.*.rows.*.create",
    "databases.books.tables.*.rows.*",
    "databases.*.tables.chapters.rows.prolog.create",
    "databases.*.tables.chapters.rows.prolog",
    "databases.*.tables.chapters.rows.*.create",
    "databases.*.tables.chapters.rows.*",
    "databases.*.tables.*.rows.prolog.create",
    "databases.*.tables.*.rows.prolog",
    "databases.*.tables.*.rows.*.create",
    "databases.*.tables.*.rows.*",
    "databases.*.tables.*",
    "databases.*",
    "databases.books",
    "databases.books.tables.chapters",
    "databases.books.tables.*",
    "functions.*",
    "buckets.*",
    "teams.*",
    "teams.*.memberships.*.update.status",
]
INVALID = [
    "",
    "unknown.*",
    "tables",
    "tables.*.unknown",
    "tables.*.rows.*.unknown",
    "users.torsten.unknown",
    "users.torsten.delete.email",
    "teams.*.memberships.*.update.unknown",
]
# Verdicts of Appwrite's validator (run on its own source) where its rule is looser or stricter than the tree.
QUIRKS = {
    "teams.*.memberships": True,  # a sub-resource type stands where the action goes
    "users.*.update.email.x.y.z": True,  # parts past the attribute of a 7-part pattern are not looked at
    "databases.*.tables.*.rows.*.columns": True,  # a third-level action is looked up under the second level
    "databases.*.tables.*.rows.*.upsert": False,  # … so the rows' own upsert is refused
    "users.0": False,  # PHP's "0" is false: an id of 0 counts as missing
    "users.*.tokens.create": True,  # read as the token whose id is "create"
    "users.*.update.email.x.y.z.w": False,  # more than 7 parts
    "users.*.$resource": False,  # Appwrite accepts metadata keys as actions; we do not
}

# Event labels of catalog operations that Appwrite's validator refuses as patterns, by reason.
# Appwrite's app/config/events.php has no such event type: console and project-settings events, tokens,
# presences and the documentsdb labels, which webhooks and functions cannot subscribe to.
TYPES_NOT_IN_TREE = {
    "authMethod.*.update",
    "documentsdb.*.collections.*.documents.*.update",
    "keys.*.create",
    "keys.*.delete",
    "keys.*.update",
    "mock-phones.*.create",
    "mock-phones.*.delete",
    "mock-phones.*.update",
    "oauth2.*.update",
    "platforms.*.create",
    "platforms.*.delete",
    "platforms.*.update",
    "presences.*.delete",
    "presences.*.update",
    "presences.*.upsert",
    "projects.*.ping",
    "projects.*.policies.*.update",
    "protocols.*.update",
    "services.*.update",
    "templates.*.update",
    "tokens.*.create",
    "tokens.*.delete",
    "tokens.*.update",
    "variables.*.create",
    "variables.*.delete",
    "variables.*.update",
    "webhooks.*.create",
    "webhooks.*.delete",
    "webhooks.*.update",
}
# The type is in the tree, the action, attribute or sub-resource is not.
NAMES_NOT_IN_TREE = {
    "messages.*.delete",
    "sites.*.logs.*.delete",
    "users.*.challenges.*.create",
    "users.*.delete.mfa",
    "users.*.identities.*.delete",
    "users.*.sessions.*.update",
    "users.*.update.impersonator",
    "users.*.update.labels",
    "users.*.update.mfa",
    "users.*.update.phone",
    "users.*.update.verification",
}
# In the tree, but the validator looks a third-level resource's action up one level higher, where
# tables and collections have no upsert.
THIRD_LEVEL_ACTIONS = {
    "databases.*.collections.*.documents.*.upsert",
    "databases.*.tables.*.rows.*.upsert",
}


@pytest.fixture(scope="module")
def grammar() -> dict:
    return load_catalog().event_grammar


def test_the_catalog_carries_appwrites_event_tree(grammar):
    assert grammar == json.loads(GRAMMAR_FILE.read_text())
    assert grammar["databases"]["tables"]["rows"]["$resource"] is True
    assert "$description" not in json.dumps(grammar)


@pytest.mark.parametrize("value", VALID)
def test_appwrites_valid_events_pass(grammar, value):
    assert is_event(grammar, value)


@pytest.mark.parametrize("value", INVALID)
def test_appwrites_invalid_events_fail(grammar, value):
    assert not is_event(grammar, value)


@pytest.mark.parametrize(("value", "verdict"), QUIRKS.items())
def test_the_validators_quirks_are_kept(grammar, value, verdict):
    assert is_event(grammar, value) is verdict


def test_event_labels_of_operations_are_valid_patterns_but_the_listed_ones(grammar):
    labels = {re.sub(r"\[\w+\]", "*", label) for op in load_catalog().operations for label in op.events}
    refused = {label for label in labels if not is_event(grammar, label)}
    assert refused == TYPES_NOT_IN_TREE | NAMES_NOT_IN_TREE | THIRD_LEVEL_ACTIONS


def test_every_event_shape_is_valid_and_distinct(grammar):
    shapes = event_shapes(grammar)
    assert len(shapes) == len(set(shapes))
    assert {"users.*.update.email", "teams.*.memberships.*.update.status", "buckets.*.files.*.create"} <= set(shapes)
    assert all(is_event(grammar, shape) for shape in shapes)


def test_valid_events_are_returned_with_their_duplicates(grammar):
    values = ["users.*.create", "databases.*.tables.*.rows.*", "users.*.create"]
    assert check_events(grammar, "events", values) == values


def test_the_error_names_the_param_and_the_first_bad_value(grammar):
    with pytest.raises(AppwriteError) as caught:
        check_events(grammar, "events", ["users.*.create", "user.*.create", "users.*.explode"])
    assert caught.value.type == "general_argument_invalid" and caught.value.code == 400
    message = caught.value.message
    assert message.startswith("Invalid `events` param: `user.*.create` is not an event Appwrite emits.")
    assert "Did you mean users.*.create?" in message
    assert "users.*.explode" not in message


@pytest.mark.parametrize("value", [None, False, 5, ["users.*"]])
def test_a_value_that_is_not_a_string_is_refused(grammar, value):
    with pytest.raises(AppwriteError) as caught:
        check_events(grammar, "events", ["users.*", value])
    assert caught.value.message.startswith("Invalid `events` param: ")
    assert "is not an event name (a string)" in caught.value.message


def test_a_huge_value_is_refused_with_a_short_message(grammar):
    value = "users." + "." * 1_000_000
    assert not is_event(grammar, value)
    with pytest.raises(AppwriteError) as caught:
        check_events(grammar, "events", [value])
    assert len(caught.value.message) < 300
