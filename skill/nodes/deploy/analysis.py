"""Canary analysis against a Prometheus-compatible HTTP API (``GET /api/v1/query``).

Semantics follow Argo Rollouts' AnalysisRun, with one deliberate difference:

* each metric is measured ``count`` times, ``interval`` apart; a measurement is
  ``successful`` (within its thresholds), ``failed`` (outside them), ``inconclusive``
  (no data: an empty vector or NaN) or ``error`` (the query itself failed);
* a metric is **failed** when its failed measurements exceed ``failure_limit`` (default 0:
  no failure tolerated); else **inconclusive** when its no-data/error measurements exceed
  ``inconclusive_limit`` or nothing succeeded; else **successful**;
* the run is failed if any metric failed, else inconclusive if any was, else successful.

Successful continues the rollout, failed rolls back, inconclusive pauses for a human. Argo
aborts on a metric in the Error phase; here a broken or silent metrics backend pauses instead,
because it says nothing about the new version (what users asked for in argo-rollouts#2866).
When several series come back, the worst one counts.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from skill.durations import parse_duration
from skill.errors import ConfigError, UsageError
from skill.nodes.deploy.health import http_client
from skill.nodes.deploy.models import AnalysisResult, Measurement, MetricResult
from skill.nodes.deploy.settings import fill


def _threshold(metric: dict[str, Any]) -> dict[str, float]:
    out = {}
    for key in ("max", "min"):
        if metric.get(key) is not None:
            try:
                out[key] = float(metric[key])
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"analysis metric {metric.get('name')!r}: {key} must be a number") from exc
    if not out:
        raise ConfigError(f"analysis metric {metric.get('name')!r} needs a max or a min threshold")
    return out


def query_prometheus(client, base_url: str, query: str) -> list[float]:
    """The values of an instant query; raises RuntimeError on any API or transport error."""
    import httpx

    try:
        response = client.get(base_url.rstrip("/") + "/api/v1/query", params={"query": query})
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise RuntimeError(f"{type(exc).__name__}: {exc}") from exc
    try:
        body = response.json()
    except ValueError as exc:
        raise RuntimeError(f"HTTP {response.status_code}: not JSON") from exc
    # a proxy, a wrong URL or a broken backend can answer any JSON at all: every shape below
    # is checked, and anything unexpected is a query error (the canary pauses), never a crash
    if not isinstance(body, dict):
        raise RuntimeError(f"HTTP {response.status_code}: not a Prometheus API answer")
    if response.status_code >= 400 or body.get("status") != "success":
        raise RuntimeError(
            f"HTTP {response.status_code}: {body.get('errorType', '')} {body.get('error', '')}".strip()
        )
    data = body.get("data")
    if not isinstance(data, dict):
        raise RuntimeError("malformed answer: data is not an object")
    kind, result = data.get("resultType"), data.get("result")
    if kind in ("vector", "matrix") and not isinstance(result, list | type(None)):
        raise RuntimeError(f"malformed {kind} result")
    values: list[float] = []
    if kind == "vector":
        samples = [item.get("value") if isinstance(item, dict) else None for item in result or []]
    elif kind == "scalar":
        samples = [result]
    elif kind == "matrix":
        series = [item.get("values") if isinstance(item, dict) else None for item in result or []]
        samples = [v[-1] if isinstance(v, list) and v else None for v in series]
    else:
        raise RuntimeError(f"unsupported resultType {kind!r}")
    for sample in samples:
        if not isinstance(sample, list | tuple) or len(sample) < 2:
            continue
        try:
            value = float(sample[1])
        except (TypeError, ValueError):
            continue
        if not math.isnan(value):
            values.append(value)
    return values


def _measure(client, base_url: str, name: str, query: str, threshold: dict[str, float]) -> Measurement:
    try:
        values = query_prometheus(client, base_url, query)
    except RuntimeError as exc:
        return Measurement(metric=name, value=None, phase="error", message=str(exc))
    if not values:
        return Measurement(metric=name, value=None, phase="inconclusive", message="no data")
    # the worst series decides: highest value against a max, lowest against a min
    worst_high, worst_low = max(values), min(values)
    if "max" in threshold and worst_high > threshold["max"]:
        return Measurement(
            metric=name, value=worst_high, phase="failed", message=f"{worst_high:g} > {threshold['max']:g}"
        )
    if "min" in threshold and worst_low < threshold["min"]:
        return Measurement(
            metric=name, value=worst_low, phase="failed", message=f"{worst_low:g} < {threshold['min']:g}"
        )
    value = worst_high if "max" in threshold else worst_low
    return Measurement(metric=name, value=value, phase="successful")


def _metric_phase(measurements: list[Measurement], failure_limit: int, inconclusive_limit: int) -> str:
    failed = sum(m.phase == "failed" for m in measurements)
    unknown = sum(m.phase in ("inconclusive", "error") for m in measurements)
    succeeded = sum(m.phase == "successful" for m in measurements)
    if failed > failure_limit:
        return "failed"
    if unknown > inconclusive_limit or succeeded == 0:
        return "inconclusive"
    return "successful"


def _prepare(config: dict[str, Any], *, service: str, env: str = "", version: str = "", weight=None):
    """The checked analysis settings and the filled queries; ConfigError for anything malformed."""
    base_url = str(config.get("prometheus_url") or "").strip()
    if not base_url:
        raise ConfigError("canary analysis needs [deploy.analysis] prometheus_url")
    metrics = config.get("metrics") or []
    if not metrics:
        raise ConfigError("canary analysis needs at least one [[deploy.analysis.metrics]] entry")
    try:
        count = max(1, int(config.get("count", 1)))
        interval = parse_duration(str(config.get("interval", "0s"))).total_seconds()
        failure_limit = int(config.get("failure_limit", 0))
        inconclusive_limit = int(config.get("inconclusive_limit", 0))
        timeout = float(config.get("timeout", 5.0))
    except (TypeError, ValueError, UsageError) as exc:
        raise ConfigError(f"[deploy.analysis]: {exc}") from exc
    values = {"service": service, "env": env, "version": version, "weight": "" if weight is None else weight}
    prepared = []
    for metric in metrics:
        if not isinstance(metric, dict):
            raise ConfigError(f"[[deploy.analysis.metrics]] entries are tables, got {metric!r}")
        name = str(metric.get("name") or "metric")
        if not metric.get("query"):
            raise ConfigError(f"analysis metric {name!r} has no query")
        prepared.append((name, fill(metric["query"], **values), _threshold(metric)))
    return base_url, count, interval, failure_limit, inconclusive_limit, timeout, prepared


def run_analysis(
    config: dict[str, Any],
    *,
    service: str,
    env: str = "",
    version: str = "",
    weight: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> AnalysisResult:
    """Measure every configured metric and decide successful / failed / inconclusive."""
    base_url, count, interval, failure_limit, inconclusive_limit, timeout, prepared = _prepare(
        config, service=service, env=env, version=version, weight=weight
    )

    measured: dict[str, list[Measurement]] = {name: [] for name, _, _ in prepared}

    with http_client(timeout) as client:
        for round_no in range(count):
            if round_no:
                sleep(interval)
            for name, query, threshold in prepared:
                measured[name].append(_measure(client, base_url, name, query, threshold))

    results = [
        MetricResult(
            name=name,
            query=query,
            threshold=threshold,
            measurements=measured[name],
            phase=_metric_phase(measured[name], failure_limit, inconclusive_limit),
        )
        for name, query, threshold in prepared
    ]
    phases = {r.phase for r in results}
    phase = "failed" if "failed" in phases else "inconclusive" if "inconclusive" in phases else "successful"
    detail = ", ".join(
        f"{r.name} {r.phase}"
        + (
            f" ({'; '.join(dict.fromkeys(m.message for m in r.measurements if m.message))})"
            if r.phase != "successful"
            else ""
        )
        for r in results
    )
    return AnalysisResult(phase=phase, metrics=results, message=f"analysis {phase}: {detail}")


def validate_analysis(config: dict[str, Any]) -> None:
    """ConfigError now, at plan time, rather than a paused canary once traffic has moved."""
    _prepare(config, service="service")
