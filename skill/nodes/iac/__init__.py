"""IaC node: review Terraform/OpenTofu plans (tiers, stateful destroys, drift) and lint .tf code.

Imports are lazy so that ``import skill.nodes.iac`` stays cheap for the guardrails gate.

    from skill.nodes.iac import review_plan, review_code
    review_plan("plan.json", env="prod")   # -> PlanReview(tier, summary, changes, findings, drift)
    review_code("infra/")                  # -> list[Finding]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from skill.lazy import lazy_exports

if TYPE_CHECKING:
    from skill.nodes.iac.hcl_checks import review_code
    from skill.nodes.iac.plan import review_plan
    from skill.plan_review.models import ChangeSummary, DriftSummary, PlanReview

_EXPORTS = {
    "review_plan": ".plan",
    "load_plan": "skill.plan_review.review",
    "review_code": ".hcl_checks",
    "PlanReview": "skill.plan_review.models",
    "ChangeSummary": "skill.plan_review.models",
    "DriftSummary": "skill.plan_review.models",
}

__all__ = ["review_plan", "review_code", "PlanReview", "ChangeSummary", "DriftSummary", "load_plan"]


__getattr__ = lazy_exports(__name__, _EXPORTS)
