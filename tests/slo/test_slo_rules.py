"""Generated rules: valid for promtool, windows and factors as in the SRE workbook, and
`promtool test rules` unit tests (generated here from the synthetic series) showing the burn
alerts fire for the fast burner and stay quiet for the steady service."""

from __future__ import annotations

import pytest
import yaml

from skill.slo import local_prometheus as lp
from skill.slo.local_prometheus import Phase, SyntheticService
from skill.slo.rules import BURN_WINDOWS, alert_name, render
from skill.slo.spec import load_slos

SPEC = """\
slos:
  - service: {name}
    name: availability
    objective: 99.9
    window: {window}
    sli:
      errors: sum(rate(http_requests_total{{service="{name}",code=~"5.."}}[{{{{.window}}}}]))
      total: sum(rate(http_requests_total{{service="{name}"}}[{{{{.window}}}}]))
    alerting:
      page_labels: {{routing: oncall}}
"""


@pytest.fixture
def promtool():
    if lp.binaries() is None:
        pytest.skip("prometheus/promtool not installed (apt-get install prometheus; `make test` installs it)")
    return lp.promtool


def _spec(tmp_path, *names: str, window: str = "30d"):
    path = tmp_path / "slo.yaml"
    path.write_text(
        "slos:\n" + "".join(SPEC.format(name=n, window=window).split("slos:\n", 1)[1] for n in names)
    )
    return load_slos(path)


def test_rule_file_passes_promtool_check(tmp_path, promtool):
    rules = tmp_path / "rules.yaml"
    rules.write_text(render(_spec(tmp_path, "checkout", "search")))
    done = promtool("check", "rules", str(rules))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 28 rules found" in done.stdout  # 2 x (7 SLI windows + page + ticket + 5 budget)


def test_a_broken_query_is_caught_by_promtool(tmp_path, promtool):
    slos = _spec(tmp_path, "checkout")
    broken = slos[0].model_copy(
        update={"sli": slos[0].sli.model_copy(update={"errors": "sum(rate(x[{{.window}}])"})}
    )
    rules = tmp_path / "rules.yaml"
    rules.write_text(render([broken]))
    assert promtool("check", "rules", str(rules)).returncode != 0


@pytest.mark.parametrize(("window", "page_1h"), [("30d", 14.4), ("28d", 13.44), ("7d", 3.36)])
def test_burn_factors_scale_with_the_slo_window(tmp_path, window, page_1h):
    (slo,) = _spec(tmp_path, "checkout", window=window)
    factors = {(w.long, w.short): w.factor(slo.window_seconds) for w in BURN_WINDOWS}
    assert factors[("1h", "5m")] == pytest.approx(page_1h)
    days = slo.window_seconds / 86400
    # the workbook's shares of the budget: 2% in 1h, 5% in 6h, 10% in 1d, 10% in 3d
    assert factors[("6h", "30m")] == pytest.approx(0.05 * days * 4)
    assert factors[("1d", "2h")] == pytest.approx(0.10 * days)
    assert factors[("3d", "6h")] == pytest.approx(0.10 * days / 3)
    alert = next(r for g in yaml.safe_load(render([slo]))["groups"] for r in g["rules"] if r.get("alert"))
    assert f"> {page_1h * 0.001:.10g}\n" in alert["expr"]


def _values(service: SyntheticService, which: str) -> str:
    """promtool's expanded notation for one counter of the service, one sample a minute."""
    segments, value = [], lp.COUNTER_OFFSET
    first = True
    for phase in service.phases:
        step = phase.errors if which == "errors" else phase.requests - phase.errors
        if first:
            segments.append(f"{value}+{step}x{phase.minutes}")
            value += step * phase.minutes
            first = False
        else:
            segments.append(f"{value + step}+{step}x{phase.minutes - 1}")
            value += step * phase.minutes
    return " ".join(segments)


