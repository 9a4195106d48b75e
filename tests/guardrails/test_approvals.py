"""Approvals: request ids, human-only approval (TTY or operator key), single use, expiry, binding."""

from __future__ import annotations

import json
import os
import select
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from skill.guardrails import approvals
from skill.guardrails.engine import check_action, check_command

REPO = Path(__file__).resolve().parents[2]
SCRIPT = str(REPO / "guardrails.py")


def human(pending):  # stands in for the terminal confirmation in in-process tests
    return "test"


def approve_in_process(request_id, ttl=1800):
    return approvals.approve(request_id, by="alice", ttl_seconds=ttl, authorize=human)


def run_detached(*args, env_extra=None):
    """Run guardrails.py without a controlling terminal, as an agent's shell tool would."""
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, SCRIPT, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
        start_new_session=True,
    )


def run_on_tty(args, answer, timeout=30.0):
    """Run guardrails.py on a pseudo-terminal and type ``answer`` at its prompt."""
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # child: the pty is its controlling terminal
        try:
            os.chdir(REPO)
            os.execv(sys.executable, [sys.executable, SCRIPT, *args])
        finally:
            os._exit(127)
    out = b""
    deadline = time.monotonic() + timeout
    answered = False
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        if not answered and (b"press Enter" in out or b"to continue:" in out):
            os.write(fd, answer.encode() + b"\n")
            answered = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace")


def test_request_id_is_stable_and_bound_to_the_request(tmp_path):
    a1 = check_action("deploy_production", target="api", audit=False)
    a2 = check_action("deploy_production", target="api", audit=False)
    assert a1.request_id == a2.request_id
    assert check_action("deploy_production", target="web", audit=False).request_id != a1.request_id
    s = check_action("infra_change", target="vpc", env="staging", audit=False)
    p = check_action("infra_change", target="vpc", env="production", audit=False)
    assert s.request_id != p.request_id
    c1 = check_command("git push --force", cwd=str(tmp_path), audit=False)
    c2 = check_command("git push --force", cwd=str(tmp_path), audit=False)
    c3 = check_command("git push --force ", cwd=str(tmp_path / "x"), audit=False)
    assert c1.request_id == c2.request_id != c3.request_id
    assert check_command("ls", audit=False).request_id is None  # T1: nothing to approve


def test_agent_cannot_approve_without_tty_or_operator_key():
    d = check_action("deploy_production", target="api", audit=False)
    res = run_detached("approve", d.request_id, "--by", "agent")
    assert res.returncode == 4, res.stderr
    assert "an agent cannot approve its own request" in res.stderr
    assert "Traceback" not in res.stderr
    # Piping the confirmation into stdin is not a terminal either.
    res = subprocess.run(
        [sys.executable, SCRIPT, "approve", d.request_id, "--by", "agent"],
        input="api\n",
        capture_output=True,
        text=True,
        cwd=REPO,
        start_new_session=True,
        timeout=60,
    )
    assert res.returncode == 4
    assert check_action("deploy_production", target="api", audit=False).decision == "block"


def test_human_at_terminal_approves_once():
    d = check_action("deploy_production", target="api", audit=False)
    code, out = run_on_tty(["approve", d.request_id, "--by", "alice", "--ttl", "10m"], "api")
    assert code == 0, out
    assert "type 'api'" in out and "approved" in out
    first = check_action("deploy_production", target="api", audit=False)
    assert first.decision == "allow" and first.exit_code == 0
    assert first.approval_used and first.approval_used.startswith("ap-")
    assert "approved once by alice" in first.reasons[0]
    second = check_action("deploy_production", target="api", audit=False)
    assert second.decision == "block" and second.approval_used is None


def test_wrong_confirmation_at_terminal_approves_nothing():
    d = check_action("deploy_production", target="api", audit=False)
    code, out = run_on_tty(["approve", d.request_id, "--by", "alice"], "web")
    assert code == 4 and "did not match" in out
    assert check_action("deploy_production", target="api", audit=False).decision == "block"


def test_operator_key_approval_is_bound_to_target_and_environment():
    approvals.store_operator_key("dok_test-operator-key")
    d = check_action("infra_change", target="vpc-a", env="staging", audit=False)
    wrong = run_detached("approve", d.request_id, "--by", "bob", env_extra={"DEVOPS_OPERATOR_KEY": "guess"})
    assert wrong.returncode == 4 and "does not match" in wrong.stderr
    ok = run_detached(
        "approve",
        d.request_id,
        "--by",
        "bob",
        "--json",
        env_extra={"DEVOPS_OPERATOR_KEY": "dok_test-operator-key"},
    )
    assert ok.returncode == 0, ok.stderr
    result = json.loads(ok.stdout)
    assert result["method"] == "operator-key" and result["request_id"] == d.request_id
    # The approval for vpc-a/staging passes neither another target nor production.
    assert check_action("infra_change", target="vpc-b", env="staging", audit=False).decision == "ask"
    assert check_action("infra_change", target="vpc-a", env="production", audit=False).decision == "block"
    assert check_action("infra_change", target="vpc-a", env="staging", audit=False).decision == "allow"
    assert check_action("infra_change", target="vpc-a", env="staging", audit=False).decision == "ask"


