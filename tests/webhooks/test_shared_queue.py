"""Two `devops serve` processes share one queue; one is killed (SIGKILL) in the middle of a deploy
and the other takes the event over when the lease expires, without deploying a second time."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from webhooks.test_server import Server, inbox_rows, wait_done

SLOW_DRIVER = r"""
import os, subprocess, sys, time
marks = os.environ["SLOW_DRIVER_MARKS"]
with open(marks, "a") as f:
    f.write(f"start {os.getppid()}\n")
time.sleep(float(os.environ.get("SLOW_DRIVER_SECONDS", "4")))
code = subprocess.call([sys.executable, "-m", "skill.demo_support", "driver"])
with open(marks, "a") as f:
    f.write("end\n")
sys.exit(code)
"""


@pytest.fixture
def slow_deploys(tmp_path, monkeypatch, isolated_home):
    from skill.demo_support import STATE_ENV, SampleService, deploy_config
    from skill.memory import Memory

    script = tmp_path / "slow_driver.py"
    script.write_text(SLOW_DRIVER)
    marks = tmp_path / "driver-marks"
    with SampleService(tmp_path, "1.0.0") as service:
        config = "\n".join(
            f"script = {json.dumps(f'{sys.executable} {script}')}" if line.startswith("script =") else line
            for line in deploy_config(service).splitlines()
        )
        (tmp_path / "devops-config").mkdir(exist_ok=True)
        (tmp_path / "devops-config" / "config.toml").write_text(config + "\n[server]\nlease = 2\n")
        monkeypatch.setenv(STATE_ENV, str(service.state_file))
        monkeypatch.setenv("SLOW_DRIVER_MARKS", str(marks))
        with Memory.open() as mem:
            mem.record_deployment("api", "staging", "1.0.0", status="succeeded")
        yield service, marks


def _marks(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_a_worker_killed_mid_deploy_is_taken_over_by_the_other_process_and_never_deploys_twice(
    slow_deploys, isolated_home, repo_root
):
    service, marks = slow_deploys
    servers = [Server(isolated_home, repo_root, workers=1).start() for _ in range(2)]
    try:
        body = json.dumps(
            {"type": "deploy", "id": "chatops-9", "service": "api", "env": "staging", "version": "1.1.0"}
        ).encode()
        r = servers[0].post("generic", body, {"Authorization": "Bearer bearer-token"})
        assert r.status_code == 202, r.text
        deadline = time.monotonic() + 60
        while not _marks(marks):  # the deploy's side effect has started in one of the two workers
            assert time.monotonic() < deadline, [s.log.read_text() for s in servers]
            time.sleep(0.05)
        [row] = inbox_rows(isolated_home)
        holder_pid = int(row_owner(isolated_home).split("/")[1])
        [victim] = [s for s in servers if s.proc.pid == holder_pid]
        [survivor] = [s for s in servers if s is not victim]
        victim.stop(signal.SIGKILL)

        row = wait_done(isolated_home, "chatops-9", timeout=120)
        assert row["status"] == "done" and row["attempts"] == 2, row
        processed = [
            line
            for line in survivor.lines()
            if line.get("msg") == "processed" and line.get("item") == row["id"]
        ]
        assert processed and processed[0]["run_status"] == "failed"

        deadline = time.monotonic() + 30  # the orphaned driver of the killed worker completes on its own
        while "end" not in _marks(marks):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert [m.split()[0] for m in _marks(marks)] == ["start", "end"], "the driver ran once"
        assert [(c["action"], c["version"]) for c in service.calls()] == [("deploy", "1.1.0")]

        from skill.agent import runs as store

        run = store.get(row["run_id"])
        assert run.status == "failed" and "it is not run again" in (run.error or "")
    finally:
        for s in servers:
            if s.proc and s.proc.poll() is None:
                s.proc.kill()
                s.proc.wait(timeout=30)


def row_owner(home: Path) -> str:
    import sqlite3

    with sqlite3.connect(home / "inbox.db") as conn:
        return conn.execute("SELECT lease_owner FROM inbox").fetchone()[0]


def test_the_server_refuses_a_bad_lease_setting(isolated_home, tmp_path, run):
    (tmp_path / "devops-config").mkdir(exist_ok=True)
    (tmp_path / "devops-config" / "config.toml").write_text("[server]\nlease = 'soon'\n")
    proc = run("-m", "skill.cli", "serve", "--port", "0", env={**os.environ})
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "Error: [server] lease must be a number >= 1, not 'soon'"
