"""The tokens service through Engine.call: file tokens, and what they grant to a download, view or
preview. Every response is checked against the official Python SDK's models.

Facts from Appwrite 1.8 (tokens module, resourceToken resource):
- the secret is a JWT carrying the token's id; the token names its file as "bucketId:fileId";
- expire is null (never) or a date-time in the future; updating without it makes the token never expire;
- a valid token for the file lets any caller read it; an unknown, deleted or expired token is ignored,
  and the caller's own permissions decide (user_unauthorized, or storage_file_not_found with fileSecurity);
- a valid token for another file of the bucket is user_unauthorized.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from appwrite.models.resource_token import ResourceToken
from appwrite.models.resource_token_list import ResourceTokenList
from PIL import Image

from mcp_server.engine.datetimes import format_datetime
from mcp_server.engine.permissions import GUEST, user_auth
from mcp_server.engine.registry import HANDLERS
from mcp_server.uploads import Upload
from tests.engine.conftest import error_of, q

SECRET = b"not for everyone"


def later(**delta) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(**delta))


@pytest.fixture
def private(call):
    """Bucket `b`, readable by nobody but keys, with files `f` (text) and `g` (an image)."""
    call("storage.createBucket", bucketId="b", name="Private")
    call("storage.createFile", bucketId="b", fileId="f", file=Upload("secret.txt", "", SECRET))
    buffer = io.BytesIO()
    Image.new("RGB", (200, 100), (0, 128, 0)).save(buffer, "PNG")
    call("storage.createFile", bucketId="b", fileId="g", file=Upload("green.png", "", buffer.getvalue()))
    return "b"


def token(call, file_id: str = "f", **params) -> dict:
    made = call("tokens.createFileToken", bucketId="b", fileId=file_id, **params)
    ResourceToken(**made)
    return made


def read(call, secret: str | None, file_id: str = "f", operation: str = "storage.getFileView", auth=GUEST, **extra):
    params = {"bucketId": "b", "fileId": file_id, **extra}
    if secret is not None:
        params["token"] = secret
    return call(operation, auth, **params)


def expire_now(engine, token_id: str) -> None:
    """Move a token's expiry into the past, as time passing would."""
    project = engine.project()
    with project.db.transaction() as connection:
        connection.execute("UPDATE _file_tokens SET expire = ? WHERE id = ?", (later(seconds=-1), token_id))


def test_every_tokens_operation_has_a_handler(catalog):
    ids = {op.id for op in catalog.operations if op.service == "tokens"}
    assert len(ids) == 5
    assert ids - set(HANDLERS) == set()


def test_create_a_file_token(engine, call, private):
    made = token(call)
    assert made["resourceId"] == "b:f"
    assert made["resourceType"] == "files"
    assert (made["expire"], made["accessedAt"]) == ("", "")
    assert len(made["$id"]) == 20
    claims = jwt.decode(made["secret"], engine.project().cipher.derive(b"file-tokens"), algorithms=["HS256"])
    assert claims["tokenId"] == made["$id"]
    assert claims["resourceId"] == "b:f"
    assert call("tokens.get", tokenId=made["$id"]) == made
    expiring = token(call, expire="2999-01-01T00:00:00Z")
    assert expiring["expire"] == "2999-01-01T00:00:00.000+00:00"


def test_create_refusals(call, private):
    assert error_of(call, "tokens.createFileToken", bucketId="b", fileId="nope").type == "storage_file_not_found"
    assert error_of(call, "tokens.createFileToken", bucketId="nope", fileId="f").type == "storage_bucket_not_found"
    for expire in ("2001-01-01T00:00:00Z", "tomorrow", ""):
        error = error_of(call, "tokens.createFileToken", bucketId="b", fileId="f", expire=expire)
        assert error.type == "general_argument_invalid"
    assert call("tokens.list", bucketId="b", fileId="f")["total"] == 0


