"""The one way a change is proposed, gated, executed and recorded.

Every change the skill can make to the world is a typed ``ProposedChange``: a deploy, a rollback,
a feature-flag toggle, a pipeline rerun or a shell command. Every front-end (``devops deploy``,
``devops flag``, ``devops ci rerun/pushflow``, the MCP tools, the agent graph's gate and execute
nodes) goes through the same four steps:

    proposal = propose(change)          # resolve what a human must see: the deploy plan, the
                                        # rollback target (pinned into the change)
    decision = gate(proposal.change)    # the guardrails decision; an approval binds to every
                                        # identifying field of the change, not just its target
    require_allowed(decision, change)   # allow, or ApprovalRequired (exit 3), or Blocked (exit 4)
    result = execute(proposal)          # the side effect, recorded in memory once

An approval granted for ``api v1.1.0`` in production therefore never lets ``api v6.6.6`` through:
the version is part of the request digest the approval is bound to.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from skill.errors import ApprovalRequired, Blocked, UsageError

Strategy = Literal["rolling", "blue-green", "canary"]


class _Change(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Who asked for it: recorded with the outcome, never part of what an approval is bound to.
    by: str | None = None

    def identity(self) -> dict[str, Any]:
        """The fields an approval is bound to (everything but who asked)."""
        return self.model_dump(mode="json", exclude={"by", "kind"}, exclude_none=True)


def _environment(value: Any) -> Any:
    # One vocabulary everywhere (prod, prd, live -> production), so "prod" and "production" are the
    # same request and the same approval.
    if isinstance(value, str):
        from skill.environments import normalize

        value = value.strip()
        return normalize(value) or value
    return value


class Deploy(_Change):
    kind: Literal["deploy"] = "deploy"
    service: str
    environment: str
    version: str
    strategy: Strategy = "rolling"
    steps: list[int] | None = None
    # Pinned by propose() from the plan: the approval covers where a failure would return to.
    rollback_to: str | None = None

    _env = field_validator("environment", mode="before")(_environment)

    @field_validator("service", "version", "rollback_to", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("steps", mode="before")
    @classmethod
    def _steps(cls, value: Any) -> Any:
        if isinstance(value, str):
            from skill.nodes.deploy.plan import parse_steps

            return parse_steps(value)
        return value

    def gate_request(self) -> tuple[str, str]:
        from skill.nodes.deploy.plan import gate_action

        return gate_action(self.environment), self.service

    def describe(self) -> str:
        return f"deploy {self.service} {self.version} to {self.environment} ({self.strategy})"


class Rollback(_Change):
    kind: Literal["rollback"] = "rollback"
    service: str
    environment: str
    # Pinned by propose() when not given: the version the human approves is the version that runs.
    to_version: str | None = None
    from_version: str | None = None
    # "incident": the agent suggested it during an incident and [agent] incident_rollback is
    # "propose"; it is gated as incident_rollback, which a human approves in every environment.
    origin: Literal["request", "incident"] = "request"

    _env = field_validator("environment", mode="before")(_environment)

    def gate_request(self) -> tuple[str, str]:
        return ("incident_rollback" if self.origin == "incident" else "rollback"), self.service

    def describe(self) -> str:
        frm = f" from {self.from_version}" if self.from_version else ""
        return f"roll {self.service} in {self.environment} back{frm} to {self.to_version or 'the last good version'}"


class FlagToggle(_Change):
    kind: Literal["flag"] = "flag"
    flag: str
    state: Literal["on", "off"]
    environment: str
    service: str | None = None

    _env = field_validator("environment", mode="before")(_environment)

    @field_validator("state", mode="before")
    @classmethod
    def _state(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    def gate_request(self) -> tuple[str, str]:
        return "feature_flag_toggle", self.flag

    def describe(self) -> str:
        return f"set flag {self.flag} {self.state} in {self.environment}"


class PipelineRerun(_Change):
    kind: Literal["ci_rerun"] = "ci_rerun"
    repo: str = Field(description="owner/name (GitHub) or group/project (GitLab)")
    run_id: str
    failed_only: bool = True
    cwd: str | None = Field(default=None, description="the checkout the CI client runs in")

    def identity(self) -> dict[str, Any]:
        return {"repo": self.repo, "run_id": self.run_id, "failed_only": self.failed_only}

    def gate_request(self) -> tuple[str, str]:
        return "ci_rerun", f"{self.repo}#{self.run_id}"

    def describe(self) -> str:
        what = "the failed jobs of" if self.failed_only else "every job of"
        return f"rerun {what} run {self.run_id} of {self.repo}"


class Command(_Change):
    kind: Literal["command"] = "command"
    command: str
    cwd: str | None = None
    timeout: float = 300

    def describe(self) -> str:
        return f"$ {self.command}"


ProposedChange = Annotated[
    Deploy | Rollback | FlagToggle | PipelineRerun | Command, Field(discriminator="kind")
]
_ADAPTER: TypeAdapter = TypeAdapter(ProposedChange)


def parse_change(data: dict[str, Any] | BaseModel) -> ProposedChange:
    """A ProposedChange from its JSON form (graph state, MCP arguments); UsageError when malformed."""
    if isinstance(data, _Change):
        return data
    from pydantic import ValidationError

    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "change"
        raise UsageError(f"not a valid change: {where}: {first.get('msg')}") from exc


class Proposal(BaseModel):
    """A change with everything a human needs to judge it, pinned before the gate is asked."""

    change: ProposedChange
    summary: str
    lines: list[str] = Field(default_factory=list)
    # The deploy plan exactly as shown; execute() runs this plan, not a fresh one.
    plan: dict[str, Any] | None = None

    def to_state(self) -> dict[str, Any]:
        """JSON for the graph state, with the brief fields the run index lists."""
        change = self.change
        target = getattr(change, "service", None) or getattr(change, "flag", None)
        if isinstance(change, PipelineRerun):
            target = change.gate_request()[1]
        brief = {
            "kind": change.kind,
            "target": target,
            "env": getattr(change, "environment", None),
            "version": getattr(change, "version", None) or getattr(change, "to_version", None),
            "command": getattr(change, "command", None),
        }
        return {**{k: v for k, v in brief.items() if v}, **self.model_dump(mode="json")}

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> Proposal:
        return cls.model_validate({k: data[k] for k in ("change", "summary", "lines", "plan") if k in data})


# ----------------------------------------------------------------------------- propose


def propose(change: ProposedChange, *, memory=None) -> Proposal:
    """Resolve what the gate and the human must see, and pin it into the change.

    A deploy gets its plan (no rollback plan, no deploy) and the plan's rollback version; a
    rollback without a target gets the version the executor would choose. Nothing changes here.
    """
    change = parse_change(change)
    if isinstance(change, Deploy):
        return _propose_deploy(change, memory)
    if isinstance(change, Rollback):
        return _propose_rollback(change, memory)
    if isinstance(change, FlagToggle):
        from skill.nodes.deploy.flags import _check_name
        from skill.nodes.deploy.settings import require_known_environment

        _check_name(change.flag)
        require_known_environment(change.environment)  # before the gate opens a request for it
    return Proposal(change=change, summary=change.describe(), lines=[f"Proposed: {change.describe()}"])


def plan_for(change: Deploy, memory=None):
    """The deploy node's plan of ``change`` (read-only; it may lack a rollback plan: see propose)."""
    from skill.nodes.deploy.models import DeployRequest
    from skill.nodes.deploy.plan import plan_deploy

    request = DeployRequest(
        service=change.service,
        env=change.environment,
        version=change.version,
        strategy=change.strategy,
        steps=change.steps,
        rollback_to=change.rollback_to,
        by=change.by,
    )
    return plan_deploy(request, memory=memory)


