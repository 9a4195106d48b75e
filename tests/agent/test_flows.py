"""Event flows through the graph in-process: incidents opened and closed, deploys refused early."""

from __future__ import annotations

from pathlib import Path

from skill.agent.graph import pending_approvals, run
from skill.memory import Memory
from skill.webhooks.events import parse_event

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "events"


def event(name: str):
    return parse_event((FIXTURES / name).read_bytes())


def test_alert_opens_one_incident_and_its_resolution_closes_it():
    first = run(event=event("alertmanager_firing.json"))
    assert (first.node, first.status) == ("incident", "done")
    opened = first.result["data"]["incident_id"]
    assert opened
    again = run(event=event("alertmanager_firing.json"))  # the same alert re-sent joins it
    assert again.result["data"]["incident_id"] == opened
    with Memory.open() as mem:
        assert [i.id for i in mem.incidents(status="open")] == [opened]
    closed = run(event=event("alertmanager_resolved.json"))
    assert (closed.node, closed.op) == ("memory", "resolve")
    assert f"Resolved incident {opened}" in closed.report
    with Memory.open() as mem:
        assert mem.incidents(status="open") == []
        assert mem.incidents(status="resolved")[0].id == opened
    pm = run(f"write the postmortem for {opened}")
    assert (pm.node, pm.op, pm.status) == ("incident", "postmortem", "done"), pm.report
    assert opened in pm.report and "HighErrorRate" in pm.report


def test_push_and_deploy_events_become_memory_for_later_triage():
    run(event=event("github_push.json"))
    run(event=event("gitlab_deployment_success.json"))
    with Memory.open() as mem:
        deps = mem.deployments(service="api")
        assert [(d.env, d.version, d.status) for d in deps] == [("staging", "9b8a7c6d", "succeeded")]
        hits = mem.recall("connection pool sizing", service="api")
        assert any("Fix connection pool sizing" in h.memory.text for h in hits)


def test_deploy_without_rollback_plan_fails_before_the_gate():
    out = run("deploy api 2.0.0 to production")
    assert out.status == "failed"
    assert "no rollback plan" in out.error
    assert out.decision is None and out.pending is None
    assert pending_approvals() == []


def test_mutable_tags_are_refused_by_name():
    out = run("deploy api latest to production")
    assert out.status == "failed" and out.decision is None
    assert "mutable version 'latest'" in out.error
    generic = parse_event(
        {"type": "deploy", "id": "chatops-1", "service": "api", "env": "staging", "version": "main"}
    )
    out = run(event=generic)
    assert out.status == "failed" and out.decision is None
    assert "mutable version 'main'" in out.error


def test_failed_workflow_event_is_triaged_from_the_real_logs(tmp_path, monkeypatch):
    """With gh on PATH (a fake one answering recorded output), the CI node reads the failed logs."""
    import json
    import os
    import shutil
    import subprocess

    ci_fixtures = FIXTURES.parent / "ci"
    data = tmp_path / "recorded"
    shutil.copytree(ci_fixtures / "recorded" / "github", data)
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run(["git", "remote", "add", "origin", "git@github.com:acme/shop.git"], cwd=repo, check=True)
    monkeypatch.setenv("PATH", f"{ci_fixtures / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_CI_DIR", str(data))
    monkeypatch.delenv("DEVOPS_CI_PLATFORM", raising=False)

    payload = json.loads((FIXTURES / "github_workflow_run_failure.json").read_text())
    payload["workflow_run"]["id"] = 9001
    out = run(event=parse_event(payload, source="github"), cwd=str(repo))
    assert (out.node, out.op, out.status) == ("ci", "triage", "done"), out.report
    assert "test_total_with_coupon" in out.report
    assert out.result["data"]["run"]["id"] == "9001"
    assert any(call.startswith("gh run view 9001") for call in (data / "calls.log").read_text().splitlines())


def test_prune_deletes_finished_runs_and_their_checkpoints_but_keeps_paused_ones():
    from skill.agent import runs as store
    from skill.agent.graph import _config, open_graph, prune

    done = run("what do we know about redis?")
    paused = run("turn the checkout-v2 flag on in production")
    assert (done.status, paused.status) == ("done", "awaiting_approval")
    assert prune(365 * 86400) == []  # nothing that old
    assert prune(-60) == [done.run_id]  # a cutoff in the future: every finished run
    assert [r.id for r in store.list_runs()] == [paused.run_id]
    with open_graph() as graph:
        assert not graph.get_state(_config(done.run_id)).values
        assert graph.get_state(_config(paused.run_id)).interrupts


def _proposed(change) -> dict:
    from skill import changes

    return changes.Proposal(change=change, summary=change.describe()).to_state()


def test_command_actions_are_gated_with_check_command():
    from skill import changes
    from skill.agent import tools as adapters
    from skill.agent.state import RunState

    risky = adapters.check(_proposed(changes.Command(command="kubectl delete ns payments --context prod")))
    assert risky["decision"] in ("ask", "block") and risky["tier"] >= 3 and risky["request_id"]
    harmless = adapters.check(_proposed(changes.Command(command="kubectl get pods -n payments")))
    assert harmless["decision"] == "allow"
    state = RunState(action=_proposed(changes.Command(command="echo hi")))
    done = adapters.execute(state)
    assert done["status"] == "done" and done["executed"]["data"]["stdout"] == "hi\n"


def test_the_gate_fails_closed_when_the_engine_breaks(monkeypatch):
    from skill import changes
    from skill.agent import tools as adapters

    def broken(*a, **k):
        raise RuntimeError("policy store unreadable")

    monkeypatch.setattr("skill.guardrails.engine.check_action", broken)
    d = adapters.check(
        _proposed(changes.Deploy(service="api", environment="staging", version="1.0.0", rollback_to="0.9.0"))
    )
    assert (d["decision"], d["approvable"], d["tier"]) == ("block", False, 4)


def test_an_unreadable_proposal_is_blocked():
    from skill.agent import tools as adapters

    d = adapters.check(
        {"kind": "deploy", "action": "deploy_staging", "target": "api@1.0.0", "env": "staging"}
    )
    assert (d["decision"], d["approvable"], d["tier"]) == ("block", False, 4)
    assert d["rule_ids"] == ["gate.bad-change"]
