"""`devops iac` end to end: exit codes, formats, a fake `terraform` on PATH, and the real one if installed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from skill.cli import cli

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "iac"
PLANS = FIXTURES / "plans"
HCL = FIXTURES / "hcl"
SECRETS = [
    "N3w-S3cr3t-Passw0rd!",
    "0ld-S3cr3t-Passw0rd!",
    "sk-live-OLDOLDOLD123",
    "tok-9f8e7d6c5b4a",
    "LiteralPass-9876",
]


def devops(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def test_stateful_replace_in_prod_is_t4_exit_4():
    result = devops(
        "iac", "review", str(PLANS / "stateful_replace.json"), "--env", "prod", "--format", "json"
    )
    assert result.exit_code == 4
    payload = json.loads(result.output)
    assert payload["tier"] == 4 and payload["environment"] == "production"
    assert payload["summary"]["replace"] == 1 and payload["summary"]["create"] == 1
    db = next(c for c in payload["changes"] if c["address"] == "aws_db_instance.main")
    assert {
        "address",
        "type",
        "actions",
        "reason",
        "replace_paths",
        "stateful",
        "tier",
        "message",
    } <= db.keys()
    assert (
        db["actions"] == ["delete", "create"] and db["replace_paths"] == ["engine"] and db["stateful"] is True
    )
    assert payload["findings"][0]["id"] == "iac.destroy-stateful"


@pytest.mark.parametrize(
    "name,code", [("mixed.json", 3), ("noop.json", 0), ("drift.json", 0), ("deferred.json", 0)]
)
def test_exit_code_follows_the_tier(name, code):
    result = devops("iac", "review", str(PLANS / name))
    assert result.exit_code == code, result.output


@pytest.mark.parametrize(
    "name", ["truncated.json", "not_json.json", "future_format.json", "malformed_entry.json"]
)
def test_bad_input_is_one_line_and_exit_2(name):
    proc = subprocess.run(
        [sys.executable, "-m", "skill.cli", "iac", "review", str(PLANS / name)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("Error: ") and len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr and proc.stdout == ""


@pytest.mark.parametrize("fmt", ["text", "json", "md", "sarif"])
def test_no_secret_in_any_format(fmt, tmp_path):
    out = tmp_path / f"review.{fmt}"
    result = devops(
        "iac", "review", str(PLANS / "sensitive.json"), "--format", fmt, "--output", str(out), "--all"
    )
    assert result.exit_code == 4
    text = out.read_text() + result.output
    for secret in SECRETS:
        assert secret not in text, f"{secret} leaked in {fmt}"
    assert "aws_db_instance.main" in text or fmt == "sarif"
    if fmt == "sarif":
        log = json.loads(text)
        rule_ids = {r["ruleId"] for r in log["runs"][0]["results"]}
        assert {"iac.destroy-stateful", "iac.hardcoded-secret"} <= rule_ids


def test_markdown_lists_riskiest_change_first():
    result = devops("iac", "review", str(PLANS / "stateful_replace.json"), "--format", "md")
    assert result.exit_code == 4
    rows = [line for line in result.output.splitlines() if re.match(r"\| T\d ", line)]
    assert rows[0].startswith("| T4 | replace (stateful) | `aws_db_instance.main`")


def test_text_output_explains_and_gives_a_verdict():
    result = devops("iac", "review", str(PLANS / "drift.json"))
    assert "Drift (changed outside Terraform" in result.output
    assert "aws_sqs_queue.jobs was deleted outside Terraform" in result.output
    assert "Verdict: OK to apply" in result.output


def test_plan_json_from_stdin():
    result = devops("iac", "review", "-", "--json", input=(PLANS / "stateful_replace.json").read_text())
    assert result.exit_code == 4 and json.loads(result.output)["source"] == "-"


def test_lint_exit_codes_and_threshold():
    bad = devops("iac", "lint", str(HCL / "secrets"), "--json")
    assert bad.exit_code == 1
    ids = [f["id"] for f in json.loads(bad.output)["findings"]]
    assert ids.count("iac.hardcoded-secret") == 3
    good = devops("iac", "lint", str(HCL / "good"))
    assert good.exit_code == 0 and "no findings" in good.output
    medium_only = devops("iac", "lint", str(HCL / "unpinned"), "--fail-on", "high")
    assert medium_only.exit_code == 0 and "iac.module-pinned" in medium_only.output
    assert devops("iac", "lint", str(HCL / "unpinned"), "--fail-on", "medium").exit_code == 1
    sarif = json.loads(devops("iac", "lint", str(HCL / "secrets"), "--format", "sarif").output)
    loc = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"].endswith("secrets/main.tf") and loc["region"]["startLine"] > 1


def test_stateful_command():
    hit = devops("iac", "stateful", "aws_db_instance", "--json")
    assert json.loads(hit.output) == {
        "type": "aws_db_instance",
        "stateful": True,
        "category": "database",
        "consequence": "data loss unless a snapshot is taken",
    }
    assert "not in the stateful list" in devops("iac", "stateful", "aws_instance").output
    assert "google_storage_bucket" in devops("iac", "stateful").output


# --------------------------------------------------------------------------- fake terraform

FAKE_TERRAFORM = """#!{python}
import os, sys, zipfile
args = sys.argv[1:]
with open(os.environ["FAKE_TF_LOG"], "a") as log:
    log.write(os.getcwd() + " :: " + " ".join(args) + "\\n")
