"""`devops slo status` for 20 SLOs against a real Prometheus (the Debian package, started on
127.0.0.1 with a month of backfilled history for 20 services), next to a single bare PromQL query.

1. slo_status over 20 SLOs: one batched instant query per SLI window (8) for all SLOs, the
   sparklines in one batched range query; wall time and number of HTTP queries.
2. Baseline, same run, same HTTP client settings: one bare instant query (one SLO's 1h error
   ratio) — the floor of asking Prometheus anything.
3. For scale, the unbatched way: one instant query per SLO and window plus one range query per
   SLO (what a naive status loop would send).

Skips (exit 0, says why) when prometheus/promtool are not installed.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

N_SLO = 20
ROUNDS = 7


def main() -> int:
    from skill.slo import local_prometheus as lp
    from skill.slo.prometheus import Prometheus
    from skill.slo.rules import SLI_WINDOWS
    from skill.slo.spec import parse_file
    from skill.slo.status import SPARK_BUCKETS, slo_status

    if lp.binaries() is None:
        print("skipped: prometheus/promtool not installed (apt-get install prometheus)")
        return 0
    kinds = (lp.steady, lp.fast_burner, lp.short_outage)
    services = [kinds[i % 3](f"svc{i:02d}") for i in range(N_SLO)]
    tmp = Path(tempfile.mkdtemp(prefix="bench-slo-"))
    spec = tmp / "slo.yaml"
    spec.write_text(
        "slos:\n"
        + "".join(
            f"  - service: {s.name}\n    name: availability\n    objective: 99.9\n    sli:\n"
            f'      errors: sum(rate(http_requests_total{{service="{s.name}",code=~"5.."}}[{{{{.window}}}}]))\n'
            f'      total: sum(rate(http_requests_total{{service="{s.name}"}}[{{{{.window}}}}]))\n'
            for s in services
        )
    )
    slos = parse_file(spec)
    started = time.perf_counter()
    with lp.LocalPrometheus(services, workdir=tmp / "prom") as server:
        print(
            f"backfilled {N_SLO} services x 31 days and started Prometheus in {time.perf_counter() - started:.1f} s"
        )
        at = server.end + 30
        single = slos[0].sli.error_ratio_query("1h")
        widest = slos[0].sli.error_ratio_query(slos[0].window)
        batched, bare, bare_widest, naive = [], [], [], []
        queries = naive_queries = 0
        for _ in range(ROUNDS):
            t = time.perf_counter()
            report = slo_status(slos, server.url, at=at)
            batched.append(time.perf_counter() - t)
            queries = report.queries

            t = time.perf_counter()
            with Prometheus(server.url) as prom:
                prom.query(single, at)
            bare.append(time.perf_counter() - t)

            t = time.perf_counter()
            with Prometheus(server.url) as prom:
                prom.query(widest, at)
            bare_widest.append(time.perf_counter() - t)

            t = time.perf_counter()
            with Prometheus(server.url) as prom:
                for slo in slos:
                    for w in (*SLI_WINDOWS, slo.window):
                        prom.query(slo.sli.error_ratio_query(w), at)
                    step = slo.window_seconds // SPARK_BUCKETS
                    prom.query_range(
                        slo.sli.error_ratio_query(f"{step}s"), at - slo.window_seconds + step, at, step
                    )
                naive_queries = prom.queries
            naive.append(time.perf_counter() - t)
        fired = sum(1 for s in report.slos if s.alerts)

    def ms(values: list[float]) -> float:
        return statistics.median(values) * 1000

    print(
        f"slo status, {N_SLO} SLOs ({fired} with firing burn alerts): {ms(batched):.1f} ms median over {ROUNDS}, "
        f"{queries} queries (baseline: one bare PromQL instant query {ms(bare):.1f} ms, 1 query; "
        f"{ms(batched) / ms(bare):.1f}x)"
    )
    print(f"one bare query of one SLO's 30d error ratio (the widest window): {ms(bare_widest):.1f} ms")
    print(f"unbatched, one query per SLO and window: {ms(naive):.1f} ms, {naive_queries} queries")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
