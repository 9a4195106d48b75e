"""One rule for where the team database is: the storage seam and the gate's hook agree.

skill.paths.database_url is the rule ($DEVOPS_DATABASE_URL, else `[store] url` in config.toml,
empty = embedded); skill.storage re-exports it and skill.guardrails.audit.team_url calls it, so the
hook never imports skill.storage. Each case below is asked of all three.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from skill import paths, storage
from skill.errors import ConfigError
from skill.guardrails import audit

REPO = Path(__file__).resolve().parents[2]
ENV_URL = "postgresql://env-host/devops"
CFG_URL = "postgres://cfg-host/devops"
UNSET = object()


def _answer(fn):
    try:
        return fn()
    except ConfigError as exc:
        return ("ConfigError", str(exc).split(":", 1)[0])


@pytest.mark.parametrize(
    "env,user_cfg,project_cfg,expected",
    [
        (UNSET, None, None, None),  # nothing configured: embedded
        (ENV_URL, None, None, ENV_URL),  # env only
        (UNSET, f'[store]\nurl = "{CFG_URL}"\n', None, CFG_URL),  # config only
        (UNSET, None, f'[store]\nurl = "{CFG_URL}"\n', None),  # a repository's .devops/ cannot choose it
        (UNSET, f'[store]\nurl = "{CFG_URL}"\n', '[store]\nurl = "postgresql://repo/db"\n', CFG_URL),
        (ENV_URL, f'[store]\nurl = "{CFG_URL}"\n', None, ENV_URL),  # both: the env wins
        ("", f'[store]\nurl = "{CFG_URL}"\n', None, None),  # empty env: this shell opts out
        ("  ", None, None, None),
        ("sqlite", f'[store]\nurl = "{CFG_URL}"\n', None, None),
        (UNSET, '[store]\nurl = ""\n', None, None),  # empty in config: embedded
        (UNSET, "[other]\nx = 1\n", None, None),  # a config without [store]
        (UNSET, f'[store]\nurl = "  {CFG_URL}  "\n', None, CFG_URL),
        ("mysql://db/devops", None, None, "ConfigError"),  # never a silent fallback to local files
        (UNSET, '[store]\nurl = "mysql://db/devops"\n', None, "ConfigError"),
        (UNSET, "[store]\nurl = 5\n", None, "ConfigError"),  # not a string
        (UNSET, "[store\nurl = broken", None, "ConfigError"),  # an unreadable config.toml
        (ENV_URL, "[store\nurl = broken", None, ENV_URL),  # the env wins without reading it
    ],
)
def test_the_seam_and_the_hook_read_the_same_url(env, user_cfg, project_cfg, expected, tmp_path, monkeypatch):
    cfg = tmp_path / "devops-config"
    project = tmp_path / "project"
    (project / ".devops").mkdir(parents=True)
    monkeypatch.setenv("DEVOPS_PROJECT_DIR", str(project))
    monkeypatch.delenv("DEVOPS_CONFIG", raising=False)
    if env is not UNSET:
        monkeypatch.setenv("DEVOPS_DATABASE_URL", env)
    if user_cfg is not None:
        cfg.mkdir(exist_ok=True)
        (cfg / "config.toml").write_text(user_cfg)
    if project_cfg is not None:
        (project / ".devops" / "config.toml").write_text(project_cfg)
    answers = {
        fn.__module__ + "." + fn.__name__: _answer(fn) for fn in (storage.database_url, audit.team_url)
    }
    answers["skill.paths.database_url"] = _answer(paths.database_url)
    assert len(set(map(repr, answers.values()))) == 1, answers
    got = answers["skill.paths.database_url"]
    assert (got[0] if isinstance(got, tuple) else got) == expected, answers


def test_a_config_named_by_devops_config_counts_too(tmp_path, monkeypatch):
    extra = tmp_path / "team.toml"
    extra.write_text(f'[store]\nurl = "{CFG_URL}"\n')
    monkeypatch.setenv("DEVOPS_CONFIG", str(extra))
    assert storage.database_url() == audit.team_url() == CFG_URL


def test_there_is_one_rule():
    assert storage.database_url is paths.database_url


def _run(env, *args, stdin=None):
    return subprocess.run(
        [sys.executable, *args], input=stdin, capture_output=True, text=True, cwd=REPO, env=env, timeout=60
    )


def test_the_hook_without_a_config_toml_parses_no_config_and_imports_no_storage(tmp_path):
    # Structural, not timed: the cold start stays os.path only when nothing is configured.
    env = {**__import__("os").environ, "DEVOPS_PROJECT_DIR": str(tmp_path)}
    payload = json.dumps({"tool_name": "Bash", "cwd": "/tmp", "tool_input": {"command": "git status"}})
    res = _run(env, "-X", "importtime", str(REPO / "guardrails.py"), "hook", stdin=payload)
    modules = {
        line.rsplit("|", 1)[-1].strip() for line in res.stderr.splitlines() if line.startswith("import time:")
    }
    assert "skill.paths" in modules and "skill.guardrails.audit" in modules  # the probe works
    assert (
        sorted(
            m for m in modules if m in ("skill.config", "tomllib", "pathlib") or m.startswith("skill.storage")
        )
        == []
    )


def test_an_unreadable_config_toml_makes_the_gate_ask_naming_it(tmp_path):
    # The hook used to read a broken config.toml as "embedded" while every devops command refused
    # it; now both refuse it: an approval is never looked up in this machine's files by mistake.
    import os

    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "config.toml").write_text("[store\nurl = broken")
    env = {**os.environ, "DEVOPS_CONFIG_DIR": str(cfg), "DEVOPS_PROJECT_DIR": str(tmp_path)}
    env.pop("DEVOPS_DATABASE_URL", None)
    res = _run(env, str(REPO / "guardrails.py"), "check", "--command", "git reset --hard HEAD~1", "--json")
    decision = json.loads(res.stdout)
    assert res.returncode == 3 and any("config.toml" in r for r in decision["reasons"]), (
        res.stdout,
        res.stderr,
    )
    res = _run(env, str(REPO / "guardrails.py"), "check", "--command", "git status", "--json")
    assert res.returncode == 0 and json.loads(res.stdout)["decision"] == "allow", res.stderr
