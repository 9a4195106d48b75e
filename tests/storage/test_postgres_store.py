"""skill.storage on a real PostgreSQL server: the same store code as on SQLite, versioned
migrations in devops_schema, portable SQL, and clear one-line errors when the server is not there."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from skill.errors import ConfigError, StorageError
from skill.storage import CopyTable, Migration, Schema, backend_name, database_url, open_store, postgres
from skill.storage.manage import _copy_table

THINGS = Schema(
    "things",
    (
        Migration(
            "m001_things",
            "CREATE TABLE IF NOT EXISTS things (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, note TEXT);",
            postgres="CREATE TABLE IF NOT EXISTS things (id BIGSERIAL PRIMARY KEY, name TEXT UNIQUE, note TEXT);",
        ),
        Migration("m002_things_kind", "ALTER TABLE things ADD COLUMN kind TEXT NOT NULL DEFAULT 'x';"),
    ),
    team=True,
    copy_tables=(CopyTable("things", key=("name",), generated=("id",)),),
)


@pytest.fixture
def both(tmp_path, request, monkeypatch):
    """Open THINGS on the backend the test is parametrized with."""

    def opener():
        return open_store(THINGS, str(tmp_path / "things.db"))

    if request.param == "postgres":
        monkeypatch.setenv("DEVOPS_DATABASE_URL", request.getfixturevalue("postgres_url"))
    return opener


backends = pytest.mark.parametrize("both", ["sqlite", "postgres"], indirect=True)


@backends
def test_one_query_serves_both_backends(both):
    conn = both()
    with conn.transaction():
        new_id = conn.execute(
            "INSERT INTO things (name, note) VALUES (?, ?) RETURNING id", ("api", "100% of '?' kept")
        ).fetchone()[0]
    conn.execute(
        "INSERT INTO things (name, note) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", ("api", "dup")
    )
    row = conn.execute("SELECT id, name, note, kind FROM things WHERE note LIKE '%kept'").fetchone()
    assert (row["id"], row[1], row["note"], row["kind"]) == (new_id, "api", "100% of '?' kept", "x")
    assert dict(zip(row.keys(), row, strict=True))["name"] == "api"
    assert conn.execute("SELECT count(*) FROM things").fetchone()[0] == 1
    conn.close()


@backends
def test_a_failed_transaction_leaves_nothing_and_a_nested_one_rolls_back_alone(both):
    conn = both()
    with pytest.raises(RuntimeError), conn.transaction():
        conn.execute("INSERT INTO things (name) VALUES (?)", ("lost",))
        raise RuntimeError("boom")
    with conn.transaction():
        conn.execute("INSERT INTO things (name) VALUES (?)", ("kept",))
        with pytest.raises(sqlite3.IntegrityError), conn.transaction():  # catchable the same on both
            conn.execute("INSERT INTO things (name) VALUES (?)", ("nested",))
            conn.execute("INSERT INTO things (name) VALUES (?)", ("kept",))
    names = [r["name"] for r in conn.execute("SELECT name FROM things ORDER BY name")]
    assert names == ["kept"]
    conn.close()


def test_postgres_migrations_are_versioned_per_store_and_a_newer_schema_is_refused(team_mode):
    conn = open_store(THINGS, "/nonexistent/unused.db")
    assert conn.backend == "postgres" and backend_name(THINGS) == "postgres"
    rows = conn.execute("SELECT store, version, migration FROM devops_schema").fetchall()
    assert [tuple(r) for r in rows] == [("things", 2, "m002_things_kind")]
    conn.close()
    older = Schema("things", THINGS.migrations[:1], team=True)
    postgres._READY.clear()  # as a process running older code would
    with pytest.raises(StorageError, match="schema version 2, newer than .* knows \\(1\\)"):
        open_store(older, "/nonexistent/unused.db")


def test_a_store_not_yet_ported_keeps_its_sqlite_file_in_team_mode(team_mode, tmp_path):
    local = Schema("local", (Migration("m001", "CREATE TABLE IF NOT EXISTS t (x);"),))
    conn = open_store(local, str(tmp_path / "local.db"))
    assert conn.backend == "sqlite" and (tmp_path / "local.db").exists()
    conn.close()


def test_processes_migrating_one_postgres_store_at_once_apply_each_step_once(team_mode):
    script = (
        "from skill.storage import Migration, Schema, open_store\n"
        "schema = Schema('race', tuple(Migration(f'm{i:03}', "
        "f'CREATE TABLE t{i} (x int); INSERT INTO race_log VALUES ({i});' if i else "
        "'CREATE TABLE IF NOT EXISTS race_log (step INTEGER);') for i in range(12)), team=True)\n"
        "open_store(schema, '/nonexistent').close()\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE) for _ in range(4)]
    errors = [p.communicate(timeout=60)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), errors
    conn = postgres.connect_raw(team_mode)
    steps = [r[0] for r in conn.execute("SELECT step FROM race_log ORDER BY step")]
    version = conn.execute("SELECT version FROM devops_schema WHERE store = 'race'").fetchone()[0]
    conn.close()
    assert steps == list(range(1, 12)) and version == 12


def test_copy_from_sqlite_is_idempotent_and_keeps_rows_other_machines_wrote(tmp_path, postgres_url):
    from skill.storage import sqlite

    source = sqlite.open_store(str(tmp_path / "laptop.db"), THINGS)
    source.executemany("INSERT INTO things (name, note) VALUES (?, ?)", [("a", "laptop"), ("b", "laptop")])
    target = postgres.open_store(postgres_url, THINGS)
    target.execute("INSERT INTO things (name, note) VALUES (?, ?)", ("b", "other machine"))
    first = _copy_table("things", THINGS.copy_tables[0], source, target)
    again = _copy_table("things", THINGS.copy_tables[0], source, target)
    rows = {r["name"]: r["note"] for r in target.execute("SELECT name, note FROM things")}
    assert (first.copied, first.already_there) == (1, 1) and (again.copied, again.already_there) == (0, 2)
    assert rows == {"a": "laptop", "b": "other machine"}
    source.close()
    target.close()


def test_placeholders_are_translated_only_outside_quotes_and_comments():
    sql = "SELECT '?', \"a?b\", x FROM t WHERE y LIKE '50%' AND z = ? -- why?\n AND w = ?"
    assert postgres.translate(sql) == (
        "SELECT '?', \"a?b\", x FROM t WHERE y LIKE '50%' AND z = %s -- why?\n AND w = %s"
    )
    assert postgres.translate("SELECT 1 % 2 WHERE a = ?") == "SELECT 1 %% 2 WHERE a = %s"


def test_the_database_url_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("DEVOPS_DATABASE_URL", "mysql://x")
    with pytest.raises(ConfigError, match="must be a postgresql:// URL"):
        database_url()
    monkeypatch.setenv("DEVOPS_DATABASE_URL", "")  # explicitly embedded, even with a config file
    (tmp_path / "devops-config").mkdir(exist_ok=True)
    (tmp_path / "devops-config" / "config.toml").write_text('[store]\nurl = "postgresql://team/db"\n')
    assert database_url() is None
    monkeypatch.delenv("DEVOPS_DATABASE_URL")
    assert database_url() == "postgresql://team/db"


def test_a_role_without_the_privilege_gets_a_clean_storage_error(postgres_url):
    owner = postgres.open_store(postgres_url, THINGS)
    owner.execute("CREATE ROLE reader_only LOGIN")
    owner.execute("GRANT SELECT ON things, devops_schema TO reader_only")
    owner.close()
    reader = postgres.open_store(postgres_url.replace("devops@", "reader_only@", 1), THINGS)
    with pytest.raises(StorageError, match="refused the things store: permission denied"):
        reader.execute("INSERT INTO things (name) VALUES (?)", ("x",))
    reader.close()


def _one_line_failure(result) -> str:
    assert result.returncode == 5, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr.strip().splitlines()[0]


def test_wrong_password_and_server_down_are_one_line_errors_exit_5(postgres_server, own_postgres, run):
    bad = postgres_server.url_for("postgres", tcp=True, password="not-the-password")
    line = _one_line_failure(run("-m", "skill.cli", "db", "status", env={"DEVOPS_DATABASE_URL": bad}))
    assert "password authentication failed" in line and "not-the-password" not in line and ":***@" in line
    url = own_postgres.create_database("down")
    own_postgres.stop()
    line = _one_line_failure(run("-m", "skill.cli", "db", "migrate", env={"DEVOPS_DATABASE_URL": url}))
    assert "cannot reach the team database" in line


def test_db_status_and_migrate_report_every_store_on_either_backend(run, team_mode):
    embedded = run("-m", "skill.cli", "db", "status", "--json", env={"DEVOPS_DATABASE_URL": ""})
    assert embedded.returncode == 0, embedded.stderr
    import json

    rows = {r["store"]: r for r in json.loads(embedded.stdout)}
    assert set(rows) == {"runs", "inbox", "flags", "audit", "approvals", "memory"}
    assert all(r["backend"] == "sqlite" for r in rows.values())
    local = run("-m", "skill.cli", "db", "migrate", "--json", env={"DEVOPS_DATABASE_URL": ""})
    assert local.returncode == 0, local.stderr
    # memory.db is versioned by sqlite-utils migrations; the report reads them, not user_version
    embedded_after = {
        r["store"]: r
        for r in json.loads(
            run("-m", "skill.cli", "db", "status", "--json", env={"DEVOPS_DATABASE_URL": ""}).stdout
        )
    }
    assert embedded_after["memory"]["version"] == embedded_after["memory"]["known"] == 7
    migrated = run("-m", "skill.cli", "db", "migrate")
    assert migrated.returncode == 0, migrated.stderr
    after = {r["store"]: r for r in json.loads(run("-m", "skill.cli", "db", "status", "--json").stdout)}
    assert {r["backend"] for r in after.values()} == {"postgres"}
    # LangGraph's checkpoint tables too: a restricted role could not create them on first run
    conn = postgres.connect_raw(team_mode)
    assert conn.execute("SELECT to_regclass('checkpoints') IS NOT NULL").fetchone()[0]
    conn.close()
    for name, row in after.items():
        assert row["version"] == row["known"], name


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://app:s3cret@db:5432/devops", "postgresql://app:***@db:5432/devops"),
        ("postgresql://app:p%40ss@db/devops", "postgresql://app:***@db/devops"),
        (
            "postgresql://app@db/devops?sslmode=require&password=s3cret",
            "postgresql://app@db/devops?sslmode=require&password=***",
        ),
        (
            "postgres://app@db/devops?sslpassword=s3cret&Password=x",
            "postgres://app@db/devops?sslpassword=***&Password=***",
        ),
        (
            "postgresql://app@/devops?host=/run/pg&port=5432",
            "postgresql://app@/devops?host=/run/pg&port=5432",
        ),
    ],
)
def test_messages_never_show_a_password_from_the_url(url, shown):
    from skill.storage.postgres import redact_url

    assert redact_url(url) == shown
