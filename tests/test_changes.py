"""The change pipeline (skill.changes): an approval binds to every identifying field of a change,
on every front-end (the library, `devops deploy`/`devops flag`, the MCP tools, the agent graph)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent / "nodes"))  # the deploy tests' shared harness
from deploy_harness import harness  # noqa: E402

from skill import changes  # noqa: E402
from skill.cli import cli  # noqa: E402
from skill.errors import ApprovalRequired, Blocked, UsageError  # noqa: E402

deploy_env = harness.deploy_env  # the fixture


def _approve(request_id: str) -> None:
    # What `guardrails.py approve ID --by NAME` records once a human confirmed at the terminal.
    from skill.guardrails import approvals

    approvals.approve(request_id, by="alice", ttl_seconds=600, authorize=lambda pending: "test")


def _request_id(change) -> str:
    decision = changes.gate(change)
    assert decision.decision != "allow", decision.to_dict()
    assert decision.request_id
    return decision.request_id


DEPLOY = {"service": "api", "environment": "production", "version": "v1.1.0", "rollback_to": "v1.0.0"}

# (the approved change, the same change with one identifying field changed)
VARIANTS = [
    pytest.param(changes.Deploy(**DEPLOY), {"version": "v6.6.6"}, id="deploy-version"),
    pytest.param(changes.Deploy(**DEPLOY), {"strategy": "canary"}, id="deploy-strategy"),
    pytest.param(
        changes.Deploy(**DEPLOY, strategy="canary", steps=[10, 100]), {"steps": [50, 100]}, id="deploy-steps"
    ),
    pytest.param(changes.Deploy(**DEPLOY), {"rollback_to": "v0.1.0"}, id="deploy-rollback-target"),
    pytest.param(changes.Deploy(**DEPLOY), {"service": "billing"}, id="deploy-service"),
    pytest.param(
        changes.Rollback(service="api", environment="production", to_version="v1.0.0", from_version="v1.1.0"),
        {"to_version": "v0.9.0"},
        id="rollback-version",
    ),
    pytest.param(
        changes.FlagToggle(flag="new-checkout", state="on", environment="production"),
        {"state": "off"},
        id="flag-value",
    ),
    pytest.param(
        changes.FlagToggle(flag="new-checkout", state="on", environment="production"),
        {"flag": "old-checkout"},
        id="flag-name",
    ),
]


@pytest.mark.parametrize(("approved", "changed"), VARIANTS)
def test_an_approval_never_passes_a_change_with_another_identifying_field(approved, changed):
    _approve(_request_id(approved))
    other = approved.model_copy(update=changed)
    refused = changes.gate(other)
    assert refused.decision != "allow", refused.to_dict()
    # ... and the approval is still there for the change it was granted for, once
    assert changes.gate(approved).decision == "allow"
    assert changes.gate(approved).decision != "allow"


def test_who_asks_is_not_part_of_the_approval_and_environment_aliases_are_one_request():
    change = changes.Deploy(**DEPLOY, by="bob")
    _approve(_request_id(change))
    alias = changes.Deploy(**{**DEPLOY, "environment": "prod"}, by="carol")
    assert alias.environment == "production"
    assert changes.gate(alias).decision == "allow"


def test_the_approval_shows_the_version_a_human_approves():
    from skill.guardrails import approvals

    rid = _request_id(changes.Deploy(**DEPLOY))
    text = approvals.describe_pending(approvals.get_pending(rid))
    assert "version: v1.1.0" in text and "rollback_to: v1.0.0" in text


def test_one_translation_of_a_decision():
    with pytest.raises(ApprovalRequired) as asked:
        changes.gate_or_raise(changes.Deploy(**DEPLOY))
    exc = asked.value
    assert exc.exit_code == 3 and exc.tier == 4 and exc.request_id.startswith("rq-")
    assert exc.reasons and exc.hint is None  # the library names no CLI flag; front-ends add hints
    assert exc.payload()["status"] == "approval_required"


def test_a_deny_rule_is_blocked_not_approvable(tmp_path, monkeypatch):
    policy = tmp_path / "policy.toml"
    policy.write_text('[[deny]]\nid = "no-api-prod"\naction = "deploy_production"\ntarget = "api"\n')
    monkeypatch.setenv("DEVOPS_POLICY", str(policy))
    decision = changes.gate(changes.Deploy(**DEPLOY))
    if decision.decision == "allow" or changes.is_approvable(decision):
        pytest.fail(f"a deny rule must block: {decision.to_dict()}")
    with pytest.raises(Blocked) as blocked:
        changes.require_allowed(decision, changes.Deploy(**DEPLOY))
    assert blocked.value.exit_code == 4


def test_a_gate_that_cannot_load_blocks(monkeypatch):
    import skill.guardrails.engine as engine

    def broken(*args, **kwargs):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(engine, "check_action", broken)
    decision = changes.gate(changes.Deploy(**DEPLOY))
    assert decision.decision == "block" and decision.tier == 4 and not changes.is_approvable(decision)


def test_malformed_changes_are_usage_errors():
    with pytest.raises(UsageError, match="version"):
        changes.parse_change({"kind": "deploy", "service": "api", "environment": "production"})
    with pytest.raises(UsageError):
        changes.parse_change({"kind": "deploy", **DEPLOY, "sneaky": 1})
    with pytest.raises(UsageError):
        changes.parse_change({"kind": "reboot-the-world"})


# ----------------------------------------------------------------------------- front-ends


def _cli(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _cli_deploy(version: str, strategy: str = "rolling"):
    res = _cli("deploy", "-s", "api", "-e", "production", "-v", version, "--strategy", strategy, "--json")
    return res.exit_code, json.loads(res.stdout)


def _mcp_deploy(version: str, strategy: str = "rolling"):
    from skill import mcp_server

    out = mcp_server.deploy("api", "production", version, strategy=strategy)
    code = {"approval_required": 3, "blocked": 4}.get(out.status, 0 if out.status == "succeeded" else 1)
    return code, {"status": out.status, "request_id": out.request_id}


def _graph_deploy(version: str, strategy: str = "rolling"):
    from skill.agent.graph import run

    state = run(f"deploy api {version} to production" + (" canary" if strategy == "canary" else ""))
    if state.status == "awaiting_approval":
        return 3, {"status": "approval_required", "request_id": state.decision["request_id"]}
    return (0 if state.status == "done" else 1), {"status": state.status, "request_id": None}


FRONT_ENDS = {"cli": _cli_deploy, "mcp": _mcp_deploy, "graph": _graph_deploy}


@pytest.mark.parametrize("approved_on", sorted(FRONT_ENDS))
@pytest.mark.parametrize("tried_on", sorted(FRONT_ENDS))
def test_an_approved_version_never_deploys_another_version_on_any_front_end(
    deploy_env, approved_on, tried_on
):
    deploy_env.seed(("v1.0.0", "succeeded"))
    code, first = FRONT_ENDS[approved_on]("v1.1.0")
    assert code == 3 and first["request_id"], first
    _approve(first["request_id"])

    code, other = FRONT_ENDS[tried_on]("v6.6.6")
    assert code == 3 and other["status"] == "approval_required", other
    assert deploy_env.service.driver_calls() == []  # nothing ran
    assert deploy_env.service.state()["version"] == "v1.0.0"

    if approved_on != "graph" and tried_on != "graph":
        # the approved request itself still passes, once, on the front-end it is used from
        code, done = FRONT_ENDS[tried_on]("v1.1.0")
        assert code == 0, done
        assert deploy_env.service.state()["version"] == "v1.1.0"


def test_cli_rollback_and_flag_approvals_bind_to_the_version_and_the_value(deploy_env):
    deploy_env.seed(("v1.0.0", "succeeded"), ("v1.1.0", "succeeded"), ("v1.2.0", "succeeded"))
    first = _cli("deploy", "-s", "api", "-e", "production", "--rollback", "--rollback-to", "v1.1.0", "--json")
    assert first.exit_code == 3, first.output
    _approve(json.loads(first.stdout)["request_id"])
    other = _cli("deploy", "-s", "api", "-e", "production", "--rollback", "--rollback-to", "v1.0.0", "--json")
    assert other.exit_code == 3, other.output
    assert deploy_env.service.driver_calls() == []

    flag = _cli("flag", "set", "new-checkout", "on", "--env", "production", "--json")
    assert flag.exit_code == 3, flag.output
    _approve(json.loads(flag.stdout)["request_id"])
    flipped = _cli("flag", "set", "new-checkout", "off", "--env", "production", "--json")
    assert flipped.exit_code == 3, flipped.output
    done = _cli("flag", "set", "new-checkout", "on", "--env", "production", "--json")
    assert done.exit_code == 0 and json.loads(done.stdout)["enabled"] is True


def test_one_approval_ttl_rule_for_every_approve_command(tmp_path, monkeypatch):
    from skill.guardrails.approvals import approval_ttl

    assert approval_ttl() == 30 * 60  # the default of guardrails.py approve and devops approvals approve
    assert approval_ttl("10m") == 600
    policy = tmp_path / "policy.toml"
    policy.write_text('[settings]\napproval_ttl = "5m"\nmax_approval_ttl = "1h"\n')
    monkeypatch.setenv("DEVOPS_POLICY", str(policy))
    assert approval_ttl() == 300
    with pytest.raises(UsageError, match="max_approval_ttl"):
        approval_ttl("2h")
    res = _cli("approvals", "approve", "rq-0000000000000000", "--by", "alice", "--ttl", "2h")
    assert res.exit_code == 2 and "max_approval_ttl" in res.output
