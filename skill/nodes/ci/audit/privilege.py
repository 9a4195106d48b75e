"""Rules about what runs with privileges: dangerous triggers, untrusted writes to the runner's
environment files, unscoped GitHub App tokens and ad-hoc installs in privileged jobs.

``pull_request_target``, ``workflow_run`` and ``issue_comment`` run the base repository's workflow
with its secrets and a write token on events anyone can cause. The trigger alone is a fact to know
(low); running the outsider's code or text inside it is the finding (high). A line written to
``$GITHUB_ENV``/``$GITHUB_PATH`` sets variables (``BASH_ENV``, ``LD_PRELOAD``, ``NODE_OPTIONS``) or
puts directories first on ``PATH`` for every later step, so a value with a newline an outsider
chose runs their code in the rest of the job.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from skill.nodes.ci.audit import expressions, shell
from skill.nodes.ci.audit.actions import APP_TOKEN_ACTIONS
from skill.nodes.ci.audit.yamlpos import PDict, Pos

if TYPE_CHECKING:
    from skill.nodes.ci.audit.github import GitHubAudit
    from skill.nodes.ci.audit.pipeline import Job

DANGEROUS = ("pull_request_target", "workflow_run", "issue_comment")
HEAD_CODE = re.compile(
    r"github\.event\.pull_request\.head\.(?:sha|ref)|github\.head_ref|github\.event\.workflow_run\.head_(?:sha|branch)"
    r"|refs/pull/|github\.event\.issue\.pull_request",
)
FETCH_HEAD = re.compile(r"\b(gh pr checkout|git (?:checkout|fetch|switch|pull))\b")
# Origins whose text cannot hold a newline: git refuses control characters in ref names.
_ONE_LINE = re.compile(r"(?:head_ref|\.ref|head_branch|\.label|\.login)$")


def dangerous(audit: GitHubAudit) -> list[str]:
    return [t for t in DANGEROUS if t in audit.triggers]


def check_triggers(audit: GitHubAudit) -> None:
    on = audit.doc.get("on")
    for event in dangerous(audit):
        pos = on.kpos(event) if isinstance(on, PDict) else audit.on_pos
        audit.add(
            "ci.dangerous-triggers",
            f"{event} runs with secrets and a write token on events outsiders cause: "
            "keep their code and text out of it",
            pos,
            severity="low",
        )


def check_checkout_ref(audit: GitHubAudit, ref: Any, pos: Pos, jid: str | None) -> None:
    events = dangerous(audit)
    if isinstance(ref, str) and events and HEAD_CODE.search(ref):
        audit.add(
            "ci.dangerous-triggers",
            f"checks out the untrusted head ({ref.strip()}) in a privileged {'/'.join(events)} workflow",
            pos,
            jid,
            severity="high",
        )


def check_run_fetch(audit: GitHubAudit, run: str, pos: Pos, jid: str | None) -> None:
    events = dangerous(audit)
    if events and FETCH_HEAD.search(run) and (HEAD_CODE.search(run) or "gh pr checkout" in run):
        audit.add(
            "ci.dangerous-triggers",
            f"run: fetches the untrusted PR head in a privileged {'/'.join(events)} workflow",
            audit.ctx.find_text(FETCH_HEAD.search(run).group(0), pos),
            jid,
            severity="high",
        )


def check_writes(audit: GitHubAudit, run: str, pos: Pos, jid: str | None, job: Job) -> None:
    """ci.github-env: outsiders' text written to GITHUB_ENV / GITHUB_PATH / GITHUB_OUTPUT."""
    for write in shell.writes(run):
        if expressions.origin_of(write.value, audit.sources):
            continue  # the ${{ }} itself is reported as ci.template-injection
        origin = audit.value_origin(write.value)
        at = audit.ctx.find_text(write.line.strip(), pos)
        if origin:
            one_line = bool(_ONE_LINE.search(origin))
            if write.file == "OUTPUT" and one_line:
                continue  # traced into later ${{ }} uses; a branch name cannot forge another output
            severity = "high" if write.file == "PATH" or (write.file == "ENV" and not one_line) else "medium"
            audit.add(
                "ci.github-env",
                f"writes {origin} to $GITHUB_{write.file}"
                + ("" if one_line else ": a newline in it sets further variables for every later step"),
                at,
                jid,
                severity=severity,
            )
        elif write.file in ("ENV", "PATH") and job.artifacts_in and "workflow_run" in audit.triggers:
            if re.search(r"\$\(|`|\bcat\b|<", write.line):
                audit.add(
                    "ci.github-env",
                    f"writes file or command output to $GITHUB_{write.file} in a workflow_run job that "
                    "downloads the untrusted run's artifacts",
                    at,
                    jid,
                    severity="medium",
                )


