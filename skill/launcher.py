"""Run the checkout's scripts with the project's interpreter, whatever ``python3`` is on PATH.

``./guardrails.py`` starts with ``#!/usr/bin/env python3``; on a machine where that is a system
or pyenv Python without our dependencies, the gate would fail closed on every command. When a
required module is missing and the checkout has ``.venv/bin/python``, re-exec under it. Stdlib
only: this runs on the hook's hot path. ``PathFinder.find_spec`` locates a top-level module
without importing it, and ``importlib.machinery`` is loaded at interpreter start-up anyway
(``importlib.util`` would cost about 2 ms of the hook's budget).
"""

from __future__ import annotations

import os
import sys
from importlib.machinery import PathFinder


def ensure_project_python(required: str, root: str) -> None:
    if PathFinder.find_spec(required) is not None:
        return
    venv_python = os.path.join(root, ".venv", "bin", "python")
    if os.path.exists(venv_python) and os.path.abspath(sys.executable) != os.path.abspath(venv_python):
        if os.environ.get("DEVOPS_REEXEC") == "1":  # never loop
            return
        os.environ["DEVOPS_REEXEC"] = "1"
        os.execv(venv_python, [venv_python, *sys.argv])
