"""A small run of the recall-quality evaluation on the real post-mortem corpus (bench has the full one)."""

from __future__ import annotations

from pathlib import Path

import pytest
import test_memory_cli

from skill.memory.embed import Embedder
from skill.memory.evaluate import evaluate, load_corpus, load_jsonl
from skill.memory.service import Memory

QUERIES = Path(__file__).parent / "fixtures" / "memory" / "quality_queries.jsonl"
ONCALL = Path(__file__).parent / "fixtures" / "memory" / "oncall_queries.jsonl"
memory_backend = test_memory_cli.memory_backend  # measured with the records on SQLite and on PostgreSQL


def test_hybrid_beats_each_single_method_on_the_real_corpus(corpora, tmp_path, memory_backend):
    corpus_file = corpora / "postmortems" / "postmortems.jsonl"
    if not corpus_file.is_file():
        pytest.skip("postmortems corpus not found")
    embedder = Embedder()
    if not embedder.available():
        pytest.skip("embedding model not seeded")
    mem = Memory.open(tmp_path / "data", chroma_url="", embedder=embedder)
    assert mem.backend == memory_backend
    loaded = load_corpus(mem, load_jsonl(corpus_file))
    assert loaded["created"] == 190
    queries = load_jsonl(QUERIES)[::2]  # every other query: each set is still represented
    queries += [q for q in load_jsonl(ONCALL) if q["set"] == "oncall-dev"]
    res = evaluate(mem, queries)
    mem.close()
    for metric in ("recall@5", "mrr"):
        assert res["hybrid"]["all"][metric] >= res["lexical"]["all"][metric], res
        assert res["hybrid"]["all"][metric] >= res["vector"]["all"][metric], res
    # Paraphrases with no shared words: the lexical side must not drag the fusion below vector-only.
    assert res["hybrid"]["hard"]["mrr"] >= res["vector"]["hard"]["mrr"], res
    # Identifiers: the vector side must not drag it below lexical-only.
    assert res["hybrid"]["identifier"]["mrr"] >= res["lexical"]["identifier"]["mrr"], res
    # On-call shorthand with no shared words: the normalised query lifts hybrid above vector-only.
    assert res["hybrid"]["oncall-dev"]["recall@5"] >= res["vector"]["oncall-dev"]["recall@5"], res
    assert res["hybrid"]["oncall-dev"]["mrr"] > res["vector"]["oncall-dev"]["mrr"], res
