"""`devops audit`: verify the gate's tamper-evident audit chain, ship it to the team database."""

from __future__ import annotations

import sys

import click

from skill.cli_support import ErrorHandlingGroup, echo_json

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group("audit", cls=ErrorHandlingGroup)
def audit() -> None:
    """The safety gate's audit log: verify its hash chain, ship it to the team database."""


def _describe(report) -> str:
    if report.intact:
        line = f"{report.where}: chain intact, {report.rows} row(s), head {report.head[:16]}"
    else:
        line = (
            f"{report.where}: chain BROKEN at row {report.broken_id} (uid {report.broken_uid}, "
            f"{report.broken_time}): it {report.why}; {report.rows} row(s) before it are intact"
        )
    if report.spooled:
        line += f"; {report.spooled} decision(s) spooled, not yet chained"
    return line


@audit.command("verify")
@json_option
def verify(as_json: bool) -> None:
    """Recompute the audit's hash chain and name the first broken row (exit 1 when broken).

    Every row's hash covers its content and the previous row's hash: an edited, deleted or
    inserted row breaks the chain from that row on.

    \b
    devops audit verify
    devops audit verify --json
    """
    from skill.guardrails.audit import verify_local

    reports = [verify_local()]
    if as_json:
        echo_json([r.to_dict() for r in reports])
    else:
        for report in reports:
            click.echo(_describe(report))
    if not all(r.intact for r in reports):
        sys.exit(1)
