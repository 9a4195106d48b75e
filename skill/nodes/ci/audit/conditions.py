"""Rules over ``if:`` conditions and expression spelling: spoofable bot checks, conditions that are
always true, and expressions written to hide what they read.

``github.actor`` is whoever caused the latest event, not the author of the pull request: after a
bot opens a PR, anyone who can make the bot act again (a ``@dependabot rebase`` comment, a push the
bot rebases) runs the next event as the bot. ``if: ${{ a }} && ${{ b }}`` and a block scalar
``if: |`` ending in a newline are string interpolations, not expressions: a non-empty string is
true, so the step always runs.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from skill.nodes.ci.audit import expressions
from skill.nodes.ci.audit.expressions import Call, ExpressionError, Lit, Member, Name, Op
from skill.nodes.ci.audit.yamlpos import PDict, Pos

if TYPE_CHECKING:
    from skill.nodes.ci.audit.github import GitHubAudit

ACTOR_PATHS = {"github.actor", "github.triggering_actor", "github.event.sender.login"}
PRIVILEGED_EVENTS = ("pull_request_target", "workflow_run", "issue_comment")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")  # a hyphenated key reads naturally in brackets


def _path(node: object) -> str | None:
    refs = expressions.refs(node) if isinstance(node, Name | Member) else []
    return refs[0] if len(refs) == 1 else None


def _bot_checks(node: object) -> list[str]:
    """Literal bot names that ``node`` compares an actor context with."""
    out: list[str] = []
    if isinstance(node, Op) and node.op in ("==", "!="):
        left, right = node.args
        for ctx, lit in ((left, right), (right, left)):
            if (
                _path(ctx) in ACTOR_PATHS
                and isinstance(lit, Lit)
                and str(lit.value).lower().endswith("[bot]")
            ):
                out.append(str(lit.value))
    if isinstance(node, Call) and node.name in ("contains", "startswith", "endswith") and len(node.args) == 2:
        hay, needle = node.args
        if _path(hay) in ACTOR_PATHS and isinstance(needle, Lit) and "bot" in str(needle.value).lower():
            out.append(str(needle.value))
    for child in getattr(node, "args", ()):
        out.extend(_bot_checks(child))
    return out


def condition_body(value: str) -> str | None:
    """The expression an ``if:`` evaluates (GitHub adds the ``${{ }}`` when it is missing)."""
    m = re.fullmatch(r"\$\{\{(.*)\}\}", value.strip(), re.S)
    return m.group(1) if m else value


def unsound(value: str) -> bool:
    """True when ``if:`` is a string with ``${{ }}`` inside rather than one expression: always true."""
    if "${{" not in value:
        return False
    whole = value.startswith("${{") and value.endswith("}}") and value.count("${{") == 1
    return not whole


def check_if(audit: GitHubAudit, holder: PDict, jid: str | None) -> None:
    value = holder.get("if")
    if not isinstance(value, str):
        return
    pos = holder.vpos("if")
    if unsound(value):
        audit.add(
            "ci.unsound-condition",
            "if: is a string with ${{ }} inside (or a trailing newline), not one expression: "
            "a non-empty string is true, so this always runs",
            pos,
            jid,
        )
        return
    body = condition_body(value)
    try:
        tree = expressions.parse(body or "")
    except ExpressionError:
        return
    bots = _bot_checks(tree)
    if bots:
        privileged = [t for t in PRIVILEGED_EVENTS if t in audit.triggers]
        severity = "high" if privileged else ("medium" if "pull_request" in audit.triggers else "low")
        audit.add(
            "ci.bot-conditions",
            f"if: trusts the actor name '{bots[0]}': github.actor is whoever caused the latest event, "
            "which another user can make the bot be"
            + (f" (privileged {'/'.join(privileged)} workflow)" if privileged else ""),
            pos,
            jid,
            severity=severity,
        )


def _bracket_literal(node: object) -> str | None:
    """A context read through ``['name']`` where ``.name`` would do."""
    if isinstance(node, Member):
        if node.bracket and _IDENT.match(node.name) and node.name != "*":
            return node.name
        return _bracket_literal(node.obj)
    for child in getattr(node, "args", ()):
        found = _bracket_literal(child)
        if found:
            return found
    return None


def obfuscation(body: str) -> str | None:
    """Why an expression hides what it does, or None."""
    try:
        tree = expressions.parse(body)
    except ExpressionError:
        return None
    if expressions.constant(tree) and not isinstance(tree, Lit):
        return "a constant expression: write its value instead"
    name = _bracket_literal(tree)
    if name:
        return f"['{name}'] instead of .{name}: spell the context path plainly"
    return None


_USES_PATH = re.compile(r"(?:^|/)\.{1,2}(?:/|@|$)|//")


def check_uses_path(audit: GitHubAudit, uses: str, pos: Pos, jid: str | None) -> None:
    target = uses.split("@", 1)[0]
    if target.startswith(("./", "$/")):
        target = target[2:]
    if uses.startswith("docker://"):
        return
    if _USES_PATH.search(target + ("@" if "@" in uses else "")):
        audit.add(
            "ci.obfuscation",
            f"uses: {uses} has '.', '..' or empty path parts: name the action plainly",
            pos,
            jid,
        )


def scan_expressions(audit: GitHubAudit) -> None:
    """ci.obfuscation over every ${{ }} in the file, at its exact position."""
    if "${{" not in audit.ctx.text:
        return
    for number, line in enumerate(audit.ctx.lines, start=1):
        if "${{" not in line or line.lstrip().startswith("#"):
            continue
        for m in expressions.EXPR.finditer(line):
            why = obfuscation(m.group(1))
            if why:
                jid, _ = audit.job_at(number)
                audit.add("ci.obfuscation", f"{m.group(0).strip()}: {why}", (number, m.start() + 1), jid)


def walk_ifs(audit: GitHubAudit, spec: Any, jid: str) -> None:
    if isinstance(spec, PDict):
        check_if(audit, spec, jid)
        steps = spec.get("steps")
        if isinstance(steps, list):
            for step in steps:
                if isinstance(step, PDict):
                    check_if(audit, step, jid)
