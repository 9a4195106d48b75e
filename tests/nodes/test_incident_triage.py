"""Incident triage: matrix severity, memory recall, runbook, suggested rollback (gated when run)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from skill.cli import cli
from skill.errors import UsageError
from skill.memory import Memory
from skill.nodes.incident import find_runbook, find_runbooks, triage_incident

REPO = Path(__file__).resolve().parents[1] / "fixtures" / "incident" / "repo"


@pytest.fixture
def history():
    """api: v1.3.9 good, v1.4.0 deployed just now; an older similar incident with its resolution."""
    with Memory.open() as mem:
        mem.record_deployment("api", "production", "v1.3.9", strategy="rolling")
        old = mem.open_incident("checkout returns 502 errors after a release", severity="SEV2", service="api")
        mem.resolve_incident(
            old.id, resolution="rolled back to the previous release", root_cause="bad cache key"
        )
        mem.record_deployment("api", "production", "v1.4.0", strategy="canary")
    return old.id


def test_runbook_matching_prefers_service_and_symptom():
    best = find_runbook("5xx errors on checkout", service="api", repo=REPO)
    assert best.path == "docs/runbooks/api-5xx-errors.md"
    assert best.service_match and {"5xx", "checkout"} <= set(best.matched_terms)
    db = find_runbook("database connection timeouts", service="worker", repo=REPO)
    assert db.path == "docs/runbooks/database-connections.md"
    assert find_runbook("certificate expired", service="api", repo=REPO) is None
    assert find_runbooks("anything", repo=REPO / "nowhere") == []


def test_triage_brings_severity_memory_runbook_and_rollback(history):
    rep = triage_incident("5xx rate spiking on checkout", service="api", repo=REPO)
    assert rep.severity.severity == "SEV2" and rep.severity.matrix.escalation == "1 hour"
    assert rep.recent_deploys[0]["version"] == "v1.4.0"
    assert rep.last_good_version == "v1.3.9"
    assert history in [s["id"] for s in rep.similar_incidents]
    similar = next(s for s in rep.similar_incidents if s["id"] == history)
    assert similar["resolution"] == "rolled back to the previous release"
    assert rep.runbook.path == "docs/runbooks/api-5xx-errors.md"
    rb = rep.suggested_rollback
    assert (rb.from_version, rb.to_version, rb.env, rb.gate_action) == (
        "v1.4.0",
        "v1.3.9",
        "production",
        "rollback",
    )
    assert rb.argv[:2] == ["devops", "deploy"] and "--rollback" in rb.argv
    assert any("roll back" in step for step in rep.next_steps)
    assert rep.incident_id is None  # read-only by default


def test_triage_without_recent_deploy_suggests_no_rollback():
    rep = triage_incident("disk full, writes fail", service="db", repo=REPO)
    assert rep.suggested_rollback is None and rep.recent_deploys == []
    assert rep.runbook.path == "docs/runbooks/disk-full.md"


def test_after_a_rollback_no_second_rollback_is_suggested(history):
    with Memory.open() as mem:
        mem.record_deployment("api", "production", "v1.3.9", strategy="rollback", rolled_back_from="v1.4.0")
    rep = triage_incident("5xx on checkout", service="api", repo=REPO)
    assert rep.suggested_rollback is None
    assert any("already rolled back from v1.4.0 to v1.3.9" in step for step in rep.next_steps)


def test_alert_label_and_explicit_severity(history):
    assert (
        triage_incident(
            "api down", service="api", repo=REPO, labels={"severity": "warning"}
        ).severity.severity
        == "SEV3"
    )
    assert (
        triage_incident("minor glitch", service="api", repo=REPO, severity="SEV1").severity.severity == "SEV1"
    )


def test_open_incident_records_it_with_the_matrix_severity(history):
    rep = triage_incident("checkout is down for everyone", service="api", repo=REPO, open_incident=True)
    with Memory.open() as mem:
        inc = mem.get_incident(rep.incident_id)
    assert inc.severity == "SEV1" and inc.service == "api" and inc.status == "open"


def test_empty_symptoms_are_a_usage_error():
    with pytest.raises(UsageError):
        triage_incident("  ")


def test_cli_triage_text_and_json(history):
    runner = CliRunner()
    text = runner.invoke(
        cli, ["incident", "triage", "5xx on checkout", "--service", "api", "--repo", str(REPO)]
    )
    assert text.exit_code == 0, text.output
    assert "SEV2 (degraded)" in text.stdout and "api-5xx-errors.md" in text.stdout
    assert "--rollback-to v1.3.9" in text.stdout
    as_json = runner.invoke(
        cli,
        [
            "incident",
            "triage",
            "5xx on checkout",
            "-s",
            "api",
            "--repo",
            str(REPO),
            "--label",
            "severity=critical",
            "--json",
        ],
    )
    data = json.loads(as_json.stdout)
    assert data["severity"]["severity"] == "SEV1" and data["severity"]["matrix"]["notify"] == [
        "exec",
        "customers",
    ]
    bad = runner.invoke(cli, ["incident", "triage", "x", "--window", "soon"])
    assert bad.exit_code == 2 and "invalid duration" in bad.stderr


def test_cli_open_resolve_list():
    runner = CliRunner()
    opened = runner.invoke(
        cli, ["incident", "open", "search latency degraded", "--service", "search", "--json"]
    )
    assert opened.exit_code == 0, opened.output
    inc = json.loads(opened.stdout)
    assert inc["severity"] == "SEV2"  # from the title by the matrix
    resolved = runner.invoke(
        cli, ["incident", "resolve", inc["id"], "--resolution", "scaled the index", "--json"]
    )
    assert json.loads(resolved.stdout)["status"] == "resolved"
    listed = json.loads(runner.invoke(cli, ["incident", "list", "--status", "resolved", "--json"]).stdout)
    assert [i["id"] for i in listed] == [inc["id"]]
    missing = runner.invoke(cli, ["incident", "resolve", "INC-999", "--resolution", "x"])
    assert missing.exit_code == 2 and "INC-999" in missing.stderr


def test_flag_switch_shows_up_as_a_recent_change_with_its_revert(history):
    from skill.nodes.deploy import set_flag

    set_flag("new-checkout", "on", "production", by="alice", service="api")
    rep = triage_incident("5xx on checkout", service="api", repo=REPO)
    flags = [c for c in rep.recent_changes if "flag" in (c.get("tags") or [])]
    assert len(flags) == 1 and "new-checkout set on in production by alice" in flags[0]["text"]
    assert any("devops flag set new-checkout off --env production" in step for step in rep.next_steps)


def test_the_suggested_rollback_passes_the_gate_when_run(history, tmp_path, monkeypatch):
    # The suggestion is only a command: running it as given must stop at the safety gate
    # (rollback in production needs a human) with nothing executed and nothing recorded.
    rb = triage_incident("5xx rate spiking on checkout", service="api", repo=REPO).suggested_rollback
    driver_log = tmp_path / "driver-called"
    script = tmp_path / "driver.sh"
    script.write_text(f"#!/bin/sh\ntouch {driver_log}\n")
    script.chmod(0o755)
    config_dir = tmp_path / "cfg"
    config_dir.mkdir()
    (config_dir / "config.toml").write_text(f'[deploy]\ndriver = "script"\nscript = "{script}"\n')
    monkeypatch.setenv("DEVOPS_CONFIG_DIR", str(config_dir))
    with Memory.open() as mem:
        before = [(d.version, d.status) for d in mem.deployments(service="api", env="production")]

    result = CliRunner().invoke(cli, rb.argv[1:])

    assert result.exit_code == 3, result.output
    assert "approval required" in result.stderr and "rollback" in result.stderr
    assert not driver_log.exists()
    with Memory.open() as mem:
        assert [(d.version, d.status) for d in mem.deployments(service="api", env="production")] == before


def test_cli_triage_env_severity_and_repo_options(history):
    runner = CliRunner()
    base = ["incident", "triage", "checkout is slow", "-s", "api", "--repo", str(REPO), "--json"]
    forced = json.loads(runner.invoke(cli, [*base, "--severity", "P1"]).stdout)
    assert forced["severity"]["severity"] == "SEV1" and forced["severity"]["source"] == "label"
    assert forced["suggested_rollback"]["env"] == "production"
    # the recent deploy is in production: limited to staging, there is nothing to roll back
    staging = json.loads(runner.invoke(cli, [*base, "--env", "staging"]).stdout)
    assert staging["suggested_rollback"] is None
    typo = runner.invoke(cli, [*base, "--severity", "SEV9"])
    assert typo.exit_code == 2 and "unknown severity 'SEV9'" in typo.stderr
    missing = runner.invoke(cli, ["incident", "triage", "x", "--repo", str(REPO / "nowhere")])
    assert missing.exit_code == 2 and "does not exist" in missing.stderr


def test_a_repeated_open_joins_the_open_incident_instead_of_duplicating_it(history):
    first = triage_incident("checkout is down for everyone", service="api", repo=REPO, open_incident=True)
    again = triage_incident("Checkout is down for everyone", service="api", repo=REPO, open_incident=True)
    other = triage_incident("checkout is down for everyone", service="web", repo=REPO, open_incident=True)
    assert again.incident_id == first.incident_id and other.incident_id != first.incident_id
    with Memory.open() as mem:
        mem.resolve_incident(first.incident_id, resolution="restarted the pods")
        after = triage_incident("checkout is down for everyone", service="api", repo=REPO, open_incident=True)
        open_api = [i.id for i in mem.incidents(status="open", service="api")]
    assert after.incident_id != first.incident_id  # a resolved incident is not reopened silently
    assert open_api == [after.incident_id]
