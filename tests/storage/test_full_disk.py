"""A full disk on the team database's server: a real PostgreSQL whose data dir is on a small tmpfs
that the test fills to the last block (the server then answers "could not extend file ...: No
space left on device", SQLSTATE 53100).

Every front-end says so in one line (not "cannot reach": the server is up, its disk is not);
the gate still never allows what needs an approval; nothing accepted is lost: audit rows wait in
audit.db, a memory waits in the spool, a webhook is refused with 503 so its sender retries; and
once the operator frees space, the same commands complete, each record stored once.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from webhooks.test_server import Server

from skill.storage import local_postgres


class SmallDisk:
    """A tmpfs of ``size`` mounted on a fresh directory under /tmp (the ``postgres`` user must be
    able to reach it, which pytest's private tmp_path does not allow)."""

    def __init__(self, size: str = "64m"):
        self.path = Path(tempfile.mkdtemp(prefix="devops-pg-disk-"))
        self.path.chmod(0o755)
        self.filler = self.path / "filler"
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(self.path)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            self.path.rmdir()
            raise PermissionError(done.stderr.strip() or "mount failed")

    def fill(self, url: str | None = None) -> None:
        """Write until the filesystem refuses another block. With the server's ``url``, first
        start a fresh WAL segment: the server then needs no new WAL file while the disk is full
        (running out there is a PANIC and a restart, another fault than this one)."""
        if url is not None:
            import psycopg

            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("SELECT pg_switch_wal()")
                conn.execute("CHECKPOINT")
        with open(self.filler, "ab", buffering=0) as fh:
            for chunk in (1 << 20, 1 << 12):
                while True:
                    try:
                        fh.write(b"\0" * chunk)
                    except OSError as exc:
                        assert exc.errno == errno.ENOSPC, exc
                        break
        assert shutil.disk_usage(self.path).free == 0

    def free(self) -> None:
        self.filler.unlink()

    def remove(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], check=False)
        shutil.rmtree(self.path, ignore_errors=True)


@pytest.fixture
def small_disk_server():
    reason = local_postgres.unavailable_reason()
    if reason:
        pytest.skip(reason)
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs for the server's data dir needs root")
    try:
        disk = SmallDisk()
    except PermissionError as exc:
        pytest.skip(f"cannot mount a small tmpfs here: {exc}")
    server = local_postgres.LocalPostgres(workdir=str(disk.path))
    try:
        server.start()
        yield server, disk
    finally:
        server.close()
        disk.remove()


def one_line(res) -> str:
    err = res.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


def out_of_space(res) -> None:
    assert res.returncode == 5, (res.returncode, res.stdout, res.stderr)
    line = one_line(res)
    assert "No space left on device" in line and "cannot reach" not in line, line


def local_audit_rows(home: Path) -> int:
    import sqlite3

    conn = sqlite3.connect(home / "audit.db")
    try:
        return conn.execute("SELECT count(*) FROM decisions").fetchone()[0]
    finally:
        conn.close()


