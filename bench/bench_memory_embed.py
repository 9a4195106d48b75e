"""Benchmark: our MiniLM embedder vs chromadb's DefaultEmbeddingFunction on the same texts, same run.

Prints texts/s for both, the ratio, and the minimum cosine between the two sets of vectors
(they must be the same model output: >= 0.9999). Two text sets: short operational memories
(what `remember` stores) and the 190 post-mortem summaries (longer; read from ../shared when present).
Usage: python bench/bench_memory_embed.py [N_SHORT]
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from memory_synth import memories  # noqa: E402

from skill.memory.embed import Embedder  # noqa: E402

SHARED = Path(os.environ.get("DEVOPS_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))


def timed(fn, texts, repeat=2):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn(texts)
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> int:
    from chromadb.utils.embedding_functions import DefaultEmbeddingFunction

    n_short = int(sys.argv[1]) if len(sys.argv) > 1 else 256
    sets = {"short operational memories": [m["text"] for m in memories(n_short)]}
    corpus = SHARED / "corpora" / "postmortems" / "postmortems.jsonl"
    if corpus.is_file():
        sets["post-mortem summaries"] = [
            json.loads(line)["summary"] for line in corpus.open() if line.strip()
        ]
    ours, theirs = Embedder(), DefaultEmbeddingFunction()
    ours.embed(["warm up"])
    theirs(["warm up"])
    ok = True
    print(f"{'texts':<28} {'n':>5} {'ours/s':>9} {'chroma/s':>9} {'ratio':>7} {'min cos':>9}")
    for name, texts in sets.items():
        t_ours, a = timed(ours.embed, texts)
        t_theirs, b = timed(lambda x: np.asarray(theirs(x), dtype=np.float32), texts, repeat=1)
        cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
        ratio = t_theirs / t_ours
        print(
            f"{name:<28} {len(texts):>5} {len(texts) / t_ours:>9.1f} {len(texts) / t_theirs:>9.1f} "
            f"{ratio:>6.1f}x {cos.min():>9.6f}"
        )
        ok = ok and cos.min() >= 0.9999
    print("vectors identical (min cosine >= 0.9999):", "yes" if ok else "NO")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
