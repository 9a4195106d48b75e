"""The Claude Code PreToolUse hook (real subprocesses) and install-hook."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from skill.guardrails import approvals
from skill.guardrails.engine import check_command

pytestmark = pytest.mark.usefixtures("pinned_tiers")


def payload(tool="Bash", cwd="/tmp", **tool_input):
    return json.dumps(
        {
            "session_id": "s-123",
            "transcript_path": "/tmp/t.jsonl",
            "cwd": cwd,
            "permission_mode": "default",
            "hook_event_name": "PreToolUse",
            "tool_name": tool,
            "tool_input": tool_input,
            "tool_use_id": "toolu_1",
        }
    )


def hook(run, text):
    res = run("guardrails.py", "hook", input=text)
    out = json.loads(res.stdout) if res.stdout.strip() else None
    return res, out


def decision_of(out):
    spec = out["hookSpecificOutput"]
    assert spec["hookEventName"] == "PreToolUse"
    return spec["permissionDecision"], spec["permissionDecisionReason"]


def test_low_tier_bash_is_silent(run):
    res, out = hook(run, payload(command="git status && ls -la"))
    assert res.returncode == 0 and out is None and res.stdout == ""


def test_t3_asks_and_t4_denies_with_the_approve_command(run):
    res, out = hook(run, payload(command="mytool ask something"))
    assert res.returncode == 0
    verdict, reason = decision_of(out)
    rid = check_command("mytool ask something", cwd="/tmp", audit=False).request_id
    assert verdict == "ask" and rid in reason
    res, out = hook(run, payload(command="mytool block prod-db"))
    verdict, reason = decision_of(out)
    assert verdict == "deny"
    rid = check_command("mytool block prod-db", cwd="/tmp", audit=False).request_id
    assert f"approve {rid} --by NAME" in reason and "passes once" in reason


def test_deny_rule_denies_without_approval_path(run):
    res, out = hook(run, payload(command="sudo rm -rf / --no-preserve-root"))
    verdict, reason = decision_of(out)
    assert verdict == "deny" and "cannot be approved" in reason and "approve rq-" not in reason


def test_approved_command_passes_once_through_the_hook(run):
    cmd = "mytool block everything"
    _, out = hook(run, payload(command=cmd))
    assert decision_of(out)[0] in ("ask", "deny")
    rid = check_command(cmd, cwd="/tmp", audit=False).request_id
    approvals.approve(rid, by="alice", ttl_seconds=600, authorize=lambda p: "test")
    _, out = hook(run, payload(command=cmd))
    verdict, reason = decision_of(out)
    assert verdict == "allow" and "approved once" in reason
    _, out = hook(run, payload(command=cmd))
    assert decision_of(out)[0] in ("ask", "deny")


@pytest.mark.parametrize(
    "tool,key,path,expected",
    [
        ("Write", "file_path", "/work/app/.env", "ask"),
        ("Edit", "file_path", "/work/app/.env.production", "ask"),
        ("Write", "file_path", "/work/app/.env.example", None),
        ("Write", "file_path", "/work/app/certs/server.pem", "deny"),
        ("MultiEdit", "file_path", "~/.ssh/config", "deny"),
        ("Write", "file_path", "~/.aws/credentials", "deny"),
        ("Write", "file_path", "/home/me/.ssh/id_ed25519", "deny"),
        ("Write", "file_path", "/work/app/kubeconfig-prod", "deny"),
        ("Write", "file_path", "/work/app/.devops/policy.toml", "deny"),
        ("NotebookEdit", "notebook_path", "/work/app/analysis.ipynb", None),
        ("Write", "file_path", "/work/app/README.md", None),
        # found in review: another account's .ssh, files run later outside the gate, system files
        ("NotebookEdit", "notebook_path", "/home/other/.ssh/authorized_keys", "deny"),
        ("Write", "file_path", "~/.bashrc", "ask"),
        ("Edit", "file_path", "/work/app/.git/hooks/pre-commit", "ask"),
        ("Write", "file_path", "/etc/sudoers", "ask"),
        ("Write", "file_path", "/usr/src/app/main.py", None),
    ],
)
def test_file_tools_protect_secret_files(run, tool, key, path, expected):
    res, out = hook(run, payload(tool=tool, **{key: path, "content": "x"}))
    assert res.returncode == 0, res.stderr
    assert (decision_of(out)[0] if out else None) == expected


def test_writing_the_gate_data_dir_is_denied(run):
    target = os.path.join(os.environ["DEVOPS_HOME"], "approvals.db")
    _, out = hook(run, payload(tool="Write", file_path=target, content="x"))
    verdict, reason = decision_of(out)
    assert verdict == "deny" and "cannot be approved" in reason


def test_other_tools_get_no_opinion(run):
    res, out = hook(run, payload(tool="WebFetch", url="https://example.com"))
    assert res.returncode == 0 and out is None


def test_policy_switch_emits_allow(run, pinned_tiers):
    pinned_tiers.write_text("[settings]\nhook_emit_allow = true\n")
    _, out = hook(run, payload(command="ls"))
    assert decision_of(out)[0] == "allow"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[1, 2]",
        '{"tool_name": "Bash"}',
        '{"tool_name": "Bash", "tool_input": {"command": 5}}',
        '{"tool_name": "Write", "tool_input": {}}',
        '{"tool_name": "Bash", "tool_input": []}',
        '{"tool_name": "Bash", "tool_input": {"command": ["rm", "-rf", "/"]}}',
        # parsers differ on which repeated key wins: never check one command and run another
        '{"tool_name": "Bash", "tool_input": {"command": "rm -rf /", "command": "ls"}}',
    ],
)
def test_malformed_input_blocks_with_exit_2(run, text):
    res = run("guardrails.py", "hook", input=text)
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.startswith("guardrails hook: blocked") and "Traceback" not in res.stderr


# ---------------------------------------------------------------- install-hook


def settings_of(path):
    return json.loads(Path(path).read_text())


def test_install_hook_merges_and_is_idempotent(run, tmp_path):
    project = tmp_path / "proj"
    settings = project / ".claude" / "settings.local.json"  # --project: absolute paths stay on this machine
    settings.parent.mkdir(parents=True)
    existing = {
        "permissions": {"allow": ["Bash(npm test)"]},
        "hooks": {
            "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "other-check.sh"}]}],
            "PostToolUse": [{"matcher": "Write", "hooks": [{"type": "command", "command": "fmt.sh"}]}],
        },
    }
    settings.write_text(json.dumps(existing))
    env = {"DEVOPS_PROJECT_DIR": str(project)}
    res = run("guardrails.py", "install-hook", "--project", env=env)
    assert res.returncode == 0, res.stderr
    data = settings_of(settings)
    assert data["permissions"] == existing["permissions"]
    assert data["hooks"]["PostToolUse"] == existing["hooks"]["PostToolUse"]
    pre = data["hooks"]["PreToolUse"]
    assert pre[0] == existing["hooks"]["PreToolUse"][0]
    ours = pre[1]
    assert ours["matcher"] == "Bash|Write|Edit|MultiEdit|NotebookEdit|Read|Grep|Glob"
    handler = ours["hooks"][0]
    assert handler["type"] == "command" and handler["timeout"] == 10
    interpreter = handler["command"].split()[0]
    assert os.path.isabs(interpreter) and interpreter == os.path.abspath(sys.executable)
    assert handler["command"].endswith("guardrails.py hook")
    before = settings.read_text()
    again = run("guardrails.py", "install-hook", "--project", env=env)
    assert again.returncode == 0 and "already installed" in again.stdout
    assert settings.read_text() == before
    # The installed command really is a working hook.
    import shlex
    import subprocess

    proc = subprocess.run(
        shlex.split(handler["command"]),
        input=payload(command="mytool ask x"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and decision_of(json.loads(proc.stdout))[0] == "ask"
    removed = run("guardrails.py", "install-hook", "--project", "--uninstall", env=env)
    assert removed.returncode == 0
    assert settings_of(settings) == existing


def test_install_hook_user_scope_and_broken_settings(run, tmp_path):
    home = tmp_path / "home"
    res = run(
        "guardrails.py", "install-hook", "--user", "--json", env={"HOME": str(home), "CLAUDE_CONFIG_DIR": ""}
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["path"] == str(home / ".claude" / "settings.json")
    assert (
        settings_of(home / ".claude" / "settings.json")["hooks"]["PreToolUse"][0]["hooks"][0]["timeout"] == 10
    )
    broken = tmp_path / "broken.json"
    broken.write_text("{ not json")
    res = run("guardrails.py", "install-hook", "--settings", str(broken))
    assert res.returncode == 2 and "not valid JSON" in res.stderr
    assert broken.read_text() == "{ not json"


def test_symlink_to_a_secret_file_is_judged_by_its_target(run, tmp_path):
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "authorized_keys").write_text("")
    link = tmp_path / "innocent.txt"
    link.symlink_to(home / ".ssh" / "authorized_keys")
    res = run(
        "guardrails.py",
        "hook",
        input=payload(tool="Write", file_path=str(link), content="ssh-ed25519 AAAA attacker"),
        env={"HOME": str(home)},
    )
    assert decision_of(json.loads(res.stdout))[0] == "deny"


@pytest.mark.parametrize(
    "text",
    [
        '{"tool_name": "Bash", "tool_input": {"command": "ls \\u00e9", "n": [1, 2.5, true, null]}}',
        ' \n{"a": {"b": "c\\"d"}}\n',
        '{"a": 1} trailing',
        '{"a": -1e5, "b": 0}',
        "[1,]",
    ],
)
def test_hook_json_reader_matches_json_loads(text):
    # the hook parses without importing json; it must accept and reject exactly what json.loads does
    import json

    from skill.guardrails.hook import _loads

    try:
        expected = json.loads(text)
    except ValueError:
        with pytest.raises(ValueError):
            _loads(text)
    else:
        assert _loads(text) == expected
