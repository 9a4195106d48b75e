"""The audit log: every decision in SQLite (WAL), redacted, readable with `guardrails.py audit`."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from skill import redact as redact_module
from skill.guardrails import audit
from skill.guardrails.engine import check_action, check_command

# One sample per pattern of skill.redact: the audit's cheap pre-filter must let each through.
SECRET_SAMPLES = {
    "private-key": "-----BEGIN RSA PRIVATE KEY-----\nMIIabc\n-----END RSA PRIVATE KEY-----",
    "url-password": "psql postgres://app:s3cretpass@db.prod:5432/app",
    "aws-access-key": "AWS_ACCESS=AKIAIOSFODNN7EXAMPLE aws s3 ls",
    "github-token": "gh auth login --with-token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "gitlab-token": "glab auth login -t glpat-abcdefghijklmnop1234",
    "slack-token": "curl -d t=xoxb-1234567890-abcdef https://x",
    "slack-webhook": "curl https://hooks.slack.com/services/T000/B000/XXXXXXXX",
    "google-api-key": "curl ?key=AIzaSyA1234567890abcdefghijklmnopqrstuv",
    "llm-api-key": "export X=sk-ant-abcdefghijklmnopqrstuvwxyz",
    "stripe-key": "stripe charges --api sk_live_abcdefghijklmnop1234",
    "jwt": "curl -H x:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijklmnop",
    "bearer": "curl -H 'Authorization: Bearer abcdefghijklmnopqrstuvwxyz123456'",
    "secret-pair": "deploy --db-password hunter2hunter2",
    "mysql-password": "mysql -u root -pTopSecret1 app",
}


def test_prefilter_covers_every_redaction_pattern():
    names = {name for name, _pattern, _repl in redact_module._rules()}
    # A new pattern in skill/redact.py needs a sample here and, if needed, a hint in audit.py.
    assert names == set(SECRET_SAMPLES)
    for name, sample in SECRET_SAMPLES.items():
        assert audit.may_hold_secret(sample), name
        assert audit.redact_text(sample) == redact_module.redact(sample) != sample, name
    assert not audit.may_hold_secret("kubectl get pods -n payments")


@pytest.fixture(autouse=True)
def pinned_tiers():
    """`mytool ask` is T3 by policy, whatever the command rules say."""
    cfg = Path(os.environ["DEVOPS_CONFIG_DIR"])
    cfg.mkdir(parents=True, exist_ok=True)
    (cfg / "policy.toml").write_text('[[rules]]\nid = "pin.ask"\ncommand = "mytool ask *"\ntier = 3\n')


def _rows():
    path = Path(os.environ["DEVOPS_HOME"]) / "audit.db"
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM decisions ORDER BY id")]
    finally:
        conn.close()


def test_every_decision_is_recorded_with_context(tmp_path):
    check_command("ls -la", cwd=str(tmp_path), caller="unit")
    check_command("mytool ask x", cwd=str(tmp_path), caller="unit")
    check_action("deploy_production", target="api", caller="agent", cwd=str(tmp_path))
    rows = _rows()
    assert [r["decision"] for r in rows] == ["allow", "ask", "block"]
    first, second, third = rows
    assert first["caller"] == "unit" and first["cwd"] == str(tmp_path) and first["kind"] == "command"
    assert first["tier"] == 1 and first["input"] == "ls -la" and first["time"].endswith("Z")
    assert second["request_id"] and "pin.ask" in second["rule_ids"].split()
    assert third["kind"] == "action" and third["target"] == "api" and third["environment"] == "production"
    path = Path(os.environ["DEVOPS_HOME"]) / "audit.db"
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert path.stat().st_mode & 0o077 == 0


def test_secrets_are_redacted_in_the_log():
    check_command("mysql -u root -pTopSecret1 -h db.prod app -e 'DELETE FROM users'")
    check_command("curl -H 'Authorization: Bearer abcdefghijklmnopqrstuvwxyz123456' https://api")
    stored = json.dumps(_rows())
    assert "TopSecret1" not in stored and "abcdefghijklmnopqrstuvwxyz123456" not in stored
    assert "[REDACTED" in stored


def test_approval_used_is_recorded():
    from skill.guardrails import approvals

    d = check_action("restart", target="api", env="prod")
    approvals.approve(d.request_id, by="alice", ttl_seconds=600, authorize=lambda p: "test")
    used = check_action("restart", target="api", env="prod")
    assert used.approval_used
    assert _rows()[-1]["approval_used"] == used.approval_used


def test_audit_cli_since_and_json(run):
    check_command("git status", caller="one")
    check_command("kubectl delete ns payments --context prod", caller="two")
    res = run("guardrails.py", "audit", "--since", "1h", "--json")
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert [r["caller"] for r in rows] == ["two", "one"]  # newest first
    assert rows[0]["decision"] == "block" and isinstance(rows[0]["rule_ids"], list)
    human = run("guardrails.py", "audit", "--decision", "block")
    assert "kubectl delete ns payments" in human.stdout and "git status" not in human.stdout
    future = run("guardrails.py", "audit", "--since", "2999-01-01T00:00:00Z")
    assert "no decisions recorded" in future.stdout
    bad = run("guardrails.py", "audit", "--since", "yesterday-ish")
    assert bad.returncode == 2 and "invalid duration" in bad.stderr


def test_batch_writes_all_rows(run, tmp_path):
    lines = [json.dumps({"command": f"echo {i}"}) for i in range(50)]
    batch = tmp_path / "in.jsonl"
    batch.write_text("\n".join(lines) + "\n")
    res = run("guardrails.py", "check", "--batch", str(batch))
    assert res.returncode == 0, res.stderr
    assert len(_rows()) == 50


def test_invalid_utf8_command_is_still_audited():
    """Bytes that are not UTF-8 reach the log, visibly escaped, instead of losing the row."""
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[2] / "guardrails.py"
    res = subprocess.run(
        [sys.executable, str(script), "check", "--command", b"ls \xff\xfe"], capture_output=True, timeout=60
    )
    assert res.returncode == 3, res.stderr
    assert b"warning" not in res.stderr
    rows = _rows()
    assert rows[-1]["input"] == "ls \\xff\\xfe"
    assert "shell.invalid-utf8" in rows[-1]["rule_ids"].split()
