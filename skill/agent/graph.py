"""The agent graph: every request and event takes the same path.

    intake -> route -> <tool node> -> gate -> [approval] -> execute -> record -> report
                        ci | iac | deploy | readiness | incident | memory

- route: deterministic intent rules (skill.agent.routing), or Claude through tool use when configured.
- tool nodes: thin adapters (skill.agent.tools) over the plain functions of skill.nodes.*; they only
  read and plan. A change they want is put in ``state.action``.
- gate: skill.guardrails.engine decides on the action. allow -> execute; ask, or a block an
  approval can lift -> approval; a block nothing can lift -> record.
- approval: the only node that calls ``interrupt()`` and nothing runs before it, because LangGraph
  re-executes the interrupted node from its start on resume. The interrupt carries the guardrails
  request id, the tier and the reasons. A human approves through the guardrails approvals
  (``devops approvals approve ID --by NAME``, from any process); the node then re-checks the gate,
  which must now pass once.
- execute: the only node with side effects (deploy, rollback, flag). It runs after the approval
  checkpoint is written (durability "sync"), so a resume never repeats it.
- record: the outcome goes to memory. report: readable text (+ an LLM summary when configured).

Checkpoints live in ``data_dir()/graph.db`` (SqliteSaver), or with ``DEVOPS_DATABASE_URL`` in the
team database (PostgresSaver); the ``runs`` table beside them (skill.agent.runs) indexes them and
holds the exactly-once claim for resumes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, Field

from skill.agent import runs as run_store
from skill.agent.state import NODES, RunState
from skill.errors import EXIT_APPROVAL, EXIT_BLOCKED, EXIT_FINDINGS, EXIT_OK, UsageError
from skill.paths import db_path
from skill.storage import backend_name, database_url
from skill.storage import sqlite as sqlite_store
from skill.webhooks.events import Event

# ----------------------------------------------------------------------------- nodes


def intake(state: RunState) -> dict[str, Any]:
    if not (state.request or "").strip() and not state.event:
        return {"status": "failed", "error": "nothing to do: give a request or an event"}
    return {}


def route(state: RunState) -> dict[str, Any]:
    from skill.agent import llm, routing

    notices = list(state.notices)
    if state.event and state.event.get("type") != "request":
        chosen = routing.route_event(state.event)
    else:
        text = state.request or (state.event or {}).get("text") or (state.event or {}).get("title") or ""
        chosen = None
        if llm.enabled():
            chosen, notice = llm.route(text, NODES)
            if notice:
                notices.append(notice)
        if chosen is None:
            chosen = routing.route_text(text)
    if state.event:
        chosen.params.setdefault("event", state.event)
    return {"node": chosen.node, "params": chosen.params, "routed_by": chosen.by, "notices": notices}


def _tool_node(name: str):
    def node(state: RunState) -> dict[str, Any]:
        from skill.agent import tools

        return tools.run_tool(name, state)

    node.__name__ = f"{name}_node"
    return node


def gate(state: RunState) -> dict[str, Any]:
    from skill.agent import tools

    decision = tools.check(state.action or {})
    if decision["decision"] == "allow":
        return {"decision": decision}
    if decision["decision"] == "block" and not decision.get("approvable", True):
        return {"decision": decision, "status": "blocked"}
    return {"decision": decision}


def approval(state: RunState) -> dict[str, Any]:
    from langgraph.types import interrupt

    from skill.agent import tools

    decision = state.decision or {}
    answer = interrupt(
        {
            "run_id": state.run_id,
            "request_id": decision.get("request_id"),
            "tier": decision.get("tier"),
            "decision": decision.get("decision"),
            "reasons": decision.get("reasons", []),
            "action": tools.describe_action(state.action or {}),
        }
    )
    # --- everything below runs only once the run is resumed ---
    answer = answer if isinstance(answer, dict) else {"approved": bool(answer)}
    if not answer.get("approved"):
        return {"approval": answer, "status": "rejected"}
    # The approval was recorded by a human through the guardrails approvals; the gate itself has
    # to accept it now (single use, bound to this action, target and environment).
    # Without a token the gate looks up the pending approval of the same request itself.
    recheck = tools.check(state.action or {}, approval=answer.get("token"))
    if recheck["decision"] != "allow":
        return {
            "approval": answer,
            "decision": recheck,
            "status": "blocked",
            "error": "the gate did not accept the approval: " + "; ".join(recheck.get("reasons", [])),
        }
    return {"approval": answer, "decision": {**recheck, "approved_request": decision.get("request_id")}}


def execute(state: RunState) -> dict[str, Any]:
    from skill.agent import tools

    earlier = run_store.begin_execution(state.run_id)
    if earlier is not None:
        # A previous attempt of this node (a process that died, or one still running) owns it.
        if earlier.result is not None:
            return earlier.result
        why = (
            f"the action was started at {earlier.started[:19]} by process {earlier.pid} on {earlier.host}, "
            "which stopped before recording its result; it is not run again: check the target by hand"
        )
        return {"executed": {"ok": False, "lines": [f"Error: {why}"]}, "status": "failed", "error": why}
    update = tools.execute(state)
    run_store.finish_execution(state.run_id, update)
    return update


def record(state: RunState) -> dict[str, Any]:
    from skill.agent import tools

    return tools.record(state)


def report(state: RunState) -> dict[str, Any]:
    from skill.agent import llm, tools

    text = tools.render_report(state)
    update: dict[str, Any] = {"report": text}
    if state.status == "running":
        update["status"] = "done"
    if llm.enabled():
        summary, notice = llm.summarize(state.model_dump(mode="json") | {"report": text})
        if summary:
            update["summary"] = summary
        if notice:
            update["notices"] = [*state.notices, notice]
    return update


# ----------------------------------------------------------------------------- edges


def _after_route(state: RunState) -> str:
    return state.node if state.status == "running" and state.node in NODES else "report"


def _after_tool(state: RunState) -> str:
    if state.status != "running":
        return "record"
    return "gate" if state.action else "record"


def _after_gate(state: RunState) -> str:
    if state.status != "running":
        return "record"
    return "execute" if (state.decision or {}).get("decision") == "allow" else "approval"


def _after_approval(state: RunState) -> str:
    return "execute" if state.status == "running" else "record"


_BUILT: Any = None


def build_graph():
    """The uncompiled StateGraph (``.compile(checkpointer=...)`` it). Built once per process."""
    global _BUILT
    if _BUILT is None:
        _BUILT = _build()
    return _BUILT


def _build():
    from langgraph.graph import END, START, StateGraph

    g = StateGraph(RunState)
    g.add_node("intake", intake)
    g.add_node("route", route)
    for name in NODES:
        g.add_node(name, _tool_node(name))
    g.add_node("gate", gate)
    g.add_node("approval", approval)
    g.add_node("execute", execute)
    g.add_node("record", record)
    g.add_node("report", report)

    g.add_edge(START, "intake")
    g.add_conditional_edges(
        "intake", lambda s: "route" if s.status == "running" else "report", ["route", "report"]
    )
    g.add_conditional_edges("route", _after_route, [*NODES, "report"])
    for name in NODES:
        g.add_conditional_edges(name, _after_tool, ["gate", "record"])
    g.add_conditional_edges("gate", _after_gate, ["execute", "approval", "record"])
    g.add_conditional_edges("approval", _after_approval, ["execute", "record"])
    g.add_edge("execute", "record")
    g.add_edge("record", "report")
    g.add_edge("report", END)
    return g


@contextmanager
def checkpointer() -> Iterator[Any]:
    """The LangGraph checkpointer beside the runs table: SqliteSaver on ``data_dir()/graph.db``, or
    PostgresSaver in the team database, so a run paused on one host resumes on another."""
    url = database_url() if backend_name(run_store.SCHEMA) == "postgres" else None
    if url is None or url not in _SAVER_READY:
        # Creates the file or the tables and checks the schema version: on PostgreSQL once per
        # process, since a connection per run would cost more than most of the graph's steps.
        run_store.connect().close()
    with sqlite_saver(db_path("graph")) if url is None else postgres_saver(url) as saver:
        yield saver


@contextmanager
def sqlite_saver(path: str) -> Iterator[Any]:
    """SqliteSaver on the SQLite file ``path`` (graph.db of a data dir)."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    conn = sqlite_store.connect(path, "runs", check_same_thread=False)
    try:
        yield SqliteSaver(conn)
    finally:
        conn.close()


