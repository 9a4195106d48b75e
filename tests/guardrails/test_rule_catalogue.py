"""The rule catalogue (skill/guardrails/rules.py) against the code and the docs (issue 11).

Rule ids are collected from the source the way they are written: `ctx.hit(TIER, "id", …)`,
`(TIER, "id", reason)` hit tuples, `rule_ids` lists and appends, and any string shaped like an id
of a known family. An id built at run time (`f"forge.{group}-{verb}"`) must be covered by a
catalogued pattern (`forge.*-*`).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

from skill.guardrails.rules import CATALOGUE, RULES, is_known

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "skill" / "guardrails"
DOCS = (REPO / "docs" / "guardrails-rules.md").read_text()
ID_SHAPE = re.compile(r"^(?:[a-z][a-z0-9]*|\*)\.[a-z0-9*][a-z0-9*-]*$")
# Strings shaped like ids that are not rules: module/method names in code patterns, a file glob.
NOT_RULES = {"http.client", "http.get", "http.request", "http.server", "*.*"}
OTHER_FAMILIES = {
    "classifier",
    "gate",
    "file",
    "plan",
    "batch",
    "action",
    "deny",
    "policy",
    "env",
    "slo",
    "freeze",
}
FILE_SUFFIXES = (".toml", ".key", ".db", ".json", ".jsonl", ".py", ".md", ".sh", ".exe", ".sock", ".conf")


def _text(node) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "*" for v in node.values)
    return None


def used_rule_ids() -> dict[str, str]:
    """id (or pattern for f-strings) -> file where it is used."""
    trees = {p: ast.parse(p.read_text()) for p in PACKAGE.rglob("*.py")}
    found: dict[str, str] = {}

    def add(node, path) -> None:
        rid = _text(node)
        if rid and ID_SHAPE.match(rid) and not rid.endswith("-"):
            found.setdefault(rid, str(path.relative_to(REPO)))

    for path, tree in trees.items():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "hit"
            ):
                if len(node.args) >= 2:
                    add(node.args[1], path)
            elif isinstance(node, ast.Tuple) and len(node.elts) == 3:
                first = node.elts[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, int):
                    add(node.elts[1], path)
            elif isinstance(node, ast.keyword) and node.arg in ("rule_ids", "rule"):
                for element in node.value.elts if isinstance(node.value, ast.List) else [node.value]:
                    add(element, path)
    families = {rid.split(".")[0] for rid in found} | OTHER_FAMILIES
    for path, tree in trees.items():
        if path.name == "rules.py":
            continue
        for node in ast.walk(tree):
            value = _text(node) if isinstance(node, ast.Constant) else None
            if (
                value
                and ID_SHAPE.match(value)
                and value.split(".")[0] in families
                and not value.endswith(("-", *FILE_SUFFIXES))
                and value not in NOT_RULES
            ):
                found.setdefault(value, str(path.relative_to(REPO)))
    return found


USED = used_rule_ids()


def _covered(rule_id: str) -> bool:
    return rule_id in CATALOGUE or any("*" in c and fnmatchcase(rule_id, c) for c in CATALOGUE)


def test_the_collector_finds_the_rules():
    # guards the test itself: if the AST walk broke, every other check here would pass vacuously
    assert len(USED) > 400
    assert {"git.force-push", "rm.root-or-home", "env.production", "policy.error", "forge.*-*"} <= set(USED)


def test_every_rule_id_in_the_code_is_catalogued():
    missing = sorted(f"{rid} ({where})" for rid, where in USED.items() if not _covered(rid))
    assert not missing, "add these to skill/guardrails/rules.py:\n" + "\n".join(missing)


def test_every_catalogued_rule_is_still_used():
    stale = sorted(rid for rid in CATALOGUE if rid not in USED)
    assert not stale, f"catalogued but no longer emitted: {stale}"


@pytest.mark.parametrize(("rule_id", "tier", "family", "doc"), RULES)
def test_each_entry_is_complete_and_documented(rule_id, tier, family, doc):
    assert re.fullmatch(r"[1-4]|[1-4]-[1-4]|\*", tier), tier
    assert family and len(doc) >= 8
    assert f"`{rule_id}`" in DOCS, f"{rule_id} is not documented in docs/guardrails-rules.md"


def test_is_known_matches_ids_globs_and_patterns():
    assert is_known("git.force-push") and is_known("git.force-*") and is_known("forge.release-delete")
    assert not is_known("git.force-psuh") and not is_known("terraform.destory")
    assert is_known("kubectl.drain")  # built at run time from the verb: covered by `kubectl.*`


def test_policy_validate_warns_on_an_unknown_rule_id(tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text(
        '[[rules]]\nid = "typo"\nrule_id = "git.force-psuh"\nmax_tier = 2\n\n'
        '[[rules]]\nid = "fine"\nrule_id = "git.force-push"\nmax_tier = 2\n'
    )
    res = subprocess.run(
        [sys.executable, str(REPO / "guardrails.py"), "policy", "validate", str(policy)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    warnings = [line for line in res.stdout.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "git.force-psuh" in warnings[0] and "typo" in warnings[0]
