"""The graph commands as a user runs them: handle, ask, runs, doctor."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "events"


def devops(run, *args, **kw):
    return run("-m", "skill.cli", *args, **kw)


def test_handle_alert_then_runs_show(run):
    proc = devops(run, "handle", str(FIXTURES / "alertmanager_firing.json"), "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert (out["node"], out["op"], out["status"]) == ("incident", "triage", "done")
    assert "SEV1" in out["report"]
    shown = devops(run, "runs", "show", out["run_id"])
    assert shown.returncode == 0 and "HighErrorRate" in shown.stdout


def test_handle_failed_workflow_without_gh_triages_from_the_event(run):
    proc = devops(
        run, "handle", str(FIXTURES / "github_workflow_run_failure.json"), "--source", "github", "--json"
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["node"] == "ci"
    assert "CI failure: workflow CI failure on main" in out["report"]
    assert any("triaged from the event alone" in n for n in out["notices"])


def test_handle_from_stdin_and_bad_input(run):
    body = (FIXTURES / "gitlab_deployment_success.json").read_text()
    proc = devops(run, "handle", "-", "--json", input=body)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["op"] == "record_deployment"
    bad = devops(run, "handle", "-", input="{nope")
    assert bad.returncode == 2 and bad.stderr.startswith("Error: event body is not valid JSON")
    missing = devops(run, "handle", "/nonexistent.json")
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    assert "Traceback" not in bad.stderr + missing.stderr


def test_ask_failure_is_one_line_and_recorded(run):
    proc = devops(run, "ask", "deploy api to production")  # no version
    assert proc.returncode == 1
    assert "a deploy needs a version" in proc.stdout
    listed = json.loads(devops(run, "runs", "list", "--json").stdout)
    assert [r["status"] for r in listed] == ["failed"]
    assert devops(run, "runs", "show", "run-nope").returncode == 2
    assert "nothing is waiting" in devops(run, "approvals", "list").stdout


def test_doctor(run, tmp_path):
    ok = devops(run, "doctor", "--json")
    report = json.loads(ok.stdout)
    names = {c["name"]: c for c in report["checks"]}
    assert names["data dir"]["status"] == "ok"
    assert {"gh", "glab", "kubectl", "chroma server", "embedding model"} <= set(names)
    down = devops(run, "doctor", "--json", env={"DEVOPS_CHROMA_URL": "http://127.0.0.1:9"})
    assert down.returncode == 1
    assert {c["name"]: c for c in json.loads(down.stdout)["checks"]}["chroma server"]["status"] == "fail"
