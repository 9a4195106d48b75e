"""SLO rules and status against a real Prometheus with backfilled history (tests/conftest.py).

Every number is checked against the ratio computed in tests/slo/expected.py from the same
synthetic samples, not against what another part of the code computed.
"""

from __future__ import annotations

import json
import socket
import time

import httpx
import pytest
import yaml
from click.testing import CliRunner

from skill.cli import cli
from skill.slo import local_prometheus as lp
from skill.slo.rules import BURN_WINDOWS, SLI_WINDOWS
from skill.slo.spec import load_slos
from skill.slo.status import slo_status
from slo.expected import error_ratio

SERVICES = {
    "steady": lp.steady("steady"),
    "fast": lp.fast_burner("fast"),
    "outage": lp.short_outage("outage"),
}
WINDOW = {
    "5m": 300,
    "30m": 1800,
    "1h": 3600,
    "2h": 7200,
    "6h": 21600,
    "1d": 86400,
    "3d": 259200,
    "30d": 2592000,
}


def _expected(name: str, window: str, server, at: float | None = None) -> float | None:
    return error_ratio(SERVICES[name], server.end, server.at if at is None else at, WINDOW[window])


def _wait(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.3)


def test_generated_rules_load_and_evaluate_without_errors(prometheus_server):
    url = prometheus_server.url
    generated = yaml.safe_load(prometheus_server.rules_file.read_text())

    def groups():
        data = httpx.get(f"{url}/api/v1/rules", timeout=5).json()["data"]["groups"]
        sli = [g for g in data if g["name"].endswith("-sli")]
        return data if sli and all(r["health"] == "ok" for g in sli for r in g["rules"]) else None

    loaded = _wait(groups)
    assert loaded, "the SLI rule groups were never evaluated"
    assert {g["name"] for g in loaded} == {g["name"] for g in generated["groups"]}
    assert all(r["health"] != "err" and not r.get("lastError") for g in loaded for r in g["rules"])
    # the recorded 1h ratio of the fast burner is the one the samples give (10% errors)
    value = httpx.get(
        f"{url}/api/v1/query", params={"query": 'slo:sli_error:ratio_rate1h{slo_service="fast"}'}, timeout=5
    ).json()["data"]["result"]
    assert len(value) == 1 and float(value[0]["value"][1]) == pytest.approx(0.1, rel=1e-9)


def _firing_expected(server, at: float) -> set[tuple[str, str]]:
    out = set()
    for name in SERVICES:
        for bw in BURN_WINDOWS:
            long, short = _expected(name, bw.long, server, at), _expected(name, bw.short, server, at)
            threshold = bw.factor(30 * 86400) * 0.001
            if long is not None and short is not None and long > threshold and short > threshold:
                out.add((name, bw.severity))
    return out


