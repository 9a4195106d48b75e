"""Cumulative maturity scoring and the target level per environment.

A level is achieved only when every check of that level and of all lower levels passes
(``warn`` and ``n/a`` do not block): the gating model of OpsLevel, Port and GitLab's service
maturity model. The target comes from ``config.toml``::

    [readiness.targets]
    production = "L3"
    staging = "L2"
    dev = "L1"
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from skill.config import load_settings
from skill.errors import UsageError
from skill.findings import Finding

from .checks import LEVELS

DEFAULTS: dict = {
    "targets": {
        "production": "L3",
        "prod": "L3",
        "staging": "L2",
        "stage": "L2",
        "dev": "L1",
        "development": "L1",
        "test": "L1",
    },
    "default_target": "L2",
    "production_envs": ["production", "prod"],
    "runbook_min_scenarios": 5,
    "max_files": 50_000,
    "max_file_bytes": 2_000_000,
    "disable": [],
}


def settings(start: str | os.PathLike | None = None) -> dict:
    return load_settings("readiness", DEFAULTS, start=start)


def normalise_level(value: str | int) -> str:
    """'3', 'l3', 'L3' -> 'L3'; anything else is a usage error."""
    text = str(value).strip().upper()
    if not text.startswith("L"):
        text = "L" + text
    if text not in LEVELS:
        raise UsageError(f"unknown level {value!r}: use one of {', '.join(LEVELS)}")
    return text


def target_for(env: str, cfg: dict) -> str:
    targets = {str(k).lower(): v for k, v in (cfg.get("targets") or {}).items()}
    return normalise_level(targets.get(env.lower(), cfg.get("default_target", "L2")))


def is_production(env: str, cfg: dict) -> bool:
    return env.lower() in {str(e).lower() for e in cfg.get("production_envs") or ()}


def level_achieved(findings: Iterable[Finding]) -> str:
    """The highest level whose checks, and those of every lower level, have no failure."""
    failing = {f.level for f in findings if f.status == "fail" and f.level}
    achieved = "L0"
    for level in LEVELS:
        if level in failing:
            break
        achieved = level
    return achieved


def meets(achieved: str, target: str) -> bool:
    return int(achieved[1:]) >= int(target[1:])
