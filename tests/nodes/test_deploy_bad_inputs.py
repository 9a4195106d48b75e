"""`devops deploy` on bad inputs: every case ends as a one-line error with its exit code, or as a
recorded failed/paused outcome, never a traceback and never a lost record."""

from __future__ import annotations

import json
import socket

import pytest
from click.testing import CliRunner
from deploy_harness import harness

from skill.cli import cli
from skill.errors import UsageError
from skill.memory import Memory
from skill.nodes.deploy import DeployRequest, execute_deploy, plan_deploy, rollback, run_analysis, set_flag
from skill.nodes.deploy.drivers import ScriptDriver

STAGING_CANARY = ["deploy", "-s", "api", "-e", "staging", "-v", "v1.1.0", "--strategy", "canary"]

deploy_env = harness.deploy_env  # the fixture


def _devops(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output
    return result


def _deployments(env="staging"):
    with Memory.open() as mem:
        return [(d.version, d.status, d.rolled_back_from) for d in mem.deployments(service="api", env=env)]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


GARBAGE = [
    "[1, 2, 3]",
    '"just a string"',
    "<html>502 Bad Gateway</html>",
    '{"status": "success", "data": [1]}',
    '{"status": "success", "data": {"resultType": "vector", "result": {"a": 1}}}',
    '{"status": "success", "data": {"resultType": "vector", "result": [{"value": {"a": 1}}]}}',
    '{"status": "success", "data": {"resultType": "vector", "result": [7, null]}}',
    '{"status": "success", "data": {"resultType": "matrix", "result": [{"values": {"a": 1}}]}}',
    '{"status": "success", "data": {"resultType": "string", "result": [1, "x"]}}',
]


@pytest.mark.parametrize("body", GARBAGE)
def test_garbage_from_prometheus_is_an_inconclusive_analysis(body):
    with harness.FakePrometheus("raw") as prom:
        prom.raw = body
        metric = {"name": "errors", "query": "up", "max": 0.05}
        config = {"prometheus_url": prom.url, "count": 1, "interval": "0s", "metrics": [metric]}
        result = run_analysis(config, service="api")
    assert prom.queries == ["up"]
    assert result.phase == "inconclusive"
    assert result.metrics[0].measurements[0].phase in ("error", "inconclusive")


def test_canary_against_a_garbage_prometheus_pauses_and_is_recorded(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"))
    deploy_env.prometheus.mode, deploy_env.prometheus.raw = "raw", "[1, 2, 3]"
    r = _devops(*STAGING_CANARY, "--steps", "10,100", "--json")
    assert r.exit_code == 1
    out = json.loads(r.stdout)
    assert out["status"] == "paused" and out["steps"][0]["status"] == "paused"
    assert deploy_env.service.state()["canary"] == "v1.1.0"  # left where it paused, not rolled back
    assert _deployments()[0][:2] == ("v1.1.0", "in_progress")


def test_canary_against_a_prometheus_that_is_down_pauses_and_is_recorded(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"))
    # FakePrometheus is replaced by a closed port in the analysis settings
    path = deploy_env.configure()
    text = path.read_text().replace(deploy_env.prometheus.url, f"http://127.0.0.1:{_closed_port()}")
    path.write_text(text)
    r = _devops(*STAGING_CANARY, "--steps", "10,100")
    assert r.exit_code == 1
    assert "PAUSED" in r.stdout and "ConnectError" in r.stdout
    assert _deployments()[0][:2] == ("v1.1.0", "in_progress")


def test_health_endpoint_down_fails_and_records_deploy_and_failed_rollback(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"))
    deploy_env.configure(health_url=f"http://127.0.0.1:{_closed_port()}/healthz", health_attempts=2)
    r = _devops("deploy", "-s", "api", "-e", "staging", "-v", "v1.1.0", "--json")
    assert r.exit_code == 1
    out = json.loads(r.stdout)
    assert out["steps"][0]["health"]["ok"] is False and out["steps"][0]["health"]["attempts"] == 2
    # the rollback command ran, but its health check could not pass either: reported as failed
    assert out["status"] == "failed" and out["rollback"]["status"] == "failed"
    assert [c["action"] for c in deploy_env.service.driver_calls()] == ["deploy", "rollback"]
    assert _deployments()[0][:2] == ("v1.1.0", "failed")
    assert out["rollback"]["deployment_id"].startswith("mem-")  # the failed rollback, as a note


@pytest.mark.parametrize("failure", ["hang", "crash"])
def test_a_hanging_or_crashing_driver_script_is_a_recorded_rollback(deploy_env, failure):
    deploy_env.seed(("v1.0.0", "succeeded"))
    deploy_env.configure(timeout="1s")
    key = "slow_versions" if failure == "hang" else "driver_fails"
    deploy_env.service.write_state(**{key: ["v1.1.0"]})
    r = _devops("deploy", "-s", "api", "-e", "staging", "-v", "v1.1.0")
    assert r.exit_code == 1
    assert ("timed out after 1s" if failure == "hang" else "cannot deploy v1.1.0") in r.stdout
    assert "ROLLED_BACK" in r.stdout
    assert deploy_env.service.state()["version"] == "v1.0.0"
    assert _deployments()[:2] == [("v1.0.0", "succeeded", "v1.1.0"), ("v1.1.0", "rolled_back", None)]


@pytest.mark.parametrize(
    "setting,value,message",
    [
        ("health_attempts", "many", "health_attempts = 'many' is not a number"),
        ("health_attempts", 0, "health_attempts = 0 must be at least 1"),
        ("health_url", "http://[::1/healthz", "health_url = 'http://[::1/healthz'"),
        ("health_url", "localhost:8080/healthz", "is not an http(s) URL"),
        ("timeout", "forever", "invalid duration 'forever'"),
    ],
)
def test_bad_settings_are_a_one_line_error_before_anything_runs(deploy_env, setting, value, message):
    deploy_env.seed(("v1.0.0", "succeeded"))
    deploy_env.configure(**{setting: value})
    r = _devops("deploy", "-s", "api", "-e", "staging", "-v", "v1.1.0")
    assert r.exit_code == 2
    assert r.stderr.startswith("Error: ") and message in r.stderr and len(r.stderr.splitlines()) == 1
    assert deploy_env.service.driver_calls() == []
    assert _deployments() == [("v1.0.0", "succeeded", None)]


def test_non_http_prometheus_url_is_refused_at_plan_time(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"))
    path = deploy_env.configure()
    path.write_text(path.read_text().replace(deploy_env.prometheus.url, "prometheus:9090"))
    r = _devops(*STAGING_CANARY, "--steps", "10,100")
    assert r.exit_code == 2 and "prometheus_url" in r.stderr
    assert deploy_env.service.driver_calls() == []


def test_unknown_environment_is_a_usage_error_unless_configured(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"))
    for args in (
        ["deploy", "-s", "api", "-e", "eu-central", "-v", "v1.1.0", "--rollback-to", "v1.0.0"],
        ["deploy", "-s", "api", "-e", "nowhere", "--rollback", "--rollback-to", "v1.0.0"],
    ):
        r = _devops(*args)
        assert r.exit_code == 2 and "unknown environment" in r.stderr, r.output
        assert "approval" not in r.stderr  # refused before the gate opened a request
    assert deploy_env.service.driver_calls() == []
    with pytest.raises(UsageError, match="unknown environment"):
        plan_deploy(DeployRequest(service="api", env="nowhere", version="v1.1.0", rollback_to="v1.0.0"))

    # a team's own environment name is fine once config.toml defines it
    path = deploy_env.configure()
    path.write_text(path.read_text() + '[deploy.env.eu-edge]\nnamespace = "edge"\n')
    plan = plan_deploy(DeployRequest(service="api", env="eu-edge", version="v1.1.0", rollback_to="v1.0.0"))
    assert plan.environment == "eu-edge" and plan.gate_action == "deploy"


def test_manual_rollback_right_after_an_automatic_one_does_not_mark_the_good_version_bad(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"))
    deploy_env.service.write_state(bad_versions=["v1.1.0"])
    with Memory.open() as mem:
        plan = plan_deploy(DeployRequest(service="api", env="production", version="v1.1.0"), memory=mem)
        assert execute_deploy(plan, memory=mem, sleep=lambda s: None).status == "rolled_back"
        calls = len(deploy_env.service.driver_calls())
        # live is v1.0.0, the only good version: there is nothing older to go back to
        with pytest.raises(UsageError, match="already runs v1.0.0"):
            rollback("api", "production", memory=mem, sleep=lambda s: None)
        with pytest.raises(UsageError, match="already runs v1.0.0"):
            rollback("api", "production", "v1.0.0", memory=mem, sleep=lambda s: None)
        assert len(deploy_env.service.driver_calls()) == calls
        assert mem.last_good_version("api", "production") == "v1.0.0"
        # the next deploy still has its rollback plan
        again = plan_deploy(DeployRequest(service="api", env="production", version="v1.2.0"), memory=mem)
        assert again.rollback is not None and again.rollback.version == "v1.0.0"


def test_manual_rollback_after_an_automatic_one_goes_to_the_version_before_it(deploy_env):
    deploy_env.seed(("v0.9.0", "succeeded"), ("v1.0.0", "succeeded"))
    deploy_env.service.write_state(bad_versions=["v1.1.0"])
    with Memory.open() as mem:
        plan = plan_deploy(DeployRequest(service="api", env="production", version="v1.1.0"), memory=mem)
        assert execute_deploy(plan, memory=mem, sleep=lambda s: None).status == "rolled_back"
        result = rollback("api", "production", memory=mem, sleep=lambda s: None)
    assert result.status == "succeeded" and result.version == "v0.9.0"
    assert deploy_env.service.state()["version"] == "v0.9.0"


class _BrokenDriver(ScriptDriver):
    """A driver with a bug: an unexpected exception in the middle of a canary."""

    def apply(self, action, version, **kw):
        if action == "canary" and kw.get("weight") == 50:
            raise KeyError("replicas")
        return super().apply(action, version, **kw)


def test_an_unexpected_error_in_a_step_still_rolls_back_and_records(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"))
    with Memory.open() as mem:
        plan = plan_deploy(
            DeployRequest(
                service="api", env="staging", version="v1.1.0", strategy="canary", steps=[10, 50, 100]
            ),
            memory=mem,
        )
        drv = _BrokenDriver(
            plan.settings, service="api", env="staging", environment="staging", strategy="canary"
        )
        result = execute_deploy(plan, memory=mem, driver=drv, sleep=lambda s: None)
    assert result.status == "rolled_back"
    assert [s.status for s in result.steps] == ["succeeded", "failed", "skipped"]
    assert "internal error: KeyError" in result.steps[1].detail
    assert deploy_env.service.state()["version"] == "v1.0.0" and not deploy_env.service.state()["canary"]
    assert _deployments()[:2] == [("v1.0.0", "succeeded", "v1.1.0"), ("v1.1.0", "rolled_back", None)]


def test_flag_in_an_unknown_environment_is_a_usage_error(deploy_env):
    r = _devops("flag", "set", "new-checkout", "on", "--env", "nowhere")
    assert r.exit_code == 2 and r.stderr.startswith("Error: unknown environment 'nowhere'")
    assert "approval" not in r.stderr
    assert _devops("flag", "list", "--json").stdout.strip() == "[]"
    with pytest.raises(UsageError, match="unknown environment"):
        set_flag("new-checkout", "on", "nowhere")


def test_an_unusable_data_dir_is_a_one_line_error(deploy_env, tmp_path, monkeypatch):
    home = tmp_path / "home-is-a-file"
    home.write_text("not a folder")
    monkeypatch.setenv("DEVOPS_HOME", str(home))
    deploy = _devops("deploy", "-s", "api", "-e", "dev", "-v", "v1.1.0", "--rollback-to", "v1.0.0")
    flag = _devops("flag", "set", "new-checkout", "on", "--env", "dev")
    for r in (deploy, flag):
        # (the gate may warn first that its audit log is unavailable too)
        assert r.exit_code != 0 and r.stderr.strip().splitlines()[-1].startswith("Error: cannot "), r.output
    assert deploy_env.service.driver_calls() == []


def test_a_downgrade_rolls_back_to_the_live_version_not_to_an_older_one(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"), ("v1.1.0", "succeeded"), ("v1.2.0", "succeeded"))
    deploy_env.service.write_state(version="v1.2.0")
    with Memory.open() as mem:
        down = plan_deploy(DeployRequest(service="api", env="production", version="v1.1.0"), memory=mem)
        assert down.rollback.version == "v1.2.0"  # what runs now, not what preceded v1.1.0
        again = plan_deploy(DeployRequest(service="api", env="production", version="v1.2.0"), memory=mem)
        assert again.rollback.version == "v1.1.0"  # re-deploying the live one: the one before it
        new = plan_deploy(DeployRequest(service="api", env="production", version="v1.3.0"), memory=mem)
        assert new.rollback.version == "v1.2.0"


@pytest.mark.parametrize("service", ["api;rm -rf /", "my api", "-api", "api/../x", "'api'", ""])
def test_invalid_service_names_are_refused_before_anything(deploy_env, service):
    deploy_env.seed(("v1.0.0", "succeeded"))
    for args in (
        ["deploy", "-s", service, "-e", "staging", "-v", "v1.1.0", "--dry-run"],
        ["deploy", "-s", service, "-e", "staging", "--rollback", "--rollback-to", "v1.0.0"],
    ):
        r = _devops(*args)
        assert r.exit_code == 2 and ("invalid service name" in r.stderr or "no service" in r.stderr), r.output
    assert deploy_env.service.driver_calls() == []


def test_versions_and_names_are_stripped_and_rollback_takes_no_steps(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"))
    r = _devops("deploy", "-s", " api ", "-e", "staging", "-v", " v1.1.0 ", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["version"] == "v1.1.0"
    assert deploy_env.service.driver_calls()[-1]["version"] == "v1.1.0"
    bad = _devops("deploy", "-s", "api", "-e", "staging", "--rollback", "--steps", "10,100")
    assert bad.exit_code == 2 and "--steps does not apply to --rollback" in bad.stderr


def test_rollback_dry_run_resolves_the_versions_and_changes_nothing(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"), ("v1.1.0", "succeeded"))
    deploy_env.service.write_state(version="v1.1.0")
    r = _devops("deploy", "-s", "api", "-e", "prod", "--rollback", "--dry-run", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert (out["status"], out["from_version"], out["to_version"]) == ("planned", "v1.1.0", "v1.0.0")
    assert out["commands"] and "VERSION=v1.0.0" in out["commands"][0]
    text = _devops("deploy", "-s", "api", "-e", "prod", "--rollback", "--dry-run")
    assert "would roll api in production back from v1.1.0 to v1.0.0" in text.stdout
    # nothing ran, nothing was recorded, and a dry run needs no approval
    assert deploy_env.service.driver_calls() == []
    assert _deployments("production")[0] == ("v1.1.0", "succeeded", None)
    # a dry run reports the same refusals as the real thing
    nothing = _devops(
        "deploy", "-s", "api", "-e", "prod", "--rollback", "--rollback-to", "v1.1.0", "--dry-run"
    )
    assert nothing.exit_code == 2 and "already runs v1.1.0" in nothing.stderr


def test_sigterm_during_a_step_rolls_back_and_records(deploy_env):
    # a cancelled CI job sends SIGTERM: the deploy must not die without a record
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    deploy_env.seed(("v1.0.0", "succeeded"))
    deploy_env.service.write_state(slow_versions=["v1.1.0"])  # the driver sleeps 5 s on v1.1.0
    proc = subprocess.Popen(
        [sys.executable, "-m", "skill.cli", "deploy", "-s", "api", "-e", "staging", "-v", "v1.1.0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
        cwd=str(Path(__file__).resolve().parents[2]),
    )
    deadline = time.monotonic() + 30
    while not deploy_env.service.driver_calls() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert deploy_env.service.driver_calls(), "the deploy step never started"
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert "terminated (SIGTERM)" in out and "ROLLED_BACK" in out and "Traceback" not in err
    assert [c["action"] for c in deploy_env.service.driver_calls()] == ["deploy", "rollback"]
    assert _deployments()[:2] == [("v1.0.0", "succeeded", "v1.1.0"), ("v1.1.0", "rolled_back", None)]


@pytest.mark.parametrize(
    "extra,message",
    [
        ('[[deploy.analysis.metrics]]\nname = "errors"\nquery = "up"\n', "needs a max or a min threshold"),
        ('[[deploy.analysis.metrics]]\nname = "errors"\nmax = 0.1\n', "has no query"),
        ('[[deploy.analysis.metrics]]\nname = "errors"\nquery = "up"\nmax = "low"\n', "max must be a number"),
    ],
)
def test_a_broken_analysis_config_fails_at_plan_time_not_mid_canary(deploy_env, extra, message):
    deploy_env.seed(("v1.0.0", "succeeded"))
    path = deploy_env.configure()
    path.write_text(path.read_text() + extra)
    r = _devops(*STAGING_CANARY, "--steps", "10,100")
    assert r.exit_code == 2 and message in r.stderr, r.output
    assert deploy_env.service.driver_calls() == []  # no traffic moved before the error


def test_a_failed_manual_rollback_keeps_credentials_out_of_the_result_and_memory(deploy_env):
    import io

    deploy_env.seed(("v1.0.0", "succeeded"), ("v1.1.0", "succeeded"))
    deploy_env.service.write_state(version="v1.1.0", bad_versions=["v1.0.0"])
    url = deploy_env.service.url.replace("http://", "http://admin:s3cretpass@")
    deploy_env.configure(health_url=f"{url}/healthz", health_attempts=1)
    with Memory.open() as mem:
        result = rollback("api", "production", memory=mem, sleep=lambda s: None)
        note = mem.get(result.deployment_id)
        dump = io.StringIO()
        mem.export_jsonl(dump)
    assert result.status == "failed" and "503" in result.message
    assert note.kind == "note" and "FAILED" in note.text
    assert "s3cretpass" not in result.model_dump_json() and "s3cretpass" not in dump.getvalue()


def test_sigterm_during_a_manual_rollback_is_recorded_as_failed(deploy_env):
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    deploy_env.seed(("v1.0.0", "succeeded"), ("v1.1.0", "succeeded"))
    deploy_env.service.write_state(version="v1.1.0", slow_versions=["v1.0.0"])  # the rollback hangs
    proc = subprocess.Popen(
        [sys.executable, "-m", "skill.cli", "deploy", "-s", "api", "-e", "staging", "--rollback", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
        cwd=str(Path(__file__).resolve().parents[2]),
    )
    deadline = time.monotonic() + 30
    while not deploy_env.service.driver_calls() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert deploy_env.service.driver_calls(), "the rollback never started"
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    result = json.loads(out)
    assert result["status"] == "failed" and "terminated (SIGTERM)" in result["rollback"]["detail"]
    with Memory.open() as mem:
        note = mem.get(result["deployment_id"])
    assert "FAILED" in note.text and "SIGTERM" in note.text
    # a failed rollback says nothing bad about v1.0.0: it stays the last good version
    assert _deployments()[0][:2] == ("v1.1.0", "succeeded")
