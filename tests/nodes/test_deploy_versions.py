"""Only immutable versions may be deployed; canary steps are validated before anything runs."""

from __future__ import annotations

import pytest

from skill.errors import UsageError
from skill.nodes.deploy.plan import gate_action, parse_steps
from skill.nodes.deploy.versions import classify_version, is_immutable


@pytest.mark.parametrize(
    "version",
    [
        "latest",
        "LATEST",
        "main",
        "master",
        "develop",
        "HEAD",
        "release/2.1",
        "feature/login",
        "stable",
        "app-latest",
        "",
    ],
)
def test_mutable_or_empty_versions_are_refused(version):
    with pytest.raises(UsageError):
        classify_version(version)
    assert not is_immutable(version)


@pytest.mark.parametrize(
    ("version", "kind"),
    [
        ("3f2a9c1", "sha"),
        ("3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39", "sha"),
        ("v1.2.3", "semver"),
        ("1.2.3-rc.1", "semver"),
        ("2.0.0+build.7", "semver"),
        ("sha256:" + "a" * 64, "digest"),
        ("registry.example.com/api@sha256:" + "b" * 64, "digest"),
    ],
)
def test_immutable_versions_are_accepted_with_their_kind(version, kind):
    assert classify_version(version) == kind


@pytest.mark.parametrize("version", ["v1.2", "1.2.3.4", "abc12", "fix-login", "sha256:abc", "v01.2.3"])
def test_malformed_versions_are_refused(version):
    with pytest.raises(UsageError, match="refusing"):
        classify_version(version)


def test_mutable_tag_error_says_why_and_what_to_use():
    with pytest.raises(UsageError) as info:
        classify_version("latest")
    assert "mutable" in str(info.value) and "semver" in str(info.value)


def test_canary_steps_parsing():
    assert parse_steps("10,50,100") == [10, 50, 100]
    assert parse_steps([25, 100]) == [25, 100]
    assert parse_steps(None) is None
    for bad in ("50,10,100", "10,50", "0,100", "10,10,100", "10,abc,100", "10,150"):
        with pytest.raises(UsageError):
            parse_steps(bad)


def test_gate_action_per_environment():
    assert gate_action("production") == "deploy_production"
    assert gate_action("staging") == "deploy_staging"
    assert gate_action("development") == "deploy"
    assert gate_action(None) == "deploy"


def test_request_accepts_steps_as_text():
    from skill.nodes.deploy import DeployRequest

    assert DeployRequest(service="api", env="prod", version="v1.0.0", steps="10, 50,100").steps == [
        10,
        50,
        100,
    ]
    assert DeployRequest(service="api", env="prod", version="v1.0.0", steps=[25, 100]).steps == [25, 100]


def test_rollback_plan_states_its_worst_case_and_warns_over_five_minutes():
    # the skill document: "< 5 min rollback or don't ship"
    from skill.nodes.deploy.models import DeployRequest
    from skill.nodes.deploy.plan import plan_deploy
    from skill.nodes.deploy.settings import deploy_settings

    request = DeployRequest(service="api", env="staging", version="v1.1.0", rollback_to="v1.0.0")
    settings = {**deploy_settings("staging", "staging"), "health_url": "http://127.0.0.1:9/healthz"}
    plan = plan_deploy(request, settings=settings)
    # defaults: 4 min driver wait + 5 health attempts of 2 s + backoff 0.5+1+2+4 with jitter 0.5 each
    assert plan.rollback.worst_case_seconds == pytest.approx(240 + 10 + 9.5)
    assert not [w for w in plan.warnings if "5-minute" in w]

    slow = plan_deploy(request, settings={**settings, "timeout": "5m"})
    assert slow.rollback.worst_case_seconds > 300
    assert [w for w in slow.warnings if "could take up to 5.3 min" in w]
