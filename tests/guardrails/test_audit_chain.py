"""The audit's hash chain on SQLite: tampering with the real file is named by `devops audit verify`,
old logs are chained by their migration, concurrent writers and the spool keep one valid chain."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from skill.guardrails import audit
from skill.guardrails.engine import check_command

REPO = Path(__file__).resolve().parents[2]
COMMANDS = ["ls", "git push --force origin main", "kubectl get pods", "rm -rf /", "terraform plan"]


def devops(*args, env_extra=None):
    return subprocess.run(
        [sys.executable, "-m", "skill.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env_extra or {})},
        timeout=120,
    )


def home() -> Path:
    return Path(os.environ["DEVOPS_HOME"])


def db() -> sqlite3.Connection:
    conn = sqlite3.connect(home() / "audit.db", isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


def decide(commands=COMMANDS):
    for command in commands:
        check_command(command, cwd="/tmp")


def verify():
    res = devops("audit", "verify", "--json")
    assert "Traceback" not in res.stderr
    return res.returncode, json.loads(res.stdout)[0]


def test_an_untouched_log_verifies_and_the_head_is_the_last_rows_hash():
    decide()
    code, report = verify()
    assert code == 0 and report["intact"] and report["rows"] == len(COMMANDS)
    with db() as conn:
        rows = conn.execute("SELECT prev_hash, hash FROM decisions ORDER BY id").fetchall()
    assert rows[0]["prev_hash"] == audit.GENESIS
    assert all(rows[i]["prev_hash"] == rows[i - 1]["hash"] for i in range(1, len(rows)))
    assert report["head"] == rows[-1]["hash"]
    text = devops("audit", "verify")
    assert text.returncode == 0 and "chain intact, 5 row(s)" in text.stdout


def _edit(conn):
    conn.execute("UPDATE decisions SET decision = 'allow' WHERE id = 4")
    return 4


def _edit_and_rehash(conn):
    # someone who knows the scheme recomputes the edited row's own hash: the next row names it
    row = dict(conn.execute("SELECT * FROM decisions WHERE id = 2").fetchone())
    row["input"] = "echo harmless"
    conn.execute(
        "UPDATE decisions SET input = ?, hash = ? WHERE id = 2",
        (row["input"], audit.chain_hash(row["prev_hash"], row)),
    )
    return 3


def _delete(conn):
    conn.execute("DELETE FROM decisions WHERE id = 3")
    return 4


def _insert_unhashed(conn):
    conn.execute(
        "INSERT INTO decisions (uid, ts, time, kind, input, tier, decision) "
        "VALUES ('feedfeedfeedfeed', 1.0, '2026-01-01T00:00:00Z', 'command', 'ls', 1, 'allow')"
    )
    return 6


def _insert_forged(conn):
    # a plausible row with a correct-looking hash, slipped in where a row was deleted
    row = dict(conn.execute("SELECT * FROM decisions WHERE id = 2").fetchone())
    conn.execute("DELETE FROM decisions WHERE id = 3")
    forged = {**row, "uid": "0123456789abcdef", "input": "ls"}
    forged_hash = audit.chain_hash(row["hash"], forged)
    conn.execute(
        f"INSERT INTO decisions (id, {', '.join(audit.COLUMNS)}, prev_hash, hash) "
        f"VALUES (3, {', '.join('?' * len(audit.COLUMNS))}, ?, ?)",
        (*(forged[c] for c in audit.COLUMNS), row["hash"], forged_hash),
    )
    return 4


def _reorder(conn):
    # rows 2 and 3 swap places, each with its own content and hashes intact
    conn.execute("UPDATE decisions SET id = 100 WHERE id = 2")
    conn.execute("UPDATE decisions SET id = 2 WHERE id = 3")
    conn.execute("UPDATE decisions SET id = 3 WHERE id = 100")
    return 2


@pytest.mark.parametrize(
    "tamper", [_edit, _edit_and_rehash, _delete, _insert_unhashed, _insert_forged, _reorder]
)
def test_tampering_with_the_file_names_the_first_broken_row(tamper):
    decide()
    with db() as conn:
        broken = tamper(conn)
    code, report = verify()
    assert code == 1 and not report["intact"]
    assert report["broken_id"] == broken
    assert report["rows"] == broken - 1 - (1 if tamper is _delete else 0)
    text = devops("audit", "verify")
    assert text.returncode == 1 and f"BROKEN at row {broken}" in text.stdout
    assert len(text.stdout.strip().splitlines()) == 1


def test_a_log_from_before_the_chain_is_chained_by_its_named_migration():
    home().mkdir(parents=True)
    old = sqlite3.connect(home() / "audit.db")
    old.executescript(audit.MIGRATIONS[0][1])
    cols = ", ".join(audit.COLUMNS)
    for i in range(3):
        row = {c: None for c in audit.COLUMNS} | {
            "uid": f"old{i}",
            "ts": 1000.0 + i,
            "time": "2026-01-01T00:00:00Z",
            "kind": "command",
            "input": f"echo {i}",
            "tier": 1,
            "decision": "allow",
        }
        old.execute(
            f"INSERT INTO decisions ({cols}) VALUES ({', '.join('?' * len(audit.COLUMNS))})",
            tuple(row.values()),
        )
    old.commit()
    assert old.execute("PRAGMA user_version").fetchone()[0] == 0
    old.close()
    assert [name for name, _ in audit.MIGRATIONS][:2] == ["create decisions", "chain decisions"]
    decide(["ls"])  # the next decision migrates the file, then appends to the chain
    with db() as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == audit.VERSION
        inputs = [r[0] for r in conn.execute("SELECT input FROM decisions ORDER BY id")]
    assert inputs == ["echo 0", "echo 1", "echo 2", "ls"]
    code, report = verify()
    assert code == 0 and report["rows"] == 4


def test_a_schema_newer_than_the_code_spools_and_verify_says_so_in_one_line():
    decide(["ls"])
    with db() as conn:
        conn.execute("PRAGMA user_version = 99")
    res = subprocess.run(
        [sys.executable, str(REPO / "guardrails.py"), "check", "--command", "rm -rf /"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert res.returncode == 4  # the decision stands
    assert "newer than this code" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    spooled = (home() / audit.SPOOL_NAME).read_text().splitlines()
    assert [json.loads(line)["input"] for line in spooled] == ["rm -rf /"]
    out = devops("audit", "verify")
    assert out.returncode == 5 and "newer than this code" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


WRITER = """
import sys
from skill.guardrails.engine import check_command
for i in range(int(sys.argv[1])):
    check_command(f"echo writer {sys.argv[2]} {i}", cwd="/tmp")
