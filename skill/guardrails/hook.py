"""Claude Code PreToolUse hook: ``guardrails.py hook`` with the tool call as JSON on stdin.

Contract (code.claude.com/docs/en/hooks): exit 0 with no output = no opinion (Claude Code's own
permission rules apply); exit 0 with ``{"hookSpecificOutput": {"hookEventName": "PreToolUse",
"permissionDecision": "allow|ask|deny", "permissionDecisionReason": ...}}`` = a decision;
exit 2 = blocked, stderr goes to Claude. Any other exit code would let the call proceed, so
every failure here (malformed JSON, wrong shape, internal error) ends in exit 2: fail closed.

- Bash: the command is checked like ``check --command`` (cwd from the hook input).
- Read/Grep/Glob: reading secret material is asked; the gate's own keys are denied.
- Write/Edit/MultiEdit/NotebookEdit: secret files (.env, keys, ~/.ssh, cloud credentials,
  kubeconfig) and the gate's own files are protected.
- T1/T2: silent (or "allow" with ``[settings] hook_emit_allow = true``); T3: ask; T4: deny with
  the reason and the exact approve command; deny rules: deny, no approval path.
"""

from __future__ import annotations

import sys

FILE_TOOLS = {
    "Write": "file_path",
    "Edit": "file_path",
    "MultiEdit": "file_path",
    "NotebookEdit": "notebook_path",
}
# Tools that read files: the path (or glob) keys of their input. Secret material is asked.
READ_TOOLS = {
    "Read": ("file_path",),
    "Grep": ("path", "glob"),
    "Glob": ("pattern", "path"),
}
MAX_INPUT = 4 * 1024 * 1024


class HookInputError(Exception):
    pass


def _unique_keys(pairs: list) -> dict:
    # Parsers disagree on repeated keys (first wins or last wins): the gate could check one
    # command while Claude Code runs the other, so a repeated key is malformed input.
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("a key is repeated in one object")
    return out


class _ScanContext:
    """The attributes ``_json.make_scanner`` reads from a JSONDecoder."""

    strict = True
    object_hook = None
    object_pairs_hook = staticmethod(_unique_keys)
    parse_float = float
    parse_int = int
    memo: dict = {}

    @staticmethod
    def parse_constant(name):
        raise ValueError(f"{name} is not JSON")


def _loads(text: str):
    """json.loads through the same C scanner, without importing the json package.

    ``import json`` pulls in ``re`` (json.decoder's patterns): ~4 ms of a ~20 ms hook. The C
    scanner is what json.loads itself runs; anything unusual (whitespace inside the document is
    fine, but errors, trailing data or a missing C module) is handed to json.loads, which
    raises the proper error or gives the same result.
    """
    try:
        import _json

        body = text.strip(" \t\n\r")
        value, end = _json.make_scanner(_ScanContext())(body, 0)
        if end == len(body):
            return value
    except Exception:  # noqa: BLE001 - every failure is re-judged by json.loads below
        pass
    import json

    return json.loads(text, object_pairs_hook=_unique_keys)


