"""Terraform/OpenTofu plan assessment: every change explained, a tier, drift and findings.

Shared below the IaC node (which adds the static .tf checks) and the guardrails gate (which
tiers ``--plan``): neither imports the other. Cheap to import: no hcl2, no rich.

    from skill.plan_review import review_plan
    review_plan("plan.json", env="prod")   # -> PlanReview(tier, summary, changes, findings, drift)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from skill.lazy import lazy_exports

if TYPE_CHECKING:
    from skill.plan_review.models import ChangeSummary, DriftSummary, PlanReview
    from skill.plan_review.review import load_plan, review_plan

_EXPORTS = {
    "review_plan": ".review",
    "load_plan": ".review",
    "PlanReview": ".models",
    "ChangeSummary": ".models",
    "DriftSummary": ".models",
}

__all__ = ["review_plan", "load_plan", "PlanReview", "ChangeSummary", "DriftSummary"]

__getattr__ = lazy_exports(__name__, _EXPORTS)
