"""Lazy package exports: ``from skill.nodes.ci import triage_run`` without importing every module.

The guardrails gate imports ``skill.nodes.iac`` and the CLI imports each node package to find its
command; importing all of a node's modules (yaml, hcl2, httpx, numpy ...) up front would make
every one of those paths pay for code it does not run.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` resolving ``name`` from ``exports[name]`` on first use.

    Values are submodule names relative to ``package`` (``"plan"``) or absolute module paths.
    """

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        path = module if module.startswith("skill.") else f"{package}.{module.lstrip('.')}"
        return getattr(importlib.import_module(path), name)

    return __getattr__
