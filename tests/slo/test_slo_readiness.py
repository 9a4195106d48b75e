"""Readiness: `repo.slo` needs SLOs and their burn-rate alerts; `repo.slo-alerts` names the SLOs without."""

from __future__ import annotations

from click.testing import CliRunner

from skill.cli import cli
from skill.nodes.readiness import review

SPEC = """\
slos:
  - service: checkout
    name: availability
    objective: 99.9
    sli:
      errors: sum(rate(http_requests_total{service="checkout",code=~"5.."}[{{.window}}]))
      total: sum(rate(http_requests_total{service="checkout"}[{{.window}}]))
  - service: search
    name: availability
    objective: 99.5
    sli:
      errors: sum(rate(http_requests_total{service="search",code=~"5.."}[{{.window}}]))
      total: sum(rate(http_requests_total{service="search"}[{{.window}}]))
"""


def _findings(root):
    rep = review(root)
    return {f.id: f for f in rep.checks if f.id in ("repo.slo", "repo.slo-alerts")}


def test_specs_without_rules_fail_then_generated_rules_pass(tmp_path):
    (tmp_path / ".devops").mkdir()
    (tmp_path / ".devops" / "slo.yaml").write_text(SPEC)
    before = _findings(tmp_path)
    assert before["repo.slo"].status == "fail" and before["repo.slo-alerts"].status == "fail"
    assert "checkout/availability, search/availability" in before["repo.slo-alerts"].message
    assert before["repo.slo-alerts"].file == ".devops/slo.yaml" and before["repo.slo-alerts"].line == 2

    (tmp_path / "monitoring").mkdir()
    out = tmp_path / "monitoring" / "slo-rules.yaml"
    done = CliRunner().invoke(
        cli, ["slo", "generate", "--spec", str(tmp_path), "--service", "checkout", "-o", str(out)]
    )
    assert done.exit_code == 0, done.output
    partial = _findings(tmp_path)
    assert partial["repo.slo-alerts"].status == "fail"
    assert "1 SLO(s) without burn-rate alerts: search/availability" in partial["repo.slo-alerts"].message

    done = CliRunner().invoke(cli, ["slo", "generate", "--spec", str(tmp_path), "-o", str(out)])
    assert done.exit_code == 0, done.output
    after = _findings(tmp_path)
    assert after["repo.slo"].status == "pass" and after["repo.slo-alerts"].status == "pass"
    assert after["repo.slo-alerts"].file == "monitoring/slo-rules.yaml"


def test_rules_written_by_sloth_or_named_in_the_spec_count(tmp_path):
    (tmp_path / "slo.yaml").write_text(
        'version: "prometheus/v1"\nservice: pay\nslos:\n  - name: avail\n    objective: 99.9\n'
        "    sli: {events: {error_query: 'a[{{.window}}]', total_query: 'b[{{.window}}]'}}\n"
        "    alerting: {name: PayDown}\n"
    )
    assert _findings(tmp_path)["repo.slo-alerts"].status == "fail"
    (tmp_path / "rules.yaml").write_text(
        "groups:\n  - name: x\n    rules:\n      - alert: PayDown\n        expr: vector(1)\n"
    )
    assert _findings(tmp_path)["repo.slo-alerts"].status == "pass"
    (tmp_path / "rules.yaml").write_text(
        "groups:\n  - name: x\n    rules:\n      - alert: Other\n        expr: vector(1)\n"
        "        labels: {sloth_id: pay-avail, sloth_service: pay, sloth_slo: avail}\n"
    )
    assert _findings(tmp_path)["repo.slo-alerts"].status == "pass"


def test_an_operator_generated_slo_needs_no_rule_file(tmp_path):
    (tmp_path / "pay.yaml").write_text(
        "apiVersion: sloth.slok.dev/v1\nkind: PrometheusServiceLevel\nmetadata: {name: pay}\n"
        "spec:\n  service: pay\n  slos:\n    - name: avail\n      objective: 99.9\n"
    )
    found = _findings(tmp_path)
    assert found["repo.slo"].status == "pass" and found["repo.slo-alerts"].status == "pass"


def test_documented_slo_with_budget_needs_burn_rate_alerts(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "slo.md").write_text("# SLO\nAvailability 99.9% over 30 days; error budget 0.1%.\n")
    found = _findings(tmp_path)
    assert found["repo.slo"].status == "fail" and "without burn-rate alerts" in found["repo.slo"].message
    assert found["repo.slo-alerts"].status == "fail"
    (tmp_path / "rules.yaml").write_text(
        "groups:\n  - name: x\n    rules:\n      - alert: Burn\n        expr: slo:sli_error:ratio_rate1h > 0.0144\n"
    )
    found = _findings(tmp_path)
    assert found["repo.slo"].status == "pass" and found["repo.slo-alerts"].status == "n/a"
