"""Incident triage: severity by the matrix, memory (similar incidents, recent deploys, last good
version), the matching runbook, and a suggested rollback.

The suggested rollback is a command, never an action taken here: ``devops deploy --rollback``
passes the safety gate (action ``rollback``) when somebody runs it.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from skill.environments import normalize
from skill.errors import UsageError
from skill.memory import Memory
from skill.nodes.incident.runbooks import RunbookMatch, find_runbooks
from skill.nodes.incident.severity import SeverityAssessment, classify_severity, parse_severity


class SuggestedRollback(BaseModel):
    service: str
    env: str
    from_version: str
    to_version: str
    command: str
    argv: list[str]
    gate_action: str = "rollback"
    reason: str


class IncidentReport(BaseModel):
    symptoms: str
    service: str | None = None
    window: str
    severity: SeverityAssessment
    similar_incidents: list[dict[str, Any]] = Field(default_factory=list)
    recent_deploys: list[dict[str, Any]] = Field(default_factory=list)
    recent_changes: list[dict[str, Any]] = Field(
        default_factory=list, description="other changes in the window: flags, notes, CI failures"
    )
    last_good_version: str | None = None
    memory_suggestion: str = ""
    runbook: RunbookMatch | None = None
    other_runbooks: list[RunbookMatch] = Field(default_factory=list)
    suggested_rollback: SuggestedRollback | None = None
    next_steps: list[str] = Field(default_factory=list)
    incident_id: str | None = None
    warnings: list[str] = Field(default_factory=list)
    error_budget: list[str] = Field(default_factory=list, description="the service's SLOs and current burn")


def suggest_rollback(
    service: str | None, recent: list[dict[str, Any]], last_good: str | None
) -> SuggestedRollback | None:
    """A rollback when the newest deploy in the window is live and an older good version exists."""
    if not service or not recent or not last_good:
        return None
    newest = recent[0]
    if newest.get("strategy") == "rollback" or newest.get("status") != "succeeded":
        return None  # already rolled back, or the bad version never went live
    if newest.get("version") == last_good:
        return None
    argv = [
        "devops",
        "deploy",
        "--service",
        service,
        "--env",
        newest["env"],
        "--rollback",
        "--rollback-to",
        last_good,
    ]
    return SuggestedRollback(
        service=service,
        env=newest["env"],
        from_version=newest["version"],
        to_version=last_good,
        command=shlex.join(argv),
        argv=argv,
        reason=f"{service} {newest['version']} went to {newest['env']} at {newest.get('started') or '?'}, "
        f"inside the incident window; {last_good} is the last good version",
    )


def _flag_revert(change: dict[str, Any]) -> str | None:
    """``devops flag set NAME off --env ENV`` for a remembered flag switch, else None."""
    tags = change.get("tags") or []
    text = change.get("text") or ""
    if "flag" not in tags or len(tags) < 2 or not change.get("env"):
        return None
    name = next((t for t in tags if t != "flag"), None)
    if " set on " in text:
        state = "off"
    elif " set off " in text:
        state = "on"
    else:
        return None
    if not name:
        return None
    return shlex.join(["devops", "flag", "set", name, state, "--env", change["env"]])


def triage_incident(
    symptoms: str,
    service: str | None = None,
    window: str = "24h",
    repo: str | Path = ".",
    *,
    labels: Mapping[str, str] | None = None,
    env: str | None = None,
    severity: str | None = None,
    memory=None,
    open_incident: bool = False,
    title: str | None = None,
) -> IncidentReport:
    """Triage an alert or a symptom description; read-only unless ``open_incident``.

    ``labels`` are alert labels (``severity=critical`` decides the severity); ``severity``
    overrides both; ``env`` limits the suggested rollback to that environment's deploys.
    """
    if not symptoms or not symptoms.strip():
        raise UsageError(
            "triage needs the symptoms", hint='e.g. devops incident triage "5xx on checkout" --service api'
        )
    if severity:  # an explicit severity (SEV2, critical, P1 ...) is the caller's call, like an alert label
        parse_severity(severity)  # a typo is an error, not a silent fall back to the words
        labels = {**(labels or {}), "severity": severity}
    assessed = classify_severity(symptoms, labels)
    mem = memory if memory is not None else Memory.open()
    try:
        tri = mem.triage(symptoms, service=service, window=window, limit=5)
        similar = [s.model_dump(mode="json") for s in tri.similar_incidents]
        recent = [d.model_dump(mode="json") for d in tri.recent_deploys]
        changes = [
            {k: m.model_dump(mode="json").get(k) for k in ("id", "kind", "text", "created_at", "env", "tags")}
            for m in tri.recent_changes
            if m.kind != "deployment"
        ]
        incident_id = None
        if open_incident:
            name = title or symptoms.strip().splitlines()[0][:120]
            # an alert that fires again (or a second `--open`) joins the incident already open
            # under that title instead of opening a duplicate
            same = [
                i
                for i in mem.incidents(status="open", service=service, limit=200)
                if i.title.strip().lower() == name.strip().lower()
                and (i.service or None) == (service or None)
            ]
            if same:
                incident_id = same[0].id
            else:
                inc = mem.open_incident(
                    name,
                    severity=assessed.severity,
                    service=service,
                    summary=symptoms.strip() if title else None,
                )
                incident_id = inc.id
    finally:
        if memory is None:
            mem.close()
    runbooks = find_runbooks(symptoms, service, repo, limit=3)
    environment = (normalize(env) or env) if env else None
    in_env = [d for d in recent if not environment or d.get("env") == environment]
    rollback = suggest_rollback(service, in_env, tri.last_good_version)

    row = assessed.matrix
    steps = [
        f"{assessed.severity} ({row.name}): respond within {row.response}, escalate after {row.escalation}, "
        f"notify {', '.join(row.notify)}"
    ]
    if rollback:
        steps.append(
            f"Recent deploy is the prime suspect: roll back with `{rollback.command}` (passes the safety gate)"
        )
    elif recent:
        d = recent[0]
        if d.get("rolled_back_from"):
            steps.append(
                f"Recent change: {d['service']} in {d['env']} was already rolled back from "
                f"{d['rolled_back_from']} to {d['version']}; if the symptom persists, look beyond that release"
            )
        else:
            steps.append(f"Recent change: {d['service']} {d['version']} to {d['env']} ({d['status']})")
    for change in changes:
        flag = _flag_revert(change)
        if flag:
            steps.append(
                f"A feature flag changed in the window; switching it back is quick: `{flag}` (gated)"
            )
            break
    # Memory only returns strong matches; the best one speaks first, so a weaker incident's fix
    # is never offered ahead of a closer incident that has none yet.
    if similar:
        top = similar[0]
        where = (
            f" (other service: {top.get('service') or 'unknown'})"
            if top.get("match") == "other service"
            else ""
        )
        if top.get("resolution"):
            steps.append(f"Similar incident {top['id']}{where} was resolved by: {top['resolution']}")
        else:
            steps.append(f"Closest past incident {top['id']}{where} has no resolution recorded yet")
    elif tri.no_strong_match:
        steps.append(tri.no_strong_match[0].upper() + tri.no_strong_match[1:])
    if runbooks:
        steps.append(f"Follow the runbook {runbooks[0].path} ({runbooks[0].title})")
    else:
        steps.append("No runbook matches: write one after this incident (docs/runbooks/)")
    return IncidentReport(
        symptoms=symptoms,
        service=service,
        window=window,
        severity=assessed,
        similar_incidents=similar,
        recent_deploys=recent,
        recent_changes=changes,
        last_good_version=tri.last_good_version,
        memory_suggestion=tri.suggestion,
        runbook=runbooks[0] if runbooks else None,
        other_runbooks=runbooks[1:],
        suggested_rollback=rollback,
        next_steps=steps,
        incident_id=incident_id,
        warnings=list(tri.warnings),
        error_budget=_service_burn(service),
    )


def _service_burn(service: str | None) -> list[str]:
    from skill.slo.status import service_burn

    return service_burn(service)


def render_triage(rep: IncidentReport) -> str:
    """The report as text for a terminal or a chat message."""
    sev = rep.severity
    row = sev.matrix
    lines = [
        f"{sev.severity} ({row.name}) - {rep.symptoms}"
        + (f"  [service {rep.service}]" if rep.service else ""),
        f"  respond within {row.response}, escalate after {row.escalation}, notify {', '.join(row.notify)}"
        f"  ({'; '.join(sev.reasons)})",
    ]
    if rep.incident_id:
        lines.append(f"  opened incident {rep.incident_id}")
    lines.append(
        f"Recent deploys ({rep.window}):" if rep.recent_deploys else f"Recent deploys ({rep.window}): none"
    )
    for d in rep.recent_deploys[:5]:
        extra = f", rolled back from {d['rolled_back_from']}" if d.get("rolled_back_from") else ""
        lines.append(
            f"  - {d.get('started') or d.get('created_at')} {d['service']} {d['version']} -> {d['env']} "
            f"({d['status']}{extra})"
        )
    if rep.recent_changes:
        lines.append(f"Other changes ({rep.window}):")
    for c in rep.recent_changes[:5]:
        lines.append(f"  - {c.get('created_at')} {(c.get('text') or '')[:140]}")
    live = next((d for d in rep.recent_deploys if d.get("status") == "succeeded"), None)
    if live:
        lines.append(f"Live version: {live['version']} in {live['env']}")
    lines.append(f"Last good version: {rep.last_good_version or 'none known before the live one'}")
    lines += [f"Error budget: {line}" for line in rep.error_budget]
    lines.append("Similar incidents:" if rep.similar_incidents else "Similar incidents: none")
    for s in rep.similar_incidents[:5]:
        res = f" -> resolved by: {s['resolution']}" if s.get("resolution") else ""
        other = (
            f" [other service: {s.get('service') or 'unknown'}]" if s.get("match") == "other service" else ""
        )
        lines.append(f"  - {s['id']} {s.get('title') or s['text'][:80]}{other}{res}")
    if rep.runbook:
        lines.append(
            f"Runbook: {rep.runbook.path} - {rep.runbook.title} (matched: {', '.join(rep.runbook.matched_terms)})"
        )
    else:
        lines.append("Runbook: none matches")
    if rep.suggested_rollback:
        lines.append(f"Suggested rollback (passes the safety gate): {rep.suggested_rollback.command}")
    lines.append("Next steps:")
    lines += [f"  {i}. {step}" for i, step in enumerate(rep.next_steps, 1)]
    lines += [f"Warning: {w}" for w in rep.warnings]
    return "\n".join(lines)
