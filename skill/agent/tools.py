"""Thin adapters between the graph state and the plain tool-node functions.

Each tool adapter reads ``state.params`` (set by the router), calls the node's library function and
returns a state update: ``result`` (a JSON dict with ``ok`` and readable ``lines``) and, when the
node wants a change made, ``action``. Nothing here changes the world except ``execute`` (after the
gate) and ``record`` (memory). A domain error ends the run as ``failed`` with its message, never a
traceback.
"""

from __future__ import annotations

import os
from typing import Any

from skill.agent.state import RunState
from skill.errors import DevopsError, InputError, UsageError
from skill.memory import Memory

# ----------------------------------------------------------------------------- helpers


def _dump(obj: Any) -> Any:
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    if isinstance(obj, list):
        return [_dump(x) for x in obj]
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return obj


def _event(state: RunState) -> dict[str, Any]:
    return state.event or {}


def _path(params: dict[str, Any], state: RunState, *, must_exist: bool = True) -> str:
    path = params.get("path") or state.cwd or os.getcwd()
    if state.cwd and not os.path.isabs(path):
        path = os.path.join(state.cwd, path)
    path = os.path.normpath(path)
    if must_exist and not os.path.exists(path):
        # A review of nothing would report "0 findings" (or a NO-GO for the wrong reason).
        raise InputError(f"{path} does not exist")
    return path


def _problems(findings: list[Any]) -> list[Any]:
    return [f for f in findings if getattr(f, "status", "fail") in ("fail", "warn")]


def _finding_lines(findings: list[Any], limit: int = 8) -> list[str]:
    out = []
    for f in findings[:limit]:
        where = f" ({f.file}:{f.line})" if getattr(f, "file", None) and getattr(f, "line", None) else ""
        out.append(f"  [{f.severity}] {f.id}: {f.message}{where}")
    if len(findings) > limit:
        out.append(f"  ... and {len(findings) - limit} more")
    return out


# ----------------------------------------------------------------------------- tool nodes


def readiness(params: dict[str, Any], state: RunState) -> dict[str, Any]:
    from skill.nodes.readiness import review

    path = _path(params, state)
    rep = review(path, env=params.get("env") or "production", target_level=params.get("level"))
    fails = [c for c in rep.checks if c.status == "fail"]
    lines = [
        f"Readiness of {path}: level {rep.level_achieved or 'none'} achieved, target {rep.target_level} -> "
        + ("GO" if rep.go else "NO-GO"),
        f"  {sum(c.status == 'pass' for c in rep.checks)} checks pass, {len(fails)} fail",
        *_finding_lines(fails, 6),
    ]
    return {"result": {"ok": bool(rep.go), "lines": lines, "data": _dump(rep)}}


def ci(params: dict[str, Any], state: RunState) -> dict[str, Any]:
    op = params.get("op", "triage")
    if op == "audit":
        from skill.nodes.ci import audit_workflows

        path = _path(params, state)
        rep = audit_workflows(path)
        problems = _problems(rep.findings)
        lines = [f"Workflow audit of {path}: {len(problems)} finding(s)", *_finding_lines(problems)]
        bad = [f for f in problems if f.severity in ("high", "critical")]
        return {"result": {"ok": not bad, "lines": lines, "data": _dump(rep)}}
    if op == "status":
        from skill.nodes.ci import pipeline_status

        found = pipeline_status(cwd=state.cwd or ".", branch=params.get("branch"), limit=10)
        lines = ["Recent pipeline runs:"] + [
            f"  {r.id} {r.conclusion or r.status:<10} {r.name or ''} on {r.branch or '?'}"
            + (f": {r.title}" if r.title else "")
            for r in found
        ]
        failing = [r for r in found if r.finished and not r.succeeded]
        return {
            "result": {"ok": True, "lines": lines, "data": {"runs": _dump(found), "failing": len(failing)}}
        }
    return _ci_triage(params, state)


def _ci_triage(params: dict[str, Any], state: RunState) -> dict[str, Any]:
    event = _event(state)
    notices = list(state.notices)
    try:
        from skill.nodes.ci import triage_run

        tri = triage_run(run_id=params.get("run_id"), cwd=state.cwd or ".", remember=True)
        data = _dump(tri)
        run = tri.run
        lines = [f"CI triage of {run.name or 'run'} {run.id} on {run.branch or '?'}: {tri.classification}"]
        lines += [f"  failed job: {j.name}" for j in tri.failed_jobs[:5]]
        lines += [f"  {e.job + ': ' if e.job else ''}{e.text}" for e in tri.error_lines[:6]]
        lines += [f"  seen before: {s.text[:160]}" for s in tri.similar[:3]]
        if tri.next_step:
            lines.append(f"  next: {tri.next_step}")
        notices += tri.notices
        return {"result": {"ok": True, "lines": lines, "data": data}, "notices": notices}
    except (DevopsError, ImportError) as exc:
        if not event:
            raise
        # No gh/glab here (or no access): triage from what the webhook told us, and remember it.
        notices.append(f"CI logs unavailable ({exc}); triaged from the event alone")
    from skill.nodes.ci import triage_event

    tri = triage_event(event)
    return {
        "result": {
            "ok": True,
            "lines": tri.lines,
            "data": {"event": event.get("id"), "similar": tri.similar},
        },
        "memory_ids": tri.memory_ids,
        "notices": notices + tri.notices,
    }


