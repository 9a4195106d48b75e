"""Every readiness check and IaC rule id is documented with a link anchor and a paragraph."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from skill.nodes.iac.hcl_checks import RULES
from skill.nodes.readiness.checks import CHECKS
from skill.plan_review.review import PLAN_RULES

DOCS = Path(__file__).resolve().parents[1] / "docs"
IDS = [("readiness.md", i) for i in CHECKS] + [("iac.md", r.id) for r in [*PLAN_RULES, *RULES.values()]]


@pytest.mark.parametrize(("doc", "rule_id"), IDS)
def test_rule_has_an_anchor_and_a_paragraph(doc, rule_id):
    text = (DOCS / doc).read_text(encoding="utf-8")
    anchor = rule_id.replace(".", "-")
    m = re.search(rf'^### <a id="{re.escape(anchor)}"></a>`{re.escape(rule_id)}`\n\n(.+)$', text, re.M)
    assert m, f'{rule_id}: no `### <a id="{anchor}"></a>` heading in docs/{doc}'
    assert len(m.group(1).split()) >= 12, f"{rule_id}: its paragraph in docs/{doc} is too short"


def test_every_documented_anchor_is_a_real_rule():
    known = {i.replace(".", "-") for _, i in IDS}
    for doc in ("readiness.md", "iac.md"):
        text = (DOCS / doc).read_text(encoding="utf-8")
        for anchor in re.findall(r'^### <a id="([^"]+)"></a>', text, re.M):
            assert anchor in known, f"docs/{doc} documents {anchor}, which no rule has"
