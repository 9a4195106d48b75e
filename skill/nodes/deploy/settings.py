"""The ``[deploy]`` section of config.toml, with per-environment overrides.

``[deploy.env.production]`` (any canonical or given env name) is merged over ``[deploy]`` so a
health URL or a kube context can differ per environment. String values are templates with
``{service}``, ``{env}`` and ``{version}`` placeholders.
"""

from __future__ import annotations

from typing import Any

from skill.config import load_settings
from skill.errors import ConfigError, UsageError

DEFAULT_METRICS: list[dict[str, Any]] = [
    {
        "name": "error-rate",
        "query": (
            'sum(rate(http_requests_total{service="{service}",code=~"5.."}[2m]))'
            ' / sum(rate(http_requests_total{service="{service}"}[2m]))'
        ),
        "max": 0.05,
    },
    {
        "name": "latency-p99",
        "query": (
            "histogram_quantile(0.99, sum by (le) "
            '(rate(http_request_duration_seconds_bucket{service="{service}"}[2m])))'
        ),
        "max": 1.0,
    },
]

DEFAULTS: dict[str, Any] = {
    "driver": "kubectl",
    "script": "",
    "timeout": "4m",  # with the health checks, a rollback stays under the skill's 5-minute bound
    "namespace": "",
    "context": "",
    "deployment": "{service}",
    "container": "{service}",
    "image": "{service}",
    "rollout": "{service}",
    "release": "{service}",
    "chart": "./charts/{service}",
    "replicas": 10,
    "helm_image_key": "image.tag",
    "helm_canary_tag_key": "canary.tag",
    "helm_canary_weight_key": "canary.weight",
    "helm_preview_tag_key": "preview.tag",
    "health_url": "",
    "version_url": "",
    "canary_health_url": "",
    "canary_version_url": "",
    "preview_health_url": "",
    "preview_version_url": "",
    "health_timeout": 2.0,
    "health_attempts": 5,
    "backoff_initial": 0.5,
    "backoff_max": 8.0,
    "jitter": 0.5,
    "canary_steps": [10, 50, 100],
    "analysis": {
        "prometheus_url": "",
        "count": 3,
        "interval": "30s",
        "failure_limit": 0,
        "inconclusive_limit": 0,
        "timeout": 5.0,
        "metrics": DEFAULT_METRICS,
    },
    "env": {},
}

DRIVERS = ("kubectl", "helm", "argo-rollouts", "script")


def deploy_settings(env: str | None = None, canonical_env: str | None = None, start=None) -> dict[str, Any]:
    """Merged settings for one environment (``[deploy]`` + ``[deploy.env.<name>]``)."""
    merged = load_settings("deploy", DEFAULTS, start=start)
    per_env = merged.pop("env", {}) or {}
    if env is not None:
        check_environment(env, per_env)
    for name in dict.fromkeys(n for n in (canonical_env, env) if n):
        override = per_env.get(name)
        if isinstance(override, dict):
            for key, value in override.items():
                if isinstance(value, dict) and isinstance(merged.get(key), dict):
                    merged[key] = {**merged[key], **value}
                else:
                    merged[key] = value
    if merged.get("driver") not in DRIVERS:
        raise ConfigError(f"[deploy] driver = {merged.get('driver')!r} is not one of {', '.join(DRIVERS)}")
    return merged


def check_environment(env: str, configured: dict[str, Any] | None = None) -> None:
    """Refuse an environment neither recognised nor configured.

    The gate tiers a deploy by its environment; a typo (``prodution``) or a name nobody knows
    (``eu-live-2``? ``nowhere``?) must not slip through as a low-risk deploy.
    """
    from skill.environments import infer_environment

    name = (env or "").strip()
    if not name:
        raise UsageError("no environment given", hint="--env production|staging|development")
    if infer_environment(name) is None and name not in (configured or {}):
        raise UsageError(
            f"unknown environment {name!r}",
            hint="use production, staging or development (or an alias such as prod, stg, dev), "
            "or define it in config.toml as [deploy.env.NAME]",
        )


def require_known_environment(env: str, start=None) -> None:
    """``check_environment`` against the environments config.toml defines under [deploy.env]."""
    per_env = load_settings("deploy", {"env": {}}, start=start).get("env") or {}
    check_environment(env, per_env if isinstance(per_env, dict) else {})


def fill(template: Any, **values: Any) -> str:
    """Replace the ``{service}``/``{env}``/``{version}``... placeholders, leaving other braces alone.

    PromQL label matchers use braces too, so this is a literal replacement, not str.format.
    """
    text = str(template or "")
    for key, value in values.items():
        text = text.replace("{" + key + "}", "" if value is None else str(value))
    return text