def iac(params: dict[str, Any], state: RunState) -> dict[str, Any]:
    from skill.nodes.iac import review_plan

    source = params.get("plan") or _path(params, state, must_exist=False)  # iac explains how to make one
    rev = review_plan(source, env=params.get("env"))
    problems = _problems(rev.findings)
    counts = (
        ", ".join(f"{n} to {kind}" for kind, n in rev.summary.items() if n and kind != "no-op")
        or "no changes"
    )
    lines = [f"Plan review of {source}: T{rev.tier} ({rev.decision}); {counts}"]
    lines += [f"  {c.message}" for c in rev.changes if c.kind not in ("no-op", "read")][:8]
    lines += _finding_lines(problems)
    return {"result": {"ok": rev.tier < 4, "lines": lines, "data": _dump(rev)}}


def deploy(params: dict[str, Any], state: RunState) -> dict[str, Any]:
    """Propose a deploy, rollback or flag change (skill.changes); the gate node decides on it."""
    from skill import changes

    op = params.get("op", "deploy")
    service, env = params.get("service"), params.get("env")
    if op == "flag":
        name, value = params.get("flag"), params.get("state")
        if not name or value not in ("on", "off") or not env:
            raise UsageError("a flag change needs a flag name, on|off and an environment")
        change = changes.FlagToggle(flag=name, state=value, environment=env, by=params.get("by"))
    elif not service or not env:
        raise UsageError(f"a {op} needs a service and an environment (e.g. 'deploy api 1.4.2 to staging')")
    elif op == "rollback":
        # propose() pins the version the executor would choose, so the human approves that version
        change = changes.Rollback(service=service, environment=env, to_version=params.get("version"))
    else:
        if not params.get("version"):
            raise UsageError("a deploy needs a version (git sha or semver)")
        change = changes.Deploy(
            service=service,
            environment=env,
            version=str(params["version"]),
            strategy=params.get("strategy") or "rolling",
            steps=params.get("steps"),
            by=params.get("by"),
        )
    proposal = changes.propose(change)
    return {
        "result": {
            "ok": True,
            "lines": proposal.lines,
            "data": proposal.plan or proposal.change.model_dump(mode="json"),
        },
        "action": proposal.to_state(),
    }


def incident(params: dict[str, Any], state: RunState) -> dict[str, Any]:
    from skill.agent import llm
    from skill.nodes import incident as inc

    if params.get("op") == "postmortem":
        ref = params.get("incident") or _incident_ref(params.get("query") or state.request or "")
        if not ref:
            raise InputError("which incident? e.g. 'postmortem for INC-3'")
        text = inc.draft_postmortem(ref, refine=llm.postmortem_refiner())
        return {"result": {"ok": True, "lines": [text], "data": {"incident": ref}}}
    event = _event(state)
    symptom = params.get("query") or state.request or event.get("title") or ""
    service = params.get("service") or event.get("service")
    # An alert or page opens an incident in memory (a re-fired alert joins the one open under its
    # title), so the resolve event closes it and `devops incident postmortem` has a record.
    title = event.get("title") if event.get("type") in _OPENS_INCIDENT else None
    rep = inc.triage_incident(
        symptom,
        service=service,
        repo=state.cwd or ".",
        labels=event.get("labels") or None,
        env=params.get("env") or event.get("env"),
        severity=_sev(params.get("severity")),
        open_incident=bool(title),
        title=title,
    )
    update: dict[str, Any] = {
        "result": {"ok": True, "lines": inc.render_triage(rep).splitlines(), "data": _dump(rep)}
    }
    rb = rep.suggested_rollback
    mode = _incident_rollback_mode()
    if rb is not None and mode != "off":
        # "propose" (the default) means propose: the change is gated as incident_rollback, which
        # stops at an approval request in every environment; only "execute" lets the gate's
        # ordinary rollback tier decide (and a staging rollback then runs at once).
        from skill import changes

        change = changes.Rollback(
            service=rb.service,
            environment=rb.env,
            to_version=rb.to_version,
            from_version=rb.from_version,
            origin="incident" if mode == "propose" else "request",
        )
        update["action"] = changes.Proposal(change=change, summary=change.describe()).to_state()
    return update


