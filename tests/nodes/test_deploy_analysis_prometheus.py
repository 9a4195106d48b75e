"""Canary analysis against a real Prometheus (tests/conftest.py's ``prometheus_server``), where the
query semantics matter: rate windows, empty results, NaN, and the server's own query errors.

The stand-in server of deploy_harness still covers what a real server cannot be made to do
(HTML from a proxy, malformed JSON); these cover what a stand-in can only imitate.
"""

from __future__ import annotations

import pytest
from deploy_harness import harness

from skill.memory import Memory
from skill.nodes.deploy import DeployRequest, execute_deploy, plan_deploy, run_analysis

deploy_env = harness.deploy_env  # the fixture

ERROR_RATE = (
    'sum(rate(http_requests_total{service="{service}",code=~"5.."}[{window}]))'
    ' / sum(rate(http_requests_total{service="{service}"}[{window}]))'
)


def _analysis(url: str, service: str, window: str = "5m", query: str | None = None, count: int = 2):
    metric = {"name": "error-rate", "query": query or ERROR_RATE.replace("{window}", window), "max": 0.05}
    config = {"prometheus_url": url, "count": count, "interval": "0s", "metrics": [metric]}
    return run_analysis(config, service=service, env="production", version="v1.1.0", weight=10)


@pytest.mark.parametrize(
    ("service", "window", "phase", "message"),
    [
        ("steady", "5m", "successful", None),  # 0.05% errors
        ("fast", "5m", "failed", "0.1 > 0.05"),  # 10% errors in the last two hours
        ("nosuch", "5m", "inconclusive", "no data"),  # no series: an empty vector
        ("idle", "5m", "inconclusive", "no data"),  # no requests: 0/0 is NaN
        ("fast", "30s", "inconclusive", "no data"),  # one sample a minute: a 30s rate has fewer than two
    ],
)
def test_query_semantics_of_a_real_server(prometheus_server, service, window, phase, message):
    result = _analysis(prometheus_server.url, service, window)
    assert result.phase == phase, result.message
    measurements = result.metrics[0].measurements
    assert len(measurements) == 2
    if message:
        assert all(message in (m.message or "") for m in measurements)
    if service == "steady":
        assert measurements[0].value == pytest.approx(0.0005, rel=1e-9)


def test_a_query_the_server_rejects_is_an_error_measurement_and_pauses(prometheus_server):
    result = _analysis(
        prometheus_server.url, "fast", query='sum(rate(http_requests_total{service="{service}"}[5m])'
    )
    assert result.phase == "inconclusive"
    m = result.metrics[0].measurements[0]
    assert m.phase == "error" and "bad_data" in m.message and "parse error" in m.message


def test_canary_of_a_burning_service_is_rolled_back_against_the_real_server(prometheus_server, deploy_env):
    config = harness.write_config(deploy_env.config_dir, deploy_env.service)  # no stand-in analysis
    config.write_text(
        config.read_text()
        + f'\n[deploy.analysis]\nprometheus_url = "{prometheus_server.url}"\ncount = 1\ninterval = "0s"\n'
        + '[[deploy.analysis.metrics]]\nname = "error-rate"\n'
        + f"query = '{ERROR_RATE.replace('{window}', '5m')}'\nmax = 0.05\n"
    )
    with Memory.open() as mem:
        mem.record_deployment("fast", "production", "v1.0.0", status="succeeded", strategy="rolling")
        plan = plan_deploy(
            DeployRequest(
                service="fast", env="production", version="v1.1.0", strategy="canary", steps=[10, 100]
            ),
            memory=mem,
        )
        result = execute_deploy(plan, memory=mem, sleep=lambda s: None)
    assert result.status == "rolled_back", result.message
    analysis = result.steps[0].analysis
    assert analysis.phase == "failed" and analysis.metrics[0].measurements[0].value == pytest.approx(
        0.1, rel=1e-9
    )
    assert result.rollback.version == "v1.0.0" and deploy_env.service.state()["version"] == "v1.0.0"
