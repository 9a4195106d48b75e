"""Benchmark: the CI workflow audit (files/s) against a plain yaml.safe_load of the same files.

The baseline is only parsing; the audit parses with positions and runs every rule, so the ratio
says what the rules cost on top of reading the YAML. Usage: python bench/bench_ci_audit.py [N]
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from skill.nodes.ci.audit import audit_file  # noqa: E402

STEPS = [
    "      - uses: actions/checkout@v4\n",
    "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n        with:\n          persist-credentials: false\n",
    "      - uses: actions/setup-python@v5\n        with:\n          python-version: '3.12'\n          cache: pip\n",
    "      - run: pip install -r requirements.txt\n",
    '      - run: |\n          echo "${{ github.event.pull_request.title }}"\n          pytest -q\n',
    "      - run: npm ci && npm test\n",
    '      - run: echo "sha ${{ github.sha }} run ${{ github.run_id }}"\n',
    "      - name: build\n        run: docker build -t app:${{ github.sha }} .\n",
    '      - run: echo "::set-output name=v::1"\n',
    "      - uses: some-org/deploy-action@main\n        with:\n          token: ${{ secrets.DEPLOY_TOKEN }}\n",
]
JOB_NAMES = ["lint", "unit", "integration", "e2e", "build", "deploy-staging", "deploy-production", "docs"]


def workflow(rng: random.Random) -> str:
    out = ["name: generated\non:\n  push:\n    branches: [main]\n  pull_request:\n"]
    if rng.random() < 0.5:
        out.append("permissions:\n  contents: read\n")
    out.append("jobs:\n")
    names = rng.sample(JOB_NAMES, rng.randint(2, 6))
    for i, name in enumerate(names):
        out.append(f"  {name}:\n    runs-on: ubuntu-latest\n")
        if rng.random() < 0.6:
            out.append("    timeout-minutes: 15\n")
        if i and rng.random() < 0.5:
            out.append(f"    needs: [{names[i - 1]}]\n")
        if name.startswith("deploy"):
            out.append(f"    environment: {name.split('-')[1]}\n")
        out.append("    steps:\n")
        out.extend(rng.choice(STEPS) for _ in range(rng.randint(3, 10)))
    return "".join(out)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i in range(n):
            path = Path(tmp) / f"wf{i}.yml"
            path.write_text(workflow(rng))
            files.append(path)
        total_bytes = sum(p.stat().st_size for p in files)
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        # Warm both paths once so imports and regex compilation are not timed.
        audit_file(files[0])
        yaml.load(files[0].read_text(), Loader=loader)
        results = {}
        for label, fn in (
            ("baseline yaml.safe_load (C loader)", lambda p: yaml.load(p.read_text(), Loader=loader)),
            ("baseline yaml.safe_load (pure Python)", lambda p: yaml.safe_load(p.read_text())),
            ("devops ci audit (parse + all rules)", audit_file),
        ):
            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                for p in files:
                    fn(p)
                best = min(best, time.perf_counter() - start)
            results[label] = best
        findings = sum(len(audit_file(p).findings) for p in files)
    print(f"{n} generated workflows, {total_bytes / 1024:.0f} KiB, {findings} findings")
    for label, secs in results.items():
        print(f"  {label:<40} {n / secs:8.0f} files/s  ({secs * 1000 / n:.2f} ms/file)")
    base = results["baseline yaml.safe_load (C loader)"]
    audit = results["devops ci audit (parse + all rules)"]
    print(f"  audit / C-loader baseline time ratio: {audit / base:.1f}x")
    large_file()


def large_file(jobs: int = 5000) -> None:
    """One workflow with many jobs: the audit must stay linear in the file (a per-job scan of all
    jobs once made a 20,000-job file take 93 s)."""
    body = "".join(
        f"  j{i}:\n    runs-on: ubuntu-latest\n    timeout-minutes: 5\n    steps:\n"
        f"      - uses: actions/checkout@v4\n      - run: echo ${{{{ github.event.pull_request.title }}}}\n"
        for i in range(jobs)
    )
    text = (
        "on: push\npermissions: {contents: read}\njobs:\n"
        + body
        + "  last:\n    steps:\n      - run: echo AKIAABCDEFGHIJKLMNOP\n"
    )
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.yml"
        path.write_text(text)
        timings = {}
        for label, fn in (
            ("baseline yaml.safe_load (C loader)", lambda: yaml.load(path.read_text(), Loader=loader)),
            ("devops ci audit", lambda: audit_file(path)),
        ):
            start = time.perf_counter()
            fn()
            timings[label] = time.perf_counter() - start
    print(f"one workflow with {jobs} jobs ({len(text) / 1024:.0f} KiB):")
    for label, secs in timings.items():
        print(f"  {label:<40} {secs:8.2f} s  ({jobs / secs:,.0f} jobs/s)")
    print(
        f"  audit / C-loader baseline time ratio: {timings['devops ci audit'] / timings['baseline yaml.safe_load (C loader)']:.1f}x"
    )


if __name__ == "__main__":
    main()
