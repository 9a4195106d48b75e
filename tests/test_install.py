"""`devops install claude` against temporary homes and projects that already have settings."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml
from click.testing import CliRunner

from skill.cli import cli

EXISTING = {
    "model": "opus",
    "permissions": {"allow": ["Bash(npm test)"]},
    "hooks": {
        "PreToolUse": [
            {"matcher": "Bash", "hooks": [{"type": "command", "command": "/usr/local/bin/other-hook"}]}
        ],
        "PostToolUse": [{"matcher": "Edit", "hooks": [{"type": "command", "command": "prettier --write"}]}],
    },
}


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    (root / ".claude").mkdir()
    (root / ".claude" / "settings.json").write_text(json.dumps(EXISTING))
    monkeypatch.chdir(root)
    return root


def _install(*args):
    result = CliRunner().invoke(cli, ["install", "claude", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_project_install_writes_skill_and_merges_hook(project):
    report = _install()
    skill_dir = project / ".claude" / "skills" / "master-devops"
    assert report["skill_dir"] == str(skill_dir)
    meta = yaml.safe_load((skill_dir / "SKILL.md").read_text().split("---\n", 2)[1])
    assert meta["name"] == skill_dir.name
    body = (skill_dir / "SKILL.md").read_text()
    for ref in ("references/ci-cd.md", "references/incident-response.md"):
        assert ref in body and (skill_dir / ref).is_file()
    settings = json.loads((project / ".claude" / "settings.json").read_text())
    assert settings["model"] == "opus" and settings["permissions"] == EXISTING["permissions"]
    assert settings["hooks"]["PostToolUse"] == EXISTING["hooks"]["PostToolUse"]
    commands = [h["command"] for e in settings["hooks"]["PreToolUse"] for h in e["hooks"]]
    assert "/usr/local/bin/other-hook" in commands
    ours = [c for c in commands if c.endswith("guardrails.py hook")]
    assert len(ours) == 1 and str(skill_dir / "scripts" / "guardrails.py") in ours[0]


def test_install_is_idempotent(project):
    first = _install()
    before = (project / ".claude" / "settings.json").read_text()
    second = _install()
    assert first["changes"] and second["changes"] == []
    assert (project / ".claude" / "settings.json").read_text() == before


def test_installed_launchers_run_the_gate_as_real_processes(project):
    _install()
    scripts = project / ".claude" / "skills" / "master-devops" / "scripts"
    ok = subprocess.run(
        [str(scripts / "guardrails.py"), "check", "--command", "ls -la"], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    blocked = subprocess.run(
        [str(scripts / "guardrails.py"), "check", "--command", "rm -rf /"], capture_output=True, text=True
    )
    assert blocked.returncode == 4
    settings = json.loads((project / ".claude" / "settings.json").read_text())
    hook_cmd = next(
        h["command"]
        for e in settings["hooks"]["PreToolUse"]
        for h in e["hooks"]
        if h["command"].endswith("guardrails.py hook")
    )
    event = {
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": "rm -rf /"},
        "cwd": str(project),
        "session_id": "s",
    }
    proc = subprocess.run(hook_cmd, shell=True, input=json.dumps(event), capture_output=True, text=True)
    out = json.loads(proc.stdout) if proc.stdout.strip() else {}
    denied = proc.returncode == 2 or out.get("hookSpecificOutput", {}).get("permissionDecision") == "deny"
    assert denied, (proc.returncode, proc.stdout, proc.stderr)
    assert subprocess.run([str(scripts / "devops"), "--version"], capture_output=True).returncode == 0


def test_uninstall_reverses_and_keeps_the_rest(project):
    _install()
    report = _install("--uninstall")
    assert report["uninstalled"] and report["changes"]
    assert not (project / ".claude" / "skills" / "master-devops").exists()
    assert json.loads((project / ".claude" / "settings.json").read_text()) == EXISTING


def test_user_install_goes_to_claude_config_dir(tmp_path, monkeypatch):
    home = tmp_path / "claude-home"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home))
    report = _install("--user")
    assert report["skill_dir"] == str(home / "skills" / "master-devops")
    assert (home / "settings.json").is_file()


def test_refuses_to_overwrite_a_foreign_skill_folder(project):
    foreign = project / ".claude" / "skills" / "master-devops"
    foreign.mkdir(parents=True)
    (foreign / "SKILL.md").write_text("mine")
    result = CliRunner().invoke(cli, ["install", "claude"])
    assert result.exit_code == 2 and "not installed by master-devops" in result.output
    assert (foreign / "SKILL.md").read_text() == "mine"


def test_broken_settings_json_is_a_clear_error_and_untouched(project):
    (project / ".claude" / "settings.json").write_text("{not json")
    result = CliRunner().invoke(cli, ["install", "claude"])
    assert result.exit_code == 2 and "not valid JSON" in result.output
    assert (project / ".claude" / "settings.json").read_text() == "{not json"