def parse_input(raw: bytes) -> dict:

    if len(raw) > MAX_INPUT:
        raise HookInputError(f"hook input is {len(raw):,} bytes, over the {MAX_INPUT:,} limit")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HookInputError(f"hook input is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    if not text.strip():
        raise HookInputError("no hook input on stdin (expected the PreToolUse JSON)")
    try:
        data = _loads(text)
    except (ValueError, RecursionError) as exc:
        raise HookInputError(f"hook input is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise HookInputError("hook input must be a JSON object")
    if not isinstance(data.get("tool_name"), str):
        raise HookInputError("hook input has no tool_name")
    tool_input = data.get("tool_input")
    if not isinstance(tool_input, dict):
        raise HookInputError("hook input has no tool_input object")
    return data


def decide(data: dict):
    """The Decision for a hook payload, or None when the gate has no opinion on this tool."""
    from skill.guardrails import engine

    tool = data["tool_name"]
    tool_input = data["tool_input"]
    cwd = data.get("cwd") if isinstance(data.get("cwd"), str) else None
    session = data.get("session_id") if isinstance(data.get("session_id"), str) else None
    caller = "claude-code" + (f"/{session[:36]}" if session else "")
    if tool == "Bash":
        command = tool_input.get("command")
        if not isinstance(command, str) or not command.strip():
            raise HookInputError("Bash tool_input has no command string")
        return engine.check_command(command, cwd=cwd, caller=caller)
    keys = READ_TOOLS.get(tool)
    if keys is not None:
        return _read_decision(tool, tool_input, keys, cwd, caller)
    key = FILE_TOOLS.get(tool)
    if key is not None:
        path = tool_input.get(key)
        if not isinstance(path, str) or not path:
            raise HookInputError(f"{tool} tool_input has no {key}")
        return engine.check_file_write(path, tool=tool, cwd=cwd, caller=caller)
    return None


def _read_decision(tool: str, tool_input: dict, keys: tuple[str, ...], cwd, caller):
    """Judge the strictest of the paths a Read/Grep/Glob call names (none named: no opinion)."""
    from skill.guardrails import engine
    from skill.guardrails.secret_material import read_verdict

    paths = [tool_input[k] for k in keys if isinstance(tool_input.get(k), str) and tool_input[k]]
    if tool == "Read" and not paths:
        raise HookInputError("Read tool_input has no file_path")
    base = tool_input.get("path")
    if isinstance(base, str) and base and tool in ("Grep", "Glob"):
        # a relative glob is matched under `path`: judge the joined pattern too (`~/.ssh` + `id_*`)
        for k in ("glob", "pattern"):
            value = tool_input.get(k)
            if k in keys and isinstance(value, str) and value and not value.startswith(("/", "~")):
                paths.append(base.rstrip("/") + "/" + value)
    if not paths:
        return None

    def rank(path: str) -> tuple[bool, int]:
        tier, _, _, deny = read_verdict(path, cwd)
        return deny, tier

    return engine.check_file_read(max(paths, key=rank), tool=tool, cwd=cwd, caller=caller)


def render(decision, *, emit_allow: bool = False) -> str | None:
    """The JSON Claude Code reads, or None for "no opinion"."""
    from skill.guardrails.engine import approve_hint

    if decision is None:
        return None
    reasons = _redacted("; ".join(decision.reasons[:6])) or f"T{decision.tier}"
    if decision.decision == "allow":
        if decision.approval_used:
            verdict, reason = "allow", f"guardrails: approved once ({decision.approval_used}): {reasons}"
        elif emit_allow:
            verdict, reason = "allow", f"guardrails: T{decision.tier}: {reasons}"
        else:
            return None
    elif decision.decision == "ask":
        verdict = "ask"
        reason = f"guardrails T{decision.tier} (needs a human): {reasons} [request {decision.request_id}]"
    else:
        verdict = "deny"
        reason = f"guardrails blocked this (T{decision.tier}): {reasons}."
        hint = approve_hint(decision)
        if hint:
            reason += f" {hint} Do not try to work around this block; ask the user."
    return _dumps(
        {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": verdict,
                "permissionDecisionReason": reason[:9000],
            }
        }
    )


def _dumps(obj: dict) -> str:
    """json.dumps(obj, ensure_ascii=False) for nested dicts of strings, without importing json."""
    try:
        from _json import encode_basestring
    except ImportError:
        import json

        return json.dumps(obj, ensure_ascii=False)
    items = []
    for key, value in obj.items():
        text = _dumps(value) if isinstance(value, dict) else encode_basestring(value)
        items.append(f"{encode_basestring(key)}: {text}")
    return "{" + ", ".join(items) + "}"


def _redacted(text: str) -> str:
    from skill.guardrails.audit import redact_text

    return redact_text(text) or ""


def _emit_allow(data: dict) -> bool:
    try:
        from skill.guardrails.engine import last_policy

        cwd = data.get("cwd") if isinstance(data.get("cwd"), str) else None
        return bool(last_policy(cwd).settings.get("hook_emit_allow"))
    except Exception:
        return False


def main() -> int:
    try:
        raw = sys.stdin.buffer.read(MAX_INPUT + 1)
        data = parse_input(raw)
        decision = decide(data)
        emit_allow = False
        if decision is not None and decision.decision == "allow" and not decision.approval_used:
            emit_allow = _emit_allow(data)
        text = render(decision, emit_allow=emit_allow)
        if text is not None:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
        return 0
    except HookInputError as exc:
        sys.stderr.write(f"guardrails hook: blocked: {exc}\n")
        return 2
    except BaseException as exc:  # noqa: BLE001 - any failure blocks the tool call
        sys.stderr.write(
            f"guardrails hook: internal error, blocking: {type(exc).__name__}: {str(exc)[:300]}\n"
        )
        return 2
