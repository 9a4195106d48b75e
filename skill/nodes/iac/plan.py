"""The IaC node's plan review: the shared plan assessment plus, for a directory, the .tf checks."""

from __future__ import annotations

import os
from pathlib import Path

from skill.plan_review import review as _review
from skill.plan_review.models import PlanReview


def review_plan(
    source: str | os.PathLike | dict,
    env: str | None = None,
    *,
    include_code: bool | None = None,
) -> PlanReview:
    """``skill.plan_review.review_plan``; ``include_code`` (default: SOURCE is a directory) adds lint."""
    from skill.environments import require_known

    rep = _review.review_plan(source, require_known(env))
    if include_code is None:
        include_code = not isinstance(source, dict) and str(source) != "-" and Path(source).is_dir()
    if include_code:
        from skill.nodes.iac.hcl_checks import review_code

        rep.findings += review_code(Path(source))
    return rep
