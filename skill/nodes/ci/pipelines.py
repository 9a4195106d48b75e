"""Pipeline status, watching a run to its end, guarded reruns and pushflow (push, then watch)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from skill.errors import NotFoundError, ToolFailedError, UsageError
from skill.nodes.ci.models import PipelineRun, RerunResult
from skill.nodes.ci.platforms import Client, client, current_branch, git

Update = Callable[[PipelineRun], None]


def pipeline_status(
    cwd: str | os.PathLike = ".", branch: str | None = None, limit: int = 10, ci: Client | None = None
) -> list[PipelineRun]:
    """Recent runs/pipelines, newest first (gh run list / glab ci list)."""
    if limit < 1:
        raise UsageError("--limit must be at least 1")
    return (ci or client(cwd)).list_runs(branch=branch, limit=limit)


def _latest(c: Client, cwd: str | os.PathLike) -> PipelineRun:
    branch = current_branch(cwd)
    runs = c.list_runs(branch=branch, limit=1)
    if not runs:
        raise NotFoundError(f"no runs on {branch or 'the current branch'}")
    return runs[0]


def _signature(run: PipelineRun) -> tuple:
    return (run.status, run.conclusion, tuple((j.name, j.status, j.conclusion) for j in run.jobs))


def watch_run(
    run_id: str | None = None,
    cwd: str | os.PathLike = ".",
    interval: float = 5.0,
    timeout: float = 3600.0,
    on_update: Update | None = None,
    ci: Client | None = None,
) -> PipelineRun:
    """Poll a run until it completes; ``on_update`` sees every change. Returns the final run."""
    c = ci or client(cwd)
    rid = run_id or _latest(c, cwd).id
    deadline = time.monotonic() + timeout
    last = None
    while True:
        run = c.view_run(rid)
        sig = _signature(run)
        if sig != last and on_update:
            on_update(run)
        last = sig
        if run.finished:
            return run
        if time.monotonic() >= deadline:
            raise ToolFailedError(f"run {rid} still {run.raw_status or run.status} after {timeout:g}s")
        time.sleep(interval)


def _resolve_failed_run(c: Client, run_id: str | None, cwd: str | os.PathLike) -> PipelineRun:
    if run_id:
        run = c.view_run(run_id)
    else:
        branch = current_branch(cwd)
        run = next((r for r in c.list_runs(branch=branch, limit=20) if r.failed), None)
        if run is None:
            raise NotFoundError(f"no failed run on {branch or 'the current branch'} to rerun")
        run = c.view_run(run.id)
    if not run.finished:
        raise UsageError(f"run {run.id} is still {run.raw_status or run.status}: wait for it to finish")
    if run.succeeded:
        raise UsageError(f"run {run.id} succeeded: no failed jobs to rerun")
    return run


def rerun_failed(
    run_id: str | None = None,
    cwd: str | os.PathLike = ".",
    approval: str | None = None,
    ci: Client | None = None,
) -> RerunResult:
    """Rerun the failed jobs of a run through the change pipeline (gate ``ci_rerun`` first)."""
    from skill import changes

    c = ci or client(cwd)
    run = _resolve_failed_run(c, run_id, cwd)
    change = changes.PipelineRerun(repo=c.remote.slug, run_id=str(run.id), cwd=os.fspath(cwd))
    changes.gate_or_raise(change, approval, cwd=os.fspath(cwd))
    result = changes.execute(changes.Proposal(change=change, summary=change.describe()), ci=c)
    if not result.ok:
        raise ToolFailedError(result.message)
    return RerunResult.model_validate(result.data)


def request_rerun(change, ci: Client | None = None) -> RerunResult:
    """Ask the CI platform to rerun a run (not gated here: changes.execute runs it after the gate)."""
    c = ci or client(change.cwd or ".")
    run = c.view_run(change.run_id)
    done = c.rerun(run, failed_only=change.failed_only)
    return RerunResult(
        run_id=run.id,
        platform=run.platform,
        decision="allow",
        rerun=done,
        message=f"rerun of the failed jobs of {run.platform} run {run.id} requested",
    )


def pushflow(
    remote: str = "origin",
    branch: str | None = None,
    cwd: str | os.PathLike = ".",
    interval: float = 5.0,
    appear_timeout: float = 120.0,
    timeout: float = 3600.0,
    on_update: Update | None = None,
    on_push: Callable[[str], None] | None = None,
    approval: str | None = None,
) -> list[PipelineRun]:
    """git push (through the guardrail gate), then watch every pipeline started for the pushed
    commit (matched by head SHA)."""
    branch = branch or current_branch(cwd)
    if not branch:
        raise UsageError("detached HEAD: name the branch to push (devops ci pushflow origin BRANCH)")
    c = client(cwd, remote)
    from skill import changes

    # pushflow runs `git push` for the caller, so the push is judged as if typed (force-push rules ...).
    changes.gate_or_raise(
        changes.Command(command=f"git push {remote} {branch}", cwd=os.fspath(cwd)), approval
    )
    git(["push", remote, branch], cwd, timeout=300)
    sha = (
        git(["rev-parse", f"refs/heads/{branch}"], cwd, check=False).stdout.strip()
        or git(["rev-parse", "HEAD"], cwd).stdout.strip()
    )
    if on_push:
        on_push(sha)
    deadline = time.monotonic() + appear_timeout
    while True:
        runs = [r for r in c.list_runs(branch=branch, limit=20, commit=sha) if r.sha == sha]
        if runs:
            break
        if time.monotonic() >= deadline:
            raise NotFoundError(f"no pipeline started for {sha[:10]} on {branch} within {appear_timeout:g}s")
        time.sleep(interval)
    return [watch_run(r.id, cwd, interval=interval, timeout=timeout, on_update=on_update, ci=c) for r in runs]
