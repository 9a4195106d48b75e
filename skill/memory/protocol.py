"""The skill document's memory protocol lines, parsed into structured records.

    [devops] Deployed {service} to {env}: {version}
    [devops] Incident {id}: {summary}, resolution={action}

Agents and people drop the ``[devops]`` prefix often enough ("Deployed api-gateway to
production: 2.3.0") that it is optional, but only when the line is unmistakable: without the
prefix the version (or incident id) must contain a digit, so "Deployed api to prod: it broke"
stays a note. Anything else is free text and stays a note.
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

_DIGIT = re.compile(r"\d")


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


def parse(text: str) -> Parsed:
    m = _DEPLOYED.match(text or "")
    if m and (m["tag"] or _DIGIT.search(m["version"])):
        return Parsed(
            kind="deployment",
            service=m["service"],
            env=m["env"],
            version=m["version"].rstrip(".,;"),
            notes=(m["rest"] or "").strip() or None,
        )
    m = _INCIDENT.match(text or "")
    if m and (m["tag"] or _DIGIT.search(m["id"])):
        summary = (m["summary"] or "").strip().rstrip(",;") or None
        resolution = (m["resolution"] or "").strip().rstrip(".") or None
        return Parsed(kind="incident", incident_id=m["id"], summary=summary, resolution=resolution)
    return Parsed(kind="note")
