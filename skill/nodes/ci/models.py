"""Pydantic models at the CI node's boundary: runs, jobs, error lines, triage and rerun results."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Platform = Literal["github", "gitlab"]
Classification = Literal["test", "lint", "build", "infrastructure", "timeout", "flaky", "unknown"]


class Step(BaseModel):
    name: str
    number: int | None = None
    status: str | None = None
    conclusion: str | None = None


class CiJob(BaseModel):
    id: str
    name: str
    status: str  # queued | in_progress | completed
    conclusion: str | None = None  # success | failure | cancelled | timed_out | skipped | ...
    stage: str | None = None
    url: str | None = None
    failure_reason: str | None = None  # GitLab: script_failure, runner_system_failure, ...
    allow_failure: bool = False
    steps: list[Step] = Field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.conclusion in FAILED and not self.allow_failure

    def failed_steps(self) -> list[Step]:
        return [s for s in self.steps if s.conclusion in FAILED]


FAILED = {"failure", "timed_out", "startup_failure", "cancelled", "action_required"}


class PipelineRun(BaseModel):
    platform: Platform
    id: str
    number: int | None = None
    name: str | None = None  # workflow name (GitHub) / pipeline name (GitLab)
    title: str | None = None  # displayTitle: commit or PR title
    branch: str | None = None
    sha: str | None = None
    status: str  # queued | in_progress | completed (normalised)
    conclusion: str | None = None  # normalised to GitHub's vocabulary
    raw_status: str | None = None
    event: str | None = None
    attempt: int = 1
    url: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    jobs: list[CiJob] = Field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.status == "completed"

    @property
    def succeeded(self) -> bool:
        return self.conclusion in ("success", "skipped", "neutral")

    @property
    def failed(self) -> bool:
        return self.finished and not self.succeeded


class ErrorLine(BaseModel):
    text: str
    kind: str  # test | lint | compile | exit_code | oom | timeout | network | infrastructure | error
    job: str | None = None
    step: str | None = None
    line: int | None = None  # line number within the fetched log


class SimilarFailure(BaseModel):
    id: str
    text: str
    score: float | None = None
    created: str | None = None


class CiTriage(BaseModel):
    run: PipelineRun
    failed_jobs: list[CiJob] = Field(default_factory=list)
    error_lines: list[ErrorLine] = Field(default_factory=list)
    classification: Classification = "unknown"
    reasons: list[str] = Field(default_factory=list)
    similar: list[SimilarFailure] = Field(default_factory=list)
    next_step: str = ""
    log_source: str | None = None  # log-failed | jobs-api | trace | none
    failed_attempt: int | None = None  # for flaky runs: the attempt that failed
    remembered_id: str | None = None
    notices: list[str] = Field(default_factory=list)


class RerunResult(BaseModel):
    run_id: str
    platform: Platform
    decision: str  # allow (anything else raises)
    rerun: list[str] = Field(default_factory=list)  # what was rerun (run id or job ids)
    message: str = ""
