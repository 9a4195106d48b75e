"""The GRANTs docs/team.md documents are the tested truth: its SQL blocks are applied verbatim
(only the password placeholder replaced) to a real PostgreSQL migrated by the owner, and every
store is then driven through real CLI processes, each with its own DEVOPS_HOME, as the restricted
role. A grant the doc misses fails here; so does a code path that needs more than the doc grants.

The second block (approvers apart from the agent) is tested as an adversary would try it: the
agent's role cannot approve, through the CLI or by writing the table, and cannot mark a used
approval unused; the approver's role approves, and the agent uses that approval once.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from conftest import run_script
from polling import wait_for
from webhooks.test_server import Server

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "app-secret"
OPERATOR_KEY = "dok_test-operator-key-for-the-grants"
POLICY = """
[[rules]]
id = "pin.ask"
command = "mytool ask *"
tier = 3
"""


def documented_grants() -> list[str]:
    """The SQL blocks of docs/team.md's Grants paragraph, in order, as written."""
    text = (REPO / "docs" / "team.md").read_text()
    start = text.index("**Grants.**")
    section = text[start : text.index("\n## ", start)]
    blocks = re.findall(r"```sql\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 2, "docs/team.md Grants: the application role's block and the approvers' split"
    return [block.replace("'…'", f"'{PASSWORD}'") for block in blocks]


def statements(block: str) -> list[str]:
    lines = [line.split("--", 1)[0] for line in block.splitlines()]
    return [s.strip() for s in " ".join(lines).split(";") if s.strip()]


def apply(url: str, block: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements(block):
            conn.execute(statement)


@pytest.fixture
def team_db(own_postgres, tmp_path):
    """A private server (roles are cluster-wide) with the doc's database `devops`, migrated by
    the owner; returns (owner URL, URL for a role by name)."""
    owner = own_postgres.create_database("devops")
    env = host(tmp_path, "owner", owner)
    migrated = cli(env, "db", "migrate")
    assert migrated.returncode == 0, migrated.stderr

    def as_role(role: str) -> str:
        tcp = own_postgres.url_for("devops", tcp=True, password=PASSWORD)
        return tcp.replace(tcp.split("://", 1)[1].split(":", 1)[0] + ":", role + ":", 1)

    return owner, as_role


def host(tmp_path: Path, name: str, url: str, config: str = "") -> dict[str, str]:
    """One machine: its own data dir and config dir (gate policy pinned), the team database."""
    home, cfg = tmp_path / f"{name}-home", tmp_path / f"{name}-config"
    cfg.mkdir(parents=True, exist_ok=True)
    (cfg / "policy.toml").write_text(POLICY)
    (cfg / "config.toml").write_text(config)
    env = {**os.environ, "DEVOPS_HOME": str(home), "DEVOPS_CONFIG_DIR": str(cfg), "DEVOPS_DATABASE_URL": url}
    from skill.guardrails import approvals

    approvals.store_operator_key(OPERATOR_KEY, str(home))
    # a stamp in the future: checks do not start the detached shipper, the test ships itself
    from skill.guardrails import audit

    stamp = home / audit.SHIP_STAMP
    stamp.touch()
    os.utime(stamp, (stamp.stat().st_mtime + 3600,) * 2)
    return env


def run(env: dict, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    # no terminal: the operator key is how a human approves
    return run_script(*args, input=stdin, env=env, timeout=180, no_terminal=True)


def cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return run(env, "-m", "skill.cli", *args)


def memory(env: dict, *args: str) -> subprocess.CompletedProcess:
    return run(env, str(REPO / "memory.py"), *args)


def ok(res: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert res.returncode == 0, f"{res.args[2:]}: exit {res.returncode}\n{res.stderr}"
    assert "Traceback" not in res.stderr, res.stderr
    return res


def one_line(res: subprocess.CompletedProcess) -> str:
    err = res.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


def check(env: dict, command: str = "mytool ask db") -> tuple[int, dict]:
    res = run(env, str(REPO / "guardrails.py"), "check", "--command", command, "--cwd", "/srv", "--json")
    assert "Traceback" not in res.stderr, res.stderr
    return res.returncode, json.loads(res.stdout) if res.stdout.strip() else {}


def approve(env: dict, ref: str, by: str) -> subprocess.CompletedProcess:
    return cli({**env, "DEVOPS_OPERATOR_KEY": OPERATOR_KEY}, "approvals", "approve", ref, "--by", by)


def team_audit(owner_url: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(owner_url) as conn:
        return conn.execute("SELECT uid, decision, hash FROM audit_decisions ORDER BY id").fetchall()


def gate_ask_approve_use_once(agent: dict, approver: dict) -> None:
    code, asked = check(agent)
    assert code == 3 and asked["request_id"], asked
    ok(approve(approver, asked["request_id"], "bob"))
    code, used = check(agent)
    assert code == 0 and used["approval_used"], used
    code, again = check(agent)
    assert code == 3 and not again.get("approval_used"), "an approval is used once"


def paused_run_approved_on_another_host(tmp_path: Path, agent_url: str, approver_url: str) -> None:
    """`devops serve` as the agent's role pauses a production deploy; another host approves it
    as the approver's role, the run resumes there and deploys once."""
    from skill.demo_support import STATE_ENV, SampleService, deploy_config

    with SampleService(tmp_path, "1.0.0") as service:
        config = deploy_config(service)
        agent = {**host(tmp_path, "serve", agent_url, config), STATE_ENV: str(service.state_file)}
        approver = {**host(tmp_path, "approver", approver_url, config), STATE_ENV: str(service.state_file)}
        ok(memory(agent, "remember", "[devops] Deployed api to production: v1.0.0"))  # the rollback target
        server = Server(Path(agent["DEVOPS_HOME"]), REPO, workers=1, env=agent).start()
        try:
            body = {
                "type": "deploy",
                "id": "grants-1",
                "service": "api",
                "env": "production",
                "version": "1.1.0",
            }
            accepted = server.post(
                "generic", json.dumps(body).encode(), {"Authorization": "Bearer bearer-token"}
            )
            assert accepted.status_code == 202, accepted.text

            def waiting():
                listed = cli(approver, "approvals", "list", "--json")
                assert "Traceback" not in listed.stderr and "refused" not in listed.stderr, listed.stderr
                rows = json.loads(listed.stdout) if listed.returncode == 0 else []
                return rows[0] if rows else None

            paused = wait_for(
                waiting, "the run to pause for approval", timeout=90, detail=lambda: str(server.lines()[-5:])
            )
        finally:
            server.stop()
        assert service.calls() == []
        resumed = ok(approve(approver, paused["request_id"], "alice"))
        assert "done" in resumed.stdout, resumed.stdout
        assert [(c["action"], c["version"]) for c in service.calls()] == [("deploy", "1.1.0")]
        shown = json.loads(ok(cli(agent, "runs", "show", paused["id"], "--json")).stdout)
        assert shown["status"] == "done"
        # the queue as the role: the item is done; a dead one (made by the owner's hand) is retried
        listed = json.loads(ok(cli(agent, "inbox", "list", "--json")).stdout)
        assert listed["counts"] == {"done": 1}, listed


def test_every_store_works_with_exactly_the_documented_grants(tmp_path, team_db):
    import psycopg

    owner, as_role = team_db
    app_block, _ = documented_grants()
    apply(owner, app_block)
    app = as_role("devops_app")
    agent, oncall = host(tmp_path, "agent", app), host(tmp_path, "oncall", app)

    # the gate: asked on one machine, approved on another, used once
    gate_ask_approve_use_once(agent, oncall)

    # the audit: shipped as the role, verified, and append-only for it
    shipped = json.loads(ok(cli(agent, "audit", "ship", "--json")).stdout)
    assert shipped["shipped"] >= 3
    ok(cli(oncall, "audit", "verify"))
    before = team_audit(owner)
    with psycopg.connect(app, autocommit=True) as conn:
        for statement in (
            "UPDATE audit_decisions SET decision = 'allow'",
            "DELETE FROM audit_decisions",
            "TRUNCATE audit_decisions",
            "ALTER TABLE audit_decisions DROP COLUMN hash",
            "UPDATE audit SET action = 'nothing'",  # memory's audit, append-only too
            "DELETE FROM audit",
            "DELETE FROM flag_history",
            "DELETE FROM incident_events",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
    assert team_audit(owner) == before and len(before) == shipped["shipped"]

    # the agent: a webhook through `devops serve`, a paused run approved from another host
    paused_run_approved_on_another_host(tmp_path, app, app)
    with psycopg.connect(owner, autocommit=True) as conn:
        [(item,)] = conn.execute("SELECT id FROM inbox").fetchall()
        conn.execute(
            "UPDATE inbox SET status = 'dead', error = 'RuntimeError: crashed' WHERE id = %s", (item,)
        )
    dead = json.loads(ok(cli(agent, "inbox", "list", "--status", "dead", "--json")).stdout)
    assert [i["id"] for i in dead["items"]] == [item]
    assert json.loads(ok(cli(oncall, "inbox", "retry", str(item), "--json")).stdout)["status"] == "pending"
    ok(cli(agent, "runs", "list"))
    ok(cli(agent, "runs", "prune", "--older-than", "0s"))  # finished runs and their checkpoints go
    with psycopg.connect(owner) as conn:
        assert conn.execute(
            "SELECT (SELECT count(*) FROM runs) + (SELECT count(*) FROM checkpoints)"
        ).fetchone() == (0,)

    # flags and their history
    ok(cli(agent, "flag", "set", "new-checkout", "on", "--env", "staging", "--by", "ana"))
    ok(cli(oncall, "flag", "set", "new-checkout", "off", "--env", "staging", "--by", "bob"))
    state = json.loads(ok(cli(agent, "flag", "get", "new-checkout", "--env", "staging", "--json")).stdout)
    assert state["enabled"] is False
    with psycopg.connect(owner) as conn:
        history = conn.execute("SELECT by, enabled FROM flag_history ORDER BY id").fetchall()
    assert history == [("ana", True), ("bob", False)]

    # memory: remember, recall, triage, forget (soft and hard), import, on two machines
    note = json.loads(
        ok(memory(agent, "remember", "payments db failover takes 90s", "-s", "payments", "--json")).stdout
    )
    ok(memory(agent, "remember", "[devops] Incident INC-9: payments 502s after the pool change", "--json"))
    ok(memory(agent, "incidents", "list"))
    recalled = json.loads(ok(memory(oncall, "recall", "payments failover", "--json")).stdout)
    assert note["id"] in json.dumps(recalled)
    triage = ok(memory(oncall, "triage", "payments 502s", "-s", "payments", "--json"))
    assert "INC-9" in triage.stdout
    ok(memory(oncall, "forget", note["id"], "--reason", "outdated"))
    erased = ok(memory(oncall, "forget", note["id"], "--hard"))
    warnings = [line for line in erased.stderr.splitlines() if line.strip()]
    assert len(warnings) == 1 and "VACUUM FULL memories" in warnings[0], erased.stderr
    laptop = host(tmp_path, "laptop", "")  # embedded files: an export to import into the team
    ok(memory(laptop, "remember", "[devops] Incident INC-3: api pods OOMKilled in the batch"))
    exported = ok(memory(laptop, "export", "--all")).stdout
    ok(run(agent, str(REPO / "memory.py"), "import", "-", stdin=exported))
    ok(
        memory(agent, "incidents", "update", "INC-3", "--summary", "batch limits raised")
    )  # an event past the imported ones
    with psycopg.connect(owner) as conn:
        assert conn.execute("SELECT count(*) FROM memories WHERE id = %s", (note["id"],)).fetchone() == (0,)
        actions = [a for (a,) in conn.execute("SELECT action FROM audit ORDER BY seq")]
    assert "forget-hard" in actions

    status = ok(cli(oncall, "db", "status", "--json"))
    assert "postgres" in status.stdout
    doctor = ok(cli(oncall, "doctor")).stdout.splitlines()
    stores = [line for line in doctor if " store " in line or "team database" in line]
    assert len(stores) == 7 and all(line.startswith("ok ") for line in stores), doctor


def test_approvers_apart_from_the_agent_the_agent_cannot_approve_and_uses_an_approval_once(tmp_path, team_db):
    import psycopg

    owner, as_role = team_db
    app_block, split_block = documented_grants()
    apply(owner, app_block)
    apply(owner, split_block)
    agent_url, approver_url = as_role("devops_app"), as_role("devops_approver")
    agent, oncall = host(tmp_path, "agent", agent_url), host(tmp_path, "oncall", approver_url)

    code, asked = check(agent)
    assert code == 3
    # the agent holds an operator key too: the database still refuses it, in one line
    refused = approve(agent, asked["request_id"], "mallory")
    assert refused.returncode == 5, refused.stderr
    assert "refused the approvals store: permission denied for table" in one_line(refused)
    with psycopg.connect(agent_url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO approvals (approval_id, request_id, digest, approved_by, method, created, expires, mac)"
                " VALUES ('ap-forged', %s, 'd', 'mallory', 'operator-key', 0, 1e12, 'm')",
                (asked["request_id"],),
            )
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO gate_keys (name, secret) VALUES ('approval', 'aa')")

    gate_ask_approve_use_once(agent, oncall)
    with psycopg.connect(agent_url, autocommit=True) as conn:
        for statement in (
            "UPDATE approvals SET expires = expires + 86400",
            "UPDATE approvals SET used_at = NULL, used_by = NULL",  # used once stays used
            "DELETE FROM approvals",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
    code, again = check(agent)
    assert code == 3 and not again.get("approval_used")

    # a run the agent's `devops serve` paused resumes in the approver's process, with its role
    paused_run_approved_on_another_host(tmp_path, agent_url, approver_url)
