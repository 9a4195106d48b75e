"""Which ``${{ }}`` expressions can carry attacker-controlled text into a script.

GitHub substitutes expressions into ``run:`` (and github-script's ``script:``) before the shell
or node sees them, so any free text an outsider controls becomes code. We flag the event fields
that hold such text (titles, bodies, branch names, commit messages, author names, labels ...),
``github.head_ref``, and free-text ``inputs``; identifiers, numbers, SHAs, logins and URLs are
safe because GitHub restricts their characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
_BRACKET = re.compile(r"\[\s*['\"]([A-Za-z0-9_\-]+)['\"]\s*\]")
_INDEX = re.compile(r"\[\s*(\*|\d+)\s*\]")
_EVENT_REF = re.compile(r"(?<![\w.])github\.event(?:\.[A-Za-z0-9_\-*]+)*")
_HEAD_REF = re.compile(r"(?<![\w.])github\.head_ref\b")
_ENV_REF = re.compile(r"(?<![\w.])env\.([A-Za-z_][A-Za-z0-9_]*)")
_INPUT_REF = re.compile(r"(?<![\w.])(?:github\.event\.)?inputs\.([A-Za-z0-9_\-]+)")
_STRINGS = re.compile(r"'(?:[^']|'')*'")
_BOOL_CALL = re.compile(
    r"\b(?:contains|startsWith|endsWith|success|failure|always|cancelled)\s*\([^()]*\)", re.I
)
_COMPARE = re.compile(r"==|!=|<=|>=|<|>")

# Last path segments whose values GitHub restricts to safe characters.
SAFE_FIELDS = {
    "sha", "id", "node_id", "number", "action", "merged", "draft", "state", "locked", "login",
    "additions", "deletions", "changed_files", "commits_count", "private", "fork", "size", "type",
    "site_admin", "url", "html_url", "api_url", "diff_url", "patch_url", "issue_url", "clone_url",
    "before", "after", "forced", "created", "deleted", "run_id", "run_number", "run_attempt",
    "head_sha", "base_sha", "merge_commit_sha", "default_branch", "full_name", "owner",
    "workflow_id", "check_suite_id", "installation", "ref_type", "visibility", "comments",
    "review_comments", "mergeable", "rebaseable", "author_association", "conclusion", "status",
    "event", "path", "repository_id", "stargazers_count", "forks_count", "open_issues_count",
}  # fmt: skip
SAFE_SUFFIXES = ("_at", "_id", "_count", "_sha")
# Fields that look safe by name but hold free text when they describe the PR head (a fork).
UNSAFE_UNDER_HEAD = {"default_branch", "full_name", "name", "path"}
# Whole-path exceptions: base branch and the base repository are controlled by maintainers.
SAFE_PATHS = {
    "github.event.ref",
    "github.event.pull_request.base.ref",
    "github.event.pull_request.base.label",
    "github.event.repository.name",
    "github.event.sender.login",
    "github.event.base_ref",
}


@dataclass
class Taint:
    expression: str  # the full ${{ ... }} text
    context: str  # the dangerous reference inside it
    kind: str  # "event" | "head_ref" | "input" | "env"


def normalize(expr: str) -> str:
    expr = _BRACKET.sub(lambda m: "." + m.group(1), expr)
    return _INDEX.sub(".*", expr)


def _event_field_is_safe(path: str) -> bool:
    if path in SAFE_PATHS:
        return True
    parts = [p for p in path.split(".") if p != "*"]
    if len(parts) <= 2:  # github.event itself: the whole payload
        return False
    last = parts[-1]
    under_head = any(p in ("head", "head_repository", "head_commit", "head_branch") for p in parts[2:-1])
    if under_head and last in UNSAFE_UNDER_HEAD:
        return False
    return last in SAFE_FIELDS or last.endswith(SAFE_SUFFIXES)


def _is_boolean(body: str) -> bool:
    """An expression whose result is true/false cannot inject text."""
    stripped = _STRINGS.sub("''", body)
    stripped = _BOOL_CALL.sub("true", stripped)
    if "&&" in stripped or "||" in stripped:  # these return an operand, not a boolean
        return False
    return bool(_COMPARE.search(stripped)) or stripped.strip().startswith("!")


def taints(
    text: str, string_inputs: set[str] | None = None, tainted_env: set[str] | None = None
) -> list[Taint]:
    """Dangerous expressions in ``text``.

    ``string_inputs``: names of free-text dispatch/call inputs. ``tainted_env``: env variables whose
    value is itself a dangerous expression (``${{ env.X }}`` expands it into the script just the same).
    """
    out: list[Taint] = []
    for m in EXPR.finditer(text or ""):
        raw = m.group(0)
        body = normalize(m.group(1))
        if _is_boolean(body):
            continue
        scan = _STRINGS.sub("''", _BOOL_CALL.sub("true", body))
        found: Taint | None = None
        for im in _INPUT_REF.finditer(scan):
            if string_inputs is not None and im.group(1) in string_inputs:
                found = Taint(raw, im.group(0), "input")
                break
        if not found:
            for em in _EVENT_REF.finditer(scan):
                ref = em.group(0)
                if ref.startswith("github.event.inputs."):
                    continue
                if not _event_field_is_safe(ref):
                    found = Taint(raw, ref, "event")
                    break
        if not found and _HEAD_REF.search(scan):
            found = Taint(raw, "github.head_ref", "head_ref")
        if not found and tainted_env:
            em = next((m for m in _ENV_REF.finditer(scan) if m.group(1) in tainted_env), None)
            if em:
                found = Taint(raw, em.group(0), "env")
        if found:
            out.append(found)
    return out