def test_token_single_use_tamper_and_binding():
    d = check_command("kubectl delete ns payments --context prod", audit=False)
    assert d.decision == "block"
    token = approve_in_process(d.request_id)["token"]
    other = check_command("kubectl delete ns orders --context prod", audit=False)
    rejected = check_command("kubectl delete ns orders --context prod", approval=token, audit=False)
    assert rejected.decision == "block" and other.request_id == rejected.request_id
    assert any("different request" in r for r in rejected.reasons)
    prefix, body, mac = token.split(".")
    tampered = f"{prefix}.{body[:-2]}{'A' if body[-2] != 'A' else 'B'}{body[-1]}.{mac}"
    bad = check_command("kubectl delete ns payments --context prod", approval=tampered, audit=False)
    assert bad.decision == "block" and any("signature is invalid" in r for r in bad.reasons)
    forged = check_command("kubectl delete ns payments --context prod", approval="ga1.e30.00", audit=False)
    assert forged.decision == "block"
    used = check_command("kubectl delete ns payments --context prod", approval=token, audit=False)
    assert used.decision == "allow" and used.approval_used
    again = check_command("kubectl delete ns payments --context prod", approval=token, audit=False)
    assert again.decision == "block" and any("already used" in r for r in again.reasons)
    # used stays used, even for a hand with write access to approvals.db
    conn = sqlite3.connect(os.path.join(os.environ["DEVOPS_HOME"], approvals.DB_NAME))
    with pytest.raises(sqlite3.IntegrityError, match="stays used"):
        conn.execute("UPDATE approvals SET used_at = NULL")
    assert conn.execute("SELECT count(*) FROM approvals WHERE used_at IS NULL").fetchone() == (0,)
    conn.close()


