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
    inserted row breaks the chain from that row on. In team mode (DEVOPS_DATABASE_URL) the
    team database's chain is verified too.

    \b
    devops audit verify
    devops audit verify --json
    """
    from skill.guardrails.audit import team_url, verify_local

    reports = [verify_local()]
    if team_url():
        from skill.guardrails.audit_ship import last_background_failure, verify_team

        reports.append(verify_team())
        failure = last_background_failure()
        if failure:
            click.echo(f"warning: the last background ship failed: {failure}", err=True)
    if as_json:
        echo_json([r.to_dict() for r in reports])
    else:
        for report in reports:
            click.echo(_describe(report))
    if not all(r.intact for r in reports):
        sys.exit(1)


@audit.command("ship")
@click.option(
    "--batch", default=500, show_default=True, type=click.IntRange(1, 100_000), help="Rows per transaction."
)
@json_option
def ship(batch: int, as_json: bool) -> None:
    """Ship this machine's audit rows to the team database (idempotent; safe to rerun or kill).

    Checks start it in the background at most every 30 s; run it by hand to ship now. Rows are
    matched by uid, so nothing is shipped twice; a row that breaks the local chain is not shipped
    (exit 1; see `devops audit verify`).

    \b
    devops audit ship
    DEVOPS_DATABASE_URL=postgresql://app@db/devops devops audit ship --json
    """
    from skill.guardrails.audit_ship import ship as ship_rows

    report = ship_rows(batch=batch)
    if as_json:
        echo_json(report.to_dict())
    else:
        rate = report.read / report.seconds if report.seconds else 0.0
        click.echo(
            f"shipped {report.shipped} row(s) to {report.target} ({report.already_there} already there, "
            f"{report.seconds:.2f} s, {rate:,.0f} rows/s)"
        )
    if report.broken_id is not None:
        click.echo(
            f"Error: the local audit chain is broken at row {report.broken_id}: nothing past it was shipped "
            "(see `devops audit verify`)",
            err=True,
        )
        sys.exit(1)
