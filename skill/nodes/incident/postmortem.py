"""Draft a blameless post-mortem from the memory records of one incident.

The template is ``prompts/postmortem.md`` (named ``{variables}``). Everything comes from the
records: the incident (title, severity, times, summary, root cause, resolution), the
deployments of its service around it (the change that likely caused it, the rollback that
ended it) and the memories that mention it. What the records cannot know is left as a visible
``_(to fill in)_``, never invented. An optional ``refine`` callable (the LLM, when configured)
may rewrite the draft; if it fails the deterministic draft stands.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from skill.durations import iso, parse_when
from skill.errors import InputError
from skill.memory import Memory
from skill.nodes.incident.severity import MATRIX

log = logging.getLogger(__name__)
TODO = "_(to fill in)_"
Refine = Callable[[str, dict[str, Any]], str]


def template_path(name: str = "postmortem.md") -> Path:
    """The project's ``.devops/prompts/`` copy wins over the one shipped in ``prompts/``."""
    from skill.paths import project_config_dir

    here = Path(__file__).resolve()
    project = project_config_dir()
    candidates = [Path(project) / "prompts" / name] if project else []
    candidates += [here.parents[3] / "prompts" / name, here.parents[2] / "_prompts" / name]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise InputError(f"template prompts/{name} not found")


_VARIABLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def render_template(template: str, values: dict[str, Any]) -> str:
    """Fill the ``{name}`` variables; every other brace (JSON, code, ``{0}``) stays as written.

    A project's own template is user text: ``str.format`` would raise on ``{"a": 1}`` or a lone
    brace, so only known names are replaced and unknown ones are left visible.
    """

    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        value = values[name]
        return "" if value is None else str(value)

    return _VARIABLE.sub(fill, template)


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return parse_when(text)
    except Exception:  # noqa: BLE001 - a malformed stored time only costs the timeline an entry
        return None


