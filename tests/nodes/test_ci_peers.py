"""Differential check against zizmor (optional peer, installed by the `test` extra).

On our authored fixtures, every line zizmor reports for a class both tools have must be one we
report too (ours may report more: the fixtures also hold cases zizmor does not model). Skipped,
with the reason, when zizmor is not installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from skill.nodes.ci.audit import audit_file

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "ci" / "github"
ZIZMOR = shutil.which("zizmor") or next(
    (str(p) for p in [Path(sys.executable).parent / "zizmor"] if p.exists()), None
)
pytestmark = pytest.mark.skipif(ZIZMOR is None, reason="zizmor is not installed (pip install zizmor)")

# fixture -> (zizmor audit, our rule)
CASES = {
    "template-injection-bad.yml": ("template-injection", "ci.template-injection"),
    "dangerous-triggers-bad.yml": ("dangerous-triggers", "ci.dangerous-triggers"),
    "dangerous-triggers-bad2.yml": ("dangerous-triggers", "ci.dangerous-triggers"),
    "unsound-condition-bad.yml": ("unsound-condition", "ci.unsound-condition"),
    "bot-conditions-bad.yml": ("bot-conditions", "ci.bot-conditions"),
    "github-env-bad.yml": ("github-env", "ci.github-env"),
    "archived-action-bad.yml": ("archived-uses", "ci.archived-action"),
}


def _zizmor(path: Path, tmp_path: Path) -> list[dict]:
    repo = tmp_path / "repo" / ".github" / "workflows"
    repo.mkdir(parents=True)
    shutil.copy(path, repo / path.name)
    res = subprocess.run(
        [
            ZIZMOR,
            "--offline",
            "--no-exit-codes",
            "--persona",
            "auditor",
            "--format",
            "json",
            str(repo / path.name),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr[-500:]
    return json.loads(res.stdout or "[]")


@pytest.mark.parametrize("name", sorted(CASES))
def test_zizmor_findings_of_a_shared_class_are_ours_too(name, tmp_path):
    audit, rule = CASES[name]
    theirs = {
        loc["concrete"]["location"]["start_point"]["row"] + 1
        for item in _zizmor(FIX / name, tmp_path)
        if item["ident"] == audit
        for loc in item["locations"]
        if loc["symbolic"].get("kind") == "Primary"
    }
    ours = {f.line for f in audit_file(FIX / name).findings if f.id == rule}
    assert theirs, f"zizmor reports no {audit} on {name}: the fixture no longer exercises the peer"
    # zizmor points at a step's first line where we point at the key inside it: allow the step.
    missed = {line for line in theirs if not any(0 <= o - line <= 4 for o in ours)}
    assert not missed, f"zizmor reports {audit} at {sorted(missed)}, we report {rule} at {sorted(ours)}"
