"""`devops ask`, `devops handle`, `devops runs` and `devops approvals`: the agent graph on the command line.

Exit codes: 0 done, 1 failed/rejected or findings, 3 waiting for approval, 4 blocked, 2 bad input.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from skill.cli_support import ErrorHandlingCommand, ErrorHandlingGroup, echo_json
from skill.errors import InputError, UsageError

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def _print_outcome(outcome, as_json: bool) -> None:
    if as_json:
        echo_json(outcome.model_dump(mode="json"))
    else:
        click.echo(outcome.report)
        if outcome.summary:
            click.echo(f"\nSummary: {outcome.summary}")
        if outcome.status == "awaiting_approval":
            p = outcome.pending or {}
            click.echo(
                f"\nPaused for approval: T{p.get('tier')} {p.get('decision')} — request {p.get('request_id')} "
                f"(run {outcome.run_id}).\nA human approves with: devops approvals approve {p.get('request_id')} "
                "--by NAME   (or rejects: devops approvals reject ID)"
            )
        else:
            click.echo(f"\nstatus: {outcome.status}")
    for notice in outcome.notices:
        click.echo(f"notice: {notice}", err=True)


def _exit(outcome) -> None:
    code = outcome.exit_code
    if code:
        sys.exit(code)


@click.command("ask", cls=ErrorHandlingCommand)
@click.argument("text")
@click.option(
    "--cwd",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="Project folder the request is about.",
)
@json_option
def ask(text: str, cwd: str | None, as_json: bool) -> None:
    """Answer a free-text request through the agent graph.

    \b
    devops ask "is examples/sample-service ready for production?"
    devops ask "deploy api 1.4.2 to staging"
    """
    from skill.agent.graph import run

    outcome = run(text, cwd=cwd)
    _print_outcome(outcome, as_json)
    _exit(outcome)


def load_event_file(path: str, source: str | None):
    from skill.webhooks.events import parse_event

    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return parse_event(data, source=source)


@click.command("handle", cls=ErrorHandlingCommand)
@click.argument("event_file", metavar="EVENT.json")
@click.option(
    "--source",
    type=click.Choice(["github", "gitlab", "alertmanager", "pagerduty", "generic"]),
    default=None,
    help="Where the payload comes from (default: detected from its shape).",
)
@click.option(
    "--event-type", "github_event", default=None, help="GitHub X-GitHub-Event name, if not detectable."
)
@click.option("--cwd", type=click.Path(file_okay=False, exists=True), default=None)
@json_option
def handle(
    event_file: str, source: str | None, github_event: str | None, cwd: str | None, as_json: bool
) -> None:
    """Run one webhook payload through the graph (EVENT.json, or - for stdin).

    \b
    devops handle examples/events/alertmanager_firing.json
    devops handle run.json --source github
    """
    from skill.agent.graph import run
    from skill.webhooks.events import parse_event

    if github_event and source not in (None, "github"):
        raise UsageError(f"--event-type names a GitHub event; it cannot go with --source {source}")
    if github_event:
        try:
            data = sys.stdin.buffer.read() if event_file == "-" else Path(event_file).read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read {event_file}: {exc.strerror or exc}") from exc
        event = parse_event(data, source="github", headers={"X-GitHub-Event": github_event})
    else:
        event = load_event_file(event_file, source)
    outcome = run(event=event, cwd=cwd)
    _print_outcome(outcome, as_json)
    _exit(outcome)


# ----------------------------------------------------------------------------- runs


@click.group("runs", cls=ErrorHandlingGroup)
def runs() -> None:
    """Past agent runs (newest first)."""


@runs.command("list")
@click.option(
    "--status",
    type=click.Choice(
        ["running", "awaiting_approval", "resuming", "recovering", "done", "failed", "rejected", "blocked"]
    ),
    default=None,
    help="Only runs with this status.",
)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@json_option
def runs_list(status: str | None, limit: int, as_json: bool) -> None:
    """List runs.   devops runs list --status awaiting_approval"""
    from skill.agent import runs as store

    found = store.list_runs(status=status, limit=limit)
    if as_json:
        echo_json([r.model_dump(mode="json") for r in found])
        return
    if not found:
        click.echo("no runs")
        return
    for r in found:
        where = f"{r.node or '-'}/{r.op or '-'}"
        click.echo(f"{r.id}  {r.created[:19]}  {r.status:<17} {where:<22} {r.input[:60]}")


@runs.command("show")
@click.argument("run_id")
@json_option
def runs_show(run_id: str, as_json: bool) -> None:
    """One run's report.   devops runs show run-0123abcd4567"""
    from skill.agent import runs as store

    r = store.get(run_id)
    if as_json:
        echo_json(r.model_dump(mode="json"))
        return
    click.echo(f"{r.id}  status {r.status}  source {r.source}  created {r.created}")
    if r.request_id:
        click.echo(
            f"approval request {r.request_id} (T{r.tier})"
            + (f", resolved by {r.resolved_by}" if r.resolved_by else "")
        )
    click.echo(r.report or r.input)
    if r.status == "resuming":
        click.echo(
            f"\nresuming since {r.updated[:19]}; if the approving process stopped: devops runs recover {r.id}"
        )
    if r.summary:
        click.echo(f"\nSummary: {r.summary}")


