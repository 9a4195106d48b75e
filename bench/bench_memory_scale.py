"""Benchmark: bulk import, warm recall latency and cold `memory.py recall` at 10,000 memories.

Each figure is printed next to a baseline measured in the same run:
- import records/s vs chromadb's own `collection.add(documents=...)` with its default
  embedding function (on a 500-record sample, same texts);
- warm recall p50/p95 (hybrid: FTS5 + numpy cosine over the SQLite vectors + scoring) vs
  `collection.query(query_texts=...)` on a chroma collection holding the same 10,000 vectors;
- cold `memory.py recall` wall time vs a cold script doing the same query the plain chromadb way.
Targets: recall p50 <= 25 ms warm, cold recall <= 1.5 s.
Usage: python bench/bench_memory_scale.py [N]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from memory_synth import memories, queries  # noqa: E402

from skill.memory.service import Memory  # noqa: E402


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def cold(cmd, env, runs=5):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - t)
        if proc.returncode != 0:
            raise SystemExit(f"cold run failed: {proc.stderr}")
    return statistics.median(times)


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    home = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    env = {**os.environ, "DEVOPS_HOME": str(home), "DEVOPS_CONFIG_DIR": str(home / "config")}
    env.pop("DEVOPS_CHROMA_URL", None)
    os.environ.update({"DEVOPS_HOME": str(home), "DEVOPS_CONFIG_DIR": str(home / "config")})
    recs = memories(n)
    lines = [json.dumps(r) for r in recs]

    # --- bulk import ------------------------------------------------------------------------
    mem = Memory.open(home, chroma_url="")
    mem._embedder().embed(["warm up"])
    t = time.perf_counter()
    res = mem.import_jsonl(lines, batch_size=256)
    t_import = time.perf_counter() - t
    stats = mem.stats()
    assert res["created"] == n and stats.chroma_count == n, (res, stats)

    import chromadb
    from chromadb.config import Settings
    from chromadb.utils.embedding_functions import DefaultEmbeddingFunction

    sample = recs[:500]
    base_dir = Path(tempfile.mkdtemp(prefix="bench-chroma-"))
    client = chromadb.PersistentClient(path=str(base_dir), settings=Settings(anonymized_telemetry=False))
    ef = DefaultEmbeddingFunction()
    col = client.get_or_create_collection(
        "baseline", embedding_function=ef, configuration={"hnsw": {"space": "cosine"}}
    )
    t = time.perf_counter()
    col.add(ids=[r["id"] for r in sample], documents=[r["text"] for r in sample])
    t_base_import = time.perf_counter() - t

    # --- warm recall -------------------------------------------------------------------------
    qs = queries(200)
    for q in qs[:10]:
        mem.recall(q)
    lat = []
    for q in qs:
        t = time.perf_counter()
        mem.recall(q, limit=10)
        lat.append((time.perf_counter() - t) * 1000)
    lat_vec = []
    for q in qs[:100]:
        t = time.perf_counter()
        mem.recall(q, limit=10, mode="vector")
        lat_vec.append((time.perf_counter() - t) * 1000)
    mem.close()
    # Baseline: chroma's own query path (default EF embeds the query) on the same 10,000 vectors.
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
    ours = chromadb.PersistentClient(path=str(home / "chroma"), settings=Settings(anonymized_telemetry=False))
    ours_col = ours.get_collection("devops-memory", embedding_function=ef)
    base_lat = []
    for q in qs[:50]:
        t = time.perf_counter()
        ours_col.query(query_texts=[q], n_results=10)
        base_lat.append((time.perf_counter() - t) * 1000)

    # --- cold CLI ----------------------------------------------------------------------------
    cli = [
        sys.executable,
        str(REPO / "memory.py"),
        "recall",
        "checkout 502s after a bad config push",
        "--limit",
        "5",
    ]
    t_cold = cold(cli, env)
    naive = (
        "import sys, chromadb\n"
        "from chromadb.config import Settings\n"
        "from chromadb.utils.embedding_functions import DefaultEmbeddingFunction\n"
        "c = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))\n"
        "col = c.get_collection('devops-memory', embedding_function=DefaultEmbeddingFunction())\n"
        "r = col.query(query_texts=[sys.argv[2]], n_results=5)\n"
        "print(r['ids'][0])\n"
    )
    t_cold_base = cold(
        [sys.executable, "-c", naive, str(home / "chroma"), "checkout 502s after a bad config push"],
        env,
        runs=3,
    )

    print(f"memories: {n}  (SQLite {stats.vectors_sqlite} vectors, chroma {stats.chroma_count})")
    print(
        f"bulk import        : {n / t_import:8.1f} records/s ({t_import:.1f} s)   "
        f"baseline chroma add(documents) with its default EF: {len(sample) / t_base_import:.1f} records/s"
    )
    print(
        f"warm recall hybrid : p50 {pct(lat, 50):6.1f} ms  p95 {pct(lat, 95):6.1f} ms   (vector only p50 "
        f"{pct(lat_vec, 50):.1f} ms)   baseline chroma query(query_texts): p50 {pct(base_lat, 50):.1f} ms "
        f"p95 {pct(base_lat, 95):.1f} ms   target p50 <= 25 ms"
    )
    print(
        f"cold memory.py recall: {t_cold:.2f} s (median of 5)   baseline cold chromadb script: "
        f"{t_cold_base:.2f} s   target <= 1.5 s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
