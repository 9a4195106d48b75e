"""``[slo]`` in config.toml: where the specs and Prometheus are, and the gate's threshold."""

from __future__ import annotations

import os
from typing import Any

from skill.config import load_settings
from skill.errors import ConfigError
from skill.paths import project_root

DEFAULTS: dict[str, Any] = {
    "prometheus_url": "",  # empty: [deploy.analysis] prometheus_url
    "spec": "",  # empty: the project root's specs (.devops/slo.yaml, Sloth, OpenSLO)
    "exhausted_threshold": 1.0,  # share of the budget spent that counts as exhausted
    "timeout": 5.0,
}


def slo_settings(start: str | os.PathLike | None = None) -> dict[str, Any]:
    merged = load_settings("slo", DEFAULTS, start=start)
    if not merged.get("prometheus_url"):
        analysis = load_settings("deploy", {}, start=start).get("analysis") or {}
        merged["prometheus_url"] = str(analysis.get("prometheus_url") or "")
    try:
        merged["exhausted_threshold"] = float(merged["exhausted_threshold"])
        merged["timeout"] = float(merged["timeout"])
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"[slo]: exhausted_threshold and timeout must be numbers ({exc})") from exc
    if merged["exhausted_threshold"] <= 0:
        raise ConfigError("[slo] exhausted_threshold must be above 0 (1.0 = the whole budget spent)")
    if not merged.get("spec"):
        root = project_root(start)
        merged["spec"] = str(root) if root else ""
    return merged
