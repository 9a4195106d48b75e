"""Prometheus rules for SLOs: SLI error ratios, error budget, multi-window multi-burn-rate alerts.

The alerts follow the SRE workbook (chapter 5, "Alerting on SLOs", the multiwindow,
multi-burn-rate variant). Each alert fires when both a long and a short window burn the budget
faster than a factor; the short window (1/12 of the long one) makes the alert stop soon after
the burn stops. The workbook states the factors for a 30-day SLO as a share of the budget spent
in the long window: 2% in 1h (14.4x), 5% in 6h (6x) page; 10% in 1d (3x), 10% in 3d (1x) open a
ticket. For another SLO window the same shares give the factor: share x SLO window / long window
(a 28d SLO pages at 13.44x over 1h).
"""

from __future__ import annotations

from typing import NamedTuple

import yaml

from skill.slo.models import SLO, promql_duration, window_seconds

SLI_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
SLI_METRIC = "slo:sli_error:ratio_rate{window}"
BUDGET_INTERVAL = "5m"


class BurnWindow(NamedTuple):
    severity: str  # page | ticket
    long: str
    short: str
    budget_share: float  # share of the whole budget spent in the long window

    def factor(self, slo_window_seconds: int) -> float:
        return self.budget_share * slo_window_seconds / window_seconds(self.long)


BURN_WINDOWS = (
    BurnWindow("page", "1h", "5m", 0.02),
    BurnWindow("page", "6h", "30m", 0.05),
    BurnWindow("ticket", "1d", "2h", 0.10),
    BurnWindow("ticket", "3d", "6h", 0.10),
)


def default_alert_name(service: str, name: str) -> str:
    words = f"{service} {name}".replace("-", " ").replace("_", " ").replace(".", " ").split()
    return "".join(w[:1].upper() + w[1:] for w in words) + "ErrorBudgetBurn"


def alert_name(slo: SLO) -> str:
    return slo.alerting.name or default_alert_name(slo.service, slo.name)


def _selector(slo: SLO) -> str:
    return f'{{slo_id="{slo.id}"}}'


def _fmt(value: float) -> str:
    return f"{value:.10g}"


def burn_condition(slo: SLO, window: BurnWindow) -> str:
    threshold = _fmt(window.factor(slo.window_seconds) * slo.budget)
    sel = _selector(slo)
    return (
        f"(\n  {SLI_METRIC.format(window=window.long)}{sel} > {threshold}\nand\n"
        f"  {SLI_METRIC.format(window=window.short)}{sel} > {threshold}\n)"
    )


def _alert(slo: SLO, severity: str) -> dict:
    windows = [w for w in BURN_WINDOWS if w.severity == severity]
    extra = slo.alerting.page_labels if severity == "page" else slo.alerting.ticket_labels
    described = ", ".join(f"{w.factor(slo.window_seconds):g}x over {w.long} and {w.short}" for w in windows)
    return {
        "alert": alert_name(slo),
        "expr": "\nor\n".join(burn_condition(slo, w) for w in windows) + "\n",
        "labels": {**slo.rule_labels(), **slo.alerting.labels, "severity": severity, **extra},
        "annotations": {
            "summary": f"{slo.service} {slo.name}: burning the {slo.window} error budget too fast",
            "description": (
                f"SLO {slo.objective:g}% over {slo.window}; {severity} when the error ratio is above "
                f"the budget times {described}."
            ),
            **slo.alerting.annotations,
        },
    }


def slo_groups(slo: SLO, *, budget_interval: str = BUDGET_INTERVAL) -> list[dict]:
    labels = slo.rule_labels()
    sli_rules = [
        {
            "record": SLI_METRIC.format(window=w),
            "expr": slo.sli.error_ratio_query(w) + "\n",
            "labels": labels,
        }
        for w in SLI_WINDOWS
    ]
    groups = [{"name": f"slo-{slo.id}-sli", "rules": sli_rules}]
    if not slo.alerting.disabled:
        groups[0]["rules"] += [_alert(slo, "page"), _alert(slo, "ticket")]
    period = SLI_METRIC.format(window=slo.window)
    sel = _selector(slo)
    budget_rules = [
        {"record": "slo:objective:ratio", "expr": f"vector({_fmt(slo.objective / 100)})", "labels": labels},
        {"record": "slo:error_budget:ratio", "expr": f"vector({_fmt(slo.budget)})", "labels": labels},
        # the period ratio over raw data (not an average of the 5m ratios) weights every event equally
        {"record": period, "expr": slo.sli.error_ratio_query(slo.window) + "\n", "labels": labels},
        {
            "record": "slo:error_budget:consumed_ratio",
            "expr": f"{period}{sel} / on(slo_id) group_left slo:error_budget:ratio{sel}",
            "labels": labels,
        },
        {
            "record": "slo:error_budget:remaining_ratio",
            "expr": f"1 - slo:error_budget:consumed_ratio{sel}",
            "labels": labels,
        },
    ]
    # a rate over the whole SLO window is the expensive query: evaluated every few minutes only
    groups.append({"name": f"slo-{slo.id}-budget", "interval": budget_interval, "rules": budget_rules})
    return groups


def rule_file(slos: list[SLO], *, budget_interval: str = BUDGET_INTERVAL) -> dict:
    promql_duration(window_seconds(budget_interval))  # validates it
    return {"groups": [g for slo in slos for g in slo_groups(slo, budget_interval=budget_interval)]}


class _Literal(str):
    pass


def _literal(dumper: yaml.Dumper, value: _Literal) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")


def _block_multiline(value):
    if isinstance(value, dict):
        return {k: _block_multiline(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_block_multiline(v) for v in value]
    if isinstance(value, str) and "\n" in value:
        return _Literal(value)
    return value


def render(slos: list[SLO], *, budget_interval: str = BUDGET_INTERVAL) -> str:
    """The rule file as YAML, multi-line expressions as readable block scalars."""
    dumper = type("RuleDumper", (yaml.SafeDumper,), {})
    dumper.add_representer(_Literal, _literal)
    header = "# Generated by `devops slo generate` from the SLO specs; regenerate instead of editing.\n"
    body = yaml.dump(
        _block_multiline(rule_file(slos, budget_interval=budget_interval)),
        Dumper=dumper,
        sort_keys=False,
        width=200,
        allow_unicode=True,
    )
    return header + body
