"""Benchmark: warm hybrid recall p50/p95 at 10,000 memories, records on PostgreSQL vs SQLite.

Same memories, same queries, same run: the SQLite home is the baseline, the team database is a
real PostgreSQL server started here (skill.storage.local_postgres, durable settings: fsync on).
Each memory is embedded once (the vectors are the same on both sides); recall embeds its query
on both. Also prints the import rate of each backend (records/s, vectors precomputed).
Usage: python bench/bench_memory_recall_backends.py [N] [QUERIES]
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from memory_synth import memories, queries  # noqa: E402

from skill.memory.embed import Embedder  # noqa: E402
from skill.memory.service import Memory  # noqa: E402


class OnceEmbedder(Embedder):
    """Embeds each text once per run: the second backend gets the first one's vectors."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: dict[str, object] = {}

    def embed(self, texts):
        import numpy as np

        todo = [t for t in dict.fromkeys(texts) if t not in self.seen]
        if todo:
            for t, v in zip(todo, super().embed(todo), strict=True):
                self.seen[t] = v
        return np.stack([self.seen[t] for t in texts])


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def run(label: str, home: Path, lines: list[str], qs: list[str], embedder: Embedder) -> dict:
    mem = Memory.open(home, chroma_url="", embedder=embedder)
    t = time.perf_counter()
    res = mem.import_jsonl(lines, batch_size=1000)
    t_import = time.perf_counter() - t
    assert res["created"] == len(lines), (label, res)
    for q in qs[:10]:  # warm: the vector cache, the query embeddings of the first queries
        mem.recall(q)
    lat = []
    top = []
    for q in qs:
        t = time.perf_counter()
        hits = mem.recall(q, limit=10)
        lat.append((time.perf_counter() - t) * 1000)
        top.append([h.memory.id for h in hits])
    mem.close()
    return {"import_s": t_import, "lat": lat, "top": top}


def main() -> int:
    from skill.storage.local_postgres import LocalPostgres, unavailable_reason

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    nq = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    reason = unavailable_reason()
    if reason:
        print(f"PostgreSQL not available here: {reason}; skipping")
        return 0
    recs = memories(n)
    lines = [json.dumps(r) for r in recs]
    qs = queries(nq)
    embedder = OnceEmbedder()
    t = time.perf_counter()
    embedder.embed([r["text"] for r in recs] + qs)
    print(f"embedded {n} memories and {nq} queries once in {time.perf_counter() - t:.1f} s (shared by both)")

    base = Path(tempfile.mkdtemp(prefix="bench-recall-backends-"))
    os.environ.update({"DEVOPS_HOME": str(base / "home"), "DEVOPS_CONFIG_DIR": str(base / "config")})
    os.environ.pop("DEVOPS_CHROMA_URL", None)
    os.environ["DEVOPS_DATABASE_URL"] = ""
    sqlite = run("sqlite", base / "sqlite", lines, qs, embedder)
    with LocalPostgres(durable=True) as server:
        os.environ["DEVOPS_DATABASE_URL"] = server.create_database("bench_memory")
        pg = run("postgres", base / "postgres", lines, qs, embedder)
    os.environ["DEVOPS_DATABASE_URL"] = ""

    same = sum(a == b for a, b in zip(sqlite["top"], pg["top"], strict=True))
    print(f"\nrecall at {n:,} memories, {nq} queries (hybrid, limit 10), warm:")
    print(f"{'backend':<12}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}{'import rec/s':>16}")
    for label, r in (("sqlite", sqlite), ("postgres", pg)):
        print(
            f"{label:<12}{statistics.median(r['lat']):>10.1f}{pct(r['lat'], 95):>10.1f}"
            f"{statistics.mean(r['lat']):>10.1f}{n / r['import_s']:>16.0f}"
        )
    ratio = statistics.median(pg["lat"]) / statistics.median(sqlite["lat"])
    print(f"postgres p50 / sqlite p50: {ratio:.2f}x")
    print(f"identical top-10 lists on both backends: {same} of {nq} queries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