_OPENS_INCIDENT = {"alert.firing", "incident.triggered", "deploy.failed"}


def _sev(value: Any) -> str | None:
    text = str(value or "").upper()
    return text if text in {"SEV1", "SEV2", "SEV3", "SEV4"} else None


def _incident_rollback_mode() -> str:
    from skill.config import load_settings
    from skill.errors import ConfigError

    mode = str(load_settings("agent", {"incident_rollback": "propose"}).get("incident_rollback", "propose"))
    if mode not in ("off", "propose", "execute"):
        raise ConfigError(f'[agent] incident_rollback = "{mode}" is not one of off, propose, execute')
    return mode


def _incident_ref(text: str) -> str | None:
    import re

    m = re.search(r"\b((?:INC|inc)[-_][\w-]+|inc-[0-9a-f]{6,}|[0-9a-f]{8,})\b", text)
    return m.group(1) if m else None


def memory(params: dict[str, Any], state: RunState) -> dict[str, Any]:
    op = params.get("op", "recall")
    event = _event(state)
    mem = Memory.open()
    try:
        if op == "recall":
            query = params.get("query") or state.request or ""
            hits = mem.recall(query, service=params.get("service"), env=params.get("env"), limit=5)
            lines = [f"Memory recall for {query!r}: {len(hits)} hit(s)"]
            lines += [f"  [{h.memory.kind}] {h.memory.created_at[:16]} {h.memory.text[:160]}" for h in hits]
            return {"result": {"ok": True, "lines": lines, "data": {"hits": _dump(hits)}}}
        if op == "remember":
            import re

            text = re.sub(
                r"^\s*(remember|note|record)( that)?\s*[:,-]?\s*", "", params.get("query") or "", flags=re.I
            )
            res = mem.remember(text, service=params.get("service"), env=params.get("env"), source="agent")
            return {
                "result": {"ok": True, "lines": [f"Remembered {res.id}: {text}"], "data": _dump(res)},
                "memory_ids": [res.id],
            }
        from skill.memory import events as memory_events

        if op == "record_deployment":
            d = memory_events.record_deployment_event(mem, event)
            return {
                "result": {
                    "ok": True,
                    "lines": [f"Recorded deployment {d.id}: {event.get('title')}"],
                    "data": _dump(d),
                },
                "memory_ids": [d.memory_id] if d.memory_id else [],
            }
        if op == "resolve":
            return {"result": {"ok": True, "lines": [memory_events.resolve_from_event(mem, event)]}}
        # record_ci, record_change, note: keep a line in memory for later triage ("what changed?")
        res, text = memory_events.note_event(mem, event, op, params.get("query") or "")
        return {"result": {"ok": True, "lines": [f"Noted {res.id}: {text}"]}, "memory_ids": [res.id]}
    finally:
        mem.close()


TOOLS = {
    "readiness": readiness,
    "ci": ci,
    "iac": iac,
    "deploy": deploy,
    "incident": incident,
    "memory": memory,
}


def run_tool(name: str, state: RunState) -> dict[str, Any]:
    """Call tool ``name``; a domain error ends the run as failed with a readable message."""
    try:
        update = TOOLS[name](dict(state.params), state)
    except DevopsError as exc:
        return {"status": "failed", "error": str(exc), "result": {"ok": False, "lines": [f"Error: {exc}"]}}
    except Exception as exc:  # noqa: BLE001 - a run is recorded as failed, never lost to a traceback
        msg = f"internal error in {name}: {type(exc).__name__}: {exc}"
        return {"status": "failed", "error": msg, "result": {"ok": False, "lines": [msg]}}
    update.setdefault("result", {})
    return update


# ----------------------------------------------------------------------------- gate


def check(action: dict[str, Any], approval: str | None = None) -> dict[str, Any]:
    """The guardrails decision on the proposal in the graph state, as a dict (skill.changes.gate)."""
    from skill import changes

    try:
        change = changes.Proposal.from_state(action).change
    except Exception as exc:  # noqa: BLE001 - an unreadable proposal is never allowed
        return {
            "tier": 4,
            "decision": "block",
            "reasons": [f"the proposed change is not readable: {type(exc).__name__}: {exc}"],
            "rule_ids": ["gate.bad-change"],
            "request_id": None,
            "approvable": False,
        }
    d = changes.gate(change, approval, caller="devops-agent")
    out = d.to_dict()
    out["approvable"] = changes.is_approvable(d)
    return out


def describe_action(action: dict[str, Any]) -> str:
    return action.get("summary") or action.get("command") or str(action.get("kind") or "change")


