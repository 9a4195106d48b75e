"""Benchmark: recall quality on the real post-mortem corpus — lexical only, vector only, hybrid.

The 190 summaries are read at run time from ../shared/corpora/postmortems (never copied into the
repository) and imported as memories with the same time and importance. Queries and ground
truth are ours (tests/fixtures/memory/quality_queries.jsonl and oncall_queries.jsonl), in six sets:
  paraphrase  on-call descriptions that reword the incident (some shared words)
  hard        paraphrases that share almost no content word with the summary (reference §7's case)
  keyword     product names, components and terms taken from the summary
  identifier  a single identifier/number as an operator would paste it (530, 1.1.1.1, xtime_lock)
  oncall-dev / oncall-heldout  symptoms in on-call shorthand (k8s, OOMed, db, 5xx) sharing almost no
              word with the summary; the query normalisation was tuned on the dev half only
Reports Recall@5 and MRR@10 per set for lexical (FTS5, ORed terms, BM25), vector (MiniLM cosine),
our hybrid, and for reference plain RRF (k=60) and RRF with the lexical list weighted 0.2;
then a sweep of the lexical weight of the hybrid so the choice can be judged.
Usage: python bench/bench_memory_quality.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from skill.memory.evaluate import evaluate, load_corpus, load_jsonl, match_calibration  # noqa: E402
from skill.memory.service import Memory  # noqa: E402

SHARED = Path(os.environ.get("DEVOPS_SHARED_DIR", REPO.parent / "shared"))
CORPUS = SHARED / "corpora" / "postmortems" / "postmortems.jsonl"
QUERIES = REPO / "tests" / "fixtures" / "memory" / "quality_queries.jsonl"
# The second set: symptoms as on-call people write them (shorthand, no shared words with the
# write-up), split in a dev half (the vocabulary and weights were tuned on it) and a held-out half.
ONCALL = REPO / "tests" / "fixtures" / "memory" / "oncall_queries.jsonl"


def main() -> int:
    if not CORPUS.is_file():
        print(f"corpus not found at {CORPUS}; skipping")
        return 0
    home = Path(tempfile.mkdtemp(prefix="bench-quality-"))
    os.environ.update({"DEVOPS_HOME": str(home), "DEVOPS_CONFIG_DIR": str(home / "config")})
    mem = Memory.open(home, chroma_url="")
    load_corpus(mem, load_jsonl(CORPUS))
    queries = load_jsonl(QUERIES) + load_jsonl(ONCALL)
    res = evaluate(mem, queries, sweep=[0.25, 1.0])
    calibration = match_calibration(mem, queries)
    mem.close()
    sets = ["all", "paraphrase", "hard", "keyword", "identifier", "oncall-dev", "oncall-heldout"]
    counts = {s: res["hybrid"][s]["n"] for s in sets}
    print("queries: " + ", ".join(f"{s} {counts[s]}" for s in sets))
    print(f"{'method':<14}" + "".join(f"{s + ' R@5/MRR':>24}" for s in sets))
    for method in ["lexical", "vector", "rrf", "rrf_lex0.2", "hybrid"] + [
        m for m in res if m.startswith("hybrid_w")
    ]:
        row = "".join(f"{res[method][s]['recall@5']:>16.3f} / {res[method][s]['mrr']:.3f}" for s in sets)
        print(f"{method:<14}{row}")
    print("\ntriage thresholds (search.MATCH_THRESHOLD / OTHER_SERVICE_THRESHOLD), hybrid relevance:")
    for t, kept, passed in calibration:
        print(
            f"  {t:.2f}: best relevant memory kept for {kept:.0%} of queries; best unrelated passes for {passed:.0%}"
        )
    for qset in ("oncall-dev", "oncall-heldout"):
        hy, ve = res["hybrid"][qset], res["vector"][qset]
        print(
            f"{qset}: hybrid {hy['recall@5']:.3f}/{hy['mrr']:.3f} vs vector-only {ve['recall@5']:.3f}/{ve['mrr']:.3f}"
        )
    h, lx, vc = res["hybrid"]["all"], res["lexical"]["all"], res["vector"]["all"]
    beats = all(h[m] > max(lx[m], vc[m]) for m in ("recall@5", "mrr"))
    print("hybrid beats both single methods on all queries (R@5 and MRR):", "yes" if beats else "NO")
    return 0 if beats else 1


if __name__ == "__main__":
    sys.exit(main())
