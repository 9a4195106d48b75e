"""The optional Claude client: routes free text (tool use over the node list) and writes summaries.

Only active when a credential is set (``ANTHROPIC_API_KEY`` or ``ANTHROPIC_AUTH_TOKEN``) and
``[llm] enabled`` is not false. The anthropic SDK is imported inside the calls (2 s of imports).
Everything sent is redacted with skill.redact first. Any failure (timeout, rate limit, 5xx/529,
bad credentials, a malformed answer) returns ``None`` plus a one-line notice, and the caller
takes the deterministic path: the LLM can improve an answer, never break one.

Prompts are files in ``prompts/`` (or ``.devops/prompts/`` in a project, which wins) with
``{{name}}`` variables. A line ``<!-- user -->`` splits a prompt into the system part (above)
and the user message (below); without it the whole file is the user message.

Config (``[llm]`` in config.toml) and environment:
    model        $DEVOPS_LLM_MODEL or [llm] model (default claude-sonnet-4-5)
    base_url     $ANTHROPIC_BASE_URL or [llm] base_url
    timeout      [llm] timeout seconds (default 30)
    max_retries  [llm] max_retries (default 1)
    max_tokens   [llm] max_tokens (default 1024)
    enabled      [llm] enabled (default true); $DEVOPS_LLM=off switches it off
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from skill.config import load_settings
from skill.errors import ConfigError
from skill.paths import project_config_dir
from skill.redact import redact

DEFAULTS: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "base_url": "",
    "timeout": 30.0,
    "max_retries": 1,
    "max_tokens": 1024,
    "enabled": True,
}
_VAR = re.compile(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")
USER_SPLIT = "<!-- user -->"


class LLMUnavailable(Exception):
    """The LLM could not answer; ``str(exc)`` is the one-line reason."""


def settings() -> dict[str, Any]:
    return load_settings("llm", DEFAULTS)


def enabled() -> bool:
    if os.environ.get("DEVOPS_LLM", "").lower() in {"off", "0", "false", "no"}:
        return False
    if not (os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_AUTH_TOKEN")):
        return False
    try:
        return bool(settings().get("enabled", True))
    except ConfigError:
        return False


def model() -> str:
    return os.environ.get("DEVOPS_LLM_MODEL") or str(settings().get("model") or DEFAULTS["model"])


# ----------------------------------------------------------------------------- prompts


def prompt_dirs() -> list[Path]:
    dirs = []
    project = project_config_dir()
    if project:
        dirs.append(Path(project) / "prompts")
    package = Path(__file__).resolve().parent.parent  # skill/
    dirs += [package.parent / "prompts", package / "_prompts"]
    return dirs


def prompt_path(name: str) -> Path:
    for d in prompt_dirs():
        candidate = d / f"{name}.md"
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"prompt {name!r} not found", hint="looked in " + ", ".join(str(d) for d in prompt_dirs())
    )


def render_prompt(name: str, **variables: Any) -> tuple[str | None, str]:
    """(system, user) text of prompt ``name`` with its ``{{variables}}`` filled in (and redacted)."""
    text = prompt_path(name).read_text(encoding="utf-8")
    missing = sorted({m for m in _VAR.findall(text) if m not in variables})
    if missing:
        raise ConfigError(f"prompt {name!r} needs variables: {', '.join(missing)}")

    def value(m: re.Match[str]) -> str:
        v = variables[m.group(1)]
        return v if isinstance(v, str) else json.dumps(v, indent=2, default=str)

    filled = redact(_VAR.sub(value, text))
    if USER_SPLIT in filled:
        system, user = filled.split(USER_SPLIT, 1)
        return system.strip() or None, user.strip()
    return None, filled.strip()


# ----------------------------------------------------------------------------- calls


def _client():
    import anthropic

    cfg = settings()
    kwargs: dict[str, Any] = {
        "timeout": float(cfg.get("timeout") or DEFAULTS["timeout"]),
        "max_retries": int(cfg.get("max_retries") if cfg.get("max_retries") is not None else 1),
    }
    if cfg.get("base_url") and not os.environ.get("ANTHROPIC_BASE_URL"):
        kwargs["base_url"] = cfg["base_url"]
    return anthropic.Anthropic(**kwargs)


def create(name: str, variables: dict[str, Any], **kwargs: Any) -> Any:
    """One Messages API call with prompt ``name``; raises LLMUnavailable with a one-line reason."""
    try:
        system, user = render_prompt(name, **variables)
    except ConfigError as exc:
        raise LLMUnavailable(str(exc)) from exc
    params: dict[str, Any] = {
        "model": model(),
        "max_tokens": int(settings().get("max_tokens") or DEFAULTS["max_tokens"]),
        "messages": [{"role": "user", "content": user}],
        **kwargs,
    }
    if system:
        params["system"] = system
    try:
        msg = _client().messages.create(**params)
    except Exception as exc:  # noqa: BLE001 - APIError, timeouts, auth TypeError: all mean "no LLM now"
        status = getattr(exc, "status_code", None)
        detail = f"{type(exc).__name__}" + (f" {status}" if status else "")
        message = str(exc).splitlines()[0][:120] if str(exc) else ""
        raise LLMUnavailable(f"{detail}: {message}" if message else detail) from exc
    # The SDK builds its response models without validating them: a 200 with a body that is not a
    # Message (a proxy's HTML page, a truncated answer) arrives as a str or a Message whose
    # content is None. Callers get a list of blocks or nothing.
    content = getattr(msg, "content", None)
    if not isinstance(content, list):
        raise LLMUnavailable(f"malformed response: no content blocks ({type(content).__name__})")
    return msg


def _notice(what: str, exc: Exception) -> str:
    return f"Claude unavailable for {what} ({exc}); used the deterministic path"


def ask(name: str, **variables: Any) -> tuple[str | None, str | None]:
    """Text answer of prompt ``name`` -> (text, None), or (None, notice) when it cannot answer."""
    try:
        msg = create(name, variables)
    except LLMUnavailable as exc:
        return None, _notice(name, exc)
    text = "".join(getattr(b, "text", "") for b in msg.content if getattr(b, "type", "") == "text").strip()
    if not text:
        return (
            None,
            f"Claude gave no text for {name} (stop_reason {msg.stop_reason}); used the deterministic path",
        )
    return text, None


def summarize(run: dict[str, Any]) -> tuple[str | None, str | None]:
    brief = {k: run.get(k) for k in ("node", "params", "status", "decision", "approval", "error", "notices")}
    brief["params"] = {k: v for k, v in (brief.get("params") or {}).items() if k != "event"}
    return ask("summarize", run=brief, report=run.get("report") or "")


# ----------------------------------------------------------------------------- routing

_STR = {"type": "string"}
ROUTE_TOOLS: dict[str, dict[str, Any]] = {
    "ci": {
        "description": "CI/CD pipelines: triage a failed run, show pipeline status, or audit workflow files.",
        "properties": {
            "op": {"type": "string", "enum": ["triage", "status", "audit"]},
            "run_id": _STR,
            "branch": _STR,
            "path": _STR,
        },
    },
    "iac": {
        "description": "Review a Terraform/OpenTofu plan (plan JSON or directory) for risky changes.",
        "properties": {"path": _STR, "env": _STR},
    },
    "deploy": {
        "description": "Deploy a service version, roll it back, or toggle a feature flag.",
        "properties": {
            "op": {"type": "string", "enum": ["deploy", "rollback", "flag"]},
            "service": _STR,
            "env": _STR,
            "version": _STR,
            "strategy": {"type": "string", "enum": ["rolling", "blue-green", "canary"]},
            "steps": {"type": "array", "items": {"type": "integer"}},
            "flag": _STR,
            "state": {"type": "string", "enum": ["on", "off"]},
        },
    },
    "readiness": {
        "description": "Production-readiness review (L1-L4, go/no-go) of a repository or service folder.",
        "properties": {"path": _STR, "env": _STR},
    },
    "incident": {
        "description": "Triage an alert or outage (severity, similar incidents, recent deploys), or draft a post-mortem.",
        "properties": {
            "op": {"type": "string", "enum": ["triage", "postmortem"]},
            "query": _STR,
            "service": _STR,
            "env": _STR,
            "severity": _STR,
            "incident": _STR,
        },
    },
    "memory": {
        "description": "Recall past deployments, incidents and notes, or remember a new note.",
        "properties": {
            "op": {"type": "string", "enum": ["recall", "remember"]},
            "query": _STR,
            "service": _STR,
            "env": _STR,
        },
    },
}
_DEFAULT_OP = {
    "ci": "triage",
    "iac": "review",
    "deploy": "deploy",
    "readiness": "review",
    "incident": "triage",
    "memory": "recall",
}


def route_tools(nodes: tuple[str, ...] | list[str]) -> list[dict[str, Any]]:
    return [
        {
            "name": f"route_{n}",
            "description": ROUTE_TOOLS[n]["description"],
            "input_schema": {"type": "object", "properties": ROUTE_TOOLS[n]["properties"]},
        }
        for n in nodes
        if n in ROUTE_TOOLS
    ]


def route(text: str, nodes: tuple[str, ...] | list[str]) -> tuple[Any, str | None]:
    """(Route, None) chosen by Claude through tool use, or (None, notice) to fall back to the rules."""
    from skill.agent.routing import Route, extract_params

    tools = route_tools(nodes)
    try:
        msg = create(
            "route",
            {"request": text, "nodes": ", ".join(nodes)},
            tools=tools,
            tool_choice={"type": "any"},
        )
    except LLMUnavailable as exc:
        return None, _notice("routing", exc)
    for block in msg.content:
        if getattr(block, "type", "") != "tool_use":
            continue
        name = str(getattr(block, "name", ""))
        node = name.removeprefix("route_")
        if node not in nodes:
            break
        raw = getattr(block, "input", None)
        if not isinstance(raw, dict):
            return None, f"Claude's {name} call had no argument object; used the intent rules"
        allowed = ROUTE_TOOLS[node]["properties"]
        params = {k: v for k, v in raw.items() if k in allowed and v not in (None, "", [])}
        op_enum = allowed.get("op", {}).get("enum")
        if op_enum and params.get("op") not in op_enum:
            params["op"] = _DEFAULT_OP[node]
        params.setdefault("op", _DEFAULT_OP[node])
        # What the rules can read from the text fills what Claude left out.
        for key, value in extract_params(text).items():
            if key in allowed:
                params.setdefault(key, value)
        if node in {"memory", "incident"}:
            params.setdefault("query", text)
        return Route(node, params, f"Claude chose {name}", by="llm"), None
    return (
        None,
        f"Claude did not pick a node (stop_reason {getattr(msg, 'stop_reason', '?')}); used the intent rules",
    )


def postmortem_refiner():
    """The refine hook of skill.nodes.incident.draft_postmortem, or None when no LLM is configured.

    The hook returns Claude's refinement of the draft, or the draft itself (with a one-line notice
    on stderr) when Claude cannot answer.
    """
    if not enabled():
        return None

    def refine(draft: str, values: dict[str, Any]) -> str:
        import sys

        text, notice = ask("refine_postmortem", draft=draft)
        if notice:
            print(f"notice: {notice}", file=sys.stderr)
        return text or draft

    return refine
