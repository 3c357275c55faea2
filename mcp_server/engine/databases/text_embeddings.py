"""vectorsDB.createTextEmbeddings: one embedding per text, in order, as Appwrite answers it
({"embeddings": [{"model", "dimension", "embedding", "error"}], "total"}).

Appwrite's models (utopia-php/agents' Appwrite adapter): nomic-embed-text (768 dimensions, the default),
embedding-gemma (768), all-minilm (384) and bge-small (384). The engine runs all-minilm (minilm.py); the others,
and all-minilm where its package is not installed, answer general_not_implemented saying what to do.
"""

from __future__ import annotations

from ..errors import AppwriteError, invalid_argument
from ..registry import Call, handles
from ..unimplemented import not_available
from . import minilm

MODELS = {"nomic-embed-text": 768, "embedding-gemma": 768, "all-minilm": minilm.DIMENSION, "bge-small": 384}
LOCAL_MODEL = "all-minilm"


@handles("vectorsDB.createTextEmbeddings", own_transactions=True)  # seconds of CPU: never under the write lock
def create_text_embeddings(call: Call) -> dict:
    model = call.params.get("model") or "nomic-embed-text"
    if model not in MODELS:
        raise invalid_argument(f"Invalid `model` param: Value must be one of ({', '.join(MODELS)})")
    if model != LOCAL_MODEL:
        raise not_here(f"the embedded engine runs only the {LOCAL_MODEL} model, not {model}")
    texts = call.params["texts"]
    try:
        vectors = minilm.embed(texts)
    except minilm.ModelMissing as missing:
        raise not_here(f"the {LOCAL_MODEL} model cannot run: {missing}") from None
    embeddings = [{"model": model, "dimension": MODELS[model], "embedding": vector, "error": ""} for vector in vectors]
    return {"embeddings": embeddings, "total": len(embeddings)}


def not_here(why: str) -> AppwriteError:
    return not_available("vectorsDB.createTextEmbeddings", why, f", or use model {LOCAL_MODEL}")
