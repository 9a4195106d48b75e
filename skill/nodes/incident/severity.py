"""Incident severity by the skill document's escalation matrix (SEV1-SEV4).

| Severity         | Response    | Escalation   | Notify           |
| SEV1 (outage)    | 15 min      | 30 min       | Exec + customers |
| SEV2 (degraded)  | 30 min      | 1 hour       | Eng lead         |
| SEV3 (minor)     | 4 hours     | Next biz day | Standup          |
| SEV4 (cosmetic)  | Next sprint | N/A          | Backlog          |

An explicit severity label on the alert (Alertmanager ``severity``, PagerDuty urgency/priority)
is the alert author's call and wins; otherwise the words of the symptom decide, the most
severe match first. Nothing recognised means SEV3: someone looks at it today, nobody is paged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import BaseModel


class MatrixRow(BaseModel):
    severity: str
    name: str
    response: str
    response_minutes: int | None
    escalation: str
    escalation_minutes: int | None
    notify: list[str]


MATRIX: dict[str, MatrixRow] = {
    "SEV1": MatrixRow(
        severity="SEV1",
        name="outage",
        response="15 min",
        response_minutes=15,
        escalation="30 min",
        escalation_minutes=30,
        notify=["exec", "customers"],
    ),
    "SEV2": MatrixRow(
        severity="SEV2",
        name="degraded",
        response="30 min",
        response_minutes=30,
        escalation="1 hour",
        escalation_minutes=60,
        notify=["eng lead"],
    ),
    "SEV3": MatrixRow(
        severity="SEV3",
        name="minor",
        response="4 hours",
        response_minutes=240,
        escalation="next business day",
        escalation_minutes=None,
        notify=["standup"],
    ),
    "SEV4": MatrixRow(
        severity="SEV4",
        name="cosmetic",
        response="next sprint",
        response_minutes=None,
        escalation="n/a",
        escalation_minutes=None,
        notify=["backlog"],
    ),
}

# Label values as the common alerting tools spell them.
_LABELS: dict[str, str] = {
    **dict.fromkeys(("critical", "page", "p1", "sev1", "sev-1", "emergency", "disaster", "fatal"), "SEV1"),
    **dict.fromkeys(("high", "major", "error", "p2", "sev2", "sev-2", "urgent"), "SEV2"),
    **dict.fromkeys(("warning", "warn", "medium", "minor", "moderate", "p3", "sev3", "sev-3"), "SEV3"),
    **dict.fromkeys(
        ("info", "informational", "low", "none", "p4", "p5", "sev4", "sev-4", "cosmetic"), "SEV4"
    ),
}
_LABEL_KEYS = ("severity", "sev", "priority", "urgency", "level")

# (severity, why, pattern) most severe first; whole words only ("download" is not "down").
_KEYWORDS: list[tuple[str, str, re.Pattern]] = [
    (sev, why, re.compile(pattern, re.IGNORECASE))
    for sev, why, pattern in (
        ("SEV1", "outage", r"\b(outage|outages)\b"),
        ("SEV1", "down", r"\b(\w+)\s+(?:is\s+|are\s+|went\s+|goes\s+)?down\b|^\s*down\b"),
        (
            "SEV1",
            "unavailable",
            r"\b(unavailable|unreachable|not reachable|not responding|no response|offline)\b",
        ),
        (
            "SEV1",
            "total failure",
            r"\b(all|every|entire|whole|100\s*%)\b[^.]{0,60}?\b(fail\w*|errors?|down|crash\w*|unavailable|"
            r"unreachable|blocked|lost|broken)\b|\b(fail\w*|errors?|unavailable|blocked)\b[^.]{0,40}?\bfor\s+all\b",
        ),
        (
            "SEV1",
            "global",
            r"\b(global|globally|worldwide|site-wide|sitewide|complete|total)\s+(outage|failure|disruption|downtime)\b",
        ),
        (
            "SEV1",
            "data loss",
            r"\b(data loss|data leak|data corruption|lost data|security breach|breach)\b|"
            r"\b(deleted|dropped|truncated?|wiped|corrupted)\s+(the\s+)?(production\s+)?(database|data|backups?)\b",
        ),
        ("SEV1", "all traffic", r"\ball\s+(of\s+the\s+)?(traffic|requests|users|customers)\b"),
        ("SEV2", "5xx rate", r"\b5xx\b|\b50[0234]s?\b|\berror rate\b|\berror spike\b|\belevated errors?\b"),
        (
            "SEV2",
            "degraded",
            r"\b(degraded|degradation|slow|slowness|latency|timeouts?|timing out|partial|partially)\b",
        ),
        (
            "SEV2",
            "failing",
            r"\b(fail|fails|failed|failing|failures?|errors|error rates|malfunction\w*|crash\w*|"
            r"crashloopbackoff|oom\w*|could not|couldn't|cannot|unable to|blocked|disrupt\w*|interruption|"
            r"reduced capacity|impacted|unresponsive|hung|hanging|stuck|dropped|packet loss)\b",
        ),
        (
            "SEV3",
            "minor",
            r"\b(minor|intermittent|occasional|flaky|single user|one user|some users|warning)\b",
        ),
        (
            "SEV4",
            "cosmetic",
            r"\b(cosmetic|typo|misaligned|alignment|styling|css|wording|ui glitch|color|colour)\b",
        ),
    )
]


# "scaled down", "slowdown", "shut down the old pods" are operations, not an outage
_NOT_OUTAGE_DOWN = {
    "scale",
    "scaled",
    "scaling",
    "shut",
    "shutting",
    "slow",
    "slowed",
    "spin",
    "spun",
    "wind",
    "step",
    "stepped",
    "turn",
    "turned",
    "cool",
    "calm",
    "narrow",
    "narrowed",
    "track",
    "tracked",
    "break",
    "broken",
    "write",
    "written",
    "go",
    "going",
    "count",
    "counting",
}


def _counts(why: str, match: re.Match) -> bool:
    if why != "down" or match.lastindex is None or match.group(1) is None:
        return True
    return match.group(1).lower() not in _NOT_OUTAGE_DOWN


class SeverityAssessment(BaseModel):
    severity: str
    matrix: MatrixRow
    reasons: list[str]
    source: str  # "label", "keywords" or "default"


def split_camel(text: str) -> str:
    """``HighErrorRate on api`` -> ``High Error Rate on api``: alert names are CamelCase."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", text)


