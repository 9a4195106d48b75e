"""Speed of the safety gate, each figure next to its baseline measured in the same run.

1. Cold process: `python guardrails.py check --command "…"` and `python guardrails.py hook` (JSON on
   stdin), audit write included, against a bare `python -c pass`. Target: median <= 3x baseline.
2. Batch: `check --batch` over N commands in one process. Target: >= 5,000 commands/s.

Runs in a temporary DEVOPS_HOME so it never touches the real audit log.
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
PY = sys.executable
RUNS = int(os.environ.get("BENCH_RUNS", "40"))

COMMANDS = [
    "git status",
    "ls -la /tmp",
    "kubectl get pods -n payments",
    "terraform plan -out plan.bin",
    "git push --force origin main",
    "kubectl delete ns payments --context prod",
    "cd app && npm test | tee out.log",
    "sudo systemctl restart nginx",
    "psql -h db.prod.internal -c 'DELETE FROM users'",
    "rm -rf build/ dist/",
    "docker compose up -d",
    "helm upgrade api ./chart -n staging",
]


def median_ms(args, *, stdin: bytes | None = None, env=None, runs=RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            args, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=REPO
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DEVOPS_HOME": os.path.join(tmp, "home"),
            "DEVOPS_CONFIG_DIR": os.path.join(tmp, "cfg"),
        }
        env.pop("DEVOPS_POLICY", None)
        # Measure what an installed gate costs: with its bytecode cached, like any pip install.
        # (This sandbox sets PYTHONDONTWRITEBYTECODE, which would recompile every module each run.)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        script = str(REPO / "guardrails.py")
        hook_in = json.dumps(
            {
                "session_id": "bench",
                "cwd": str(REPO),
                "hook_event_name": "PreToolUse",
                "tool_name": "Bash",
                "tool_input": {"command": "git push --force origin main"},
            }
        ).encode()
        # Warm the file cache and create the audit database once.
        median_ms([PY, script, "check", "--command", "git status"], env=env, runs=3)
        rounds = {"baseline": [], "check": [], "hook": []}
        for _ in range(3):  # interleave so machine load hits all three alike
            rounds["baseline"].append(median_ms([PY, "-c", "pass"], env=env, runs=RUNS // 3 or 1))
            rounds["check"].append(
                median_ms(
                    [PY, script, "check", "--command", "kubectl get pods -n payments"],
                    env=env,
                    runs=RUNS // 3 or 1,
                )
            )
            rounds["hook"].append(
                median_ms([PY, script, "hook"], stdin=hook_in, env=env, runs=RUNS // 3 or 1)
            )
        base = statistics.median(rounds["baseline"])
        check = statistics.median(rounds["check"])
        hook = statistics.median(rounds["hook"])
        print(f"cold baseline  python -c pass          median {base:6.1f} ms")
        print(
            f"cold check     guardrails.py check     median {check:6.1f} ms  = {check / base:4.2f}x baseline (target <= 3x)"
        )
        print(
            f"cold hook      guardrails.py hook      median {hook:6.1f} ms  = {hook / base:4.2f}x baseline (target <= 3x)"
        )

        n = int(os.environ.get("BENCH_BATCH", "20000"))
        lines = "".join(
            json.dumps({"command": COMMANDS[i % len(COMMANDS)] + f" # {i}"}) + "\n" for i in range(n)
        )
        batch_file = os.path.join(tmp, "batch.jsonl")
        Path(batch_file).write_text(lines)
        start = time.perf_counter()
        proc = subprocess.run(
            [PY, script, "check", "--batch", batch_file], capture_output=True, env=env, cwd=REPO
        )
        elapsed = time.perf_counter() - start
        out = proc.stdout.decode().splitlines()
        assert len(out) == n, (len(out), proc.stderr.decode()[-500:])
        rate = n / elapsed
        # Baseline for the batch: the same process start + reading/writing the JSON Lines without checking.
        start = time.perf_counter()
        subprocess.run(
            [
                PY,
                "-c",
                "import json,sys\nfor l in open(sys.argv[1]): sys.stdout.write(json.dumps(json.loads(l))+'\\n')",
                batch_file,
            ],
            stdout=subprocess.DEVNULL,
            env=env,
        )
        io_only = time.perf_counter() - start
        print(
            f"batch          {n} commands in {elapsed:5.2f} s = {rate:8.0f} commands/s (target >= 5,000);"
            f" JSONL read/write alone {n / io_only:8.0f} lines/s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
