"""Named actions: the catalogue, environments, production strictness, unknown actions."""

from __future__ import annotations

import pytest

from skill.guardrails import actions
from skill.guardrails.engine import check_action

REQUIRED = [
    "ci_rerun",
    "ci_cancel",
    "deploy",
    "deploy_staging",
    "deploy_production",
    "rollback",
    "infra_plan",
    "infra_change",
    "infra_destroy",
    "db_migration",
    "db_restore",
    "db_query_write",
    "scale",
    "restart",
    "secret_read",
    "secret_rotation",
    "feature_flag_toggle",
    "k8s_apply",
    "k8s_delete",
    "backup_delete",
    "dns_change",
    "firewall_change",
    "cert_rotation",
]


@pytest.mark.parametrize("name", REQUIRED)
def test_catalogue_covers_required_action_and_production_is_never_laxer(name):
    base, prod, _freeze, _forced, description = actions.CATALOGUE[name]
    assert 1 <= base <= prod <= 4 and description
    dev = check_action(name, target="svc", env="development", audit=False)
    live = check_action(name, target="svc", env="production", audit=False)
    assert dev.tier == base or name == "deploy_production"
    assert live.tier == prod
    assert live.tier >= dev.tier
    assert live.environment == "production"


def test_skill_document_gate_tiers():
    # "infra_change --target {resource}" is T3-T4, "deploy_production" is T4.
    assert check_action("infra_change", target="vpc-main", audit=False).tier == 3
    assert check_action("infra_change", target="vpc-main", env="prod", audit=False).tier == 4
    d = check_action("deploy_production", audit=False)
    assert (d.tier, d.decision, d.exit_code, d.environment) == (4, "block", 4, "production")
    assert d.request_id and d.request_id.startswith("rq-")


def test_production_strictly_stricter_for_mutating_actions():
    for name in ("deploy", "infra_change", "k8s_delete", "db_migration", "restart", "scale"):
        dev = check_action(name, target="api", env="dev", audit=False)
        prod = check_action(name, target="api", env="prod", audit=False)
        assert prod.tier > dev.tier, name


@pytest.mark.parametrize(
    "target,expected",
    [
        ("api-prod", "production"),
        ("prd-eu-1/payments", "production"),
        ("payments-staging", "staging"),
        ("sandbox-db", "development"),
        ("product-api", None),
    ],
)
def test_environment_inferred_from_target(target, expected):
    d = check_action("deploy", target=target, audit=False)
    assert d.environment == expected


def test_env_flag_and_target_take_the_most_severe():
    d = check_action("deploy", target="api-prod", env="staging", audit=False)
    assert d.environment == "production" and d.tier == 4
    # deploy_staging aimed at something named production is a production deploy.
    d = check_action("deploy_staging", target="api-prod", audit=False)
    assert d.environment == "production" and d.decision == "block"


def test_unknown_environment_asks_instead_of_allowing():
    d = check_action("deploy", target="api", audit=False)
    assert d.environment is None
    assert d.tier == 3 and d.decision == "ask"
    assert "env.unknown" in d.rule_ids


def test_low_risk_actions_allowed():
    d = check_action("infra_plan", target="vpc", env="prod", audit=False)
    assert (d.tier, d.decision, d.request_id) == (1, "allow", None)
    d = check_action("ci_rerun", target="build", audit=False)
    assert (d.tier, d.decision) == (2, "allow")


def test_unknown_action_is_never_allowed():
    d = check_action("launch_missiles", target="api", audit=False)
    assert d.tier >= 3 and d.decision in ("ask", "block")
    assert d.rule_ids == ["action.unknown"]
    assert "unknown action" in d.reasons[0]
    assert check_action("launch_missiles", target="api-prod", audit=False).tier == 4
    assert check_action("", audit=False).decision != "allow"


def test_action_names_are_normalised():
    a = check_action("Deploy-Production", audit=False)
    b = check_action("deploy_production", audit=False)
    assert a.rule_ids == b.rule_ids == ["action.deploy_production"]
    assert a.request_id == b.request_id


def test_decision_to_dict_has_the_public_fields():
    d = check_action("restart", target="api", env="prod", audit=False)
    assert set(d.to_dict()) == {
        "tier",
        "decision",
        "reasons",
        "rule_ids",
        "deciding",
        "environment",
        "request_id",
        "approval_used",
    }
    assert d.to_dict()["deciding"] == "restart"


def test_a_made_up_environment_name_does_not_lower_the_tier():
    # found in review: `--env whatever` used to give deploy T2 (allow) where no --env gives T3
    unknown = check_action("deploy", target="api", audit=False)
    made_up = check_action("deploy", target="api", env="blue", audit=False)
    assert made_up.tier == unknown.tier == 3 and made_up.decision == "ask"
    assert check_action("deploy", target="api", env="staging", audit=False).tier == 2
