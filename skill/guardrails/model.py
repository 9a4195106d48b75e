"""The gate's answer: a Decision (tier, allow/ask/block, reasons, request id)."""

from __future__ import annotations

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


_FIELDS = PUBLIC_FIELDS + ("kind", "input", "target", "approvable", "explain", "error")


class Decision:
    """One answer of the gate.

    A plain class with the fields of a dataclass (keyword or positional construction, equality,
    repr): generating a dataclass's methods at import costs ~1.3 ms, and this module is imported
    on every hook call.

    Besides the public fields: ``kind`` (action, command, file), ``input`` and ``target`` (what
    was asked), ``approvable`` (False for deny rules and most freezes), ``explain`` (trace lines
    for --explain) and ``error`` (set when the gate failed closed).
    """

    __slots__ = _FIELDS

    def __init__(
        self,
        tier: int,
        decision: str,
        reasons: list[str] | None = None,
        rule_ids: list[str] | None = None,
        deciding: str | None = None,
        environment: str | None = None,
        request_id: str | None = None,
        approval_used: str | None = None,
        kind: str = "command",
        input: str = "",
        target: str | None = None,
        approvable: bool = True,
        explain: list[str] | None = None,
        error: str | None = None,
    ):
        self.tier = tier
        self.decision = decision
        self.reasons = [] if reasons is None else reasons
        self.rule_ids = [] if rule_ids is None else rule_ids
        self.deciding = deciding
        self.environment = environment
        self.request_id = request_id
        self.approval_used = approval_used
        self.kind = kind
        self.input = input
        self.target = target
        self.approvable = approvable
        self.explain = [] if explain is None else explain
        self.error = error

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in _FIELDS)
        return f"Decision({inner})"

    def __eq__(self, other) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in _FIELDS)

    __hash__ = None

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
