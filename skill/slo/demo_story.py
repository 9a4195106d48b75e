"""The SLO part of `devops demo`: a real Prometheus with a month of the sample service's history
(when the Debian package is installed), its SLO status line, and the budget a failed canary burnt.

The server starts in a background thread at the beginning of the story, so its backfill runs
while the other steps do.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

SPEC = """\
slos:
  - service: {service}
    name: availability
    objective: 99.9
    window: 30d
    sli:
      errors: sum(rate(http_requests_total{{service="{service}",code=~"5.."}}[{{{{.window}}}}]))
      total: sum(rate(http_requests_total{{service="{service}"}}[{{{{.window}}}}]))
"""


class DemoSLO:
    def __init__(self, service: str, home: Path):
        from skill.slo.spec import parse_file

        self.service = service
        self.spec = home / "slo.yaml"
        self.spec.write_text(SPEC.format(service=service))
        (self.slo,) = parse_file(self.spec)
        self.server = None
        self.error: str | None = None
        self._thread: threading.Thread | None = None
        self._home = home

    def start(self) -> None:
        from skill.slo import local_prometheus as lp

        if lp.binaries() is None:
            self.error = "prometheus not installed (apt-get install prometheus)"
            return
        self.server = lp.LocalPrometheus([lp.steady(self.service)], workdir=self._home / "prometheus")
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.server.start()
        except Exception as exc:  # noqa: BLE001 - the demo says why and goes on without the line
            self.error = f"{type(exc).__name__}: {exc}"

    def status_line(self) -> str:
        from skill.errors import DevopsError
        from skill.slo.status import slo_status, summary_line

        if self._thread:
            self._thread.join(timeout=120)
        if self.error or self.server is None or self.server.proc is None:
            return f"SLO status: skipped ({self.error or 'prometheus did not start'})"
        try:
            report = slo_status([self.slo], self.server.url)
        except DevopsError as exc:
            return f"SLO status: {exc}"
        return f"SLO {summary_line(report.slos[0])} (devops slo status, real Prometheus at {self.server.url})"

    def canary_line(self, executed: dict[str, Any] | None, seconds: float) -> str | None:
        """What the failed canary step cost: its measured error ratio on its share of traffic for
        ``seconds`` (the time the bad version took traffic, measured by the caller)."""
        step = _failed_canary(executed)
        if step is None:
            return None
        metric = next((m for m in step["analysis"]["metrics"] if m["name"] == "error-rate"), None)
        values = [x["value"] for x in (metric or {}).get("measurements", []) if x.get("value") is not None]
        if not values:
            return None
        from skill.slo.status import budget_burnt

        ratio, weight = max(values), step["weight"] or 0
        share = budget_burnt(self.slo, error_ratio=ratio, weight=weight, seconds=seconds)
        half_hour = budget_burnt(self.slo, error_ratio=ratio, weight=weight, seconds=1800)
        return (
            f"The failed step burnt {share * 100:.2g}% of the {self.slo.window} error budget "
            f"({ratio:.0%} errors on {weight}% of traffic for {seconds:.1f}s until the rollback; "
            f"left for a 30-minute analysis it would have burnt {half_hour * 100:.2g}%)"
        )

    def stop(self) -> None:
        if self._thread:
            self._thread.join(timeout=120)
        if self.server is not None:
            self.server.stop()
            self.server = None

    def __enter__(self) -> DemoSLO:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _failed_canary(executed: Any) -> dict | None:
    if not isinstance(executed, dict):
        return None
    for step in executed.get("steps") or []:
        if step.get("action") == "canary" and step.get("status") == "failed" and step.get("analysis"):
            return step
    return None
