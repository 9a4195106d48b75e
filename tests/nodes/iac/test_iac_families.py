"""IaC lint wrong answers seen on real code (issue 15), each as a family."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from skill.cli import cli
from skill.nodes.iac import review_code
from skill.nodes.iac.hcl_checks import strip_comments
from skill.plan_review.secret_names import is_secret_name

REAL_TF = Path(__file__).resolve().parents[3].parent / "shared" / "corpora" / "real" / "terraform"

VERSIONS = 'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws", version = ">= 5.0" }\n  }\n}\n'
RESOURCE = 'resource "aws_sqs_queue" "q" {\n  name = var.name\n}\nvariable "name" {}\n'


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def ids_by_dir(findings) -> set[tuple[str, str]]:
    return {(f.id, Path(f.file).parent.name) for f in findings}


def test_a_reusable_module_and_its_wrappers_need_no_backend(tmp_path):
    mod = tmp_path / "terraform-aws-queue"
    write(mod, "main.tf", RESOURCE)
    write(mod, "versions.tf", VERSIONS)
    write(mod, "wrappers/main.tf", 'module "wrapper" {\n  source = "../"\n  name = "x"\n}\n')
    write(
        mod,
        "examples/simple/main.tf",
        'provider "aws" {}\nmodule "q" {\n  source = "../../"\n  name = "x"\n}\n',
    )
    found = review_code(mod)
    assert not [f for f in found if f.id == "iac.remote-state"]
    assert not [
        f
        for f in found
        if f.id == "iac.provider-pinned" and f.status == "warn" and "upper bound" in f.message
    ]


def test_a_root_module_still_needs_a_backend_and_an_upper_bound(tmp_path):
    write(tmp_path, "live/main.tf", 'provider "aws" {}\n' + RESOURCE)
    write(tmp_path, "live/versions.tf", VERSIONS)
    found = review_code(tmp_path)
    assert ("iac.remote-state", "live") in ids_by_dir(found)
    assert any("no upper bound" in f.message for f in found)


def test_secrets_in_example_and_test_code_are_labelled_low(tmp_path):
    body = 'resource "aws_db_instance" "db" {\n  password = "hunter2-very-secret"\n}\n'
    write(tmp_path, "examples/complete/main.tf", body)
    write(tmp_path, "testdata/main.tf", body)
    write(tmp_path, "prod/main.tf", body)
    secrets = [f for f in review_code(tmp_path) if f.id == "iac.hardcoded-secret"]
    by_dir = {Path(f.file).parent.name: f for f in secrets}
    assert by_dir["prod"].severity == "critical" and by_dir["prod"].status == "fail"
    for where in ("complete", "testdata"):
        assert by_dir[where].severity == "low" and by_dir[where].status == "warn"
        assert by_dir[where].message.startswith("example/test code:")


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("password_wo", True),
        ("secret_string_wo", True),
        ("value_wo", True),
        ("password_wo_version", False),
        ("secret_string", True),
        ("password_length", False),
    ],
)
def test_write_only_attributes_hold_secrets(name, secret):
    assert is_secret_name(name) is secret


def test_literal_in_a_write_only_attribute_is_found(tmp_path):
    write(tmp_path, "main.tf", 'resource "aws_db_instance" "db" {\n  password_wo = "literal-pass-123"\n}\n')
    found = [f for f in review_code(tmp_path) if f.id == "iac.hardcoded-secret"]
    assert found and "password_wo" in found[0].message


@pytest.mark.parametrize(
    "text",
    [
        'resource "aws_sqs_queue" /* c */ "q" {\n  name = "q"\n}\n',
        'resource /* a */ "aws_sqs_queue" "q" /* b */ {\n  name = "q" // trailing\n}\n',
    ],
)
def test_comments_python_hcl2_rejects_are_handled(tmp_path, text):
    write(tmp_path, "main.tf", text)
    found = review_code(tmp_path)
    assert not [f for f in found if f.id == "iac.parse-error"]
    assert any(f.id == "iac.remote-state" for f in found)  # the file was read and checked


def test_comment_stripping_keeps_strings_heredocs_and_lines():
    text = 'a = "x # not // a comment" # real\nb = <<EOT\n# kept\nEOT\n/* two\nlines */ c = 1\n'
    out = strip_comments(text)
    assert '"x # not // a comment"' in out and "# kept" in out and "real" not in out
    assert out.count("\n") == text.count("\n") and "c = 1" in out


def test_lint_fails_on_code_it_cannot_parse_whatever_fail_on(tmp_path):
    write(tmp_path, "broken.tf", 'resource "aws_s3_bucket" "b" {\n  bucket = \n')
    result = CliRunner().invoke(cli, ["iac", "lint", str(tmp_path), "--fail-on", "critical", "--json"])
    assert result.exit_code == 1
    assert "could not be parsed" in result.stderr and "broken.tf" in result.stderr


def test_real_module_repository_gets_no_root_findings():
    repo = REAL_TF / "terraform-aws-modules+terraform-aws-vpc"
    if not repo.is_dir():
        pytest.skip("dev share corpus not present (../shared/corpora/real)")
    found = review_code(repo)
    assert not [f for f in found if f.severity in ("high", "critical")]
    assert not [f for f in found if f.id == "iac.remote-state"]
