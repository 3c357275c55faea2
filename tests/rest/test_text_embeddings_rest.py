"""POST /v1/vectorsdb/embeddings/text on `baas-mcp api`, through the official Python SDK's client: the all-minilm
model's vectors (those sentence-transformers gives, tests/engine/minilm/reference.json) in Appwrite's response
shape, for a key with the operation's scope, and the refusal of a key without it."""

from __future__ import annotations

import numpy
import pytest
from appwrite.client import Client
from appwrite.exception import AppwriteException

from tests.commands import create_key, serve_env, start_api_server
from tests.engine.test_text_embeddings import HERE, REFERENCE
from tests.rest.python_packages import install

PATH = "/vectorsdb/embeddings/text"
HEADERS = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`baas-mcp api` with the model's package on its path."""
    data_dir = tmp_path_factory.mktemp("embeddings") / "data"
    keys = {scope: create_key(data_dir, scope)["secret"] for scope in ("documents.write", "documents.read")}
    served = start_api_server(data_dir, env=serve_env(PYTHONPATH=str(install(HERE, no_deps=True))))
    try:
        yield served.url("/v1"), keys
    finally:
        served.stop()


def client(endpoint: str, key: str) -> Client:
    return Client().set_endpoint(endpoint).set_project("default").set_key(key)


def test_the_api_answers_the_models_vectors_in_appwrites_shape(server):
    endpoint, keys = server
    body = {"texts": REFERENCE["texts"][:2], "model": "all-minilm"}
    result = client(endpoint, keys["documents.write"]).call("post", PATH, HEADERS, body)
    assert result["total"] == 2
    for item, expected in zip(result["embeddings"], REFERENCE["embeddings"][:2], strict=True):
        assert (item["model"], item["dimension"], item["error"]) == ("all-minilm", 384, "")
        assert numpy.abs(numpy.array(item["embedding"]) - numpy.array(expected)).max() < 1e-5


def test_a_key_without_the_scope_is_refused(server):
    endpoint, keys = server
    with pytest.raises(AppwriteException) as refused:
        client(endpoint, keys["documents.read"]).call("post", PATH, HEADERS, {"texts": ["a"], "model": "all-minilm"})
    assert (refused.value.code, refused.value.type) == (401, "general_unauthorized_scope")
