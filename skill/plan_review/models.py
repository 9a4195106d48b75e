"""Result models of the IaC node (pydantic at the boundary; ``model_dump(mode="json")`` for JSON)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from skill.findings import Finding
from skill.plan_review.tiers import TIER_DECISION, exit_code_for_tier

SUMMARY_KEYS = ("create", "update", "delete", "replace", "read", "no-op", "moved", "imported", "forget")


class ChangeSummary(BaseModel):
    """One planned resource change, explained in words. Values are never copied here."""

    address: str
    type: str
    actions: list[str]
    kind: str = Field(description="create, update, delete, replace, read, no-op, forget or unknown")
    reason: str | None = Field(default=None, description="terraform's action_reason, when given")
    replace_paths: list[str] = Field(default_factory=list)
    stateful: bool = False
    stateful_category: str | None = None
    tier: int
    message: str
    mode: str = "managed"
    name: str | None = None
    module_address: str | None = None
    provider: str | None = None
    previous_address: str | None = None
    moved: bool = False
    imported: bool = False
    import_id: str | None = None
    deposed: str | None = None
    deferred: str | None = Field(default=None, description="deferred_changes reason, for deferred changes")
    replace_order: str | None = Field(default=None, description="delete-first or create-first")
    changed_attributes: list[str] = Field(default_factory=list)
    sensitive_attributes: list[str] = Field(
        default_factory=list, description="names of changed attributes whose values are sensitive"
    )


class DriftSummary(BaseModel):
    """A difference between the state and the real resource found while refreshing."""

    address: str
    type: str
    actions: list[str]
    changed_attributes: list[str] = Field(default_factory=list)
    message: str


class PlanReview(BaseModel):
    """The review of one plan: overall tier, counts, explained changes, drift and findings."""

    tier: int
    decision: str
    summary: dict[str, int]
    changes: list[ChangeSummary]
    findings: list[Finding] = Field(default_factory=list)
    drift: list[DriftSummary] = Field(default_factory=list)
    source: str = ""
    environment: str | None = None
    environment_source: str | None = None
    terraform_version: str | None = None
    format_version: str | None = None
    notes: list[str] = Field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return exit_code_for_tier(self.tier)

    @property
    def headline(self) -> str:
        counts = ", ".join(f"{n} {k}" for k, n in self.summary.items() if n) or "no changes"
        env = f" in {self.environment}" if self.environment else ""
        return f"T{self.tier} ({TIER_DECISION.get(self.tier, 'block')}){env}: {counts}"

    def risky(self) -> list[ChangeSummary]:
        """Changes at T3 or above, riskiest first."""
        return sorted((c for c in self.changes if c.tier >= 3), key=lambda c: (-c.tier, c.address))
