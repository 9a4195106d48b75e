"""The skill document's memory protocol lines, parsed into structured records.

    [devops] Deployed {service} to {env}: {version}
    [devops] Incident {id}: {summary}, resolution={action}   (optionally service=NAME)

Agents and people drop the ``[devops]`` prefix often enough ("Deployed api-gateway to
production: 2.3.0") that it is optional, but only when the line is unmistakable: without the
prefix the incident id must contain a digit. A deployment needs a version that looks like one
(semver, a tag, a SHA, a date-stamped build): "Deployed api to prod: it broke" is a note, and
with the prefix the note says why it was not recorded as a deployment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DEPLOYED = re.compile(
    r"^\s*(?P<tag>\[devops\]\s*)?Deployed\s+(?P<service>[^\s:]+)\s+to\s+(?P<env>[^\s:]+)\s*:\s*(?P<version>\S+?)"
    r"(?:\s*[,;]?\s+(?P<rest>.*))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_INCIDENT = re.compile(
    r"^\s*(?P<tag>\[devops\]\s*)?Incident\s+(?P<id>[A-Za-z0-9][\w.\-#/]*)\s*:\s*(?P<summary>.*?)"
    r"(?:\s*[,;]?\s*resolution\s*=\s*(?P<resolution>.*?))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_SERVICE_FIELD = re.compile(r"(?:^|[\s,;(])service\s*=\s*(?P<name>[A-Za-z0-9][\w.\-/]*)[,;)]?", re.IGNORECASE)
_ROLLBACK_FROM = re.compile(r"\brolled?[\s-]*back\s+from\s+(?P<version>\S+?)[.,;)]?(?:\s|$)", re.IGNORECASE)

_DIGIT = re.compile(r"\d")
# What a version looks like. Every form holds a digit, except a hex SHA long enough not to be a word.
_VERSION_FORMS = (
    re.compile(r"^v?\d+(?:\.\d+)*(?:[-+~][0-9A-Za-z][0-9A-Za-z.\-+_]*)?$", re.IGNORECASE),  # semver, 2.3, v12
    re.compile(r"^(?=[0-9a-f]*\d)[0-9a-f]{7,40}$|^[0-9a-f]{12,40}$", re.IGNORECASE),  # git SHA
    re.compile(r"^\d{4}[.\-]?\d{2}[.\-]?\d{2}(?:[.\-_T]?[0-9A-Za-z.\-_]+)?$"),  # 20261206.1, 2026-12-06-3
    re.compile(r"^[A-Za-z][\w.\-/+]*\d[\w.\-/+]*$"),  # a tag: release-42, rc1, build-1734, main-3f9c2ab
)
VERSION_FORMS_HINT = (
    "semver (v1.4.2), a tag with a number (release-42), a SHA (3f9c2ab) or a date-stamped build (20261206.1)"
)


def looks_like_version(value: str | None) -> bool:
    value = (value or "").strip()
    if not value or len(value) > 128:
        return False
    return any(form.match(value) for form in _VERSION_FORMS)


@dataclass
class Parsed:
    kind: str  # note | deployment | incident
    service: str | None = None
    env: str | None = None
    version: str | None = None
    incident_id: str | None = None
    summary: str | None = None
    resolution: str | None = None
    notes: str | None = None
    rolled_back_from: str | None = None
    # Why a line that reads like a protocol line was kept as a note.
    problem: str | None = None


def parse(text: str) -> Parsed:
    m = _DEPLOYED.match(text or "")
    if m:
        version = m["version"].rstrip(".,;")
        if looks_like_version(version):
            notes = (m["rest"] or "").strip() or None
            rb = _ROLLBACK_FROM.search(notes or "")
            return Parsed(
                kind="deployment",
                service=m["service"],
                env=m["env"],
                version=version,
                notes=notes,
                rolled_back_from=rb["version"] if rb and looks_like_version(rb["version"]) else None,
            )
        if m["tag"]:
            return Parsed(
                kind="note",
                problem=f"kept as a note, not a deployment: {version!r} does not look like a version "
                f"({VERSION_FORMS_HINT})",
            )
    m = _INCIDENT.match(text or "")
    if m and (m["tag"] or _DIGIT.search(m["id"])):
        summary = m["summary"] or ""
        service = None
        field = _SERVICE_FIELD.search(summary)
        if field:
            service = field["name"]
            summary = (summary[: field.start()] + summary[field.end() :]).strip()
        resolution = (m["resolution"] or "").strip()
        field = _SERVICE_FIELD.search(resolution)
        if field and not service:
            service = field["name"]
            resolution = (resolution[: field.start()] + resolution[field.end() :]).strip()
        summary = summary.strip().rstrip(",;").strip() or None
        resolution = resolution.rstrip(".,; ").strip() or None
        return Parsed(
            kind="incident", incident_id=m["id"], summary=summary, resolution=resolution, service=service
        )
    return Parsed(kind="note")
