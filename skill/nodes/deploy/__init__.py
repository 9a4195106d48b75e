"""The deploy node: plan (steps, health gates, rollback plan), execute through a driver, verify
each step (health checks, canary analysis), roll back automatically, record in memory.

    from skill.nodes.deploy import DeployRequest, plan_deploy, execute_deploy
    plan = plan_deploy(DeployRequest(service="api", env="staging", version="v1.4.0"))
    # gate it through skill.changes (propose -> gate -> execute), then:
    result = execute_deploy(plan)

Names resolve lazily so ``import skill.nodes.deploy`` stays cheap.
"""

from __future__ import annotations

from skill.lazy import lazy_exports

_EXPORTS = {
    "plan_deploy": "plan",
    "require_rollback": "plan",
    "gate_action": "plan",
    "parse_steps": "plan",
    "NoRollbackPlan": "plan",
    "execute_deploy": "executor",
    "rollback": "executor",
    "plan_rollback": "executor",
    "set_flag": "flags",
    "get_flag": "flags",
    "list_flags": "flags",
    "FlagState": "flags",
    "check_health": "health",
    "run_analysis": "analysis",
    "classify_version": "versions",
    "make_driver": "drivers",
    "DeployRequest": "models",
    "DeployPlan": "models",
    "PlanStep": "models",
    "HealthGate": "models",
    "RollbackPlan": "models",
    "DeployResult": "models",
    "StepResult": "models",
    "RollbackResult": "models",
    "HealthResult": "models",
    "AnalysisResult": "models",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
