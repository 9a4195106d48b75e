"""Shared fixtures for the guardrails tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PINNED = """
[[rules]]
id = "pin.ask"
command = "mytool ask *"
tier = 3

[[rules]]
id = "pin.block"
command = "mytool block *"
tier = 4
"""


@pytest.fixture
def pinned_tiers():
    """Tiers for `mytool ask|block` fixed by policy, so CLI/hook tests do not depend on the rule set."""
    cfg = Path(os.environ["DEVOPS_CONFIG_DIR"])
    cfg.mkdir(parents=True, exist_ok=True)
    (cfg / "policy.toml").write_text(PINNED)
    return cfg / "policy.toml"
