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
from skill.nodes.readiness.checks import LEVELS

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


def _canonical(env: str) -> str | None:
    # the gate's own reading of environment names (prd, live, api-prod, stg, uat ...), so the
    # readiness target and the deploy gate agree on what "production" is
    from skill.environments import infer_environment

    return infer_environment(env)


def target_for(env: str, cfg: dict) -> str:
    """The level ``[readiness.targets]`` asks for ``env`` (by its name, then its canonical name).

    An environment neither listed nor recognised is a usage error: a typo must not quietly
    lower the bar from production's target to the default.
    """
    targets = {str(k).lower(): v for k, v in (cfg.get("targets") or {}).items()}
    name = env.strip().lower()
    if name in targets:
        return normalise_level(targets[name])
    canonical = _canonical(name)
    if canonical is None:
        raise UsageError(
            f"unknown environment {env!r}: use production, staging or development (or an alias such as "
            "prod, stg, dev), or give it a target in [readiness.targets]"
        )
    return normalise_level(targets.get(canonical, cfg.get("default_target", "L2")))


def is_production(env: str, cfg: dict) -> bool:
    name = env.strip().lower()
    if name in {str(e).lower() for e in cfg.get("production_envs") or ()}:
        return True
    listed = {str(k).lower() for k in (cfg.get("targets") or {})}
    return name not in listed and _canonical(name) == "production"


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