def test_list_get_update_and_delete(call, private):
    forever = token(call)
    soon = token(call, expire=later(hours=1))
    far = token(call, expire=later(days=30))
    token(call, "g")
    listed = call("tokens.list", bucketId="b", fileId="f")
    ResourceTokenList(**listed)
    assert [t["$id"] for t in listed["tokens"]] == [forever["$id"], soon["$id"], far["$id"]]
    assert listed["total"] == 3

    def ids(*queries):
        return [t["$id"] for t in call("tokens.list", bucketId="b", fileId="f", queries=list(queries))["tokens"]]

    assert ids(q("isNull", "expire")) == [forever["$id"]]
    assert ids(q("greaterThan", "expire", [later(days=1)])) == [far["$id"]]
    assert ids(q("orderDesc", "expire"), q("limit", None, [1])) == [far["$id"]]
    assert call("tokens.list", bucketId="b", fileId="f", total=False)["total"] == 0
    error = error_of(call, "tokens.list", bucketId="b", fileId="f", queries=[q("equal", "secret", ["x"])])
    assert error.type == "general_query_invalid"

    moved = call("tokens.update", tokenId=forever["$id"], expire=later(days=2))
    ResourceToken(**moved)
    assert moved["expire"] > later(days=1)
    assert moved["secret"] == forever["secret"]
    # Without expire, a token never expires (Appwrite's null default).
    assert call("tokens.update", tokenId=forever["$id"])["expire"] == ""
    assert error_of(call, "tokens.update", tokenId=forever["$id"], expire="2001-01-01").type == (
        "general_argument_invalid"
    )

    assert call("tokens.delete", tokenId=soon["$id"]) is None
    for operation in ("tokens.get", "tokens.delete"):
        error = error_of(call, operation, tokenId=soon["$id"])
        assert (error.type, error.code) == ("token_not_found", 404)
    assert error_of(call, "tokens.update", tokenId="nope").type == "token_not_found"
    assert call("tokens.list", bucketId="b", fileId="f")["total"] == 2


@pytest.mark.parametrize("operation", ["storage.getFileView", "storage.getFileDownload"])
def test_a_token_lets_a_guest_read_its_file(engine, call, private, operation):
    assert error_of(read, call, None, operation=operation).type == "user_unauthorized"
    made = token(call)
    assert read(call, made["secret"], operation=operation).data == SECRET
    accessed = call("tokens.get", tokenId=made["$id"])["accessedAt"]
    assert accessed >= made["$createdAt"]
    # A signed-in user without any permission on the bucket gets in the same way.
    assert read(call, made["secret"], operation=operation, auth=user_auth("ada")).data == SECRET


def test_a_token_lets_a_guest_preview_its_file(call, private):
    made = token(call, "g")
    media = read(call, made["secret"], "g", "storage.getFilePreview", width=50)
    assert Image.open(io.BytesIO(media.data)).size == (50, 25)


def test_a_token_opens_only_its_own_file(call, private):
    made = token(call, "g")
    assert error_of(read, call, made["secret"], "f").type == "user_unauthorized"
    assert error_of(read, call, made["secret"], "missing").type == "user_unauthorized"


def test_an_expired_token_is_refused(engine, call, private):
    made = token(call, expire=later(hours=1))
    assert read(call, made["secret"]).data == SECRET
    expire_now(engine, made["$id"])
    assert error_of(read, call, made["secret"]).type == "user_unauthorized"
    # Moving its expiry ahead again makes it work again.
    call("tokens.update", tokenId=made["$id"], expire=later(hours=1))
    assert read(call, made["secret"]).data == SECRET


def test_a_deleted_token_is_refused(call, private):
    made = token(call)
    call("tokens.delete", tokenId=made["$id"])
    assert error_of(read, call, made["secret"]).type == "user_unauthorized"


def test_a_refused_token_in_a_bucket_with_file_security_is_not_found(engine, call):
    call("storage.createBucket", bucketId="b", name="B", fileSecurity=True)
    call("storage.createFile", bucketId="b", fileId="f", file=Upload("s.txt", "", SECRET))
    made = token(call)
    assert read(call, made["secret"]).data == SECRET
    expire_now(engine, made["$id"])
    assert error_of(read, call, made["secret"]).type == "storage_file_not_found"


def test_tokens_go_with_their_file(call, private):
    made = token(call)
    call("storage.deleteFile", bucketId="b", fileId="f")
    assert error_of(call, "tokens.get", tokenId=made["$id"]).type == "token_not_found"
    # A new file under the same id does not open to the old token.
    call("storage.createFile", bucketId="b", fileId="f", file=Upload("again.txt", "", b"new"))
    assert error_of(read, call, made["secret"]).type == "user_unauthorized"
    other = token(call)
    call("storage.deleteBucket", bucketId="b")
    assert error_of(call, "tokens.get", tokenId=other["$id"]).type == "token_not_found"


def test_forged_and_malformed_tokens_grant_nothing(engine, call, private):
    made = token(call)
    claims = jwt.decode(made["secret"], options={"verify_signature": False})
    forged = jwt.encode(claims, b"another key entirely, long enough for HS256", algorithm="HS256")
    for secret in (forged, "not-a-jwt", made["secret"][:-2]):
        assert error_of(read, call, secret).type == "user_unauthorized"


def test_users_cannot_manage_tokens(call, private):
    error = error_of(call, "tokens.createFileToken", user_auth("ada"), bucketId="b", fileId="f")
    assert error.type == "general_unauthorized_scope"
