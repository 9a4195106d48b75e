"""SLO specs in three formats read into one model; bad specs are one-line errors."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from skill.cli import cli
from skill.errors import InputError
from skill.slo.spec import load_slos, parse_file

OWN = """\
service: checkout
window: 28d
slos:
  - name: availability
    objective: 99.9
    sli:
      errors: sum(rate(http_requests_total{service="checkout",code=~"5.."}[{{.window}}]))
      total: sum(rate(http_requests_total{service="checkout"}[{{.window}}]))
    labels: {team: payments}
    alerting:
      name: CheckoutAvailability
      page_labels: {severity: critical}
  - service: search
    name: latency
    objective: 99
    window: 30d
    sli:
      good: sum(rate(http_request_duration_seconds_bucket{service="search",le="0.3"}[{{ window }}]))
      total: sum(rate(http_request_duration_seconds_count{service="search"}[{{window}}]))
"""

SLOTH = """\
version: "prometheus/v1"
service: "myservice"
labels:
  owner: "myteam"
slos:
  - name: "requests-availability"
    objective: 99.9
    description: "Common SLO based on availability for HTTP request responses."
    sli:
      events:
        error_query: sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[{{.window}}]))
        total_query: sum(rate(http_request_duration_seconds_count{job="myservice"}[{{.window}}]))
    alerting:
      name: MyServiceHighErrorRate
      labels:
        category: "availability"
      annotations:
        summary: "High error rate on 'myservice' requests responses"
      page_alert:
        labels:
          severity: pageteam
          routing_key: myteam
      ticket_alert:
        labels:
          severity: "slack"
  - name: "raw-ratio"
    objective: 99.5
    sli:
      raw:
        error_ratio_query: |
          sum(rate(errors_total{job="myservice"}[{{.window}}])) / sum(rate(requests_total{job="myservice"}[{{.window}}]))
    alerting:
      page_alert: {disable: true}
      ticket_alert: {disable: true}
"""

SLOTH_K8S = """\
apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata:
  name: payments
spec:
  service: "payments"
  labels: {ownerTeam: core}
  slos:
    - name: "requests-availability"
      objective: 99.95
      sli:
        events:
          errorQuery: sum(rate(http_requests_total{job="payments",code=~"5.."}[{{.window}}]))
          totalQuery: sum(rate(http_requests_total{job="payments"}[{{.window}}]))
      alerting:
        name: PaymentsAvailability
        pageAlert:
          labels: {severity: critical}
"""

OPENSLO = """\
apiVersion: openslo/v1
kind: SLI
metadata:
  name: orders-good-ratio
spec:
  ratioMetric:
    counter: true
    good:
      metricSource:
        type: Prometheus
        spec:
          query: http_requests_total{service="orders",code!~"5.."}
    total:
      metricSource:
        type: Prometheus
        spec:
          query: http_requests_total{service="orders"}
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: orders-availability
  displayName: Orders availability
spec:
  service: orders
  indicatorRef: orders-good-ratio
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - displayName: good
      target: 0.995
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: orders-latency
spec:
  service: orders
  indicator:
    metadata: {name: inline}
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(slow_requests_total{service="orders"}[{{.window}}]))
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(requests_total{service="orders"}[{{.window}}]))
  timeWindow:
    - duration: 4w
      isRolling: true
  objectives:
    - targetPercent: 99
