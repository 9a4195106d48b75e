"""``devops slo status``: SLI, error budget, burn rates, alerts and time to exhaustion, live.

Everything is computed from the SLI queries themselves (not from the recorded series), so the
status is right before the generated rules are deployed and for history older than them. The
queries are batched per window (every SLO's 5m ratio in one query, every 1h ratio in another ...)
plus one range query for the sparklines, whatever the number of SLOs.
"""

from __future__ import annotations

import time

from pydantic import BaseModel

from skill.durations import iso
from skill.slo.models import SLO, promql_duration
from skill.slo.prometheus import Prometheus, batch_query, batch_range
from skill.slo.rules import BURN_WINDOWS, SLI_WINDOWS

SPARK = "▁▂▃▄▅▆▇█"
SPARK_BUCKETS = 24


class FiringAlert(BaseModel):
    severity: str
    long: str
    short: str
    factor: float


class SLOStatus(BaseModel):
    id: str
    service: str
    name: str
    objective: float
    window: str
    at: str
    sli: float | None  # percent of good events over the window
    error_ratio: float | None
    budget_consumed: float | None  # 1.0 = the whole budget spent
    budget_remaining: float | None
    burn_rates: dict[str, float | None]  # per SLI window
    alerts: list[FiringAlert]
    exhaustion_seconds: float | None  # at the 1h burn; 0 = already exhausted; None = not burning
    sparkline: str
    burn_history: list[float | None]  # per bucket, oldest first


class StatusReport(BaseModel):
    prometheus: str
    at: str
    queries: int
    slos: list[SLOStatus]


def _burn(ratio: float | None, budget: float) -> float | None:
    return None if ratio is None else ratio / budget


def sparkline(values: list[float | None]) -> str:
    """One character per bucket, scaled to the highest burn (at least 1x); gaps are spaces."""
    known = [v for v in values if v is not None]
    top = max([1.0, *known])
    out = []
    for v in values:
        if v is None:
            out.append(" ")
        else:
            out.append(SPARK[min(len(SPARK) - 1, int(v / top * (len(SPARK) - 1) + 0.5))])
    return "".join(out)


