"""The gate's answer: a Decision (tier, allow/ask/block, reasons, request id)."""

from __future__ import annotations

from dataclasses import dataclass, field

ALLOW = "allow"
ASK = "ask"
BLOCK = "block"

# Tier -> decision without approvals, allowlists or freezes.
TIER_DECISION = {1: ALLOW, 2: ALLOW, 3: ASK, 4: BLOCK}
DECISION_EXIT = {ALLOW: 0, ASK: 3, BLOCK: 4}

# The fields every machine-readable answer carries (--json, --batch, the engine API).
PUBLIC_FIELDS = (
    "tier",
    "decision",
    "reasons",
    "rule_ids",
    "deciding",
    "environment",
    "request_id",
    "approval_used",
)


@dataclass
class Decision:
    tier: int
    decision: str
    reasons: list[str] = field(default_factory=list)
    rule_ids: list[str] = field(default_factory=list)
    deciding: str | None = None
    environment: str | None = None
    request_id: str | None = None
    approval_used: str | None = None
    # Not part of the public object: what was asked, and whether an approval can ever pass it
    # (deny rules and most freezes cannot be approved).
    kind: str = "command"
    input: str = ""
    target: str | None = None
    approvable: bool = True
    explain: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def exit_code(self) -> int:
        return DECISION_EXIT.get(self.decision, 4)

    @property
    def allowed(self) -> bool:
        return self.decision == ALLOW

    def to_dict(self, explain: bool = False) -> dict:
        out = {name: getattr(self, name) for name in PUBLIC_FIELDS}
        out["reasons"] = list(self.reasons)
        out["rule_ids"] = list(self.rule_ids)
        if self.error:
            out["error"] = self.error
        if explain:
            out["explain"] = list(self.explain)
        return out


def decision_for_tier(tier: int) -> str:
    return TIER_DECISION.get(tier, BLOCK)
