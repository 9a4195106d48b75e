"""The index of agent runs: one row per run next to the LangGraph checkpoints in graph.db (in the
team database when ``DEVOPS_DATABASE_URL`` is set, so any host can list, approve and resume them).

The checkpoints hold the full state; this table answers ``devops runs list`` and ``devops
approvals list`` without loading langgraph, and its status column is the claim that makes a
resume happen exactly once: ``claim()`` flips ``awaiting_approval`` to ``resuming`` in one
UPDATE, so of two processes approving the same run only one gets to resume it.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from typing import Any

from pydantic import BaseModel, Field

from skill.durations import iso, utcnow
from skill.errors import NotFoundError, UsageError
from skill.paths import db_path
from skill.storage import CopyTable, Migration, Schema, open_store

_M001_RUNS = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    source TEXT NOT NULL,
    input TEXT NOT NULL,
    event_id TEXT,
    node TEXT,
    op TEXT,
    status TEXT NOT NULL,
    request_id TEXT,
    tier INTEGER,
    reasons TEXT NOT NULL DEFAULT '[]',
    action TEXT,
    report TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '',
    resolved_by TEXT,
    error TEXT
);
CREATE INDEX IF NOT EXISTS runs_status ON runs(status);
CREATE INDEX IF NOT EXISTS runs_request ON runs(request_id);
CREATE TABLE IF NOT EXISTS executions (
    run_id TEXT PRIMARY KEY,
    started TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    finished TEXT,
    result TEXT
);
"""

# PostgreSQL has no rowid: a serial column orders runs created within the same second.
_M001_RUNS_PG = _M001_RUNS.replace("    error TEXT\n);", "    error TEXT,\n    seq BIGSERIAL\n);", 1)

SCHEMA = Schema(
    "runs",
    (Migration("m001_runs_and_executions", _M001_RUNS, _M001_RUNS_PG),),
    team=True,
    copy_tables=(
        CopyTable("runs", key=("id",), generated=("seq",)),
        CopyTable("executions", key=("run_id",)),
    ),
)


class RunRecord(BaseModel):
    id: str
    created: str
    updated: str
    source: str
    input: str
    event_id: str | None = None
    node: str | None = None
    op: str | None = None
    status: str
    request_id: str | None = None
    tier: int | None = None
    reasons: list[str] = Field(default_factory=list)
    action: dict[str, Any] | None = None
    report: str = ""
    summary: str = ""
    resolved_by: str | None = None
    error: str | None = None


def connect() -> sqlite3.Connection:
    return open_store(SCHEMA, db_path("graph"))


def _row(row: sqlite3.Row) -> RunRecord:
    data = dict(row)
    data["reasons"] = json.loads(data.get("reasons") or "[]")
    data["action"] = json.loads(data["action"]) if data.get("action") else None
    return RunRecord(**data)


def create(run_id: str, *, source: str, input: str, event_id: str | None = None) -> None:
    now = iso(utcnow())
    with closing(connect()) as conn:
        conn.execute(
            # DO NOTHING: a worker retrying an item after a crash may create its run twice.
            "INSERT INTO runs (id, created, updated, source, input, event_id, status) VALUES (?,?,?,?,?,?,?)"
            " ON CONFLICT(id) DO NOTHING",
            (run_id, now, now, source, input[:2000], event_id, "running"),
        )


def update_from_state(run_id: str, values: dict[str, Any], *, status: str | None = None) -> None:
    """Copy the interesting parts of a graph state into the run's row."""
    decision = values.get("decision") or {}
    fields = {
        "node": values.get("node"),
        "op": (values.get("params") or {}).get("op"),
        "status": status or values.get("status") or "running",
        "request_id": decision.get("request_id"),
        "tier": decision.get("tier"),
        "reasons": json.dumps(decision.get("reasons") or []),
        "action": json.dumps(_action_brief(values.get("action"))) if values.get("action") else None,
        "report": values.get("report") or "",
        "summary": values.get("summary") or "",
        "error": values.get("error"),
        "updated": iso(utcnow()),
    }
    approval = values.get("approval") or {}
    if approval.get("by"):
        fields["resolved_by"] = approval["by"]
    sets = ", ".join(f"{k} = ?" for k in fields)
    with closing(connect()) as conn:
        conn.execute(f"UPDATE runs SET {sets} WHERE id = ?", (*fields.values(), run_id))


def _action_brief(action: dict[str, Any]) -> dict[str, Any]:
    # the brief fields skill.changes.Proposal.to_state() puts beside the change
    return {
        k: action.get(k) for k in ("kind", "target", "env", "version", "command", "summary") if action.get(k)
    }


def get(ref: str) -> RunRecord:
    """A run by its id, or by the guardrails request id of its approval (a waiting run first)."""
    with closing(connect()) as conn:
        row = conn.execute("SELECT * FROM runs WHERE id = ?", (ref,)).fetchone()
        if row is None:
            rows = conn.execute(
                "SELECT * FROM runs WHERE request_id = ? ORDER BY status = 'awaiting_approval' DESC, created DESC",
                (ref,),
            ).fetchall()
            waiting = [r for r in rows if r["status"] == "awaiting_approval"]
            if len(waiting) > 1:
                ids = ", ".join(r["id"] for r in waiting)
                raise UsageError(f"request {ref} is pending in several runs ({ids}); name the run id")
            row = rows[0] if rows else None
    if row is None:
        raise NotFoundError(f"no run or approval request {ref!r}", hint="see `devops runs list`")
    return _row(row)


def find_by_event(event_key: str) -> RunRecord | None:
    with closing(connect()) as conn:
        row = conn.execute(
            "SELECT * FROM runs WHERE event_id = ? ORDER BY created LIMIT 1", (event_key,)
        ).fetchone()
    return _row(row) if row else None


