"""Synthetic operational memories for the memory benchmarks (deterministic, no corpus needed)."""

from __future__ import annotations

import random

SERVICES = [
    "api", "api-gateway", "checkout", "payments", "search", "auth", "billing", "orders", "inventory", "web",
    "notifications", "reporting", "ingest", "scheduler", "cdn-edge", "ledger", "profile", "media", "chat", "export",
]  # fmt: skip
ENVS = ["prod", "staging", "dev"]
SYMPTOMS = [
    "p99 latency doubled", "502s from the load balancer", "OOMKilled pods in a crash loop", "connection pool exhausted",
    "kafka consumer lag growing", "disk full on the data volume", "TLS handshake failures", "DNS lookups timing out",
    "cache hit ratio dropped to 20%", "queue depth alarm", "error budget burn rate 14x", "readiness probe flapping",
    "deadlocks in the orders table", "certificate expired", "rate limiter rejecting healthy clients",
]  # fmt: skip
CAUSES = [
    "a bad config push", "a slow schema migration", "a dependency upgrade", "a noisy neighbour on the node",
    "an expired secret", "a retry storm without backoff", "a missing index", "a feature flag flipped for everyone",
    "a memory leak in the new build", "an autoscaler limit",
]  # fmt: skip
FIXES = [
    "rollback to the previous version", "raised max_connections", "rotated the credential", "added the index",
    "disabled the flag", "scaled the node pool", "restarted the consumer group", "reverted the config",
]  # fmt: skip


def memories(n: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        svc, env = rng.choice(SERVICES), rng.choice(ENVS)
        roll = rng.random()
        if roll < 0.35:
            text = f"[devops] Deployed {svc} to {env}: v{rng.randint(1, 9)}.{rng.randint(0, 40)}.{i}"
            kind = None
        elif roll < 0.6:
            text = (
                f"[devops] Incident INC-{10000 + i}: {svc} {rng.choice(SYMPTOMS)} after {rng.choice(CAUSES)}, "
                f"resolution={rng.choice(FIXES)}"
            )
            kind = None
        elif roll < 0.75:
            text = f"CI run {i} failed on {svc}: {rng.choice(['flaky test', 'lint error', 'image build timeout'])} in job {rng.choice(['unit', 'e2e', 'build'])}"
            kind = "ci_failure"
        else:
            text = (
                f"note {i}: {svc} in {env} showed {rng.choice(SYMPTOMS)}; suspected {rng.choice(CAUSES)}; "
                f"{rng.choice(FIXES)} helped"
            )
            kind = "note"
        rec = {"id": f"syn-{i:06d}", "text": text, "service": svc, "env": env}
        if kind:
            rec["kind"] = kind
        out.append(rec)
    return out


def queries(n: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    forms = [
        lambda: f"{rng.choice(SERVICES)} {rng.choice(SYMPTOMS)}",
        lambda: f"what fixed {rng.choice(SYMPTOMS)} last time",
        lambda: f"v{rng.randint(1, 9)}.{rng.randint(0, 40)} {rng.choice(SERVICES)}",
        lambda: f"{rng.choice(CAUSES)} broke {rng.choice(SERVICES)}",
    ]
    return [rng.choice(forms)() for _ in range(n)]
