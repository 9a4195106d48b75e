"""Layering (issue 11): the gate must not import the agent's nodes, even to assess a plan."""

from __future__ import annotations

import ast
from pathlib import Path

GUARDRAILS = Path(__file__).resolve().parents[2] / "skill" / "guardrails"


def test_guardrails_never_import_nodes():
    offenders = []
    for path in GUARDRAILS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and "nodes" in (node.module or "").split("."):
                offenders.append(f"{path.name}:{node.lineno}")
            elif isinstance(node, ast.Import) and any(".nodes" in a.name for a in node.names):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []
