"""Pydantic records of the memory: what the library returns and the CLI prints as JSON."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Kind = Literal["note", "deployment", "incident", "resolution", "ci_failure"]
KINDS: tuple[str, ...] = ("note", "deployment", "incident", "resolution", "ci_failure")
Severity = Literal["SEV1", "SEV2", "SEV3", "SEV4"]
SEVERITIES: tuple[str, ...] = ("SEV1", "SEV2", "SEV3", "SEV4")
DeployStatus = Literal["succeeded", "failed", "rolled_back", "in_progress"]
DEPLOY_STATUSES: tuple[str, ...] = ("succeeded", "failed", "rolled_back", "in_progress")
IncidentStatus = Literal["open", "mitigated", "resolved"]


class MemoryRecord(BaseModel):
    id: str
    text: str
    kind: Kind = "note"
    service: str | None = None
    env: str | None = None
    version: str | None = None
    tags: list[str] = Field(default_factory=list)
    importance: float = 0.5
    created_at: str
    source: str = "cli"
    content_hash: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    linked_to: str | None = None
    supersedes: str | None = None
    superseded_by: str | None = None
    deleted_at: str | None = None
    vector: Literal["stored", "pending"] = "pending"


class RememberResult(BaseModel):
    id: str
    kind: Kind
    created: bool
    duplicate_of: str | None = None
    linked_to: str | None = None
    vector: Literal["stored", "pending"] = "pending"
    deployment: Deployment | None = None
    incident: Incident | None = None
    warning: str | None = None
    # What the write path decided on the caller's behalf (a service inferred, a rollback
    # detected, a line kept as a note), so it is said, not silently done.
    notices: list[str] = Field(default_factory=list)


class RecallHit(BaseModel):
    memory: MemoryRecord
    score: float
    parts: dict[str, Any] = Field(default_factory=dict)


class Deployment(BaseModel):
    id: str
    service: str
    env: str
    version: str
    commit: str | None = None
    strategy: str | None = None
    status: DeployStatus = "succeeded"
    started: str | None = None
    finished: str | None = None
    rolled_back_from: str | None = None
    by: str | None = None
    notes: str | None = None
    memory_id: str | None = None
    created_at: str
    retracted_at: str | None = None
    retracted_reason: str | None = None


class Incident(BaseModel):
    id: str
    title: str
    severity: Severity = "SEV3"
    service: str | None = None
    status: IncidentStatus = "open"
    started: str
    resolved: str | None = None
    summary: str | None = None
    root_cause: str | None = None
    resolution: str | None = None
    memory_id: str | None = None
    updated_at: str


class SimilarIncident(BaseModel):
    id: str
    title: str | None = None
    service: str | None = None
    status: str | None = None
    severity: str | None = None
    started: str | None = None
    resolution: str | None = None
    root_cause: str | None = None
    text: str
    score: float
    memory_id: str | None = None
    relevance: float = 0.0
    # "same service", "other service" (only above the stronger threshold) or "any service"
    # (triage without a service).
    match: str = "any service"


class TriageReport(BaseModel):
    symptom: str
    service: str | None = None
    window: str
    since: str
    similar_incidents: list[SimilarIncident] = Field(default_factory=list)
    recent_deploys: list[Deployment] = Field(default_factory=list)
    recent_changes: list[MemoryRecord] = Field(default_factory=list)
    last_good_version: str | None = None
    suggestion: str
    # Set when no past incident is a strong match: "no strong match" beats a padded list.
    no_strong_match: str | None = None
    warnings: list[str] = Field(default_factory=list)


class Stats(BaseModel):
    memories: int
    deleted: int
    by_kind: dict[str, int]
    vectors_sqlite: int
    vectors_pending: int
    chroma_count: int | None = None
    chroma_pending: int
    chroma_mode: str
    chroma_error: str | None = None
    deployments: int
    incidents: int
    db_path: str
    model_dir: str
    model_available: bool


RememberResult.model_rebuild()
