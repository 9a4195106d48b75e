"""Webhook payloads from GitHub, GitLab, Alertmanager, PagerDuty (and a generic form) as one Event.

Every source is reduced to the same small vocabulary of ``Event.type`` values, which is what the
router looks at:

    ci.failed  ci.succeeded  ci.running       (GitHub workflow_run / check_run, GitLab Pipeline Hook)
    deploy.requested                          (GitHub deployment, generic "deploy")
    deploy.succeeded  deploy.failed  deploy.running   (GitHub deployment_status, GitLab Deployment Hook)
    push                                      (GitHub push)
    alert.firing  alert.resolved              (Alertmanager webhook version 4, generic "alert")
    incident.triggered  incident.acknowledged  incident.resolved  incident.updated   (PagerDuty v3)
    request                                   (generic free text: {"type": "request", "text": "..."})

The generic JSON form (for anything else: a cron job, a chat bot, a script)::

    {"type": "alert" | "alert.resolved" | "deploy" | "ci.failed" | "request" | <any type above>,
     "id": "optional delivery id", "service": "api", "env": "production", "version": "1.4.2",
     "summary": "what happened", "severity": "critical", "text": "free-text request",
     "labels": {"k": "v"}, "url": "https://..."}

Stdlib + pydantic only: the server parses on the request path.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, Field

from skill.errors import InputError

Source = Literal["github", "gitlab", "alertmanager", "pagerduty", "generic"]
SOURCES: tuple[str, ...] = ("github", "gitlab", "alertmanager", "pagerduty", "generic")

EVENT_TYPES: tuple[str, ...] = (
    "ci.failed",
    "ci.succeeded",
    "ci.running",
    "deploy.requested",
    "deploy.succeeded",
    "deploy.failed",
    "deploy.running",
    "push",
    "alert.firing",
    "alert.resolved",
    "incident.triggered",
    "incident.acknowledged",
    "incident.resolved",
    "incident.updated",
    "request",
)

_GENERIC_ALIASES = {
    "alert": "alert.firing",
    "firing": "alert.firing",
    "resolved": "alert.resolved",
    "deploy": "deploy.requested",
    "deployment": "deploy.requested",
    "ci": "ci.failed",
    "ci_failure": "ci.failed",
    "incident": "incident.triggered",
    "text": "request",
    "ask": "request",
}


class Event(BaseModel):
    """One normalised event. ``raw_type`` keeps the source's own name (``workflow_run``, ``Pipeline Hook``)."""

    id: str = Field(description="Delivery id: the source's own id when it has one, else a hash of the body.")
    source: Source
    type: str
    raw_type: str
    action: str | None = None
    status: str | None = None
    title: str = ""
    summary: str = ""
    service: str | None = None
    env: str | None = None
    version: str | None = None
    commit: str | None = None
    branch: str | None = None
    repo: str | None = None
    url: str | None = None
    severity: str | None = None
    run_id: str | None = None
    occurred_at: str | None = None
    text: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    data: dict[str, Any] = Field(
        default_factory=dict, description="Source-specific extras (failed jobs, alerts)."
    )

    def describe(self) -> str:
        bits = [self.type]
        if self.service:
            bits.append(f"service={self.service}")
        if self.env:
            bits.append(f"env={self.env}")
        if self.version:
            bits.append(f"version={self.version}")
        head = " ".join(bits)
        return f"{head}: {self.title}" if self.title else head


def body_hash(body: bytes | str) -> str:
    data = body.encode() if isinstance(body, str) else body
    return "sha256:" + hashlib.sha256(data).hexdigest()[:32]


