"""Deploy node figures, measured on a live local service (the test harness: a threaded HTTP
service on 127.0.0.1, the script driver swapping its version, a Prometheus-API server).

1. Time to recover from a bad canary: `execute_deploy` of a canary whose analysis fails, from
   the first driver call to the rollback verified healthy and both records written to memory.
   Baseline, same run: the floor any tool pays for the same work, i.e. the two bare driver
   script runs (canary, rollback), the metric queries and one health request, with no plan,
   no verification logic and no memory.
2. Rolling deploy: `execute_deploy` (driver + health/version gate + memory record) next to the
   bare driver script run plus one health request.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "deploy"))

ROUNDS = 5


def main() -> int:
    import harness
    import httpx

    tmp = Path(tempfile.mkdtemp(prefix="bench-deploy-"))
    os.environ["DEVOPS_HOME"] = str(tmp / "home")
    os.environ["DEVOPS_CONFIG_DIR"] = str(tmp / "cfg")
    os.environ["DEVOPS_PROJECT_DIR"] = str(tmp / "project")
    from skill.memory import Memory
    from skill.nodes.deploy import DeployRequest, execute_deploy, plan_deploy

    with harness.TargetService(tmp, "v1.0.0") as svc, harness.FakePrometheus("failure") as prom:
        os.environ.update(svc.env())
        harness.write_config(tmp / "cfg", svc, prom)
        # one measurement per metric per step keeps the analysis cost comparable to the baseline
        cfg = (tmp / "cfg" / "config.toml").read_text().replace("count = 2", "count = 1")
        (tmp / "cfg" / "config.toml").write_text(cfg)
        driver = [sys.executable, str(harness.DRIVER)]

        def bare(action: str, version: str, weight: str = "") -> None:
            env = {
                **os.environ,
                "SERVICE": "api",
                "ENV": "production",
                "VERSION": version,
                "ACTION": action,
                "STEP": "0",
                "WEIGHT": weight,
                "STRATEGY": "canary",
            }
            subprocess.run(driver, env=env, check=True, capture_output=True, timeout=30)

        with Memory.open() as mem:
            mem.record_deployment("api", "production", "v1.0.0")
            mem.triage("warm up", service="api")
            recover, recover_base, rolling, rolling_base = [], [], [], []
            with httpx.Client(timeout=2) as client:
                for i in range(ROUNDS):
                    prom.mode = "failure"
                    plan = plan_deploy(
                        DeployRequest(
                            service="api",
                            env="production",
                            version=f"v1.1.{i}",
                            strategy="canary",
                            steps=[10, 100],
                        ),
                        memory=mem,
                    )
                    t = time.perf_counter()
                    res = execute_deploy(plan, memory=mem)
                    recover.append(time.perf_counter() - t)
                    assert res.status == "rolled_back", res.message

                    t = time.perf_counter()
                    bare("canary", f"v1.1.{i}", "10")
                    for query in ("http_requests_total", "http_request_duration_seconds_bucket"):
                        client.get(f"{prom.url}/api/v1/query", params={"query": query})
                    bare("rollback", "v1.0.0")
                    client.get(f"{svc.url}/healthz")
                    recover_base.append(time.perf_counter() - t)

                    plan = plan_deploy(
                        DeployRequest(service="api", env="production", version=f"v2.0.{i}"), memory=mem
                    )
                    t = time.perf_counter()
                    res = execute_deploy(plan, memory=mem)
                    rolling.append(time.perf_counter() - t)
                    assert res.status == "succeeded", res.message

                    t = time.perf_counter()
                    bare("deploy", f"v2.0.{i}")
                    client.get(f"{svc.url}/healthz")
                    client.get(f"{svc.url}/version")
                    rolling_base.append(time.perf_counter() - t)

    def ms(values):
        return statistics.median(values) * 1000

    print(
        f"bad canary -> rolled back, verified, recorded: {ms(recover):.0f} ms median over {ROUNDS} "
        f"(baseline bare driver+queries+health {ms(recover_base):.0f} ms; overhead {ms(recover) - ms(recover_base):+.0f} ms)"
    )
    print(
        f"rolling deploy, verified, recorded: {ms(rolling):.0f} ms median over {ROUNDS} "
        f"(baseline bare driver+health {ms(rolling_base):.0f} ms; overhead {ms(rolling) - ms(rolling_base):+.0f} ms)"
    )
    client_cost()
    return 0


def client_cost(n: int = 50) -> None:
    """Each health check and analysis run opens an httpx client: what that costs, and why cached."""
    import httpx

    from skill.nodes.deploy.health import http_client

    http_client(2.0).close()  # the TLS context is built once per process
    t = time.perf_counter()
    for _ in range(n):
        http_client(2.0).close()
    ours = (time.perf_counter() - t) / n
    t = time.perf_counter()
    for _ in range(n // 5):
        httpx.Client(timeout=2.0, trust_env=False).close()  # builds a verifying TLS context each time
    plain = (time.perf_counter() - t) / (n // 5)
    print(
        f"httpx client per health check: {ours * 1e6:.0f} us (cached TLS context) "
        f"vs {plain * 1e3:.1f} ms for a plain httpx.Client(); {plain / ours:.0f}x"
    )


if __name__ == "__main__":
    sys.exit(main())