def grant_approval(
    request_id: str | None, *, by: str | None, ttl: float | None = None, **options: Any
) -> str | None:
    """Record a human approval through the guardrails approvals (never a second mechanism).

    ``skill.guardrails.approvals.approve`` enforces who may approve: a human typing the target's
    name at a terminal, or the operator key in $DEVOPS_OPERATOR_KEY. Its refusals (Blocked,
    UsageError ...) propagate unchanged. Returns the approval token the gate then consumes.
    """
    if not request_id:
        raise UsageError("this run has no approval request id")
    if not by:
        raise UsageError("say who approves: --by NAME")
    from skill.guardrails import approvals

    ttl = approvals.approval_ttl() if ttl is None else ttl  # one default for every approve command
    # the run's claim already made this the only approver (an earlier one may have died after
    # granting): its outstanding approval is replaced, not "already decided"
    granted = approvals.approve(request_id, by=by, ttl_seconds=ttl, supersede=True, **options)
    return granted.get("token") if isinstance(granted, dict) else getattr(granted, "token", None)


# ----------------------------------------------------------------------------- execute / record


def _approver(state: RunState) -> str:
    return (state.approval or {}).get("by") or "devops-agent"


def execute(state: RunState) -> dict[str, Any]:
    """Perform the approved change through skill.changes (which records it in memory once)."""
    from skill import changes

    try:
        proposal = changes.Proposal.from_state(state.action or {})
        if not proposal.change.by:
            proposal.change.by = _approver(state)  # who asked is not part of what was approved
        res = changes.execute(proposal)
    except DevopsError as exc:
        return {"executed": {"ok": False, "lines": [f"Error: {exc}"]}, "status": "failed", "error": str(exc)}
    except Exception as exc:  # noqa: BLE001
        msg = f"{type(exc).__name__}: {exc}"
        return {"executed": {"ok": False, "lines": [f"Error: {msg}"]}, "status": "failed", "error": msg}
    update: dict[str, Any] = {
        "executed": {"ok": res.ok, "lines": res.lines, "data": res.data},
        "status": "done" if res.ok else "failed",
        "memory_ids": [*state.memory_ids, *res.memory_ids],
    }
    if not res.ok:
        # `runs show` must say why a step failed, never "failed" with error: null
        update["error"] = res.message
    return update


def record(state: RunState) -> dict[str, Any]:
    """Remember a decision that changed nothing (blocked, rejected, failed before acting).

    An executed change was recorded by skill.changes.execute; writing it here too would
    remember it twice.
    """
    action = state.action
    if not action or state.executed:
        return {}
    outcome = state.status if state.status != "running" else "done"
    by = (state.approval or {}).get("by")
    text = f"agent {outcome}: {describe_action(action)}" + (f" (by {by})" if by else "")
    if state.error:
        text += f": {state.error}"
    try:
        mem = Memory.open()
        try:
            res = mem.remember(
                text,
                kind="note",
                service=action.get("target") if action.get("kind") != "flag" else None,
                env=action.get("env"),
                tags=("agent", action.get("kind") or "action", outcome),
                source="agent",
            )
        finally:
            mem.close()
    except Exception as exc:  # noqa: BLE001 - memory is best effort here, the run still reports
        return {"notices": [*state.notices, f"not recorded in memory: {type(exc).__name__}: {exc}"]}
    return {"memory_ids": [*state.memory_ids, res.id]}


def render_report(state: RunState) -> str:
    lines = [
        f"Run {state.run_id}: {state.node or '-'}/{state.params.get('op', '-')} (routed by {state.routed_by or '-'})"
    ]
    lines += list((state.result or {}).get("lines") or [])
    d = state.decision
    if d:
        verdict = d.get("decision")
        if state.approval and state.approval.get("approved"):
            verdict = f"approved by {state.approval.get('by')}"
        elif verdict in ("ask", "block") and d.get("approvable", True) and d.get("request_id"):
            verdict = f"approval required (request {d['request_id']})"
        lines.append(
            f"Gate: T{d.get('tier')} {verdict}"
            + (f" — {'; '.join(d.get('reasons') or [])}" if d.get("reasons") else "")
        )
    if state.status == "rejected":
        who = (state.approval or {}).get("by")
        why = (state.approval or {}).get("reason")
        lines.append(
            "Rejected"
            + (f" by {who}" if who else "")
            + (f": {why}" if why else "")
            + "; nothing was changed."
        )
    if state.status == "blocked":
        lines.append("Blocked by the gate; nothing was changed.")
    if state.executed:
        lines += state.executed.get("lines") or []
    if state.error and state.status == "failed" and not (state.result or {}).get("lines"):
        lines.append(f"Error: {state.error}")
    lines += [f"note: {n}" for n in state.notices]
    return "\n".join(lines)
