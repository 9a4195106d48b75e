"""Two `devops serve` processes share one queue (one data dir on SQLite; two homes, one database on
PostgreSQL); one is killed (SIGKILL) in the middle of a deploy and the other takes the event over
when the lease expires, without deploying a second time."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import pytest
from polling import wait_for

from webhooks.test_server import Server

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


@pytest.fixture(params=["sqlite", "postgres"])
def hosts(request, tmp_path, monkeypatch, isolated_home):
    """Two "hosts" for two `devops serve`: on SQLite they share the data dir (one machine); on
    PostgreSQL each has its own DEVOPS_HOME and config, and only the database is shared."""
    from skill.demo_support import STATE_ENV, SampleService, deploy_config
    from skill.memory import Memory

    if request.param == "postgres":
        request.getfixturevalue("team_mode")
    script = tmp_path / "slow_driver.py"
    script.write_text(SLOW_DRIVER)
    marks = tmp_path / "driver-marks"
    with SampleService(tmp_path, "1.0.0") as service:
        config = "\n".join(
            f"script = {json.dumps(f'{sys.executable} {script}')}" if line.startswith("script =") else line
            for line in deploy_config(service).splitlines()
        )
        # Short enough for a quick takeover, long enough that a live worker on a loaded machine
        # (renewing every lease/3) never loses its lease to the other one before the kill.
        config += "\n[server]\nlease = 6\n"
        monkeypatch.setenv(STATE_ENV, str(service.state_file))
        monkeypatch.setenv("SLOW_DRIVER_MARKS", str(marks))
        envs = []
        for name in ("a", "b"):
            home = isolated_home if request.param == "sqlite" else tmp_path / f"host-{name}" / "home"
            cfg = home.parent / "devops-config" if request.param == "postgres" else tmp_path / "devops-config"
            cfg.mkdir(parents=True, exist_ok=True)
            (cfg / "config.toml").write_text(config)
            env = {**os.environ, "DEVOPS_HOME": str(home), "DEVOPS_CONFIG_DIR": str(cfg)}
            envs.append(env)
            if not any(e["DEVOPS_HOME"] == str(home) for e in envs[:-1]):
                monkeypatch.setenv("DEVOPS_HOME", str(home))
                with Memory.open() as mem:  # each host knows what runs in staging
                    mem.record_deployment("api", "staging", "1.0.0", status="succeeded")
        monkeypatch.setenv("DEVOPS_HOME", str(isolated_home))
        yield request.param, service, marks, envs


def _marks(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _item(delivery: str):
    from skill.webhooks.inbox import Inbox

    queue = Inbox()
    try:
        found = [i for i in queue.list(limit=100) if i.delivery_id == delivery]
    finally:
        queue.close()
    return found[0] if found else None


def test_a_worker_killed_mid_deploy_is_taken_over_by_the_other_process_and_never_deploys_twice(
    hosts, isolated_home, repo_root, tmp_path
):
    backend, service, marks, envs = hosts
    servers = [Server(Path(env["DEVOPS_HOME"]), repo_root, workers=1, env=env).start() for env in envs]
    try:
        body = json.dumps(
            {"type": "deploy", "id": "chatops-9", "service": "api", "env": "staging", "version": "1.1.0"}
        ).encode()
        r = servers[0].post("generic", body, {"Authorization": "Bearer bearer-token"})
        assert r.status_code == 202, r.text
        # the deploy's side effect has started in one of the two workers
        wait_for(lambda: _marks(marks), "the driver to start")
        holder = _item("chatops-9").lease_owner
        [victim] = [s for s in servers if s.proc.pid == int(holder.split("/")[1])]
        [survivor] = [s for s in servers if s is not victim]
        victim.stop(signal.SIGKILL)

        done = wait_for(
            lambda: (i := _item("chatops-9")) and i.status in ("done", "dead") and i, "the takeover"
        )
        assert done.status == "done" and done.attempts == 2, done
        processed = [
            line
            for line in survivor.lines()
            if line.get("msg") == "processed" and line.get("item") == done.id
        ]
        assert processed and processed[0]["run_status"] == "failed"

        # the orphaned driver of the killed worker completes on its own; nobody starts another
        wait_for(lambda: "end" in _marks(marks), "the orphaned driver to end", timeout=120)
        assert [m.split()[0] for m in _marks(marks)] == ["start", "end"], "the driver ran once"
        assert [(c["action"], c["version"]) for c in service.calls()] == [("deploy", "1.1.0")]

        from skill.agent import runs as store

        run = store.get(done.run_id)
        assert run.status == "failed" and "it is not run again" in (run.error or "")
        if backend == "postgres":
            assert not (isolated_home / "inbox.db").exists() and not (isolated_home / "graph.db").exists()
    finally:
        for s in servers:
            if s.proc and s.proc.poll() is None:
                s.proc.kill()
                s.proc.wait(timeout=30)


def test_the_server_refuses_a_bad_lease_setting(isolated_home, tmp_path, run):
    (tmp_path / "devops-config").mkdir(exist_ok=True)
    (tmp_path / "devops-config" / "config.toml").write_text("[server]\nlease = 'soon'\n")
    proc = run("-m", "skill.cli", "serve", "--port", "0", env={**os.environ})
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "Error: [server] lease must be a number >= 1, not 'soon'"
