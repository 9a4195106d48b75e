"""Guardrail tiers for planned changes.

    T1  no-op, read, moved without other change          nothing happens to real resources
    T2  create, in-place update, import, forget          additive or reversible
    T3  delete or replace; update of a stateful or        destroys something, or touches who
        access-control resource                            can reach what
    T4  delete or replace of a stateful resource          data is destroyed

Production raises every change that does something (T2 and up) by one tier: creates, updates
and forgets reach T3 (ask), deletes and replaces T4 (block); T4 always means something is
destroyed. The review's tier is the maximum over its changes.
"""

from __future__ import annotations

import re

from skill.plan_review.stateful import is_stateful

T1, T2, T3, T4 = 1, 2, 3, 4

# In-place updates of these change who can reach or decrypt what: worth a human look.
_ACCESS_CONTROL = re.compile(
    r"(?:^|_)(?:iam|policy|policies|role|roles|security_group|firewall|network_acl|nsg|"
    r"network_security|acl|public_access_block|access_policy|binding|member|permission|"
    r"key_vault_access|authorization)(?:_|$)"
)

TIER_DECISION = {T1: "allow", T2: "allow", T3: "ask", T4: "block"}


def is_access_control(resource_type: str) -> bool:
    return bool(_ACCESS_CONTROL.search(resource_type))


def change_tier(kind: str, resource_type: str, *, production: bool = False) -> int:
    """The tier of one change of ``kind`` (create, update, delete, replace, read, no-op, forget)."""
    if kind in ("no-op", "read"):
        tier = T1
    elif kind in ("create", "forget"):
        tier = T2
    elif kind == "update":
        tier = T3 if is_stateful(resource_type) or is_access_control(resource_type) else T2
    elif kind in ("delete", "replace"):
        tier = T4 if is_stateful(resource_type) else T3
    else:  # an action this reader does not know: ask rather than guess
        tier = T3
    if production and tier >= T2:
        # T4 stays reserved for destruction: a production update asks, it does not block.
        ceiling = T3 if kind in ("create", "update", "forget") else T4
        tier = min(ceiling, tier + 1)
    return tier


def exit_code_for_tier(tier: int) -> int:
    """0 for T1-T2, 3 (approval needed) for T3, 4 (blocked) for T4."""
    return {T1: 0, T2: 0, T3: 3, T4: 4}.get(tier, 4)
