"""Which tool node handles a request or an event, decided without an LLM.

Free text is matched against ordered intent rules (the first rule with the highest score wins, so
"roll back api in prod" is a deploy/rollback and not an incident); parameters (service, env,
version, strategy, path) are pulled out with small patterns. Events route by their normalised type.
With an API key configured, ``skill.agent.llm.route`` is asked first and this is the fallback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from skill.agent.state import NODES
from skill.environments import PROSE_WORDS, normalize

# Environment words in free text map through the one vocabulary the gate uses (qa is staging).
ENV_WORDS = {word: normalize(word) for word in PROSE_WORDS}


@dataclass
class Route:
    node: str
    params: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    by: str = "rules"

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "params": self.params, "reason": self.reason, "by": self.by}


# (node, op, weight, pattern). Weights break ties between nodes that both match.
_RULES: list[tuple[str, str, int, re.Pattern[str]]] = [
    (node, op, weight, re.compile(pattern, re.I))
    for node, op, weight, pattern in [
        ("deploy", "rollback", 6, r"\b(roll ?back|revert (the )?deploy|undo (the )?(release|deploy))"),
        ("deploy", "flag", 6, r"\b(feature[- ]?flag|flag)\b.*\b(on|off|enable|disable|toggle)\b|\btoggle\b"),
        ("deploy", "deploy", 5, r"\b(deploy|release|ship|roll ?out|promote|canary|blue[- ]green)\b"),
        ("incident", "postmortem", 6, r"\b(post[- ]?mortem|retro(spective)?|rca)\b"),
        (
            "incident",
            "triage",
            4,
            r"\b(alert|incident|outage|down|paged|pager|5\d\d|error rate|latency|slow|timeouts?|crash(ing|loop)?|oom|sev[1-4]|on[- ]?call)\b",
        ),
        ("iac", "review", 5, r"\b(terraform|tofu|opentofu|iac|infra(structure)?|tfplan|plan\.json|hcl)\b"),
        (
            "ci",
            "triage",
            4,
            r"\b(ci|pipeline|workflow|build|github actions|gitlab ci|job|tests? (are )?fail\w*|flaky)\b",
        ),
        ("ci", "audit", 6, r"\b(audit|lint|harden)\b.*\b(workflows?|pipelines?|actions)\b"),
        ("ci", "status", 5, r"\b(pipeline|ci|build) status\b|\bstatus of (the )?(pipeline|ci|build)s?\b"),
        (
            "readiness",
            "review",
            5,
            r"\b(ready|readiness|production[- ]ready|go/no[- ]go|go[- ]no[- ]go|checklist|maturity)\b",
        ),
        ("memory", "remember", 6, r"^\s*(remember|note|record)\b"),
        (
            "memory",
            "recall",
            3,
            r"\b(recall|what happened|history|last (good )?(deploy|version|release)|when did|previous(ly)?)\b",
        ),
    ]
]

_VERSION = re.compile(r"\b(v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?|[0-9a-f]{7,40})\b")
# "deploy api latest to prod": whatever stands where the version goes is the version, so the deploy
# node can refuse a mutable tag by name instead of asking for a version.
_VERSION_SLOT = re.compile(
    r"\b(?:deploy|release|ship|promote)\s+[A-Za-z][\w.-]*\s+(?:version\s+)?([\w.+/-]+)\s+(?:to|in|on|into)\b",
    re.I,
)
_SERVICE = re.compile(r"(?:--service[= ]|(?<![\w-])(?:service|svc)\s*[=:]\s*)([A-Za-z0-9][\w.-]*)", re.I)
_SERVICE_VERB = re.compile(
    r"\b(?:deploy|release|ship|promote|roll ?back|revert|rollout|restart|scale)\s+(?!to\b|the\b|version\b)([a-z][\w.-]*)",
    re.I,
)
# "the checkout service", "checkout is down", "api 5xx error rate", "errors in payments": the service
# named as a noun, as the subject of a symptom, or after of/for/in/on/from. Tried after the explicit
# and the verb forms, and every candidate must not be a common word (_NOT_SERVICES).
_SERVICE_NOUN = re.compile(r"\b([a-z][\w.-]*)\s+(?:service|svc|app|microservice)\b", re.I)
_SERVICE_SUBJECT = re.compile(
    r"^\s*(?:(?:the|our|my)\s+)?([a-z][\w.-]*)(?:'s)?\s+(?:is|are|was|has|had|keeps?|returns?|returning|"
    r"throws?|throwing|serves?|serving|fails?|failing|failed|crash\w*|times?\s+out|timing\s+out|"
    r"errors?|erroring|5\d\d|5xx|4xx|latency|p\d\d|down|slow|oom\w*|restart\w*|pods?|deploy\w*|"
    r"release\w*|rollout|health\w*|can't|cannot|won't|doesn't|isn't)\b",
    re.I,
)
_SERVICE_PREP = re.compile(r"\b(?:of|for|in|on|from|to)\s+(?:the\s+)?([a-z][\w.-]*)(?![\w./-])", re.I)
_ENV = re.compile(
    r"(?:--env[= ]|\benv(?:ironment)?[= :]+|\bto\s+|\bin\s+|\bon\s+)?\b(" + "|".join(ENV_WORDS) + r")\b", re.I
)
_STRATEGY = re.compile(r"\b(canary|blue[- ]green|rolling)\b", re.I)
_STEPS = re.compile(r"\bsteps?[= ]+(\d+(?:\s*,\s*\d+)+)", re.I)
_PATH = re.compile(
    r"(?:^|\s)((?:\.{0,2}/|~/)[\w./-]+|[\w.-]+/[\w./-]+|[\w-]+\.(?:json|tfplan|ya?ml|tf))(?=\s|$|[,;])"
)
_FLAG = re.compile(r"\bflag\s+([A-Za-z0-9_.-]+)|\b([A-Za-z0-9_.-]+)\s+flag\b", re.I)
_ONOFF = re.compile(r"\b(on|off|enable|disable)d?\b", re.I)
_NOT_SERVICES = set(
    """to the a an it its this that these those there here everything something nothing all me us we
    i you they he she who what why how when where which hello hi hey please can could would should
    version versions production prod staging flag flags feature features main master develop trunk
    branch branches ci cd pipeline pipelines build builds workflow workflows job jobs test tests
    deploy deploys deployment deployments release releases rollout rollback change changes plan
    plans terraform tofu infra infrastructure incident incidents alert alerts outage outages error
    errors latency traffic users customers logs log site website cluster pod pods node nodes
    last good previous history service services app apps system systems request requests run runs
    yesterday today tonight morning week now high low elevated increased big huge many lots some no
    new old our my your their every each""".split()
)
_INCIDENT_ID = re.compile(r"^(?:inc|incident|pd|sev)-?\d+$", re.I)


def _service_from(text: str) -> str | None:
    """The service a free-text request is about, or None. The first form that names one wins."""
    m = _SERVICE.search(text)
    if m:
        return m.group(1)
    for pattern in (_SERVICE_VERB, _SERVICE_NOUN, _SERVICE_SUBJECT, _SERVICE_PREP):
        for m in pattern.finditer(text):
            word = m.group(1)
            lowered = word.lower().rstrip(".")
            if lowered in _NOT_SERVICES or lowered in ENV_WORDS or _INCIDENT_ID.match(word):
                continue
            if _VERSION.fullmatch(word):
                continue
            return word.rstrip(".")
    return None


def extract_params(text: str) -> dict[str, Any]:
    """Service, env, version, strategy, steps, path and flag settings found in free text."""
    params: dict[str, Any] = {}
    if service := _service_from(text):
        params["service"] = service
    if m := _ENV.search(text):
        params["env"] = ENV_WORDS[m.group(1).lower()]
    if m := _VERSION.search(text):
        params["version"] = m.group(1)
    elif m := _VERSION_SLOT.search(text):
        params["version"] = m.group(1)
    if m := _STRATEGY.search(text):
        params["strategy"] = m.group(1).lower().replace(" ", "-")
    if m := _STEPS.search(text):
        params["steps"] = [int(s) for s in re.split(r"\s*,\s*", m.group(1))]
    if m := _PATH.search(text):
        params["path"] = m.group(1)
    if m := _FLAG.search(text):
        name = m.group(1) or m.group(2)
        if name.lower() not in {"feature", "the", "a"}:
            params["flag"] = name
    if (m := _ONOFF.search(text)) and "flag" in params:
        params["state"] = "on" if m.group(1).lower() in {"on", "enable"} else "off"
    return params


def route_text(text: str) -> Route:
    """The tool node for a free-text request; ``memory``/recall when nothing matches."""
    best: tuple[int, int, str, str] | None = None  # (score, -order, node, op)
    for order, (node, op, weight, pattern) in enumerate(_RULES):
        if pattern.search(text):
            key = (weight, -order, node, op)
            if best is None or key > best:
                best = key
    params = extract_params(text)
    if best is None:
        return Route(
            "memory", {**params, "op": "recall", "query": text}, "no intent matched: recall from memory"
        )
    _, _, node, op = best
    params["op"] = op
    if node in {"memory", "incident"}:
        params.setdefault("query", text)
    return Route(node, params, f"intent rule {node}/{op}")


# event type -> (node, op)
_EVENT_ROUTES: dict[str, tuple[str, str]] = {
    "ci.failed": ("ci", "triage"),
    "ci.succeeded": ("memory", "record_ci"),
    "ci.running": ("memory", "record_ci"),
    "deploy.requested": ("deploy", "deploy"),
    "deploy.succeeded": ("memory", "record_deployment"),
    "deploy.running": ("memory", "record_deployment"),
    "deploy.failed": ("incident", "triage"),
    "push": ("memory", "record_change"),
    "alert.firing": ("incident", "triage"),
    "incident.triggered": ("incident", "triage"),
    "incident.acknowledged": ("memory", "note"),
    "incident.updated": ("memory", "note"),
    "alert.resolved": ("memory", "resolve"),
    "incident.resolved": ("memory", "resolve"),
}


def route_event(event: dict[str, Any]) -> Route:
    """The tool node for a normalised event (``Event.model_dump()``)."""
    etype = event.get("type", "")
    if etype == "request":
        route = route_text(event.get("text") or event.get("title") or "")
        route.reason = f"request event: {route.reason}"
        return route
    node, op = _EVENT_ROUTES.get(etype, ("memory", "note"))
    params: dict[str, Any] = {"op": op}
    for key in ("service", "env", "version", "commit", "branch", "run_id", "severity", "repo"):
        if event.get(key):
            params[key] = event[key]
    data = event.get("data") or {}
    for key in ("strategy", "steps", "path", "plan"):
        if data.get(key):
            params[key] = data[key]
    if node == "incident":
        params["query"] = " ".join(x for x in (event.get("title"), event.get("summary")) if x)
    return Route(node, params, f"event {etype} -> {node}/{op}")


assert all(node in NODES for node, *_ in _RULES)
