"""`check --plan` reports the plan's environment the way `devops iac review` does."""

from __future__ import annotations

from pathlib import Path

from skill.guardrails.engine import check_action
from skill.plan_review import review_plan

PLAN = Path(__file__).resolve().parents[2] / "examples" / "sample-service" / "infra" / "plan.json"


def test_the_plan_names_the_environment_when_the_caller_does_not():
    review = review_plan(str(PLAN))
    d = check_action("infra_change", target="orders", plan=str(PLAN), audit=False)
    assert review.environment == "production"
    assert d.environment == review.environment
    assert "env.unknown" not in d.rule_ids
    assert any(r.startswith("environment production from the plan") for r in d.reasons)
    assert d.tier == 4 and d.decision == "block"


def test_an_environment_the_caller_gives_wins():
    d = check_action("infra_change", target="orders", env="staging", plan=str(PLAN), audit=False)
    assert d.environment == "staging"
    assert not any("from the plan" in r for r in d.reasons)
