"""Every source's sample payload normalises into the Event the router expects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skill.agent.routing import route_event
from skill.errors import InputError
from skill.webhooks.events import EVENT_TYPES, detect_source, parse_event

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "events"

# file -> (source, type, service, env, version, node)
CASES = {
    "github_workflow_run_failure.json": ("github", "ci.failed", "api", None, None, "ci"),
    "github_workflow_run_success.json": ("github", "ci.succeeded", "api", None, None, "memory"),
    "github_check_run_failure.json": ("github", "ci.failed", "api", None, None, "ci"),
    "github_deployment.json": ("github", "deploy.requested", "api", "staging", "1.4.2", "deploy"),
    "github_deployment_status_failure.json": (
        "github",
        "deploy.failed",
        "api",
        "production",
        "1.4.2",
        "incident",
    ),
    "github_push.json": ("github", "push", "api", None, None, "memory"),
    "gitlab_pipeline_failed.json": ("gitlab", "ci.failed", "api", None, None, "ci"),
    "gitlab_deployment_success.json": ("gitlab", "deploy.succeeded", "api", "staging", "9b8a7c6d", "memory"),
    "alertmanager_firing.json": ("alertmanager", "alert.firing", "api", "production", None, "incident"),
    "alertmanager_resolved.json": ("alertmanager", "alert.resolved", "api", "production", None, "memory"),
    "pagerduty_incident_triggered.json": ("pagerduty", "incident.triggered", "api", None, None, "incident"),
    "pagerduty_incident_resolved.json": ("pagerduty", "incident.resolved", "api", None, None, "memory"),
    "generic_alert.json": ("generic", "alert.firing", "api", "production", None, "incident"),
    "generic_deploy.json": ("generic", "deploy.requested", "api", "staging", "1.4.2", "deploy"),
    "generic_request.json": ("generic", "request", None, None, None, "readiness"),
}


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def test_every_fixture_is_covered():
    assert {p.name for p in FIXTURES.glob("*.json")} == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixture_normalises(name):
    source, etype, service, env, version, node = CASES[name]
    payload = load(name)
    assert detect_source(payload) == source
    event = parse_event(payload)  # detected
    same = parse_event(json.dumps(payload).encode(), source=source)  # explicit, from bytes
    assert event.source == source == same.source
    assert event.type == etype and event.type in EVENT_TYPES
    assert event.service == service
    assert event.env == env
    assert event.version == version
    assert event.id, "every event has a delivery id"
    assert event.title
    assert route_event(event.model_dump(mode="json")).node == node


def test_github_details_and_delivery_header():
    ev = parse_event(
        load("github_workflow_run_failure.json"),
        source="github",
        headers={
            "X-GitHub-Event": "workflow_run",
            "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        },
    )
    assert ev.id == "72d3162e-cc78-11e3-81ab-4c9367dc0958"
    assert ev.run_id == "9876543210"
    assert ev.branch == "main" and ev.commit == "4f2c9d1e7a3b"
    assert ev.repo == "acme/api"
    assert ev.url == "https://github.com/acme/api/actions/runs/9876543210"
    assert route_event(ev.model_dump()).params["run_id"] == "9876543210"


def test_gitlab_failed_jobs_and_uuid_header():
    ev = parse_event(load("gitlab_pipeline_failed.json"), headers={"X-Gitlab-Event-UUID": "13792a34-cac6"})
    assert ev.id == "13792a34-cac6"
    assert ev.data["failed_jobs"] == [{"name": "unit", "stage": "test", "failure_reason": "script_failure"}]
    assert ev.repo == "platform/api"


def test_alertmanager_details_and_stable_id():
    firing = parse_event(load("alertmanager_firing.json"))
    assert firing.severity == "critical"
    assert firing.labels["alertname"] == "HighErrorRate"
    assert firing.url == "https://runbooks.acme.test/api/high-error-rate"
    assert "7.4%" in firing.summary
    # the same notification re-sent has the same id; the resolved one does not
    assert parse_event(load("alertmanager_firing.json")).id == firing.id
    assert parse_event(load("alertmanager_resolved.json")).id != firing.id


def test_pagerduty_details():
    ev = parse_event(load("pagerduty_incident_triggered.json"))
    assert ev.id == "01DVUTE4Q7XZGH7U2LZ2R1P0TY"
    assert ev.severity == "P1"
    assert ev.data["incident_number"] == 1142
    assert ev.raw_type == "incident.triggered"


def test_generic_without_id_gets_a_body_hash():
    a = parse_event({"type": "alert", "service": "web", "summary": "disk full"})
    b = parse_event({"type": "alert", "service": "web", "summary": "disk full"})
    c = parse_event({"type": "alert", "service": "web", "summary": "disk fuller"})
    assert a.id == b.id != c.id
    assert a.id.startswith("sha256:")


@pytest.mark.parametrize(
    "payload,source,message",
    [
        (b"{not json", None, "not valid JSON"),
        (b"[1, 2]", None, "JSON object"),
        ({"type": "nonsense"}, "generic", "unknown generic event type"),
        ({"summary": "no type"}, "generic", 'needs a "type"'),
        ({"version": "3", "alerts": [], "groupKey": "x"}, "alertmanager", "version '3'"),
        ({"action": "opened", "issue": {}}, "github", "cannot tell"),
        ({"object_kind": "merge_request"}, "gitlab", "not handled"),
        ({"event": {"event_type": "incident.triggered"}}, "pagerduty", "resource_type"),
    ],
)
def test_bad_payloads_are_input_errors(payload, source, message):
    with pytest.raises(InputError, match=message):
        parse_event(payload, source=source)


def test_unhandled_github_event_named_by_header():
    with pytest.raises(InputError, match="not handled"):
        parse_event({"zen": "Keep it simple"}, source="github", headers={"X-GitHub-Event": "star"})
