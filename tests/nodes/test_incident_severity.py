"""Severity by the skill document's escalation matrix."""

from __future__ import annotations

import pytest

from skill.nodes.incident.severity import MATRIX, classify_severity, matrix_row


def test_matrix_rows_match_the_skill_document():
    rows = {k: (r.response, r.escalation, r.notify) for k, r in MATRIX.items()}
    assert rows == {
        "SEV1": ("15 min", "30 min", ["exec", "customers"]),
        "SEV2": ("30 min", "1 hour", ["eng lead"]),
        "SEV3": ("4 hours", "next business day", ["standup"]),
        "SEV4": ("next sprint", "n/a", ["backlog"]),
    }
    assert matrix_row("sev-2").severity == "SEV2"


@pytest.mark.parametrize(
    ("text", "severity"),
    [
        ("Checkout is down for everyone", "SEV1"),
        ("api down since 10:02", "SEV1"),
        ("Full outage in eu-west-1", "SEV1"),
        ("payments service unreachable", "SEV1"),
        ("5xx rate at 12% on api", "SEV2"),
        ("p99 latency degraded on search", "SEV2"),
        ("elevated errors after deploy", "SEV2"),
        ("minor: intermittent 404 on one avatar", "SEV3"),
        ("cosmetic: button misaligned on settings page", "SEV4"),
        ("typo in the footer", "SEV4"),
        ("InstanceDown", "SEV1"),
        ("HighErrorRate on api", "SEV2"),
        ("KubePodCrashLooping", "SEV2"),
        ("a config push made requests fail for all regions", "SEV1"),
        ("someone dropped the production database", "SEV1"),
        ("workers could not start after the config change", "SEV2"),
        ("a typo in the router config sent all traffic to one datacenter", "SEV1"),
        ("something looks odd", "SEV3"),
    ],
)
def test_keywords_decide_the_severity(text, severity):
    assert classify_severity(text).severity == severity


def test_most_severe_keyword_wins():
    found = classify_severity("minor styling issue, then the site went down")
    assert found.severity == "SEV1" and found.source == "keywords"


@pytest.mark.parametrize("text", ["scaled down the canary", "download page is slow to render"])
def test_down_as_an_operation_or_inside_a_word_is_not_an_outage(text):
    assert classify_severity(text).severity != "SEV1"


@pytest.mark.parametrize(
    ("labels", "severity"),
    [
        ({"severity": "critical"}, "SEV1"),
        ({"severity": "warning"}, "SEV3"),
        ({"priority": "P2"}, "SEV2"),
        ({"severity": "info"}, "SEV4"),
    ],
)
def test_alert_labels_win_over_words(labels, severity):
    found = classify_severity("everything is down", labels)
    assert found.severity == severity and found.source == "label"


def test_unknown_label_value_falls_back_to_words():
    assert classify_severity("api is down", {"severity": "whatever"}).severity == "SEV1"
    assert classify_severity("", {}).source == "default"
