#!/usr/bin/env python3
"""The safety gate: classify an action or a shell command T1-T4 and allow, ask or block.

Thin script over skill.guardrails (run `guardrails.py --help`). Kept stdlib-only on the
check/hook path: it runs before every command an assistant executes.
"""

import os
import sys

ROOT = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, ROOT)

from skill.launcher import ensure_project_python  # noqa: E402

ensure_project_python("tree_sitter", ROOT)

from skill.guardrails.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
