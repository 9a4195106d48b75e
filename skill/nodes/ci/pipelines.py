"""Pipeline status, watching a run to its end, guarded reruns and pushflow (push, then watch)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from skill.errors import ApprovalRequired, Blocked, NotFoundError, ToolFailedError, UsageError

from .models import PipelineRun, RerunResult
from .platforms import Client, client, current_branch, git

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


def _engine():
    try:
        from skill.guardrails import engine
    except ImportError as exc:
        raise Blocked(f"the guardrails engine is not available ({exc}); refusing to act") from exc
    return engine


def _enforce(decision, what: str) -> None:
    """Turn a gate Decision into nothing (allow), ApprovalRequired (ask) or Blocked."""
    verdict = getattr(decision, "decision", "block")
    why = "; ".join(getattr(decision, "reasons", []) or []) or "policy"
    if verdict == "allow":
        return
    if verdict == "ask":
        rid = getattr(decision, "request_id", None)
        hint = (
            f"approve with: guardrails.py approve {rid} --by NAME, then run the same command again"
            if rid
            else None
        )
        raise ApprovalRequired(f"{what} needs approval: {why}", hint=hint)
    raise Blocked(f"{what} blocked: {why}")


def _gate(target: str, cwd: str | os.PathLike, approval: str | None) -> None:
    """The guardrail gate for ci_rerun. Fails closed when the engine cannot be loaded."""
    decision = _engine().check_action(
        "ci_rerun", target=target, approval=approval, caller="devops", cwd=str(cwd)
    )
    _enforce(decision, f"ci_rerun of {target}")


def _gate_push(remote: str, branch: str, cwd: str | os.PathLike, approval: str | None) -> None:
    """pushflow runs `git push` for the caller, so the push is judged as if typed (force-push rules ...)."""
    command = f"git push {remote} {branch}"
    decision = _engine().check_command(command, cwd=str(cwd), approval=approval, caller="devops")
    _enforce(decision, command)


def rerun_failed(
    run_id: str | None = None,
    cwd: str | os.PathLike = ".",
    approval: str | None = None,
    ci: Client | None = None,
) -> RerunResult:
    """Rerun the failed jobs of a run after the guardrail gate allows action ``ci_rerun``."""
    c = ci or client(cwd)
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
    target = f"{c.remote.slug}#{run.id}"
    _gate(target, cwd, approval)
    done = c.rerun(run, failed_only=True)
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
    _gate_push(remote, branch, cwd, approval)
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
