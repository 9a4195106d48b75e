"""Usage errors exit 2 with one clear line, whatever command they reach (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from skill.cli import cli

PLAN = str(Path(__file__).resolve().parent / "fixtures" / "iac" / "plans" / "mixed.json")

# (argv, words the one-line error must contain)
DEVOPS_CASES = [
    (["memory", "list", "--since", ""], "must not be empty"),
    (["memory", "recall", "disk full", "--until", "  "], "must not be empty"),
    (["memory", "deployments", "list", "--since", ""], "must not be empty"),
    (["memory", "list", "--since", "99999999999d"], "too long"),
    (["memory", "list", "--since", "3000000d"], "before year 1"),
    (["runs", "prune", "--older-than", "99999999999d"], "too long"),
    (["install", "claude", "--user", "--project"], "give one"),
    (["iac", "review", PLAN, "--env", "marsbase"], "unknown environment 'marsbase'"),
    (["iac", "review", PLAN, "--env", ""], "unknown environment ''"),
]
GUARDRAILS_CASES = [
    (["audit", "--limit", "-1"], "must be 1 or more"),
    (["audit", "--limit", "0"], "must be 1 or more"),
    (["pending", "--limit", "-5"], "must be 1 or more"),
    (["audit", "--since", ""], "empty duration"),
    (["audit", "--since", "99999999999d"], "too long"),
    (["audit", "--since", "99999999999"], "before year 1"),
]


@pytest.mark.parametrize("argv,words", DEVOPS_CASES, ids=[" ".join(a) for a, _ in DEVOPS_CASES])
def test_devops_usage_errors_exit_2(argv, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude-home"))
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 2, (result.exit_code, result.output)
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("Error:") and words in error, result.stderr
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert not (tmp_path / ".claude").exists() and not (tmp_path / "claude-home").exists()


@pytest.mark.parametrize("argv,words", GUARDRAILS_CASES, ids=[" ".join(a) for a, _ in GUARDRAILS_CASES])
def test_guardrails_usage_errors_exit_2(run, argv, words):
    proc = run("guardrails.py", *argv)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert len(proc.stderr.strip().splitlines()) == 1 and words in proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr


def test_the_valid_neighbours_still_work(run):
    assert run("guardrails.py", "audit", "--since", "7d", "--limit", "1").returncode == 0
    review = CliRunner().invoke(cli, ["iac", "review", PLAN, "--env", "prod", "--json"])
    assert review.exit_code in (0, 3, 4), review.output
    assert CliRunner().invoke(cli, ["memory", "list", "--since", "24h"]).exit_code == 0
