#!/usr/bin/env python3
"""Operational memory: remember deployments, incidents and notes; recall and triage.

Thin script over skill.memory (run `memory.py --help`).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

from skill.memory.cli import main  # noqa: E402

if __name__ == "__main__":
    main()
