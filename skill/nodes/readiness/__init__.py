"""Production readiness review: score a repository L1-L4 with go/no-go and evidence.

from skill.nodes.readiness import review
rep = review("examples/sample-service", env="production")
rep.level_achieved, rep.go, [f for f in rep.checks if f.status == "fail"]
"""

from __future__ import annotations

from skill.nodes.readiness.core import ReadinessReport, review

__all__ = ["ReadinessReport", "review"]
