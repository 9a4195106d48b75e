"""Built-in Terraform controls of the skill document's IaC section (issue 15 §2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from skill.nodes.iac import review_code

REAL_TF = Path(__file__).resolve().parents[3].parent / "shared" / "corpora" / "real" / "terraform"


def found(tmp_path: Path, text: str, rule: str) -> list:
    (tmp_path / "main.tf").write_text(text)
    return [f for f in review_code(tmp_path) if f.id == rule]


@pytest.mark.parametrize(
    ("text", "hits"),
    [
        ('resource "aws_db_instance" "d" {\n  storage_encrypted = false\n}\n', 1),
        ('resource "aws_db_instance" "d" {\n  engine = "postgres"\n}\n', 1),  # off unless asked
        ('resource "aws_db_instance" "d" {\n  storage_encrypted = true\n}\n', 0),
        ('resource "aws_db_instance" "d" {\n  storage_encrypted = var.enc\n}\n', 0),  # unknown: not guessed
        ('resource "aws_ebs_volume" "v" {\n  size = 10\n}\n', 1),
        ('resource "aws_s3_bucket" "b" {\n  bucket = "x"\n}\n', 0),  # S3 encrypts by default
        # encryption that comes from elsewhere: a read replica, a restore, the account's EBS default
        ('resource "aws_db_instance" "r" {\n  replicate_source_db = aws_db_instance.d.arn\n}\n', 0),
        ('resource "aws_db_instance" "r" {\n  snapshot_identifier = "snap-1"\n}\n', 0),
        (
            'resource "aws_ebs_encryption_by_default" "on" {\n  enabled = true\n}\n'
            'resource "aws_ebs_volume" "v" {\n  size = 10\n}\n',
            0,
        ),
        ('resource "aws_rds_cluster" "c" {\n  engine_mode = "serverless"\n}\n', 0),
        ('resource "aws_rds_cluster" "c" {\n  engine_mode = "provisioned"\n}\n', 1),
    ],
)
def test_encryption_at_rest(tmp_path, text, hits):
    assert len(found(tmp_path, text, "iac.encryption-at-rest")) == hits


SG = """resource "aws_security_group" "s" {{
  ingress {{
    from_port   = {lo}
    to_port     = {hi}
    protocol    = "{proto}"
    cidr_blocks = ["{cidr}"]
  }}
}}
"""


@pytest.mark.parametrize(
    ("lo", "hi", "proto", "cidr", "hits"),
    [
        (22, 22, "tcp", "0.0.0.0/0", 1),
        (3389, 3389, "tcp", "0.0.0.0/0", 1),
        (0, 0, "-1", "0.0.0.0/0", 1),
        (443, 443, "tcp", "0.0.0.0/0", 0),  # a public web port is the point of a web server
        (22, 22, "tcp", "10.0.0.0/8", 0),
    ],
)
def test_public_ingress_on_admin_ports(tmp_path, lo, hi, proto, cidr, hits):
    text = SG.format(lo=lo, hi=hi, proto=proto, cidr=cidr)
    assert len(found(tmp_path, text, "iac.public-ingress")) == hits


@pytest.mark.parametrize(
    ("text", "hits"),
    [
        ('resource "aws_s3_bucket_acl" "a" {\n  acl = "public-read"\n}\n', 1),
        ('resource "aws_s3_bucket_acl" "a" {\n  acl = "private"\n}\n', 0),
        ('resource "aws_s3_bucket_public_access_block" "p" {\n  block_public_acls = false\n}\n', 1),
        ('resource "google_storage_bucket_iam_member" "m" {\n  member = "allUsers"\n}\n', 1),
    ],
)
def test_public_buckets(tmp_path, text, hits):
    assert len(found(tmp_path, text, "iac.public-bucket")) == hits


def test_database_protection_and_backups(tmp_path):
    text = 'resource "aws_rds_cluster" "c" {\n  storage_encrypted = true\n  backup_retention_period = 0\n}\n'
    rows = found(tmp_path, text, "iac.database-protection")
    assert {f.severity for f in rows} == {"medium", "high"}
    ok = 'resource "aws_rds_cluster" "c" {\n  deletion_protection = true\n  backup_retention_period = 7\n}\n'
    assert not found(tmp_path, ok, "iac.database-protection")


def test_load_balancer_logging(tmp_path):
    assert found(tmp_path, 'resource "aws_lb" "l" {\n  name = "x"\n}\n', "iac.logging")
    ok = 'resource "aws_lb" "l" {\n  access_logs {\n    bucket = "b"\n    enabled = true\n  }\n}\n'
    assert not found(tmp_path, ok, "iac.logging")


def test_terragoat_controls_match_what_it_plants():
    repo = REAL_TF / "bridgecrewio+terragoat"
    if not repo.is_dir():
        pytest.skip("dev share corpus not present (../shared/corpora/real)")
    ids = {f.id for f in review_code(repo)}
    assert {"iac.encryption-at-rest", "iac.public-ingress", "iac.database-protection"} <= ids
