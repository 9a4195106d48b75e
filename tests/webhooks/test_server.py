"""`devops serve` as a real process on 127.0.0.1: authentication, body cap, dedup, crash safety."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from polling import wait_for

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "events"
SECRETS = {
    "DEVOPS_GITHUB_WEBHOOK_SECRET": "gh-webhook-secret",
    "DEVOPS_GITLAB_WEBHOOK_TOKEN": "gl-token",
    "DEVOPS_WEBHOOK_TOKEN": "bearer-token",
    "DEVOPS_PAGERDUTY_WEBHOOK_SECRET": "pd-secret",
}


class Server:
    def __init__(self, home: Path, repo: Path, workers: int = 1, env: dict[str, str] | None = None):
        self.home, self.repo, self.workers = home, repo, workers
        self.env = env  # another "host": its own DEVOPS_HOME (default: this process's environment)
        self.log = home.parent / f"server-{time.monotonic_ns()}.log"
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> Server:
        env = {**(self.env or os.environ), **SECRETS}
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "skill.cli", "serve", "--port", "0", "--workers", str(self.workers)],
                cwd=self.repo,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for line in self.lines():
                if line.get("msg") == "listening":
                    self.url = f"http://127.0.0.1:{line['port']}"
            if self.url:
                try:
                    if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
            assert self.proc.poll() is None, self.log.read_text()
            time.sleep(0.1)
        raise AssertionError("server did not start: " + self.log.read_text())

    def lines(self) -> list[dict]:
        out = []
        for raw in self.log.read_text().splitlines() if self.log.exists() else []:
            try:
                out.append(json.loads(raw))
            except ValueError:
                pass
        return out

    def post(self, source: str, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        return httpx.post(f"{self.url}/webhooks/{source}", content=body, headers=headers or {}, timeout=10)

    def push(self, n: int) -> httpx.Response:
        """Generic push event number ``n`` (delivery ``push-n``), with the bearer token."""
        body = json.dumps({"type": "push", "id": f"push-{n}", "service": "api", "commit": f"{n:07x}"})
        headers = {"Authorization": f"Bearer {SECRETS['DEVOPS_WEBHOOK_TOKEN']}"}
        return self.post("generic", body.encode(), headers)

    def queue(self) -> dict:
        """The queue's counts by status, from /readyz."""
        return httpx.get(self.url + "/readyz", timeout=10).json()["queue"]

    def wait_until_done(self, n: int, timeout: float = 120) -> list[str]:
        """Wait until the queue holds exactly ``n`` items, all done; the deliveries this process
        processed, sorted."""
        wait_for(lambda: self.queue() == {"done": n}, f"{n} events done", timeout, 0.3, self.log_tail)
        return sorted(line["delivery"] for line in self.lines() if line.get("msg") == "processed")

    def log_tail(self) -> str:
        return self.log.read_text()[-2000:] if self.log.exists() else ""

    def stop(self, sig=signal.SIGTERM) -> int:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            return self.proc.wait(timeout=60)
        return self.proc.returncode if self.proc else 0


@pytest.fixture
def server(isolated_home, repo_root):
    started: list[Server] = []

    def start(workers: int = 1) -> Server:
        s = Server(isolated_home, repo_root, workers).start()
        started.append(s)
        return s

    yield start
    for s in started:
        if s.proc and s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait(timeout=30)


def gh_headers(body: bytes, event: str, delivery: str, secret: str = SECRETS["DEVOPS_GITHUB_WEBHOOK_SECRET"]):
    sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": sig,
        "Content-Type": "application/json",
    }


def inbox_rows(home: Path) -> list[dict]:
    path = home / "inbox.db"
    if not path.exists():
        return []
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        return [
            dict(r)
            for r in conn.execute("SELECT id, source, delivery_id, status, attempts, run_id FROM inbox")
        ]


def runs_for(home: Path, event_key: str) -> list[dict]:
    path = home / "graph.db"
    if not path.exists():
        return []
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        return [
            dict(r)
            for r in conn.execute("SELECT id, status, node FROM runs WHERE event_id = ?", (event_key,))
        ]


