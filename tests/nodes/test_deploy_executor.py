"""Deploys end to end: a real service on 127.0.0.1, the script driver swapping its version,
a Prometheus-compatible server, and the real memory (SQLite) recording the outcomes."""

from __future__ import annotations

import pytest
from deploy_harness import harness

from skill.errors import UsageError
from skill.memory import Memory
from skill.nodes.deploy import DeployRequest, execute_deploy, plan_deploy, rollback
from skill.nodes.deploy.plan import NoRollbackPlan

deploy_env = harness.deploy_env  # the fixture


def _deploy(version, strategy="rolling", env="production", **kw):
    with Memory.open() as mem:
        plan = plan_deploy(
            DeployRequest(service="api", env=env, version=version, strategy=strategy, **kw), memory=mem
        )
        result = execute_deploy(plan, memory=mem, sleep=lambda s: None)
        deployments = mem.deployments(service="api", env="production")
        last_good = mem.last_good_version("api", "production")
    return plan, result, deployments, last_good


def test_rolling_deploy_succeeds_and_is_recorded(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"))
    plan, result, deps, last_good = _deploy("v1.1.0")
    assert plan.rollback.version == "v1.0.0" and plan.rollback.source == "memory"
    assert result.status == "succeeded", result.message
    assert deploy_env.service.state()["version"] == "v1.1.0"  # the driver really swapped it
    assert result.steps[0].health.ok and result.steps[0].health.version == "v1.1.0"
    assert [(d.version, d.status) for d in deps][:2] == [("v1.1.0", "succeeded"), ("v1.0.0", "succeeded")]
    assert deps[0].id == result.deployment_id and deps[0].strategy == "rolling"
    assert last_good == "v1.1.0"
    assert [c["action"] for c in deploy_env.service.driver_calls()] == ["deploy"]


def test_failing_canary_analysis_rolls_back_to_last_good_and_records_both(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"))
    deploy_env.prometheus.mode = "failure"
    plan, result, deps, last_good = _deploy("v1.1.0", strategy="canary", steps=[10, 50, 100])
    assert [s.action for s in plan.steps] == ["canary", "canary", "promote"]
    assert result.status == "rolled_back"
    assert result.steps[0].status == "failed" and result.steps[0].analysis.phase == "failed"
    assert [s.status for s in result.steps[1:]] == ["skipped", "skipped"]
    assert result.rollback.version == "v1.0.0" and result.rollback.status == "succeeded"
    calls = deploy_env.service.driver_calls()
    assert [(c["action"], c["version"], c["weight"]) for c in calls] == [
        ("canary", "v1.1.0", "10"),
        ("rollback", "v1.0.0", ""),
    ]
    state = deploy_env.service.state()
    assert state["version"] == "v1.0.0" and state["canary"] is None
    newest = {(d.version, d.status, d.rolled_back_from) for d in deps[:2]}
    assert newest == {("v1.1.0", "rolled_back", None), ("v1.0.0", "succeeded", "v1.1.0")}
    assert last_good == "v1.0.0"


def test_inconclusive_canary_pauses_without_rollback(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"))
    deploy_env.prometheus.mode = "nodata"
    _, result, deps, last_good = _deploy("v1.1.0", strategy="canary", steps=[20, 100])
    assert result.status == "paused"
    assert result.steps[0].status == "paused" and result.steps[0].analysis.phase == "inconclusive"
    assert result.rollback is None
    assert [c["action"] for c in deploy_env.service.driver_calls()] == ["canary"]
    assert deploy_env.service.state()["canary"] == "v1.1.0"  # left as is for a human
    assert (deps[0].version, deps[0].status) == ("v1.1.0", "in_progress")
    assert last_good == "v1.0.0"


def test_successful_canary_walks_every_step_then_promotes(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"))
    _, result, deps, _ = _deploy("v1.1.0", strategy="canary", steps=[10, 50, 100])
    assert result.status == "succeeded", result.message
    assert [(c["action"], c["weight"]) for c in deploy_env.service.driver_calls()] == [
        ("canary", "10"),
        ("canary", "50"),
        ("promote", "100"),
    ]
    assert len(deploy_env.prometheus.queries) == 8  # 2 analysed steps x 2 metrics x 2 measurements
    assert deps[0].status == "succeeded"


def test_unhealthy_rolling_deploy_rolls_back(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"))
    deploy_env.service.write_state(bad_versions=["v1.1.0"])
    _, result, deps, last_good = _deploy("v1.1.0")
    assert result.status == "rolled_back"
    assert result.steps[0].health.attempts == 3 and not result.steps[0].health.ok
    assert deploy_env.service.state()["version"] == "v1.0.0"
    assert last_good == "v1.0.0"
    assert {d.status for d in deps[:2]} == {"rolled_back", "succeeded"}


def test_failed_rollback_is_reported_as_failed(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"))
    deploy_env.service.write_state(bad_versions=["v1.1.0"], driver_fails=["v1.0.0"])
    _, result, deps, last_good = _deploy("v1.1.0")
    assert result.status == "failed"
    assert result.rollback.status == "failed" and "rollback command failed" in result.rollback.detail
    assert "FAILED" in result.message
    assert (deps[0].version, deps[0].status) == ("v1.1.0", "failed")
    # the failed rollback is a note: v1.0.0 stays the version to return to
    assert last_good == "v1.0.0"
    with Memory.open() as mem:
        notes = [m for m in mem.list(service="api", limit=20) if "rollback" in m.tags and "failed" in m.tags]
    assert len(notes) == 1 and "FAILED" in notes[0].text


def test_blue_green_stages_then_switches(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"))
    _, result, _, _ = _deploy("v1.1.0", strategy="blue-green")
    assert result.status == "succeeded", result.message
    assert [c["action"] for c in deploy_env.service.driver_calls()] == ["stage", "switch"]
    assert result.steps[0].health.version == "v1.1.0"  # the preview answered the new version
    assert deploy_env.service.state()["version"] == "v1.1.0"


def test_no_last_good_version_and_no_explicit_rollback_refuses(deploy_env):
    with Memory.open() as mem:
        plan = plan_deploy(DeployRequest(service="api", env="production", version="v1.1.0"), memory=mem)
        assert plan.rollback is None and not plan.ready
        with pytest.raises(NoRollbackPlan, match="no rollback plan"):
            execute_deploy(plan, memory=mem)
        assert mem.deployments(service="api") == []
    assert deploy_env.service.driver_calls() == []


def test_explicit_rollback_version_makes_a_first_deploy_possible(deploy_env):
    _, result, deps, _ = _deploy("v1.1.0", rollback_to="v1.0.0")
    assert result.status == "succeeded"
    assert deps[0].version == "v1.1.0"


def test_versions_that_were_rolled_back_are_not_rollback_targets(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"), ("v1.1.0", "rolled_back"))
    with Memory.open() as mem:
        plan = plan_deploy(DeployRequest(service="api", env="prod", version="v1.2.0"), memory=mem)
    assert plan.environment == "production" and plan.gate_action == "deploy_production"
    assert plan.rollback.version == "v1.0.0"


def test_mutable_tag_is_refused_before_anything(deploy_env):
    with Memory.open() as mem, pytest.raises(UsageError, match="mutable"):
        plan_deploy(DeployRequest(service="api", env="production", version="latest"), memory=mem)
    assert deploy_env.service.driver_calls() == []


def test_manual_rollback_uses_memory_and_records(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"), ("v1.1.0", "succeeded"))
    deploy_env.service.write_state(version="v1.1.0")
    result = rollback("api", "production", sleep=lambda s: None)
    assert result.status == "succeeded" and result.version == "v1.0.0"
    assert deploy_env.service.state()["version"] == "v1.0.0"
    with Memory.open() as mem:
        newest = mem.deployments(service="api", env="production")[0]
        assert (newest.version, newest.rolled_back_from, newest.strategy) == ("v1.0.0", "v1.1.0", "rollback")
        assert mem.last_good_version("api", "production") == "v1.0.0"


def test_driver_timeout_fails_the_step_and_rolls_back(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"))
    deploy_env.configure(timeout="1s")
    deploy_env.service.write_state(slow_versions=["v1.1.0"])
    _, result, _, last_good = _deploy("v1.1.0")
    assert result.status == "rolled_back"
    assert "timed out after 1s" in result.steps[0].detail
    assert deploy_env.service.state()["version"] == "v1.0.0" and last_good == "v1.0.0"


def test_one_deploy_per_service_and_environment_at_a_time(deploy_env):
    from skill.errors import Blocked
    from skill.nodes.deploy.executor import deploy_lock

    deploy_env.seed(("v1.0.0", "succeeded"))
    with Memory.open() as mem:
        plan = plan_deploy(DeployRequest(service="api", env="production", version="v1.1.0"), memory=mem)
        with deploy_lock("api", "production"):
            with pytest.raises(Blocked, match="another deploy"):
                execute_deploy(plan, memory=mem)
            with pytest.raises(Blocked):
                rollback("api", "production", "v1.0.0", from_version="v1.1.0", memory=mem)
            other = plan_deploy(DeployRequest(service="api", env="staging", version="v1.1.0"), memory=mem)
            assert execute_deploy(other, memory=mem, sleep=lambda s: None).status == "succeeded"
        assert [c["env"] for c in deploy_env.service.driver_calls()] == ["staging"]
        assert execute_deploy(plan, memory=mem, sleep=lambda s: None).status == "succeeded"


def test_a_plan_survives_a_json_round_trip(deploy_env):
    # the agent graph stores the approved plan in its checkpoint and executes it later
    from skill.nodes.deploy import DeployPlan

    deploy_env.seed(("v1.0.0", "succeeded"))
    with Memory.open() as mem:
        plan = plan_deploy(
            DeployRequest(service="api", env="production", version="v1.1.0", strategy="canary"), memory=mem
        )
        again = DeployPlan.model_validate_json(plan.model_dump_json())
        assert again == plan
        result = execute_deploy(again, memory=mem, sleep=lambda s: None)
    assert result.status == "succeeded" and deploy_env.service.state()["version"] == "v1.1.0"


def test_operator_interrupt_rolls_back_like_an_abort(deploy_env):
    from skill.nodes.deploy.drivers import ScriptDriver
    from skill.nodes.deploy.settings import deploy_settings

    class InterruptedAtHalf(ScriptDriver):
        def apply(self, action, version, **kw):
            if action == "canary" and kw.get("weight") == 50:
                raise KeyboardInterrupt  # Ctrl-C while the 50 % step runs
            return super().apply(action, version, **kw)

    deploy_env.seed(("v1.0.0", "succeeded"))
    drv = InterruptedAtHalf(
        deploy_settings("production", "production"),
        service="api",
        env="production",
        environment="production",
        strategy="canary",
    )
    with Memory.open() as mem:
        plan = plan_deploy(
            DeployRequest(
                service="api", env="production", version="v1.1.0", strategy="canary", steps=[10, 50, 100]
            ),
            memory=mem,
        )
        result = execute_deploy(plan, memory=mem, driver=drv, sleep=lambda s: None)
        newest = mem.deployments(service="api", env="production")[:2]
    assert result.status == "rolled_back" and "interrupted" in result.message
    assert [s.status for s in result.steps] == ["succeeded", "failed", "skipped"]
    assert [c["action"] for c in deploy_env.service.driver_calls()] == ["canary", "rollback"]
    assert {(d.version, d.status) for d in newest} == {("v1.1.0", "rolled_back"), ("v1.0.0", "succeeded")}


def test_credentials_in_urls_never_reach_the_result_or_memory(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"))
    url = deploy_env.service.url.replace("http://", "http://admin:s3cretpass@")
    deploy_env.configure(health_url=f"{url}/healthz")
    deploy_env.service.write_state(bad_versions=["v1.1.0"])
    plan, result, deps, _ = _deploy("v1.1.0")
    assert result.status == "rolled_back"
    assert "503" in result.steps[0].health.error
    assert "s3cretpass" not in result.model_dump_json()
    assert all("s3cretpass" not in (d.notes or "") for d in deps)


def test_canary_endpoint_is_checked_with_its_version(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"))
    url = deploy_env.service.url
    deploy_env.configure(
        canary_health_url=f"{url}/canary/healthz", canary_version_url=f"{url}/canary/version"
    )
    deploy_env.service.write_state(bad_versions=["v1.1.0"])  # only the canary pods run it
    _, result, _, last_good = _deploy("v1.1.0", strategy="canary", steps=[10, 100])
    assert result.status == "rolled_back"
    assert result.steps[0].health.url.endswith("/canary/healthz") and not result.steps[0].health.ok
    assert deploy_env.prometheus.queries == []  # unhealthy canary: no analysis needed
    assert last_good == "v1.0.0"


def test_healthy_canary_endpoint_reports_the_new_version(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"))
    url = deploy_env.service.url
    deploy_env.configure(
        canary_health_url=f"{url}/canary/healthz", canary_version_url=f"{url}/canary/version"
    )
    _, result, _, _ = _deploy("v1.1.0", strategy="canary", steps=[10, 100])
    assert result.status == "succeeded", result.message
    assert result.steps[0].health.version == "v1.1.0"
