"""The queue when its team database fails: down at start, wrong password, lost mid-run. One clear
line and exit 5 for commands; `devops serve` answers 503 while the database is away (nothing is
accepted that is not stored) and carries on when it is back; no accepted event is lost."""

from __future__ import annotations

import os

import httpx

from webhooks.test_server import Server


def _one_line_exit_5(proc, *, secret: str | None = None) -> str:
    assert proc.returncode == 5, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: cannot reach the team database"), proc.stderr
    if secret:
        assert secret not in proc.stderr
    return lines[0]


def test_database_down_at_start_or_wrong_password_is_one_line_and_exit_5(own_postgres, run):
    url = own_postgres.create_database("queue")
    wrong = own_postgres.url_for("queue", tcp=True, password="not-the-password")
    for args in (["inbox", "list"], ["serve", "--port", "0"]):
        refused = run("-m", "skill.cli", *args, env={"DEVOPS_DATABASE_URL": wrong})
        line = _one_line_exit_5(refused, secret="not-the-password")
        assert "password" in line
    own_postgres.stop()
    for args in (["inbox", "list"], ["serve", "--port", "0"]):
        _one_line_exit_5(run("-m", "skill.cli", *args, env={"DEVOPS_DATABASE_URL": url}))


def test_database_lost_mid_run_refuses_new_events_and_loses_none(own_postgres, isolated_home, repo_root, run):
    url = own_postgres.create_database("queue")
    env = {**os.environ, "DEVOPS_DATABASE_URL": url}
    server = Server(isolated_home, repo_root, workers=0, env=env).start()
    try:
        assert [server.push(n).status_code for n in range(3)] == [202, 202, 202]
        own_postgres.stop()

        lost = server.push(3)
        assert lost.status_code == 503 and lost.json() == {"error": "the queue is unavailable; retry later"}
        ready = httpx.get(server.url + "/readyz", timeout=10)
        assert ready.status_code == 503 and ready.json()["checks"]["inbox"] is False
        listed = run("-m", "skill.cli", "inbox", "list", env={"DEVOPS_DATABASE_URL": url})
        _one_line_exit_5(listed)
        assert any(line.get("msg") == "queue unavailable" for line in server.lines())

        own_postgres.start()
        assert server.push(3).status_code == 202, "the same process reconnects once the database is back"
        assert httpx.get(server.url + "/readyz", timeout=10).json()["queue"] == {"pending": 4}
    finally:
        server.stop()

    # A worker process started now finds every accepted event and processes each once.
    worker = Server(isolated_home, repo_root, workers=1, env=env).start()
    try:
        assert worker.wait_until_done(4) == [f"push-{n}" for n in range(4)]
    finally:
        worker.stop()
