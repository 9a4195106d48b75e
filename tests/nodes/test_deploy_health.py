"""Health gates and canary analysis against real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import pytest
from deploy_harness import harness

from skill.errors import ConfigError
from skill.nodes.deploy.analysis import run_analysis
from skill.nodes.deploy.health import check_health
from skill.nodes.deploy.models import HealthGate
from skill.nodes.deploy.settings import DEFAULT_METRICS


@pytest.fixture
def service(tmp_path):
    with harness.TargetService(tmp_path, "v1.0.0") as svc:
        yield svc


def _gate(svc, **kw):
    base = dict(url=f"{svc.url}/healthz", attempts=5, backoff_initial=0.01, backoff_max=0.05, jitter=0.005)
    return HealthGate(**{**base, **kw})


def test_health_retries_with_exponential_backoff_until_healthy(service):
    service.write_state(fail_first=2)
    waits = []
    result = check_health(_gate(service), sleep=waits.append)
    assert result.ok
    assert result.attempts == 3
    assert service.health_hits == 3  # the server saw exactly the attempts reported
    assert len(waits) == 2 and result.waits == pytest.approx(waits, abs=1e-3)
    # wait n = initial * 2**n + jitter in [0, 0.005]
    assert 0.01 <= waits[0] <= 0.015 + 1e-9
    assert 0.02 <= waits[1] <= 0.025 + 1e-9


def test_backoff_is_capped_at_max(service):
    service.write_state(bad_versions=["v1.0.0"])
    waits = []
    result = check_health(_gate(service, attempts=6, backoff_max=0.03), sleep=waits.append)
    assert not result.ok
    assert result.attempts == 6 and service.health_hits == 6
    assert len(waits) == 5 and max(waits) <= 0.03
    assert "503" in result.error


def test_version_mismatch_fails_the_gate(service):
    gate = _gate(service, attempts=2, expect_version="v2.0.0", version_url=f"{service.url}/version")
    result = check_health(gate, sleep=lambda s: None)
    assert not result.ok and result.version == "v1.0.0"
    assert "expected 'v2.0.0'" in result.error
    ok = check_health(gate.model_copy(update={"expect_version": "v1.0.0"}), sleep=lambda s: None)
    assert ok.ok and ok.version == "v1.0.0" and ok.attempts == 1


def test_unreachable_service_is_unhealthy_not_an_exception(tmp_path):
    with harness.TargetService(tmp_path, "v0.0.1") as svc:  # started and stopped: a port nobody listens on
        url = f"{svc.url}/healthz"
    result = check_health(
        HealthGate(url=url, attempts=2, timeout=0.5, backoff_initial=0.01, jitter=0), sleep=lambda s: None
    )
    assert not result.ok and result.attempts == 2 and result.status_code is None


@pytest.mark.parametrize(
    ("mode", "phase"),
    [("success", "successful"), ("failure", "failed"), ("nodata", "inconclusive"), ("error", "inconclusive")],
)
def test_canary_analysis_phases(mode, phase):
    with harness.FakePrometheus(mode) as prom:
        config = {"prometheus_url": prom.url, "count": 2, "interval": "0s", "metrics": DEFAULT_METRICS}
        result = run_analysis(config, service="api", env="production", version="v1.1.0", weight=10)
        assert result.phase == phase
        assert len(prom.queries) == 4  # 2 metrics x 2 measurements
        assert all('service="api"' in q for q in prom.queries)
    assert {m.name for m in result.metrics} == {"error-rate", "latency-p99"}


def test_failure_limit_tolerates_some_failed_measurements():
    with harness.FakePrometheus("failure") as prom:
        metric = {
            "name": "errors",
            "query": 'sum(rate(http_requests_total{service="{service}"}[1m]))',
            "max": 0.05,
        }
        strict = run_analysis(
            {"prometheus_url": prom.url, "count": 2, "interval": "0s", "metrics": [metric]}, service="api"
        )
        lenient = run_analysis(
            {
                "prometheus_url": prom.url,
                "count": 2,
                "interval": "0s",
                "failure_limit": 2,
                "metrics": [metric],
            },
            service="api",
        )
    assert strict.phase == "failed"
    # failures within the limit but nothing succeeded: not enough evidence either way
    assert lenient.phase == "inconclusive"


def test_analysis_without_prometheus_url_is_a_config_error():
    with pytest.raises(ConfigError):
        run_analysis({"metrics": DEFAULT_METRICS}, service="api")


def test_jitter_spreads_the_waits(service):
    # without jitter every wait would be exactly initial * 2**n; with it each lands in [that, that + jitter]
    service.write_state(bad_versions=["v1.0.0"])
    waits = []
    gate = _gate(service, attempts=6, backoff_initial=0.001, backoff_max=10.0, jitter=1.0)
    assert not check_health(gate, sleep=waits.append).ok
    extra = [w - 0.001 * 2**n for n, w in enumerate(waits)]
    assert len(extra) == 5 and all(-1e-9 <= e <= 1.0 + 1e-9 for e in extra)
    assert len({round(e, 6) for e in extra}) > 1 and max(extra) > 0.001


def test_a_service_that_never_answers_times_out_each_attempt():
    import socket

    with socket.socket() as listener:  # the kernel completes the handshake; nobody ever answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/healthz"
        gate = HealthGate(url=url, attempts=2, timeout=0.2, backoff_initial=0.01, jitter=0)
        result = check_health(gate, sleep=lambda s: None)
    assert not result.ok and result.attempts == 2
    assert "Timeout" in result.error


@pytest.mark.parametrize(
    ("expected", "reported", "same"),
    [
        ("v1.4.0", "v1.4.0", True),
        ("v1.4.0", "1.4.0", True),
        ("1.4.0", "v1.4.0", True),
        ("v1.4.0", "v1.4.1", False),
        ("v1.4.0", "1.4.0-rc.1", False),
        ("3f2a9c1", "3f2a9c1e5b7d4a1f00c2b3e4d5f60718293a4b5c", True),  # short SHA deployed, full reported
        ("3f2a9c1e5b7d4a1f00c2b3e4d5f60718293a4b5c", "3f2a9c1", True),
        ("3f2a9c1", "3f2a9c2e5b7d4a1f00c2b3e4d5f60718293a4b5c", False),
        ("sha256:" + "a" * 64, "ghcr.io/x/api@sha256:" + "a" * 64, True),
        ("sha256:" + "a" * 64, "sha256:" + "b" * 64, False),
        ("v1.4.0", None, False),
        ("v1.4.0", "", False),
    ],
)
def test_reported_versions_match_the_deployed_one_in_the_usual_spellings(expected, reported, same):
    from skill.nodes.deploy.health import same_version

    assert same_version(expected, reported) is same


def test_a_service_reporting_the_full_sha_passes_a_short_sha_deploy(service):
    full = "3f2a9c1e5b7d4a1f00c2b3e4d5f60718293a4b5c"
    service.write_state(version=full)
    gate = _gate(service, attempts=1, expect_version="3f2a9c1", version_url=f"{service.url}/version")
    result = check_health(gate, sleep=lambda s: None)
    assert result.ok and result.version == full
