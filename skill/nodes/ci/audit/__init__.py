"""Workflow auditor: GitHub Actions workflows and .gitlab-ci.yml, one rule set, positions on every finding.

``audit_workflows(path)`` accepts a repository root, a ``.github/workflows`` folder, or one file.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from skill.errors import InputError
from skill.findings import Finding
from skill.nodes.ci.audit.context import FileContext
from skill.nodes.ci.audit.github import audit_action, audit_github
from skill.nodes.ci.audit.gitlab import audit_gitlab
from skill.nodes.ci.audit.rules import RULES, RULES_BY_ID
from skill.nodes.ci.audit.yamlpos import load, pos_of
from skill.report import sort_findings

__all__ = ["AuditReport", "RULES", "RULES_BY_ID", "audit_file", "audit_text", "audit_workflows", "discover"]


class AuditReport(BaseModel):
    path: str
    files: list[str] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    suppressed: int = 0


ACTION_FILES = ("action.yml", "action.yaml")
_AUDITORS = {"github": audit_github, "gitlab": audit_gitlab, "action": audit_action}


def _platform(path: Path) -> str | None:
    """The platform a file's location proves, or None when only its content can tell."""
    name = path.name.lower()
    if name in ACTION_FILES:
        return "action"
    parts = [p.lower() for p in path.absolute().parts[:-1]]
    if any(a == ".github" and b == "workflows" for a, b in zip(parts, parts[1:], strict=False)):
        return "github"  # whatever the file is called ("gitlab-sync.yml" included)
    if name.endswith((".gitlab-ci.yml", ".gitlab-ci.yaml")):
        return "gitlab"
    return None


_GITLAB_KEYS = {"stages", "include", "workflow", "default"}
_GITLAB_JOB_KEYS = {"script", "trigger", "extends"}


def _content_platform(doc: object) -> tuple[str | None, str]:
    """(platform, why not) for a loose file: real evidence of a pipeline, or the reason there is none."""
    if not isinstance(doc, dict):
        return None, "not a pipeline: the top level is not a mapping"
    jobs = doc.get("jobs")
    if isinstance(jobs, dict) and any(
        isinstance(j, dict) and ({"runs-on", "steps"} & j.keys() or isinstance(j.get("uses"), str))
        for j in jobs.values()
    ):
        return "github", ""
    if "version" in doc and isinstance(doc.get("updates"), list):
        return None, "not a pipeline: a Dependabot configuration (version:, updates:)"
    if "repos" in doc and isinstance(doc.get("repos"), list):
        return None, "not a pipeline: a pre-commit configuration (repos:)"
    gitlab_jobs = [
        k
        for k, v in doc.items()
        if isinstance(v, dict) and _GITLAB_JOB_KEYS & v.keys() and not str(k).startswith(".")
    ]
    if gitlab_jobs or (
        _GITLAB_KEYS & doc.keys() and any(isinstance(v, dict) and "script" in v for v in doc.values())
    ):
        return "gitlab", ""
    if isinstance(doc.get("stages"), list) and _GITLAB_KEYS & doc.keys():
        return "gitlab", ""
    return None, (
        "not a pipeline: no GitHub jobs: with runs-on:/steps:, no GitLab job with script:/trigger: "
        "(name a GitLab file *.gitlab-ci.yml or put a workflow under .github/workflows/)"
    )


def _looks_like_action(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            head = fh.read(65536)
    except OSError:
        return True  # let the audit report it
    return "\nruns:" in "\n" + head


def discover(root: Path) -> list[Path]:
    """Pipeline files under ``root`` (a repository, a workflows folder or a file).

    Besides workflows and .gitlab-ci.yml: the repository's own action (action.yml at the root)
    and local actions under .github/actions/, which run inside the workflows that use them.
    """
    if root.is_file():
        if root.suffix.lower() not in (".yml", ".yaml"):
            raise InputError(f"{root}: not a YAML file (expected a workflow, .gitlab-ci.yml or action.yml)")
        return [root]
    if not root.is_dir():
        what = "no such file or directory" if not root.exists() else "not a regular file or directory"
        raise InputError(f"{root}: {what}")
    found: list[Path] = []
    wf = root / ".github" / "workflows"
    for folder in (wf, root) if root.name == "workflows" else (wf,):
        if folder.is_dir():
            found += sorted(p for p in folder.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file())
    for name in (".gitlab-ci.yml", ".gitlab-ci.yaml"):
        if (root / name).is_file():
            found.append(root / name)
    for name in ACTION_FILES:  # the repository is an action; another tool's action.yml is not ours
        if (root / name).is_file() and _looks_like_action(root / name):
            found.append(root / name)
    actions = root / ".github" / "actions"
    if actions.is_dir():
        found += sorted(p for name in ACTION_FILES for p in actions.rglob(name) if p.is_file())
    return list(dict.fromkeys(found))


def audit_text(text: str, rel: str, platform: str | None = None) -> FileContext:
    """Audit one file's text; ``platform`` None means decide from the content (a loose file)."""
    ctx = FileContext(rel, text)
    try:
        doc = load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        pos = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        ctx.add("ci.parse-error", f"invalid YAML: {problem}", pos)
        return ctx
    if doc is None:
        ctx.add("ci.parse-error", "the file is empty (no YAML document)", (1, 1))
        return ctx
    if platform is None:
        platform, why = _content_platform(doc)
        if platform is None:
            ctx.add("ci.parse-error", why, pos_of(doc))
            return ctx
    _AUDITORS[platform](ctx, doc)
    return ctx


def audit_file(path: Path, rel: str | None = None) -> FileContext:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    return audit_text(text, rel or path.as_posix(), _platform(path))


def _shown(file: Path) -> str:
    """A single file as given, relative to the working directory when it is under it.

    SARIF consumers (GitHub code scanning) resolve URIs against the repository root, so
    `.github/workflows/deploy.yml` must stay that, not become `deploy.yml`.
    """
    if file.is_absolute():
        try:
            return file.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return file.as_posix()
    return file.as_posix()


def audit_workflows(path: str | Path = ".") -> AuditReport:
    """Audit every pipeline file under ``path``; findings sorted by severity."""
    root = Path(path)
    files = discover(root)
    base = root if root.is_dir() else root.parent
    findings: list[Finding] = []
    suppressed = 0
    rels: list[str] = []
    for file in files:
        rel = file.relative_to(base).as_posix() if root.is_dir() else _shown(root)
        ctx = audit_file(file, rel)
        rels.append(rel)
        findings.extend(ctx.findings)
        suppressed += ctx.suppressed
    return AuditReport(path=str(root), files=rels, findings=sort_findings(findings), suppressed=suppressed)
