"""Interrupt and resume across real processes on one SQLite file: side effects exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from skill.demo_support import STATE_ENV, SampleService, deploy_config, provision_operator_key


@pytest.fixture
def sandbox(tmp_path, monkeypatch, isolated_home):
    with SampleService(tmp_path, "1.0.0") as service:
        config = tmp_path / "devops-config"
        config.mkdir(exist_ok=True)
        (config / "config.toml").write_text(deploy_config(service))
        monkeypatch.setenv(STATE_ENV, str(service.state_file))
        from skill.memory import Memory

        with Memory.open() as mem:
            mem.record_deployment("api", "production", "1.0.0", status="succeeded")
            mem.record_deployment("api", "staging", "1.0.0", status="succeeded")
        monkeypatch.setenv("DEVOPS_OPERATOR_KEY", provision_operator_key())
        yield service


def devops(run, *args):
    return run("-m", "skill.cli", *args, timeout=120)


def cli(*args: str) -> subprocess.CompletedProcess:
    """A `devops` process in its own session: no controlling terminal, like an agent's shell."""
    return subprocess.run(
        [sys.executable, "-m", "skill.cli", *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
        start_new_session=True,
    )


def test_production_deploy_pauses_then_one_of_two_concurrent_approvals_resumes_it_once(
    sandbox, run, repo_root
):
    from skill.agent import runs as store
    from skill.agent.graph import pending_approvals, resume
    from skill.errors import UsageError

    asked = devops(run, "ask", "deploy api 1.1.0 to production", "--json")
    assert asked.returncode == 3, asked.stderr
    out = json.loads(asked.stdout)
    assert out["status"] == "awaiting_approval"
    pending = out["pending"]
    assert pending["tier"] == 4 and pending["request_id"].startswith("rq-")
    assert any("deploy_production" in r for r in pending["reasons"])
    assert sandbox.calls() == [], "nothing runs before the approval"
    assert [(r.id, r.request_id) for r in pending_approvals()] == [(out["run_id"], pending["request_id"])]

    # Two operators approve at the same moment from two processes: exactly one resumes the run.
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "skill.cli",
                "approvals",
                "approve",
                pending["request_id"],
                "--by",
                who,
                "--json",
            ],
            cwd=repo_root,
            env=os.environ.copy(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        for who in ("alice", "bob")
    ]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    winner = next(json.loads(o) for code, o, _ in results if code == 0)
    loser_err = next(e for code, _, e in results if code == 2)
    assert "not waiting for approval" in loser_err
    assert winner["status"] == "done"
    assert winner["approval"]["by"] in ("alice", "bob")
    assert winner["executed"]["ok"] is True

    assert [(c["action"], c["version"]) for c in sandbox.calls()] == [("deploy", "1.1.0")]
    assert sandbox.state()["version"] == "1.1.0"

    # A third, late approval changes nothing.
    with pytest.raises(UsageError, match="not waiting for approval"):
        resume(out["run_id"], approved=True, by="carol")
    assert len(sandbox.calls()) == 1
    assert pending_approvals() == []
    shown = store.get(out["run_id"])
    assert shown.status == "done" and shown.resolved_by == winner["approval"]["by"]
    assert "Deploy succeeded" in shown.report


def test_approval_needs_a_human_and_reject_ends_the_run(sandbox, monkeypatch):
    from skill.agent import runs as store
    from skill.agent.graph import pending_approvals, resume, run
    from skill.errors import Blocked, UsageError

    asked = run("deploy api 1.2.0 to production")
    assert asked.status == "awaiting_approval" and asked.exit_code == 3
    rid = asked.pending["request_id"]

    # Without the operator key and without a terminal, the guardrails approvals refuse.
    monkeypatch.delenv("DEVOPS_OPERATOR_KEY")
    refused = cli("approvals", "approve", rid, "--by", "agent")
    assert refused.returncode == 4, refused.stderr
    assert "interactive terminal" in refused.stderr
    assert [r.request_id for r in pending_approvals()] == [rid]

    # A wrong operator key is refused too, and the run stays claimable.
    monkeypatch.setenv("DEVOPS_OPERATOR_KEY", "dok_not-the-key")
    with pytest.raises(Blocked, match="does not match"):
        resume(rid, approved=True, by="agent")
    assert store.get(rid).status == "awaiting_approval"

    rejected = cli("approvals", "reject", rid, "--reason", "change freeze", "--by", "alice", "--json")
    assert rejected.returncode == 0, rejected.stderr
    body = json.loads(rejected.stdout)
    assert body["status"] == "rejected"
    assert body["executed"] is None
    assert "change freeze" in body["report"]
    assert sandbox.calls() == []
    assert sandbox.state()["version"] == "1.0.0"
    assert pending_approvals() == []
    with pytest.raises(UsageError):
        resume(rid, approved=True, by="alice")
    assert [(r.status, r.request_id) for r in store.list_runs()] == [("rejected", rid)]