@runs.command("prune")
@click.option("--older-than", default="30d", show_default=True, help="Age of the finished runs to delete.")
@json_option
def runs_prune(older_than: str, as_json: bool) -> None:
    """Delete finished runs and their checkpoints; runs waiting for approval are kept.

    \b
    devops runs prune --older-than 30d
    """
    from skill.agent.graph import prune
    from skill.durations import parse_duration

    removed = prune(parse_duration(older_than).total_seconds())
    if as_json:
        echo_json({"removed": removed})
    else:
        click.echo(f"removed {len(removed)} run(s)")


@runs.command("recover")
@click.argument("run_id")
@click.option(
    "--stale-after",
    default="10m",
    show_default=True,
    help="How long a run must have been resuming before it counts as stuck.",
)
@json_option
def runs_recover(run_id: str, stale_after: str, as_json: bool) -> None:
    """Finish a run stuck in `resuming` (its approving process died), never acting twice.

    Still before the resume: it waits for approval again. Past it: it continues, and an action
    whose first attempt stopped half-way is reported, not repeated.

    \b
    devops runs recover run-0123abcd4567
    """
    from skill.agent.graph import recover
    from skill.durations import parse_duration

    outcome = recover(run_id, stale_after_seconds=parse_duration(stale_after).total_seconds())
    _print_outcome(outcome, as_json)
    _exit(outcome)


# ----------------------------------------------------------------------------- approvals


@click.group("approvals", cls=ErrorHandlingGroup)
def approvals() -> None:
    """Runs paused at the safety gate: list, approve (a human), reject."""


@approvals.command("list")
@json_option
def approvals_list(as_json: bool) -> None:
    """Runs waiting for a human decision.   devops approvals list"""
    from skill.agent.graph import pending_approvals, stale_resumes

    found = pending_approvals()
    stuck = stale_resumes()
    if as_json:
        echo_json([r.model_dump(mode="json") for r in found + stuck])
        return
    if not found and not stuck:
        click.echo("nothing is waiting for approval")
        return
    for r in found:
        action = (r.action or {}).get("summary") or r.input
        click.echo(f"{r.request_id}  run {r.id}  T{r.tier}  {action}")
        for reason in r.reasons:
            click.echo(f"    - {reason}")
    for r in stuck:
        click.echo(
            f"{r.request_id}  run {r.id}  STALE: resuming since {r.updated[:19]} (its approver stopped); "
            f"finish it with: devops runs recover {r.id}"
        )


@approvals.command("approve")
@click.argument("ref", metavar="ID")
@click.option("--by", required=True, help="Who approves (a human's name).")
@click.option(
    "--ttl",
    default=None,
    help="How long the approval stays valid (default: the policy's approval_ttl, 30m; at most max_approval_ttl).",
)
@json_option
def approvals_approve(ref: str, by: str, ttl: str, as_json: bool) -> None:
    """Approve a paused run (by request id or run id) and resume it, or a gate request.

    Approving goes through the guardrails approvals: a terminal confirmation (type the target's
    name) or the operator key in $DEVOPS_OPERATOR_KEY. The run then resumes exactly once. A
    request id with no run (a `guardrails.py check` or hook that asked) is approved once for its
    next check; in team mode from any machine. A second approver gets "already decided".

    \b
    devops approvals approve rq-3f9c2a1b7d4e5f60 --by alice
    devops approvals approve run-20261205-1a2b3c --by alice --ttl 10m
    """
    from skill.agent.graph import resume
    from skill.errors import NotFoundError
    from skill.guardrails import approvals

    seconds = approvals.approval_ttl(ttl)
    try:
        outcome = resume(ref, approved=True, by=by, ttl=seconds)
    except NotFoundError as no_run:
        if not ref.startswith("rq-"):
            raise
        try:
            approvals.get_pending(ref)
        except NotFoundError:
            raise no_run from None  # neither a run nor a gate request
        granted = approvals.approve(ref, by=by, ttl_seconds=seconds)  # a gate request, no run
        if as_json:
            echo_json({k: v for k, v in granted.items() if k != "token"})
        else:
            click.echo(
                f"approved {granted['request_id']} once ({granted['approval_id']}, by {granted['approved_by']} "
                f"via {granted['method']}, expires {granted['expires']}): its next check passes once"
            )
        return
    _print_outcome(outcome, as_json)
    _exit(outcome)


@approvals.command("reject")
@click.argument("ref", metavar="ID")
@click.option("--reason", default=None, help="Why (kept with the run).")
@click.option("--by", default=None, help="Who rejects.")
@json_option
def approvals_reject(ref: str, reason: str | None, by: str | None, as_json: bool) -> None:
    """Reject a paused run: it ends without changing anything.   devops approvals reject 3f9c2a1b7d4e --reason "freeze"."""
    from skill.agent.graph import resume

    outcome = resume(ref, approved=False, by=by, reason=reason)
    if as_json:
        echo_json(outcome.model_dump(mode="json"))
    else:
        click.echo(outcome.report)
        click.echo(f"\nstatus: {outcome.status}")
    # Rejecting is what the user asked for: a successful command.
