"""Static .tf checks, each rule both ways, with file and line on every finding."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from skill.errors import InputError
from skill.nodes.iac import review_code
from skill.nodes.iac.hcl_checks import RULES

HCL = Path(__file__).resolve().parents[2] / "fixtures" / "iac" / "hcl"


def findings(case: str, rule: str | None = None):
    found = review_code(HCL / case)
    return [f for f in found if rule is None or f.id == rule]


def where(f) -> tuple[str, int | None]:
    return (f.file.split("/hcl/", 1)[1], f.line)


def test_good_layout_has_no_findings():
    assert findings("good") == []


def test_remote_state():
    (missing,) = findings("no_backend", "iac.remote-state")
    assert where(missing) == ("no_backend/main.tf", 1) and "no backend" in missing.message
    (local,) = findings("local_backend", "iac.remote-state")
    assert where(local) == ("local_backend/main.tf", 2) and "local backend" in local.message
    assert findings("good", "iac.remote-state") == [] and findings("secrets", "iac.remote-state") == []


def test_state_encryption_and_locking():
    (f,) = findings("unencrypted", "iac.state-encryption")
    assert where(f) == ("unencrypted/main.tf", 4)
    assert "no encryption" in f.message and "no state locking" in f.message and f.severity == "high"
    # gcs and azurerm encrypt and lock by themselves; the good s3 backends set both
    assert findings("secrets", "iac.state-encryption") == []
    assert findings("unpinned", "iac.state-encryption") == []
    assert findings("good", "iac.state-encryption") == []


def test_partial_backend_config_is_read_from_tfbackend_files(tmp_path):
    work = tmp_path / "stack"
    work.mkdir()
    (work / "main.tf").write_text(
        'terraform {\n  backend "s3" {}\n}\nresource "aws_sqs_queue" "q" {\n  name = "q"\n}\n'
    )
    (f,) = [f for f in review_code(work) if f.id == "iac.state-encryption"]
    assert f.status == "warn" and "-backend-config" in f.message
    (work / "prod.s3.tfbackend").write_text('bucket = "s"\nkey = "k"\nencrypt = true\nuse_lockfile = true\n')
    assert [f for f in review_code(work) if f.id == "iac.state-encryption"] == []


def test_hardcoded_secrets_found_with_lines_and_no_values():
    found = findings("secrets", "iac.hardcoded-secret")
    assert sorted(where(f) for f in found) == [
        ("secrets/main.tf", 16),
        ("secrets/main.tf", 21),
        ("secrets/main.tf", 31),
    ]
    text = " ".join(f.message for f in found)
    for value in ("AKIAIOSFODNN7EXAMPLE", "Sup3r-Secret-Default", "Hunter2-Literal-Pass"):
        assert value not in text
    # references, variables without defaults and *_ttl settings are not credentials
    assert not any("aws_db_instance.ok" in f.message or "api_token_ttl" in f.message for f in found)
    assert findings("good", "iac.hardcoded-secret") == []


def test_provider_pinning():
    found = findings("unpinned", "iac.provider-pinned")
    by_line = {f.line: f for f in found}
    assert "`azurerm` has no version" in by_line[9].message and by_line[9].status == "fail"
    assert "no upper bound" in by_line[12].message and by_line[12].status == "warn"
    assert "random used without a required_providers entry" in by_line[19].message
    assert findings("good", "iac.provider-pinned") == []


def test_module_pinning():
    found = {f.object: f for f in findings("unpinned", "iac.module-pinned")}
    assert set(found) == {"module.network", "module.tags", "module.naming"}
    assert found["module.network"].line == 26 and "no version" in found["module.network"].message
    assert "without ?ref=" in found["module.tags"].message
    assert "branch `main`" in found["module.naming"].message
    # registry with version, git with a tag, and local paths pass
    assert findings("good", "iac.module-pinned") == []


def test_env_separation_shared_state_and_wrong_key():
    (shared,) = findings("shared_state", "iac.env-separation")
    assert "write the same state" in shared.message and shared.line == 2
    (wrong,) = findings("wrong_key", "iac.env-separation")
    assert "is production but its backend state" in wrong.message
    assert findings("good", "iac.env-separation") == []


def test_env_separation_tfvars_need_workspaces():
    (one,) = findings("tfvars_one_state", "iac.env-separation")
    assert "shares one state" in one.message and where(one) == ("tfvars_one_state/main.tf", 2)
    assert findings("tfvars_workspaces", "iac.env-separation") == []


def test_copy_paste_across_environment_folders():
    found = findings("copy_paste", "iac.copy-paste")
    assert sorted(f.object for f in found) == ["aws_db_instance.main", "aws_instance.web"]
    db = next(f for f in found if f.object == "aws_db_instance.main")
    assert "envs/prod/main.tf:16" in db.message and "envs/staging/main.tf:16" in db.message
    # the good layout calls one module from each environment
    assert findings("good", "iac.copy-paste") == []


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        timeout=30,
    )


def _stack_with_state(root: Path) -> Path:
    root.mkdir()
    shutil.copy(HCL / "good" / "environments" / "dev" / "main.tf", root / "main.tf")
    (root / "terraform.tfstate").write_text('{"version": 4}')
    (root / "secrets.auto.tfvars").write_text('region = "eu-west-1"\ndb_password = "Tfvars-Secret-123"\n')
    (root / "plain.tfvars").write_text('region = "eu-west-1"\n')
    return root


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_state_committed_depends_on_git(tmp_path):
    root = _stack_with_state(tmp_path / "stack")
    no_git = [f for f in review_code(root) if f.id == "iac.state-committed"]
    assert sorted((Path(f.file).name, f.status) for f in no_git) == [
        ("secrets.auto.tfvars", "fail"),
        ("terraform.tfstate", "fail"),
    ]
    tfvars = next(f for f in no_git if f.file.endswith(".tfvars"))
    assert (
        tfvars.line == 2 and "`db_password`" in tfvars.message and "Tfvars-Secret-123" not in tfvars.message
    )

    _git(root, "init", "-q")
    (root / ".gitignore").write_text("*.tfstate\n*.auto.tfvars\n")
    ignored = [f for f in review_code(root) if f.id == "iac.state-committed"]
    assert [(Path(f.file).name, f.status) for f in ignored] == [("terraform.tfstate", "warn")]

    _git(root, "add", "-f", "terraform.tfstate")
    _git(root, "commit", "-q", "-m", "oops")
    committed = [f for f in review_code(root) if f.id == "iac.state-committed"]
    assert [(f.status, f.severity) for f in committed] == [("fail", "critical")]
    assert "committed to git" in committed[0].message


def test_parse_error_is_a_finding_not_a_crash(tmp_path):
    (tmp_path / "broken.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = \n')
    (tmp_path / "ok.tf").write_text('resource "aws_sqs_queue" "q" {\n  name = "q"\n}\n')
    found = review_code(tmp_path)
    assert any(f.id == "iac.parse-error" and f.file.endswith("broken.tf") for f in found)
    assert any(f.id == "iac.remote-state" for f in found)


def test_single_file_and_missing_path(tmp_path):
    found = review_code(HCL / "secrets" / "main.tf")
    assert len([f for f in found if f.id == "iac.hardcoded-secret"]) == 3
    with pytest.raises(InputError):
        review_code(tmp_path / "nope")


def test_every_rule_is_documented():
    doc = (Path(__file__).resolve().parents[3] / "docs" / "iac.md").read_text()
    for rule in RULES:
        assert f"`{rule}`" in doc


def test_environment_found_anywhere_in_the_folder_path(tmp_path):
    for env in ("dev", "prod"):
        app = tmp_path / "live" / env / "app"
        app.mkdir(parents=True)
        shutil.copy(HCL / "copy_paste" / "envs" / "prod" / "main.tf", app / "main.tf")
    found = [f for f in review_code(tmp_path) if f.id == "iac.copy-paste"]
    assert sorted(f.object for f in found) == ["aws_db_instance.main", "aws_instance.web"]
    # the copies also share one backend key: dev and prod write the same state
    assert any(
        "write the same state" in f.message for f in review_code(tmp_path) if f.id == "iac.env-separation"
    )


def test_each_layout_in_a_tree_is_judged_on_its_own(tmp_path):
    shutil.copytree(HCL / "shared_state", tmp_path / "shared_state")
    shutil.copytree(HCL / "tfvars_one_state", tmp_path / "tfvars_one_state")
    shutil.copytree(HCL / "tfvars_workspaces", tmp_path / "tfvars_workspaces")
    messages = [f.message for f in review_code(tmp_path) if f.id == "iac.env-separation"]
    assert len(messages) == 2
    assert any("tfvars_one_state selects" in m for m in messages)
    assert any("write the same state" in m for m in messages)


def test_reusable_modules_may_state_minimum_versions_and_aliases_count(tmp_path):
    module = tmp_path / "modules" / "vm"
    module.mkdir(parents=True)
    (module / "main.tf").write_text(
        'terraform {\n  required_providers {\n    google-beta = {\n      source  = "hashicorp/google-beta"\n'
        '      version = ">= 5.0"\n    }\n  }\n}\n'
        'resource "google_compute_instance" "vm" {\n  provider = google-beta\n  name     = "vm"\n}\n'
    )
    assert [f for f in review_code(tmp_path) if f.id == "iac.provider-pinned"] == []
    (module / "main.tf").write_text((module / "main.tf").read_text().replace("provider = google-beta\n", ""))
    (missing,) = [f for f in review_code(tmp_path) if f.id == "iac.provider-pinned"]
    assert "google used without a required_providers entry" in missing.message


def test_opentofu_client_side_state_encryption_counts(tmp_path):
    stack = tmp_path / "stack"
    stack.mkdir()
    shutil.copy(HCL / "unencrypted" / "main.tf", stack / "main.tf")
    (stack / "encryption.tf").write_text(
        'terraform {\n  encryption {\n    key_provider "pbkdf2" "k" {\n      passphrase = var.state_passphrase\n'
        '    }\n    method "aes_gcm" "m" {\n      keys = key_provider.pbkdf2.k\n    }\n'
        "    state {\n      method = method.aes_gcm.m\n    }\n  }\n}\n"
    )
    (f,) = [f for f in review_code(stack) if f.id == "iac.state-encryption"]
    assert "no encryption" not in f.message and "no state locking" in f.message


def test_odd_but_parseable_code_is_checked_without_crashing():
    found = findings("odd")
    assert {f.id for f in found} >= {"iac.hardcoded-secret", "iac.env-separation", "iac.provider-pinned"}
    assert any(f.id == "iac.state-committed" and f.file.endswith("dev.tfvars.json") for f in found)
    assert any("variable `?`" in f.message for f in found)


# --------------------------------------------------------------------------- .tf.json (JSON syntax)


def test_json_syntax_is_checked_like_hcl_with_lines():
    found = {(f.id, where(f)[1]) for f in findings("json_bad")}
    assert found == {
        ("iac.provider-pinned", 4),  # "aws": { "source" ... } without a version
        ("iac.state-encryption", 9),  # backend "s3" without encrypt / locking
        ("iac.hardcoded-secret", 19),  # variable default
        ("iac.module-pinned", 24),  # registry module without version
        ("iac.hardcoded-secret", 32),  # resource literal password
        ("iac.encryption-at-rest", 29),  # the same aws_db_instance: storage_encrypted unset
        ("iac.database-protection", 29),  # ... and deletion_protection unset
    }
    assert all(f.file.endswith("json_bad/main.tf.json") for f in findings("json_bad"))
    assert findings("json_good") == []  # "${var.x}" is an expression, list-form terraform blocks read


def test_json_syntax_parse_errors_are_findings_with_a_line(tmp_path):
    (tmp_path / "main.tf.json").write_text('{\n  "resource": {\n    "aws_s3_bucket": \n}\n')
    (tmp_path / "list.tf.json").write_text("[1, 2]\n")
    errors = {(Path(f.file).name, f.line) for f in review_code(tmp_path) if f.id == "iac.parse-error"}
    assert errors == {("main.tf.json", 4), ("list.tf.json", 1)}


def test_parse_error_never_echoes_the_file(tmp_path):
    secret = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
    (tmp_path / "leaky.tf").write_text(f'resource "a" "b" {{\n  password = "{secret}\n')
    (tmp_path / "junk.tf").write_bytes(bytes(range(256)) * 8)
    found = {Path(f.file).name: f for f in review_code(tmp_path) if f.id == "iac.parse-error"}
    assert set(found) == {"leaky.tf", "junk.tf"}
    for f in found.values():
        assert secret not in f.message and f.message.isprintable() and f.line


def test_links_to_devices_are_not_read(tmp_path):
    (tmp_path / "main.tf").write_text('resource "aws_sqs_queue" "q" {\n  name = "q"\n}\n')
    (tmp_path / "zero.tf").symlink_to("/dev/zero")  # reading it would never end
    (tmp_path / "dangling.tf").symlink_to(tmp_path / "gone.tf")
    found = review_code(tmp_path)
    assert {f.id for f in found} >= {"iac.remote-state"}
    assert not [f for f in found if f.file and f.file.endswith(("zero.tf", "dangling.tf"))]
