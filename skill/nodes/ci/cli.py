"""`devops ci ...`: thin click commands over the CI node's library functions."""

from __future__ import annotations

import sys

import click

from skill.cli_support import ErrorHandlingGroup, echo_json, emit, json_option, output_option, resolve_format
from skill.errors import EXIT_FINDINGS, EXIT_OK, InputError, UsageError

_DIR = click.Path(file_okay=False, exists=True)
_JSON_FINDING_KEYS = ("id", "severity", "file", "line", "column", "job", "message", "fix")  # issue 5


def _when(ts: str | None) -> str:
    return (ts or "").replace("T", " ").replace("Z", "")[:16]


def _icon(run) -> str:
    if not run.finished:
        return "…" if run.status == "in_progress" else "·"
    return "✓" if run.succeeded else "✗"


def _run_line(run) -> str:
    state = run.conclusion if run.finished else run.raw_status or run.status
    title = (run.title or "")[:50]
    return f"{_icon(run)} {run.id:<12} {state or '':<12} {(run.name or '')[:24]:<24} {(run.branch or '')[:20]:<20} {_when(run.created_at)}  {title}"


@click.group(cls=ErrorHandlingGroup)
def ci() -> None:
    """Pipelines (GitHub Actions via gh, GitLab CI via glab) and the workflow audit."""


@ci.command("status")
@click.option("--branch", "-b", default=None, help="Only runs of this branch.")
@click.option("--limit", "-L", default=10, show_default=True, type=click.IntRange(1, 200))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--cwd", default=".", type=_DIR, help="Repository directory.")
def status_cmd(branch: str | None, limit: int, as_json: bool, cwd: str) -> None:
    """Recent pipeline runs, newest first.  Example: devops ci status --branch main --limit 5"""
    from skill.nodes.ci.pipelines import pipeline_status

    runs = pipeline_status(cwd, branch=branch, limit=limit)
    if as_json:
        echo_json({"runs": [r.model_dump(mode="json", exclude={"jobs"}) for r in runs]})
        return
    if not runs:
        click.echo(f"No runs{' on ' + branch if branch else ''}.")
        return
    for run in runs:
        click.echo(_run_line(run))


def _progress(run) -> None:
    done = sum(1 for j in run.jobs if j.status == "completed")
    failed = [j.name for j in run.jobs if j.failed]
    state = run.conclusion if run.finished else run.raw_status or run.status
    msg = f"{_icon(run)} run {run.id} {state}: {done}/{len(run.jobs)} jobs done"
    if failed:
        msg += f"; failed: {', '.join(failed)}"
    click.echo(msg)


@ci.command("watch")
@click.argument("run_id", required=False)
@click.option(
    "--interval", default=5.0, show_default=True, type=click.FloatRange(0.0), help="Seconds between polls."
)
@click.option(
    "--timeout",
    default=3600.0,
    show_default=True,
    type=click.FloatRange(1.0),
    help="Give up after this many seconds.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the final run as JSON.")
@click.option("--cwd", default=".", type=_DIR)
def watch_cmd(run_id: str | None, interval: float, timeout: float, as_json: bool, cwd: str) -> None:
    """Follow a run until it ends; exit 0 on success, 1 otherwise.  Example: devops ci watch 123456"""
    from skill.nodes.ci.pipelines import watch_run

    run = watch_run(run_id, cwd, interval=interval, timeout=timeout, on_update=None if as_json else _progress)
    if as_json:
        echo_json(run.model_dump(mode="json"))
    else:
        click.echo(f"run {run.id} finished: {run.conclusion}" + (f"  {run.url}" if run.url else ""))
    sys.exit(EXIT_OK if run.succeeded else EXIT_FINDINGS)


def _print_triage(t) -> None:
    run = t.run
    click.echo(
        f"Run {run.id} ({run.name or 'pipeline'}, {run.branch or '?'} @ {(run.sha or '')[:10]}): {run.conclusion}"
    )
    if t.failed_attempt:
        click.echo(f"  attempt {t.failed_attempt} failed, attempt {run.attempt} passed")
    click.echo(f"Classification: {t.classification}  ({'; '.join(t.reasons)})")
    for job in t.failed_jobs:
        steps = ", ".join(s.name for s in job.failed_steps())
        click.echo(
            f"  ✗ {job.name}"
            + (f" [{job.stage}]" if job.stage else "")
            + (f" — step: {steps}" if steps else "")
            + (f" ({job.failure_reason})" if job.failure_reason else "")
        )
    if t.error_lines:
        click.echo(f"Error lines (from {t.log_source}):")
        for e in t.error_lines[:15]:
            click.echo(f"  [{e.kind}] {e.text}")
        if len(t.error_lines) > 15:
            click.echo(f"  ... {len(t.error_lines) - 15} more (use --json)")
    if t.similar:
        click.echo("Seen before:")
        for s in t.similar:
            click.echo(f"  - {s.text[:140]}")
    click.echo(f"Next step: {t.next_step}")
    for notice in t.notices:
        click.echo(f"Note: {notice}", err=True)


@ci.command("triage")
@click.argument("run_id", required=False)
@click.option("--json", "as_json", is_flag=True)
@click.option("--no-remember", is_flag=True, help="Do not write the outcome to memory.")
@click.option("--no-memory", is_flag=True, help="Do not use memory at all (no recall, no write).")
@click.option("--cwd", default=".", type=_DIR)
def triage_cmd(run_id: str | None, as_json: bool, no_remember: bool, no_memory: bool, cwd: str) -> None:
    """Why did a run fail: jobs, error lines, class, similar past failures, next step.  Example: devops ci triage 123456"""
    from skill.nodes.ci.triage import triage_run

    t = triage_run(run_id, cwd, remember=not no_remember, use_memory=not no_memory)
    if as_json:
        echo_json(t.model_dump(mode="json"))
    else:
        _print_triage(t)


