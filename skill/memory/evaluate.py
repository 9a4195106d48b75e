"""Recall-quality evaluation: lexical only vs vector only vs hybrid (and RRF for reference).

The corpus is read at run time (never copied into the repository); the queries and their
ground truth are ours (tests/fixtures/memory/quality_queries.jsonl): paraphrased on-call
symptoms that avoid the summaries' wording, and keyword-heavy queries (product names, error
codes, identifiers). Every memory gets the same time and importance, so only retrieval counts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from skill.memory import search as S

FIXED_TIME = "2026-01-01T00:00:00Z"


def load_jsonl(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_corpus(mem, corpus: list[dict]) -> dict:
    lines = (
        json.dumps({"id": d["id"], "text": d["summary"], "created_at": FIXED_TIME, "source": "eval"})
        for d in corpus
    )
    return mem.import_jsonl(lines)


def _metrics(ranked: list[str], relevant: set[str]) -> tuple[float, float]:
    r5 = 1.0 if any(mid in relevant for mid in ranked[:5]) else 0.0
    rr = 0.0
    for pos, mid in enumerate(ranked[:10], 1):
        if mid in relevant:
            rr = 1.0 / pos
            break
    return r5, rr


def evaluate(mem, queries: Iterable[dict], *, sweep: Iterable[float] = ()) -> dict:
    """{method: {set: {"recall@5", "mrr", "n"}}} for lexical, vector, rrf, rrf_lex0.2, hybrid (+ sweep)."""
    methods: dict[str, dict[str, list[tuple[float, float]]]] = {}

    def add(method: str, qset: str, ranked: list[str], relevant: set[str]) -> None:
        for key in (qset, "all"):
            methods.setdefault(method, {}).setdefault(key, []).append(_metrics(ranked, relevant))

    saved = S.LEX_WEIGHT
    try:
        for q in queries:
            rel = set(q["relevant"])
            lex = [h.memory.id for h in mem.recall(q["query"], mode="lexical", limit=100)]
            vec = [h.memory.id for h in mem.recall(q["query"], mode="vector", limit=100)]
            S.LEX_WEIGHT = saved
            hyb = [h.memory.id for h in mem.recall(q["query"], mode="hybrid", limit=10)]
            add("lexical", q["set"], lex, rel)
            add("vector", q["set"], vec, rel)
            add("hybrid", q["set"], hyb, rel)
            for name, weights in (("rrf", [1.0, 1.0]), ("rrf_lex0.2", [0.2, 1.0])):
                scores: dict[str, float] = {}
                for lst, w in zip((lex, vec), weights, strict=True):
                    for pos, mid in enumerate(lst, 1):
                        scores[mid] = scores.get(mid, 0.0) + w / (60 + pos)
                add(name, q["set"], sorted(scores, key=lambda m: -scores[m]), rel)
            for beta in sweep:
                S.LEX_WEIGHT = beta
                ranked = [h.memory.id for h in mem.recall(q["query"], mode="hybrid", limit=10)]
                add(f"hybrid_w{beta:g}", q["set"], ranked, rel)
    finally:
        S.LEX_WEIGHT = saved
    out: dict[str, dict[str, dict]] = {}
    for method, sets in methods.items():
        out[method] = {
            qset: {
                "recall@5": round(sum(r for r, _ in vals) / len(vals), 3),
                "mrr": round(sum(m for _, m in vals) / len(vals), 3),
                "n": len(vals),
            }
            for qset, vals in sets.items()
        }
    return out


def match_calibration(mem, queries: Iterable[dict], thresholds=(0.35, 0.40, 0.45, 0.50, 0.55, 0.60)) -> list:
    """For each threshold: the share of queries whose best relevant memory reaches it, and the
    share whose best unrelated memory does (what triage would show when the right incident is
    not in memory). [(threshold, kept, passed)]"""
    best_rel, best_other = [], []
    for q in queries:
        rel = set(q["relevant"])
        hits = mem.recall(q["query"], mode="hybrid", limit=20)
        r = [S.match_strength(h.parts) for h in hits if h.memory.id in rel]
        o = [S.match_strength(h.parts) for h in hits if h.memory.id not in rel]
        best_rel.append(max(r, default=0.0))
        best_other.append(max(o, default=0.0))
    n = max(len(best_rel), 1)
    return [(t, sum(x >= t for x in best_rel) / n, sum(x >= t for x in best_other) / n) for t in thresholds]
