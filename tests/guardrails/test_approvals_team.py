"""Approvals across machines on a real PostgreSQL: a request asked on one machine (its own
DEVOPS_HOME) is approved with `devops approvals approve` on another, used once; two racing
approvers get one success and one "already decided"; a team database that is down, refuses the
password or is newer than the code never turns an ask into an allow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from skill.guardrails import approvals

REPO = Path(__file__).resolve().parents[2]
KEY = "dok_test-operator-key-for-team-approvals"


@pytest.fixture(autouse=True)
def pinned(pinned_tiers):
    """`mytool ask *` is T3 (approvable) whatever the command rules say."""
    return pinned_tiers


def machine(tmp_path, name: str, url: str) -> dict:
    """The environment of one machine: its own data dir, an operator key, the team database."""
    home = tmp_path / name
    home.mkdir()
    approvals.store_operator_key(KEY, str(home))
    return {**os.environ, "DEVOPS_HOME": str(home), "DEVOPS_DATABASE_URL": url}


def check(env, command):
    res = subprocess.run(
        [
            sys.executable,
            str(REPO / "guardrails.py"),
            "check",
            "--command",
            command,
            "--cwd",
            "/srv",
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
    )
    return res.returncode, json.loads(res.stdout) if res.stdout.strip() else {}, res.stderr


def approve_cmd(env, request_id, by):
    return [sys.executable, "-m", "skill.cli", "approvals", "approve", request_id, "--by", by]


def approve(env, request_id, by):
    return subprocess.run(
        approve_cmd(env, request_id, by),
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**env, "DEVOPS_OPERATOR_KEY": KEY},
        timeout=180,
    )


def test_asked_on_one_machine_approved_on_another_used_once(tmp_path, postgres_url):
    agent, oncall = (
        machine(tmp_path, "agent-host", postgres_url),
        machine(tmp_path, "oncall-laptop", postgres_url),
    )
    code, decision, _ = check(agent, "mytool ask db")
    assert code == 3 and decision["decision"] == "ask"
    request_id = decision["request_id"]
    res = approve(oncall, request_id, "bob")
    assert res.returncode == 0, res.stderr
    assert f"approved {request_id} once" in res.stdout and "by bob via operator-key" in res.stdout
    code, decision, _ = check(agent, "mytool ask db")
    assert code == 0 and decision["approval_used"].startswith("ap-")
    code, decision, _ = check(agent, "mytool ask db")
    assert code == 3  # single use, across machines too
    # neither machine kept the request or the approval in a file of its own
    assert not (Path(agent["DEVOPS_HOME"]) / approvals.DB_NAME).exists()
    assert not (Path(oncall["DEVOPS_HOME"]) / approvals.DB_NAME).exists()
    assert not (Path(oncall["DEVOPS_HOME"]) / approvals.KEY_NAME).exists()


def test_two_approvers_racing_one_wins_one_is_told_already_decided(tmp_path, postgres_url):
    agent = machine(tmp_path, "agent-host", postgres_url)
    approvers = [machine(tmp_path, name, postgres_url) for name in ("alice-laptop", "bob-laptop")]
    for round_ in range(3):
        code, decision, _ = check(agent, f"mytool ask release-{round_}")
        assert code == 3
        request_id = decision["request_id"]
        procs = [
            subprocess.Popen(
                approve_cmd(env, request_id, who),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=REPO,
                env={**env, "DEVOPS_OPERATOR_KEY": KEY},
            )
            for env, who in zip(approvers, ("alice", "bob"), strict=True)
        ]
        results = [(p.wait(timeout=180), *p.communicate()) for p in procs]
        codes = sorted(r[0] for r in results)
        assert codes == [0, 2], results
        loser = next(r for r in results if r[0] == 2)
        assert "already decided" in loser[2] and len(loser[2].strip().splitlines()) == 1
        assert "Traceback" not in loser[2]
        code, decision, _ = check(agent, f"mytool ask release-{round_}")
        assert code == 0  # exactly one approval exists, and it works once


# ---------------------------------------------------------------- faults: never an allow


def test_an_approved_request_is_not_allowed_while_the_team_database_is_down(tmp_path, own_postgres):
    url = own_postgres.create_database("approvals_down")
    agent, oncall = machine(tmp_path, "agent", url), machine(tmp_path, "oncall", url)
    code, decision, _ = check(agent, "mytool ask db")
    assert approve(oncall, decision["request_id"], "bob").returncode == 0
    own_postgres.stop()
    code, decision, _ = check(agent, "mytool ask db")
    assert code == 3 and decision["decision"] == "ask"  # fails closed: asks, never allows
    assert any("approval store unavailable" in r for r in decision["reasons"])
    refused = approve(oncall, decision["request_id"], "bob")
    assert refused.returncode == 5 and "cannot reach the team database" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    own_postgres.start()
    code, decision, _ = check(agent, "mytool ask db")
    assert code == 0  # the approval was kept: used now, once


def test_a_wrong_password_or_a_newer_schema_never_allows(tmp_path, own_postgres):
    url = own_postgres.create_database("approvals_faults")
    agent, oncall = machine(tmp_path, "agent", url), machine(tmp_path, "oncall", url)
    code, decision, _ = check(agent, "mytool ask db")
    assert approve(oncall, decision["request_id"], "bob").returncode == 0
    wrong = {
        **agent,
        "DEVOPS_DATABASE_URL": own_postgres.url_for("approvals_faults", tcp=True, password="nope"),
    }
    code, decision, _ = check(wrong, "mytool ask db")
    assert code == 3 and any("password" in r for r in decision["reasons"])
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE devops_schema SET version = 99 WHERE store = 'approvals'")
    code, decision, _ = check(agent, "mytool ask db")
    assert code == 3 and any("newer" in r for r in decision["reasons"])
    refused = approve(oncall, decision["request_id"], "bob")
    assert refused.returncode == 5 and "newer" in refused.stderr


def test_a_team_url_from_config_toml_and_a_malformed_one(tmp_path, postgres_url, monkeypatch):
    from skill.errors import ConfigError
    from skill.guardrails.audit import team_url

    monkeypatch.delenv("DEVOPS_DATABASE_URL", raising=False)
    assert team_url() is None
    cfg = Path(os.environ["DEVOPS_CONFIG_DIR"])
    (cfg / "config.toml").write_text(f'[store]\nurl = "{postgres_url}"\n')
    assert team_url() == postgres_url
    monkeypatch.setenv("DEVOPS_DATABASE_URL", "")  # one shell opts out
    assert team_url() is None
    monkeypatch.setenv("DEVOPS_DATABASE_URL", "mysql://db/devops")
    with pytest.raises(ConfigError):
        team_url()
    env = {**os.environ, "DEVOPS_HOME": str(tmp_path / "h")}
    code, decision, _ = check(env, "mytool ask db")
    assert code == 3 and any("postgresql://" in r for r in decision["reasons"])  # asks, says why


@pytest.mark.parametrize("laptop_skew", [3600.0, -3600.0])
def test_an_approval_lives_its_ttl_by_the_database_clock_whatever_the_approvers_clock(
    tmp_path, postgres_url, monkeypatch, laptop_skew
):
    """The on-call laptop's clock is an hour off: the approval still lasts exactly its TTL, by
    the team database's clock, and the agent's host (its own clock right) can use it."""
    import time

    import psycopg

    agent = machine(tmp_path, "agent-host", postgres_url)
    code, decision, _ = check(agent, "mytool ask db")
    assert code == 3
    monkeypatch.setenv("DEVOPS_DATABASE_URL", postgres_url)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + laptop_skew)
    approvals.approve(
        decision["request_id"],
        by="bob",
        ttl_seconds=900,
        directory=str(tmp_path / "oncall-laptop"),
        authorize=lambda pending: "operator-key",
    )
    monkeypatch.setattr(time, "time", real)
    with psycopg.connect(postgres_url) as conn:
        created, expires, server_now = conn.execute(
            "SELECT created, expires, EXTRACT(EPOCH FROM clock_timestamp()) FROM approvals"
        ).fetchone()
    assert expires - created == pytest.approx(900)
    assert abs(float(server_now) - created) < 60, "stamped by the database's clock, not the laptop's"
    code, decision, _ = check(agent, "mytool ask db")
    assert code == 0 and decision["approval_used"], decision
