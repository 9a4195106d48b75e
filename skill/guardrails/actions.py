"""The named-action catalogue: what `check --action NAME` means, per environment.

Each action has a base tier (development, staging) and a production tier. When the environment
is neither given nor recognisable from the target, an action whose production tier is higher
than its base is judged one step up from the base (capped at the production tier): "deploy api"
with no hint of where is asked about, not waved through. A policy may set
``[settings] default_environment`` to change that, and ``[actions.NAME]`` tables override or add
actions (skill.guardrails.policy).
"""

from __future__ import annotations

from skill import environments as envs

# name: (base tier, production tier, freeze-scoped change?, forced environment, description)
CATALOGUE: dict[str, tuple[int, int, bool, str | None, str]] = {
    "status": (1, 1, False, None, "read status, logs or metrics"),
    "ci_status": (1, 1, False, None, "read pipeline status"),
    "ci_rerun": (2, 2, False, None, "re-run a CI pipeline or job"),
    "ci_cancel": (2, 3, False, None, "cancel a running pipeline"),
    "deploy": (2, 4, True, None, "deploy a release"),
    "deploy_staging": (2, 4, True, envs.STAGING, "deploy to staging"),
    "deploy_production": (4, 4, True, envs.PRODUCTION, "deploy to production"),
    "rollback": (2, 3, True, None, "roll back to the last good release"),
    # The agent's own suggestion during an incident ([agent] incident_rollback = "propose"): a
    # human approves it in every environment; "execute" gates it as a plain rollback instead.
    "incident_rollback": (3, 4, True, None, "a rollback the agent proposes during an incident"),
    "infra_plan": (1, 1, False, None, "preview an infrastructure change (plan, diff)"),
    "infra_change": (3, 4, True, None, "apply an infrastructure change"),
    "infra_destroy": (4, 4, True, None, "destroy infrastructure"),
    "db_migration": (2, 4, True, None, "run a schema migration"),
    "db_restore": (3, 4, True, None, "restore a database from backup (overwrites data)"),
    "db_query_write": (2, 4, False, None, "run a data-changing query"),
    "db_backup": (1, 2, False, None, "take a database backup"),
    "scale": (2, 3, True, None, "change replica counts or capacity"),
    "restart": (2, 3, False, None, "restart a service or pods"),
    "secret_read": (2, 3, False, None, "read a secret value"),
    "secret_rotation": (3, 4, True, None, "rotate a secret or credential"),
    "feature_flag_toggle": (2, 3, False, None, "switch a feature flag"),
    "k8s_apply": (2, 3, True, None, "apply Kubernetes manifests"),
    "k8s_delete": (3, 4, True, None, "delete Kubernetes resources"),
    "backup_delete": (4, 4, False, None, "delete backups or snapshots"),
    "dns_change": (3, 4, True, None, "change DNS records"),
    "firewall_change": (3, 4, True, None, "change firewall or security-group rules"),
    "cert_rotation": (2, 3, True, None, "rotate TLS certificates"),
}

UNKNOWN_ACTION_TIER = 3


def normalize_action(name: str) -> str:
    return (name or "").strip().lower().replace("-", "_")


class ActionVerdict:
    __slots__ = ("action", "tier", "environment", "reasons", "rule_ids", "freeze_scoped", "known")

    def __init__(self, action, tier, environment, reasons, rule_ids, freeze_scoped, known):
        self.action = action
        self.tier = tier
        self.environment = environment
        self.reasons = reasons
        self.rule_ids = rule_ids
        self.freeze_scoped = freeze_scoped
        self.known = known


def resolve_environment(forced: str | None, env: str | None, target: str | None) -> str | None:
    """The most severe of: the action's own environment, --env, and what the target names."""
    rank = {envs.PRODUCTION: 3, envs.STAGING: 2, envs.DEVELOPMENT: 1}
    best = None
    for candidate in (forced, envs.normalize(env), envs.infer_environment(target)):
        if candidate and (best is None or rank.get(candidate, 0) > rank.get(best, 0)):
            best = candidate
    return best


def classify_action(
    action: str,
    target: str | None = None,
    env: str | None = None,
    *,
    overrides: dict | None = None,
    default_environment: str | None = None,
    unknown_tier: int = UNKNOWN_ACTION_TIER,
) -> ActionVerdict:
    """Tier a named action. ``overrides`` are the policy's ``[actions.NAME]`` tables."""
    name = normalize_action(action)
    entry = CATALOGUE.get(name)
    override = (overrides or {}).get(name)
    reasons: list[str] = []
    if entry is None and override is None:
        environment = resolve_environment(None, env, target) or envs.normalize(default_environment)
        tier = max(UNKNOWN_ACTION_TIER, unknown_tier)
        if environment == envs.PRODUCTION:
            tier = 4
        reasons.append(f"unknown action {name!r}: not in the catalogue, so a human decides")
        rule_ids = ["action.unknown"]
        return ActionVerdict(name, tier, environment, reasons, rule_ids, True, False)

    base, prod, freeze, forced, description = entry or (
        UNKNOWN_ACTION_TIER,
        4,
        True,
        None,
        "policy-defined action",
    )
    if override:
        base = override.get("tier", base)
        prod = override.get("production_tier", prod)
        freeze = override.get("freeze", freeze)
        forced = envs.normalize(override.get("environment")) or forced
        description = override.get("description", description)
    prod = max(prod, base)
    environment = resolve_environment(forced, env, target)
    explicit = environment is not None
    if environment is None and default_environment:
        environment = envs.normalize(default_environment)
    rule_ids = [f"action.{name}"]
    if environment == envs.PRODUCTION:
        tier = prod
        reasons.append(f"{name} ({description}) in production: T{tier}")
        if prod > base:
            rule_ids.append("env.production")
    elif environment not in (envs.STAGING, envs.DEVELOPMENT) and prod > base:
        # Unknown may be production: at least ask, but do not block just for being vague. A name
        # we do not recognise (`--env blue`) is unknown too, or any made-up name would lower the tier.
        tier = max(base, min(prod, 3))
        reasons.append(
            f"{name} ({description}) with no recognisable environment"
            + (f" ({environment!r})" if environment else "")
            + f": T{tier} (pass --env, or name the environment in the target)"
        )
        rule_ids.append("env.unknown")
    else:
        tier = base
        where = environment if explicit else f"{environment} (policy default)"
        reasons.append(f"{name} ({description}) in {where or 'any environment'}: T{tier}")
    return ActionVerdict(name, tier, environment, reasons, rule_ids, freeze, True)