def test_burn_rate_alerts_fire_for_the_fast_burner_and_not_for_the_steady_service(prometheus_server):
    url = prometheus_server.url

    def firing():
        alerts = httpx.get(f"{url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
        return {
            (a["labels"]["slo_service"], a["labels"]["severity"]) for a in alerts if a["state"] == "firing"
        }

    seen = _wait(lambda: firing() if ("fast", "page") in firing() else None)
    expected = _firing_expected(prometheus_server, time.time())
    assert seen == expected
    assert {("fast", "page"), ("fast", "ticket")} <= seen
    assert not {s for s in seen if s[0] == "steady"}
    # the outage ended 15 minutes ago: the 5m window keeps the page quiet, the ticket stays open
    assert ("outage", "page") not in seen and ("outage", "ticket") in seen


def test_status_numbers_match_the_samples(prometheus_server):
    server = prometheus_server
    report = slo_status(load_slos(server.spec), server.url, at=server.at)
    assert (
        report.queries == 9
    )  # one instant query per window (8) for all 3 SLOs, one range query (sparklines)
    by_service = {s.service: s for s in report.slos}
    for name, status in by_service.items():
        period = _expected(name, "30d", server)
        assert status.error_ratio == pytest.approx(period, rel=1e-9)
        assert status.sli == pytest.approx((1 - period) * 100, rel=1e-12)
        assert status.budget_consumed == pytest.approx(period / 0.001, rel=1e-9)
        assert status.budget_remaining == pytest.approx(1 - period / 0.001, rel=1e-9)
        for window in SLI_WINDOWS:
            assert status.burn_rates[window] == pytest.approx(
                _expected(name, window, server) / 0.001, rel=1e-9
            )
    steady, fast, outage = by_service["steady"], by_service["fast"], by_service["outage"]
    assert steady.burn_rates["1h"] == pytest.approx(0.5) and steady.alerts == []
    assert steady.exhaustion_seconds == pytest.approx(
        steady.budget_remaining * 30 * 86400 / steady.burn_rates["1h"], rel=1e-9
    )
    assert fast.budget_consumed > 1 and fast.exhaustion_seconds == 0
    assert {(a.severity, a.long) for a in fast.alerts} == {
        ("page", "1h"),
        ("page", "6h"),
        ("ticket", "1d"),
        ("ticket", "3d"),
    }
    # a 15-minute full outage that ended 15 minutes ago: both tickets, no page (short windows quiet)
    assert {(a.severity, a.long) for a in outage.alerts} == {("ticket", "1d"), ("ticket", "3d")}
    for status in report.slos:
        fired = {(status.service, a.severity) for a in status.alerts}
        assert fired == {f for f in _firing_expected(server, server.at) if f[0] == status.service}
    assert 0 < outage.budget_remaining < steady.budget_remaining


def test_sparkline_buckets_are_the_burn_of_each_slice_of_the_window(prometheus_server):
    server = prometheus_server
    fast = next(
        s for s in slo_status(load_slos(server.spec), server.url, at=server.at).slos if s.service == "fast"
    )
    step = 30 * 86400 // 24
    assert len(fast.burn_history) == 24 == len(fast.sparkline)
    last = error_ratio(SERVICES["fast"], server.end, server.at, step)
    assert fast.burn_history[-1] == pytest.approx(last / 0.001, rel=1e-9)
    assert fast.sparkline[-1] == "█" and fast.sparkline[0] == "▁"


def test_status_command_json_and_table(prometheus_server):
    server = prometheus_server
    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(server.at))
    runner = CliRunner()
    args = ["slo", "status", "fast", "--spec", str(server.spec), "--prometheus", server.url, "--at", at]
    result = runner.invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    (fast,) = data["slos"]
    assert fast["service"] == "fast" and data["queries"] == 9
    assert fast["burn_rates"]["1h"] == pytest.approx(_expected("fast", "1h", server) / 0.001, rel=1e-9)
    table = runner.invoke(cli, args)
    assert table.exit_code == 0, table.output
    row = table.output.splitlines()[1]
    assert row.startswith("fast/availability") and "exhausted" in row and "page(1h)" in row
    assert "in 9 queries" in table.output


def test_no_traffic_is_no_data_not_zero(prometheus_server, tmp_path):
    server = prometheus_server
    spec = tmp_path / "slo.yaml"
    spec.write_text(server.spec.read_text().replace('"steady"', '"idle"').replace("steady", "idle"))
    idle = next(s for s in slo_status(load_slos(spec), server.url, at=server.at).slos if s.service == "idle")
    # the last 40 minutes had no requests at all: 0/0 is NaN in PromQL, reported as unknown
    assert idle.burn_rates["5m"] is None and idle.burn_rates["30m"] is None
    assert idle.burn_rates["1h"] == pytest.approx(0.5, rel=1e-9)
    assert idle.alerts == []