def check_app_token(audit: GitHubAudit, action: str, with_: PDict, pos: Pos, jid: str | None) -> None:
    if action not in APP_TOKEN_ACTIONS:
        return
    keys = {k.lower() for k in with_}
    problems = []
    if not any(k.startswith("permission-") or k == "permissions" for k in keys):
        problems.append("every permission of the App installation")
    if "owner" in keys and "repositories" not in keys:
        problems.append("every repository of the owner's installation")
    if problems:
        audit.add(
            "ci.app-token-scope",
            f"{action} mints a token with {' and '.join(problems)}: "
            "pass permission-<scope>: inputs (and repositories:)",
            pos,
            jid,
        )


_ADHOC = re.compile(
    r"(?:^|[;&|]\s*|\s)(?P<cmd>(?:python3? -m )?pip3? install|pipx (?:install|run)|uvx|uv tool (?:install|run)|"
    r"npm (?:install|i) (?:-g|--global)|npx|go install|cargo install|gem install)\s+(?P<args>[^;&|\n]*)"
    r"|(?P<pipe>\b(?:curl|wget)\b[^|\n]*\|\s*(?:sudo\s+)?(?:ba|z)?sh\b)",
    re.M,
)
_PINNED = re.compile(r"==|@v?\d|@[0-9a-f]{7,}|--version|\s-v\s|\s--locked\b")
_FROM_FILES = re.compile(
    r"(?:^|\s)(?:-r|--requirement|-c|--constraint|-e|--editable|\.|\./\S*|\.\[\S*\]|\S+\.whl|--group)\b|(?:^|\s)\.(?:\s|$)"
)


def check_adhoc(audit: GitHubAudit, run: str, pos: Pos, jid: str | None, why: str) -> None:
    """ci.adhoc-install: unpinned tools fetched by name in a job that holds privileges."""
    for m in _ADHOC.finditer(run):
        if m.group("pipe"):
            what = m.group("pipe").strip()
        else:
            args = m.group("args").strip()
            # Local paths and scripts are the repository's own code, not a registry download.
            names = [a for a in args.split() if not a.startswith(("-", ".", "/")) and not a.endswith(".py")]
            if not names or _FROM_FILES.search(" " + args) or _PINNED.search(" " + args + " "):
                continue
            what = f"{m.group('cmd')} {args}".strip()
        audit.add(
            "ci.adhoc-install",
            f"{what[:60]}: fetched unpinned at run time in a job that {why}",
            audit.ctx.find_text(what[:30], pos),
            jid,
        )
        return  # one per script is enough to act on


_SECRET = re.compile(r"secrets\.(?!GITHUB_TOKEN\b)[A-Za-z_]", re.I)


def job_privilege(audit: GitHubAudit, spec: PDict, body: str, top_perms: Any) -> str | None:
    """Why a job is privileged (it can publish, write or read secrets), or None."""
    perms = spec.get("permissions", top_perms)
    if perms == "write-all":
        return "has write-all"
    if isinstance(perms, dict):
        writes = sorted(k for k, v in perms.items() if v == "write" and k != "id-token")
        if writes:
            return f"can write {', '.join(writes)}"
        if perms.get("id-token") == "write":
            return "can mint OIDC tokens (id-token: write)"
    if _SECRET.search(body):  # GITHUB_TOKEN's power is its permissions, judged above
        return "reads secrets"
    events = dangerous(audit)
    if events:
        return f"runs on {'/'.join(events)}"
    return None
