"""The tools over MCP (stdio), for assistants that speak MCP rather than shell.

Each tool is a thin adapter over the same library function the CLI uses; inputs are typed by
the signatures, outputs are pydantic models (structured content). Expected failures become MCP
tool errors carrying their message. Changing tools are gated exactly like the CLI: ``deploy``
returns the approval request instead of acting when the gate says ask or block.

Tools are plain sync functions: the SDK runs them in worker threads, so each call opens and
closes its own SQLite connections (a connection cannot cross threads).
"""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal

import click
from pydantic import BaseModel, Field

from skill.environments import require_known
from skill.errors import ApprovalRequired, DevopsError, GateRefusal, UsageError
from skill.memory.models import RememberResult, TriageReport
from skill.nodes.ci.audit import AuditReport
from skill.nodes.ci.models import CiTriage
from skill.nodes.deploy.models import DeployPlan
from skill.nodes.iac.models import PlanReview
from skill.nodes.readiness.core import ReadinessReport

TOOL_NAMES = (
    "guardrails_check",
    "memory_remember",
    "memory_recall",
    "memory_triage",
    "readiness_review",
    "ci_status",
    "ci_triage",
    "ci_audit",
    "iac_review",
    "deploy_plan",
    "deploy",
    "approvals_list",
)


class GateResult(BaseModel):
    tier: int
    decision: Literal["allow", "ask", "block"]
    reasons: list[str]
    rule_ids: list[str]
    deciding: str | None = None
    environment: str | None = None
    request_id: str | None = None
    how_to_approve: str | None = None


class RecallResults(BaseModel):
    hits: list[dict[str, Any]]
    warnings: list[str] = Field(default_factory=list)


class PipelineRuns(BaseModel):
    runs: list[dict[str, Any]]


class DeployOutcome(BaseModel):
    status: str = Field(description="succeeded | rolled_back | failed | paused | approval_required | blocked")
    message: str
    request_id: str | None = None
    tier: int | None = None
    result: dict[str, Any] | None = None


class PendingApprovals(BaseModel):
    runs: list[dict[str, Any]]


def _tool_errors(fn):
    """DevopsError -> ToolError with the same message (anything else the SDK sanitises).

    Library hints name CLI flags (``--rollback-to``); here they name this tool's parameters
    (``rollback_to``), or are left out when the tool has no such parameter.
    """
    import inspect
    import re

    params = set(inspect.signature(fn).parameters)

    def as_parameter(match: re.Match) -> str:
        name = match.group(1).replace("-", "_")
        return name if name in params else match.group(0)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from mcp.server.mcpserver.exceptions import ToolError

        try:
            return fn(*args, **kwargs)
        except DevopsError as exc:
            message = exc.message
            if exc.hint:
                hint = re.sub(r"--([a-z][a-z0-9-]*)", as_parameter, exc.hint)
                if "--" not in hint:  # a hint about a CLI flag this tool lacks would mislead
                    message += f" ({hint})"
            raise ToolError(message) from exc

    return wrapper


def _gate_result(decision) -> GateResult:
    from skill.changes import is_approvable

    data = decision.to_dict()
    how = None
    if data.get("request_id") and data["decision"] != "allow" and is_approvable(decision):
        how = (
            f"a human runs `guardrails.py approve {data['request_id']} --by NAME`, "
            "then the same call (same arguments) passes once"
        )
    return GateResult(
        **{k: data.get(k) for k in GateResult.model_fields if k != "how_to_approve"}, how_to_approve=how
    )


def guardrails_check(
    command: Annotated[str | None, Field(description="a raw shell command line, as it would be run")] = None,
    action: Annotated[
        str | None, Field(description="a named action: deploy_production, infra_change, rollback ...")
    ] = None,
    target: Annotated[str | None, Field(description="what the action touches: a service, a stack")] = None,
    env: Annotated[str | None, Field(description=ENV_DOC)] = None,
    cwd: Annotated[str | None, Field(description="the working directory the command runs in")] = None,
    plan: Annotated[
        str | None, Field(description="a Terraform plan (JSON or binary) to tier an infra_* action by")
    ] = None,
    approval: Annotated[
        str | None, Field(description="an approval token a human granted (guardrails.py approve)")
    ] = None,
) -> GateResult:
    """Classify a shell command or a named action (deploy_production, infra_change, ...) T1-T4.

    allow: go ahead. ask: a human must approve (request_id). block: do not do it.
    Never rephrase or split a command to get a different answer.
    """
    from skill.guardrails.engine import check_action, check_command

    if bool(command) == bool(action):
        raise UsageError("give exactly one of command or action")
    if command:
        if plan:
            raise UsageError("plan goes with an infra_* action, not with a command")
        decision = check_command(command, cwd=cwd, approval=approval, caller="mcp")
    else:
        decision = check_action(
            action, target=target, env=require_known(env), caller="mcp", cwd=cwd, plan=plan, approval=approval
        )
    return _gate_result(decision)


