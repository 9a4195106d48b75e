"""Per-file state of an audit: the source lines, suppression comments and the findings so far.

Suppression syntax (documented in docs/ci.md):
  ``# devops: ignore[ci.no-timeout]``           on the finding's line or on its job's line
  ``# devops: ignore[ci.a, ci.b]``              several rules
  ``# devops: ignore``                           every rule on that line / job
  ``# devops: ignore-file[ci.no-concurrency]``  anywhere in the file: the whole file
"""

from __future__ import annotations

import re

from skill.findings import Finding
from skill.nodes.ci.audit.rules import RENAMED, RULES_BY_ID
from skill.nodes.ci.audit.yamlpos import Pos

_IGNORE = re.compile(r"#\s*devops:\s*ignore(-file)?(?:\[([^\]]*)\])?", re.IGNORECASE)
ALL = "*"


class FileContext:
    def __init__(self, rel: str, text: str):
        self.rel = rel
        self.text = text
        self.lines = text.splitlines()
        self.findings: list[Finding] = []
        self.suppressed = 0
        self._line_ignores: dict[int, set[str]] = {}
        self._file_ignores: set[str] = set()
        if "devops:" in text:
            for number, line in enumerate(self.lines, start=1):
                for m in _IGNORE.finditer(line):
                    ids = {
                        RENAMED.get(x.strip(), x.strip()) for x in (m.group(2) or "").split(",") if x.strip()
                    }
                    ids = ids or {ALL}
                    target = (
                        self._file_ignores if m.group(1) else self._line_ignores.setdefault(number, set())
                    )
                    target.update(ids)

    def _ignored(self, rule: str, lines: tuple[int | None, ...]) -> bool:
        if rule in self._file_ignores or ALL in self._file_ignores:
            return True
        for line in lines:
            ids = self._line_ignores.get(line or 0)
            if ids and (rule in ids or ALL in ids):
                return True
        return False

    def add(
        self,
        rule: str,
        message: str,
        pos: Pos | None,
        *,
        job: str | None = None,
        job_line: int | None = None,
        severity: str | None = None,
        fix: str | None = None,
    ) -> None:
        line, column = pos if pos else (None, None)
        if self._ignored(rule, (line, job_line)):
            self.suppressed += 1
            return
        spec = RULES_BY_ID[rule]
        self.findings.append(
            Finding(
                id=rule,
                severity=severity or spec.severity,
                message=message,
                file=self.rel,
                line=line,
                column=column,
                job=job,
                object=job,
                fix=fix or spec.fix,
            )
        )

    def find_text(self, needle: str, start: Pos, end_line: int | None = None) -> Pos:
        """Exact position of ``needle`` at or after ``start`` (for text inside block scalars)."""
        first = start[0]
        last = min(len(self.lines), end_line or first + 2000)
        for number in range(first, last + 1):
            line = self.lines[number - 1]
            col = line.find(needle, start[1] - 1 if number == first else 0)
            if col >= 0:
                return (number, col + 1)
        return start
