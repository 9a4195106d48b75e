"""Agent graph figures, each next to its baseline measured in the same run.

1. Webhook accept latency: POST /webhooks/generic (bearer check, size cap, parse, SQLite commit
   with synchronous=FULL, 202) vs GET /healthz on the same server (the HTTP floor).
2. Graph overhead: a memory recall through the whole graph (route, node, record, report, SQLite
   checkpoints with durability="sync") vs the same recall called directly.
3. Resume latency: `resume()` of a paused run (claim + checkpoint load + approval re-check)
   vs starting a new run to the same pause.

Run: .venv/bin/python bench/bench_graph.py
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


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def fmt(values: list[float]) -> str:
    return f"p50 {statistics.median(values) * 1000:7.2f} ms   p95 {pct(values, 0.95) * 1000:7.2f} ms"


def bench_server(home: Path, n: int = 300) -> None:
    import httpx

    log = home / "server.log"
    env = {
        **os.environ,
        "DEVOPS_HOME": str(home / "srv"),
        "DEVOPS_CONFIG_DIR": str(home / "cfg"),
        "DEVOPS_WEBHOOK_TOKEN": "t",
    }
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "skill.cli", "serve", "--port", "0", "--workers", "0"],
            cwd=REPO,
            env=env,
            stderr=err,
        )
    try:
        url = ""
        deadline = time.monotonic() + 60
        while not url and time.monotonic() < deadline:
            for line in log.read_text().splitlines():
                rec = json.loads(line)
                if rec.get("msg") == "listening":
                    url = f"http://127.0.0.1:{rec['port']}"
            time.sleep(0.05)
        with httpx.Client(base_url=url, timeout=10) as client:
            while client.get("/healthz").status_code != 200:
                time.sleep(0.05)
            accept, health = [], []
            for i in range(n):  # interleaved so both see the same machine load
                body = json.dumps(
                    {"type": "alert", "id": f"bench-{i}", "service": "api", "summary": "p99 above 2s"}
                )
                t = time.perf_counter()
                r = client.post("/webhooks/generic", content=body, headers={"Authorization": "Bearer t"})
                accept.append(time.perf_counter() - t)
                assert r.status_code == 202, r.text
                t = time.perf_counter()
                client.get("/healthz")
                health.append(time.perf_counter() - t)
        print(f"webhook accept (auth+parse+durable commit) {fmt(accept)}")
        print(f"  baseline GET /healthz                    {fmt(health)}")
        print(
            f"  accept / healthz (p50): {statistics.median(accept) / statistics.median(health):.1f}x over {n} requests"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def bench_graph(home: Path, n: int = 15) -> None:
    os.environ["DEVOPS_HOME"] = str(home / "graph")
    os.environ["DEVOPS_CONFIG_DIR"] = str(home / "cfg")
    from skill.agent.graph import run
    from skill.memory import Memory

    with Memory.open() as mem:
        mem.remember("redis upgraded to 7.2 on api", service="api")
    run("what do we know about redis?")  # warm imports and caches
    through, direct = [], []
    for _ in range(n):
        t = time.perf_counter()
        out = run("what do we know about redis?")
        through.append(time.perf_counter() - t)
        assert out.status == "done"
        t = time.perf_counter()
        mem = Memory.open()
        try:
            mem.recall("what do we know about redis?", limit=5)
        finally:
            mem.close()
        direct.append(time.perf_counter() - t)
    print(f"memory recall through the graph           {fmt(through)}")
    print(f"  baseline: the same recall called directly {fmt(direct)}")
    print(
        f"  graph overhead (p50): {(statistics.median(through) - statistics.median(direct)) * 1000:.1f} ms per run"
    )


def bench_resume(home: Path, n: int = 8) -> None:
    from skill.agent.graph import resume, run
    from skill.demo_support import STATE_ENV, SampleService, deploy_config, provision_operator_key
    from skill.memory import Memory

    with SampleService(home, "1.0.0") as service:
        (home / "cfg").mkdir(exist_ok=True)
        (home / "cfg" / "config.toml").write_text(deploy_config(service))
        os.environ[STATE_ENV] = str(service.state_file)
        with Memory.open() as mem:
            mem.record_deployment("api", "production", "1.0.0")
        os.environ["DEVOPS_OPERATOR_KEY"] = provision_operator_key()
        start, finish = [], []
        for i in range(n):
            t = time.perf_counter()
            paused = run(f"deploy api 1.1.{i} to production")
            start.append(time.perf_counter() - t)
            assert paused.status == "awaiting_approval"
            t = time.perf_counter()
            done = resume(paused.run_id, approved=True, by="bench")
            finish.append(time.perf_counter() - t)
            assert done.status == "done", done.report
    print(f"resume after approval (incl. the deploy)  {fmt(finish)}")
    print(f"  baseline: a new run up to the pause       {fmt(start)}")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        bench_server(Path(tmp))
        bench_graph(Path(tmp))
        bench_resume(Path(tmp))
