"""Issue 12 §3: delete, move-over, truncate and chmod targets judged against the real git worktree.

Every test builds a real repository with git in a temp dir (a project under /tmp is a project).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from skill.guardrails import worktree
from skill.guardrails.classify import classify_command

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    (root / "build").mkdir()
    (root / "node_modules" / "left-pad").mkdir(parents=True)
    (root / "src" / "app.py").write_text("print(1)\n")
    (root / "build" / "out.bin").write_text("x")
    (root / "forced").mkdir()
    (root / "forced" / "keep.txt").write_text("tracked although ignored\n")
    (root / ".gitignore").write_text("build/\nnode_modules/\n*.pyc\n__pycache__/\nforced/\n")
    home = tmp_path / "home"
    (home / "Documents").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@x",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@x",
    }
    for args in (["init", "-q"], ["add", "-A"], ["add", "-f", "forced/keep.txt"], ["commit", "-qm", "init"]):
        subprocess.run(["git", *args], cwd=root, check=True, env={**os.environ, **env})
    worktree._ROOTS.clear()
    return root


def judged(command: str, cwd: Path):
    v = classify_command(command, str(cwd))
    return v.tier, v.deny, v.rule_ids


@pytest.mark.parametrize(
    ("command", "tier", "rule"),
    [
        ("rm -rf build", 2, "rm.ignored-output"),
        ("rm -rf node_modules build", 2, "rm.ignored-output"),
        ("rm -rf __pycache__", 2, "rm.ignored-output"),  # a folder pattern, folder not there yet
        ("find . -name '*.pyc' -delete", 2, "find.delete-ignored"),
        ("find build -delete", 2, "find.delete-ignored"),
        ("git clean -fdX", 2, "git.clean-ignored"),
        ("rm -rf src", 3, "rm.tracked"),
        ("rm -rf build/../src", 3, "rm.tracked"),
        ("rm -rf forced", 3, "rm.tracked"),  # ignored folder holding a tracked file
        ("find . -name '*.py' -delete", 3, "find.delete"),
        ("git clean -fdx", 3, "git.clean-force"),
        ("rm -rf .git", 4, "rm.git-dir"),
        ("rm -rf .", 4, "rm.worktree-root"),
        ("rm -rf ..", 4, "rm.worktree-root"),
        ("rm -rf ~/Documents", 3, "rm.home"),
        ("rm -rf ~/*.log", 4, "rm.home-glob"),
        ("rm .git/index.lock", 2, "rm.git-lock"),
        ("rm .git/HEAD", 3, "rm.git-file"),
        ("mv junk .git/config", 4, "fs.repository"),
        ("truncate -s 0 .git/index", 4, "fs.repository"),
        ("truncate -s 0 build/out.bin", 2, "fs.ignored-output"),
        ("chmod -R 000 .git", 4, "fs.repository"),
    ],
)
def test_paths_in_the_worktree(project, command, tier, rule):
    got_tier, deny, rules = judged(command, project)
    assert (got_tier, rule in rules, deny) == (tier, True, False), (command, got_tier, rules)


def test_the_same_paths_from_a_subfolder(project):
    assert judged("rm -rf ../build", project / "src")[0] == 2
    assert judged("rm -rf ../.git", project / "src")[0] == 4
    assert judged("rm -rf ../src", project / "src")[0] == 3


def test_a_project_under_tmp_is_not_scratch(project):
    # project lives under pytest's temp dir (/tmp/...): before, all of these were T2 "temp"
    for command in ("rm -rf .git", "rm -rf ..", "rm -rf src"):
        assert judged(command, project)[0] >= 3, command
    # a path given from outside, into the project, is judged by the project's own worktree
    assert judged(f"rm -rf {project}/.git", Path("/"))[0] == 4
    assert judged(f"rm -rf {project}", project.parent)[0] == 4


def test_scratch_outside_any_worktree_stays_t2(tmp_path):
    scratch = tmp_path / "scratch"
    (scratch / "out").mkdir(parents=True)
    worktree._ROOTS.clear()
    assert judged("rm -rf out", scratch)[:2] == (2, False)


def test_dot_dot_to_the_root_is_the_root_deny(project):
    depth = len(project.parts) - 1
    tier, deny, rules = judged("rm -rf " + "/".join([".."] * depth), project)
    assert (tier, deny) == (4, True) and "rm.root-or-home" in rules


def test_lookalikes_outside_a_worktree_keep_their_tiers(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    worktree._ROOTS.clear()
    assert judged("rm -rf /etc/nginx", plain)[0] == 4
    assert judged("rm -rf ~", plain)[1]
    assert judged("rm src.txt", plain)[0] == 2


def test_git_config_in_the_repository_is_not_executed(project, tmp_path):
    # core.fsmonitor in the repo's own config would run a program on `git ls-files`
    marker = tmp_path / "ran"
    subprocess.run(["git", "config", "core.fsmonitor", f"touch {marker}; false"], cwd=project, check=True)
    judged("rm -rf build", project)
    judged("rm -rf src", project)
    assert not marker.exists()


def test_explain_shows_the_path_verdicts(project, tmp_path):
    res = subprocess.run(
        [sys.executable, str(REPO / "guardrails.py"), "check", "--command", "rm -rf build src", "--explain"],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "DEVOPS_HOME": str(tmp_path / "dh")},
        timeout=60,
    )
    assert res.returncode == 3, res.stderr
    assert "path build: git-ignored (regenerable) in the worktree" in res.stdout
    assert "path src: tracked or unignored files of the worktree" in res.stdout
