"""The flag history moves with `devops db copy`: each row carries a uid (migration m002, set at
insert, backfilled for rows written before it), so a rerun copies nothing twice and the rows
another machine wrote stay."""

from __future__ import annotations

import json
from contextlib import closing

import pytest

from skill.nodes.deploy import flags
from skill.storage import Schema, postgres, sqlite

BEFORE_UIDS = Schema("flags", flags.SCHEMA.migrations[:1], team=True)  # the store as m001 left it
OLD_ROW = "INSERT INTO flag_history(name, env, enabled, previous, at, by) VALUES (?,?,?,?,?,?)"


def _history(conn) -> list[tuple]:
    return [tuple(r) for r in conn.execute("SELECT uid, name, enabled, at, by FROM flag_history ORDER BY id")]


def _upgrade(run, home, url: str = "") -> None:
    """What an upgrade does: a new process of this code migrates the store written by m001."""
    done = run("-m", "skill.cli", "db", "migrate", env={"DEVOPS_HOME": str(home), "DEVOPS_DATABASE_URL": url})
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_history_rows_written_before_the_migration_get_a_distinct_uid(
    backend, isolated_home, postgres_url, run
):
    path = str(isolated_home / "flags.db")
    url = postgres_url if backend == "postgres" else ""
    isolated_home.mkdir(parents=True, exist_ok=True)
    with closing(
        postgres.open_store(url, BEFORE_UIDS) if url else sqlite.open_store(path, BEFORE_UIDS)
    ) as conn:
        for by in ("alice", "alice", "bob"):  # the first two are the same switch, same second
            conn.execute(OLD_ROW, ("checkout-v2", "staging", 1, 0, "2026-12-01T10:00:00Z", by))
    _upgrade(run, isolated_home, url)
    with closing(
        postgres.open_store(url, flags.SCHEMA) if url else sqlite.open_store(path, flags.SCHEMA)
    ) as conn:
        rows = _history(conn)
    uids = [r[0] for r in rows]
    assert len(rows) == 3 and all(u and len(u) == 32 for u in uids) and len(set(uids)) == 3, rows


def _copy(run, home, url) -> dict[str, tuple[int, int]]:
    done = run("-m", "skill.cli", "db", "copy", "--to", url, "--json", env={"DEVOPS_HOME": str(home)})
    assert done.returncode == 0, done.stderr
    return {f"{r['store']}.{r['table']}": (r["copied"], r["already_there"]) for r in json.loads(done.stdout)}


def test_db_copy_moves_the_flag_history_once_and_keeps_the_other_machines_rows(
    isolated_home, tmp_path, postgres_url, monkeypatch, run
):
    (tmp_path / "devops-config").mkdir(exist_ok=True)
    isolated_home.mkdir(parents=True)
    # the laptop: one row from before the uid migration, then two switches after it
    with closing(sqlite.open_store(str(isolated_home / "flags.db"), BEFORE_UIDS)) as conn:
        conn.execute(OLD_ROW, ("checkout-v2", "staging", 1, None, "2026-12-01T10:00:00Z", "laptop"))
    _upgrade(run, isolated_home)
    flags.set_flag("checkout-v2", "off", "staging", by="laptop", remember=False)
    flags.set_flag("checkout-v2", "on", "staging", by="laptop", remember=False)
    with closing(sqlite.open_store(str(isolated_home / "flags.db"), flags.SCHEMA)) as conn:
        # those two were days ago (the clock has seconds only: same-second rows order by id)
        conn.execute("UPDATE flag_history SET at = '2026-12-02T09:00:00Z' WHERE id = 2")
        conn.execute("UPDATE flag_history SET at = '2026-12-02T09:05:00Z' WHERE id = 3")
    # another machine already wrote to the team database
    monkeypatch.setenv("DEVOPS_DATABASE_URL", postgres_url)
    flags.set_flag("checkout-v2", "on", "production", by="desk", remember=False)
    monkeypatch.setenv("DEVOPS_DATABASE_URL", "")

    first = _copy(run, isolated_home, postgres_url)
    assert first["flags.flag_history"] == (3, 0) and first["flags.flags"] == (1, 0)
    again = _copy(run, isolated_home, postgres_url)
    assert again["flags.flag_history"] == (0, 3) and again["flags.flags"] == (0, 1)

    with closing(sqlite.open_store(str(isolated_home / "flags.db"), flags.SCHEMA)) as conn:
        laptop = _history(conn)
    with closing(postgres.open_store(postgres_url, flags.SCHEMA)) as conn:
        team = _history(conn)
    assert sorted(team) == sorted([*laptop, *(r for r in team if r[4] == "desk")]), team
    assert [r[4] for r in team].count("desk") == 1, "the other machine's row stays, once"
    monkeypatch.setenv("DEVOPS_DATABASE_URL", postgres_url)
    assert [(h["by"], h["enabled"]) for h in flags.flag_history("checkout-v2")] == [
        ("desk", 1),
        ("laptop", 1),
        ("laptop", 0),
        ("laptop", 1),
    ], "newest first by time, though the copy gave the laptop's rows ids after the desk's"
