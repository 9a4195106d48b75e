"""The IaC node's result models live with the shared plan assessment (``skill.plan_review``)."""

from skill.plan_review.models import ChangeSummary, DriftSummary, PlanReview

__all__ = ["ChangeSummary", "DriftSummary", "PlanReview"]