def team_count(url: str, table: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_full_disk_fails_in_one_line_never_allows_and_loses_nothing(small_disk_server, tmp_path, run):
    server, disk = small_disk_server
    url = server.create_database("team")
    home = tmp_path / "laptop"
    home.mkdir()
    # A shipper stamp in the future: this test ships by hand, so it knows when each ship runs.
    stamp = home / "audit-ship.stamp"
    stamp.touch()
    os.utime(stamp, (time.time() + 3600, time.time() + 3600))
    env = {"DEVOPS_HOME": str(home), "DEVOPS_DATABASE_URL": url}
    assert run("-m", "skill.cli", "db", "migrate", env=env).returncode == 0
    batch = tmp_path / "commands.jsonl"
    batch.write_text("".join(json.dumps({"command": f"echo {i}"}) + "\n" for i in range(300)))
    assert run("guardrails.py", "check", "--batch", str(batch), env=env).returncode == 0

    disk.fill(url)

    # The gate: a production deploy is blocked until a human approves it, and the approval store
    # cannot take the request: still blocked, and the output says the request id is not recorded.
    gated = run(
        "guardrails.py", "check", "--action", "deploy_production", "--target", "api", "--json", env=env
    )
    decision = json.loads(gated.stdout)
    assert gated.returncode == 4 and decision["decision"] == "block", gated.stdout
    assert any(
        "approval store unavailable" in r and "not recorded" in r and "No space left" in r
        for r in decision["reasons"]
    ), decision["reasons"]
    assert team_count(url, "pending") == 0
    blocked = run("guardrails.py", "check", "--command", "rm -rf /", env=env)
    assert blocked.returncode == 4
    # The audit: shipping fails in one line; every row waits in audit.db.
    kept = local_audit_rows(home)
    assert kept >= 302
    out_of_space(run("-m", "skill.cli", "audit", "ship", env=env))
    assert local_audit_rows(home) >= kept
    # Memory: the record goes to the spool, and the command says where.
    remembered = run(
        "memory.py", "remember", "[devops] Deployed api to production: v9.9.9", "--importance", "0.9", env=env
    )
    out_of_space(remembered)
    assert "memory-spool.jsonl" in remembered.stderr
    # A flag change is refused before anything is half-written.
    flag = run("-m", "skill.cli", "flag", "set", "new-checkout", "on", "--env", "staging", env=env)
    out_of_space(flag)

    disk.free()

    gated = run(
        "guardrails.py", "check", "--action", "deploy_production", "--target", "api", "--json", env=env
    )
    assert gated.returncode == 4 and json.loads(gated.stdout)["request_id"] == decision["request_id"]
    assert team_count(url, "pending") == 1  # now a human can approve it
    shipped = run("-m", "skill.cli", "audit", "ship", "--json", env=env)
    assert shipped.returncode == 0, shipped.stderr
    assert team_count(url, "audit_decisions") == local_audit_rows(home)
    verified = run("-m", "skill.cli", "audit", "verify", env=env)
    assert verified.returncode == 0, verified.stderr
    recalled = run("memory.py", "recall", "api deployed v9.9.9", "--json", env=env)
    assert recalled.returncode == 0, recalled.stderr
    assert "v9.9.9" in recalled.stdout
    assert team_count(url, "memories") == 1  # stored once, from the spool
    assert not (home / "memory-spool.jsonl").exists() or not (home / "memory-spool.jsonl").read_text().strip()
    flag = run("-m", "skill.cli", "flag", "set", "new-checkout", "on", "--env", "staging", env=env)
    assert flag.returncode == 0, flag.stderr
    assert team_count(url, "flags") == 1


def test_full_disk_refuses_webhooks_with_503_and_processes_every_accepted_one_once(
    small_disk_server, isolated_home, repo_root, run
):
    server, disk = small_disk_server
    url = server.create_database("queue")
    env = {**os.environ, "DEVOPS_DATABASE_URL": url}
    assert run("-m", "skill.cli", "db", "migrate", env={"DEVOPS_DATABASE_URL": url}).returncode == 0
    serve = Server(isolated_home, repo_root, workers=0, env=env).start()
    try:
        disk.fill(url)
        refused = serve.push(0)
        assert refused.status_code == 503, refused.text  # not accepted, so the sender retries
        listed = run("-m", "skill.cli", "inbox", "list", env={"DEVOPS_DATABASE_URL": url})
        assert listed.returncode == 0, listed.stderr  # reading still works on a full disk
        disk.free()
        assert [serve.push(n).status_code for n in range(3)] == [202, 202, 202]
    finally:
        serve.stop()
    worker = Server(isolated_home, repo_root, workers=1, env=env).start()
    try:
        assert worker.wait_until_done(3) == [f"push-{n}" for n in range(3)]
    finally:
        worker.stop()