@contextmanager
def postgres_saver(url: str) -> Iterator[Any]:
    """PostgresSaver in the database at ``url``, its tables set up once per process."""
    try:
        import psycopg
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row
    except ImportError:
        from skill.errors import ConfigError

        raise ConfigError(
            "a team database is configured but langgraph-checkpoint-postgres is not installed",
            hint="pip install 'master-devops[team]'",
        ) from None

    from skill.storage import postgres

    try:
        # What PostgresSaver requires: autocommit (it manages its own transactions), dict rows,
        # and no server-side prepared statements (they break behind a pooler such as pgbouncer).
        raw = psycopg.connect(
            url,
            autocommit=True,
            row_factory=dict_row,
            prepare_threshold=None,
            connect_timeout=postgres.CONNECT_TIMEOUT,
        )
    except psycopg.Error as exc:
        raise postgres.unreachable(url, exc) from exc
    try:
        saver = PostgresSaver(raw)
        if url not in _SAVER_READY and not _checkpoint_tables_current(raw, saver):
            try:
                # setup() creates its tables (some CONCURRENTLY, so outside a transaction): a
                # session lock keeps two processes starting at once from racing through it.
                raw.execute("SELECT pg_advisory_lock(hashtext('devops checkpoints setup'))")
                try:
                    saver.setup()
                finally:
                    raw.execute("SELECT pg_advisory_unlock(hashtext('devops checkpoints setup'))")
            except psycopg.OperationalError as exc:
                raise postgres.unreachable(url, exc) from exc
            except psycopg.Error as exc:
                raise postgres.migration_error(url, "checkpoints", exc) from exc
            _SAVER_READY.add(url)
        yield saver
    finally:
        raw.close()


