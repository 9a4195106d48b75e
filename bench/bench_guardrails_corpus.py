"""Quality and speed of the raw-command classifier on the shared peer corpus.

Prints per-slice agreement with dcg's labels (block -> tier >= 3, allow -> tier <= 2), with and
without the documented exceptions, and in-process throughput of classify_command next to a
baseline (shlex.split over the same commands) measured in the same run.

    .venv/bin/python bench/bench_guardrails_corpus.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from skill.guardrails.classify import classify_command  # noqa: E402

SHARED = Path(os.environ.get("DEVOPS_SHARED_DIR", REPO.parent / "shared"))
CORPUS = SHARED / "corpora" / "guardrails" / "peer_commands.dev.jsonl"
EXCEPTIONS = REPO / "tests" / "guardrails" / "corpus_exceptions.toml"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    skip = {e["command"] for e in tomllib.loads(EXCEPTIONS.read_text(encoding="utf-8"))["exception"]}
    print(f"corpus: {CORPUS} ({len(rows)} rows), documented exceptions: {len(skip)}")
    print(f"{'slice':10} {'label':6} {'agree':>9} {'rows':>5} {'rate':>8}   {'raw rate':>8}")
    for slice_name in ("core", "long-tail"):
        for expected in ("block", "allow"):
            subset = [r for r in rows if r["slice"] == slice_name and r["expected"] == expected]
            verdicts = {r["command"]: classify_command(r["command"]).tier for r in subset}

            def agrees(r, verdicts=verdicts, expected=expected):
                return (verdicts[r["command"]] >= 3) == (expected == "block")

            kept = [r for r in subset if r["command"] not in skip]
            good = sum(1 for r in kept if agrees(r))
            raw = sum(1 for r in subset if agrees(r))
            print(
                f"{slice_name:10} {expected:6} {good:9d} {len(kept):5d} {good / len(kept):8.2%}   {raw / len(subset):8.2%}"
            )
    commands = [r["command"] for r in rows]
    for c in commands:  # warm up: lazy imports, parser construction
        classify_command(c)

    def rate(fn) -> float:
        start = time.perf_counter()
        n = 0
        for _ in range(args.rounds):
            for c in commands:
                fn(c)
                n += 1
        return n / (time.perf_counter() - start)

    def baseline(c: str) -> None:
        try:
            shlex.split(c)
        except ValueError:
            pass

    ours = rate(classify_command)
    base = rate(baseline)
    print(
        f"throughput: classify_command {ours:,.0f} commands/s   baseline shlex.split {base:,.0f} commands/s"
    )
    print(f"            (classify is {base / ours:.1f}x slower than tokenising only; target > 5,000/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