def _propose_deploy(change: Deploy, memory) -> Proposal:
    from skill.nodes.deploy.plan import require_rollback

    plan = plan_for(change, memory)
    require_rollback(plan)
    pinned = change.model_copy(update={"rollback_to": plan.rollback.version, "environment": plan.environment})
    lines = [f"Deploy plan: {pinned.describe()}, driver {plan.driver}"]
    lines += [f"  {step.index + 1}. {step.description}" for step in plan.steps]
    lines.append(f"  rollback: to {plan.rollback.version} ({plan.rollback.source}): {plan.rollback.command}")
    lines += [f"  warning: {w}" for w in plan.warnings]
    return Proposal(
        change=pinned,
        summary=f"{pinned.describe()}, driver {plan.driver}",
        lines=lines,
        plan=plan.model_dump(mode="json"),
    )


def _propose_rollback(change: Rollback, memory) -> Proposal:
    from skill.nodes.deploy.executor import plan_rollback

    planned = plan_rollback(
        change.service, change.environment, change.to_version, from_version=change.from_version, memory=memory
    )
    pinned = change.model_copy(
        update={
            "environment": planned["env"],
            "to_version": planned["to_version"],
            "from_version": planned["from_version"],
        }
    )
    lines = [f"Proposed: {pinned.describe()}", *(f"  $ {cmd}" for cmd in planned["commands"])]
    return Proposal(change=pinned, summary=pinned.describe(), lines=lines)


