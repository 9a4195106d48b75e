"""Runs, their LangGraph checkpoints and feature flags in the team database (a real PostgreSQL):
the same behaviour as on the SQLite files, and nothing of it written to the data dir."""

from __future__ import annotations

import pytest

from agent.test_approvals import sandbox  # noqa: F401 - the fixture


def test_a_paused_run_lives_in_postgres_and_resumes_once_from_its_checkpoint(
    team_mode,
    sandbox,  # noqa: F811
    isolated_home,
):
    from skill.agent import runs as store
    from skill.agent.graph import checkpointer, pending_approvals, prune, resume, run
    from skill.errors import UsageError

    first = run("deploy api 1.1.0 to production")
    assert first.status == "awaiting_approval", first.report
    second = run("deploy api 1.2.0 to staging")
    assert second.status == "done", second.report
    assert [r.id for r in store.list_runs()] == [second.run_id, first.run_id], "newest first"
    assert [r.id for r in pending_approvals()] == [first.run_id]
    assert store.connect().backend == "postgres"
    with checkpointer() as saver:
        assert type(saver).__name__ == "PostgresSaver"
        assert saver.get_tuple({"configurable": {"thread_id": first.run_id}}) is not None

    done = resume(first.pending["request_id"], approved=True, by="alice")
    assert done.status == "done", done.report
    with pytest.raises(UsageError, match="not waiting for approval"):
        resume(first.run_id, approved=True, by="bob")
    assert [(c["action"], c["version"]) for c in sandbox.calls()] == [
        ("deploy", "1.2.0"),
        ("deploy", "1.1.0"),
    ]
    assert store.execution(first.run_id).result is not None, "the journal is in the team database too"
    assert not (isolated_home / "graph.db").exists(), "no checkpoint or run went to the local file"

    conn = store.connect()  # age both runs rather than sleep past the cut-off's second
    conn.execute("UPDATE runs SET updated = '2000-01-01T00:00:00Z'")
    conn.close()
    assert sorted(prune(60)) == sorted([first.run_id, second.run_id])
    assert store.list_runs() == []
    with checkpointer() as saver:
        assert saver.get_tuple({"configurable": {"thread_id": first.run_id}}) is None


def test_flags_in_postgres(team_mode, isolated_home, tmp_path):
    from skill.nodes.deploy.flags import flag_history, get_flag, list_flags, set_flag

    (tmp_path / "devops-config").mkdir(exist_ok=True)
    set_flag("checkout-v2", "on", "staging", by="alice", remember=False)
    changed = set_flag("checkout-v2", "off", "staging", by="bob", remember=False)
    assert changed.previous is True and changed.enabled is False
    assert get_flag("checkout-v2", "staging").updated_by == "bob"
    assert [(f.name, f.env, f.enabled) for f in list_flags()] == [("checkout-v2", "staging", False)]
    assert [(h["enabled"], h["previous"], h["by"]) for h in flag_history("checkout-v2")] == [
        (0, 1, "bob"),
        (1, None, "alice"),
    ]
    assert not (isolated_home / "flags.db").exists()
