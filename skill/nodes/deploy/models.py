"""The deploy node's data: request, plan (steps, health gates, rollback plan) and result."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

Strategy = Literal["rolling", "blue-green", "canary"]
# The driver vocabulary. Every driver implements these; a user script receives one as $ACTION.
DriverAction = Literal["deploy", "canary", "promote", "stage", "switch", "rollback"]
StepStatus = Literal["succeeded", "failed", "paused", "skipped"]
DeployStatus = Literal["succeeded", "rolled_back", "failed", "paused", "planned"]


class DeployRequest(BaseModel):
    service: str
    env: str
    version: str
    strategy: Strategy = "rolling"
    steps: list[int] | None = Field(default=None, description="canary traffic weights, e.g. [10, 50, 100]")
    rollback_to: str | None = Field(default=None, description="explicit rollback version (else: memory)")
    by: str | None = None
    notes: str | None = None

    @field_validator("service", "env", "version", "rollback_to", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        # " v1.4.0 " from a pasted command line would become the image tag "api: v1.4.0 "
        return value.strip() if isinstance(value, str) else value

    @field_validator("steps", mode="before")
    @classmethod
    def _steps_from_text(cls, value: Any) -> Any:
        # "10,50,100" from a CLI flag, an event payload or an LLM tool call
        if isinstance(value, str):
            parts = [p for p in value.replace(" ", "").split(",") if p]
            return [int(p) if p.isdigit() else p for p in parts] or None
        return value


class HealthGate(BaseModel):
    url: str
    expect_version: str | None = Field(default=None, description="the version /version must report")
    version_url: str | None = None
    timeout: float = 2.0
    attempts: int = 5
    backoff_initial: float = 0.5
    backoff_max: float = 8.0
    jitter: float = 0.5


class PlanStep(BaseModel):
    index: int
    action: DriverAction
    weight: int | None = None
    description: str
    commands: list[str] = Field(default_factory=list, description="what the driver will run")
    health: HealthGate | None = None
    analysis: bool = False


class RollbackPlan(BaseModel):
    version: str
    source: Literal["memory", "explicit"]
    commands: list[str]
    health: HealthGate | None = None
    worst_case_seconds: float | None = Field(
        default=None, description="driver wait + health checks, when everything times out"
    )

    @property
    def command(self) -> str:
        return " && ".join(self.commands)


class DeployPlan(BaseModel):
    request: DeployRequest
    environment: str = Field(description="canonical environment name (production, staging, ...)")
    gate_action: str = Field(description="guardrails action: deploy_production, deploy_staging or deploy")
    version_kind: str
    driver: str
    steps: list[PlanStep]
    rollback: RollbackPlan | None
    analysis: dict[str, Any] | None = None
    warnings: list[str] = Field(default_factory=list)
    settings: dict[str, Any] = Field(default_factory=dict, repr=False)

    @property
    def ready(self) -> bool:
        return self.rollback is not None


class HealthResult(BaseModel):
    url: str
    ok: bool
    attempts: int
    status_code: int | None = None
    version: str | None = None
    error: str | None = None
    waits: list[float] = Field(default_factory=list, description="backoff waits between attempts (s)")


class Measurement(BaseModel):
    metric: str
    value: float | None
    phase: Literal["successful", "failed", "inconclusive", "error"]
    message: str = ""


class MetricResult(BaseModel):
    name: str
    query: str
    phase: Literal["successful", "failed", "inconclusive"]
    measurements: list[Measurement]
    threshold: dict[str, float] = Field(default_factory=dict)


class AnalysisResult(BaseModel):
    phase: Literal["successful", "failed", "inconclusive"]
    metrics: list[MetricResult]
    message: str


class StepResult(BaseModel):
    index: int
    action: str
    weight: int | None = None
    status: StepStatus
    detail: str = ""
    health: HealthResult | None = None
    analysis: AnalysisResult | None = None


class RollbackResult(BaseModel):
    version: str
    status: Literal["succeeded", "failed"]
    detail: str = ""
    health: HealthResult | None = None
    deployment_id: str | None = None


class DeployResult(BaseModel):
    service: str
    env: str
    version: str
    strategy: str
    status: DeployStatus
    message: str
    steps: list[StepResult] = Field(default_factory=list)
    rollback: RollbackResult | None = None
    deployment_id: str | None = None
    started: str | None = None
    finished: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"