# ----------------------------------------------------------------------------- gate


def gate(
    change: ProposedChange, approval: str | None = None, *, caller: str = "devops", cwd: str | None = None
):
    """The guardrails Decision on ``change``. Never raises: a gate that fails blocks (tier 4)."""
    change = parse_change(change)
    try:
        from skill.guardrails.engine import check_action, check_command

        if isinstance(change, Command):
            decision = check_command(change.command, cwd=change.cwd or cwd, approval=approval, caller=caller)
        else:
            from skill.slo.policy import apply_budget  # an exhausted error budget: one tier up, never down

            action, target = change.gate_request()
            decision = check_action(
                action,
                target=target,
                env=getattr(change, "environment", None),
                approval=approval,
                caller=caller,
                cwd=getattr(change, "cwd", None) or cwd,
                details=change.identity(),
                adjust=lambda decision: apply_budget(decision, change),
            )
    except Exception as exc:  # noqa: BLE001 - no gate, no change: fail closed
        from skill.guardrails.model import Decision

        reason = f"safety gate unavailable: {type(exc).__name__}: {exc}"
        decision = Decision(
            tier=4,
            decision="block",
            reasons=[reason],
            rule_ids=["gate.unavailable"],
            kind="action",
            input=change.describe(),
            approvable=False,
            error=reason,
        )
    return decision


def is_approvable(decision) -> bool:
    """ask, or a block that carries a request id and may be approved (T4 deploys): exit 3, not 4."""
    verdict = getattr(decision, "decision", "block")
    if verdict == "ask":
        return True
    return (
        verdict == "block"
        and bool(getattr(decision, "request_id", None))
        and bool(getattr(decision, "approvable", False))
    )


def require_allowed(decision, change: ProposedChange | None = None) -> None:
    """The one translation of a Decision: allow returns; approvable raises ApprovalRequired; else Blocked."""
    verdict = getattr(decision, "decision", "block")
    if verdict == "allow":
        return
    what = change.describe() if change is not None else str(getattr(decision, "input", "this change"))
    reasons = list(getattr(decision, "reasons", None) or [])
    tier = getattr(decision, "tier", 4)
    env = getattr(decision, "environment", None)
    where = f" in {env}" if env and env not in what else ""
    data = decision.to_dict() if hasattr(decision, "to_dict") else None
    if is_approvable(decision):
        raise ApprovalRequired(
            f"approval required (T{tier}) to {what}{where}: {'; '.join(reasons) or 'policy'}",
            request_id=getattr(decision, "request_id", None),
            tier=tier,
            reasons=reasons,
            decision=data,
        )
    raise Blocked(
        f"blocked by the safety gate (T{tier}): {what}{where}: {'; '.join(reasons) or 'policy'}",
        tier=tier,
        reasons=reasons,
        decision=data,
    )


def gate_or_raise(
    change: ProposedChange, approval: str | None = None, *, caller: str = "devops", cwd: str | None = None
):
    """gate() then require_allowed(): the allowing Decision, or ApprovalRequired / Blocked."""
    decision = gate(change, approval, caller=caller, cwd=cwd)
    require_allowed(decision, change)
    return decision


# ----------------------------------------------------------------------------- execute


class ChangeResult(BaseModel):
    """What executing a change did. ``data`` is the executor's own result (deploy result ...)."""

    kind: str
    ok: bool
    status: str
    message: str
    lines: list[str] = Field(default_factory=list)
    data: dict[str, Any] = Field(default_factory=dict)
    memory_ids: list[str] = Field(default_factory=list)


def execute(proposal: Proposal, *, memory=None, progress=None, ci=None) -> ChangeResult:
    """Perform the change; the caller has had gate() allow it (after any approval).

    Deploys and rollbacks are recorded by the deploy executor itself (as deployments, with
    their rollback links); flags by the flag store; reruns and commands here, as notes. Each
    outcome is written once. A change that ran and failed is a result with ``ok`` False; a
    DevopsError means it was refused before acting (no version to roll back to ...).
    """
    change = proposal.change
    if isinstance(change, Deploy):
        return _execute_deploy(proposal, memory, progress)
    if isinstance(change, Rollback):
        return _execute_rollback(change, memory)
    if isinstance(change, FlagToggle):
        return _execute_flag(change, memory)
    if isinstance(change, PipelineRerun):
        return _note(_execute_rerun(change, ci), change, memory)
    return _note(_execute_command(change), change, memory)


