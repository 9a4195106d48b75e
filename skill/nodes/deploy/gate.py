"""Pass an action through the safety gate (skill.guardrails.engine), failing closed.

``ask`` (T3) and an approvable ``block`` (T4 with a request id, e.g. deploy_production) become
ApprovalRequired (exit 3) carrying the request id and how to approve it; any other ``block``
(a deny rule, a change freeze) becomes Blocked (exit 4). A gate that cannot be loaded blocks: nothing changes
without it.
"""

from __future__ import annotations

from typing import Any

from ...errors import ApprovalRequired, Blocked


def check_gate(
    action: str,
    *,
    target: str,
    env: str | None,
    approval: str | None = None,
    caller: str = "devops",
    plan: Any = None,
) -> Any:
    """The allowing Decision, or raise ApprovalRequired / Blocked."""
    try:
        from ...guardrails.engine import check_action
    except ImportError as exc:
        raise Blocked(f"safety gate unavailable ({exc}): refusing {action} on {target}") from exc
    decision = check_action(action, target=target, env=env, approval=approval, caller=caller, plan=plan)
    reasons = "; ".join(decision.reasons) or "policy"
    if decision.decision == "allow":
        return decision
    # T4 answers "block" but stays approvable (it carries a request id): that is "approval
    # required" for the caller (exit 3). Deny rules and freezes are not approvable: exit 4.
    approvable = decision.decision == "ask" or (
        decision.decision == "block" and decision.request_id and getattr(decision, "approvable", False)
    )
    if approvable:
        rid = decision.request_id or "?"
        exc = ApprovalRequired(
            f"approval required (T{decision.tier}) for {action} on {target}"
            f"{' in ' + decision.environment if decision.environment else ''}: {reasons}; request {rid}",
            hint=f"a human approves with `guardrails.py approve {rid} --by NAME`, then re-run this command",
        )
    else:
        exc = Blocked(f"blocked by the safety gate (T{decision.tier}) for {action} on {target}: {reasons}")
    exc.decision = decision  # callers printing JSON want the request id, tier and reasons
    raise exc