_SAVER_READY: set[str] = set()  # team database URLs whose checkpoint tables this process set up


def _checkpoint_tables_current(raw, saver) -> bool:
    """Whether the checkpoint tables are at the library's latest migration already. setup()
    always starts with a CREATE TABLE IF NOT EXISTS, which an application role without CREATE on
    the schema is refused even when the table exists (docs/team.md, Grants): it only reads."""
    import psycopg

    try:
        if raw.execute("SELECT to_regclass('checkpoint_migrations') AS t").fetchone()["t"] is None:
            return False
        row = raw.execute("SELECT max(v) AS v FROM checkpoint_migrations").fetchone()
    except psycopg.Error:  # autocommit: nothing to roll back; setup() then reports what is wrong
        return False
    return row is not None and row["v"] is not None and row["v"] >= len(saver.MIGRATIONS) - 1


def ensure_checkpoint_tables() -> None:
    """Create LangGraph's checkpoint tables now (`devops db migrate`, run as the database owner),
    instead of on the first graph run, which a restricted application role could not do."""
    with checkpointer():
        pass


@contextmanager
def open_graph() -> Iterator[Any]:
    """The compiled graph with its checkpointer (see ``checkpointer``)."""
    with checkpointer() as saver:
        yield build_graph().compile(checkpointer=saver)


# ----------------------------------------------------------------------------- running


class RunOutcome(BaseModel):
    run_id: str
    status: str
    node: str | None = None
    op: str | None = None
    routed_by: str | None = None
    report: str = ""
    summary: str = ""
    pending: dict[str, Any] | None = Field(default=None, description="the interrupt payload while paused")
    decision: dict[str, Any] | None = None
    approval: dict[str, Any] | None = None
    executed: dict[str, Any] | None = None
    result: dict[str, Any] = Field(default_factory=dict)
    notices: list[str] = Field(default_factory=list)
    error: str | None = None

    @property
    def exit_code(self) -> int:
        if self.status == "awaiting_approval":
            return EXIT_APPROVAL
        if self.status == "blocked":
            return EXIT_BLOCKED
        if self.status in {"failed", "rejected"}:
            return EXIT_FINDINGS
        if self.result.get("ok") is False or (self.executed or {}).get("ok") is False:
            return EXIT_FINDINGS
        return EXIT_OK


def new_run_id() -> str:
    return "run-" + uuid.uuid4().hex[:12]