def list_runs(status: str | None = None, limit: int = 50) -> list[RunRecord]:
    sql, args = "SELECT * FROM runs", []
    if status:
        sql += " WHERE status = ?"
        args.append(status)
    with closing(connect()) as conn:
        sql += f" ORDER BY created DESC, {'seq' if conn.backend == 'postgres' else 'rowid'} DESC LIMIT ?"
        args.append(limit)
        return [_row(r) for r in conn.execute(sql, args).fetchall()]


def claim(ref: str, new_status: str = "resuming") -> RunRecord:
    """Atomically take a run out of ``awaiting_approval``; raise if someone else already did."""
    run = get(ref)
    with closing(connect()) as conn:
        cur = conn.execute(
            "UPDATE runs SET status = ?, updated = ? WHERE id = ? AND status = 'awaiting_approval'",
            (new_status, iso(utcnow()), run.id),
        )
    if cur.rowcount != 1:
        current = get(run.id).status
        raise UsageError(f"run {run.id} is not waiting for approval (status: {current})")
    return run


def release(run_id: str) -> None:
    """Give a claimed run back (the approval could not be recorded)."""
    with closing(connect()) as conn:
        conn.execute(
            "UPDATE runs SET status = 'awaiting_approval', updated = ? WHERE id = ? AND status = 'resuming'",
            (iso(utcnow()), run_id),
        )


# ----------------------------------------------------------------------------- execution journal
#
# The execute node's side effects happen between two checkpoints. A process that dies there leaves a
# checkpoint that says "execute next", and simply continuing would run the deploy again. The journal
# row is taken (INSERT, one winner) before any side effect and carries the node's result once it is
# done, so a continued run either reuses that result or, if the first attempt never finished, stops
# and says so: an action runs at most once, and exactly once whenever its result was journaled.


class Execution(BaseModel):
    run_id: str
    started: str
    host: str
    pid: int
    finished: str | None = None
    result: dict[str, Any] | None = None

    def owner_alive(self) -> bool:
        """True when the process that started it is still running on this host."""
        import os
        import socket

        if self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return self.pid != os.getpid()


def begin_execution(run_id: str) -> Execution | None:
    """Take the run's execution slot: None when this call got it, else the earlier attempt."""
    import os
    import socket

    with closing(connect()) as conn:
        cur = conn.execute(
            "INSERT INTO executions (run_id, started, host, pid) VALUES (?,?,?,?) ON CONFLICT(run_id) DO NOTHING",
            (run_id, iso(utcnow()), socket.gethostname(), os.getpid()),
        )
        if cur.rowcount == 1:
            return None
    found = execution(run_id)
    assert found is not None
    return found


def finish_execution(run_id: str, result: dict[str, Any]) -> None:
    with closing(connect()) as conn:
        conn.execute(
            "UPDATE executions SET finished = ?, result = ? WHERE run_id = ?",
            (iso(utcnow()), json.dumps(result, default=str), run_id),
        )


def execution(run_id: str) -> Execution | None:
    with closing(connect()) as conn:
        row = conn.execute("SELECT * FROM executions WHERE run_id = ?", (run_id,)).fetchone()
    if row is None:
        return None
    data = dict(row)
    data["result"] = json.loads(data["result"]) if data.get("result") else None
    return Execution(**data)


def stale_resuming(cutoff_iso: str) -> list[RunRecord]:
    """Runs claimed for a resume and not updated since ``cutoff_iso``: their resumer likely died."""
    with closing(connect()) as conn:
        rows = conn.execute(
            "SELECT * FROM runs WHERE status = 'resuming' AND updated < ? ORDER BY updated", (cutoff_iso,)
        ).fetchall()
    return [_row(r) for r in rows]


def claim_stale(run_id: str, cutoff_iso: str) -> RunRecord:
    """Atomically take a stale ``resuming`` run for recovery (one recoverer wins)."""
    run = get(run_id)
    with closing(connect()) as conn:
        cur = conn.execute(
            "UPDATE runs SET status = 'recovering', updated = ? WHERE id = ? AND status = 'resuming' AND updated < ?",
            (iso(utcnow()), run.id, cutoff_iso),
        )
    if cur.rowcount != 1:
        current = get(run.id)
        if current.status == "resuming":
            raise UsageError(
                f"run {run.id} has been resuming only since {current.updated[:19]}; "
                "it is not stale yet (see --stale-after)"
            )
        raise UsageError(f"run {run.id} is not stuck resuming (status: {current.status})")
    return run


def set_status(run_id: str, status: str, *, error: str | None = None) -> None:
    with closing(connect()) as conn:
        conn.execute(
            "UPDATE runs SET status = ?, error = COALESCE(?, error), updated = ? WHERE id = ?",
            (status, error, iso(utcnow()), run_id),
        )


FINISHED = ("done", "failed", "rejected", "blocked")


def finished_before(cutoff_iso: str) -> list[str]:
    """Ids of runs that ended (not paused, not resuming) and were last updated before ``cutoff_iso``."""
    marks = ",".join("?" * len(FINISHED))
    with closing(connect()) as conn:
        rows = conn.execute(
            f"SELECT id FROM runs WHERE updated < ? AND status IN ({marks}) ORDER BY updated",
            (cutoff_iso, *FINISHED),
        ).fetchall()
    return [r["id"] for r in rows]


def delete(run_ids: list[str]) -> None:
    with closing(connect()) as conn:
        conn.executemany("DELETE FROM runs WHERE id = ?", [(r,) for r in run_ids])
        conn.executemany("DELETE FROM executions WHERE run_id = ?", [(r,) for r in run_ids])
