"""The findings model shared by every analyzer (readiness, CI audit, IaC review).

One shape means SARIF, Markdown, JSON and the terminal table all come from ``skill.report``,
and the three analyzers look alike to their users.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["critical", "high", "medium", "low", "info"]
SEVERITY_ORDER: dict[str, int] = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


class Finding(BaseModel):
    """One result of one rule on one object.

    ``status`` is ``fail`` for a plain finding; readiness also reports ``pass``, ``warn``
    and ``n/a`` rows so a report shows what was checked, not only what failed.
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="stable rule id, e.g. k8s.liveness-probe or ci.unpinned-action")
    severity: Severity = "medium"
    message: str
    status: Literal["pass", "fail", "warn", "n/a"] = "fail"
    file: str | None = None
    line: int | None = None
    column: int | None = None
    object: str | None = Field(default=None, description="Kind/namespace/name, a job, a resource address ...")
    fix: str | None = None
    level: str | None = Field(default=None, description="readiness maturity level (L1..L4)")
    job: str | None = None

    @property
    def is_problem(self) -> bool:
        return self.status in ("fail", "warn")


class Rule(BaseModel):
    """Documentation of a rule id, used for SARIF rule metadata and the docs."""

    id: str
    title: str
    severity: Severity = "medium"
    description: str = ""
    fix: str = ""
    level: str | None = None


def at_or_above(findings: list[Finding], threshold: str) -> list[Finding]:
    """Problems whose severity is at or above ``threshold``."""
    floor = SEVERITY_ORDER[threshold]
    return [f for f in findings if f.is_problem and SEVERITY_ORDER[f.severity] >= floor]
