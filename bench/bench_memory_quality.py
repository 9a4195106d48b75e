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
All of it twice, in the same run: the records in SQLite (FTS5), then in PostgreSQL (tsvector + GIN,
a server started here when the Debian package is installed); the fusion code is the same.
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


SETS = ["all", "paraphrase", "hard", "keyword", "identifier", "oncall-dev", "oncall-heldout"]


def measure(home: Path) -> tuple[dict, list]:
    mem = Memory.open(home, chroma_url="")
    load_corpus(mem, load_jsonl(CORPUS))
    queries = load_jsonl(QUERIES) + load_jsonl(ONCALL)
    res = evaluate(mem, queries, sweep=[0.25, 1.0])
    calibration = match_calibration(mem, queries)
    mem.close()
    return res, calibration


def report(backend: str, res: dict, calibration: list) -> bool:
    counts = {s: res["hybrid"][s]["n"] for s in SETS}
    print(f"\n== records on {backend}")
    print("queries: " + ", ".join(f"{s} {counts[s]}" for s in SETS))
    print(f"{'method':<14}" + "".join(f"{s + ' R@5/MRR':>24}" for s in SETS))
    for method in ["lexical", "vector", "rrf", "rrf_lex0.2", "hybrid"] + [
        m for m in res if m.startswith("hybrid_w")
    ]:
        row = "".join(f"{res[method][s]['recall@5']:>16.3f} / {res[method][s]['mrr']:.3f}" for s in SETS)
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
    print(
        f"hybrid beats both single methods on all queries (R@5 and MRR) on {backend}:",
        "yes" if beats else "NO",
    )
    return beats


def main() -> int:
    if not CORPUS.is_file():
        print(f"corpus not found at {CORPUS}; skipping")
        return 0
    from skill.storage.local_postgres import LocalPostgres, unavailable_reason

    base = Path(tempfile.mkdtemp(prefix="bench-quality-"))
    os.environ.update({"DEVOPS_HOME": str(base / "home"), "DEVOPS_CONFIG_DIR": str(base / "config")})
    os.environ["DEVOPS_DATABASE_URL"] = ""
    results = {"sqlite": measure(base / "sqlite")}
    reason = unavailable_reason()
    if reason:
        print(f"PostgreSQL not available ({reason}): SQLite only")
    else:
        with LocalPostgres() as server:
            os.environ["DEVOPS_DATABASE_URL"] = server.create_database("bench_quality")
            results["postgres"] = measure(base / "postgres")
        os.environ["DEVOPS_DATABASE_URL"] = ""
    ok = all([report(backend, res, cal) for backend, (res, cal) in results.items()])
    if "postgres" in results:
        hy = {b: {s: results[b][0]["hybrid"][s] for s in SETS} for b in results}
        diff = [s for s in SETS if hy["sqlite"][s] != hy["postgres"][s]]
        print(
            "\nhybrid figures identical on SQLite and PostgreSQL:",
            "yes" if not diff else "NO, they differ on " + ", ".join(diff),
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
