"""The incident node: severity by the escalation matrix, memory triage, runbook, suggested
rollback (gated when run), and the blameless post-mortem draft.

    from skill.nodes.incident import triage_incident, draft_postmortem, classify_severity
    report = triage_incident("5xx rate on checkout after deploy", service="api")
    markdown = draft_postmortem("INC-3", refine=None)

Names resolve lazily so ``import skill.nodes.incident`` stays cheap.
"""

from __future__ import annotations

from skill.lazy import lazy_exports

_EXPORTS = {
    "triage_incident": "triage",
    "suggest_rollback": "triage",
    "render_triage": "triage",
    "IncidentReport": "triage",
    "SuggestedRollback": "triage",
    "draft_postmortem": "postmortem",
    "classify_severity": "severity",
    "matrix_row": "severity",
    "MATRIX": "severity",
    "SeverityAssessment": "severity",
    "find_runbook": "runbooks",
    "find_runbooks": "runbooks",
    "RunbookMatch": "runbooks",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