"""


def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_own_format_with_defaults_and_both_sli_shapes(tmp_path):
    checkout, search = parse_file(_write(tmp_path, "slo.yaml", OWN))
    assert (checkout.id, checkout.window, checkout.objective, checkout.budget) == (
        "checkout-availability",
        "28d",
        99.9,
        0.001,
    )
    assert checkout.labels == {"team": "payments"} and checkout.alerting.page_labels == {
        "severity": "critical"
    }
    assert "[1h]" in checkout.sli.error_ratio_query("1h") and "{{" not in checkout.sli.error_ratio_query("1h")
    assert search.window == "30d" and search.sli.error_ratio_query("5m").startswith("1 - ((")


def test_sloth_file_and_kubernetes_object(tmp_path):
    avail, raw = parse_file(_write(tmp_path, "sloth.yaml", SLOTH), window="28d")
    assert (avail.service, avail.name, avail.window) == ("myservice", "requests-availability", "28d")
    assert avail.labels == {"owner": "myteam"} and avail.alerting.name == "MyServiceHighErrorRate"
    assert avail.alerting.page_labels == {"severity": "pageteam", "routing_key": "myteam"}
    assert avail.alerting.ticket_labels == {"severity": "slack"} and avail.alerting.annotations["summary"]
    assert raw.sli.error_ratio and raw.alerting.disabled and raw.objective == 99.5
    (payments,) = parse_file(_write(tmp_path, "k8s/payments.yaml", SLOTH_K8S))
    assert payments.labels == {"ownerTeam": "core"} and payments.objective == 99.95
    assert payments.alerting.page_labels == {"severity": "critical"} and payments.window == "30d"


def test_openslo_slo_with_sli_reference_and_inline_indicator(tmp_path):
    avail, latency = parse_file(_write(tmp_path, "openslo.yaml", OPENSLO))
    assert (avail.service, avail.name, avail.objective, avail.window) == (
        "orders",
        "orders-availability",
        99.5,
        "28d",
    )
    # a bare counter selector becomes its rate over each window
    assert 'sum(rate(http_requests_total{service="orders",code!~"5.."}[6h]))' in avail.sli.error_ratio_query(
        "6h"
    )
    assert latency.window == "28d" and latency.objective == 99 and latency.sli.errors


def test_repository_discovery_finds_every_format_and_refuses_duplicates(tmp_path):
    _write(tmp_path, ".devops/slo.yaml", OWN)
    _write(tmp_path, "slo/sloth.yaml", SLOTH)
    _write(tmp_path, "deploy/openslo.yaml", OPENSLO)
    _write(tmp_path, "deploy/unrelated.yaml", "kind: ConfigMap\ndata: {a: prometheus/v1}\n")
    _write(tmp_path, "node_modules/x/slo.yaml", SLOTH.replace("myservice", "ignored"))
    ids = {s.id for s in load_slos(tmp_path)}
    assert ids == {
        "checkout-availability",
        "search-latency",
        "myservice-requests-availability",
        "myservice-raw-ratio",
        "orders-orders-availability",
        "orders-orders-latency",
    }
    _write(tmp_path, "other/again.yaml", SLOTH)
    with pytest.raises(InputError, match="also defined in"):
        load_slos(tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "slos: [{service: a, name: b, objective: 100, sli: {errors: 'x[{{.window}}]', total: 'y[{{.window}}]'}}]",
            "between 0 and 100",
        ),
        (
            "slos: [{service: a, name: b, objective: 99, sli: {errors: 'x[5m]', total: 'y[{{.window}}]'}}]",
            "placeholder",
        ),
        (
            "slos: [{service: a, name: b, objective: 99, sli: {total: 'y[{{.window}}]'}}]",
            "exactly one of errors or good",
        ),
        (
            "slos: [{service: a, name: b, objective: 99, window: 2h, sli: {error_ratio: 'x[{{.window}}]'}}]",
            "between 1d and 400d",
        ),
        (
            "slos: [{service: 'a b', name: b, objective: 99, sli: {error_ratio: 'x[{{.window}}]'}}]",
            "not a valid name",
        ),
        (
            "slos: [{service: a, name: b, objective: 99, colour: red, sli: {error_ratio: 'x[{{.window}}]'}}]",
            "colour",
        ),
        ("slos: {a: 1}", "must be a list"),
        ("slos: [\n  - {service: a\n", "not valid YAML"),
        ("kind: Deployment\n", "not an SLO spec"),
        ("- 1\n- 2\n", "expected a mapping"),
        (
            OPENSLO.replace("indicatorRef: orders-good-ratio", "indicatorRef: nope"),
            "indicator 'nope' not found",
        ),
        (
            OPENSLO.replace('query: http_requests_total{service="orders"}\n', "query: avg(x)\n", 1),
            "neither a counter",
        ),
        (SLOTH.replace("events:", "plugin:"), "only 'events' and 'raw'"),
    ],
)
def test_bad_specs_are_one_line_errors_naming_the_file(tmp_path, text, message):
    path = _write(tmp_path, "slo.yaml", text)
    with pytest.raises(InputError, match=message) as info:
        parse_file(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value).strip()
    result = CliRunner().invoke(cli, ["slo", "generate", "--spec", str(path)])
    assert result.exit_code == 2 and result.output.startswith("Error: ") and result.output.count("\n") == 1


def test_unknown_service_and_empty_repository(tmp_path):
    spec = _write(tmp_path, "slo.yaml", OWN)
    runner = CliRunner()
    missing = runner.invoke(cli, ["slo", "generate", "--spec", str(spec), "--service", "nope"])
    assert missing.exit_code == 2 and "services with SLOs: checkout, search" in missing.output
    empty = tmp_path / "empty"
    empty.mkdir()
    none = runner.invoke(cli, ["slo", "list", "--spec", str(empty)])
    assert none.exit_code == 2 and "no SLO specs found" in none.output
    listed = runner.invoke(cli, ["slo", "list", "--spec", str(spec)])
    assert listed.exit_code == 0 and "checkout/availability  99.9% over 28d" in listed.output
