"""What a line of a ``run:``/``script:`` does with its output: print it to the log, or send it elsewhere.

A secret echoed into a file, a pipe (``| docker login --password-stdin``) or ``$GITHUB_ENV`` never
reaches the log; ``>&2`` and ``| tee`` still do. Writes to ``$GITHUB_ENV``, ``$GITHUB_PATH`` and
``$GITHUB_OUTPUT`` are read here too, so the taint tracer and the github-env rule see the same
``name=value`` pairs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PRINT = re.compile(r"^\s*(?:echo|printf|print|cat\s*<<|tee)\b")
_SPLIT = re.compile(r"&&|\|\||;")
_TO_FILE = re.compile(r"(?<![<&])(?:\d?>{1,2})(?!&)\s*\S")
_PIPE = re.compile(r"(?<!\|)\|(?!\|)\s*(\S+)")


def commands(line: str) -> list[str]:
    return [c for c in _SPLIT.split(line) if c.strip()]


def prints_to_log(command: str) -> bool:
    """True when a printing command's output ends up in the job log."""
    if not PRINT.search(command) or "::add-mask::" in command:
        return False
    if _TO_FILE.search(command):
        return False
    pipe = _PIPE.search(command)
    return not pipe or pipe.group(1) == "tee"


_WRITE = re.compile(
    r"""(?:echo|printf)\s+(?:-[a-zA-Z]+\s+)*(?P<q>["']?)(?P<body>.*?)(?P=q)\s*>>?\s*["']?\$\{?GITHUB_(?P<file>ENV|PATH|OUTPUT)\b"""
)
_SHELL_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


@dataclass
class Write:
    file: str  # ENV | PATH | OUTPUT
    name: str  # the variable/output name ("" for GITHUB_PATH)
    value: str  # the text written (expressions and $VARs unexpanded)
    line: str  # the source line


def writes(script: str) -> list[Write]:
    """``echo "name=value" >> $GITHUB_ENV`` style writes (one per line; heredoc names too)."""
    out: list[Write] = []
    for line in script.splitlines():
        if "GITHUB_" not in line:
            continue
        for m in _WRITE.finditer(line):
            body, file = m.group("body"), m.group("file")
            if file == "PATH":
                out.append(Write(file, "", body, line))
                continue
            name, sep, value = body.partition("=")
            if not sep and "<<" in body:
                name, _, value = body.partition("<<")
            out.append(Write(file, name.strip(), value, line))
    return out


def shell_vars(text: str) -> list[str]:
    return _SHELL_VAR.findall(text)
