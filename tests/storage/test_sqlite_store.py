"""skill.storage.sqlite: one SQLite opener, PRAGMA user_version migrations, one timeout policy."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from skill.errors import ConfigError, StorageError
from skill.storage import Migration, Schema
from skill.storage import sqlite as database

TWO_STEPS = Schema(
    "things",
    (
        Migration("m001_things", "CREATE TABLE IF NOT EXISTS things (id INTEGER PRIMARY KEY, name TEXT);"),
        Migration("m002_things_kind", "ALTER TABLE things ADD COLUMN kind TEXT NOT NULL DEFAULT 'x';"),
    ),
)


def _version(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


def test_migrations_apply_in_order_once_and_record_the_version(tmp_path):
    path = str(tmp_path / "things.db")
    conn = database.open_store(path, TWO_STEPS)
    conn.execute("INSERT INTO things (name) VALUES ('a')")
    assert conn.execute("SELECT kind FROM things").fetchone()[0] == "x"
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert _version(path) == 2
    database._READY.clear()  # a new process: opening again migrates nothing and keeps the rows
    again = database.open_store(path, TWO_STEPS)
    assert again.execute("SELECT count(*) FROM things").fetchone()[0] == 1
    again.close()


def test_a_store_made_before_versioning_is_adopted_as_it_is(tmp_path):
    path = str(tmp_path / "old.db")
    with sqlite3.connect(path) as conn:  # what the unversioned code wrote: tables, user_version 0
        conn.execute("CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO things (name) VALUES ('kept')")
    conn = database.open_store(path, TWO_STEPS)
    assert [tuple(r) for r in conn.execute("SELECT name, kind FROM things")] == [("kept", "x")]
    conn.close()
    assert _version(path) == 2


def test_a_newer_schema_is_refused_and_left_untouched(tmp_path):
    path = str(tmp_path / "newer.db")
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE things (id INTEGER PRIMARY KEY)")
        conn.execute("PRAGMA user_version = 7")
    with pytest.raises(StorageError, match="schema version 7, newer than .* knows \\(2\\)"):
        database.open_store(path, TWO_STEPS)
    assert _version(path) == 7
    assert database.schema_status(path, TWO_STEPS) == (7, 2)


def test_a_failed_migration_rolls_back_and_keeps_the_old_version(tmp_path):
    path = str(tmp_path / "broken.db")
    database.open_store(path, Schema("things", TWO_STEPS.migrations[:1])).close()
    broken = Schema("things", (TWO_STEPS.migrations[0], Migration("m002_bad", "ALTER TABLE nope ADD x;")))
    database._READY.clear()
    with pytest.raises(StorageError, match="no such table"):
        database.open_store(path, broken)
    assert _version(path) == 1


def test_a_file_that_is_not_a_database_names_the_file_and_the_fix(tmp_path):
    path = tmp_path / "runs.db"
    path.write_bytes(b"definitely not sqlite " * 100)
    with pytest.raises(StorageError) as err:
        database.open_store(str(path), TWO_STEPS)
    assert str(path) in str(err.value) and "move" in str(err.value) and err.value.exit_code == 5


def test_one_timeout_policy_with_one_override(monkeypatch):
    assert database.busy_timeout("audit") < database.busy_timeout("runs")
    monkeypatch.setenv("DEVOPS_DB_TIMEOUT", "0.25")
    assert database.busy_timeout("audit") == database.busy_timeout("runs") == 0.25
    monkeypatch.setenv("DEVOPS_DB_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="DEVOPS_DB_TIMEOUT"):
        database.busy_timeout("runs")


def test_processes_migrating_the_same_file_at_once_apply_each_step_once(tmp_path):
    path = tmp_path / "race.db"
    script = (
        "import sys; from skill.storage import sqlite as database\n"
        "from skill.storage import Migration, Schema\n"
        "schema = Schema('race', tuple(Migration(f'm{i:03}', "
        "f'CREATE TABLE t{i} (x); INSERT INTO log VALUES ({i});' if i else "
        "'CREATE TABLE IF NOT EXISTS log (step INTEGER);') for i in range(12)))\n"
        "database.open_store(sys.argv[1], schema).close()\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(path)], stderr=subprocess.PIPE) for _ in range(4)
    ]
    errors = [p.communicate(timeout=60)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), errors
    with sqlite3.connect(path) as conn:
        steps = [r[0] for r in conn.execute("SELECT step FROM log ORDER BY step")]
    assert steps == list(range(1, 12)) and _version(path) == 12


def test_the_stores_refuse_a_newer_schema_with_one_line(tmp_path, isolated_home, run):
    from skill.agent import runs

    isolated_home.mkdir(parents=True, exist_ok=True)
    graph = isolated_home / "graph.db"
    with sqlite3.connect(graph) as conn:
        conn.execute(f"PRAGMA user_version = {runs.SCHEMA.version + 1}")
    proc = run("-m", "skill.cli", "runs", "list")
    assert proc.returncode == 5, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "newer than this version" in lines[0] and "Traceback" not in proc.stderr