def test_unreachable_prometheus_is_a_one_line_error(prometheus_server, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = CliRunner().invoke(
        cli,
        ["slo", "status", "--spec", str(prometheus_server.spec), "--prometheus", f"http://127.0.0.1:{port}"],
    )
    assert result.exit_code == 5  # an operational failure, not a finding
    assert result.output.count("\n") == 1 and "unreachable" in result.output


# --- the error-budget policy of the gate -------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _policy(server, service: str, **kwargs):
    from skill.slo.policy import budget_policy

    defaults = {
        "environment": "production",
        "action": "deploy_production",
        "slos": load_slos(server.spec),
        "prometheus_url": server.url,
        "threshold": 1.0,
        "timeout": 5.0,
        "at": server.at,
    }
    return budget_policy(service, **{**defaults, **kwargs})


def test_exhausted_budget_raises_a_production_deploy_one_tier(prometheus_server):
    from skill.slo.policy import raise_tier

    spent = _expected("fast", "30d", prometheus_server) / 0.001
    verdict = _policy(prometheus_server, "fast")
    assert verdict.extra_tier == 1 and spent > 1
    assert verdict.reasons == [
        f"error budget exhausted: {spent * 100:.0f}% spent over 30d (fast/availability)"
    ]
    assert verdict.consumed["fast-availability"] == pytest.approx(spent, rel=1e-9)
    assert raise_tier(3, verdict) == 4 and raise_tier(4, verdict) == 4
    steady = _policy(prometheus_server, "steady")
    assert steady.extra_tier == 0 and steady.reasons == [] and raise_tier(3, steady) == 3


def test_rollbacks_other_environments_and_services_without_slo_are_left_alone(prometheus_server):
    rollback = _policy(prometheus_server, "fast", action="rollback")
    assert rollback.extra_tier == 0 and "exempt" in rollback.reasons[0]
    assert _policy(prometheus_server, "fast", rollback=True).extra_tier == 0
    assert _policy(prometheus_server, "fast", environment="staging").applies is False
    assert _policy(prometheus_server, "fast", action="feature_flag_toggle").applies is False
    unknown = _policy(prometheus_server, "billing")
    assert unknown.applies and unknown.extra_tier == 0 and unknown.reasons == []


def test_threshold_is_configurable_in_config_toml(prometheus_server, tmp_path, monkeypatch):
    from skill.slo.policy import budget_policy

    config = tmp_path / "devops-config"
    config.mkdir(exist_ok=True)
    (config / "config.toml").write_text(
        f'[slo]\nprometheus_url = "{prometheus_server.url}"\nspec = "{prometheus_server.spec}"\n'
        "exhausted_threshold = 0.4\n"
    )
    monkeypatch.setenv("DEVOPS_CONFIG_DIR", str(config))
    # steady has spent half its budget: exhausted at a 40% threshold, not at 100%
    steady = budget_policy("steady", environment="prod", action="deploy", at=prometheus_server.at)
    assert steady.extra_tier == 1 and steady.reasons[0].startswith(
        "error budget exhausted: 50% spent over 30d"
    )
    lenient = _policy(prometheus_server, "fast", threshold=5.0)
    assert lenient.extra_tier == 0 and lenient.reasons == []


def test_unreachable_prometheus_is_a_reason_never_a_lower_tier(prometheus_server):
    from skill.slo.policy import raise_tier

    verdict = _policy(prometheus_server, "fast", prometheus_url=f"http://127.0.0.1:{_closed_port()}")
    assert verdict.extra_tier == 0 and raise_tier(4, verdict) == 4
    assert len(verdict.reasons) == 1 and "error budget unknown" in verdict.reasons[0]
    assert "unreachable" in verdict.reasons[0]
    missing = _policy(prometheus_server, "fast", prometheus_url="")
    assert missing.extra_tier == 0 and "no Prometheus URL" in missing.reasons[0]


def _configure(tmp_path, monkeypatch, url: str, spec) -> None:
    config = tmp_path / "devops-config"
    config.mkdir(exist_ok=True)
    (config / "config.toml").write_text(f'[slo]\nprometheus_url = "{url}"\nspec = "{spec}"\n')
    monkeypatch.setenv("DEVOPS_CONFIG_DIR", str(config))


def test_incident_triage_shows_the_services_current_burn(prometheus_server, tmp_path, monkeypatch):
    from skill.nodes.incident.triage import render_triage, triage_incident

    _configure(tmp_path, monkeypatch, prometheus_server.url, prometheus_server.spec)
    rep = triage_incident("5xx errors on fast", "fast", "24h", str(tmp_path))
    (line,) = rep.error_budget
    spent = _expected("fast", "30d", prometheus_server) / 0.001
    assert line.startswith("fast/availability: SLI ") and f"budget {spent * 100:.0f}% spent over 30d" in line
    assert line.endswith("alerts page,ticket, budget exhausted")
    assert f"Error budget: {line}" in render_triage(rep)
    assert triage_incident("slow", "billing", "24h", str(tmp_path)).error_budget == []  # no SLO: nothing said

    _configure(tmp_path, monkeypatch, f"http://127.0.0.1:{_closed_port()}", prometheus_server.spec)
    down = triage_incident("5xx errors on fast", "fast", "24h", str(tmp_path))
    assert len(down.error_budget) == 1 and down.error_budget[0].startswith("error budget unknown: ")


def test_batches_split_into_chunks_and_keep_every_answer(prometheus_server):
    from skill.slo.prometheus import BATCH_SIZE, Prometheus, batch_query

    exprs = {f"e{i}": f"vector({i}) * 2" for i in range(BATCH_SIZE + 10)}
    exprs["empty"] = 'http_requests_total{service="nosuch"}'
    exprs["nan"] = "vector(0) / 0"
    with Prometheus(prometheus_server.url) as prom:
        values = batch_query(prom, [exprs, {"other": "vector(7)"}], prometheus_server.at)
        assert prom.queries == 3  # two chunks of the first group, one of the second: groups never mix
    assert all(values[f"e{i}"] == 2 * i for i in range(BATCH_SIZE + 10))
    assert values["empty"] is None and values["nan"] is None and values["other"] == 7


def test_the_gate_decision_goes_up_one_tier_and_never_down(prometheus_server, tmp_path, monkeypatch):
    from types import SimpleNamespace

    from skill.guardrails.engine import check_action
    from skill.slo.policy import apply_budget

    # a team policy that asks (T3) for production deploys, so the budget has a tier to add
    config = tmp_path / "devops-config"
    config.mkdir(exist_ok=True)
    (config / "policy.toml").write_text("[actions.deploy_production]\ntier = 3\nproduction_tier = 3\n")
    monkeypatch.setenv("DEVOPS_CONFIG_DIR", str(config))
    deploy = SimpleNamespace(kind="deploy", service="fast", environment="production")
    exhausted = _policy(prometheus_server, "fast")

    asked = check_action("deploy_production", target="fast", env="production")
    assert (asked.tier, asked.decision) == (3, "ask") and asked.request_id
    raised = apply_budget(asked, deploy, verdict=exhausted)
    assert (raised.tier, raised.decision, raised.approvable) == (4, "block", True)
    assert raised.request_id and exhausted.reasons[0] in raised.reasons
    assert "slo.error-budget-exhausted" in raised.rule_ids

    # steady budget: nothing changes, nothing is said
    calm = apply_budget(
        check_action("deploy_production", target="steady", env="production"),
        SimpleNamespace(kind="deploy", service="steady", environment="production"),
        verdict=_policy(prometheus_server, "steady"),
    )
    assert (calm.tier, calm.decision) == (3, "ask") and not any("budget" in r for r in calm.reasons)

    # Prometheus down: said, and the tier stays
    down = _policy(prometheus_server, "fast", prometheus_url=f"http://127.0.0.1:{_closed_port()}")
    kept = apply_budget(
        check_action("deploy_production", target="fast", env="production"), deploy, verdict=down
    )
    assert (kept.tier, kept.decision) == (3, "ask") and any("error budget unknown" in r for r in kept.reasons)

    # a rollback of the burning service keeps its tier, with the exemption said
    rollback = SimpleNamespace(kind="rollback", service="fast", environment="production")
    before = check_action("rollback", target="fast", env="production")
    tier = before.tier
    after = apply_budget(before, rollback, verdict=_policy(prometheus_server, "fast", action="rollback"))
    assert after.tier == tier and any("exempt" in r for r in after.reasons)


def test_apply_budget_reads_the_slo_settings(prometheus_server, tmp_path, monkeypatch):
    from types import SimpleNamespace

    from skill.guardrails.engine import check_action
    from skill.slo.policy import apply_budget

    _configure(tmp_path, monkeypatch, prometheus_server.url, prometheus_server.spec)
    decision = apply_budget(
        check_action("deploy_production", target="fast", env="production"),
        SimpleNamespace(kind="deploy", service="fast", environment="production"),
    )
    # the default policy blocks production deploys until approved (T4): the budget adds its reason
    assert decision.tier == 4 and any(r.startswith("error budget exhausted: ") for r in decision.reasons)


def test_the_change_pipeline_gate_applies_the_budget_policy(prometheus_server, tmp_path, monkeypatch):
    from skill.changes import Deploy, Rollback, gate

    _configure(tmp_path, monkeypatch, prometheus_server.url, prometheus_server.spec)
    (tmp_path / "devops-config" / "policy.toml").write_text(
        "[actions.deploy_production]\ntier = 3\nproduction_tier = 3\n"
    )
    burning = gate(Deploy(service="fast", environment="prod", version="v1.2.3"))
    assert (burning.tier, burning.decision) == (4, "block")
    assert any(r.startswith("error budget exhausted: ") for r in burning.reasons)
    from skill.guardrails.audit import read_audit

    # the audit shows the tier the caller acted on, not the one before the budget raised it
    audited = [r for r in read_audit() if r.get("request_id") == burning.request_id]
    assert audited and audited[-1]["tier"] == 4 and audited[-1]["decision"] == "block"
    steady = gate(Deploy(service="steady", environment="prod", version="v1.2.3"))
    assert (steady.tier, steady.decision) == (3, "ask")
    back = gate(Rollback(service="fast", environment="prod", to_version="v1.2.2"))
    assert any("exempt" in r for r in back.reasons) and "slo.error-budget-exhausted" not in back.rule_ids
