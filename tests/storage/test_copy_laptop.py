"""`devops db copy` moves a laptop's whole embedded state into the team database, for real:
separate OS processes, separate DEVOPS_HOMEs, a real PostgreSQL.

A production deploy asked on the laptop pauses for approval (run, checkpoints and the gate's
request in the laptop's SQLite files); `devops db copy` moves them; an operator on another host,
in team mode, approves it: the run resumes from the copied checkpoint and deploys once. A second
copy finds everything already there.
"""

from __future__ import annotations

import json
from pathlib import Path

from agent.test_two_machines import _cli as devops
from agent.test_two_machines import _host as home


def copy(env: dict[str, str], url: str) -> dict[str, tuple[int, int]]:
    done = devops(env, "db", "copy", "--from", "sqlite", "--to", url, "--json")
    assert done.returncode == 0, done.stderr
    return {f"{r['store']}.{r['table']}": (r["copied"], r["already_there"]) for r in json.loads(done.stdout)}


def test_a_run_paused_on_a_laptop_is_copied_then_approved_from_another_home_and_resumes_once(
    postgres_url, tmp_path, run
):
    from skill.demo_support import STATE_ENV, SampleService, deploy_config, provision_operator_key

    with SampleService(tmp_path, "1.0.0") as service:
        config = deploy_config(service)
        laptop = home(tmp_path, "laptop", "", config)
        other = home(tmp_path, "other", postgres_url, config)
        for env in (laptop, other):
            env[STATE_ENV] = str(service.state_file)
        other["DEVOPS_OPERATOR_KEY"] = provision_operator_key(other["DEVOPS_HOME"])
        for env in (laptop, other):  # what runs in production (the rollback target), known to both
            recorded = run("memory.py", "deployments", "record", "api", "production", "1.0.0", env=env)
            assert recorded.returncode == 0, recorded.stderr

        asked = devops(laptop, "ask", "deploy api 1.1.0 to production", "--json")
        assert asked.returncode == 3, asked.stderr
        paused = json.loads(asked.stdout)
        assert paused["status"] == "awaiting_approval"
        request = paused["pending"]["request_id"]

        first = copy(laptop, postgres_url)
        assert first["runs.runs"] == (1, 0)
        assert first["approvals.pending"] == (1, 0)
        made, _ = first["runs.checkpoints"]
        assert made >= 3 and first["runs.checkpoints"][1] == 0, first
        assert first["runs.checkpoint_writes"][0] >= 1, "the interrupt is a pending write"

        listed = devops(other, "approvals", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        assert [(r["id"], r["request_id"]) for r in json.loads(listed.stdout)] == [
            (paused["run_id"], request)
        ]
        assert service.calls() == [], "nothing deploys before the approval"

        approved = devops(other, "approvals", "approve", request, "--by", "alice", "--json")
        assert approved.returncode == 0, approved.stderr
        outcome = json.loads(approved.stdout)
        assert outcome["status"] == "done" and outcome["executed"]["ok"] is True, outcome
        again = devops(other, "approvals", "approve", request, "--by", "bob", "--json")
        assert again.returncode == 2 and "not waiting for approval" in again.stderr
        assert [(c["action"], c["version"]) for c in service.calls()] == [("deploy", "1.1.0")]
        assert not (Path(other["DEVOPS_HOME"]) / "graph.db").exists(), "the other host kept nothing locally"

        second = copy(laptop, postgres_url)
        assert second.keys() == first.keys()
        # the audit ships past a cursor of its own (tests/guardrails/test_audit_team.py): it
        # reads nothing again, so it has no "already there" count
        assert second.pop("audit.*") == (0, 0)
        for table, (copied, there) in second.items():
            assert (copied, there) == (0, sum(first[table])), (table, second)
        shown = devops(other, "runs", "show", paused["run_id"], "--json")
        assert json.loads(shown.stdout)["status"] == "done", "a rerun does not undo what the team did"
        assert [(c["action"], c["version"]) for c in service.calls()] == [("deploy", "1.1.0")]
