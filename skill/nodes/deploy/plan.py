"""Build a deploy plan before anything runs: steps, health gates and the rollback plan.

No rollback plan, no deploy: the plan names the version to return to (the last good one
from memory, or one given explicitly) and the exact command that returns to it.
"""

from __future__ import annotations

import re
from typing import Any

from skill.environments import PRODUCTION, STAGING, normalize
from skill.errors import EXIT_FINDINGS, ConfigError, DevopsError, UsageError
from skill.memory import Memory
from skill.nodes.deploy.analysis import validate_analysis
from skill.nodes.deploy.drivers import Driver, make_driver, render
from skill.nodes.deploy.models import DeployPlan, DeployRequest, HealthGate, PlanStep, RollbackPlan
from skill.nodes.deploy.settings import deploy_settings, fill
from skill.nodes.deploy.versions import classify_version


class NoRollbackPlan(DevopsError):
    """No version to return to: the deploy is refused (a gate not met)."""

    exit_code = EXIT_FINDINGS


_SERVICE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,251}[A-Za-z0-9])?")


def check_service(name: str) -> str:
    """A service name as Kubernetes, Helm and file names accept it; anything else is refused.

    The name becomes kubectl/helm arguments, a lock file name and a memory key: spaces, quotes
    or ``;`` there are a typo at best.
    """
    if not _SERVICE.fullmatch(name or ""):
        raise UsageError(
            f"invalid service name {name!r}" if name else "no service given",
            hint="letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
        )
    return name


def gate_action(environment: str | None) -> str:
    """The guardrails action for a deploy to this environment."""
    if environment == PRODUCTION:
        return "deploy_production"
    if environment == STAGING:
        return "deploy_staging"
    return "deploy"


def parse_steps(raw: str | list[int] | None) -> list[int] | None:
    """``"10,50,100"`` -> [10, 50, 100]; strictly increasing weights in 1..100 ending at 100."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            steps = [int(part) for part in raw.replace(" ", "").split(",") if part]
        except ValueError as exc:
            raise UsageError(f"invalid --steps {raw!r}", hint="use weights like 10,50,100") from exc
    else:
        steps = [int(s) for s in raw]
    if not steps or any(not 0 < s <= 100 for s in steps) or steps != sorted(set(steps)):
        raise UsageError(
            f"invalid canary steps {steps}", hint="strictly increasing weights in 1..100, e.g. 10,50,100"
        )
    if steps[-1] != 100:
        raise UsageError(f"canary steps {steps} must end at 100", hint="e.g. 10,50,100")
    return steps


def check_url(key: str, url: str) -> str:
    """A configured http(s) URL, or ConfigError now: found at plan time, not mid-deploy."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise ConfigError(f"[deploy] {key} = {url!r}: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"[deploy] {key} = {url!r} is not an http(s) URL")
    return url


def _number(settings: dict[str, Any], key: str, default: float, kind=float, minimum: float = 0):
    raw = settings.get(key, default)
    try:
        value = kind(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"[deploy] {key} = {raw!r} is not a number") from exc
    if value < minimum:
        raise ConfigError(f"[deploy] {key} = {raw!r} must be at least {minimum}")
    return value


def health_gate(
    settings: dict[str, Any], url_key: str, version_key: str, version: str | None, **values
) -> HealthGate | None:
    url = fill(settings.get(url_key), **values)
    if not url:
        return None
    version_url = fill(settings.get(version_key), **values) or None
    return HealthGate(
        url=check_url(url_key, url),
        version_url=check_url(version_key, version_url) if version_url else None,
        # a plain /healthz says "ok", not a version: only check versions where a URL reports one
        expect_version=version if version_url else None,
        timeout=_number(settings, "health_timeout", 2.0, minimum=0.001),
        attempts=_number(settings, "health_attempts", 5, int, minimum=1),
        backoff_initial=_number(settings, "backoff_initial", 0.5),
        backoff_max=_number(settings, "backoff_max", 8.0),
        jitter=_number(settings, "jitter", 0.5),
    )


ROLLBACK_BOUND_SECONDS = 300.0  # the skill document: "< 5 min rollback or don't ship"


def rollback_worst_case(driver_timeout: float, gate: HealthGate | None) -> float:
    """Seconds a rollback may take when every wait runs to its limit.

    The driver's waiting command (``rollout status``, ``helm --wait``) stops at its timeout;
    the health gate then makes ``attempts`` requests of ``timeout`` each with capped backoff
    (plus the full jitter) in between.
    """
    total = driver_timeout
    if gate is not None:
        total += gate.attempts * gate.timeout
        total += sum(
            min(gate.backoff_initial * 2**n + gate.jitter, gate.backoff_max) for n in range(gate.attempts - 1)
        )
    return round(total, 1)


def find_rollback_version(memory, service: str, environment: str, version: str) -> str | None:
    """The version to return to if ``version`` fails: what runs now, when memory counts it good.

    ``last_good_version(before_version=X)`` answers "the good version deployed before X was",
    which is right for a new X or a re-deploy of the live one, but not for a deliberate
    downgrade: re-deploying an older v1.1.0 while v1.2.0 is live must fall back to v1.2.0,
    not to whatever preceded v1.1.0 long ago.
    """
    live_good = memory.last_good_version(service, environment)
    if live_good and live_good != version:
        return live_good
    good = memory.last_good_version(service, environment, before_version=version)
    return good if good and good != version else None