def _duration(start: datetime | None, end: datetime | None) -> str:
    if not start or not end:
        return TODO if start else "unknown"
    minutes = int((end - start).total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def gather(incident_id: str, memory) -> dict[str, Any]:
    """The records behind one incident: the incident, nearby deployments, related memories."""
    incident = memory.get_incident(incident_id)
    started, resolved = _when(incident.started), _when(incident.resolved)
    deploys: list[Any] = []
    if incident.service and started:
        since = started - timedelta(hours=24)
        until = (resolved or started) + timedelta(hours=2)
        for dep in memory.deployments(service=incident.service, since=iso(since), limit=50):
            at = _when(dep.started) or _when(dep.created_at)
            if at and at <= until:
                deploys.append(dep)
    related = []
    try:
        hits = memory.recall(incident_id, limit=20)
    except Exception as exc:  # noqa: BLE001 - recall is an extra; the incident row is enough for a draft
        log.warning("recall for %s failed: %s", incident_id, exc)
        hits = []
    for hit in hits:
        rec = hit.memory
        meta = rec.metadata or {}
        if meta.get("incident_id") == incident_id or incident_id in rec.text:
            related.append(rec)
    return {
        "incident": incident,
        "deployments": sorted(reversed(deploys), key=lambda d: d.started or d.created_at),
        "related": related,
    }


def build_values(records: dict[str, Any]) -> dict[str, Any]:
    inc = records["incident"]
    deploys = records["deployments"]
    related = records["related"]
    started, resolved = _when(inc.started), _when(inc.resolved)
    row = MATRIX.get(inc.severity, MATRIX["SEV3"])

    events: list[tuple[datetime, str]] = []
    if started:
        events.append((started, f"Incident opened ({inc.severity}): {inc.title}"))
    for dep in deploys:
        at = _when(dep.started) or _when(dep.created_at)
        if not at:
            continue
        if dep.strategy == "rollback" or dep.rolled_back_from:
            what = f"Rollback of {dep.service} in {dep.env} from {dep.rolled_back_from or '?'} to {dep.version}: {dep.status}"
        else:
            what = f"Deploy of {dep.service} {dep.version} to {dep.env} ({dep.strategy or 'deploy'}): {dep.status}"
        events.append((at, what))
    for rec in related:
        at = _when(rec.created_at)
        # the opening and the resolution records repeat the incident row; updates and notes add to it
        if rec.kind == "resolution" or (rec.kind == "incident" and " update: " not in rec.text):
            continue
        if at:
            events.append((at, rec.text[:200]))
    if resolved:
        events.append((resolved, f"Resolved: {inc.resolution or 'resolution not recorded'}"))
    seen, timeline = set(), []
    for at, what in sorted(events, key=lambda e: e[0]):
        line = f"- {iso(at)} {what}"
        if line not in seen:
            seen.add(line)
            timeline.append(line)

    rollbacks = [d for d in deploys if d.strategy == "rollback" or d.rolled_back_from]
    reverted = {r.rolled_back_from for r in rollbacks}
    bad = [
        d
        for d in deploys
        if d not in rollbacks and (d.status in ("failed", "rolled_back") or d.version in reverted)
    ]
    went_well, went_wrong, actions = [], [], []
    if rollbacks and any(r.status == "succeeded" for r in rollbacks):
        ok = next(r for r in rollbacks if r.status == "succeeded")
        went_well.append(
            f"Rollback to the last good version {ok.version} succeeded (a rollback plan existed before the deploy)."
        )
    if (
        resolved
        and started
        and row.escalation_minutes
        and (resolved - started) <= timedelta(minutes=row.escalation_minutes)
    ):
        went_well.append(f"Resolved within the {row.severity} escalation time ({row.escalation}).")
    if (
        started
        and resolved
        and row.escalation_minutes
        and (resolved - started) > timedelta(minutes=row.escalation_minutes)
    ):
        went_wrong.append(
            f"Took {_duration(started, resolved)}, beyond the {row.severity} escalation time ({row.escalation})."
        )
    for dep in bad:
        went_wrong.append(f"{dep.service} {dep.version} reached {dep.env} and had to be rolled back.")
        actions.append(
            (
                "Add or tighten the canary analysis / health gate that should have stopped "
                f"{dep.version} earlier",
                "prevent",
            )
        )
    if not inc.root_cause:
        actions.append(
            ("Find and record the root cause (devops incident resolve --root-cause ...)", "investigate")
        )
    actions.append(
        (
            f"Write or update the runbook for this failure in docs/runbooks/ ({inc.service or 'service'})",
            "mitigate",
        )
    )
    if row.severity in ("SEV1", "SEV2"):
        actions.append(("Check that an alert on the user-facing symptom fired first", "detect"))

    impact = (
        f"{row.severity} ({row.name}) on {inc.service or 'an unnamed service'} for {_duration(started, resolved)}. "
        f"Escalation matrix: respond within {row.response}, escalate after {row.escalation}, notify {', '.join(row.notify)}."
    )
    return {
        "title": inc.title,
        "incident_id": inc.id,
        "severity": inc.severity,
        "severity_name": row.name,
        "service": inc.service or "-",
        "status": inc.status,
        "started": inc.started or "-",
        "resolved": inc.resolved or "not yet",
        "duration": _duration(started, resolved),
        "summary": inc.summary or inc.title,
        "impact": impact + f" Customer-facing impact: {TODO}",
        "timeline": "\n".join(timeline) or TODO,
        "root_cause": inc.root_cause or TODO,
        "resolution": inc.resolution or TODO,
        "went_well": "\n".join(f"- {w}" for w in went_well) or f"- {TODO}",
        "went_wrong": "\n".join(f"- {w}" for w in went_wrong) or f"- {TODO}",
        "action_items": "\n".join(
            f"| {i} | {a} | {k} | {TODO} | {TODO} |" for i, (a, k) in enumerate(actions, 1)
        ),
        "related": "\n".join(f"- `{r.id}` ({r.kind}) {r.text[:160]}" for r in related) or "- none",
    }


def draft_postmortem(
    incident_id: str,
    *,
    memory=None,
    refine: Refine | None = None,
    template: str | None = None,
) -> str:
    """The post-mortem of ``incident_id`` as Markdown (NotFoundError when there is no such incident)."""
    mem = memory if memory is not None else Memory.open()
    try:
        records = gather(incident_id, mem)
    finally:
        if memory is None:
            mem.close()
    values = build_values(records)
    text = template if template is not None else template_path().read_text(encoding="utf-8")
    draft = render_template(text, values)
    if refine is not None:
        try:
            refined = refine(draft, values)
            if refined and refined.strip():
                return refined
        except Exception as exc:  # noqa: BLE001 - the deterministic draft is always a valid answer
            log.warning("post-mortem refinement failed, keeping the draft: %s", exc)
    return draft
