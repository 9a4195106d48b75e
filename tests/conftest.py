"""Shared fixtures: every test gets its own data dir and config dir, no API key, no network."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DEVOPS_SHARED_DIR", REPO.parent / "shared"))
CORPORA = SHARED / "corpora"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Point every data/config location at a temp dir, and switch the optional LLM off."""
    home = tmp_path / "devops-home"
    monkeypatch.setenv("DEVOPS_HOME", str(home))
    monkeypatch.setenv("DEVOPS_CONFIG_DIR", str(tmp_path / "devops-config"))
    monkeypatch.delenv("DEVOPS_PROJECT_DIR", raising=False)
    monkeypatch.delenv("DEVOPS_POLICY", raising=False)
    for var in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def repo_root() -> Path:
    return REPO


@pytest.fixture
def corpora() -> Path:
    if not CORPORA.is_dir():
        pytest.skip(f"shared corpora not found at {CORPORA}")
    return CORPORA


def run_script(*args: str, input: str | None = None, env: dict | None = None, cwd=None, timeout: float = 60):
    """Run one of the repository's scripts (guardrails.py, memory.py) or `-m skill.cli` as a real process."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, *args],
        input=input,
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or REPO,
        timeout=timeout,
    )


@pytest.fixture
def run():
    return run_script
