"""The error-budget policy the safety gate applies to production deploys.

A production deploy of a service whose error budget is spent (``[slo] exhausted_threshold``,
default 1.0 = the whole budget over the SLO window) needs one tier more approval, with the
reason "error budget exhausted: 112% spent over 30d". A rollback is exempt: it is how the
budget stops burning. The policy only ever adds: when Prometheus cannot be asked, or the
service has no SLO, the reasons say so and the tier stays what the gate decided.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from skill.environments import normalize
from skill.errors import DevopsError
from skill.slo.models import SLO
from skill.slo.prometheus import Prometheus, batch_query

ROLLBACK_WORDS = ("rollback", "roll_back", "rollout_undo", "undo")


class BudgetVerdict(BaseModel):
    """What the policy adds to a gate decision: ``extra_tier`` is 0 or 1, never negative."""

    extra_tier: int = 0
    reasons: list[str] = Field(default_factory=list)
    consumed: dict[str, float | None] = Field(default_factory=dict)  # SLO id -> share of budget spent
    applies: bool = False  # a production deploy the policy looked at


def is_rollback(action: str, rollback: bool = False) -> bool:
    return rollback or any(word in (action or "").lower() for word in ROLLBACK_WORDS)


def _is_deploy(action: str) -> bool:
    return "deploy" in (action or "").lower() or "release" in (action or "").lower()


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def budget_policy(
    service: str | None,
    *,
    environment: str | None,
    action: str = "deploy",
    rollback: bool = False,
    slos: list[SLO] | None = None,
    prometheus_url: str | None = None,
    threshold: float | None = None,
    timeout: float | None = None,
    at: float | None = None,
) -> BudgetVerdict:
    """The verdict for one change. Settings come from ``[slo]`` for anything not given."""
    if not service or normalize(environment) != "production":
        return BudgetVerdict()
    if is_rollback(action, rollback):
        return BudgetVerdict(applies=True, reasons=["rollback: exempt from the error budget policy"])
    if not _is_deploy(action):
        return BudgetVerdict()
    try:
        if slos is None or prometheus_url is None or threshold is None or timeout is None:
            from skill.slo.settings import slo_settings
            from skill.slo.spec import load_slos

            settings = slo_settings()
            threshold = settings["exhausted_threshold"] if threshold is None else threshold
            timeout = settings["timeout"] if timeout is None else timeout
            prometheus_url = settings["prometheus_url"] if prometheus_url is None else prometheus_url
            if slos is None:
                slos = load_slos(settings["spec"]) if settings["spec"] else []
    except DevopsError as exc:
        return BudgetVerdict(applies=True, reasons=[f"error budget unknown: {exc}"])
    mine = [s for s in slos if s.service == service]
    if not mine:
        return BudgetVerdict(applies=True)
    if not prometheus_url:
        return BudgetVerdict(
            applies=True, reasons=["error budget unknown: no Prometheus URL ([slo] prometheus_url)"]
        )
    try:
        with Prometheus(prometheus_url, timeout=timeout) as prom:
            ratios = batch_query(prom, {s.id: s.sli.error_ratio_query(s.window) for s in mine}, at)
    except DevopsError as exc:
        # never a lower tier and never a crash: the gate decides as if there were no policy
        return BudgetVerdict(applies=True, reasons=[f"error budget unknown: {exc}"])
    verdict = BudgetVerdict(applies=True)
    for slo in mine:
        ratio = ratios.get(slo.id)
        consumed = None if ratio is None else ratio / slo.budget
        verdict.consumed[slo.id] = consumed
        if consumed is None:
            verdict.reasons.append(
                f"error budget unknown for {slo.service}/{slo.name}: no data over {slo.window}"
            )
        elif consumed >= threshold:
            verdict.extra_tier = 1
            verdict.reasons.append(
                f"error budget exhausted: {_pct(consumed)} spent over {slo.window} ({slo.service}/{slo.name})"
            )
    return verdict


def raise_tier(tier: int, verdict: BudgetVerdict, top: int = 4) -> int:
    """The gate's tier with the policy applied: up by ``extra_tier``, capped, never down."""
    return max(tier, min(top, tier + max(0, verdict.extra_tier)))


def apply_budget(decision, change, *, verdict: BudgetVerdict | None = None):
    """The gate's Decision on ``change`` with the error-budget policy applied (in place, returned).

    ``change`` is a proposed change with ``kind`` (deploy, rollback ...), ``service`` and
    ``environment``. The policy never lowers anything: an exhausted budget raises the tier by one
    (T3 ask becomes T4 block-until-approved); an approval already used or an allowlist entry is
    the human's word on this exact request and stands, with the reason added.
    """
    from skill.guardrails.model import decision_for_tier

    kind = str(getattr(change, "kind", "") or "")
    if kind not in ("deploy", "rollback"):
        return decision
    if verdict is None:
        verdict = budget_policy(
            getattr(change, "service", None),
            environment=getattr(change, "environment", None),
            action=kind,
            rollback=kind == "rollback",
        )
    decision.reasons.extend(r for r in verdict.reasons if r not in decision.reasons)
    if not verdict.extra_tier:
        return decision
    decision.rule_ids.append("slo.error-budget-exhausted")
    human_said_yes = decision.approval_used or any(r.startswith("allow.") for r in decision.rule_ids)
    tier = raise_tier(decision.tier, verdict)
    if human_said_yes or tier == decision.tier:
        return decision
    decision.tier = tier
    decision.decision = decision_for_tier(tier)
    if decision.decision != "allow" and not decision.request_id:
        # the gate allowed it outright, so it recorded no request a human could approve
        decision.approvable = False
        decision.reasons.append(
            "not approvable while the budget is exhausted: the policy tiers this deploy below T3"
        )
    return decision