def memory_remember(
    text: str,
    kind: Literal["note", "deployment", "incident", "resolution", "ci_failure"] | None = None,
    service: str | None = None,
    env: Annotated[str | None, Field(description=ENV_DOC)] = None,
    version: str | None = None,
    tags: list[str] | None = None,
    importance: float = 0.5,
) -> RememberResult:
    """Remember a deployment, incident, resolution or note. "[devops] Deployed api to prod: v1.4.2"
    and "[devops] Incident INC-42: ..., resolution=..." lines are understood. Secrets are redacted."""
    from skill.memory import Memory

    mem = Memory.open()
    try:
        return mem.remember(
            text,
            kind=kind,
            service=service,
            env=env,
            version=version,
            tags=tags or (),
            importance=importance,
            source="mcp",
        )
    finally:
        mem.close()


def memory_recall(
    query: str,
    kind: Literal["note", "deployment", "incident", "resolution", "ci_failure"] | None = None,
    service: str | None = None,
    env: Annotated[str | None, Field(description=ENV_DOC)] = None,
    since: Annotated[str | None, Field(description=SINCE_DOC)] = None,
    limit: int = 10,
) -> RecallResults:
    """Hybrid (lexical + semantic) recall of past deployments, incidents and notes, best first."""
    from skill.memory import Memory

    if not query.strip():
        raise UsageError("query must not be empty: say what to look for")

    mem = Memory.open()
    try:
        hits = mem.recall(query, kind=kind, service=service, env=require_known(env), since=since, limit=limit)
        return RecallResults(
            hits=[h.model_dump(mode="json") for h in hits], warnings=list(getattr(mem, "warnings", []))
        )
    finally:
        mem.close()


def memory_triage(
    symptom: str,
    service: str | None = None,
    window: Annotated[str, Field(description="how far back to look for deploys: 30m, 24h, 7d")] = "24h",
) -> TriageReport:
    """Incident triage from memory: similar past incidents with resolutions, recent deploys to the
    service inside the window, and the last good version to roll back to."""
    from skill.memory import Memory

    mem = Memory.open()
    try:
        return mem.triage(symptom, service=service, window=window)
    finally:
        mem.close()


def readiness_review(
    path: str = ".",
    env: Annotated[str, Field(description=ENV_DOC)] = "production",
    level: Literal["L1", "L2", "L3", "L4"] | None = None,
) -> ReadinessReport:
    """Production readiness of a repository, folder or file: level L1-L4, go/no-go, checks with evidence."""
    from skill.nodes.readiness import review

    return review(path, env=require_known(env), target_level=level)


def ci_status(path: str = ".", branch: str | None = None, limit: int = 10) -> PipelineRuns:
    """Recent pipeline runs (GitHub via gh, GitLab via glab) of the repository at path."""
    from skill.nodes.ci import pipeline_status

    runs = pipeline_status(cwd=path, branch=branch, limit=limit)
    return PipelineRuns(runs=[r.model_dump(mode="json") for r in runs])


def ci_triage(run_id: str | None = None, path: str = ".") -> CiTriage:
    """Why a pipeline run failed: failing jobs and steps, error lines, classification, similar past
    failures, next step. Recorded in memory as a ci_failure."""
    from skill.nodes.ci import triage_run

    return triage_run(run_id, cwd=path)


def ci_audit(path: str = ".") -> AuditReport:
    """Audit GitHub Actions workflows and .gitlab-ci.yml: security and CI design findings."""
    from skill.nodes.ci import audit_workflows

    return audit_workflows(path)


def iac_review(source: str, env: Annotated[str | None, Field(description=ENV_DOC)] = None) -> PlanReview:
    """Review a Terraform/OpenTofu plan (plan JSON, binary plan or directory): every change explained,
    stateful destroys flagged, an overall safety tier (gate terraform apply on it)."""
    from skill.nodes.iac import review_plan

    return review_plan(source, env=require_known(env))


def _deploy_request(service, env, version, strategy, steps, rollback_to):
    from skill.nodes.deploy import DeployRequest

    return DeployRequest(
        service=service,
        env=env,
        version=version,
        strategy=strategy,
        steps=steps,
        rollback_to=rollback_to,
        by="mcp",
    )


