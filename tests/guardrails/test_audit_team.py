"""The audit in team mode: local SQLite on the hook path, shipped to a real PostgreSQL.

Shipping is idempotent and survives a kill at any point; several machines ship into one valid
chain; a tampered local row is never shipped; the application role may only INSERT and SELECT;
a database that is down, lost, refusing the password or newer than the code is one line and
never changes a decision or loses a row.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from skill.guardrails import audit
from skill.guardrails.model import Decision

REPO = Path(__file__).resolve().parents[2]


def run(*args, home=None, url=None, timeout=120):
    env = dict(os.environ)
    if home is not None:
        env["DEVOPS_HOME"] = str(home)
    if url is not None:
        env["DEVOPS_DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=REPO, env=env, timeout=timeout
    )


def devops(*args, **kw):
    return run("-m", "skill.cli", *args, **kw)


def gate(*args, **kw):
    return run(str(REPO / "guardrails.py"), *args, **kw)


def no_background_shipper(home: Path) -> None:
    """A stamp in the future: checks in this home do not start the detached shipper."""
    home.mkdir(parents=True, exist_ok=True)
    stamp = home / audit.SHIP_STAMP
    stamp.touch()
    os.utime(stamp, (time.time() + 3600, time.time() + 3600))


def fill(home: Path, n: int, tag: str = "x") -> None:
    """n audit rows through the real writer (one transaction per 2,000)."""
    log = audit.AuditLog(str(home), buffered=True)
    for i in range(n):
        d = Decision(
            tier=1,
            decision="allow",
            reasons=["read-only"],
            rule_ids=["r"],
            kind="command",
            input=f"echo {tag} {i}",
        )
        log.record(audit.row_for(d, caller="test", cwd="/tmp"))
    log.flush()


def team_rows(url: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(url) as conn:
        try:
            return conn.execute("SELECT uid, input, origin FROM audit_decisions ORDER BY id").fetchall()
        except psycopg.errors.UndefinedTable:  # no shipper has created it yet
            return []


def local_uids(home: Path) -> list[str]:
    import sqlite3

    conn = sqlite3.connect(home / audit.DB_NAME)
    try:
        return [r[0] for r in conn.execute("SELECT uid FROM decisions ORDER BY id")]
    finally:
        conn.close()


def verify_json(home, url):
    res = devops("audit", "verify", "--json", home=home, url=url)
    assert "Traceback" not in res.stderr
    return res.returncode, json.loads(res.stdout)


def test_checks_ship_in_the_background_and_both_chains_verify(tmp_path, postgres_url):
    home = tmp_path / "a"
    for command in ("ls", "git push --force origin main", "rm -rf /"):
        gate("check", "--command", command, home=home, url=postgres_url)
    deadline = time.time() + 60
    while len(team_rows(postgres_url)) < 1 and time.time() < deadline:
        time.sleep(0.2)
    shipped = devops("audit", "ship", "--json", home=home, url=postgres_url)  # the rest, now
    assert shipped.returncode == 0, shipped.stderr
    assert sorted(r[0] for r in team_rows(postgres_url)) == sorted(local_uids(home))
    code, reports = verify_json(home, postgres_url)
    assert code == 0 and [r["rows"] for r in reports] == [3, 3]


def test_shipping_twice_ships_nothing_twice(tmp_path, postgres_url):
    home = tmp_path / "a"
    no_background_shipper(home)
    fill(home, 50)
    first = json.loads(devops("audit", "ship", "--json", home=home, url=postgres_url).stdout)
    assert (first["shipped"], first["already_there"]) == (50, 0)
    again = json.loads(devops("audit", "ship", "--json", home=home, url=postgres_url).stdout)
    assert (again["read"], again["shipped"]) == (0, 0)
    # without the cursor (a kill between the team commit and the cursor write) uids still match
    import sqlite3

    conn = sqlite3.connect(home / audit.DB_NAME)
    conn.execute("DELETE FROM shipped")
    conn.commit()
    conn.close()
    rerun = json.loads(devops("audit", "ship", "--json", home=home, url=postgres_url).stdout)
    assert (rerun["shipped"], rerun["already_there"]) == (0, 50)
    assert len(team_rows(postgres_url)) == 50
    assert verify_json(home, postgres_url)[0] == 0


def test_killed_shipper_restarted_loses_and_repeats_nothing(tmp_path, postgres_url):
    home = tmp_path / "a"
    no_background_shipper(home)
    total = 4000
    fill(home, total)
    env = {**os.environ, "DEVOPS_HOME": str(home), "DEVOPS_DATABASE_URL": postgres_url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "skill.cli", "audit", "ship", "--batch", "10"], cwd=REPO, env=env
    )
    deadline = time.time() + 120
    while time.time() < deadline and len(team_rows(postgres_url)) < 200:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    after_kill = len(team_rows(postgres_url))
    assert 0 < after_kill < total, "the kill did not land mid-ship"
    res = devops("audit", "ship", "--json", home=home, url=postgres_url)
    assert res.returncode == 0, res.stderr
    rows = team_rows(postgres_url)
    assert len(rows) == total and len({r[0] for r in rows}) == total
    assert sorted(r[0] for r in rows) == sorted(local_uids(home))
    code, reports = verify_json(home, postgres_url)
    assert code == 0 and reports[1]["rows"] == total


def test_two_machines_ship_at_once_into_one_chain(tmp_path, postgres_url):
    homes = [tmp_path / "laptop-a", tmp_path / "laptop-b"]
    for i, home in enumerate(homes):
        no_background_shipper(home)
        fill(home, 300, tag=f"m{i}")
    env = dict(os.environ, DEVOPS_DATABASE_URL=postgres_url)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "skill.cli", "audit", "ship", "--batch", "25"],
            cwd=REPO,
            env={**env, "DEVOPS_HOME": str(home)},
        )
        for home in homes
    ]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    rows = team_rows(postgres_url)
    assert len(rows) == 600
    inputs = [r[1] for r in rows]
    # the batches interleave in the one chain, and each machine's rows keep their order
    for i in range(2):
        mine = [x for x in inputs if x.startswith(f"echo m{i} ")]
        assert mine == [f"echo m{i} {n}" for n in range(300)]
    for home in homes:
        code, reports = verify_json(home, postgres_url)
        assert code == 0 and reports[1]["rows"] == 600


def test_a_tampered_local_row_is_not_shipped(tmp_path, postgres_url):
    import sqlite3

    home = tmp_path / "a"
    no_background_shipper(home)
    fill(home, 10)
    conn = sqlite3.connect(home / audit.DB_NAME)
    conn.execute("UPDATE decisions SET decision = 'block' WHERE id = 6")
    conn.commit()
    conn.close()
    res = devops("audit", "ship", home=home, url=postgres_url)
    assert res.returncode == 1 and "broken at row 6" in res.stderr
    assert len(team_rows(postgres_url)) == 5
    assert verify_json(home, postgres_url)[0] == 1  # the local chain names row 6


def _psql(url, *statements):
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


# The application role's grants (INSERT and SELECT only on audit_decisions) are applied from
# docs/team.md and exercised in tests/storage/test_grants.py.


# ---------------------------------------------------------------- faults


def one_line(res) -> str:
    err = res.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


def test_database_down_lost_and_back_nothing_lost_decisions_unchanged(tmp_path, own_postgres):
    url = own_postgres.create_database("audit_faults")
    home = tmp_path / "a"
    no_background_shipper(home)
    fill(home, 30)
    assert devops("audit", "ship", home=home, url=url).returncode == 0
    own_postgres.stop()  # lost mid-run
    # the gate decides exactly as without a team database: T4 blocked, T1 allowed, rows kept
    blocked = gate("check", "--command", "rm -rf /", home=home, url=url)
    allowed = gate("check", "--command", "ls", home=home, url=url)
    assert (blocked.returncode, allowed.returncode) == (4, 0)
    down = devops("audit", "ship", home=home, url=url)
    assert down.returncode == 5 and "cannot reach the team database" in one_line(down)
    verify = devops("audit", "verify", home=home, url=url)
    assert verify.returncode == 5 and "cannot reach" in one_line(verify)
    own_postgres.start()
    back = devops("audit", "ship", "--json", home=home, url=url)
    assert back.returncode == 0 and json.loads(back.stdout)["shipped"] == 2
    assert sorted(r[0] for r in team_rows(url)) == sorted(local_uids(home))
    assert verify_json(home, url)[0] == 0


def test_database_down_at_start(tmp_path, own_postgres):
    url = own_postgres.create_database("audit_down")
    own_postgres.stop()
    home = tmp_path / "a"
    res = gate("check", "--command", "git push --force origin main", home=home, url=url)
    assert res.returncode == 4  # blocked as ever, nothing waits for the database
    down = devops("audit", "ship", home=home, url=url)
    assert down.returncode == 5 and "cannot reach" in one_line(down)
    assert len(local_uids(home)) == 1


def test_wrong_password_is_one_line(tmp_path, own_postgres):
    own_postgres.create_database("audit_pw")
    url = own_postgres.url_for("audit_pw", tcp=True, password="wrong")
    home = tmp_path / "a"
    no_background_shipper(home)
    fill(home, 3)
    res = devops("audit", "ship", home=home, url=url)
    assert res.returncode == 5
    err = one_line(res)
    assert "password" in err and "wrong" not in err.replace("is wrong", "")  # the password is masked


def test_a_team_schema_newer_than_the_code_is_refused(tmp_path, postgres_url):
    home = tmp_path / "a"
    no_background_shipper(home)
    fill(home, 3)
    assert devops("audit", "ship", home=home, url=postgres_url).returncode == 0
    _psql(postgres_url, "UPDATE devops_schema SET version = 99 WHERE store = 'audit'")
    fill(home, 2, tag="later")
    res = devops("audit", "ship", home=home, url=postgres_url)
    assert res.returncode == 5 and "newer" in one_line(res)
    assert len(team_rows(postgres_url)) == 3 and len(local_uids(home)) == 5  # kept locally
    blocked = gate("check", "--command", "rm -rf /", home=home, url=postgres_url)
    assert blocked.returncode == 4


def test_the_background_shipper_records_its_failure(tmp_path, own_postgres):
    url = own_postgres.create_database("audit_bg")
    own_postgres.stop()
    home = tmp_path / "a"
    fill(home, 1)
    assert audit_ship_background(home, url) == 1
    status = (home / audit.SHIP_STATUS).read_text()
    assert "cannot reach the team database" in status
    own_postgres.start()
    assert audit_ship_background(home, url) == 0
    assert not (home / audit.SHIP_STATUS).exists() and len(team_rows(url)) == 1


def audit_ship_background(home, url) -> int:
    return run("-m", "skill.guardrails.audit_ship", str(home), home=home, url=url).returncode


def test_db_copy_moves_the_audit_with_its_chain_and_reruns_copy_nothing(tmp_path, postgres_url):
    home = tmp_path / "laptop"
    no_background_shipper(home)
    fill(home, 40)
    env = {**os.environ, "DEVOPS_HOME": str(home), "DEVOPS_DATABASE_URL": ""}
    for _ in range(2):
        res = subprocess.run(
            [sys.executable, "-m", "skill.cli", "db", "copy", "--from", "sqlite", "--to", postgres_url],
            capture_output=True,
            text=True,
            cwd=REPO,
            env=env,
            timeout=180,
        )
        assert res.returncode == 0, res.stderr
    assert sorted(r[0] for r in team_rows(postgres_url)) == sorted(local_uids(home))
    code, reports = verify_json(home, postgres_url)
    assert code == 0 and reports[1]["rows"] == 40
