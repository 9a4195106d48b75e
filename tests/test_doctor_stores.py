"""`devops doctor` against real damaged SQLite files in the data dir."""

from __future__ import annotations

import json
import sqlite3

from click.testing import CliRunner

from skill.cli import cli


def _real_store(path, rows=400):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("CREATE INDEX events_body ON events (body)")
    conn.executemany(
        "INSERT INTO events (body) VALUES (?)", [(f"event {i} " + "x" * 200,) for i in range(rows)]
    )
    conn.commit()
    conn.close()


def _trash_pages(path):
    """Overwrite pages after the first (the schema stays readable, the b-trees do not)."""
    data = bytearray(path.read_bytes())
    page = 4096
    for start in range(page * 2, min(len(data), page * 12), page):
        data[start : start + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))


def _doctor():
    result = CliRunner().invoke(cli, ["doctor", "--json"])
    return result.exit_code, {c["name"]: c for c in json.loads(result.stdout)["checks"]}


def test_sound_stores_pass_and_missing_ones_are_not_listed(isolated_home):
    isolated_home.mkdir(parents=True)
    _real_store(isolated_home / "memory.db")
    _, rows = _doctor()
    assert rows["memory.db"]["status"] == "ok"
    assert "audit.db" not in rows


def test_every_corrupt_store_fails_with_its_file_and_the_fix(isolated_home):
    isolated_home.mkdir(parents=True)
    names = ("memory", "audit", "approvals", "graph", "inbox", "flags")
    for name in names:
        _real_store(isolated_home / f"{name}.db")
        _trash_pages(isolated_home / f"{name}.db")
    code, rows = _doctor()
    assert code == 1
    for name in names:
        row = rows[f"{name}.db"]
        path = str(isolated_home / f"{name}.db")
        assert row["status"] == "fail", row
        assert (
            path in row["detail"] and f"mv {path} {path}.bad" in row["detail"] and ".recover" in row["detail"]
        )


def test_a_file_that_is_not_a_database_fails_and_is_left_as_it_was(isolated_home):
    isolated_home.mkdir(parents=True)
    junk = isolated_home / "audit.db"
    junk.write_bytes(b"this is not sqlite at all\n" * 100)
    code, rows = _doctor()
    assert code == 1 and rows["audit.db"]["status"] == "fail"
    assert "not a database" in rows["audit.db"]["detail"]
    assert junk.read_bytes() == b"this is not sqlite at all\n" * 100


def test_a_store_written_by_newer_code_fails_and_an_older_one_is_ok(isolated_home):
    from skill.webhooks.inbox import SCHEMA

    isolated_home.mkdir(parents=True)
    for name, version in (("inbox", SCHEMA.version + 1), ("flags", 0)):
        _real_store(isolated_home / f"{name}.db")
        conn = sqlite3.connect(isolated_home / f"{name}.db")
        conn.execute(f"PRAGMA user_version = {version}")
        conn.commit()
        conn.close()
    code, rows = _doctor()
    assert code == 1
    assert rows["inbox.db"]["status"] == "fail"
    assert f"schema version {SCHEMA.version + 1} is newer" in rows["inbox.db"]["detail"]
    assert "upgrade master-devops" in rows["inbox.db"]["detail"]
    assert rows["flags.db"]["status"] == "ok" and "schema v0, migrates to v" in rows["flags.db"]["detail"]


def test_team_mode_rows_name_the_backend_version_and_the_fix(team_mode, isolated_home, run):
    code, rows = _doctor()
    assert (
        rows["team database"]["status"] == "ok" and "reachable (PostgreSQL" in rows["team database"]["detail"]
    )
    stores = ("runs", "inbox", "flags", "audit", "approvals", "memory")
    for store in stores:  # nothing created yet: say how to create it, as the owner
        row = rows[f"{store} store"]
        assert row["status"] == "warn" and "postgres (team database)" in row["detail"], row
        assert "`devops db migrate` as the database owner" in row["detail"]
    assert run("-m", "skill.cli", "db", "migrate").returncode == 0
    _, rows = _doctor()
    assert all(rows[f"{s} store"]["status"] == "ok" for s in stores), rows
    import psycopg

    with psycopg.connect(team_mode, autocommit=True) as conn:
        conn.execute("UPDATE devops_schema SET version = 99 WHERE store = 'inbox'")
    code, rows = _doctor()
    assert code != 0 and rows["inbox store"]["status"] == "fail"
    assert "newer than this master-devops knows" in rows["inbox store"]["detail"]


def test_an_unreachable_team_database_is_one_failing_row(isolated_home, own_postgres, monkeypatch):
    monkeypatch.setenv(
        "DEVOPS_DATABASE_URL", own_postgres.url_for("postgres", tcp=True, password="wrong-one")
    )
    code, rows = _doctor()
    row = rows["team database"]
    assert code != 0 and row["status"] == "fail"
    assert "password authentication failed" in row["detail"] and "wrong-one" not in row["detail"]
    assert not any(name.endswith(" store") for name in rows)
