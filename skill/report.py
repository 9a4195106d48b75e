"""Renderers shared by every analyzer: text (rich table), Markdown, SARIF 2.1.0, JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from skill.findings import SEVERITY_ORDER, Finding, Rule

FORMATS = ("text", "json", "md", "sarif")

_SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
_SEVERITY_SCORE = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (-SEVERITY_ORDER[f.severity], f.file or "", f.line or 0, f.id))


def to_json(payload: Any) -> str:
    return json.dumps(payload, indent=2, sort_keys=False, default=str)


def to_sarif(
    tool: str,
    findings: Iterable[Finding],
    rules: Iterable[Rule] = (),
    *,
    version: str = "0.1.0",
    information_uri: str | None = None,
) -> str:
    """A SARIF 2.1.0 log with one run. Only problems (fail/warn) become results."""
    rules = list(rules)
    known = {r.id for r in rules}
    problems = [f for f in findings if f.is_problem]
    for f in problems:  # a rule id without docs still needs a descriptor
        if f.id not in known:
            rules.append(Rule(id=f.id, title=f.id, severity=f.severity))
            known.add(f.id)
    index = {r.id: i for i, r in enumerate(rules)}
    driver: dict[str, Any] = {
        "name": tool,
        "version": version,
        "rules": [
            {
                "id": r.id,
                "name": r.id.replace(".", "_").replace("-", "_"),
                "shortDescription": {"text": r.title},
                "fullDescription": {"text": r.description or r.title},
                "help": {"text": r.fix or r.description or r.title},
                "defaultConfiguration": {"level": _SARIF_LEVEL[r.severity]},
                "properties": {"security-severity": _SEVERITY_SCORE[r.severity], "tags": [tool]},
            }
            for r in rules
        ],
    }
    if information_uri:
        driver["informationUri"] = information_uri
    results = []
    for f in problems:
        result: dict[str, Any] = {
            "ruleId": f.id,
            "ruleIndex": index[f.id],
            "level": _SARIF_LEVEL[f.severity] if f.status == "fail" else "note",
            "message": {"text": f.message + (f" Fix: {f.fix}" if f.fix else "")},
        }
        if f.file:
            region = {"startLine": max(1, f.line or 1)}
            if f.column:
                region["startColumn"] = max(1, f.column)
            result["locations"] = [
                {"physicalLocation": {"artifactLocation": {"uri": f.file}, "region": region}}
            ]
        if f.object:
            result.setdefault("properties", {})["object"] = f.object
        results.append(result)
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "results": results}],
    }
    return json.dumps(log, indent=2)


def _md_escape(text: str) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def to_markdown(
    title: str, findings: Iterable[Finding], *, summary_lines: Iterable[str] = (), show_passing: bool = False
) -> str:
    """A pull-request comment: a summary, then a table of problems (and passes when asked)."""
    rows = sort_findings(f for f in findings if show_passing or f.is_problem)
    out = [f"## {title}", ""]
    out.extend(summary_lines)
    if summary_lines:
        out.append("")
    if not rows:
        out.append("No findings.")
        return "\n".join(out) + "\n"
    out.append("| Status | Severity | Rule | Where | Message | Fix |")
    out.append("|---|---|---|---|---|---|")
    icons = {"fail": ":x: fail", "warn": ":warning: warn", "pass": ":white_check_mark: pass", "n/a": "n/a"}
    for f in rows:
        where = f.file or f.object or ""
        if f.file and f.line:
            where = f"{f.file}:{f.line}"
        if f.object and f.file:
            where += f" ({f.object})"
        out.append(
            f"| {icons[f.status]} | {f.severity} | `{f.id}` | {_md_escape(where)} | {_md_escape(f.message)} | {_md_escape(f.fix or '')} |"
        )
    return "\n".join(out) + "\n"


def print_table(
    title: str,
    findings: Iterable[Finding],
    *,
    show_passing: bool = False,
    console=None,
    footer: str | None = None,
) -> None:
    """The default terminal view: a rich table, plain when stdout is not a terminal."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console(highlight=False, soft_wrap=False)
    rows = sort_findings(f for f in findings if show_passing or f.is_problem)
    table = Table(title=title, show_lines=False, expand=False)
    for col in ("status", "sev", "rule", "where", "message"):
        table.add_column(col, overflow="fold")
    colors = {"fail": "red", "warn": "yellow", "pass": "green", "n/a": "dim"}
    for f in rows:
        where = f"{f.file}:{f.line}" if f.file and f.line else (f.file or f.object or "")
        if f.object and f.file:
            where += f"\n{f.object}"
        message = f.message + (f"\n→ {f.fix}" if f.fix and f.status != "pass" else "")
        table.add_row(f"[{colors[f.status]}]{f.status}[/]", f.severity, f.id, where, message)
    if rows:
        console.print(table)
    else:
        console.print(f"{title}: no findings.")
    if footer:
        console.print(footer)