def plan_deploy(
    request: DeployRequest,
    *,
    memory=None,
    settings: dict[str, Any] | None = None,
    driver: Driver | None = None,
) -> DeployPlan:
    """The plan for ``request``; raises UsageError for a mutable version or bad steps.

    A plan without a rollback (``plan.rollback is None``) is returned so a dry run can show
    it; ``execute_deploy`` refuses it.
    """
    check_service(request.service)
    version_kind = classify_version(request.version)
    environment = normalize(request.env) or request.env
    if request.rollback_to:
        classify_version(request.rollback_to)
        if request.rollback_to == request.version:
            raise UsageError("the rollback version is the version being deployed")
    steps_in = parse_steps(request.steps) if request.strategy == "canary" else None
    settings = settings if settings is not None else deploy_settings(request.env, environment)
    drv = driver or make_driver(
        settings, service=request.service, env=request.env, environment=environment, strategy=request.strategy
    )
    values = {"service": request.service, "env": request.env, "environment": environment}
    warnings: list[str] = []

    main_gate = health_gate(settings, "health_url", "version_url", request.version, **values)
    if main_gate is None:
        warnings.append("no [deploy] health_url configured: only the driver's own wait verifies each step")

    steps: list[PlanStep] = []

    def add(action: str, description: str, *, weight=None, health=None, analysis=False) -> None:
        idx = len(steps)
        cmds = drv.commands(action, request.version, weight=weight, step=idx)
        steps.append(
            PlanStep(
                index=idx,
                action=action,
                weight=weight,
                description=description,
                commands=render(cmds),
                health=health,
                analysis=analysis,
            )
        )

    analysis_cfg = None
    if request.strategy == "rolling":
        add("deploy", f"rolling update of {request.service} to {request.version}", health=main_gate)
    elif request.strategy == "canary":
        weights = steps_in or parse_steps(settings.get("canary_steps")) or [10, 50, 100]
        analysis_cfg = dict(settings.get("analysis") or {})
        has_analysis = bool(str(analysis_cfg.get("prometheus_url") or "").strip())
        if has_analysis:
            check_url("analysis prometheus_url", str(analysis_cfg["prometheus_url"]).strip())
            validate_analysis(analysis_cfg)
        if not has_analysis:
            warnings.append(
                "no [deploy.analysis] prometheus_url: canary steps are gated by health checks only"
            )
            analysis_cfg = None
        # the canary's own endpoint checks the new pods (and their version); the shared one only
        # says the mix is healthy, so no version is expected there
        canary_gate = health_gate(
            settings, "canary_health_url", "canary_version_url", request.version, **values
        )
        if canary_gate is None and main_gate is not None:
            canary_gate = main_gate.model_copy(update={"expect_version": None, "version_url": None})
        for weight in weights:
            if weight < 100:
                add(
                    "canary",
                    f"canary {request.version} at {weight}% of traffic",
                    weight=weight,
                    health=canary_gate,
                    analysis=has_analysis,
                )
            else:
                add("promote", f"promote {request.version} to 100%", weight=100, health=main_gate)
    elif request.strategy == "blue-green":
        preview_gate = health_gate(
            settings, "preview_health_url", "preview_version_url", request.version, **values
        )
        if preview_gate is None:
            warnings.append(
                "no [deploy] preview_health_url: the preview side is not health-checked before the switch"
            )
        add("stage", f"bring {request.version} up on the idle side (no traffic)", health=preview_gate)
        add("switch", f"switch all traffic to {request.version} atomically", health=main_gate)
    else:
        raise UsageError(f"unknown strategy {request.strategy!r}", hint="rolling, blue-green or canary")

    rollback = None
    if request.rollback_to:
        good, source = request.rollback_to, "explicit"
    else:
        mem = memory if memory is not None else Memory.open()
        try:
            good, source = find_rollback_version(mem, request.service, environment, request.version), "memory"
        finally:
            if memory is None:
                mem.close()
    if good:
        rb_gate = health_gate(settings, "health_url", "version_url", good, **values)
        worst = rollback_worst_case(drv.timeout, rb_gate)
        rollback = RollbackPlan(
            version=good,
            source=source,
            commands=render(drv.commands("rollback", good, previous=request.version)),
            health=rb_gate,
            worst_case_seconds=worst,
        )
        if worst > ROLLBACK_BOUND_SECONDS:
            warnings.append(
                f"the rollback could take up to {worst / 60:.1f} min (driver timeout + health checks), over "
                "the skill's 5-minute bound ('< 5 min rollback or don't ship'): lower [deploy] timeout "
                "or health_attempts"
            )
    return DeployPlan(
        request=request,
        environment=environment,
        gate_action=gate_action(environment),
        version_kind=version_kind,
        driver=drv.name,
        steps=steps,
        rollback=rollback,
        analysis=analysis_cfg,
        warnings=warnings,
        settings=settings,
    )


def require_rollback(plan: DeployPlan) -> None:
    if plan.rollback is None:
        req = plan.request
        raise NoRollbackPlan(
            f"no rollback plan for {req.service} in {plan.environment}: memory has no earlier good version",
            hint="give the version to return to with --rollback-to VERSION; no rollback plan, no deploy",
        )
