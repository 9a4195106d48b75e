"""guardrails.py usage errors are exit 2 with one line: the caller's mistake is not a gate block."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = str(Path(__file__).resolve().parents[2] / "guardrails.py")


def _gate(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, SCRIPT, *args], capture_output=True, text=True, timeout=60, cwd=cwd
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("check", "--batch", "missing.json"), "cannot read --batch missing.json"),
        (("check", "--batch", "."), "Is a directory"),
        (
            ("check", "--action", "deploy", "--target", "api", "--env", "marsbase"),
            "unknown environment 'marsbase'",
        ),
        (("check", "--command", "   "), "empty"),
        (("install-hook", "--settings", "binary.dat"), "not UTF-8 text"),
    ],
    ids=["batch-missing", "batch-dir", "unknown-env", "empty-command", "binary-settings"],
)
def test_usage_errors_exit_2_with_one_line(tmp_path, args, says):
    (tmp_path / "binary.dat").write_bytes(bytes(range(256)) * 4)
    res = _gate(*args, cwd=tmp_path)
    assert res.returncode == 2, (res.returncode, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and "Traceback" not in res.stderr
    assert (tmp_path / "binary.dat").read_bytes() == bytes(range(256)) * 4  # nothing was changed


def test_known_environment_aliases_still_pass(tmp_path):
    res = _gate("check", "--action", "deploy", "--target", "api", "--env", "stg", "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr


def test_help_describes_every_option_and_shows_examples_on_their_own_lines():
    import re

    from skill.guardrails.cli import _parser

    parser = _parser()
    subparsers = next(a for a in parser._actions if a.dest == "cmd").choices
    for name, sub in subparsers.items():
        for action in sub._actions:
            if action.option_strings and action.dest != "help":
                assert action.help, f"guardrails.py {name} {action.option_strings[0]} has no description"
        if name not in ("hook",):
            text = sub.format_help()
            assert re.search(r"^examples?.*:\n  guardrails\.py ", text, re.M), f"{name}: no examples"
    hook = subparsers["hook"].format_help()
    assert "input:" in hook and "output:" in hook and "exit:" in hook