def _s(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _short_sha(sha: str | None) -> str | None:
    return sha[:12] if sha else None


def _repo_name(repo: dict | None) -> tuple[str | None, str | None]:
    """(full name, short name) of a GitHub/GitLab repository object."""
    if not isinstance(repo, dict):
        return None, None
    full = repo.get("full_name") or repo.get("path_with_namespace")
    return _s(full), _s(repo.get("name"))


# ----------------------------------------------------------------------------- detection


def detect_source(payload: dict, headers: dict[str, str] | None = None) -> str:
    """Guess the source of a payload from its headers, else from its shape."""
    h = {k.lower(): v for k, v in (headers or {}).items()}
    if "x-github-event" in h:
        return "github"
    if "x-gitlab-event" in h:
        return "gitlab"
    if not isinstance(payload, dict):
        raise InputError("an event must be a JSON object")
    if "object_kind" in payload:
        return "gitlab"
    if "alerts" in payload and "groupKey" in payload:
        return "alertmanager"
    event = payload.get("event")
    if isinstance(event, dict) and "event_type" in event and "resource_type" in event:
        return "pagerduty"
    if _github_event_name(payload):
        return "github"
    return "generic"


def _github_event_name(payload: dict) -> str | None:
    for key in ("workflow_run", "check_run", "deployment_status"):
        if isinstance(payload.get(key), dict):
            return key
    if isinstance(payload.get("deployment"), dict):
        return "deployment"
    if "ref" in payload and ("commits" in payload or "head_commit" in payload) and "pusher" in payload:
        return "push"
    return None


def parse_event(
    payload: dict | bytes | str,
    source: str | None = None,
    headers: dict[str, str] | None = None,
) -> Event:
    """Normalise one webhook body. ``source=None`` detects it; raises InputError on a bad payload."""
    raw_bytes: bytes | None = None
    if isinstance(payload, bytes | str):
        raw_bytes = payload.encode() if isinstance(payload, str) else payload
        try:
            payload = json.loads(raw_bytes)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"event body is not valid JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise InputError("an event must be a JSON object")
    if raw_bytes is None:
        raw_bytes = json.dumps(payload, sort_keys=True).encode()
    h = {k.lower(): v for k, v in (headers or {}).items()}
    src = source or detect_source(payload, h)
    if src not in SOURCES:
        raise InputError(f"unknown event source {src!r}", hint="one of: " + ", ".join(SOURCES))
    parser = {
        "github": _github,
        "gitlab": _gitlab,
        "alertmanager": _alertmanager,
        "pagerduty": _pagerduty,
        "generic": _generic,
    }[src]
    try:
        event = parser(payload, h)
    except (KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"not a valid {src} event: {_shape_problem(src, payload, exc)}") from exc
    if not event.id:
        event.id = body_hash(raw_bytes)
    return event


# ----------------------------------------------------------------------------- GitHub

_GH_CONCLUSION = {
    "success": "ci.succeeded",
    "neutral": "ci.succeeded",
    "skipped": "ci.succeeded",
    "failure": "ci.failed",
    "timed_out": "ci.failed",
    "startup_failure": "ci.failed",
    "action_required": "ci.failed",
    "cancelled": "ci.failed",
    "stale": "ci.failed",
}
_GH_DEPLOY_STATE = {
    "success": "deploy.succeeded",
    "inactive": "deploy.succeeded",
    "failure": "deploy.failed",
    "error": "deploy.failed",
    "pending": "deploy.running",
    "queued": "deploy.running",
    "in_progress": "deploy.running",
}


def _github(p: dict, h: dict[str, str]) -> Event:
    name = h.get("x-github-event") or _github_event_name(p)
    if not name:
        raise InputError("cannot tell which GitHub event this is", hint="pass the X-GitHub-Event header")
    full, short = _repo_name(p.get("repository"))
    common: dict[str, Any] = {
        "id": h.get("x-github-delivery") or "",
        "source": "github",
        "raw_type": name,
        "action": _s(p.get("action")),
        "repo": full,
        "service": short,
    }
    if name == "workflow_run":
        run = p["workflow_run"]
        conclusion = run.get("conclusion")
        etype = _GH_CONCLUSION.get(conclusion or "", "ci.running")
        return Event(
            **common,
            type=etype,
            status=_s(conclusion or run.get("status")),
            title=f"workflow {run.get('name')!s} {conclusion or run.get('status')} on {run.get('head_branch')}",
            summary=_s(run.get("display_title")) or "",
            commit=_short_sha(run.get("head_sha")),
            branch=_s(run.get("head_branch")),
            url=_s(run.get("html_url")),
            run_id=_s(run.get("id")),
            occurred_at=_s(run.get("updated_at")),
            data={
                "workflow": run.get("name"),
                "attempt": run.get("run_attempt"),
                "trigger": run.get("event"),
            },
        )
    if name == "check_run":
        run = p["check_run"]
        conclusion = run.get("conclusion")
        output = run.get("output") or {}
        suite = run.get("check_suite") or {}
        return Event(
            **common,
            type=_GH_CONCLUSION.get(conclusion or "", "ci.running"),
            status=_s(conclusion or run.get("status")),
            title=f"check {run.get('name')!s} {conclusion or run.get('status')}",
            summary=_s(output.get("summary")) or _s(output.get("title")) or "",
            commit=_short_sha(run.get("head_sha")),
            branch=_s(suite.get("head_branch")),
            url=_s(run.get("html_url") or run.get("details_url")),
            run_id=_s(run.get("id")),
            occurred_at=_s(run.get("completed_at") or run.get("started_at")),
            data={"check": run.get("name"), "app": (run.get("app") or {}).get("slug")},
        )
    if name == "deployment":
        dep = p["deployment"]
        payload = dep.get("payload") if isinstance(dep.get("payload"), dict) else {}
        version = payload.get("version") or dep.get("ref") or dep.get("sha")
        return Event(
            **{**common, "service": payload.get("service") or common["service"]},
            type="deploy.requested",
            status="requested",
            title=f"deployment of {version} to {dep.get('environment')} requested",
            summary=_s(dep.get("description")) or "",
            env=_s(dep.get("environment")),
            version=_s(version),
            commit=_short_sha(dep.get("sha")),
            branch=_s(dep.get("ref")),
            url=_s(dep.get("url")),
            run_id=_s(dep.get("id")),
            occurred_at=_s(dep.get("created_at")),
            data={
                "task": dep.get("task"),
                "strategy": payload.get("strategy"),
                "by": (dep.get("creator") or {}).get("login"),
            },
        )
    if name == "deployment_status":
        st = p["deployment_status"]
        dep = p.get("deployment") or {}
        payload = dep.get("payload") if isinstance(dep.get("payload"), dict) else {}
        state = st.get("state")
        version = payload.get("version") or dep.get("ref") or dep.get("sha")
        return Event(
            **{**common, "service": payload.get("service") or common["service"]},
            type=_GH_DEPLOY_STATE.get(state or "", "deploy.running"),
            status=_s(state),
            title=f"deployment of {version} to {st.get('environment') or dep.get('environment')}: {state}",
            summary=_s(st.get("description")) or "",
            env=_s(st.get("environment") or dep.get("environment")),
            version=_s(version),
            commit=_short_sha(dep.get("sha")),
            url=_s(st.get("target_url") or st.get("log_url")),
            run_id=_s(dep.get("id")),
            occurred_at=_s(st.get("created_at")),
        )
    if name == "push":
        commits = p.get("commits") or []
        head = p.get("head_commit") or (commits[-1] if commits else {}) or {}
        ref = str(p.get("ref") or "")
        branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None
        tag = ref.removeprefix("refs/tags/") if ref.startswith("refs/tags/") else None
        message = str(head.get("message") or "").splitlines()[0] if head else ""
        return Event(
            **common,
            type="push",
            status="forced" if p.get("forced") else "pushed",
            title=f"{len(commits)} commit(s) pushed to {branch or tag or ref}",
            summary=message,
            commit=_short_sha(p.get("after")),
            branch=branch,
            version=tag,
            url=_s(p.get("compare")),
            occurred_at=_s(head.get("timestamp")) if head else None,
            data={
                "pusher": (p.get("pusher") or {}).get("name"),
                "messages": [
                    str(c.get("message", "")).splitlines()[0] for c in commits[:20] if c.get("message")
                ],
            },
        )
    raise InputError(
        f"GitHub event {name!r} is not handled",
        hint="handled: workflow_run, check_run, deployment, deployment_status, push",
    )


# ----------------------------------------------------------------------------- GitLab

_GL_PIPELINE = {
    "success": "ci.succeeded",
    "failed": "ci.failed",
    "canceled": "ci.failed",
    "skipped": "ci.succeeded",
}
_GL_DEPLOY = {
    "success": "deploy.succeeded",
    "failed": "deploy.failed",
    "canceled": "deploy.failed",
    "running": "deploy.running",
    "created": "deploy.running",
}


def _gitlab(p: dict, h: dict[str, str]) -> Event:
    kind = p.get("object_kind")
    full, short = _repo_name(p.get("project"))
    delivery = (
        h.get("x-gitlab-event-uuid") or h.get("idempotency-key") or h.get("x-gitlab-webhook-uuid") or ""
    )
    if kind == "pipeline":
        attrs = p["object_attributes"]
        status = attrs.get("status")
        failed = [
            {"name": b.get("name"), "stage": b.get("stage"), "failure_reason": b.get("failure_reason")}
            for b in p.get("builds") or []
            if b.get("status") == "failed"
        ]
        commit = p.get("commit") or {}
        return Event(
            id=delivery,
            source="gitlab",
            raw_type="Pipeline Hook",
            type=_GL_PIPELINE.get(status or "", "ci.running"),
            status=_s(status),
            title=f"pipeline #{attrs.get('id')} {status} on {attrs.get('ref')}",
            summary=str(commit.get("message") or "").splitlines()[0] if commit.get("message") else "",
            repo=full,
            service=short,
            commit=_short_sha(attrs.get("sha")),
            branch=None if attrs.get("tag") else _s(attrs.get("ref")),
            version=_s(attrs.get("ref")) if attrs.get("tag") else None,
            url=_s(attrs.get("url")),
            run_id=_s(attrs.get("id")),
            occurred_at=_s(attrs.get("finished_at") or attrs.get("created_at")),
            data={"failed_jobs": failed, "source": attrs.get("source")},
        )
    if kind == "deployment":
        status = p.get("status")
        env = p.get("environment")
        return Event(
            id=delivery,
            source="gitlab",
            raw_type="Deployment Hook",
            type=_GL_DEPLOY.get(status or "", "deploy.running"),
            status=_s(status),
            title=f"deployment {p.get('deployment_id')} to {env}: {status}",
            summary=_s(p.get("commit_title")) or "",
            repo=full,
            service=short,
            env=_s(env),
            version=_s(p.get("short_sha")),
            commit=_s(p.get("short_sha")),
            branch=_s(p.get("ref")),
            url=_s(p.get("deployable_url") or p.get("environment_external_url")),
            run_id=_s(p.get("deployment_id")),
            occurred_at=_s(p.get("status_changed_at")),
            data={"tier": p.get("environment_tier"), "by": (p.get("user") or {}).get("username")},
        )
    raise InputError(f"GitLab event {kind!r} is not handled", hint="handled: Pipeline Hook, Deployment Hook")


# ----------------------------------------------------------------------------- Alertmanager


def _alertmanager(p: dict, h: dict[str, str]) -> Event:
    version = str(p.get("version", ""))
    if version != "4":
        raise InputError(f"Alertmanager webhook version {version!r} is not supported (version 4 is)")
    alerts = p["alerts"]
    common = p.get("commonLabels") or {}
    annotations = p.get("commonAnnotations") or {}
    firing = [a for a in alerts if a.get("status") == "firing"]
    first = (firing or alerts or [{}])[0]
    labels = {**(first.get("labels") or {}), **common}
    ann = {**(first.get("annotations") or {}), **annotations}
    status = p.get("status") or first.get("status")
    service = labels.get("service") or labels.get("app") or labels.get("job")
    env = labels.get("env") or labels.get("environment")
    name = labels.get("alertname", "alert")
    # Alertmanager has no delivery id: a re-sent notification of the same group state hashes the same.
    key = json.dumps(
        [
            p.get("groupKey"),
            status,
            sorted((a.get("fingerprint") or "", a.get("startsAt") or "") for a in alerts),
        ]
    )
    return Event(
        id=body_hash(key),
        source="alertmanager",
        raw_type="alertmanager.v4",
        type="alert.firing" if status == "firing" else "alert.resolved",
        status=_s(status),
        title=f"{name}: {ann.get('summary') or status}",
        summary=str(ann.get("description") or ann.get("summary") or ""),
        service=_s(service),
        env=_s(env),
        severity=_s(labels.get("severity")),
        url=_s(ann.get("runbook_url") or first.get("generatorURL") or p.get("externalURL")),
        occurred_at=_s(first.get("startsAt")),
        labels={str(k): str(v) for k, v in labels.items()},
        data={
            "alerts": len(alerts),
            "firing": len(firing),
            "receiver": p.get("receiver"),
            "group_key": p.get("groupKey"),
            "fingerprints": [a.get("fingerprint") for a in alerts],
        },
    )


# ----------------------------------------------------------------------------- PagerDuty v3


def _pagerduty(p: dict, h: dict[str, str]) -> Event:
    ev = p["event"]
    etype = str(ev["event_type"])
    if ev["resource_type"] != "incident":
        raise InputError(f"PagerDuty {ev['resource_type']} events are not handled (incident events are)")
    data = ev.get("data") or {}
    verb = etype.split(".", 1)[1] if "." in etype else etype
    mapped = {
        "triggered": "incident.triggered",
        "reopened": "incident.triggered",
        "acknowledged": "incident.acknowledged",
        "resolved": "incident.resolved",
    }.get(verb, "incident.updated")
    service = (data.get("service") or {}).get("summary")
    priority = (data.get("priority") or {}).get("summary")
    urgency = data.get("urgency")
    return Event(
        id=_s(ev.get("id")) or h.get("x-webhook-id") or "",
        source="pagerduty",
        raw_type=etype,
        type=mapped,
        action=verb,
        status=_s(data.get("status")),
        title=str(data.get("title") or etype),
        summary=str(data.get("title") or ""),
        service=_s(service),
        severity=_s(priority or urgency),
        url=_s(data.get("html_url")),
        run_id=_s(data.get("id")),
        occurred_at=_s(ev.get("occurred_at")),
        data={
            "incident_number": data.get("number"),
            "urgency": urgency,
            "incident_key": data.get("incident_key"),
            "by": (ev.get("agent") or {}).get("summary"),
        },
    )


# ----------------------------------------------------------------------------- generic


def _generic(p: dict, h: dict[str, str]) -> Event:
    raw = str(p.get("type") or ("request" if p.get("text") else ""))
    if not raw:
        raise InputError('a generic event needs a "type" (alert, deploy, ci.failed, request ...)')
    etype = _GENERIC_ALIASES.get(raw, raw)
    if etype not in EVENT_TYPES:
        raise InputError(f"unknown generic event type {raw!r}", hint="one of: " + ", ".join(EVENT_TYPES))
    labels = p.get("labels") if isinstance(p.get("labels"), dict) else {}
    title = p.get("title") or p.get("summary") or p.get("text") or etype
    return Event(
        id=_s(p.get("id")) or h.get("x-delivery-id") or h.get("idempotency-key") or "",
        source="generic",
        raw_type=raw,
        type=etype,
        status=_s(p.get("status")),
        title=str(title),
        summary=str(p.get("summary") or ""),
        service=_s(p.get("service")),
        env=_s(p.get("env") or p.get("environment")),
        version=_s(p.get("version")),
        commit=_s(p.get("commit")),
        branch=_s(p.get("branch")),
        repo=_s(p.get("repo")),
        url=_s(p.get("url")),
        severity=_s(p.get("severity")),
        run_id=_s(p.get("run_id")),
        occurred_at=_s(p.get("occurred_at")),
        text=_s(p.get("text")),
        labels={str(k): str(v) for k, v in labels.items()},
        data={k: p[k] for k in ("strategy", "steps", "path", "plan", "query") if k in p},
    )


# Fields each source sends as JSON objects; naming the one that is not lets a sender fix it
# (an HTTP 400 body must say what is wrong, not echo a Python error).
_OBJECT_FIELDS = {
    "github": (
        "workflow_run",
        "workflow_job",
        "deployment",
        "deployment_status",
        "repository",
        "sender",
        "head_commit",
        "pull_request",
        "check_run",
        "check_suite",
    ),
    "gitlab": ("object_attributes", "project", "user", "commit", "environment", "builds"),
    "alertmanager": ("alerts", "commonLabels", "commonAnnotations", "groupLabels"),
    "pagerduty": ("event", "data", "service"),
    "generic": ("labels", "data"),
}


def _shape_problem(src: str, payload: Any, exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"the field {exc.args[0]!r} is missing"
    wrong = [
        f"{name!r} ({type(payload[name]).__name__.replace('str', 'text')})"
        for name in _OBJECT_FIELDS.get(src, ())
        if isinstance(payload, dict) and name in payload and not isinstance(payload[name], dict | list)
    ]
    if wrong:
        return "expected an object in " + ", ".join(wrong)
    return "a field has the wrong type (an object or a list where a plain value was sent, or the reverse)"
