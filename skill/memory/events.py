"""Webhook events written to memory: deployments, resolutions and notes for later triage.

The agent's memory node calls these with an open ``Memory``; each returns the line the run
reports and what it stored.
"""

from __future__ import annotations

from typing import Any

from skill.errors import InputError

_DEPLOY_STATUS = {"deploy.succeeded": "succeeded", "deploy.failed": "failed"}


def record_deployment_event(mem, event: dict[str, Any]):
    """A deploy event becomes a deployment (in progress until its outcome event arrives)."""
    if not (event.get("service") and event.get("env") and event.get("version")):
        raise InputError("a deployment event needs service, environment and version")
    return mem.record_deployment(
        event["service"],
        event["env"],
        event["version"],
        commit=event.get("commit"),
        status=_DEPLOY_STATUS.get(event.get("type"), "in_progress"),
        by=(event.get("data") or {}).get("by"),
        notes=event.get("title"),
    )


def resolve_from_event(mem, event: dict[str, Any]) -> str:
    """Close the incident a firing alert or page opened (same title first, else the service's newest)."""
    opened = mem.incidents(status="open", service=event.get("service"), limit=200)
    opened = sorted(opened, key=lambda i: i.title != (event.get("title") or ""))
    if opened:
        mem.resolve_incident(opened[0].id, resolution=f"resolved upstream: {event.get('title')}")
        return f"Resolved incident {opened[0].id} ({opened[0].title})"
    res = mem.remember(
        f"resolved: {event.get('title')}", kind="note", service=event.get("service"), source="agent"
    )
    return f"No open incident for {event.get('service')}; noted {res.id}"


def note_event(mem, event: dict[str, Any], op: str, fallback_text: str = ""):
    """A push, a CI result or any other event kept as a note ("what changed?" in a later triage)."""
    text = event.get("title") or fallback_text
    if event.get("summary"):
        text += f" — {event['summary']}"
    return mem.remember(
        text,
        kind="note",
        service=event.get("service"),
        env=event.get("env"),
        version=event.get("version"),
        tags=("change",) if op == "record_change" else (op,),
        source="agent",
        metadata={"commit": event.get("commit"), "url": event.get("url")},
    ), text