def deploy_plan(
    service: str,
    env: Annotated[str, Field(description=ENV_DOC)],
    version: str,
    strategy: Literal["rolling", "blue-green", "canary"] = "rolling",
    steps: list[int] | None = None,
    rollback_to: str | None = None,
) -> DeployPlan:
    """The deploy plan without executing anything: steps, health gates, rollback plan, gate action."""
    from skill.nodes.deploy import plan_deploy

    return plan_deploy(_deploy_request(service, require_known(env), version, strategy, steps, rollback_to))


def deploy(
    service: str,
    env: Annotated[str, Field(description=ENV_DOC)],
    version: str,
    strategy: Literal["rolling", "blue-green", "canary"] = "rolling",
    steps: list[int] | None = None,
    rollback_to: str | None = None,
    approval: str | None = None,
) -> DeployOutcome:
    """Deploy through the safety gate. Production (T4) returns approval_required with a request id
    instead of acting; a human approves with `guardrails.py approve ID --by NAME`, then call again
    with the same arguments (the approval covers exactly this service, environment, version,
    strategy, steps and rollback_to)."""
    from skill import changes

    change = changes.Deploy(
        service=service,
        environment=require_known(env),
        version=version,
        strategy=strategy,
        steps=steps,
        rollback_to=rollback_to,
        by="mcp",
    )
    proposal = changes.propose(change)
    try:
        changes.gate_or_raise(proposal.change, approval, caller="mcp")
    except GateRefusal as exc:
        return DeployOutcome(
            status="approval_required" if isinstance(exc, ApprovalRequired) else "blocked",
            message=exc.message,
            request_id=exc.request_id,
            tier=exc.tier,
        )
    result = changes.execute(proposal)
    if not result.ok:
        # a deploy that ran and failed (rolled back, paused) is an error result, not a success
        from mcp.server.mcpserver.exceptions import ToolError

        raise ToolError(f"deploy {result.status}: {result.message}")
    return DeployOutcome(status=result.status, message=result.message, result=result.data)


def approvals_list() -> PendingApprovals:
    """Agent runs paused for a human approval (request id, tier, reasons, what would run)."""
    from skill.agent.graph import pending_approvals

    return PendingApprovals(runs=[r.model_dump(mode="json") for r in pending_approvals()])


def build_server():
    """The MCPServer with every tool registered (imported lazily: mcp costs ~1 s to import)."""
    from mcp.server import MCPServer
    from mcp.types import ToolAnnotations

    from skill import __version__

    server = MCPServer(
        "master-devops",
        version=__version__,
        instructions=(
            "DevOps tools with a safety gate. Call guardrails_check before any change; on ask or block, "
            "stop and show the request id to a human. Recall memory before acting during incidents."
        ),
    )
    for name in TOOL_NAMES:
        read_only = name not in CHANGING_TOOLS
        hints = ToolAnnotations(
            read_only_hint=read_only,
            destructive_hint=name in CHANGING_TOOLS and name != "memory_remember",
            idempotent_hint=read_only,
            open_world_hint=name in OPEN_WORLD_TOOLS,
        )
        server.tool(name=name, annotations=hints)(_tool_errors(globals()[name]))
    for tool in server._tool_manager.list_tools():
        # An argument the tool does not have is a mistake (a typo'd "enviroment" would silently
        # fall back to a default), so refuse it, and say so in the published schema.
        model = tool.fn_metadata.arg_model
        model.model_config["extra"] = "forbid"
        model.model_rebuild(force=True)
        tool.parameters = model.model_json_schema(by_alias=True)
    return server


# Tools that change something (memory_remember only adds a record; deploy changes the world).
CHANGING_TOOLS = frozenset({"deploy", "memory_remember"})
# Tools that reach outside this machine's files (CI platforms, the deploy target).
OPEN_WORLD_TOOLS = frozenset({"ci_status", "ci_triage", "deploy"})
ENV_DOC = "production, staging or development (aliases such as prod, stage, dev are accepted)"
SINCE_DOC = "how far back: a duration (30m, 24h, 7d) or an ISO date/time (2026-12-01T09:00Z)"


@click.command("mcp")
def mcp_command() -> None:
    """Serve the tools over MCP on stdio (for Claude Code, Claude Desktop and other MCP hosts).

    \b
    claude mcp add devops -- /abs/path/.venv/bin/devops mcp
    """
    build_server().run("stdio")
