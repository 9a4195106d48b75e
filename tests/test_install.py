"""`devops install claude` against temporary homes and projects that already have settings."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml
from click.testing import CliRunner

from skill.cli import cli
from skill.install import SOURCE_ROOT

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
    ours = [c for c in commands if "guardrails.py hook" in c]
    assert ours == ['"$CLAUDE_PROJECT_DIR"/.claude/skills/master-devops/scripts/guardrails.py hook || exit 2']


def test_install_is_idempotent(project):
    first = _install()
    before = (project / ".claude" / "settings.json").read_text()
    second = _install()
    assert first["changes"] and second["changes"] == []
    assert (project / ".claude" / "settings.json").read_text() == before


def _hook_command(settings_file):
    settings = json.loads(settings_file.read_text())
    return next(
        h["command"]
        for e in settings["hooks"]["PreToolUse"]
        for h in e["hooks"]
        if "guardrails" in h["command"]
    )


def _run_hook(command, project, env):
    """Run a hook command the way Claude Code does: through the shell, event on stdin."""
    event = {
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": "rm -rf /"},
        "cwd": str(project),
        "session_id": "s",
    }
    env = {**env, "CLAUDE_PROJECT_DIR": str(project)}
    proc = subprocess.run(
        command, shell=True, input=json.dumps(event), capture_output=True, text=True, env=env, cwd=project
    )
    out = json.loads(proc.stdout) if proc.stdout.strip() else {}
    return proc, out.get("hookSpecificOutput", {}).get("permissionDecision")


def _machine_env(project):
    """This machine's environment as Claude Code builds it: the env block of settings.local.json on top."""
    local = json.loads((project / ".claude" / "settings.local.json").read_text())
    return {**os.environ, **local["env"]}


BARE_PATH = "/usr/local/bin:/usr/bin:/bin"  # no master-devops console script on it


def test_installed_launchers_run_the_gate_as_real_processes(project):
    _install()
    scripts = project / ".claude" / "skills" / "master-devops" / "scripts"
    env = {**_machine_env(project), "PATH": BARE_PATH}
    ok = subprocess.run(
        [str(scripts / "guardrails.py"), "check", "--command", "ls -la"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert ok.returncode == 0, ok.stderr
    blocked = subprocess.run(
        [str(scripts / "guardrails.py"), "check", "--command", "rm -rf /"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert blocked.returncode == 4
    proc, decision = _run_hook(_hook_command(project / ".claude" / "settings.json"), project, env)
    assert proc.returncode == 0 and decision == "deny", (proc.returncode, proc.stdout, proc.stderr)
    assert (
        subprocess.run([str(scripts / "devops"), "--version"], capture_output=True, env=env).returncode == 0
    )
    # Run through python3 as well as directly.
    via_python = subprocess.run(
        ["python3", str(scripts / "guardrails.py"), "check", "--command", "rm -rf /"],
        capture_output=True,
        env=env,
    )
    assert via_python.returncode == 4


def test_project_install_commits_no_path_of_this_machine(project):
    _install()
    machine = {sys.executable, os.path.abspath(sys.executable), str(SOURCE_ROOT), str(project)}
    committed = [project / ".claude" / "settings.json"]
    committed += [p for p in (project / ".claude" / "skills").rglob("*") if p.is_file()]
    for path in committed:
        text = path.read_text()
        leaked = [m for m in machine if m in text]
        assert not leaked, (path, leaked)
    local = json.loads((project / ".claude" / "settings.local.json").read_text())
    assert local["env"]["DEVOPS_PYTHON"] == os.path.abspath(sys.executable)


def test_a_teammate_clone_is_gated_or_blocked_never_silently_open(project, tmp_path):
    _install()
    clone = tmp_path / "teammate" / "proj"
    shutil.copytree(project, clone)
    (clone / ".claude" / "settings.local.json").unlink()  # not committed
    command = _hook_command(clone / ".claude" / "settings.json")
    bare = {k: v for k, v in os.environ.items() if not k.startswith("DEVOPS_PY")} | {"PATH": BARE_PATH}
    # Without master-devops on that machine: a block with the fix, not a pass.
    proc, _ = _run_hook(command, clone, bare)
    assert proc.returncode == 2 and "run 'devops install claude'" in proc.stderr
    # The skill folder's own scripts on PATH do not start themselves in a loop.
    scripts = clone / ".claude" / "skills" / "master-devops" / "scripts"
    looped = subprocess.run(
        [str(scripts / "devops"), "--version"],
        capture_output=True,
        text=True,
        env={**bare, "PATH": f"{scripts}:{BARE_PATH}"},
        timeout=30,
    )
    assert looped.returncode == 2 and "not installed" in looped.stderr
    # With master-devops installed (its console script on PATH): the gate runs.
    console_dir = os.path.dirname(
        shutil.which("devops-guardrails", path=os.path.dirname(sys.executable)) or ""
    )
    if console_dir:
        proc, decision = _run_hook(command, clone, {**bare, "PATH": f"{console_dir}:{BARE_PATH}"})
        assert proc.returncode == 0 and decision == "deny", proc.stderr
    # Without the skill folder at all (the hook file missing, exit 127): still a block.
    shutil.rmtree(clone / ".claude" / "skills")
    proc, _ = _run_hook(command, clone, bare)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)


def test_doctor_runs_the_installed_hook(project, tmp_path, monkeypatch):
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "no-user-settings"))
    monkeypatch.setenv("PATH", BARE_PATH)

    def hook_rows():
        result = CliRunner().invoke(cli, ["doctor", "--json"])
        return [c for c in json.loads(result.stdout)["checks"] if c["name"] == "claude hook"]

    assert [r["status"] for r in hook_rows()] == ["warn"]
    _install()
    rows = hook_rows()
    assert [r["status"] for r in rows] == ["ok"] and "denies a probe" in rows[0]["detail"]
    local = project / ".claude" / "settings.local.json"
    local.write_text(json.dumps({"env": {"DEVOPS_PYTHON": str(tmp_path / "gone" / "python")}}))
    rows = hook_rows()
    assert [r["status"] for r in rows] == ["fail"], rows
    assert "exit 2" in rows[0]["detail"] and "devops install claude" in rows[0]["detail"]


def test_install_hook_project_is_machine_local_and_defers_to_the_portable_hook(project, run):
    env = {"DEVOPS_PROJECT_DIR": str(project)}
    res = run("guardrails.py", "install-hook", "--project", env=env)
    assert res.returncode == 0, res.stderr
    local = project / ".claude" / "settings.local.json"
    assert os.path.isabs(_hook_command(local).split()[0])
    assert json.loads((project / ".claude" / "settings.json").read_text()) == EXISTING
    # The team install replaces the machine-local hook with the portable one (no double gate).
    _install()
    assert "hooks" not in json.loads(local.read_text())
    again = run("guardrails.py", "install-hook", "--project", env=env)
    assert again.returncode == 0 and "already installed, portable" in again.stdout
    assert "hooks" not in json.loads(local.read_text())


def test_uninstall_reverses_and_keeps_the_rest(project):
    local = project / ".claude" / "settings.local.json"
    local.write_text(json.dumps({"env": {"MINE": "1"}}))
    _install()
    report = _install("--uninstall")
    assert report["uninstalled"] and report["changes"]
    assert not (project / ".claude" / "skills" / "master-devops").exists()
    assert json.loads((project / ".claude" / "settings.json").read_text()) == EXISTING
    assert json.loads(local.read_text()) == {"env": {"MINE": "1"}}


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