def matrix_row(severity: str) -> MatrixRow:
    key = severity.upper().replace("-", "")
    if key not in MATRIX:
        raise ValueError(f"unknown severity {severity!r}")
    return MATRIX[key]


def parse_severity(value: str) -> str:
    """``SEV2``, ``sev-2``, ``critical``, ``P1`` ... -> ``SEVn``; anything else is a usage error."""
    from skill.errors import UsageError

    sev = _LABELS.get(str(value or "").strip().lower())
    if sev is None:
        raise UsageError(
            f"unknown severity {value!r}", hint="SEV1..SEV4, critical, high, warning, info, P1..P4"
        )
    return sev


def classify_severity(text: str = "", labels: Mapping[str, str] | None = None) -> SeverityAssessment:
    """The severity of an alert or a symptom description, with the matrix row and the reasons."""
    for key in _LABEL_KEYS:
        for label_key, value in (labels or {}).items():
            if label_key.lower() == key and str(value).strip().lower() in _LABELS:
                sev = _LABELS[str(value).strip().lower()]
                return SeverityAssessment(
                    severity=sev, matrix=MATRIX[sev], reasons=[f"label {label_key}={value}"], source="label"
                )
    text = split_camel(text or "")
    found: list[tuple[str, str]] = []
    for sev, why, pattern in _KEYWORDS:
        match = next((m for m in pattern.finditer(text or "") if _counts(why, m)), None)
        if match:
            found.append((sev, f"{why}: {match.group(0).strip()!r}"))
    if found:
        best = min(sev for sev, _ in found)
        reasons = [why for sev, why in found if sev == best]
        return SeverityAssessment(severity=best, matrix=MATRIX[best], reasons=reasons, source="keywords")
    return SeverityAssessment(
        severity="SEV3", matrix=MATRIX["SEV3"], reasons=["no severity signal: default SEV3"], source="default"
    )