"""


def test_concurrent_writer_processes_make_one_valid_chain():
    per, writers = 30, 4
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(per), str(w)], cwd=REPO, stderr=subprocess.PIPE)
        for w in range(writers)
    ]
    for proc in procs:
        assert proc.wait(timeout=300) == 0, proc.stderr.read()
    audit.AuditLog().ingest_spool()  # rows that met a held lock were spooled: chain them now
    code, report = verify()
    assert code == 0 and report["spooled"] == 0
    assert report["rows"] == per * writers
    with db() as conn:
        inputs = {r[0] for r in conn.execute("SELECT input FROM decisions")}
    assert inputs == {f"echo writer {w} {i}" for w in range(writers) for i in range(per)}


def test_spooled_rows_are_chained_when_replayed():
    decide(["ls"])
    holder = sqlite3.connect(home() / "audit.db", isolation_level=None, timeout=0)
    holder.execute("BEGIN EXCLUSIVE")  # the store is locked: the next decisions spool
    try:
        decide(["echo spooled 1", "echo spooled 2"])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert len((home() / audit.SPOOL_NAME).read_text().splitlines()) == 2
    code, report = verify()
    assert code == 0 and report["rows"] == 1 and report["spooled"] == 2
    decide(["echo after"])  # the next write replays the spool first, in the same transaction
    assert not (home() / audit.SPOOL_NAME).exists()
    code, report = verify()
    assert code == 0 and report["rows"] == 4
    with db() as conn:
        inputs = [r[0] for r in conn.execute("SELECT input FROM decisions ORDER BY id")]
    assert inputs == ["ls", "echo spooled 1", "echo spooled 2", "echo after"]


def test_a_spool_line_already_stored_does_not_fork_the_chain():
    decide(["ls"])
    with db() as conn:
        stored = dict(conn.execute("SELECT * FROM decisions").fetchone())
    # an ingest that committed but died before deleting its claimed file leaves the line behind
    line = {c: stored[c] for c in audit.COLUMNS}
    (home() / audit.SPOOL_NAME).write_text(json.dumps(line) + "\n")
    decide(["echo next"])
    code, report = verify()
    assert code == 0 and report["rows"] == 2


def test_the_storage_declaration_is_the_hook_paths_migrations():
    # skill.storage (devops db migrate/status, doctor) and the hook path migrate the same file
    from skill.guardrails.audit_ship import SCHEMA

    assert [(m.name, m.sqlite) for m in SCHEMA.migrations] == list(audit.MIGRATIONS)
    assert SCHEMA.version == audit.VERSION
