"""Deterministic routing: requests and event types to tool nodes, without an LLM."""

from __future__ import annotations

import pytest

from skill.agent.routing import extract_params, route_event, route_text

REQUESTS = [
    ("deploy api 1.4.2 to production with canary steps 10,50,100", "deploy", "deploy"),
    ("ship web v2.0.1 to staging", "deploy", "deploy"),
    ("roll back api in prod", "deploy", "rollback"),
    ("please rollback checkout to 1.3.9 on staging", "deploy", "rollback"),
    ("turn the checkout-v2 flag on in staging", "deploy", "flag"),
    ("why is the CI pipeline failing on main?", "ci", "triage"),
    ("the build is broken again", "ci", "triage"),
    ("audit the github workflows in .github/workflows", "ci", "audit"),
    ("status of the pipeline", "ci", "status"),
    ("review the terraform plan plan.json", "iac", "review"),
    ("what does this tofu change destroy?", "iac", "review"),
    ("is examples/sample-service ready for production?", "readiness", "review"),
    ("production readiness review of ./svc", "readiness", "review"),
    ("api 5xx error rate is spiking", "incident", "triage"),
    ("checkout is down, customers get timeouts", "incident", "triage"),
    ("write the postmortem for INC-12", "incident", "postmortem"),
    ("remember that redis was upgraded to 7.2", "memory", "remember"),
    ("what was the last good version of api?", "memory", "recall"),
    ("hello there", "memory", "recall"),
]


@pytest.mark.parametrize("text,node,op", REQUESTS)
def test_request_routes(text, node, op):
    route = route_text(text)
    assert (route.node, route.params["op"]) == (node, op)
    assert route.by == "rules"


def test_params_from_text():
    p = extract_params("deploy api 1.4.2 to production with canary steps 10,50,100")
    assert p == {
        "service": "api",
        "env": "production",
        "version": "1.4.2",
        "strategy": "canary",
        "steps": [10, 50, 100],
    }
    assert extract_params("roll back --service payments in prd")["service"] == "payments"
    assert extract_params("deploy web 4f2c9d1e to stage")["version"] == "4f2c9d1e"
    assert extract_params("deploy web latest to prod")["version"] == "latest"  # refused later, by name
    flag = extract_params("turn the checkout-v2 flag off in production")
    assert (flag["flag"], flag["state"], flag["env"]) == ("checkout-v2", "off", "production")
    # "sample-service ready" is not a service called "ready"
    assert "service" not in extract_params("is examples/sample-service ready for production?")
    assert extract_params("is examples/sample-service ready?")["path"] == "examples/sample-service"


EVENTS = [
    ({"type": "ci.failed", "run_id": "42"}, "ci", "triage"),
    ({"type": "ci.succeeded"}, "memory", "record_ci"),
    (
        {"type": "deploy.requested", "service": "api", "env": "staging", "version": "1.0.0"},
        "deploy",
        "deploy",
    ),
    ({"type": "deploy.succeeded"}, "memory", "record_deployment"),
    ({"type": "deploy.failed"}, "incident", "triage"),
    ({"type": "push"}, "memory", "record_change"),
    ({"type": "alert.firing", "title": "HighErrorRate"}, "incident", "triage"),
    ({"type": "alert.resolved"}, "memory", "resolve"),
    ({"type": "incident.triggered"}, "incident", "triage"),
    ({"type": "incident.resolved"}, "memory", "resolve"),
    ({"type": "request", "text": "roll back api in prod"}, "deploy", "rollback"),
]


@pytest.mark.parametrize("event,node,op", EVENTS)
def test_event_routes(event, node, op):
    route = route_event(event)
    assert (route.node, route.params["op"]) == (node, op)


def test_event_params_carry_over():
    route = route_event(
        {
            "type": "deploy.requested",
            "service": "api",
            "env": "staging",
            "version": "1.4.2",
            "data": {"strategy": "canary"},
        }
    )
    assert route.params == {
        "op": "deploy",
        "service": "api",
        "env": "staging",
        "version": "1.4.2",
        "strategy": "canary",
    }
    alert = route_event(
        {"type": "alert.firing", "title": "HighErrorRate: 5xx", "summary": "7% errors", "service": "api"}
    )
    assert alert.params["query"] == "HighErrorRate: 5xx 7% errors"


SERVICES = [
    ("deploy api 1.4.2 to production", "api"),
    ("roll back --service payments in prd", "payments"),
    ("rollback payments", "payments"),
    ("please rollback checkout to 1.3.9 on staging", "checkout"),
    ("restart web in staging", "web"),
    ("api is down", "api"),
    ("the api is down in prod", "api"),
    ("checkout returns 502 since 10:00", "checkout"),
    ("Checkout keeps timing out", "Checkout"),
    ("api 5xx error rate is spiking", "api"),
    ("payments-v2 is failing health checks", "payments-v2"),
    ("the search service is slow", "search"),
    ("high latency on checkout", "checkout"),
    ("errors from payments after the release", "payments"),
    ("what was the last good version of api?", "api"),
    # none of these names a service
    ("why is the CI pipeline failing on main?", None),
    ("the build is broken again", None),
    ("audit the github workflows in .github/workflows", None),
    ("review the terraform plan plan.json", None),
    ("is examples/sample-service ready for production?", None),
    ("write the postmortem for INC-12", None),
    ("prod is down", None),
    ("status of the pipeline", None),
    ("hello there", None),
    ("deploy to production", None),
]


@pytest.mark.parametrize("text,service", SERVICES)
def test_service_from_free_text(text, service):
    assert extract_params(text).get("service") == service
