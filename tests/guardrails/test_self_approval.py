"""An agent cannot approve its own request, whichever approve command it reaches for."""

from __future__ import annotations

import pytest

from skill.guardrails.engine import check_command

SELF_APPROVALS = [
    "./guardrails.py approve rq-1234567890abcdef --by me",
    "devops-guardrails approve rq-1234567890abcdef --by me",
    "devops approvals approve rq-1234567890abcdef --by me",
    ".venv/bin/devops approvals approve run-20261206-abc --by me --ttl 5m",
    "python -m skill.cli approvals approve rq-1234567890abcdef --by me",
    "cd /tmp && devops approvals approve rq-1 --by me",
]


@pytest.mark.parametrize("command", SELF_APPROVALS)
def test_self_approval_is_denied_with_a_reason_that_says_so(command):
    d = check_command(command, audit=False)
    assert d.decision == "block" and not d.approvable, d.to_dict()
    assert "gate.self-approval" in d.rule_ids
    assert any("self-approval" in r for r in d.reasons)
    assert not any("not a known program" in r for r in d.reasons)  # no noise beside the real reason


@pytest.mark.parametrize(
    "command",
    [
        "devops approvals list",
        "git commit -m 'docs: how devops approvals approve works'",
        "grep -rn 'approvals approve' docs/",
    ],
)
def test_talking_about_approvals_is_not_self_approval(command):
    d = check_command(command, audit=False)
    assert "gate.self-approval" not in d.rule_ids, d.to_dict()