def _series(service: SyntheticService) -> list[dict]:
    return [
        {
            "series": f'http_requests_total{{service="{service.name}",code="500"}}',
            "values": _values(service, "errors"),
        },
        {
            "series": f'http_requests_total{{service="{service.name}",code="200"}}',
            "values": _values(service, "ok"),
        },
    ]


def _expected_alert(rules: dict, slo, severity: str) -> dict:
    rule = next(
        r
        for g in rules["groups"]
        for r in g["rules"]
        if r.get("alert") and r["labels"]["severity"] == severity and r["labels"]["slo_id"] == slo.id
    )
    return {"exp_labels": rule["labels"], "exp_annotations": rule["annotations"]}


def test_promtool_unit_tests_fire_for_the_fast_burner_only(tmp_path, promtool):
    days = 4  # enough for the 3d ticket window; the 30d budget rules then see these 4 days
    services = {
        "steady": lp.steady("steady", days=days),
        "fast": lp.fast_burner("fast", days=days),
        "outage": lp.short_outage("outage", days=days),
    }
    slos = {s.service: s for s in _spec(tmp_path, *services)}
    rules_text = render(list(slos.values()))
    rules_path = tmp_path / "rules.yaml"
    rules_path.write_text(rules_text)
    rules = yaml.safe_load(rules_text)
    end = days * 1440
    outage_end = end - 45  # minutes; the outage ran from end-60 to end-45

    def alert_test(service: str, minute: int, severities: list[str]) -> dict:
        return {
            "eval_time": f"{minute}m",
            "alertname": alert_name(slos[service]),
            "exp_alerts": [_expected_alert(rules, slos[service], s) for s in severities],
        }

    unit = {
        "rule_files": [str(rules_path)],
        # rules every 5m over 4 days of 1m samples: 5x cheaper than every minute, same verdicts
        "evaluation_interval": "5m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [row for svc in services.values() for row in _series(svc)],
                "alert_rule_test": [
                    alert_test("fast", end, ["page", "ticket"]),
                    alert_test("steady", end, []),
                    # during the outage the page fires; 15 minutes after it, the 5m window has cleared it
                    alert_test("outage", outage_end - 5, ["page", "ticket"]),
                    alert_test("outage", end, ["ticket"]),
                ],
                "promql_expr_test": [
                    {
                        # promtool of this Prometheus compares exactly: 0.4999999999999999 is not 0.5
                        "expr": 'round(slo:error_budget:consumed_ratio{slo_service="steady"}, 0.0001)',
                        "eval_time": f"{end}m",
                        "exp_samples": [{"labels": _recorded_labels(slos["steady"]), "value": 0.5}],
                    }
                ],
            }
        ],
    }
    test_file = tmp_path / "slo-tests.yaml"
    test_file.write_text(yaml.safe_dump(unit, sort_keys=False))
    done = promtool("test", "rules", str(test_file), timeout=600)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert "SUCCESS" in done.stdout


def _recorded_labels(slo) -> str:
    labels = slo.rule_labels()
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def test_promtool_unit_test_fails_when_the_steady_service_is_said_to_page(tmp_path, promtool):
    # the unit tests above can fail: claim the steady service pages and promtool must object
    svc = SyntheticService("steady", [Phase(400, 2000, 1)])
    (slo,) = _spec(tmp_path, "steady")
    rules_text = render([slo])
    (tmp_path / "rules.yaml").write_text(rules_text)
    rules = yaml.safe_load(rules_text)
    unit = {
        "rule_files": [str(tmp_path / "rules.yaml")],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": _series(svc),
                "alert_rule_test": [
                    {
                        "eval_time": "400m",
                        "alertname": alert_name(slo),
                        "exp_alerts": [_expected_alert(rules, slo, "page")],
                    }
                ],
            }
        ],
    }
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(unit))
    assert promtool("test", "rules", str(tmp_path / "t.yaml")).returncode != 0