def slo_status(
    slos: list[SLO], prometheus_url: str, *, at: float | None = None, timeout: float = 10.0
) -> StatusReport:
    at = time.time() if at is None else at
    instant: dict[str, dict[str, str]] = {}  # window -> expressions: one query per window
    spark: dict[str, str] = {}
    steps: dict[str, int] = {}
    for slo in slos:
        for w in (*SLI_WINDOWS, slo.window):
            instant.setdefault(w, {})[f"{slo.id}|{w}"] = slo.sli.error_ratio_query(w)
        step = max(60, slo.window_seconds // SPARK_BUCKETS)
        steps[slo.id] = step
        spark[slo.id] = slo.sli.error_ratio_query(promql_duration(step))
    with Prometheus(prometheus_url, timeout=timeout) as prom:
        values = batch_query(prom, list(instant.values()), at)
        # one range query per distinct step (SLOs sharing a window share it)
        history: dict[str, dict[float, float]] = {}
        for step in sorted(set(steps.values())):
            ids = [i for i, s in steps.items() if s == step]
            window = max(s.window_seconds for s in slos if s.id in ids)
            history |= batch_range(prom, {i: spark[i] for i in ids}, at - window + step, at, step)
        queries = prom.queries
    return StatusReport(
        prometheus=prometheus_url,
        at=iso_at(at),
        queries=queries,
        slos=[_one(slo, values, history.get(slo.id, {}), steps[slo.id], at) for slo in slos],
    )


def iso_at(at: float) -> str:
    from datetime import UTC, datetime

    return iso(datetime.fromtimestamp(at, UTC))


def _one(slo: SLO, values: dict, history: dict[float, float], step: int, at: float) -> SLOStatus:
    ratio = values[f"{slo.id}|{slo.window}"]
    burns = {w: _burn(values[f"{slo.id}|{w}"], slo.budget) for w in SLI_WINDOWS}
    firing = []
    for bw in BURN_WINDOWS:
        factor = bw.factor(slo.window_seconds)
        long, short = burns.get(bw.long), burns.get(bw.short)
        if long is not None and short is not None and long > factor and short > factor:
            firing.append(FiringAlert(severity=bw.severity, long=bw.long, short=bw.short, factor=factor))
    consumed = None if ratio is None else ratio / slo.budget
    remaining = None if consumed is None else 1 - consumed
    burn_now = burns.get("1h")
    if remaining is not None and remaining <= 0:
        exhaustion = 0.0
    elif remaining is None or not burn_now:
        exhaustion = None
    else:
        # at burn b the budget of the whole window goes in window/b
        exhaustion = remaining * slo.window_seconds / burn_now
    buckets = [at - slo.window_seconds + step * (n + 1) for n in range(slo.window_seconds // step)]
    burn_history = [_burn(_near(history, t), slo.budget) for t in buckets]
    return SLOStatus(
        id=slo.id,
        service=slo.service,
        name=slo.name,
        objective=slo.objective,
        window=slo.window,
        at=iso_at(at),
        sli=None if ratio is None else (1 - ratio) * 100,
        error_ratio=ratio,
        budget_consumed=consumed,
        budget_remaining=remaining,
        burn_rates=burns,
        alerts=firing,
        exhaustion_seconds=exhaustion,
        sparkline=sparkline(burn_history),
        burn_history=burn_history,
    )


def _near(history: dict[float, float], t: float) -> float | None:
    # range query timestamps are start + k*step, computed the same way: allow float noise
    for key in (t, round(t, 3)):
        if key in history:
            return history[key]
    return next((v for k, v in history.items() if abs(k - t) < 0.01), None)


def _pct(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value * 100:.{digits}f}%"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2g}" if value < 10 else f"{value:.0f}"


def human_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds <= 0:
        return "exhausted"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def summary_line(s: SLOStatus) -> str:
    """One line for the demo, incident triage and the gate's messages."""
    alerts = ",".join(sorted({a.severity for a in s.alerts})) or "none"
    left = human_seconds(s.exhaustion_seconds)
    return (
        f"{s.service}/{s.name}: SLI {'-' if s.sli is None else f'{s.sli:.3f}%'} (objective {s.objective:g}%), "
        f"budget {_pct(s.budget_consumed, 0)} spent over {s.window}, burn 1h {_num(s.burn_rates.get('1h'))}x, "
        f"alerts {alerts}, " + ("budget exhausted" if left == "exhausted" else f"exhausted in {left}")
    )


def render_table(report: StatusReport) -> str:
    head = ("SLO", "SLI", "OBJ", "BUDGET LEFT", "BURN 5m/1h/6h/3d", "ALERTS", "EXHAUSTS", "BURN OVER WINDOW")
    rows = []
    for s in report.slos:
        burns = "/".join(_num(s.burn_rates.get(w)) for w in ("5m", "1h", "6h", "3d"))
        alerts = ",".join(f"{a.severity}({a.long})" for a in s.alerts) or "-"
        rows.append(
            (
                f"{s.service}/{s.name}",
                "-" if s.sli is None else f"{s.sli:.3f}%",
                f"{s.objective:g}%",
                _pct(s.budget_remaining),
                burns,
                alerts,
                human_seconds(s.exhaustion_seconds),
                f"{s.window} {s.sparkline}",
            )
        )
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [head, *rows]
    ]
    lines.append(
        f"{len(report.slos)} SLO(s) at {report.at} from {report.prometheus} in {report.queries} queries"
    )
    return "\n".join(lines)


def service_burn(service: str | None, *, at: float | None = None) -> list[str]:
    """Summary lines of a service's SLOs for incident triage; [] when it has none.

    Never raises: triage must work with Prometheus down, and then says so.
    """
    from skill.errors import DevopsError
    from skill.slo.settings import slo_settings
    from skill.slo.spec import load_slos

    if not service:
        return []
    try:
        settings = slo_settings()
        slos = [s for s in (load_slos(settings["spec"]) if settings["spec"] else []) if s.service == service]
        if not slos:
            return []
        if not settings["prometheus_url"]:
            return ["error budget unknown: no Prometheus URL ([slo] prometheus_url)"]
        report = slo_status(slos, settings["prometheus_url"], at=at, timeout=settings["timeout"])
    except DevopsError as exc:
        return [f"error budget unknown: {exc}"]
    return [summary_line(s) for s in report.slos]


def budget_burnt(slo: SLO, *, error_ratio: float, weight: float, seconds: float) -> float:
    """Share of the SLO's whole-window budget spent by ``weight``% of traffic failing at
    ``error_ratio`` for ``seconds`` (traffic assumed even over the window, as the budget is)."""
    return error_ratio * (weight / 100) * (seconds / slo.window_seconds) / slo.budget
