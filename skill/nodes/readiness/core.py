"""``review()``: scan a path, run every check, score the result against the target level."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from skill.errors import InputError
from skill.findings import Finding
from skill.nodes.readiness.checks import CHECKS, LEVEL_NAMES, SCAN_WARNING_ID
from skill.nodes.readiness.docker import run_docker_checks
from skill.nodes.readiness.k8s import run_k8s_checks
from skill.nodes.readiness.loader import scan_path
from skill.nodes.readiness.repo import run_repo_checks
from skill.nodes.readiness.scoring import (
    is_production,
    level_achieved,
    meets,
    normalise_level,
    settings,
    target_for,
)


class ReadinessReport(BaseModel):
    path: str
    env: str = "production"
    level_achieved: str = Field(description="L0 (nothing achieved) .. L4")
    target_level: str
    go: bool
    checks: list[Finding]
    files_scanned: int = 0

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.checks if f.id == SCAN_WARNING_ID]

    def failing(self, up_to: str | None = None) -> list[Finding]:
        """Failed checks, optionally only those at or below a level (what blocks that level)."""
        limit = int((up_to or "L4")[1:])
        return [f for f in self.checks if f.status == "fail" and f.level and int(f.level[1:]) <= limit]

    def to_json_dict(self) -> dict[str, Any]:
        """The public JSON shape of ``devops readiness --format json``."""
        keys = ("id", "status", "severity", "level", "file", "line", "object", "message", "fix")
        return {
            "path": self.path,
            "level_achieved": self.level_achieved,
            "target_level": self.target_level,
            "go": self.go,
            "checks": [{k: getattr(f, k) for k in keys} for f in self.checks],
        }

    def summary(self) -> str:
        verdict = "GO" if self.go else "NO-GO"
        name = LEVEL_NAMES.get(self.level_achieved, "")
        counts = {s: sum(1 for f in self.checks if f.status == s) for s in ("pass", "fail", "warn", "n/a")}
        return (
            f"{verdict}: level achieved {self.level_achieved} ({name}), target {self.target_level} "
            f"for {self.env}; {counts['fail']} failing, {counts['warn']} warnings, {counts['pass']} passing, "
            f"{self.files_scanned} files scanned"
            + ("; nothing reviewable found" if not counts["pass"] and not counts["fail"] else "")
        )


def _missing_scope_rows(findings: list[Finding], scope: str, reason: str, obj: str) -> list[Finding]:
    seen = {f.id for f in findings}
    rows = []
    for check in CHECKS.values():
        if check.scope == scope and check.id not in seen:
            rows.append(check.finding("n/a", reason, object=obj))
    return rows


def _covered_by_kubernetes(objects, k8s: list[Finding], docker: list[Finding]) -> list[Finding]:
    """Dockerfile rows that the Kubernetes manifests make moot are n/a, not failures.

    Kubernetes ignores HEALTHCHECK (its probes are the health check the image runs under), and a
    non-zero runAsUser on every container overrides the image's USER.
    """
    from skill.nodes.readiness.k8s import pinned_user

    covers = {}
    probed = next(
        (f for f in k8s if f.id in ("k8s.liveness-probe", "k8s.readiness-probe") and f.status == "pass"), None
    )
    if probed is not None:
        covers["docker.healthcheck"] = (
            f"the Kubernetes manifests define probes ({probed.file}:{probed.line}); Kubernetes ignores HEALTHCHECK"
        )
    pinned = pinned_user(objects)
    if pinned is not None:
        covers["docker.non-root-user"] = (
            f"every Kubernetes container sets a non-zero runAsUser ({pinned[0]}:{pinned[1]}), "
            "which overrides the image's USER"
        )
    return [
        f.model_copy(update={"status": "n/a", "message": covers[f.id], "fix": None})
        if f.id in covers and f.status == "fail"
        else f
        for f in docker
    ]


def _with_peers(findings: list[Finding], scan, target: Path, peers: tuple[str, ...]) -> list[Finding]:
    from skill.peers import merge, run_checkov, run_hadolint

    results = []
    if "checkov" in peers:
        # Kubernetes only: readiness reviews manifests and images; Terraform is `iac lint --with
        # checkov`, and its rows here were warnings about things this report does not review.
        results += run_checkov(target, ("kubernetes",))
    if "hadolint" in peers:
        results += run_hadolint(d.path for d in scan.dockerfiles)
    return merge(
        findings,
        results,
        base=scan.root,
        severity_of={c.id: c.severity for c in CHECKS.values()},
        level_of={c.id: c.level for c in CHECKS.values()},
    )


def review(
    path: str | os.PathLike,
    env: str = "production",
    target_level: str | None = None,
    *,
    config: dict | None = None,
    peers: tuple[str, ...] = (),
) -> ReadinessReport:
    """Scan ``path`` (a repository, a folder or one file) and score it L1..L4.

    ``target_level`` defaults to the level ``[readiness.targets]`` asks for ``env``.
    Unreadable or malformed files become ``scan.file`` warnings; the scan goes on.
    ``peers`` ("checkov", "hadolint") are run and merged (skill.peers): their agreement is noted
    on our findings, their other results are warnings that do not move the level.
    """
    from skill.peers import require

    for peer in peers:  # a missing peer fails before the scan, as a usage error
        require(peer)
    target = Path(path)
    if not target.exists():
        raise InputError(f"no such file or folder: {path}")
    cfg = config if config is not None else settings(target if target.is_dir() else target.parent)
    env = (env or "production").strip()
    goal = target_for(env, cfg)  # also refuses an unknown environment, whatever the level
    if target_level:
        goal = normalise_level(target_level)
    scan = scan_path(
        target,
        max_files=int(cfg.get("max_files", 50_000)),
        max_bytes=int(cfg.get("max_file_bytes", 2_000_000)),
        env=env,
    )
    repo_obj = f"repo/{scan.root.resolve().name}"

    findings = run_k8s_checks(scan.objects, env, is_production(env, cfg))
    findings += _missing_scope_rows(findings, "k8s", "no Kubernetes workloads found", repo_obj)
    docker_findings, docker_warnings = run_docker_checks(scan.dockerfiles)
    findings += _covered_by_kubernetes(scan.objects, findings, docker_findings)
    findings += _missing_scope_rows(findings, "docker", "no Dockerfile found", repo_obj)
    if target.is_dir():
        findings += run_repo_checks(scan, runbook_min=int(cfg.get("runbook_min_scenarios", 5)))
    else:
        findings += _missing_scope_rows(
            findings, "repo", "a single file was scanned: repository checks skipped", repo_obj
        )

    disabled = {str(d) for d in cfg.get("disable") or ()}
    if disabled:
        findings = [
            f.model_copy(
                update={"status": "n/a", "message": f"disabled in config ({f.message})", "fix": None}
            )
            if f.id in disabled
            else f
            for f in findings
        ]
    for w in scan.warnings:
        findings.append(
            Finding(
                id=SCAN_WARNING_ID,
                severity="info",
                status="warn",
                message=w.message,
                file=w.file,
                line=w.line,
                object=w.file,
            )
        )
    for file, message in docker_warnings:
        findings.append(
            Finding(
                id=SCAN_WARNING_ID, severity="info", status="warn", message=message, file=file, object=file
            )
        )

    if peers:
        findings = _with_peers(findings, scan, target, peers)

    achieved = level_achieved(findings)
    if not any(f.status in ("pass", "fail") for f in findings if f.id != SCAN_WARNING_ID):
        # nothing applied (an empty file, a YAML without workloads, only unreadable files):
        # no evidence of any level, so no GO on an all-"n/a" report
        achieved = "L0"
    return ReadinessReport(
        path=str(path),
        env=env,
        level_achieved=achieved,
        target_level=goal,
        go=meets(achieved, goal),
        checks=findings,
        files_scanned=scan.files_scanned,
    )