def test_an_approvals_file_from_before_the_used_once_rule_gets_it_with_db_migrate(run):
    home = Path(os.environ["DEVOPS_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(home / approvals.DB_NAME)
    conn.executescript(approvals.DDL)  # version 1: no trigger
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO approvals VALUES ('ap-1', 'rq-1', 'd', 'alice', 'test', 0, 1e12, 'm', 5.0, 'check')"
    )
    conn.commit()
    migrated = run("-m", "skill.cli", "db", "migrate")
    assert migrated.returncode == 0, migrated.stderr
    with pytest.raises(sqlite3.IntegrityError, match="stays used"):
        conn.execute("UPDATE approvals SET used_at = NULL")
    assert conn.execute("PRAGMA user_version").fetchone() == (approvals.VERSION,)
    conn.close()


def test_approval_expires():
    d = check_action("db_restore", target="orders", env="prod", audit=False)
    approve_in_process(d.request_id, ttl=60)
    late = check_action("db_restore", target="orders", env="prod", audit=False, now=time.time() + 120)
    assert late.decision == "block" and late.approval_used is None
    in_time = check_action("db_restore", target="orders", env="prod", audit=False)
    assert in_time.decision == "allow"


def test_deny_and_unknown_requests_cannot_be_approved():
    d = check_command("rm -rf /", audit=False)
    assert not d.approvable and d.request_id
    with pytest.raises(Exception) as err:
        approve_in_process(d.request_id)
    assert "cannot be approved" in str(err.value)
    res = run_detached("approve", d.request_id, "--by", "x", env_extra={"DEVOPS_OPERATOR_KEY": "k"})
    assert res.returncode == 4 and "cannot be approved" in res.stderr
    res = run_detached("approve", "rq-0000000000000000", "--by", "x")
    assert res.returncode == 2 and "no pending request" in res.stderr


@pytest.mark.parametrize(
    "command",
    [
        "./guardrails.py approve rq-1234 --by claude",
        "python3 /opt/skill/guardrails.py approve rq-1234 --by claude",
        "DEVOPS_OPERATOR_KEY=x devops-guardrails approve rq-1 --by me",
        "bash -c 'guardrails.py operator-key init --force'",
        "echo api | guardrails.py approve rq-1 --by me",
        "cat ~/.local/share/master-devops/approval.key",
        "sqlite3 ~/.local/share/master-devops/approvals.db 'update approvals set used_at=null'",
        # found in review: the approve path through a program that passes strings on, and the library
        "expect -c 'spawn guardrails.py approve rq-1 --by me'",
        "python3 -c \"from skill.guardrails.approvals import approve; approve('rq-1', by='x', ttl_seconds=60,"
        " authorize=lambda p: 'tty')\"",
        'python -c \'import skill.guardrails.approvals as a; a.approve("rq-1", by="x", ttl_seconds=9)\'',
    ],
)
def test_commands_that_approve_or_touch_gate_secrets_are_denied(command):
    d = check_command(command, audit=False)
    assert d.decision == "block" and not d.approvable
    assert {"gate.self-approval", "gate.self-protect"} & set(d.rule_ids)


def test_key_readable_by_others_is_refused():
    d = check_action("deploy_production", target="api", audit=False)
    token = approve_in_process(d.request_id)["token"]
    key = Path(os.environ["DEVOPS_HOME"]) / approvals.KEY_NAME
    assert key.stat().st_mode & 0o777 == 0o600
    key.chmod(0o644)
    res = check_action("deploy_production", target="api", approval=token, audit=False)
    assert res.decision == "block" and any("readable by others" in r for r in res.reasons)


def test_hand_edited_pending_request_is_refused():
    d = check_command("git push --force origin main", audit=False)
    db = Path(os.environ["DEVOPS_HOME"]) / approvals.DB_NAME
    conn = sqlite3.connect(db)
    conn.execute("UPDATE pending SET canonical = replace(canonical, 'push --force', 'status')")
    conn.commit()
    conn.close()
    with pytest.raises(approvals.ApprovalError) as err:
        approve_in_process(d.request_id)
    assert "does not match" in str(err.value)


def test_ttl_limits_and_pending_listing(run):
    d = check_action("deploy_production", target="api", audit=False)
    res = run_detached("approve", d.request_id, "--by", "x", "--ttl", "48h")
    assert res.returncode == 2 and "max_approval_ttl" in res.stderr
    listed = run("guardrails.py", "pending", "--json")
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert any(r["request_id"] == d.request_id and r["approvable"] for r in rows)


def test_mentioning_the_approve_command_as_data_is_not_a_self_approval():
    d = check_command('git commit -m "docs: guardrails.py approve needs a human"', audit=False)
    assert "gate.self-approval" not in d.rule_ids and d.approvable


@pytest.mark.parametrize(
    "command,changes",
    [
        ('echo "[[allow]]" >> .devops/policy.toml', True),
        ("sed -i 's/tier = 4/tier = 1/' ~/.config/master-devops/policy.toml", True),
        ("rm .claude/settings.json", True),
        ("cat .devops/policy.toml", False),
        ("grep -n hooks .claude/settings.json", False),
        ("guardrails.py policy validate .devops/policy.toml", False),
    ],
)
def test_changing_the_gates_configuration_needs_a_human(command, changes):
    d = check_command(command, audit=False)
    assert ("gate.config-change" in d.rule_ids) == changes
    if changes:
        assert d.decision == "block" and d.approvable  # a human may approve a real policy edit


def test_operator_key_init_needs_a_terminal_and_its_key_approves():
    refused = run_detached("operator-key", "init")
    assert refused.returncode == 4 and "interactive terminal" in refused.stderr
    assert not (Path(os.environ["DEVOPS_HOME"]) / approvals.OPERATOR_NAME).exists()
    code, out = run_on_tty(["operator-key", "init"], "yes")
    assert code == 0, out
    import re

    key = re.search(r"dok_[A-Za-z0-9_\-]+", out).group(0)
    stored = Path(os.environ["DEVOPS_HOME"]) / approvals.OPERATOR_NAME
    assert stored.stat().st_mode & 0o777 == 0o600 and key not in stored.read_text()
    d = check_action("secret_rotation", target="db-password", env="prod", audit=False)
    ok = run_detached("approve", d.request_id, "--by", "ops", env_extra={"DEVOPS_OPERATOR_KEY": key})
    assert ok.returncode == 0, ok.stderr
    assert check_action("secret_rotation", target="db-password", env="prod", audit=False).decision == "allow"
    again = run_detached("operator-key", "init")
    assert again.returncode == 2 and "already exists" in again.stderr


def test_deleting_the_audit_log_or_data_dir_is_blocked_but_reading_is_not():
    home = os.environ["DEVOPS_HOME"]
    for command in (
        f"rm {home}/audit.db",
        f"rm -rf {home}",
        f": > {home}/audit.db.bak; mv x {home}/audit.db",
    ):
        d = check_command(command, audit=False)
        assert d.decision == "block" and "gate.data-change" in d.rule_ids, (command, d.rule_ids)
    d = check_command(f"sqlite3 {home}/audit.db 'select count(*) from decisions'", audit=False)
    assert d.decision == "allow"


@pytest.mark.parametrize(
    "template",
    [
        "cat {home}/approval.ke\\y",
        'cat {home}/approval."key"',
        "cat {home}/approval.k*",
        "cat {home}/appr*",
        "python3 -c \"print(open('{home}/approval.k'+'ey').read())\"",
    ],
)
def test_spelling_the_gate_key_differently_is_still_denied(template):
    # found in review: the self-protection matched the raw text only
    d = check_command(template.format(home=os.environ["DEVOPS_HOME"]), audit=False)
    assert d.decision == "block" and not d.approvable and "gate.self-protect" in d.rule_ids


@pytest.mark.parametrize(
    "command",
    [
        'cp p .devops/policy".toml"',
        "cp p .devops/polic\\y.toml",
        "cp p .devops/policy$(echo .toml)",
        "cp p .devops/pol{icy,x}.toml",
        "echo '[[allow]]' > .devops/policy.tom\\l",
        "sed -i s/x/y/ .claude/setting\\s.json",
    ],
)
def test_spelling_the_gate_config_differently_is_still_t4(command):
    d = check_command(command, audit=False)
    assert d.decision == "block" and "gate.config-change" in d.rule_ids
