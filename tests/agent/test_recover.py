"""A run left `resuming` by an approving process that died: `devops runs recover` finishes it and
never repeats a side effect. The approver is a real process killed (os._exit) at each seam."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from contextlib import closing

import pytest

from agent.test_approvals import sandbox  # noqa: F401 - the fixture

CRASHING_APPROVER = r"""
import os, sys
from skill.agent import runs, tools as adapters
where = sys.argv[2]
def dies_after(fn):
    def wrapped(*a, **k):
        fn(*a, **k)
        os._exit(9)
    return wrapped
if where == "after-grant":          # the approval is recorded, the graph never resumed
    adapters.grant_approval = dies_after(adapters.grant_approval)
elif where == "after-side-effect":  # the deploy ran, its result was never journaled
    adapters.execute = dies_after(adapters.execute)
elif where == "after-journal":      # the result is journaled, the checkpoint never written
    runs.finish_execution = dies_after(runs.finish_execution)
from skill.agent.graph import resume
resume(sys.argv[1], approved=True, by="alice")
"""


def _paused_deploy():
    from skill.agent.graph import run

    out = run("deploy api 1.1.0 to production")
    assert out.status == "awaiting_approval", out.report
    return out.run_id


def _crash_approver(run_id: str, where: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", CRASHING_APPROVER, run_id, where],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
        start_new_session=True,
    )
    assert proc.returncode == 9, proc.stderr


def _age(run_id: str) -> None:
    """Pretend the stuck resume happened an hour ago (instead of sleeping past --stale-after)."""
    from skill.agent import runs as store

    with closing(store.connect()) as conn:
        conn.execute("UPDATE runs SET updated = '2000-01-01T00:00:00Z' WHERE id = ?", (run_id,))


def _recover_cli(run_id: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "skill.cli", "runs", "recover", run_id, "--json"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
    )


def test_died_after_the_grant_goes_back_to_waiting_and_is_approved_once(sandbox):  # noqa: F811
    from skill.agent import runs as store
    from skill.agent.graph import recover, resume
    from skill.errors import UsageError

    run_id = _paused_deploy()
    _crash_approver(run_id, "after-grant")
    assert store.get(run_id).status == "resuming"
    with pytest.raises(UsageError, match="not stale yet"):
        recover(run_id)
    _age(run_id)
    listed = subprocess.run(
        [sys.executable, "-m", "skill.cli", "approvals", "list"], capture_output=True, text=True, timeout=60
    )
    assert "STALE: resuming since 2000-01-01T00:00:00" in listed.stdout
    assert f"devops runs recover {run_id}" in listed.stdout
    shown = subprocess.run(
        [sys.executable, "-m", "skill.cli", "runs", "show", run_id],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert f"if the approving process stopped: devops runs recover {run_id}" in shown.stdout

    out = recover(run_id)
    assert out.status == "awaiting_approval"
    assert any("approve it again" in n for n in out.notices)
    assert sandbox.calls() == []
    done = resume(run_id, approved=True, by="alice")
    assert done.status == "done", done.report
    assert [(c["action"], c["version"]) for c in sandbox.calls()] == [("deploy", "1.1.0")]
    with pytest.raises(UsageError, match="not stuck resuming"):
        recover(run_id, stale_after_seconds=0)


def test_died_after_the_side_effect_is_not_repeated_and_fails_loudly(sandbox):  # noqa: F811
    from skill.agent import runs as store

    run_id = _paused_deploy()
    _crash_approver(run_id, "after-side-effect")
    assert [(c["action"], c["version"]) for c in sandbox.calls()] == [("deploy", "1.1.0")]
    _age(run_id)
    proc = _recover_cli(run_id)
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)
    assert out["status"] == "failed"
    assert "stopped before recording its result; it is not run again" in out["error"]
    assert len(sandbox.calls()) == 1, "the deploy ran once, recovery did not repeat it"
    assert store.get(run_id).status == "failed"
    again = _recover_cli(run_id)
    assert again.returncode == 2 and "not stuck resuming (status: failed)" in again.stderr


def test_died_after_the_journal_finishes_with_the_journaled_result(sandbox):  # noqa: F811
    from skill.agent import runs as store
    from skill.agent.graph import recover

    run_id = _paused_deploy()
    _crash_approver(run_id, "after-journal")
    _age(run_id)
    out = recover(run_id)
    assert out.status == "done", out.report
    assert out.executed["ok"] is True and "Deploy succeeded" in out.report
    assert len(sandbox.calls()) == 1
    assert store.get(run_id).status == "done"


def test_a_live_executor_is_not_recovered(sandbox):  # noqa: F811
    from skill.agent import runs as store
    from skill.agent.graph import recover
    from skill.errors import UsageError

    run_id = _paused_deploy()
    store.claim(run_id)
    _age(run_id)
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as alive:
        try:
            with closing(store.connect()) as conn:
                conn.execute(
                    "INSERT INTO executions (run_id, started, host, pid) VALUES (?, '2000-01-01T00:00:00Z', ?, ?)",
                    (run_id, socket.gethostname(), alive.pid),
                )
            with pytest.raises(UsageError, match="still executing in process"):
                recover(run_id)
            assert store.get(run_id).status == "resuming"
        finally:
            alive.kill()
