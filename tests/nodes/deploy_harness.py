"""Loads tests/fixtures/deploy/harness.py once, under one module name, for the deploy tests.

The deploy test modules import ``harness`` and the ``deploy_env`` fixture from here (pytest puts
this folder on sys.path), so the servers and fixtures exist once whatever module loads first.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_NAME = "deploy_test_harness"


def _load():
    if _NAME not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "fixtures" / "deploy" / "harness.py"
        spec = importlib.util.spec_from_file_location(_NAME, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[_NAME] = module
        spec.loader.exec_module(module)
    return sys.modules[_NAME]


harness = _load()
deploy_env = harness.deploy_env
