"""The one environment vocabulary: the gate, routing and the deploy commands agree on every name."""

import pytest

from skill import environments as envs
from skill.agent.routing import extract_params
from skill.guardrails.engine import check_action


@pytest.mark.parametrize("word", envs.PROSE_WORDS)
def test_routing_and_the_gate_read_an_environment_word_the_same_way(word):
    routed = extract_params(f"deploy api v1.2.0 to {word}")["env"]
    assert routed == envs.normalize(word)
    assert routed in (envs.PRODUCTION, envs.STAGING, envs.DEVELOPMENT)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("qa", "staging"),
        ("UAT", "staging"),
        ("prd", "production"),
        ("api-prod-eu", "production"),
        ("sbx", "development"),
    ],
)
def test_aliases_normalise_to_three_canonical_names(name, expected):
    assert envs.normalize(name) == expected
    assert envs.is_known(name)


@pytest.mark.parametrize("name", ["marsbase", "product-api", "reproduce", "", None])
def test_unknown_names_are_not_environments(name):
    assert not envs.is_known(name)


def test_qa_is_gated_like_staging_not_like_an_unknown_environment():
    qa = check_action("deploy", target="api", env=extract_params("deploy api to qa")["env"], audit=False)
    staging = check_action("deploy", target="api", env="staging", audit=False)
    assert (qa.environment, qa.tier, qa.decision) == ("staging", staging.tier, staging.decision)
    assert "env.unknown" not in qa.rule_ids
