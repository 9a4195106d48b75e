"""Run a deploy plan step by step, verify each step, roll back on failure, record the outcome.

The gate is not checked here: the CLI and the agent graph check it before calling
``execute_deploy`` (the graph pauses for approval in between). Memory records:

* success            -> the deployment, status ``succeeded``;
* failure            -> the deployment, status ``rolled_back`` (or ``failed`` when the rollback
                        failed too), and the rollback as its own deployment of the good version
                        with ``rolled_back_from`` = the bad one (a failed rollback is remembered
                        as a note instead, so it does not mark the good version as bad);
* inconclusive canary -> the deployment, status ``in_progress`` (paused, nothing rolled back).
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from pathlib import Path

from skill.durations import iso, utcnow
from skill.environments import normalize
from skill.errors import Blocked, DevopsError, StorageError, UsageError
from skill.memory import Memory
from skill.nodes.deploy.analysis import run_analysis
from skill.nodes.deploy.drivers import Driver, make_driver, render
from skill.nodes.deploy.health import check_health
from skill.nodes.deploy.models import DeployPlan, DeployResult, HealthGate, RollbackResult, StepResult
from skill.nodes.deploy.plan import check_service, find_rollback_version, health_gate, require_rollback
from skill.nodes.deploy.settings import deploy_settings
from skill.nodes.deploy.versions import classify_version
from skill.paths import ensure_data_dir
from skill.redact import redact

Progress = Callable[[str], None]


def _noop(_: str) -> None:
    pass


def _driver_for(plan: DeployPlan) -> Driver:
    req = plan.request
    return make_driver(
        plan.settings or deploy_settings(req.env, plan.environment),
        service=req.service,
        env=req.env,
        environment=plan.environment,
        strategy=req.strategy,
    )


def _run_rollback(
    driver: Driver,
    *,
    version: str,
    failed_version: str,
    gate: HealthGate | None,
    sleep: Callable[[float], None],
    progress: Progress,
) -> RollbackResult:
    progress(f"rolling back to {version}")
    try:
        driver.apply("rollback", version, previous=failed_version)
    except DevopsError as exc:
        return RollbackResult(version=version, status="failed", detail=f"rollback command failed: {exc}")
    except Exception as exc:  # noqa: BLE001 - an unexpected error must still end as a recorded outcome
        return RollbackResult(
            version=version, status="failed", detail=f"rollback command failed: {_internal(exc)}"
        )
    except KeyboardInterrupt as exc:
        # Ctrl-C or SIGTERM while the rollback command runs: the cluster is in an unknown state,
        # which is exactly what the record (and the person on call) must hear about
        how = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
        return RollbackResult(
            version=version, status="failed", detail=f"rollback command {how}: state unknown, check it now"
        )
    if gate is not None:
        try:
            health = check_health(gate, sleep=sleep)
        except KeyboardInterrupt:
            return RollbackResult(
                version=version,
                status="failed",
                detail="rollback command done, health check interrupted: verify the service now",
            )
        if not health.ok:
            return RollbackResult(
                version=version, status="failed", detail=f"after rollback: {health.error}", health=health
            )
        return RollbackResult(
            version=version, status="succeeded", detail="healthy after rollback", health=health
        )
    return RollbackResult(version=version, status="succeeded", detail="rollback command succeeded")


def execute_deploy(
    plan: DeployPlan,
    *,
    memory=None,
    driver: Driver | None = None,
    sleep: Callable[[float], None] = time.sleep,
    progress: Progress | None = None,
) -> DeployResult:
    """Execute ``plan``; always returns a result (a failed step is an outcome, not an error).

    Raises NoRollbackPlan when the plan has no rollback, before anything runs.
    """
    require_rollback(plan)
    with deploy_lock(plan.request.service, plan.environment), _terminate_as_abort() as abort:
        return _execute(
            plan, memory=memory, driver=driver, sleep=sleep, progress=progress or _noop, abort=abort
        )


class Terminated(KeyboardInterrupt):
    """SIGTERM during a deploy (a cancelled CI job, ``kill``): handled like Ctrl-C."""


class _Abort:
    """SIGTERM bookkeeping: raise inside a step (``armed``), else only note it for the loop."""

    def __init__(self) -> None:
        self.armed = False
        self.fired = False

    def handler(self, signum, frame) -> None:
        if self.fired:
            return  # the rollback and the record must finish
        self.fired = True
        if self.armed:
            raise Terminated()


@contextlib.contextmanager
def _terminate_as_abort():
    """While a deploy runs in the main thread, SIGTERM aborts it like Ctrl-C: the running step
    stops, the rollback runs and both outcomes are recorded, instead of the process dying with
    no record at all. Between steps the signal is noted and the next step does not start.
    """
    import signal
    import threading

    abort = _Abort()
    if threading.current_thread() is not threading.main_thread():
        yield abort
        return
    try:
        previous = signal.signal(signal.SIGTERM, abort.handler)
    except (ValueError, OSError):  # not allowed here (embedded interpreters): run as before
        yield abort
        return
    try:
        yield abort
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def deploy_lock(service: str, environment: str):
    """One deploy or rollback per service and environment at a time, across processes."""
    from filelock import FileLock, Timeout

    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", f"deploy-{service}-{environment}")
    try:
        folder = Path(ensure_data_dir()) / "locks"
        folder.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(folder / f"{safe}.lock"))
        lock.acquire(timeout=0)
    except Timeout as exc:
        raise Blocked(
            f"another deploy or rollback of {service} in {environment} is running",
            hint="wait for it to finish; each outcome is recorded in memory",
        ) from exc
    except OSError as exc:
        raise StorageError(f"cannot take the deploy lock: {exc}") from exc
    try:
        yield
    finally:
        lock.release()


def _run_step(plan: DeployPlan, step, result: StepResult, drv: Driver, sleep, progress: Progress):
    """Apply one step and verify it; returns (failure, paused) messages, both None when it passed."""
    req = plan.request
    try:
        drv.apply(step.action, req.version, weight=step.weight, step=step.index)
    except DevopsError as exc:
        result.status, result.detail = "failed", f"driver: {exc}"
        return f"step {step.index + 1} ({step.action}) failed: {exc}", None
    if step.health is not None:
        health = check_health(step.health, sleep=sleep)
        result.health = health
        if not health.ok:
            result.status = "failed"
            result.detail = f"health check failed after {health.attempts} attempts"
            return f"step {step.index + 1} ({step.action}) unhealthy: {health.error}", None
        progress(f"  healthy ({health.attempts} attempt{'s' if health.attempts != 1 else ''})")
    if step.analysis and plan.analysis:
        try:
            analysis = run_analysis(
                plan.analysis,
                service=req.service,
                env=req.env,
                version=req.version,
                weight=step.weight,
                sleep=sleep,
            )
        except DevopsError as exc:
            result.status, result.detail = "paused", f"analysis could not run: {exc}"
            return None, result.detail
        result.analysis = analysis
        progress(f"  {analysis.message}")
        if analysis.phase == "failed":
            result.status, result.detail = "failed", analysis.message
            return f"step {step.index + 1} (canary {step.weight}%): {analysis.message}", None
        if analysis.phase == "inconclusive":
            result.status, result.detail = "paused", analysis.message
            return None, f"paused at {step.weight}%: {analysis.message}"

    return None, None


def _execute(
    plan: DeployPlan, *, memory, driver, sleep, progress: Progress, abort: _Abort | None = None
) -> DeployResult:
    req = plan.request
    drv = driver or _driver_for(plan)
    started = utcnow()
    steps: list[StepResult] = []
    failure: str | None = None
    paused: str | None = None
    abort = abort or _Abort()

    for step in plan.steps:
        progress(f"step {step.index + 1}/{len(plan.steps)}: {step.description}")
        result = StepResult(index=step.index, action=step.action, weight=step.weight, status="succeeded")
        steps.append(result)
        try:
            if abort.fired:
                raise Terminated()
            abort.armed = True
            try:
                failure, paused = _run_step(plan, step, result, drv, sleep, progress)
            finally:
                abort.armed = False
        except KeyboardInterrupt as exc:
            # an operator's Ctrl-C (or SIGTERM) aborts like Argo's abort: back to the good version,
            # recorded
            how = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted by the operator"
            result.status, result.detail = "failed", "interrupted"
            failure = f"step {step.index + 1} ({step.action}) {how}"
        except Exception as exc:  # noqa: BLE001
            # the step may have half-applied: treat it as failed, so the rollback runs and both
            # outcomes are recorded, instead of a traceback that leaves no record at all
            result.status, result.detail = "failed", _internal(exc)
            failure = f"step {step.index + 1} ({step.action}) failed: {_internal(exc)}"
        if failure or paused:
            break
        result.detail = result.detail or "ok"

    for step in plan.steps[len(steps) :]:
        steps.append(
            StepResult(
                index=step.index, action=step.action, weight=step.weight, status="skipped", detail="not run"
            )
        )

    rollback_result: RollbackResult | None = None
    if failure:
        assert plan.rollback is not None
        rollback_result = _run_rollback(
            drv,
            version=plan.rollback.version,
            failed_version=req.version,
            gate=plan.rollback.health,
            sleep=sleep,
            progress=progress,
        )
        status = "rolled_back" if rollback_result.status == "succeeded" else "failed"
        message = failure + (
            f"; rolled back to {plan.rollback.version}"
            if status == "rolled_back"
            else f"; ROLLBACK TO {plan.rollback.version} FAILED ({rollback_result.detail}): act now"
        )
    elif paused:
        status, message = (
            "paused",
            paused + " — a human decides: re-run with the remaining --steps, or --rollback",
        )
    else:
        status, message = "succeeded", f"{req.service} {req.version} is live in {plan.environment}"
    finished = utcnow()

    result = DeployResult(
        service=req.service,
        env=plan.environment,
        version=req.version,
        strategy=req.strategy,
        status=status,
        message=message,
        steps=steps,
        rollback=rollback_result,
        started=iso(started),
        finished=iso(finished),
    )
    _scrub(result)
    try:
        _record(plan, result, memory)
    except DevopsError as exc:
        # the deploy happened either way: report it, and say loudly that memory missed it
        result.message += f"; NOT RECORDED in memory ({redact(str(exc))})"
    return result


def _internal(exc: Exception) -> str:
    return f"internal error: {type(exc).__name__}: {exc}"


def _scrub(result: DeployResult) -> None:
    """Tool stderr and URLs end up in messages: no credential leaves through them."""
    result.message = redact(result.message)
    healths = [step.health for step in result.steps if step.health is not None]
    if result.rollback is not None and result.rollback.health is not None:
        healths.append(result.rollback.health)
    for health in healths:
        health.url, health.error = redact(health.url), redact(health.error or "") or None
    for step in result.steps:
        step.detail = redact(step.detail)
    if result.rollback is not None:
        result.rollback.detail = redact(result.rollback.detail)


def _record(plan: DeployPlan, result: DeployResult, memory) -> None:
    req = plan.request
    mem = memory if memory is not None else Memory.open()
    try:
        commit = req.version if plan.version_kind == "sha" else None
        memory_status = {"paused": "in_progress"}.get(result.status, result.status)
        dep = mem.record_deployment(
            req.service,
            plan.environment,
            req.version,
            commit=commit,
            strategy=req.strategy,
            status=memory_status,
            started=result.started,
            finished=result.finished,
            by=req.by,
            notes=result.message,
        )
        result.deployment_id = getattr(dep, "id", None)
        if result.rollback is not None:
            result.rollback.deployment_id = _record_rollback(
                mem,
                service=req.service,
                environment=plan.environment,
                rollback=result.rollback,
                from_version=req.version,
                started=result.finished,
                by=req.by,
                why="automatic",
            )
    finally:
        if memory is None:
            mem.close()


def _record_rollback(
    mem, *, service, environment, rollback: RollbackResult, from_version, started, by, why
) -> str | None:
    """A rollback that ran is a deployment of the good version; one that failed is only a note.

    Memory counts a version with a failed deployment as bad, and a failed rollback says
    nothing bad about the version it tried to reach (the driver or the cluster failed).
    """
    if rollback.status == "succeeded":
        dep = mem.record_deployment(
            service,
            environment,
            rollback.version,
            strategy="rollback",
            status="succeeded",
            started=started,
            finished=iso(utcnow()),
            rolled_back_from=from_version,
            by=by,
            notes=f"{why} rollback of {from_version}: {rollback.detail}",
        )
        return getattr(dep, "id", None)
    rec = mem.remember(
        f"[devops] Rollback of {service} in {environment} from {from_version} to {rollback.version} FAILED: "
        f"{rollback.detail}",
        kind="note",
        service=service,
        env=environment,
        version=rollback.version,
        tags=("rollback", "failed"),
        importance=0.9,
        source="deploy",
    )
    return getattr(rec, "id", None)


def rollback(
    service: str,
    env: str,
    to_version: str | None = None,
    *,
    from_version: str | None = None,
    strategy: str = "rolling",
    memory=None,
    driver: Driver | None = None,
    by: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> DeployResult:
    """Return ``service`` in ``env`` to ``to_version`` (default: the last good one in memory).

    Not gated here: callers check the guardrails action ``rollback`` first. Records the
    rollback as a deployment with ``rolled_back_from`` = the version it replaced.
    """
    with _rollback_target(service, env, to_version, from_version, memory) as target:
        environment, settings, mem, from_version, to_version = target
        with deploy_lock(service, environment):
            return _rollback(
                service,
                env,
                environment,
                to_version,
                from_version,
                strategy,
                mem,
                driver,
                by,
                sleep,
                settings,
            )


def _rollback_versions(
    mem, service: str, environment: str, to_version: str | None, from_version: str | None
) -> tuple[str | None, str]:
    """(the version being replaced, the version to return to), or UsageError."""
    if from_version is None:
        latest = mem.deployments(service=service, env=environment, limit=1)
        from_version = latest[0].version if latest else None
    if to_version is None:
        to_version = find_rollback_version(mem, service, environment, from_version) if from_version else None
        if to_version is None:
            to_version = mem.last_good_version(service, environment)
    if not to_version:
        raise UsageError(
            f"no version to roll {service} in {environment} back to: memory has no good deployment",
            hint="give one with --rollback-to VERSION",
        )
    classify_version(to_version)
    if to_version == from_version:
        # Right after an automatic rollback the live version IS the last good one. Rolling
        # "back" to it would record it as rolled back from itself, which memory reads as
        # "this version is bad": the one good version would stop being a rollback target.
        raise UsageError(
            f"{service} in {environment} already runs {to_version} (the last good version in "
            "memory): nothing older to roll back to",
            hint="give an older version with --rollback-to VERSION",
        )
    return from_version, to_version


@contextlib.contextmanager
def _rollback_target(service, env, to_version, from_version, memory):
    """(environment, settings, memory, from, to) for a rollback, every check done first."""
    check_service(service)
    environment = normalize(env) or env
    settings = deploy_settings(env, environment)  # an unknown environment fails here, first
    mem = memory if memory is not None else Memory.open()
    try:
        from_version, to_version = _rollback_versions(mem, service, environment, to_version, from_version)
        yield environment, settings, mem, from_version, to_version
    finally:
        if memory is None:
            mem.close()


def plan_rollback(
    service: str,
    env: str,
    to_version: str | None = None,
    *,
    from_version: str | None = None,
    strategy: str = "rolling",
    memory=None,
) -> dict:
    """What ``rollback`` would do, changing nothing: the versions and the driver commands."""
    with _rollback_target(service, env, to_version, from_version, memory) as target:
        environment, settings, _, from_version, to_version = target
    drv = make_driver(settings, service=service, env=env, environment=environment, strategy=strategy)
    return {
        "service": service,
        "env": environment,
        "from_version": from_version,
        "to_version": to_version,
        "commands": render(drv.commands("rollback", to_version, previous=from_version)),
    }


def _rollback(
    service, env, environment, to_version, from_version, strategy, mem, driver, by, sleep, settings
) -> DeployResult:
    drv = driver or make_driver(
        settings, service=service, env=env, environment=environment, strategy=strategy
    )
    values = {"service": service, "env": env, "environment": environment}
    gate = health_gate(settings, "health_url", "version_url", to_version, **values)
    started = utcnow()
    with _terminate_as_abort() as abort:
        abort.armed = True  # SIGTERM stops the rollback command; the outcome is still recorded
        rb = _run_rollback(
            drv, version=to_version, failed_version=from_version or "", gate=gate, sleep=sleep, progress=_noop
        )
        abort.armed = False
    finished = utcnow()
    ok = rb.status == "succeeded"
    result = DeployResult(
        service=service,
        env=environment,
        version=to_version,
        strategy="rollback",
        status="succeeded" if ok else "failed",
        message=(f"rolled back to {to_version}" if ok else f"rollback to {to_version} failed: {rb.detail}"),
        rollback=rb,
        started=iso(started),
        finished=iso(finished),
    )
    _scrub(result)  # before memory sees any of it
    try:
        rb.deployment_id = _record_rollback(
            mem,
            service=service,
            environment=environment,
            rollback=rb,
            from_version=from_version,
            started=iso(started),
            by=by,
            why="manual",
        )
    except DevopsError as exc:
        result.message += f"; NOT RECORDED in memory ({redact(str(exc))})"
    result.deployment_id = rb.deployment_id
    return result