def wait_done(home: Path, delivery: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = [r for r in inbox_rows(home) if r["delivery_id"] == delivery]
        if rows and rows[0]["status"] in ("done", "dead"):
            return rows[0]
        time.sleep(0.2)
    raise AssertionError(f"{delivery} not processed: {inbox_rows(home)}")


def test_signatures_tokens_and_health(server, isolated_home):
    s = server(workers=0)
    body = (FIXTURES / "github_workflow_run_failure.json").read_bytes()
    good = gh_headers(body, "workflow_run", "d-1")
    assert s.post("github", body, good).status_code == 202
    bad = gh_headers(body, "workflow_run", "d-2", secret="wrong")
    assert s.post("github", body, bad).status_code == 401
    tampered = body.replace(b'"failure"', b'"success"', 1)
    assert s.post("github", tampered, gh_headers(body, "workflow_run", "d-3")).status_code == 401
    assert (
        s.post("github", body, {"X-GitHub-Event": "workflow_run", "X-GitHub-Delivery": "d-4"}).status_code
        == 401
    )

    gl = (FIXTURES / "gitlab_pipeline_failed.json").read_bytes()
    assert (
        s.post("gitlab", gl, {"X-Gitlab-Token": "gl-token", "X-Gitlab-Event": "Pipeline Hook"}).status_code
        == 202
    )
    assert (
        s.post("gitlab", gl, {"X-Gitlab-Token": "nope", "X-Gitlab-Event": "Pipeline Hook"}).status_code == 401
    )

    am = (FIXTURES / "alertmanager_firing.json").read_bytes()
    assert s.post("alertmanager", am, {"Authorization": "Bearer bearer-token"}).status_code == 202
    assert s.post("alertmanager", am, {"Authorization": "Bearer other"}).status_code == 401
    assert s.post("alertmanager", am).status_code == 401
    pd = (FIXTURES / "pagerduty_incident_triggered.json").read_bytes()
    assert s.post("pagerduty", pd, {"Authorization": "Bearer bearer-token"}).status_code == 202
    pd2 = pd.replace(b"01DVUTE4Q7XZGH7U2LZ2R1P0TY", b"01DVUTE4Q7XZGH7U2LZ2R1P0ZZ")
    pd_sig = "v1=" + hmac.new(b"pd-secret", pd2, hashlib.sha256).hexdigest()
    assert s.post("pagerduty", pd2, {"X-PagerDuty-Signature": f"v1=00ff, {pd_sig}"}).status_code == 202
    assert s.post("pagerduty", pd2, {"X-PagerDuty-Signature": "v1=00ff"}).status_code == 401
    assert s.post("generic", b"{not json", {"Authorization": "Bearer bearer-token"}).status_code == 400
    # a well-formed body of the wrong shape: the 400 names the field, never a Python error text
    shaped = b'{"object_kind": "pipeline", "object_attributes": "oops"}'
    wrong = s.post("gitlab", shaped, {"X-Gitlab-Token": "gl-token", "X-Gitlab-Event": "Pipeline Hook"})
    assert wrong.status_code == 400
    assert wrong.json() == {
        "error": "not a valid gitlab event: expected an object in 'object_attributes' (text)"
    }
    assert s.post("nowhere", b"{}", {"Authorization": "Bearer bearer-token"}).status_code == 404

    # only the authenticated, well-formed deliveries were stored
    assert sorted(r["source"] for r in inbox_rows(isolated_home)) == [
        "alertmanager",
        "github",
        "gitlab",
        "pagerduty",
        "pagerduty",
    ]
    assert httpx.get(s.url + "/healthz").json() == {"ok": True}
    ready = httpx.get(s.url + "/readyz").json()
    assert ready["ok"] and ready["queue"] == {"pending": 5}
    unauth = [line for line in s.lines() if line.get("msg") == "unauthenticated"]
    assert len(unauth) == 7 and all("gh-webhook-secret" not in json.dumps(line) for line in unauth)


def test_body_cap(server, isolated_home, tmp_path):
    (tmp_path / "devops-config").mkdir(exist_ok=True)
    (tmp_path / "devops-config" / "config.toml").write_text("[server]\nmax_body = 2048\n")
    s = server(workers=0)
    big = json.dumps({"type": "alert", "summary": "x" * 4096}).encode()
    r = s.post("generic", big, {"Authorization": "Bearer bearer-token"})
    assert r.status_code == 413
    # Chunked, without Content-Length: the cap is counted on the stream, not trusted from a header.
    chunked = httpx.post(
        f"{s.url}/webhooks/generic",
        content=iter([big[:1500], big[1500:]]),
        headers={"Authorization": "Bearer bearer-token"},
        timeout=10,
    )
    assert chunked.status_code == 413
    small = json.dumps({"type": "alert", "summary": "disk full on db-1"}).encode()
    assert s.post("generic", small, {"Authorization": "Bearer bearer-token"}).status_code == 202
    assert [r["source"] for r in inbox_rows(isolated_home)] == ["generic"]


def test_redelivery_is_processed_once(server, isolated_home):
    s = server(workers=1)
    body = (FIXTURES / "github_workflow_run_failure.json").read_bytes()
    headers = gh_headers(body, "workflow_run", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
    first = s.post("github", body, headers)
    assert first.status_code == 202 and first.json()["type"] == "ci.failed"
    again = s.post("github", body, headers)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    row = wait_done(isolated_home, "72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert row["status"] == "done" and row["attempts"] == 1
    assert s.post("github", body, headers).json()["duplicate"] is True
    runs = runs_for(isolated_home, "github:72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert len(runs) == 1 and runs[0]["node"] == "ci"
    # uvicorn re-raises the signal after its graceful shutdown, so the exit status names SIGTERM
    assert s.stop() in (0, -signal.SIGTERM)
    assert any(line.get("msg") == "workers stopped" for line in s.lines())


def test_graceful_shutdown_drains_in_flight_work(server, isolated_home):
    s = server(workers=1)
    body = (FIXTURES / "generic_alert.json").read_bytes()
    r = s.post("generic", body, {"Authorization": "Bearer bearer-token"})
    assert r.status_code == 202
    deadline = time.monotonic() + 30
    while not any(row["status"] == "processing" for row in inbox_rows(isolated_home)):
        assert time.monotonic() < deadline, inbox_rows(isolated_home)
        time.sleep(0.02)
    s.stop(signal.SIGTERM)  # while the worker holds the item
    assert [row["status"] for row in inbox_rows(isolated_home)] == ["done"]
    msgs = [line.get("msg") for line in s.lines()]
    assert msgs.index("processed") < msgs.index("workers stopped")


def test_kill_after_accept_loses_nothing_and_processes_once(server, isolated_home):
    s = server(workers=0)  # accept and queue only, so the kill lands before any processing
    body = (FIXTURES / "alertmanager_firing.json").read_bytes()
    r = s.post("alertmanager", body, {"Authorization": "Bearer bearer-token"})
    assert r.status_code == 202
    delivery = r.json()["delivery"]
    s.stop(signal.SIGKILL)
    assert [row["status"] for row in inbox_rows(isolated_home)] == ["pending"]

    s2 = server(workers=1)
    row = wait_done(isolated_home, delivery)
    assert row["status"] == "done" and row["attempts"] == 1
    assert s2.post("alertmanager", body, {"Authorization": "Bearer bearer-token"}).json()["duplicate"] is True
    runs = runs_for(isolated_home, f"alertmanager:{delivery}")
    assert len(runs) == 1 and runs[0]["node"] == "incident"
    assert len(inbox_rows(isolated_home)) == 1


def test_kill_during_processing_recovers_the_item_once(server, isolated_home):
    s = server(workers=1)
    body = (FIXTURES / "pagerduty_incident_triggered.json").read_bytes()
    r = s.post("pagerduty", body, {"Authorization": "Bearer bearer-token"})
    assert r.status_code == 202
    delivery = r.json()["delivery"]
    deadline = time.monotonic() + 30
    while not any(row["status"] in ("processing", "done") for row in inbox_rows(isolated_home)):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    s.stop(signal.SIGKILL)  # mid-run (or just after): either way nothing may be lost or doubled

    server(workers=1)
    row = wait_done(isolated_home, delivery)
    assert row["status"] == "done" and row["run_id"] == f"evt-{row['id']}"
    runs = runs_for(isolated_home, f"pagerduty:{delivery}")
    assert len(runs) == 1 and runs[0]["status"] == "done" and runs[0]["node"] == "incident"


def test_event_deploy_to_production_waits_for_a_human_then_runs_once(
    server, isolated_home, tmp_path, monkeypatch
):
    from skill.agent.graph import pending_approvals, resume
    from skill.demo_support import STATE_ENV, SampleService, deploy_config, provision_operator_key
    from skill.memory import Memory

    with SampleService(tmp_path, "1.0.0") as service:
        (tmp_path / "devops-config").mkdir(exist_ok=True)
        (tmp_path / "devops-config" / "config.toml").write_text(deploy_config(service))
        monkeypatch.setenv(STATE_ENV, str(service.state_file))
        with Memory.open() as mem:
            mem.record_deployment("api", "production", "1.0.0")
        s = server(workers=1)
        body = json.dumps(
            {"type": "deploy", "id": "chatops-77", "service": "api", "env": "production", "version": "1.1.0"}
        ).encode()
        assert s.post("generic", body, {"Authorization": "Bearer bearer-token"}).status_code == 202
        row = wait_done(isolated_home, "chatops-77")
        assert row["status"] == "done"
        with sqlite3.connect(isolated_home / "inbox.db") as conn:
            assert conn.execute("SELECT run_status FROM inbox").fetchone()[0] == "awaiting_approval"
        assert service.calls() == [], "the server never deploys to production on its own"
        [paused] = pending_approvals()
        assert paused.id == row["run_id"] and paused.tier == 4

        monkeypatch.setenv("DEVOPS_OPERATOR_KEY", provision_operator_key())
        out = resume(paused.request_id, approved=True, by="alice")
        assert out.status == "done", out.report
        assert [(c["action"], c["version"]) for c in service.calls()] == [("deploy", "1.1.0")]
        s.stop()