@ci.command("rerun")
@click.argument("run_id", required=False)
@click.option("--failed", "failed_only", is_flag=True, help="Rerun only the failed jobs (required).")
@click.option("--approval", default=None, help="An approval id granted by a human (guardrails.py approve).")
@click.option("--json", "as_json", is_flag=True)
@click.option("--cwd", default=".", type=_DIR)
def rerun_cmd(run_id: str | None, failed_only: bool, approval: str | None, as_json: bool, cwd: str) -> None:
    """Rerun the failed jobs through the safety gate (action ci_rerun).  Example: devops ci rerun 123456 --failed"""
    from skill.nodes.ci.pipelines import rerun_failed

    if not failed_only:
        raise UsageError("only `--failed` reruns are supported: pass --failed")
    res = rerun_failed(run_id, cwd, approval=approval)
    if as_json:
        echo_json(res.model_dump(mode="json"))
    else:
        click.echo(res.message + (f" (jobs {', '.join(res.rerun)})" if res.platform == "gitlab" else ""))


@ci.command("pushflow")
@click.argument("remote", required=False, default="origin")
@click.argument("branch", required=False)
@click.option("--interval", default=5.0, show_default=True, type=click.FloatRange(0.0))
@click.option(
    "--wait",
    "appear_timeout",
    default=120.0,
    show_default=True,
    type=click.FloatRange(0.0),
    help="Seconds to wait for the pipeline to appear.",
)
@click.option("--timeout", default=3600.0, show_default=True, type=click.FloatRange(1.0))
@click.option(
    "--approval", default=None, help="An approval id granted by a human, when the gate asks for one."
)
@click.option("--json", "as_json", is_flag=True)
@click.option("--cwd", default=".", type=_DIR)
def pushflow_cmd(
    remote: str,
    branch: str | None,
    interval: float,
    appear_timeout: float,
    timeout: float,
    approval: str | None,
    as_json: bool,
    cwd: str,
) -> None:
    """git push, then watch the pipeline that push started.  Example: devops ci pushflow origin main"""
    from skill.nodes.ci.pipelines import pushflow

    quiet = as_json
    runs = pushflow(
        remote,
        branch,
        cwd,
        interval=interval,
        appear_timeout=appear_timeout,
        timeout=timeout,
        on_update=None if quiet else _progress,
        on_push=None
        if quiet
        else (lambda sha: click.echo(f"pushed {sha[:10]}; waiting for its pipeline ...")),
    )
    ok = all(r.succeeded for r in runs)
    if as_json:
        echo_json({"runs": [r.model_dump(mode="json") for r in runs], "ok": ok})
    else:
        for r in runs:
            click.echo(
                f"{_icon(r)} {r.name or 'pipeline'} run {r.id}: {r.conclusion}"
                + (f"  {r.url}" if r.url else "")
            )
    sys.exit(EXIT_OK if ok else EXIT_FINDINGS)


@ci.command("audit")
@click.argument("path", required=False, default=".", type=click.Path(exists=True))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "sarif", "md"]), default="text", show_default=True
)
@click.option(
    "--fail-on",
    type=click.Choice(["critical", "high", "medium", "low", "info"]),
    default="high",
    show_default=True,
    help="Exit 1 when a finding is at or above this severity.",
)
@json_option
@output_option
def audit_cmd(path: str, fmt: str, fail_on: str, as_json: bool, output: str | None) -> None:
    """Audit .github/workflows/*.yml and .gitlab-ci.yml.  Example: devops ci audit . --format sarif -o ci.sarif"""
    from skill import report
    from skill.findings import at_or_above
    from skill.nodes.ci.audit import RULES, audit_workflows

    fmt = resolve_format(fmt, as_json)

    rep = audit_workflows(path)
    if not rep.files:  # a wrong directory must not pass as a clean audit
        raise InputError(
            f"no pipeline files under {path} (.github/workflows/*.yml, .gitlab-ci.yml, action.yml)"
        )
    blocking = at_or_above(rep.findings, fail_on)
    if fmt == "json":
        payload = {
            "path": rep.path,
            "files": rep.files,
            "findings": [{k: getattr(f, k) for k in _JSON_FINDING_KEYS} for f in rep.findings],
            "suppressed": rep.suppressed,
        }
        emit(report.to_json(payload), output)
    elif fmt == "sarif":
        emit(report.to_sarif("devops-ci-audit", rep.findings, RULES), output)
    elif fmt == "md":
        emit(
            report.to_markdown(
                "CI workflow audit", rep.findings, summary_lines=[f"{len(rep.files)} file(s) audited."]
            ),
            output,
        )
    else:
        footer = (
            f"{len(rep.files)} file(s), {len(rep.findings)} finding(s), {len(blocking)} at or above {fail_on}"
        )
        if rep.suppressed:
            footer += f", {rep.suppressed} suppressed"
        if sys.stdout.isatty() and not output:
            report.print_table("CI workflow audit", rep.findings, footer=footer)
        else:  # linter-style lines: file:line:col, one finding per line, easy to grep and click
            lines = [
                f"{f.file}:{f.line or 0}:{f.column or 0}: {f.severity} {f.id} {f.message}"
                + (f" [job {f.job}]" if f.job else "")
                for f in rep.findings
            ]
            emit("\n".join([*lines, footer]) + "\n", output)
    sys.exit(EXIT_FINDINGS if blocking else EXIT_OK)
