#!/usr/bin/env python3
"""Operational memory: remember deployments, incidents and notes; recall and triage.

Thin script over skill.memory (run `memory.py --help`).
"""

import os
import sys

ROOT = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, ROOT)

from skill.launcher import ensure_project_python  # noqa: E402

ensure_project_python("sqlite_utils", ROOT)

from skill.memory.cli import main  # noqa: E402

if __name__ == "__main__":
    main()