def test_staging_deploy_passes_the_gate_and_runs_without_a_pause(sandbox):
    from skill.agent.graph import run

    out = run("deploy api 1.1.0 to staging")
    assert out.status == "done", out.report
    assert out.decision["decision"] == "allow" and out.pending is None
    assert [(c["action"], c["version"]) for c in sandbox.calls()] == [("deploy", "1.1.0")]


def test_a_deny_rule_blocks_without_an_interrupt(sandbox, tmp_path, monkeypatch):
    from skill.agent.graph import run

    policy = tmp_path / "policy.toml"
    policy.write_text(
        '[[deny]]\nid = "staging-frozen"\naction = "deploy_staging"\nreason = "staging is frozen"\n'
    )
    monkeypatch.setenv("DEVOPS_POLICY", str(policy))
    out = run("deploy api 1.1.0 to staging")
    assert out.status == "blocked", out.report
    assert out.pending is None and out.exit_code == 4
    assert "Blocked by the gate" in out.report
    assert sandbox.calls() == []


def test_rollback_and_flag_requests_go_through_the_gate(sandbox):
    from skill.agent.graph import resume, run
    from skill.memory import Memory

    # 1.1.0 went out after 1.0.0; roll it back.
    assert run("deploy api 1.1.0 to staging").status == "done"
    paused = run("roll back api in staging")
    assert paused.node == "deploy" and paused.op == "rollback"
    assert paused.status in ("done", "awaiting_approval"), paused.report
    out = paused if paused.status == "done" else resume(paused.run_id, approved=True, by="alice")
    assert out.status == "done", out.report
    assert [(c["action"], c["version"]) for c in sandbox.calls()] == [
        ("deploy", "1.1.0"),
        ("rollback", "1.0.0"),
    ]
    with Memory.open() as mem:
        newest = mem.deployments(service="api", env="staging")[0]
    assert (newest.version, newest.rolled_back_from) == ("1.0.0", "1.1.0")

    flag = run("turn the checkout-v2 flag on in production")
    assert flag.status == "awaiting_approval" and flag.pending["tier"] == 3
    done = resume(flag.run_id, approved=True, by="alice")
    assert done.status == "done" and "Flag checkout-v2 set on in production" in done.report
    from skill.nodes.deploy import get_flag

    assert get_flag("checkout-v2", "production").enabled is True


def _alert_on_a_fresh_staging_deploy():
    from skill.agent.graph import run
    from skill.webhooks.events import parse_event

    assert run("deploy api 1.1.0 to staging").status == "done"
    alert = parse_event(
        {
            "type": "alert.firing",
            "id": "alert-1",
            "service": "api",
            "env": "staging",
            "title": "HighErrorRate: api 5xx",
        }
    )
    return run(event=alert)


@pytest.mark.parametrize("mode", ["default", "propose"])
def test_propose_means_propose_even_where_a_rollback_would_be_allowed(sandbox, mode, tmp_path):
    from skill.agent.graph import resume
    from skill.agent.runs import get

    if mode == "propose":
        config = tmp_path / "devops-config" / "config.toml"
        config.write_text(config.read_text() + '\n[agent]\nincident_rollback = "propose"\n')
    out = _alert_on_a_fresh_staging_deploy()
    assert (out.node, out.status) == ("incident", "awaiting_approval"), out.report
    assert out.pending["tier"] == 3 and "incident_rollback" in out.decision["rule_ids"][0]
    assert [c["action"] for c in sandbox.calls()] == ["deploy"]  # nothing rolled back yet
    assert get(out.run_id).status == "awaiting_approval"
    done = resume(out.run_id, approved=True, by="alice")
    assert done.status == "done", done.report
    assert [(c["action"], c["version"]) for c in sandbox.calls()] == [
        ("deploy", "1.1.0"),
        ("rollback", "1.0.0"),
    ]


def test_execute_mode_gates_the_suggestion_as_a_plain_rollback(sandbox, tmp_path):
    config = tmp_path / "devops-config" / "config.toml"
    config.write_text(config.read_text() + '\n[agent]\nincident_rollback = "execute"\n')
    out = _alert_on_a_fresh_staging_deploy()
    assert (out.node, out.status) == ("incident", "done"), out.report
    assert [(c["action"], c["version"]) for c in sandbox.calls()] == [
        ("deploy", "1.1.0"),
        ("rollback", "1.0.0"),
    ]


def test_a_failed_executed_step_says_why_in_runs_show(sandbox, tmp_path, run):
    from skill.agent.graph import resume

    out = _alert_on_a_fresh_staging_deploy()
    assert out.status == "awaiting_approval"
    from skill.demo_support import write_state

    state = sandbox.state()
    write_state(sandbox.state_file, {**state, "bad_versions": ["1.0.0"]})  # the rollback target fails health
    done = resume(out.run_id, approved=True, by="alice")
    assert done.status == "failed"
    shown = run("-m", "skill.cli", "runs", "show", out.run_id, "--json", timeout=120)
    record = json.loads(shown.stdout)
    assert record["status"] == "failed" and record["error"], record
