"""API keys: creating, checking, expiring and revoking them, in the engine and with `baas-mcp keys`."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mcp_server.engine import keys
from mcp_server.engine.errors import AppwriteError
from mcp_server.engine.projectdb import ProjectDB, project_path
from tests.commands import baas_mcp, create_key

MODEL_FIELDS = {"$id", "$createdAt", "$updatedAt", "name", "scopes", "expire", "accessedAt"}
# Appwrite's Key model, as the engine gives it (its secret is known only when the key is created).
ENGINE_MODEL_FIELDS = MODEL_FIELDS | {"secret", "sdks"}


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return project_path(tmp_path / "data", "default")


@pytest.fixture
def db(db_path: Path):
    database = ProjectDB(db_path)
    yield database
    database.close()


def secret_pattern(key_id: str) -> re.Pattern:
    return re.compile(rf"standard_{re.escape(key_id)}_[0-9a-f]{{64}}")


def stored_rows(path: Path) -> list[dict]:
    """The `_keys` table, read with a connection of its own."""
    connection = sqlite3.connect(path)
    connection.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in connection.execute("SELECT * FROM _keys ORDER BY seq")]
    finally:
        connection.close()


def set_expire(path: Path, key_id: str, expire: str) -> None:
    connection = sqlite3.connect(path)
    try:
        with connection:
            connection.execute("UPDATE _keys SET expire = ? WHERE id = ?", (expire, key_id))
    finally:
        connection.close()


def refused(db, secret, error_type: str = "user_unauthorized") -> AppwriteError:
    with pytest.raises(AppwriteError) as caught:
        keys.authenticate(db, secret)
    assert caught.value.type == error_type
    assert caught.value.code == 401
    return caught.value


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- engine: creating ------------------------------------------------------------------------------------


def test_create_returns_the_model_and_a_secret_once(db):
    key, secret = keys.create(db, "ci", ["rows.read", "rows.write"])
    assert set(key) == ENGINE_MODEL_FIELDS
    assert key["name"] == "ci"
    assert key["scopes"] == ["rows.read", "rows.write"]
    assert key["expire"] == ""
    assert key["accessedAt"] == ""
    assert key["secret"] == ""
    assert secret_pattern(key["$id"]).fullmatch(secret), secret
    assert secret not in json.dumps(key)
    assert secret.rsplit("_", 1)[1] not in json.dumps(key)


def test_each_key_gets_its_own_id_and_secret(db):
    first, first_secret = keys.create(db, "a", ["rows.read"])
    second, second_secret = keys.create(db, "a", ["rows.read"])
    assert first["$id"] != second["$id"]
    assert first_secret.rsplit("_", 1)[1] != second_secret.rsplit("_", 1)[1]
    assert [key["$id"] for key in keys.list_all(db)] == [first["$id"], second["$id"]]


def test_scopes_are_stored_once_each_in_order(db):
    key, _ = keys.create(db, "dup", ["rows.write", "rows.read", "rows.write"])
    assert key["scopes"] == ["rows.read", "rows.write"]


def test_only_a_hash_of_the_secret_is_stored(db, db_path: Path):
    key, secret = keys.create(db, "hashed", ["rows.read"])
    random_part = secret.rsplit("_", 1)[1]
    [row] = stored_rows(db_path)
    assert row["id"] == key["$id"]
    assert row["secret_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    for value in row.values():
        assert random_part not in str(value)
    files = [path for path in db_path.parent.iterdir() if path.is_file()]
    assert db_path in files
    for path in files:
        content = path.read_bytes()
        assert random_part.encode() not in content, path
        assert secret.encode() not in content, path


@pytest.mark.parametrize(
    ("scopes", "named"),
    [
        (["rows.read", "rows.delete"], "rows.delete"),
        (["everything"], "everything"),
        (["Rows.Read"], "Rows.Read"),
    ],
)
def test_unknown_scope_is_refused_and_nothing_stored(db, db_path: Path, scopes, named: str):
    with pytest.raises(AppwriteError) as caught:
        keys.create(db, "bad", scopes)
    assert caught.value.type == "general_argument_invalid"
    assert caught.value.code == 400
    assert named in caught.value.message
    assert keys.list_all(db) == []
    assert stored_rows(db_path) == []


@pytest.mark.parametrize("scopes", [[], None, "rows.read", ["rows.read", 5], [None]])
def test_scopes_must_be_a_nonempty_list_of_names(db, db_path: Path, scopes):
    with pytest.raises(AppwriteError) as caught:
        keys.create(db, "bad", scopes)
    assert caught.value.type == "general_argument_invalid"
    assert "scopes" in caught.value.message
    assert stored_rows(db_path) == []


@pytest.mark.parametrize("name", ["", "   ", "x" * 129, None, 5])
def test_name_must_be_1_to_128_characters(db, db_path: Path, name):
    with pytest.raises(AppwriteError) as caught:
        keys.create(db, name, ["rows.read"])
    assert caught.value.type == "general_argument_invalid"
    assert "name" in caught.value.message
    assert "128" in caught.value.message
    assert stored_rows(db_path) == []


def test_a_name_of_128_characters_is_accepted(db):
    key, _ = keys.create(db, "n" * 128, ["rows.read"])
    assert key["name"] == "n" * 128


@pytest.mark.parametrize("days", [0, -1, 36_501, True, "5", 1.5])
def test_expire_must_be_1_to_36500_days(db, db_path: Path, days):
    with pytest.raises(AppwriteError) as caught:
        keys.create(db, "bad", ["rows.read"], days)
    assert caught.value.type == "general_argument_invalid"
    assert "expire" in caught.value.message
    assert "36500" in caught.value.message
    assert stored_rows(db_path) == []


@pytest.mark.parametrize("days", [1, 30, 36_500])
def test_expire_is_that_many_days_ahead(db, days: int):
    before = datetime.now(UTC)
    key, _ = keys.create(db, "temporary", ["rows.read"], days)
    after = datetime.now(UTC)
    expire = parse_time(key["expire"])
    assert before + timedelta(days=days) - timedelta(seconds=1) <= expire <= after + timedelta(days=days)


# --- engine: checking --------------------------------------------------------------------------------------


def test_authenticate_accepts_the_secret_and_records_the_use(db, db_path: Path):
    key, secret = keys.create(db, "app", ["rows.read", "tables.read"])
    before = datetime.now(UTC) - timedelta(seconds=1)
    found = keys.authenticate(db, secret)
    assert found["$id"] == key["$id"]
    assert found["scopes"] == ["rows.read", "tables.read"]
    assert found["secret"] == ""
    assert found["accessedAt"] is not None
    assert before <= parse_time(found["accessedAt"]) <= datetime.now(UTC)
    [listed] = keys.list_all(db)
    assert listed["accessedAt"] == found["accessedAt"]
    assert stored_rows(db_path)[0]["accessed"] == found["accessedAt"]


def test_a_key_survives_reopening_the_project(db_path: Path):
    database = ProjectDB(db_path)
    key, secret = keys.create(database, "lasting", ["rows.read"])
    database.close()
    reopened = ProjectDB(db_path)
    try:
        assert keys.authenticate(reopened, secret)["$id"] == key["$id"]
    finally:
        reopened.close()


def test_a_tampered_secret_is_refused(db):
    _, secret = keys.create(db, "app", ["rows.read"])
    tampered = secret[:-1] + ("0" if secret[-1] != "0" else "1")
    error = refused(db, tampered)
    assert tampered not in error.message
    assert keys.list_all(db)[0]["accessedAt"] == ""


def test_a_secret_with_another_keys_id_is_refused(db):
    first, first_secret = keys.create(db, "one", ["rows.read"])
    second, _ = keys.create(db, "two", ["rows.write"])
    swapped = first_secret.replace(first["$id"], second["$id"])
    refused(db, swapped)


def test_an_unknown_key_id_is_refused(db):
    keys.create(db, "app", ["rows.read"])
    refused(db, f"standard_{'f' * 20}_{'a' * 64}")


@pytest.mark.parametrize(
    "secret",
    ["", "standard_", "secret", "standard_abc", "standard__", "dynamic_abc_def", "STANDARD_x_y", None, 42],
)
def test_a_malformed_secret_is_refused(db, secret):
    keys.create(db, "app", ["rows.read"])
    refused(db, secret)


def test_the_secret_without_its_prefix_is_refused(db):
    _, secret = keys.create(db, "app", ["rows.read"])
    refused(db, secret.removeprefix("standard_"))
    refused(db, " " + secret)


def test_all_refusals_look_the_same(db):
    key, secret = keys.create(db, "app", ["rows.read"])
    messages = {
        refused(db, secret[:-1] + ("0" if secret[-1] != "0" else "1")).message,
        refused(db, f"standard_{'f' * 20}_{'a' * 64}").message,
        refused(db, "nonsense").message,
    }
    keys.revoke(db, key["$id"])
    messages.add(refused(db, secret).message)
    assert len(messages) == 1


def test_an_expired_key_is_refused(db, db_path: Path):
    key, secret = keys.create(db, "short", ["rows.read"], 1)
    assert keys.authenticate(db, secret)["$id"] == key["$id"]
    set_expire(db_path, key["$id"], "2000-01-01T00:00:00.000+00:00")
    error = refused(db, secret, "api_key_expired")
    assert key["$id"] in error.message
    assert "2000-01-01" in error.message


def test_a_key_expiring_a_moment_ago_is_refused(db, db_path: Path):
    key, secret = keys.create(db, "short", ["rows.read"], 1)
    past = datetime.now(UTC) - timedelta(seconds=2)
    set_expire(db_path, key["$id"], past.strftime("%Y-%m-%dT%H:%M:%S.") + f"{past.microsecond // 1000:03d}+00:00")
    refused(db, secret, "api_key_expired")


def test_a_revoked_key_is_refused(db):
    key, secret = keys.create(db, "gone", ["rows.read"])
    other, other_secret = keys.create(db, "kept", ["rows.read"])
    keys.revoke(db, key["$id"])
    refused(db, secret)
    assert [listed["$id"] for listed in keys.list_all(db)] == [other["$id"]]
    assert keys.authenticate(db, other_secret)["$id"] == other["$id"]


def test_revoking_an_unknown_key_says_so(db):
    key, _ = keys.create(db, "once", ["rows.read"])
    keys.revoke(db, key["$id"])
    for key_id in (key["$id"], "nosuchkey"):
        with pytest.raises(AppwriteError) as caught:
            keys.revoke(db, key_id)
        assert caught.value.type == "key_not_found"
        assert caught.value.code == 404
        assert key_id in caught.value.message


# --- the baas-mcp keys command -------------------------------------------------------------------------------


def data_args(data_dir: Path) -> list[str]:
    return ["--data-dir", str(data_dir)]


def check_with_engine(data_dir: Path, secret: str) -> dict:
    database = ProjectDB(project_path(data_dir, "default"))
    try:
        return keys.authenticate(database, secret)
    finally:
        database.close()


def test_cli_create_json_prints_the_key_and_its_secret(tmp_path: Path):
    data_dir = tmp_path / "data"
    key = create_key(data_dir, "rows.read, rows.write")
    assert set(key) == {"$id", "name", "scopes", "expire", "secret"}
    assert key["name"] == "test"
    assert key["scopes"] == ["rows.read", "rows.write"]
    assert key["expire"] is None
    assert secret_pattern(key["$id"]).fullmatch(key["secret"])
    assert check_with_engine(data_dir, key["secret"])["$id"] == key["$id"]


def test_cli_create_with_expire(tmp_path: Path):
    key = create_key(tmp_path / "data", "rows.read", "--expire", "7")
    expire = parse_time(key["expire"])
    assert timedelta(days=7) - timedelta(minutes=5) < expire - datetime.now(UTC) <= timedelta(days=7)


def test_cli_plain_create_shows_the_secret_once(tmp_path: Path):
    data_dir = tmp_path / "data"
    result = baas_mcp("keys", "create", "--name", "deploy", "--scopes", "rows.read", *data_args(data_dir))
    assert result.returncode == 0, result.stderr
    secrets = re.findall(r"standard_[0-9a-f]+_[0-9a-f]{64}", result.stdout)
    assert len(secrets) == 1
    secret = secrets[0]
    assert result.stdout.count(secret) == 1
    assert "deploy" in result.stdout
    assert "rows.read" in result.stdout
    assert "never expires" in result.stdout
    assert check_with_engine(data_dir, secret)["scopes"] == ["rows.read"]


def test_cli_list_never_shows_secrets(tmp_path: Path):
    data_dir = tmp_path / "data"
    first = create_key(data_dir, "rows.read")
    second = create_key(data_dir, "users.read,files.write", "--expire", "3")
    listed = baas_mcp("keys", "list", *data_args(data_dir))
    assert listed.returncode == 0, listed.stderr
    assert first["$id"] in listed.stdout
    assert second["$id"] in listed.stdout
    assert "users.read" in listed.stdout
    as_json = baas_mcp("keys", "list", *data_args(data_dir), "--json")
    assert as_json.returncode == 0, as_json.stderr
    entries = json.loads(as_json.stdout)
    assert [entry["$id"] for entry in entries] == [first["$id"], second["$id"]]
    for entry in entries:
        assert set(entry) == MODEL_FIELDS
    assert entries[1]["scopes"] == ["files.write", "users.read"]
    assert entries[1]["expire"] == second["expire"]
    for output in (listed.stdout, as_json.stdout):
        for key in (first, second):
            assert key["secret"] not in output
            assert key["secret"].rsplit("_", 1)[1] not in output
            assert "secret" not in output.lower()


def test_cli_list_shows_when_a_key_was_used(tmp_path: Path):
    data_dir = tmp_path / "data"
    key = create_key(data_dir, "rows.read")
    entries = json.loads(baas_mcp("keys", "list", *data_args(data_dir), "--json").stdout)
    assert entries[0]["accessedAt"] is None
    used = check_with_engine(data_dir, key["secret"])
    entries = json.loads(baas_mcp("keys", "list", *data_args(data_dir), "--json").stdout)
    assert entries[0]["accessedAt"] == used["accessedAt"]


def test_cli_list_with_no_keys_says_how_to_make_one(tmp_path: Path):
    result = baas_mcp("keys", "list", *data_args(tmp_path / "data"))
    assert result.returncode == 0, result.stderr
    assert "keys create" in result.stdout
    assert json.loads(baas_mcp("keys", "list", *data_args(tmp_path / "data"), "--json").stdout) == []


def test_cli_revoke(tmp_path: Path):
    data_dir = tmp_path / "data"
    key = create_key(data_dir, "rows.read")
    kept = create_key(data_dir, "rows.write")
    result = baas_mcp("keys", "revoke", key["$id"], *data_args(data_dir))
    assert result.returncode == 0, result.stderr
    assert key["$id"] in result.stdout
    listed = json.loads(baas_mcp("keys", "list", *data_args(data_dir), "--json").stdout)
    assert [entry["$id"] for entry in listed] == [kept["$id"]]
    database = ProjectDB(project_path(data_dir, "default"))
    try:
        refused(database, key["secret"])
    finally:
        database.close()

    again = baas_mcp("keys", "revoke", key["$id"], *data_args(data_dir))
    assert again.returncode != 0
    assert key["$id"] in again.stderr
    assert "could not be found" in again.stderr
    assert again.stdout == ""


def test_cli_revoke_json(tmp_path: Path):
    data_dir = tmp_path / "data"
    key = create_key(data_dir, "rows.read")
    result = baas_mcp("keys", "revoke", key["$id"], *data_args(data_dir), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"$id": key["$id"], "revoked": True}
    missing = baas_mcp("keys", "revoke", "nosuchkey", *data_args(data_dir), "--json")
    assert missing.returncode == 2
    assert "nosuchkey" in json.loads(missing.stdout)["message"]


def test_cli_unknown_scope_exits_2_and_names_it(tmp_path: Path):
    data_dir = tmp_path / "data"
    args = ["keys", "create", "--name", "bad", "--scopes", "rows.read,rows.everything", *data_args(data_dir)]
    result = baas_mcp(*args)
    assert result.returncode == 2
    assert "rows.everything" in result.stderr
    assert "standard_" not in result.stdout
    as_json = baas_mcp(*args, "--json")
    assert as_json.returncode == 2
    body = json.loads(as_json.stdout)
    assert body["type"] == "general_argument_invalid"
    assert "rows.everything" in body["message"]
    assert json.loads(baas_mcp("keys", "list", *data_args(data_dir), "--json").stdout) == []


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("0", "at least 1 day"), ("-3", "at least 1 day"), ("abc", "'abc'"), ("99999", "36500")],
)
def test_cli_bad_expire_exits_2(tmp_path: Path, value: str, fragment: str):
    data_dir = tmp_path / "data"
    result = baas_mcp(
        "keys", "create", "--name", "bad", "--scopes", "rows.read", "--expire", value, *data_args(data_dir)
    )
    assert result.returncode == 2
    assert "expire" in result.stderr
    assert fragment in result.stderr
    assert "standard_" not in result.stdout


@pytest.mark.parametrize("scopes", ["", ",", " , "])
def test_cli_empty_scopes_exit_2(tmp_path: Path, scopes: str):
    result = baas_mcp("keys", "create", "--name", "bad", "--scopes", scopes, *data_args(tmp_path / "data"))
    assert result.returncode == 2
    assert "scope" in result.stderr
    assert "standard_" not in result.stdout


def test_cli_missing_scopes_exits_2(tmp_path: Path):
    result = baas_mcp("keys", "create", "--name", "bad", *data_args(tmp_path / "data"))
    assert result.returncode == 2
    assert "--scopes" in result.stderr
    assert "required" in result.stderr


def test_cli_missing_name_exits_2(tmp_path: Path):
    result = baas_mcp("keys", "create", "--scopes", "rows.read", *data_args(tmp_path / "data"))
    assert result.returncode == 2
    assert "--name" in result.stderr


def test_cli_keys_belong_to_their_project(tmp_path: Path):
    data_dir = tmp_path / "data"
    key = create_key(data_dir, "rows.read", project="shop")
    assert json.loads(baas_mcp("keys", "list", *data_args(data_dir), "--json").stdout) == []
    listed = json.loads(baas_mcp("keys", "list", *data_args(data_dir), "--project", "shop", "--json").stdout)
    assert [entry["$id"] for entry in listed] == [key["$id"]]
