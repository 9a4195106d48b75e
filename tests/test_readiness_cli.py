"""`devops readiness`: output formats, exit codes, the config target, and the sample service."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from skill.cli import cli
from skill.nodes.readiness import review
from skill.nodes.readiness.checks import CHECKS
from skill.nodes.readiness.scoring import level_achieved

FIX = Path(__file__).parent / "fixtures" / "readiness"
REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "examples" / "sample-service"
KEYS = {"id", "status", "severity", "level", "file", "line", "object", "message", "fix"}


def invoke(*args):
    return CliRunner().invoke(cli, ["readiness", *map(str, args)])


def test_json_shape_and_exit_codes():
    good = invoke(FIX / "k8s" / "good-deployment.yaml", "--format", "json")
    data = json.loads(good.output)
    assert set(data) == {"path", "level_achieved", "target_level", "go", "checks"}
    assert all(set(c) == KEYS for c in data["checks"])
    assert data["level_achieved"] == "L4" and data["go"] is True and good.exit_code == 0
    # one entry per check and object: 15 k8s checks for the one Deployment
    k8s = [c for c in data["checks"] if c["object"] == "Deployment/payments/api"]
    assert sorted(c["id"] for c in k8s) == sorted(cid for cid in CHECKS if cid.startswith("k8s."))

    bad = invoke(FIX / "k8s" / "bad-deployment.yaml", "--format", "json", "--level", "L1")
    data = json.loads(bad.output)
    assert data["level_achieved"] == "L0" and data["target_level"] == "L1" and data["go"] is False
    assert bad.exit_code == 1


def test_usage_errors_exit_2(tmp_path):
    assert invoke(tmp_path / "missing").exit_code == 2
    r = invoke(FIX / "k8s" / "good-deployment.yaml", "--level", "L7")
    assert r.exit_code == 2 and "unknown level" in r.output
    assert invoke(FIX / "k8s" / "good-deployment.yaml", "--format", "yaml").exit_code == 2


def test_target_comes_from_config_per_environment(tmp_path, monkeypatch):
    config_dir = tmp_path / "cfg"
    config_dir.mkdir()
    (config_dir / "config.toml").write_text('[readiness.targets]\nproduction = "L4"\nqa = "L1"\n')
    monkeypatch.setenv("DEVOPS_CONFIG_DIR", str(config_dir))
    assert review(SAMPLE, env="production").target_level == "L4"
    assert review(SAMPLE, env="qa").target_level == "L1"
    assert review(SAMPLE, env="staging").target_level == "L2"  # built-in default kept
    assert review(SAMPLE, env="qa", target_level="3").target_level == "L3"  # --level wins


def test_sarif_markdown_text_and_output_file(tmp_path):
    sarif = json.loads(invoke(FIX / "docker" / "bad.Dockerfile", "--format", "sarif").output)
    assert sarif["version"] == "2.1.0"
    results = sarif["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {cid for cid in CHECKS if cid.startswith("docker.")}
    loc = next(r for r in results if r["ruleId"] == "docker.exec-form")["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "bad.Dockerfile" and loc["region"]["startLine"] == 17

    repo_sarif = json.loads(invoke(SAMPLE, "--format", "sarif").output)
    results = repo_sarif["runs"][0]["results"]
    assert results and all(r.get("locations") for r in results)  # GitHub rejects results without one
    tracing = next(r for r in results if r["ruleId"] == "repo.tracing")
    assert tracing["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "README.md"

    out = tmp_path / "report.md"
    r = invoke(SAMPLE, "--format", "md", "--output", out)
    assert r.exit_code == 1 and r.output == ""
    md = out.read_text()
    assert "NO-GO" in md and "`k8s.startup-probe`" in md

    text = invoke(FIX / "docker" / "bad.Dockerfile")
    assert "docker.exec-form" in text.output and "NO-GO" in text.output


def test_warnings_do_not_block_but_failures_do():
    from skill.findings import Finding

    def f(level, status):
        return Finding(id="x", message="m", level=level, status=status)

    assert level_achieved([f("L1", "pass"), f("L2", "warn"), f("L3", "n/a")]) == "L4"
    assert level_achieved([f("L1", "pass"), f("L3", "fail")]) == "L2"
    assert level_achieved([f("L4", "pass"), f("L1", "fail")]) == "L0"  # cumulative


# --- the sample service -------------------------------------------------------------------
SAMPLE_FAILING = {
    "k8s.startup-probe",
    "k8s.network-policy",
    "k8s.anti-affinity",
    "k8s.seccomp",
    "k8s.sa-token-automount",
    "k8s.image-digest",
    "repo.tracing",
    "repo.timeouts-retries",
    "repo.slo",
    "repo.slo-alerts",
    "repo.backups",
    "repo.canary",
    "repo.burn-rate-alerts",
    "repo.error-budget-policy",
    "repo.chaos",
}


def test_sample_service_level_and_gaps():
    rep = review(SAMPLE, env="production")
    assert rep.level_achieved == "L2" and rep.target_level == "L3" and rep.go is False
    assert {f.id for f in rep.checks if f.status == "fail"} == SAMPLE_FAILING
    assert not rep.warnings
    np = next(f for f in rep.checks if f.id == "k8s.network-policy")
    assert np.object == "Deployment/orders/orders-api"  # namespace from the production overlay
    assert "Egress" in np.message and np.file == "k8s/base/networkpolicy.yaml"
    assert review(SAMPLE, env="staging").go is True  # staging asks for L2


def test_sample_readme_documents_every_gap():
    readme = (SAMPLE / "README.md").read_text()
    for check_id in SAMPLE_FAILING:
        assert f"`{check_id}`" in readme


def test_sample_report_is_the_commands_output(monkeypatch):
    monkeypatch.chdir(REPO)
    r = invoke("examples/sample-service", "--env", "production", "--format", "md")
    assert r.exit_code == 1
    assert (SAMPLE / "READINESS.md").read_text() == r.output


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_scanning_the_project_itself_works(repo_root, fmt):
    r = invoke(repo_root, "--format", fmt, "--env", "dev")
    assert r.exit_code in (0, 1), r.output
    if fmt == "json":
        data = json.loads(r.output)
        assert data["target_level"] == "L1"
        assert any(c["id"] == "repo.ci" for c in data["checks"])
        # the project gates itself: its own dev target is met, and no secret sits in shipped code
        # (secret-shaped test data only warns: see repo.secrets-committed in docs/readiness.md)
        blocking = [(c["id"], c["file"], c["message"]) for c in data["checks"] if c["status"] == "fail"]
        assert data["go"] and r.exit_code == 0, [b for b in blocking if b[0].startswith(("repo.", "docker."))]
        secrets = next(c for c in data["checks"] if c["id"] == "repo.secrets-committed")
        assert secrets["status"] != "fail", secrets["message"]


def test_real_process_exit_codes_and_text_output_file(run, tmp_path):
    proc = run("-m", "skill.cli", "readiness", str(SAMPLE), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["level_achieved"] == "L2"
    proc = run("-m", "skill.cli", "readiness", str(SAMPLE), "--env", "staging")
    assert proc.returncode == 0 and "GO" in proc.stdout
    out = tmp_path / "table.txt"
    proc = run("-m", "skill.cli", "readiness", str(SAMPLE), "--all", "--output", str(out))
    assert proc.returncode == 1 and proc.stdout == ""
    table = out.read_text()
    assert "k8s.startup-probe" in table and "repo.health-endpoint" in table  # --all lists passes too
    proc = run("-m", "skill.cli", "readiness", str(tmp_path / "missing"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_config_disable_and_runbook_minimum(tmp_path, monkeypatch):
    config_dir = tmp_path / "cfg"
    config_dir.mkdir()
    (config_dir / "config.toml").write_text(
        '[readiness]\ndisable = ["k8s.startup-probe", "k8s.network-policy", "k8s.anti-affinity", "repo.tracing",'
        ' "repo.timeouts-retries", "repo.slo", "repo.backups"]\nrunbook_min_scenarios = 6\n'
    )
    monkeypatch.setenv("DEVOPS_CONFIG_DIR", str(config_dir))
    rep = review(SAMPLE, env="production")
    rows = {f.id: f for f in rep.checks}
    assert rows["k8s.startup-probe"].status == "n/a" and "disabled" in rows["k8s.startup-probe"].message
    assert rows["repo.runbooks"].status == "fail" and "5 runbook scenario" in rows["repo.runbooks"].message
    assert rep.level_achieved == "L1"  # runbooks (L2) now fail; the disabled L3 checks no longer matter


def test_environment_aliases_and_unknown_environments(tmp_path, monkeypatch):
    kinds = FIX / "k8s" / "kinds.yaml"

    def replicas(rep):
        return next(
            f.status for f in rep.checks if f.id == "k8s.replicas" and f.object == "StatefulSet/data/db"
        )

    # the gate's aliases: prd / live are production (target L3, two replicas), stg is staging
    for alias in ("prd", "live", "eu-prod"):
        rep = review(kinds, env=alias)
        assert rep.target_level == "L3" and replicas(rep) == "fail", alias
    assert review(kinds, env="stg").target_level == "L2" and replicas(review(kinds, env="stg")) == "pass"

    # a typo or an unknown name is a usage error, not a quietly lower bar
    for extra in ([], ["--level", "L2"]):
        r = invoke(kinds, "--env", "nowhere", *extra)
        assert r.exit_code == 2 and r.output.startswith("Error: unknown environment 'nowhere'")
        assert len(r.output.strip().splitlines()) == 1

    # ... unless config.toml gives it a target
    config_dir = tmp_path / "cfg"
    config_dir.mkdir()
    (config_dir / "config.toml").write_text('[readiness.targets]\nnowhere = "L1"\n')
    monkeypatch.setenv("DEVOPS_CONFIG_DIR", str(config_dir))
    rep = review(kinds, env="nowhere")
    assert rep.target_level == "L1" and replicas(rep) == "pass"


def test_nothing_reviewable_is_no_go(tmp_path):
    # an all-"n/a" report proves no level: a YAML without workloads or an empty file is not a GO
    config = tmp_path / "settings.yaml"
    config.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: app}\n")
    for path in (config, tmp_path / "empty.yaml"):
        path.touch()
        r = invoke(path, "--format", "json")
        data = json.loads(r.output)
        assert r.exit_code == 1 and data["go"] is False and data["level_achieved"] == "L0"
        assert all(c["status"] in ("n/a", "warn") for c in data["checks"])
    assert "nothing reviewable found" in invoke(config).output
    # one applicable passing check is enough evidence to score again
    assert invoke(FIX / "docker" / "good.Dockerfile").exit_code == 0


@pytest.mark.parametrize("fmt", ["text", "json", "md", "sarif"])
def test_unwritable_output_is_a_one_line_error(tmp_path, fmt):
    target = tmp_path / "no-such-dir" / "report"
    r = invoke(FIX / "docker" / "bad.Dockerfile", "--format", fmt, "--output", target)
    assert r.exit_code == 2 and r.output.strip() == f"Error: cannot write {target}: No such file or directory"
