"""`devops deploy` and `devops flag`: plan first, then the safety gate, then the driver."""

from __future__ import annotations

import json

from click.testing import CliRunner
from deploy_harness import harness

from skill.cli import cli
from skill.memory import Memory

deploy_env = harness.deploy_env  # the fixture


def _devops(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _approve(request_id: str) -> None:
    # What `guardrails.py approve ID --by NAME` does once a human confirmed at the terminal.
    from skill.guardrails import approvals

    approvals.approve(request_id, by="alice", ttl_seconds=600, authorize=lambda pending: "test")


def test_production_deploy_without_approval_exits_3_and_runs_nothing(deploy_env, run):
    deploy_env.seed(("v1.0.0", "succeeded"))
    proc = run("-m", "skill.cli", "deploy", "--service", "api", "--env", "prod", "--version", "v1.1.0")
    assert proc.returncode == 3, proc.stderr
    assert "approval required" in proc.stderr and "rq-" in proc.stderr
    assert "guardrails.py approve rq-" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not deploy_env.service.log_file.exists()  # the driver script was never called
    assert deploy_env.service.state()["version"] == "v1.0.0"
    with Memory.open() as mem:
        assert [d.version for d in mem.deployments(service="api", env="production")] == ["v1.0.0"]


def test_production_deploy_json_carries_the_request_id_and_runs_after_approval(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"))
    args = ["deploy", "--service", "api", "--env", "production", "--version", "v1.1.0", "--json"]
    first = _devops(*args)
    assert first.exit_code == 3
    payload = json.loads(first.stdout)
    assert payload["status"] == "approval_required" and payload["request_id"].startswith("rq-")
    assert payload["decision"]["tier"] == 4
    assert deploy_env.service.driver_calls() == []

    _approve(payload["request_id"])
    second = _devops(*args)
    assert second.exit_code == 0, second.output
    result = json.loads(second.stdout)
    assert result["status"] == "succeeded" and result["plan"]["rollback"]["version"] == "v1.0.0"
    assert deploy_env.service.state()["version"] == "v1.1.0"

    third = _devops(*args)  # an approval is good for one run only
    assert third.exit_code == 3


def test_staging_deploy_passes_the_gate_and_reports(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"))
    result = _devops("deploy", "--service", "api", "--env", "staging", "--version", "3f2a9c1")
    assert result.exit_code == 0, result.output
    assert "Gate: deploy_staging" in result.stdout and "SUCCEEDED" in result.stdout
    assert [c["env"] for c in deploy_env.service.driver_calls()] == ["staging"]


def test_failing_canary_in_staging_exits_1_after_rollback(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"))
    deploy_env.prometheus.mode = "failure"
    result = _devops(
        "deploy",
        "--service",
        "api",
        "--env",
        "staging",
        "--version",
        "v1.1.0",
        "--strategy",
        "canary",
        "--steps",
        "25,100",
    )
    assert result.exit_code == 1
    assert "ROLLED_BACK" in result.stdout and "rollback to v1.0.0: succeeded" in result.stdout


def test_mutable_tag_is_a_usage_error(deploy_env):
    result = _devops("deploy", "--service", "api", "--env", "staging", "--version", "latest")
    assert result.exit_code == 2
    assert "mutable" in result.stderr and "Traceback" not in result.output
    assert deploy_env.service.driver_calls() == []


def test_no_rollback_plan_refuses_with_a_clear_error(deploy_env):
    result = _devops("deploy", "--service", "api", "--env", "staging", "--version", "v1.1.0")
    assert result.exit_code == 1
    assert "no rollback plan" in result.stderr and "--rollback-to" in result.stderr
    assert deploy_env.service.driver_calls() == []


def test_dry_run_prints_the_plan_and_changes_nothing(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"))
    result = _devops(
        "deploy",
        "--service",
        "api",
        "--env",
        "prod",
        "--version",
        "v1.1.0",
        "--strategy",
        "canary",
        "--dry-run",
    )
    assert result.exit_code == 0, result.output
    assert "canary v1.1.0 at 10%" in result.stdout and "Rollback plan: back to v1.0.0" in result.stdout
    assert "ACTION=rollback" in result.stdout  # the exact rollback command
    assert deploy_env.service.driver_calls() == []
    as_json = json.loads(
        _devops("deploy", "-s", "api", "-e", "prod", "-v", "v1.1.0", "--dry-run", "--json").stdout
    )
    assert as_json["ready"] and as_json["plan"]["gate_action"] == "deploy_production"


def test_rollback_command_is_gated(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"), ("v1.1.0", "succeeded"))
    prod = _devops("deploy", "--service", "api", "--env", "production", "--rollback")
    assert prod.exit_code == 3 and "rollback" in prod.stderr
    assert deploy_env.service.driver_calls() == []
    dev = _devops("deploy", "--service", "api", "--env", "staging", "--rollback", "--json")
    assert dev.exit_code == 0, dev.output
    assert json.loads(dev.stdout)["version"] == "v1.0.0"
    assert deploy_env.service.driver_calls()[0]["action"] == "rollback"


def test_flag_set_goes_through_the_gate(deploy_env):
    staged = _devops("flag", "set", "new-checkout", "on", "--env", "staging", "--json")
    assert staged.exit_code == 0, staged.output
    assert json.loads(staged.stdout)["enabled"] is True

    prod = _devops("flag", "set", "new-checkout", "on", "--env", "prod")
    assert prod.exit_code == 3 and "feature_flag_toggle" in prod.stderr
    listed = json.loads(_devops("flag", "list", "--json").stdout)
    assert [(f["name"], f["env"], f["enabled"]) for f in listed] == [("new-checkout", "staging", True)]

    off = _devops("flag", "set", "new-checkout", "off", "--env", "staging")
    assert off.exit_code == 0 and "was on" in off.stdout
    assert _devops("flag", "get", "new-checkout", "--env", "production").exit_code == 2
    assert _devops("flag", "set", "bad name!", "on", "--env", "staging").exit_code == 2


def test_plan_output_redacts_credentials(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"))
    url = deploy_env.service.url.replace("http://", "http://admin:s3cretpass@")
    deploy_env.configure(health_url=f"{url}/healthz")
    text = _devops("deploy", "-s", "api", "-e", "prod", "-v", "v1.1.0", "--dry-run")
    as_json = _devops("deploy", "-s", "api", "-e", "prod", "-v", "v1.1.0", "--dry-run", "--json")
    assert text.exit_code == 0 and as_json.exit_code == 0
    assert "healthz" in text.stdout and "s3cretpass" not in text.stdout
    assert json.loads(as_json.stdout)["plan"]["steps"][0]["health"]["url"].startswith("http://admin:")
    assert "s3cretpass" not in as_json.stdout
