"""Layering (issue 11): imports inside the gate go one way, lazy imports included.

classify.py builds on the rule families (skill.guardrails.commands) and on the helpers both share
(wrappers.py: the wrapper registry and unwrapping; literals.py: static text a command prints); none
of those may import classify back.
"""

from __future__ import annotations

import ast
from pathlib import Path

SKILL = Path(__file__).resolve().parents[2] / "skill"
GUARDRAILS = SKILL / "guardrails"
CLASSIFY = "skill.guardrails.classify"


def _module(path: Path) -> str:
    parts = list(path.relative_to(SKILL.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(p): p for p in GUARDRAILS.rglob("*.py")}


def _imports(path: Path) -> set[str]:
    """Every gate module ``path`` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found & set(MODULES)


def test_families_and_shared_helpers_never_import_classify():
    below = [p for p in (GUARDRAILS / "commands").glob("*.py")]
    below += [GUARDRAILS / name for name in ("wrappers.py", "literals.py", "exfiltration.py")]
    offenders = sorted(p.name for p in below if CLASSIFY in _imports(p))
    assert offenders == []


def test_the_wrapper_registry_imports_nothing_from_the_gate():
    assert _imports(GUARDRAILS / "wrappers.py") == set()


def test_the_gate_has_no_import_cycles():
    graph = {name: _imports(path) - {name} for name, path in MODULES.items()}
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> list[str] | None:
        if name in trail:
            return [*trail[trail.index(name) :], name]
        if name in done:
            return None
        for dep in sorted(graph[name]):
            cycle = visit(dep, [*trail, name])
            if cycle:
                return cycle
        done.add(name)
        return None

    cycles = [c for c in (visit(name, []) for name in sorted(graph)) if c]
    assert cycles == []


def test_the_probe_sees_lazy_imports():
    # The checks above are only as good as _imports: it must see an import inside a function.
    assert "skill.guardrails.literals" in _imports(GUARDRAILS / "commands" / "_base.py")
    assert "skill.guardrails.commands" in _imports(GUARDRAILS / "classify.py")
