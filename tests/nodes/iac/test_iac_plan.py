"""Plan review over plan JSON written in Terraform's real format (tests/fixtures/iac/plans)."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from skill.errors import InputError
from skill.nodes.iac import review_plan
from skill.plan_review.stateful import STATEFUL_TYPES, consequence
from skill.plan_review.tiers import change_tier

PLANS = Path(__file__).resolve().parents[2] / "fixtures" / "iac" / "plans"


def by_address(review):
    return {c.address: c for c in review.changes}


def load(name: str) -> dict:
    return json.loads((PLANS / name).read_text())


def test_every_kind_of_change_is_summarised():
    review = review_plan(PLANS / "mixed.json")
    assert review.summary == {
        "create": 2,
        "update": 2,
        "delete": 2,
        "replace": 3,
        "read": 1,
        "no-op": 3,
        "moved": 1,
        "imported": 1,
        "forget": 2,
    }
    c = by_address(review)
    assert c["aws_instance.web"].kind == "create" and c["aws_instance.web"].tier == 2
    assert "`tags` changed" in c["aws_instance.app"].message and c["aws_instance.app"].tier == 2
    # an in-place change to who can reach what wants a human look
    assert c["aws_security_group.web"].tier == 3
    assert "block was removed from the configuration" in c["aws_instance.old"].message
    assert "`count` no longer reaches its index" in c["aws_instance.pool[2]"].message
    tainted = c["aws_instance.worker"]
    assert tainted.kind == "replace" and tainted.reason == "replace_because_tainted"
    assert "tainted" in tainted.message and tainted.replace_order == "delete-first"
    assert "Destroyed first" in tainted.message
    triggered = c["aws_launch_template.web"]
    assert triggered.replace_order == "create-first" and "created before the old one" in triggered.message
    assert "replace_triggered_by" in triggered.message
    batch = c["aws_instance.batch"]
    assert batch.replace_paths == ["ami"] and "`ami` changed (ami-0abc → ami-0def)" in batch.message
    read = c["data.aws_ami.ubuntu"]
    assert read.kind == "read" and read.tier == 1 and "known only during apply" in read.message
    moved = c["aws_s3_bucket.logs"]
    assert moved.moved and moved.previous_address == "aws_s3_bucket.log" and moved.tier == 1
    assert "moved from aws_s3_bucket.log" in moved.message
    imported = c["aws_iam_role.ci"]
    assert imported.imported and imported.import_id == "ci" and imported.tier == 2
    assert c["aws_instance.legacy"].kind == "forget" and "NOT destroyed" in c["aws_instance.legacy"].message
    assert "new object will be created" in c["aws_instance.bastion"].message
    assert c["module.net.aws_subnet.a"].module_address == "module.net"
    assert c["aws_vpc.main"].kind == "no-op" and c["aws_vpc.main"].tier == 1
    assert review.tier == 3 and review.exit_code == 3 and review.decision == "ask"
    ids = sorted(f.id for f in review.findings)
    assert ids.count("iac.destroy") == 5 and "iac.destroy-stateful" not in ids


def test_stateful_replace_says_why_and_what_is_lost():
    review = review_plan(PLANS / "stateful_replace.json")
    db = by_address(review)["aws_db_instance.main"]
    assert db.stateful and db.stateful_category == "database" and db.tier == 4
    assert db.message.startswith(
        "aws_db_instance.main will be REPLACED because `engine` changed (mysql → postgres) "
        "(replace_because_cannot_update): data loss unless a snapshot is taken"
    )
    assert review.tier == 4 and review.exit_code == 4
    stateful = [f for f in review.findings if f.id == "iac.destroy-stateful"]
    assert len(stateful) == 1 and stateful[0].severity == "critical" and stateful[0].object == db.address


def test_production_raises_every_change_that_does_something():
    dev = by_address(review_plan(PLANS / "mixed.json", env="dev"))
    prod_review = review_plan(PLANS / "mixed.json", env="prod")
    prod = by_address(prod_review)
    assert prod_review.environment == "production" and prod_review.tier == 4
    assert dev["aws_instance.web"].tier == 2 and prod["aws_instance.web"].tier == 3
    assert dev["aws_instance.old"].tier == 3 and prod["aws_instance.old"].tier == 4
    assert prod["aws_vpc.main"].tier == 1 and prod["data.aws_ami.ubuntu"].tier == 1
    assert review_plan(PLANS / "noop.json", env="production").tier == 1


def _plan_in(directory: Path, name: str = "stateful_replace.json") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "plan.json"
    shutil.copy(PLANS / name, target)
    return target


def test_environment_from_the_directory_name(tmp_path):
    review = review_plan(_plan_in(tmp_path / "live" / "eu-prd"))
    assert review.environment == "production" and review.environment_source.startswith("directory")
    plain = review_plan(_plan_in(tmp_path / "svc" / "infra", "mixed.json"))
    assert plain.environment is None and plain.tier == 3


def test_environment_from_the_backend_key(tmp_path):
    infra = tmp_path / "svc" / "infra"
    plan = _plan_in(infra, "mixed.json")
    (infra / "backend.tf").write_text(
        'terraform {\n  backend "s3" {\n    bucket = "acme-state"\n    key    = "payments/prod/terraform.tfstate"\n  }\n}\n'
    )
    review = review_plan(plan)
    assert review.environment == "production" and "backend" in review.environment_source
    assert review.tier == 4


def test_environment_from_the_backend_key_in_json_syntax(tmp_path):
    infra = tmp_path / "svc" / "infra"
    plan = _plan_in(infra, "mixed.json")
    backend = {"terraform": {"backend": {"s3": {"bucket": "acme-state", "key": "payments/prod/tf.tfstate"}}}}
    (infra / "backend.tf.json").write_text(json.dumps(backend, indent=2))
    review = review_plan(plan)
    assert (
        review.environment == "production" and review.environment_source == "backend payments/prod/tf.tfstate"
    )


def test_environment_from_the_workspace_and_variables(tmp_path):
    infra = tmp_path / "svc" / "infra"
    plan = _plan_in(infra, "mixed.json")
    (infra / ".terraform").mkdir()
    (infra / ".terraform" / "environment").write_text("prod-eu\n")
    review = review_plan(plan)
    assert review.environment == "production" and review.environment_source == "workspace prod-eu"

    data = load("mixed.json")
    data["variables"] = {"environment": {"value": "staging"}}
    assert review_plan(data).environment == "staging"


def test_explicit_env_cannot_lower_what_the_plan_says(tmp_path):
    review = review_plan(_plan_in(tmp_path / "prod"), env="dev")
    assert review.environment == "production" and review.tier == 4


def test_drift_is_reported_apart():
    review = review_plan(PLANS / "drift.json")
    assert [d.address for d in review.drift] == ["aws_instance.web", "aws_sqs_queue.jobs"]
    assert "`instance_type`" in review.drift[0].message
    assert "deleted outside Terraform" in review.drift[1].message
    assert review.tier == 1 and review.summary["update"] == 0
    assert sorted(f.id for f in review.findings) == ["iac.drift", "iac.drift"]


def test_deferred_changes_are_counted_and_flagged():
    review = review_plan(PLANS / "deferred.json")
    deferred = [c for c in review.changes if c.deferred]
    assert len(deferred) == 1 and "count/for_each is not known yet" in deferred[0].message
    assert review.summary["create"] == 2
    assert any(f.id == "iac.plan-incomplete" for f in review.findings)


def test_errored_plan_is_never_allowed_silently():
    data = load("noop.json")
    data["errored"] = True
    review = review_plan(data)
    assert review.tier == 3 and any(f.id == "iac.plan-errored" for f in review.findings)


def test_errored_plan_is_not_called_deferred():
    data = load("noop.json")
    data.update(errored=True, complete=False)
    ids = {f.id for f in review_plan(data).findings}
    assert "iac.plan-errored" in ids and "iac.plan-incomplete" not in ids


@pytest.mark.parametrize("version", ["0.1", "0.2", "1.0", "1.2", "1.9"])
def test_format_versions_terraform_json_accepts_are_read(version):
    data = load("mixed.json")
    data["format_version"] = version
    assert review_plan(data).changes


@pytest.mark.parametrize("version", ["2.0", "0.0", "x.1", "3"])
def test_unknown_major_format_is_refused(version):
    data = load("mixed.json")
    data["format_version"] = version
    with pytest.raises(InputError, match="format_version"):
        review_plan(data)


def test_hcp_redacted_plan_export_is_read():
    # HCP Terraform's json-output-redacted: plan_format_version, same resource_changes
    data = load("stateful_replace.json")
    version = data.pop("format_version")
    export = {
        "plan_format_version": version,
        "resource_changes": data["resource_changes"],
        "resource_drift": [],
        "output_changes": {},
        "relevant_attributes": [],
        "provider_format_version": "1.0",
        "provider_schemas": {},
    }
    review = review_plan(export)
    assert review.tier == 4 and review.format_version == version


def test_unknown_action_is_asked_not_guessed():
    data = load("noop.json")
    data["resource_changes"][0]["change"]["actions"] = ["teleport"]
    review = review_plan(data)
    change = review.changes[0]
    assert change.kind == "unknown" and change.tier == 3 and review.summary["unknown"] == 1


def test_unknown_properties_are_ignored():
    data = load("stateful_replace.json")
    data["brand_new_top_level"] = {"x": 1}
    data["resource_changes"][0]["future_field"] = [1, 2]
    data["resource_changes"][0]["change"]["future_change_field"] = True
    assert review_plan(data).tier == 4


@pytest.mark.parametrize(
    "name,needle",
    [
        ("truncated.json", "truncated"),
        ("not_json.json", "not JSON"),
        ("future_format.json", "understands 0.1 up to 1.x"),
        ("state.json", "state snapshot"),
        ("malformed_entry.json", "resource_changes[0] is malformed"),
    ],
)
def test_malformed_input_is_a_clear_input_error(name, needle):
    with pytest.raises(InputError) as err:
        review_plan(PLANS / name)
    assert needle in str(err.value)
    assert err.value.exit_code == 2


def test_missing_empty_and_non_plan_inputs(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        review_plan(tmp_path / "nope.json")
    empty = tmp_path / "empty.json"
    empty.write_text("")
    with pytest.raises(InputError, match="empty"):
        review_plan(empty)
    with pytest.raises(InputError, match="not a Terraform plan"):
        review_plan({"hello": "world"})
    with pytest.raises(InputError, match="holds no .tf files"):
        review_plan(tmp_path)
    with pytest.raises(InputError, match="not a regular file"):
        review_plan("/dev/zero")  # would otherwise be read until memory runs out


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_plan_json_written_with_a_bom_is_read(tmp_path, encoding):
    """Windows PowerShell's `terraform show -json tfplan > plan.json` writes UTF-16 with a BOM."""
    path = tmp_path / "plan.json"
    path.write_bytes((PLANS / "stateful_replace.json").read_text().encode(encoding))
    assert [c.address for c in review_plan(path).changes] == [
        c.address for c in review_plan(PLANS / "stateful_replace.json").changes
    ]


def test_json_nested_beyond_the_parser_is_an_input_error(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('{"format_version": "1.2", "resource_changes": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(InputError, match="nested too deeply"):
        review_plan(path)


def test_sensitive_values_never_reach_the_review():
    secrets = [
        "N3w-S3cr3t-Passw0rd!",
        "0ld-S3cr3t-Passw0rd!",
        "sk-live-OLDOLDOLD123",
        "tok-9f8e7d6c5b4a",
        "LiteralPass-9876",
    ]
    review = review_plan(PLANS / "sensitive.json")
    dumped = review.model_dump_json()
    for secret in secrets:
        assert secret not in dumped
    c = by_address(review)
    assert "`password` (sensitive)" in c["aws_db_instance.main"].message
    assert c["aws_db_instance.main"].sensitive_attributes == ["password"]
    # unmarked, but equal to a sensitive variable's value: the name is given, the value is not
    assert "`description` changed" in c["aws_ssm_parameter.copy"].message
    assert "→" not in c["aws_ssm_parameter.copy"].message
    # harmless values are still shown, so the hiding above is selective
    assert "(ami-0abc → ami-0def)" in c["aws_instance.web"].message
    assert any(
        f.id == "iac.hardcoded-secret" and f.object == "aws_db_instance.legacy" for f in review.findings
    )


def test_stateful_list_covers_the_three_clouds():
    for rtype in (
        "aws_db_instance",
        "aws_s3_bucket",
        "aws_ebs_volume",
        "aws_kms_key",
        "aws_sqs_queue",
        "aws_route53_zone",
        "google_sql_database_instance",
        "google_storage_bucket",
        "google_compute_disk",
        "google_pubsub_topic",
        "azurerm_mssql_database",
        "azurerm_storage_account",
        "azurerm_key_vault",
        "azurerm_redis_cache",
        "azurerm_container_registry",
        "aws_opensearch_domain",
        "aws_efs_file_system",
        "aws_secretsmanager_secret",
    ):
        assert rtype in STATEFUL_TYPES and consequence(rtype)
    assert "aws_instance" not in STATEFUL_TYPES and "aws_security_group" not in STATEFUL_TYPES


def test_tier_table():
    assert change_tier("no-op", "aws_db_instance") == 1
    assert change_tier("read", "aws_ami") == 1
    assert change_tier("create", "aws_db_instance") == 2
    assert change_tier("update", "aws_instance") == 2
    assert change_tier("update", "aws_iam_policy") == 3
    assert change_tier("delete", "aws_instance") == 3
    assert change_tier("replace", "aws_s3_bucket") == 4
    assert change_tier("create", "aws_instance", production=True) == 3
    assert change_tier("replace", "aws_s3_bucket", production=True) == 4
    assert change_tier("delete", "aws_instance", production=True) == 4
    # a production update asks; only destruction blocks
    assert change_tier("update", "aws_s3_bucket", production=True) == 3
    assert change_tier("update", "aws_iam_policy", production=True) == 3


def test_dict_input_is_not_mutated():
    data = load("sensitive.json")
    before = copy.deepcopy(data)
    review_plan(data)
    assert data == before


def test_plan_module_import_is_cheap():
    code = "import skill.nodes.iac, skill.nodes.iac.plan, skill.plan_review.review, sys; print(sorted(m for m in ('hcl2', 'lark', 'rich') if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_sample_service_plan_is_the_risky_demo():
    plan = Path(__file__).resolve().parents[3] / "examples" / "sample-service" / "infra" / "plan.json"
    if not plan.is_file():
        pytest.skip("sample service plan not present")
    review = review_plan(plan, include_code=False)
    db = by_address(review)["aws_db_instance.orders"]
    assert db.tier == 4 and "`storage_encrypted` changed (false → true)" in db.message
    assert review.environment == "production" and review.exit_code == 4
