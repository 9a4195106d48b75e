"""The state one agent run carries through the graph.

Only JSON-ish values (str, int, bool, dict, list): the SQLite checkpointer serialises the state
with msgpack, and plain values keep a tampered or old checkpoint from instantiating arbitrary
classes (stack facts §3). Nested results are stored as ``model_dump(mode="json")`` dicts.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

NODES: tuple[str, ...] = ("ci", "iac", "deploy", "readiness", "incident", "memory")

Status = Literal["running", "awaiting_approval", "approved", "rejected", "blocked", "done", "failed"]


class RunState(BaseModel):
    run_id: str = ""
    # intake: exactly one of request (free text) or event (an Event dumped to a dict)
    request: str | None = None
    event: dict[str, Any] | None = None
    cwd: str | None = None
    # route
    node: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    routed_by: str | None = None  # "rules" | "llm"
    # tool node
    result: dict[str, Any] = Field(default_factory=dict)
    # A change the tool node proposes: skill.changes.Proposal.to_state() (the typed change, its
    # summary, the deploy plan as shown, and brief fields for the run index). The gate decides on
    # it and execute performs it, both through skill.changes.
    action: dict[str, Any] | None = None
    # gate
    decision: dict[str, Any] | None = None
    approval: dict[str, Any] | None = None
    # execute
    executed: dict[str, Any] | None = None
    # record
    memory_ids: list[str] = Field(default_factory=list)
    status: Status = "running"
    report: str = ""
    summary: str = ""
    notices: list[str] = Field(default_factory=list)
    error: str | None = None
