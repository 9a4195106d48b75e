"""`devops demo`, the README's main job, end to end as a real process (offline, no API key)."""

from __future__ import annotations

import json


def test_demo_runs_the_whole_story(run, tmp_path):
    keep = tmp_path / "demo"
    proc = run("-m", "skill.cli", "demo", "--json", "--data-dir", str(keep), timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    steps = json.loads(proc.stdout)["steps"]
    by_title = {s["step"]: s for s in steps}

    readiness = by_title["Production-readiness review"]
    assert readiness["node"] == "readiness" and "NO-GO" in readiness["report"]
    assert by_title["CI workflow audit"]["node"] == "ci"
    assert "ci.unpinned-action" in by_title["CI workflow audit"]["report"]
    assert "T4" in by_title["Terraform plan review"]["report"]

    staging = by_title["Deploy to staging (T2: the gate allows it)"]
    assert staging["status"] == "done" and "Deploy succeeded" in staging["report"]

    prod = by_title["Deploy to production (T4: stops for approval)"]
    assert prod["status"] == "awaiting_approval" and prod["request_id"].startswith("rq-")
    resumed = by_title[f"approved {prod['run_id']}"]
    assert resumed["status"] == "done" and "approved by demo-operator" in resumed["report"]

    canary = next(s for s in steps if s["step"].startswith("Canary"))
    canary_done = by_title[f"approved {canary['run_id']}"]
    assert (
        "analysis failed" in canary_done["report"]
        and "rolled back to 1.4.0: succeeded" in canary_done["report"]
    )
    assert canary["request_id"] != prod["request_id"], "an approval binds to one version"
    # the SLO status line from a real Prometheus (or why not), and what the failed step burnt
    status_line, burnt = canary_done["error_budget"]
    assert status_line.startswith(("SLO orders-api/availability: SLI 99.950%", "SLO status: skipped"))
    assert burnt.startswith("The failed step burnt ") and "31% errors on 10% of traffic" in burnt

    alert = by_title["Alert triage"]
    assert alert["node"] == "incident"
    assert "INC-1" in alert["report"] and "raised the DB pool" in alert["report"]  # recalled from memory
    assert "high-error-rate.md" in alert["report"]

    # the sandbox kept its records: the runs are listed from another process
    env = {"DEVOPS_HOME": str(keep / "data"), "DEVOPS_CONFIG_DIR": str(keep / "config")}
    listed = json.loads(run("-m", "skill.cli", "runs", "list", "--json", env=env).stdout)
    assert {r["id"] for r in listed} == {s["run_id"] for s in steps}
    assert not any(r["status"] == "awaiting_approval" for r in listed)


def test_the_demo_never_writes_into_a_configured_team_database(run, team_mode, tmp_path):
    """The sample story's deployments and incidents would turn up in the team's real triage."""
    import psycopg

    proc = run("-m", "skill.cli", "demo", "--json", "--data-dir", str(tmp_path / "demo"), timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout)["steps"], "the story ran"
    with psycopg.connect(team_mode) as conn:
        tables = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    assert tables == []
    assert (tmp_path / "demo" / "data" / "memory.db").exists()  # it used the embedded stores instead