if args[:2] == ["show", "-json"] and os.environ.get("FAKE_TF_SHOW_FAILS"):
    for line in ["\\u2577", "\\u2502 Error: Failed to read the given file as a state or plan file", "\\u2502", "\\u2575"]:
        print(line, file=sys.stderr)
    sys.exit(1)
if args[:2] == ["show", "-json"]:
    with open(os.environ["FAKE_TF_PLAN_JSON"]) as fh:
        sys.stdout.write(fh.read())
    sys.exit(0)
if args[:1] == ["plan"]:
    if not os.path.isdir(".terraform"):
        print("Error: Required plugins are not installed; run terraform init", file=sys.stderr)
        sys.exit(1)
    out = [a for a in args if a.startswith("-out=")][0][5:]
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("tfplan", "binary plan")
    print("Plan: 1 to add, 0 to change, 1 to destroy.")
    sys.exit(0)
print("Error: unexpected arguments " + " ".join(args), file=sys.stderr)
sys.exit(1)
"""


@pytest.fixture
def fake_terraform(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "terraform"
    exe.write_text(FAKE_TERRAFORM.format(python=sys.executable))
    exe.chmod(0o755)
    log = tmp_path / "terraform.log"
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_TF_LOG", str(log))
    monkeypatch.setenv("FAKE_TF_PLAN_JSON", str(PLANS / "stateful_replace.json"))
    monkeypatch.delenv("DEVOPS_IAC_BINARY", raising=False)
    monkeypatch.delenv("TF_WORKSPACE", raising=False)
    return log


def _binary_plan(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("tfplan", "binary plan")
    return path


def test_binary_plan_goes_through_terraform_show(fake_terraform, tmp_path):
    work = tmp_path / "stack"
    work.mkdir()
    plan = _binary_plan(work / "tfplan")
    result = devops("iac", "review", str(plan), "--json")
    assert result.exit_code == 4, result.output
    payload = json.loads(result.output)
    assert payload["changes"][0]["address"] == "aws_db_instance.main"
    assert any("terraform show -json" in n for n in payload["notes"])
    calls = fake_terraform.read_text().splitlines()
    assert calls == [f"{work} :: show -json -no-color {plan.resolve()}"]


def test_initialised_directory_is_planned_then_shown(fake_terraform, tmp_path):
    work = tmp_path / "stack"
    work.mkdir()
    shutil.copy(HCL / "no_backend" / "main.tf", work / "main.tf")
    (work / ".terraform").mkdir()
    result = devops("iac", "review", str(work), "--json")
    assert result.exit_code == 4, result.output
    payload = json.loads(result.output)
    calls = [line.split(" :: ", 1)[1] for line in fake_terraform.read_text().splitlines()]
    assert calls[0].startswith("plan -out=") and "-lock=false" in calls[0]
    assert calls[1].startswith("show -json ")
    # `iac review DIR` includes the static findings of that directory
    assert any(f["id"] == "iac.remote-state" for f in payload["findings"])


def test_uninitialised_directory_says_what_to_do(fake_terraform, tmp_path):
    work = tmp_path / "stack"
    work.mkdir()
    shutil.copy(HCL / "no_backend" / "main.tf", work / "main.tf")
    result = devops("iac", "review", str(work))
    assert result.exit_code == 5 and "terraform init" in result.output
    assert "terraform plan failed (exit 1): Error: Required plugins are not installed" in result.output
    assert len(result.output.strip().splitlines()) == 1
    shutil.copy(PLANS / "mixed.json", work / "plan.json")
    recorded = devops("iac", "review", str(work), "--json")
    assert recorded.exit_code == 3
    assert "using the recorded plan" in json.loads(recorded.output)["notes"][0]
    calls = [line.split(" :: ", 1)[1] for line in fake_terraform.read_text().splitlines()]
    assert len(calls) == 1 and calls[0].startswith("plan ")  # not tried again once a recorded plan exists


def test_binary_plan_without_terraform_explains_how_to_get_json(tmp_path, monkeypatch):
    empty = tmp_path / "emptybin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    plan = _binary_plan(tmp_path / "tfplan")
    result = devops("iac", "review", str(plan))
    assert result.exit_code == 2
    assert "neither terraform nor tofu is installed" in result.output
    assert "terraform show -json tfplan > plan.json" in result.output


def test_tofu_is_used_when_terraform_is_absent(fake_terraform, tmp_path, monkeypatch):
    only_tofu = tmp_path / "tofubin"
    only_tofu.mkdir()
    shutil.copy(tmp_path / "bin" / "terraform", only_tofu / "tofu")
    monkeypatch.setenv("PATH", str(only_tofu))
    plan = _binary_plan(tmp_path / "tfplan")
    result = devops("iac", "review", str(plan), "--json")
    assert result.exit_code == 4
    assert "`tofu show -json`" in " ".join(json.loads(result.output)["notes"])
    # an explicit choice wins, and a missing explicit choice is an error, not a silent fallback
    monkeypatch.setenv("PATH", f"{only_tofu}{os.pathsep}{tmp_path / 'bin'}")
    monkeypatch.setenv("DEVOPS_IAC_BINARY", "terraform")
    assert "`terraform show -json`" in " ".join(
        json.loads(devops("iac", "review", str(plan), "--json").output)["notes"]
    )
    monkeypatch.setenv("DEVOPS_IAC_BINARY", "terraform-1.99")
    missing = devops("iac", "review", str(plan))
    assert missing.exit_code == 2 and "terraform-1.99 (chosen by $DEVOPS_IAC_BINARY" in missing.output


def test_unreadable_binary_plan_is_bad_input_with_terraforms_reason(fake_terraform, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_TF_SHOW_FAILS", "1")
    plan = _binary_plan(tmp_path / "tfplan")
    result = devops("iac", "review", str(plan))
    assert result.exit_code == 2, result.output
    assert "Failed to read the given file as a state or plan file" in result.output
    assert len(result.output.strip().splitlines()) == 1 and "\u2575" not in result.output


def test_failing_terraform_is_a_clean_error(fake_terraform, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_TF_PLAN_JSON", str(PLANS / "truncated.json"))
    plan = _binary_plan(tmp_path / "tfplan")
    result = devops("iac", "review", str(plan))
    assert result.exit_code == 2 and "truncated" in result.output


# --------------------------------------------------------------------------- the real terraform

REAL_TF_V1 = """
resource "terraform_data" "keep" {
  input = "one"
}
resource "terraform_data" "gone" {
  input = "bye"
}
"""
REAL_TF_V2 = """
resource "terraform_data" "kept" {
  input = "two"
}
moved {
  from = terraform_data.keep
  to   = terraform_data.kept
}
resource "terraform_data" "fresh" {
  input = "new"
}
"""


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform not installed")
def test_real_terraform_plan_of_a_directory(tmp_path, monkeypatch):
    work = tmp_path / "stack"
    work.mkdir()
    (work / "main.tf").write_text(REAL_TF_V1)
    env = {
        **os.environ,
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
        "TF_CLI_CONFIG_FILE": "/dev/null",
    }
    env.pop("TF_WORKSPACE", None)
    monkeypatch.setenv("CHECKPOINT_DISABLE", "1")
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", "/dev/null")
    monkeypatch.delenv("DEVOPS_IAC_BINARY", raising=False)
    for args in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        proc = subprocess.run(
            ["terraform", *args], cwd=work, env=env, capture_output=True, text=True, timeout=120
        )
        if proc.returncode != 0:
            pytest.skip(f"terraform {args[0]} failed here: {proc.stderr.strip()[-200:]}")
    (work / "main.tf").write_text(REAL_TF_V2)
    result = devops("iac", "review", str(work), "--json")
    payload = json.loads(result.output)
    changes = {c["address"]: c for c in payload["changes"]}
    assert changes["terraform_data.kept"]["previous_address"] == "terraform_data.keep"
    assert changes["terraform_data.fresh"]["kind"] == "create"
    assert changes["terraform_data.gone"]["reason"] == "delete_because_no_resource_config"
    assert payload["tier"] == 3 and result.exit_code == 3
    assert any(f["id"] == "iac.remote-state" for f in payload["findings"])


@pytest.mark.parametrize("kind", ["empty-dir", "not-terraform"])
def test_lint_of_a_path_without_terraform_code_is_exit_2(tmp_path, kind):
    target = tmp_path
    if kind == "not-terraform":
        target = tmp_path / "notes.yml"
        target.write_text("a: 1\n")
    result = devops("iac", "lint", str(target), "--json")
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: no Terraform code under") and "Traceback" not in result.output


# --------------------------------------------------------------------------- SARIF validity


def _check_sarif(log: dict) -> None:
    """SARIF 2.1.0 structure (the subset schema kept with the CI fixtures) and rule indexes."""
    import jsonschema

    schema = json.loads((FIXTURES.parent / "ci" / "sarif-2.1.0-subset.schema.json").read_text())
    jsonschema.validate(log, schema)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert len({r["id"] for r in rules}) == len(rules)
    for result in log["runs"][0]["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_review_sarif_is_valid_and_points_at_each_change_in_the_plan(tmp_path, monkeypatch):
    shutil.copy(PLANS / "mixed.json", tmp_path / "plan.json")
    monkeypatch.chdir(tmp_path)
    result = devops("iac", "review", "plan.json", "--format", "sarif")
    assert result.exit_code in (3, 4), result.output
    log = json.loads(result.output)
    _check_sarif(log)
    lines = (tmp_path / "plan.json").read_text().splitlines()
    destroys = [r for r in log["runs"][0]["results"] if r["ruleId"].startswith("iac.destroy")]
    assert destroys
    for r in destroys:
        loc = r["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"] == "plan.json"
        # the region is the change's own entry in resource_changes, not line 1
        line = lines[loc["region"]["startLine"] - 1]
        assert '"address"' in line and json.dumps(r["properties"]["object"]) in line


def test_lint_sarif_is_valid(monkeypatch):
    monkeypatch.chdir(HCL)
    result = devops("iac", "lint", "json_bad", "--format", "sarif")
    assert result.exit_code == 1
    _check_sarif(json.loads(result.output))


@pytest.mark.skipif(not Path("/proc/self/mem").is_file(), reason="needs Linux /proc")
def test_unreadable_plan_is_one_line_exit_2():
    result = devops("iac", "review", "/proc/self/mem")  # a regular file whose read fails, even for root
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: cannot read /proc/self/mem")
    assert len(result.output.strip().splitlines()) == 1
