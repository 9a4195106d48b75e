"""Assertions shared by the rule-family tests."""

from __future__ import annotations

from skill.guardrails.classify import classify_command


def expect_rule(command: str, tier: int, rule: str, cwd: str | None = None) -> None:
    """``command`` is judged exactly ``tier`` and ``rule`` is among the rules that fired."""
    v = classify_command(command, cwd)
    assert v.tier == tier and rule in v.rule_ids, (command, v.tier, v.rule_ids)
