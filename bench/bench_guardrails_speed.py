"""Speed of the safety gate, each figure next to its baseline measured in the same run.

1. Cold process: `python guardrails.py check --command "…"` and `python guardrails.py hook` (JSON on
   stdin), audit write included, against a bare `python -c pass`. Target: median <= 3x baseline.
2. Batch: `check --batch` over N commands in one process. Target: >= 5,000 commands/s.

Runs in a temporary DEVOPS_HOME so it never touches the real audit log.
"""

from __future__ import annotations

import json
import os
import resource
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


def run_once(args, *, stdin: bytes | None, env, cwd=REPO) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child): CPU time is what the gate itself costs, wall time
    also counts waiting for a core on a busy machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def hook_input(command: str) -> bytes:
    return json.dumps(
        {
            "session_id": "bench",
            "cwd": str(REPO),
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": command},
        }
    ).encode()


def make_project(tmp: str) -> str:
    """A git worktree with an ignored build/ folder, for the cost of the worktree path checks."""
    root = os.path.join(tmp, "project")
    os.makedirs(os.path.join(root, "build"))
    os.makedirs(os.path.join(root, "src"))
    Path(root, ".gitignore").write_text("build/\n")
    Path(root, "src", "app.py").write_text("print(1)\n")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    return root


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
        safe, risky = "kubectl get pods -n payments", "git push --force origin main"
        project = make_project(tmp)
        plain = os.path.join(tmp, "plain")
        os.makedirs(plain)
        cases = {
            "baseline  python -c pass": ([PY, "-c", "pass"], None),
            "check     T1 kubectl get pods": ([PY, script, "check", "--command", safe], None),
            "check     T4 git push --force": ([PY, script, "check", "--command", risky], None),
            "hook      T1 (silent)": ([PY, script, "hook"], hook_input(safe)),
            "hook      T4 (deny + pending)": ([PY, script, "hook"], hook_input(risky)),
            # the worktree path checks (issue 12 §3): the same delete in a worktree (git answers
            # check-ignore and ls-files) and in a folder that is not one (no git call)
            "check     rm -rf build, worktree": ([PY, script, "check", "--command", "rm -rf build"], None),
            "check     rm -rf build, no worktree": ([PY, script, "check", "--command", "rm -rf build"], None),
        }
        where = {"check     rm -rf build, worktree": project, "check     rm -rf build, no worktree": plain}
        for name, (args, stdin) in cases.items():  # warm caches, create the databases
            run_once(args, stdin=stdin, env=env, cwd=where.get(name, REPO))
        walls = {name: [] for name in cases}
        cpus = {name: [] for name in cases}
        for _ in range(RUNS):  # interleaved, so machine load hits every case alike
            for name, (args, stdin) in cases.items():
                wall, cpu = run_once(args, stdin=stdin, env=env, cwd=where.get(name, REPO))
                walls[name].append(wall)
                cpus[name].append(cpu)
        base_wall = statistics.median(walls["baseline  python -c pass"])
        base_cpu = statistics.median(cpus["baseline  python -c pass"])
        print(f"cold process, {RUNS} interleaved runs each (target: median <= 3x baseline)")
        for name in cases:
            wall, cpu = statistics.median(walls[name]) * 1000, statistics.median(cpus[name]) * 1000
            print(
                f"  {name:32s} wall {wall:6.1f} ms = {wall / 1000 / base_wall:4.2f}x"
                f"   cpu {cpu:6.1f} ms = {cpu / 1000 / base_cpu:4.2f}x"
            )
        print(
            f"  (load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores)"
        )

        n = int(os.environ.get("BENCH_BATCH", "20000"))
        lines = "".join(
            json.dumps({"command": COMMANDS[i % len(COMMANDS)] + f" # {i}"}) + "\n" for i in range(n)
        )
        batch_file = os.path.join(tmp, "batch.jsonl")
        Path(batch_file).write_text(lines)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(
            [PY, script, "check", "--batch", batch_file], capture_output=True, env=env, cwd=REPO
        )
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        out = proc.stdout.decode().splitlines()
        assert len(out) == n, (len(out), proc.stderr.decode()[-500:])
        # Baseline: the same process reading and writing the JSON Lines without checking anything.
        echo = (
            "import json,sys\nfor l in open(sys.argv[1]): sys.stdout.write(json.dumps(json.loads(l))+'\\n')"
        )
        io_wall, _ = run_once([PY, "-c", echo, batch_file], stdin=None, env=env)
        print(
            f"batch: {n} commands (audited, one transaction per 2,000) in {elapsed:5.2f} s wall / {cpu:5.2f} s cpu"
            f" = {n / elapsed:7.0f} commands/s wall, {n / cpu:7.0f} per cpu-second (target >= 5,000);"
            f" JSONL read/write alone {n / io_wall:7.0f} lines/s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