def _config(run_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": run_id}}


def _values(snapshot: Any) -> dict[str, Any]:
    values = snapshot.values
    if isinstance(values, BaseModel):
        return values.model_dump(mode="json")
    return dict(values or {})


def _finish(graph: Any, run_id: str) -> RunOutcome:
    snapshot = graph.get_state(_config(run_id))
    values = _values(snapshot)
    pending = None
    status = values.get("status") or "running"
    if snapshot.interrupts:
        from skill.agent.tools import render_report

        pending = snapshot.interrupts[0].value
        status = "awaiting_approval"
        values["report"] = render_report(RunState.model_validate(values))
    run_store.update_from_state(run_id, values, status=status)
    return RunOutcome(
        run_id=run_id,
        status=status,
        node=values.get("node"),
        op=(values.get("params") or {}).get("op"),
        routed_by=values.get("routed_by"),
        report=values.get("report") or "",
        summary=values.get("summary") or "",
        pending=pending,
        decision=values.get("decision"),
        approval=values.get("approval"),
        executed=values.get("executed"),
        result=values.get("result") or {},
        notices=values.get("notices") or [],
        error=values.get("error"),
    )


def run(
    request: str | None = None,
    *,
    event: Event | dict[str, Any] | None = None,
    run_id: str | None = None,
    cwd: str | None = None,
    event_key: str | None = None,
) -> RunOutcome:
    """Run one request or event through the graph until it ends or pauses for approval.

    ``run_id`` doubles as the checkpoint thread id; calling again with the id of a run that was
    interrupted by a crash (not by an approval) continues it from its last checkpoint.
    """
    if event is not None and isinstance(event, Event):
        event = event.model_dump(mode="json")
    if not (request or "").strip() and not event:
        raise UsageError("give a request text or an event")
    run_id = run_id or new_run_id()
    with open_graph() as graph:
        snapshot = graph.get_state(_config(run_id))
        if snapshot.values:
            # Known thread: a crash stopped it mid-way (continue) or it already ended (report it).
            if snapshot.next and not snapshot.interrupts:
                graph.invoke(None, _config(run_id), durability="sync")
            return _finish(graph, run_id)
        source = (event or {}).get("source", "request") if event else "request"
        text = request or (event or {}).get("title") or ""
        if event and not event_key:
            event_key = f"{event.get('source')}:{event.get('id')}"
        run_store.create(run_id, source=source, input=text, event_id=event_key)
        state = RunState(run_id=run_id, request=request, event=event, cwd=cwd)
        graph.invoke(state.model_dump(mode="json"), _config(run_id), durability="sync")
        return _finish(graph, run_id)


def resume(
    ref: str, *, approved: bool, by: str | None = None, reason: str | None = None, **approval: Any
) -> RunOutcome:
    """Resume (approve) or end (reject) a run paused for approval, exactly once.

    ``ref`` is the run id or the guardrails request id. Approving first records the human
    approval through ``skill.guardrails.approvals`` (which demands a terminal confirmation or the
    operator key: ``approval`` passes its options through), then resumes the thread.
    """
    from langgraph.types import Command

    from skill.agent import tools

    claimed = run_store.claim(ref)
    answer: dict[str, Any] = {"approved": approved, "by": by, "reason": reason}
    if approved:
        try:
            answer["token"] = tools.grant_approval(claimed.request_id, by=by, **approval)
        except BaseException:
            run_store.release(claimed.id)
            raise
    with open_graph() as graph:
        snapshot = graph.get_state(_config(claimed.id))
        if not snapshot.interrupts:
            run_store.update_from_state(claimed.id, _values(snapshot))
            raise UsageError(f"run {claimed.id} has no pending approval in its checkpoint")
        graph.invoke(Command(resume=answer), _config(claimed.id), durability="sync")
        return _finish(graph, claimed.id)


def recover(ref: str, *, stale_after_seconds: float = 600) -> RunOutcome:
    """Finish a run left ``resuming`` by an approving process that died, without repeating anything.

    The run must have been resuming for longer than ``stale_after_seconds`` (one recoverer wins
    the claim). From its checkpoint: still at the interrupt -> back to ``awaiting_approval`` (the
    human approves again); past it -> the graph continues, and the execution journal makes the
    execute node reuse the journaled result or, if the first attempt never finished, end the run
    as failed instead of acting twice; already finished -> its row is brought up to date.
    """
    from skill.durations import iso, utcnow

    cutoff = iso(utcnow() - timedelta(seconds=stale_after_seconds))
    found = run_store.get(ref)
    earlier = run_store.execution(found.id)
    if earlier is not None and earlier.finished is None and earlier.owner_alive():
        raise UsageError(
            f"run {found.id} is still executing in process {earlier.pid} (started {earlier.started[:19]}); "
            "not recovering a live run"
        )
    claimed = run_store.claim_stale(found.id, cutoff)
    try:
        with open_graph() as graph:
            snapshot = graph.get_state(_config(claimed.id))
            if snapshot.interrupts:
                run_store.set_status(claimed.id, "awaiting_approval")
                outcome = _finish(graph, claimed.id)
                outcome.notices.append(
                    "the approving process stopped before the run resumed: approve it again"
                )
                return outcome
            if snapshot.next:
                graph.invoke(None, _config(claimed.id), durability="sync")
            return _finish(graph, claimed.id)
    except BaseException:
        run_store.set_status(claimed.id, "resuming")  # a later recover may try again
        raise


def stale_resumes(stale_after_seconds: float = 600) -> list[run_store.RunRecord]:
    from skill.durations import iso, utcnow

    return run_store.stale_resuming(iso(utcnow() - timedelta(seconds=stale_after_seconds)))


def pending_approvals() -> list[run_store.RunRecord]:
    return run_store.list_runs(status="awaiting_approval", limit=500)


def prune(older_than_seconds: float) -> list[str]:
    """Delete finished runs (and their checkpoints) older than the given age; paused ones stay."""
    from skill.durations import iso, utcnow

    cutoff = iso(utcnow() - timedelta(seconds=older_than_seconds))
    old = run_store.finished_before(cutoff)
    with checkpointer() as saver:
        for run_id in old:
            saver.delete_thread(run_id)
    run_store.delete(old)
    return old
