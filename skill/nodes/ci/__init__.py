"""CI node: pipeline status, watch, failed-run triage, guarded rerun, pushflow and the workflow audit.

Public API (see docs/ci.md)::

    pipeline_status(cwd=".", branch=None, limit=10) -> list[PipelineRun]
    watch_run(run_id=None, cwd=".", interval=5.0, on_update=None) -> PipelineRun
    triage_run(run_id=None, cwd=".", remember=True) -> CiTriage
    rerun_failed(run_id=None, cwd=".") -> RerunResult        (passes the guardrail gate first)
    pushflow(remote="origin", branch=None, cwd=".") -> list[PipelineRun]
    audit_workflows(path=".") -> AuditReport

Imports are lazy so ``import skill.nodes.ci`` stays cheap.
"""

from __future__ import annotations

from skill.lazy import lazy_exports

_EXPORTS = {
    "pipeline_status": "skill.nodes.ci.pipelines",
    "watch_run": "skill.nodes.ci.pipelines",
    "rerun_failed": "skill.nodes.ci.pipelines",
    "pushflow": "skill.nodes.ci.pipelines",
    "triage_run": "skill.nodes.ci.triage",
    "triage_event": "skill.nodes.ci.triage",
    "CiTriage": "skill.nodes.ci.models",
    "PipelineRun": "skill.nodes.ci.models",
    "audit_workflows": "skill.nodes.ci.audit",
    "AuditReport": "skill.nodes.ci.audit",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
