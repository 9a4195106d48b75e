"""``devops deploy`` and ``devops flag``: thin click commands over the deploy library.

Order of a deploy: validate the version -> build the plan (no rollback plan, no deploy) ->
the safety gate (exit 3 with a request id when a human must approve, 4 when blocked) ->
execute step by step -> record in memory. ``--dry-run`` stops after the plan (T1: reads only).
"""

from __future__ import annotations

import sys

import click

from skill.cli_support import ErrorHandlingGroup, echo_json
from skill.errors import EXIT_FINDINGS, EXIT_OK, ApprovalRequired, GateRefusal

STRATEGIES = ("rolling", "blue-green", "canary")


def _gate_or_exit(change, *, approval: str | None, as_json: bool) -> None:
    """The change pipeline's gate; a refusal prints this command's own hint (or the JSON payload)."""
    from skill import changes

    try:
        changes.gate_or_raise(change, approval)
    except GateRefusal as exc:
        if as_json:
            echo_json(exc.payload())
            sys.exit(exc.exit_code)
        if isinstance(exc, ApprovalRequired) and exc.request_id:
            exc.hint = (
                f"a human approves with `guardrails.py approve {exc.request_id} --by NAME`, "
                "then run this same command again (the approval covers exactly this change)"
            )
        raise


def _plan_json(plan) -> dict:
    from skill.redact import redact_obj

    return redact_obj(plan.model_dump(mode="json", exclude={"settings"}))


def render_plan(plan) -> str:
    from skill.redact import redact

    return redact(_render_plan(plan))


def _render_plan(plan) -> str:
    req = plan.request
    lines = [
        f"Deploy plan: {req.service} {req.version} ({plan.version_kind}) -> {plan.environment}"
        f"  strategy={req.strategy} driver={plan.driver}",
        f"Gate: {plan.gate_action} on {req.service}",
    ]
    for step in plan.steps:
        checks = []
        if step.health:
            checks.append(f"health {step.health.url}" + (" + version" if step.health.expect_version else ""))
        if step.analysis:
            checks.append("canary analysis")
        lines.append(
            f"  {step.index + 1}. {step.description}" + (f"  [{', '.join(checks)}]" if checks else "")
        )
        lines += [f"       $ {cmd}" for cmd in step.commands]
    if plan.rollback:
        worst = plan.rollback.worst_case_seconds
        bound = f", at most {worst / 60:.1f} min" if worst is not None else ""
        lines.append(f"Rollback plan: back to {plan.rollback.version} (from {plan.rollback.source}{bound})")
        lines += [f"       $ {cmd}" for cmd in plan.rollback.commands] or ["       (no command needed)"]
    else:
        lines.append(
            "Rollback plan: NONE (no earlier good version in memory) -> this deploy would be refused"
        )
    lines += [f"Warning: {w}" for w in plan.warnings]
    return "\n".join(lines)


def render_result(result) -> str:
    lines = [f"{result.status.upper()}: {result.message}"]
    for step in result.steps:
        extra = ""
        if step.health:
            extra = (
                f" (health: {'ok' if step.health.ok else 'FAILED'} after {step.health.attempts} attempt(s))"
            )
        lines.append(
            f"  step {step.index + 1} {step.action}{f' {step.weight}%' if step.weight else ''}: "
            f"{step.status}{extra}"
        )
    if result.rollback:
        lines.append(
            f"  rollback to {result.rollback.version}: {result.rollback.status} ({result.rollback.detail})"
        )
    if result.deployment_id:
        lines.append(f"  recorded in memory: {result.deployment_id}")
    return "\n".join(lines)