def _execute_deploy(proposal: Proposal, memory, progress) -> ChangeResult:
    from skill.nodes.deploy.executor import execute_deploy
    from skill.nodes.deploy.models import DeployPlan

    change = proposal.change
    plan = DeployPlan.model_validate(proposal.plan) if proposal.plan else None
    if plan is None:
        plan = DeployPlan.model_validate(_propose_deploy(change, memory).plan)
    if (plan.request.service, plan.environment, plan.request.version) != (
        change.service,
        change.environment,
        change.version,
    ):
        # The plan travels beside the change (graph state); it must be the plan of this change.
        raise UsageError("the deploy plan does not match the approved change; propose it again")
    res = execute_deploy(plan, memory=memory, progress=progress)
    data = res.model_dump(mode="json")
    lines = [f"Deploy {res.status}: {res.message}"]
    for step in res.steps:
        lines.append(
            f"  step {step.index + 1} {step.action}"
            + (f" {step.weight}%" if step.weight else "")
            + f": {step.status}"
            + (f" — {step.detail}" if step.detail else "")
        )
    if res.rollback:
        rb = res.rollback
        lines.append(f"  rolled back to {rb.version}: {rb.status} {rb.detail or ''}".rstrip())
    return ChangeResult(
        kind="deploy",
        ok=res.ok,
        status=res.status,
        message=res.message,
        lines=lines,
        data=data,
        memory_ids=[res.deployment_id] if res.deployment_id else [],
    )


def _execute_rollback(change: Rollback, memory) -> ChangeResult:
    from skill.nodes.deploy.executor import rollback

    res = rollback(
        change.service,
        change.environment,
        change.to_version,
        from_version=change.from_version,
        memory=memory,
        by=change.by,
    )
    return ChangeResult(
        kind="rollback",
        ok=res.ok,
        status=res.status,
        message=res.message,
        lines=[f"Rollback of {change.service} in {change.environment} to {res.version}: {res.status}"]
        + ([] if res.ok else [f"  {res.message}"]),
        data=res.model_dump(mode="json"),
        memory_ids=[res.deployment_id] if res.deployment_id else [],
    )


def _execute_flag(change: FlagToggle, memory) -> ChangeResult:
    from skill.nodes.deploy.flags import set_flag

    res = set_flag(
        change.flag, change.state, change.environment, by=change.by, service=change.service, memory=memory
    )
    was = "" if res.previous is None else f" (was {'on' if res.previous else 'off'})"
    message = f"{res.name} is {'on' if res.enabled else 'off'} in {res.env}{was}"
    return ChangeResult(
        kind="flag",
        ok=True,
        status="succeeded",
        message=message,
        lines=[f"Flag {res.name} set {'on' if res.enabled else 'off'} in {res.env}{was}"],
        data=res.model_dump(mode="json"),
    )


def _execute_rerun(change: PipelineRerun, ci) -> ChangeResult:
    from skill.nodes.ci.pipelines import request_rerun

    res = request_rerun(change, ci=ci)
    return ChangeResult(
        kind="ci_rerun",
        ok=True,
        status="succeeded",
        message=res.message,
        lines=[res.message],
        data=res.model_dump(mode="json"),
    )


def _execute_command(change: Command) -> ChangeResult:
    import shlex

    from skill.runner import run_tool

    argv = shlex.split(change.command)
    res = run_tool(argv, timeout=float(change.timeout), cwd=change.cwd)
    return ChangeResult(
        kind="command",
        ok=res.ok,
        status="succeeded" if res.ok else "failed",
        message=f"exit {res.returncode}",
        lines=[f"$ {change.command} -> exit {res.returncode}"],
        data={"returncode": res.returncode, "stdout": res.stdout[-2000:], "stderr": res.stderr[-2000:]},
    )


def _note(result: ChangeResult, change: ProposedChange, memory) -> ChangeResult:
    """Remember a rerun or a command's outcome as a note (best effort: the change already happened)."""
    text = f"{change.describe()}: {result.status}" + (f" (by {change.by})" if change.by else "")
    try:
        from skill.memory import Memory

        mem = memory or Memory.open()
        try:
            res = mem.remember(text, kind="note", tags=("change", change.kind, result.status), source="agent")
        finally:
            if memory is None:
                mem.close()
        result.memory_ids.append(res.id)
    except Exception as exc:  # noqa: BLE001 - the change happened; say it was not recorded
        result.lines.append(f"not recorded in memory: {type(exc).__name__}: {exc}")
    return result
