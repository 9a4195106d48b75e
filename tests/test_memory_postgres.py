"""Memory's records on PostgreSQL (team mode, issue 16): the same rows as memory.db, shared by
machines, and clear one-line errors when the team database cannot be used. The behaviour tests
of test_memory_core and test_memory_triage run on both backends (``memory_backend``)."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import psycopg
import pytest
import test_memory_core
from test_memory_reliability import _memory, run_writers

from skill.errors import StorageError
from skill.memory.service import Memory

embedder = test_memory_core.embedder  # the seeded model, or the test is skipped


def _fill(m: Memory) -> None:
    """A little of everything: notes, tags, protocol lines, a rollback, an incident's life, a forget."""
    m.remember("disk full on the api nodes", service="api", env="prod", tags=["disk", "pager"])
    m.remember("[devops] Deployed api to prod: v1.4.2")
    m.record_deployment("api", "prod", "v1.5.0", by="ana", strategy="canary", notes="new pool size")
    m.remember("[devops] Deployed api to prod: v1.4.2")  # a rollback by protocol line
    inc = m.open_incident("checkout 502s after the config push", service="checkout", severity="SEV2")
    m.update_incident(inc.id, summary="bad upstream timeout")
    m.resolve_incident(inc.id, resolution="reverted the config", root_cause="timeout 1s")
    gone = m.remember("a note recorded by mistake", kind="note")
    m.forget(gone.id, reason="typo")
    old = m.remember("payments db failover takes 30s", service="payments")
    m.remember("payments db failover takes 90s", service="payments", supersedes=old.id)


def test_an_export_from_sqlite_imports_into_postgres_and_exports_the_same(
    tmp_path, monkeypatch, embedder, postgres_url
):
    monkeypatch.delenv("DEVOPS_DATABASE_URL", raising=False)
    laptop = Memory.open(tmp_path / "laptop", chroma_url="", embedder=embedder)
    assert laptop.backend == "sqlite"
    _fill(laptop)
    exported = io.StringIO()
    laptop.export_jsonl(exported, include_deleted=True)
    laptop.close()

    monkeypatch.setenv("DEVOPS_DATABASE_URL", postgres_url)
    team = Memory.open(tmp_path / "team", chroma_url="", embedder=embedder)
    assert team.backend == "postgres"
    res = team.import_jsonl(exported.getvalue().splitlines())
    assert res["errors"] == [] and res["created"] > 0
    again = io.StringIO()
    team.export_jsonl(again, include_deleted=True)
    # Every row of every table, the same ids, times, links, marks and event numbers.
    assert again.getvalue().splitlines() == exported.getvalue().splitlines()
    # A rerun adds nothing (ids and contents already there).
    assert team.import_jsonl(exported.getvalue().splitlines())["created"] == 0
    hit = team.recall("api disk full", tags=["pager"])[0]
    assert hit.memory.text == "disk full on the api nodes"
    assert team.last_good_version("api", "production") == "v1.4.2"
    team.close()


def test_writers_on_four_machines_store_everything_once(postgres_url, tmp_path):
    # Separate homes (chroma folders, spools): only the team database is shared.
    run_writers(
        tmp_path,
        4,
        25,
        lambda w: {"DEVOPS_HOME": str(tmp_path / f"machine-{w}"), "DEVOPS_DATABASE_URL": postgres_url},
    )
    with psycopg.connect(postgres_url) as conn:
        texts = [r[0] for r in conn.execute("SELECT text FROM memories")]
    assert len(texts) == len(set(texts)) == 4 * 25 + 3  # the shared notes (i = 0, 10, 20) once
    env = {"DEVOPS_HOME": str(tmp_path / "reader"), "DEVOPS_DATABASE_URL": postgres_url}
    stats = _memory("stats", "--json", env=env)
    assert stats.returncode == 0, stats.stderr
    hits = _memory("recall", "restart the consumer group", "-s", "shared", "--json", env=env)
    assert hits.returncode == 0 and "shared runbook note" in hits.stdout


def _one_line_exit_5(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 5, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), proc.stderr
    return lines[0]


def test_team_database_down_at_start_is_one_line_exit_5(isolated_home):
    import socket

    with socket.socket() as s:  # a port nothing listens on: the server is down
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://devops:pw@127.0.0.1:{port}/memory"
    err = _one_line_exit_5(_memory("recall", "disk full", env={"DEVOPS_DATABASE_URL": url}))
    assert "cannot reach the team database" in err and "pw@" not in err


def test_wrong_password_is_one_line_exit_5(postgres_server, isolated_home):
    postgres_server.create_database("memory_pw")
    url = postgres_server.url_for("memory_pw", tcp=True, password="not-the-password")
    err = _one_line_exit_5(_memory("remember", "a note", env={"DEVOPS_DATABASE_URL": url}))
    assert "password" in err and "not-the-password" not in err


def test_a_newer_schema_is_refused(team_mode, isolated_home, embedder):
    Memory.open(embedder=embedder).close()
    with psycopg.connect(team_mode, autocommit=True) as conn:
        conn.execute("UPDATE devops_schema SET version = version + 1 WHERE store = 'memory'")
    from skill.storage import postgres

    postgres._READY.clear()  # a new process would check the version again
    with pytest.raises(StorageError, match="newer"):
        Memory.open(embedder=embedder)
    err = _one_line_exit_5(_memory("list"))
    assert "newer" in err


def test_records_move_but_the_spool_and_vectors_stay_in_the_home(team_mode, isolated_home, embedder):
    m = Memory.open(embedder=embedder)
    m.remember("kafka consumer lag growing on orders", service="orders")
    st = m.stats()
    m.close()
    assert st.db_path.startswith("postgresql://") and st.memories == 1 and st.chroma_count == 1
    assert not (Path(isolated_home) / "memory.db").exists()
    assert (Path(isolated_home) / "chroma").is_dir()


def test_the_on_call_story_across_two_laptops(postgres_url, tmp_path):
    """Ana deploys and records it on her laptop; last month's incident was resolved on a third
    machine; Bo, paged on his own laptop (own data dir, own chroma folder, no chroma server),
    triages and sees both: the recent deploy to the service and the past fix."""
    laptops = {
        who: {"DEVOPS_HOME": str(tmp_path / who), "DEVOPS_DATABASE_URL": postgres_url}
        for who in ("ana", "old-oncall", "bo")
    }
    resolved = _memory(
        "remember",
        "[devops] Incident INC-7: checkout 502s after deploy, connection pool exhausted, "
        "resolution=rolled back to v2.2.0 and raised the pool to 40",
        "--importance",
        "0.9",
        "--service",
        "checkout",
        env=laptops["old-oncall"],
    )
    assert resolved.returncode == 0, resolved.stderr
    deployed = _memory("remember", "[devops] Deployed checkout to production: v2.3.1", env=laptops["ana"])
    assert deployed.returncode == 0, deployed.stderr

    triage = _memory(
        "triage", "checkout returning 502 errors", "--service", "checkout", "--json", env=laptops["bo"]
    )
    assert triage.returncode == 0, triage.stderr
    report = triage.stdout
    assert "v2.3.1" in report, "the deploy Ana recorded is in Bo's recent changes"
    assert "INC-7" in report and "raised the pool to 40" in report, "the past resolution is recalled"
    assert not (tmp_path / "bo" / "memory.db").exists(), "nothing of it was copied to Bo's laptop"