@click.command("deploy")
@click.option("--service", "-s", required=True, help="Service to deploy.")
@click.option("--env", "-e", "env", required=True, help="Target environment (prod, staging, dev ...).")
@click.option(
    "--version", "-v", "version", default=None, help="Immutable version: git SHA, semver or digest."
)
@click.option("--strategy", type=click.Choice(STRATEGIES), default="rolling", show_default=True)
@click.option("--steps", default=None, help="Canary weights, e.g. 10,50,100.")
@click.option(
    "--rollback-to", default=None, help="Version to return to (default: the last good one in memory)."
)
@click.option(
    "--rollback", "do_rollback", is_flag=True, help="Roll back now (to --rollback-to or the last good)."
)
@click.option("--approval", default=None, help="Approval id granted by a human (guardrails.py approve).")
@click.option("--by", default=None, help="Who deploys (recorded in memory).")
@click.option("--dry-run", is_flag=True, help="Print the plan only; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def deploy(service, env, version, strategy, steps, rollback_to, do_rollback, approval, by, dry_run, as_json):
    """Deploy VERSION of a service with a plan, a gate, health checks and automatic rollback.

    \b
    devops deploy --service api --env staging --version v1.4.0
    devops deploy --service api --env prod --version 3f2a9c1 --strategy canary --steps 10,50,100
    devops deploy --service api --env prod --rollback --rollback-to v1.3.9
    """
    from skill.errors import UsageError

    if do_rollback:
        if steps:
            raise UsageError("--steps does not apply to --rollback", hint="a rollback is one step")
        _rollback_command(service, env, rollback_to, version, approval, by, dry_run, as_json)
        return
    if not version:
        raise UsageError("--version is required", hint="a git SHA, a semver tag or an image digest")
    from skill import changes
    from skill.memory import Memory
    from skill.nodes.deploy.models import DeployPlan
    from skill.nodes.deploy.plan import parse_steps

    if steps and strategy != "canary":
        raise UsageError("--steps only applies to --strategy canary")
    change = changes.Deploy(
        service=service,
        environment=env,
        version=version,
        strategy=strategy,
        steps=parse_steps(steps) if steps else None,
        rollback_to=rollback_to,
        by=by,
    )
    memory = Memory.open()
    try:
        if dry_run:
            _dry_run(change, memory, as_json)
        proposal = changes.propose(change, memory=memory)
        _gate_or_exit(proposal.change, approval=approval, as_json=as_json)
        plan = DeployPlan.model_validate(proposal.plan)
        if not as_json:
            click.echo(render_plan(plan))
        progress = None if as_json else (lambda line: click.echo(line))
        result = changes.execute(proposal, memory=memory, progress=progress)
    finally:
        memory.close()
    if as_json:
        echo_json({**result.data, "plan": _plan_json(plan)})
    else:
        click.echo(_render_deploy_result(result.data))
    sys.exit(EXIT_OK if result.ok else EXIT_FINDINGS)


def _dry_run(change, memory, as_json: bool) -> None:
    """Print the plan (T1: reads only) and exit: 0 when it could run, 1 without a rollback plan."""
    from skill import changes

    plan = changes.plan_for(change, memory)
    if as_json:
        echo_json({"status": "planned", "ready": plan.ready, "plan": _plan_json(plan)})
    else:
        click.echo(render_plan(plan))
    if not plan.ready:
        click.echo("Error: no rollback plan: this deploy would be refused (give --rollback-to)", err=True)
    sys.exit(EXIT_OK if plan.ready else EXIT_FINDINGS)


def _render_deploy_result(data: dict) -> str:
    from skill.nodes.deploy.models import DeployResult

    return render_result(DeployResult.model_validate(data))


def _rollback_command(service, env, to_version, from_version, approval, by, dry_run, as_json):
    from skill import changes

    change = changes.Rollback(
        service=service, environment=env, to_version=to_version, from_version=from_version, by=by
    )
    proposal = changes.propose(change)  # every check (service, environment, versions) first
    if dry_run:
        from skill.nodes.deploy.executor import plan_rollback

        pinned = proposal.change
        planned = plan_rollback(service, env, pinned.to_version, from_version=pinned.from_version)
        msg = (
            f"would roll {service} in {planned['env']} back"
            + (f" from {planned['from_version']}" if planned["from_version"] else "")
            + f" to {planned['to_version']}"
        )
        if as_json:
            echo_json({"status": "planned", "message": msg, **planned})
        else:
            click.echo("\n".join([msg, *(f"       $ {cmd}" for cmd in planned["commands"])]))
        return
    _gate_or_exit(proposal.change, approval=approval, as_json=as_json)
    result = changes.execute(proposal)
    echo_json(result.data) if as_json else click.echo(_render_deploy_result(result.data))
    sys.exit(EXIT_OK if result.ok else EXIT_FINDINGS)


@click.group("flag", cls=ErrorHandlingGroup)
def flag():
    """Feature flags: deploy dark, release by flag (every change passes the safety gate)."""


@flag.command("set")
@click.argument("name")
@click.argument("state", type=click.Choice(["on", "off"], case_sensitive=False))
@click.option("--env", "-e", "env", required=True, help="Environment the flag applies to.")
@click.option("--approval", default=None, help="Approval id granted by a human.")
@click.option("--by", default=None, help="Who switches it (kept in the flag history).")
@click.option("--service", "-s", default=None, help="Service the flag belongs to (shown in incident triage).")
@click.option("--json", "as_json", is_flag=True)
def flag_set(name, state, env, approval, by, service, as_json):
    """Switch flag NAME on or off in an environment.

    \b
    devops flag set new-checkout on --env staging
    """
    from skill import changes

    proposal = changes.propose(
        changes.FlagToggle(flag=name, state=state, environment=env, service=service, by=by)
    )
    _gate_or_exit(proposal.change, approval=approval, as_json=as_json)
    result = changes.execute(proposal)
    if as_json:
        echo_json(result.data)
    else:
        click.echo(result.message)


@flag.command("get")
@click.argument("name")
@click.option("--env", "-e", "env", required=True)
@click.option("--json", "as_json", is_flag=True)
def flag_get(name, env, as_json):
    """Show one flag's state in an environment."""
    from skill.nodes.deploy.flags import get_flag

    result = get_flag(name, env)
    if as_json:
        echo_json(result.model_dump(mode="json"))
    else:
        click.echo(
            f"{result.name} is {'on' if result.enabled else 'off'} in {result.env} (since {result.updated_at})"
        )


@flag.command("list")
@click.option("--env", "-e", "env", default=None)
@click.option("--json", "as_json", is_flag=True)
def flag_list(env, as_json):
    """List flags and their states."""
    from skill.nodes.deploy.flags import list_flags

    rows = list_flags(env)
    if as_json:
        echo_json([r.model_dump(mode="json") for r in rows])
        return
    if not rows:
        click.echo("no flags set")
    for r in rows:
        click.echo(
            f"{r.name:30} {r.env:12} {'on' if r.enabled else 'off':4} {r.updated_at} {r.updated_by or ''}"
        )
