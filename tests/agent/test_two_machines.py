"""The two-machine story on one PostgreSQL: separate OS processes with separate DEVOPS_HOMEs.

A `devops serve` on "host A" receives a deploy to production; its run pauses for approval with
the run and its LangGraph checkpoints in PostgreSQL. An operator on "host B" (another process,
another home) approves it with `devops approvals approve`: the run resumes there exactly once, a
second approver gets a clear "not waiting", and the deploy ran once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from polling import wait_for
from webhooks.test_server import Server


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "skill.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        start_new_session=True,  # no terminal: the operator key is the only way to approve
    )


def _host(tmp_path: Path, name: str, url: str, config: str) -> dict[str, str]:
    home, cfg = tmp_path / f"{name}-home", tmp_path / f"{name}-config"
    cfg.mkdir(parents=True)
    (cfg / "config.toml").write_text(config)
    return {**os.environ, "DEVOPS_HOME": str(home), "DEVOPS_CONFIG_DIR": str(cfg), "DEVOPS_DATABASE_URL": url}


def test_a_run_paused_by_serve_on_one_host_is_approved_from_another_and_resumes_once(
    postgres_url, tmp_path, repo_root, monkeypatch
):
    from skill.demo_support import STATE_ENV, SampleService, deploy_config, provision_operator_key

    with SampleService(tmp_path, "1.0.0") as service:
        config = deploy_config(service)
        host_a = _host(tmp_path, "a", postgres_url, config)
        host_b = _host(tmp_path, "b", postgres_url, config)
        for env in (host_a, host_b):
            env[STATE_ENV] = str(service.state_file)
        host_b["DEVOPS_OPERATOR_KEY"] = provision_operator_key(host_b["DEVOPS_HOME"])
        monkeypatch.setenv("DEVOPS_HOME", host_a["DEVOPS_HOME"])
        monkeypatch.setenv("DEVOPS_CONFIG_DIR", host_a["DEVOPS_CONFIG_DIR"])
        monkeypatch.setenv("DEVOPS_DATABASE_URL", postgres_url)
        monkeypatch.setenv(STATE_ENV, str(service.state_file))
        from skill.memory import Memory

        with Memory.open() as mem:  # host A knows what runs in production (the rollback target)
            mem.record_deployment("api", "production", "1.0.0", status="succeeded")
        server = Server(Path(host_a["DEVOPS_HOME"]), repo_root, workers=1).start()
        try:
            body = json.dumps(
                {
                    "type": "deploy",
                    "id": "chatops-2m",
                    "service": "api",
                    "env": "production",
                    "version": "1.1.0",
                }
            ).encode()
            assert server.post("generic", body, {"Authorization": "Bearer bearer-token"}).status_code == 202

            seen: list[str] = []

            def paused():
                listed = _cli(host_b, "approvals", "list", "--json")
                seen[:] = [listed.stdout + listed.stderr]
                rows = json.loads(listed.stdout) if listed.returncode == 0 else []
                return rows[0] if rows else None

            try:
                waiting = wait_for(paused, "the run to pause for approval (seen from host B)", timeout=60)
            except AssertionError as exc:
                shown = _cli(host_a, "runs", "list", "--json")
                raise AssertionError(f"{exc}: {seen} {shown.stdout[-3000:]}") from None
            assert service.calls() == [], "nothing deploys before the approval"
        finally:
            server.stop()

        approvers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "skill.cli",
                    "approvals",
                    "approve",
                    waiting["request_id"],
                    "--by",
                    who,
                    "--json",
                ],
                env=host_b,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
            for who in ("alice", "bob")
        ]
        results = [(p.wait(timeout=180), *p.communicate()) for p in approvers]
        codes = sorted(code for code, _, _ in results)
        assert codes == [0, 2], results
        [(_, out, _)] = [r for r in results if r[0] == 0]
        assert json.loads(out)["status"] == "done"
        [(_, _, err)] = [r for r in results if r[0] == 2]
        assert "not waiting for approval" in err and len(err.strip().splitlines()) == 1
        assert [(c["action"], c["version"]) for c in service.calls()] == [("deploy", "1.1.0")]

        shown = _cli(host_a, "runs", "show", waiting["id"], "--json")
        assert json.loads(shown.stdout)["status"] == "done", "host A sees the outcome host B produced"
        assert not (Path(host_b["DEVOPS_HOME"]) / "graph.db").exists(), "nothing was kept on host B's disk"
