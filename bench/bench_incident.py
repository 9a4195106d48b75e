"""Incident node figures on real data (the 190 public post-mortems of shared/corpora).

1. Severity: share of the post-mortem summaries the matrix keywords put at SEV1/SEV2 (would page).
   Public post-mortems are written for incidents that mattered, so a higher share is better recall;
   there is no per-row severity label, so this is recall of "significant", not accuracy.
   Baseline, same run: the naive rule "outage or down -> SEV1, else SEV3".
2. Triage cost: `triage_incident` (severity + memory triage + runbook + rollback suggestion) per
   call, next to `Memory.triage` alone on the same memory (190 resolved incidents seeded from
   the corpus), so the figure is the node's own overhead.

The corpus is read at run time for evaluation only; nothing from it is copied into the repository.
"""

from __future__ import annotations

import collections
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = (
    Path(os.environ.get("DEVOPS_SHARED_DIR", ROOT.parent / "shared"))
    / "corpora"
    / "postmortems"
    / "postmortems.jsonl"
)
QUERIES = [
    ("checkout returns 502 errors after deploy", "api"),
    ("database connections exhausted, requests time out", "api"),
    ("bad config pushed to load balancer, error rates up", "edge"),
    ("dns resolution failing for internal services", "api"),
    ("disk full on database primary", "db"),
]


def naive(text: str) -> str:
    return "SEV1" if re.search(r"\b(outage|down)\b", text, re.I) else "SEV3"


def main() -> int:
    if not CORPUS.is_file():
        print(f"corpus not found: {CORPUS}")
        return 0
    from skill.nodes.incident.severity import classify_severity

    rows = [json.loads(line) for line in CORPUS.read_text().splitlines() if line.strip()]
    ours = collections.Counter(classify_severity(r["summary"]).severity for r in rows)
    base = collections.Counter(naive(r["summary"]) for r in rows)
    n = len(rows)
    paging = (ours["SEV1"] + ours["SEV2"]) / n
    base_paging = (base["SEV1"] + base["SEV2"]) / n
    print(
        f"severity on {n} public post-mortems: SEV1/SEV2 {paging:.1%}  (baseline outage|down rule {base_paging:.1%})"
    )
    print(f"  distribution: {dict(sorted(ours.items()))}   baseline: {dict(sorted(base.items()))}")

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DEVOPS_HOME"] = str(Path(tmp) / "home")
        os.environ["DEVOPS_CONFIG_DIR"] = str(Path(tmp) / "cfg")
        from skill.memory import Memory
        from skill.nodes.incident import triage_incident

        repo = ROOT / "tests" / "fixtures" / "incident" / "repo"
        with Memory.open() as mem:
            for r in rows:
                inc = mem.open_incident(
                    r["summary"][:110],
                    severity=classify_severity(r["summary"]).severity,
                    service=r["company"].lower(),
                )
                mem.resolve_incident(inc.id, resolution=f"see {r['category']} post-mortem")
            mem.record_deployment("api", "production", "v1.3.9")
            mem.record_deployment("api", "production", "v1.4.0")
            mem.triage("warm up", service="api")  # load the embedding model once
            node, bare = [], []
            for _ in range(3):
                for query, service in QUERIES:
                    t = time.perf_counter()
                    mem.triage(query, service=service, window="24h")
                    bare.append(time.perf_counter() - t)
                    t = time.perf_counter()
                    triage_incident(query, service=service, window="24h", repo=repo, memory=mem)
                    node.append(time.perf_counter() - t)
        node_ms, bare_ms = statistics.median(node) * 1000, statistics.median(bare) * 1000
        print(
            f"triage_incident median {node_ms:.1f} ms/call  (baseline Memory.triage alone {bare_ms:.1f} ms; "
            f"node overhead {node_ms - bare_ms:+.1f} ms) over {len(node)} calls, {n} incidents in memory"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
