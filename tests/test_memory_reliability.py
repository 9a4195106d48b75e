"""Reliability with real processes: concurrent writers, kill -9 during import, locked/corrupt
database, chroma unavailable, and team mode through a real `chroma run` server."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMA_BIN = Path(sys.executable).parent / "chroma"


def _memory(*args, env=None, timeout=120):
    return subprocess.run(
        [sys.executable, str(REPO / "memory.py"), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def _json(proc):
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    if not CHROMA_BIN.exists():
        pytest.skip("chroma CLI not installed")
    port = _free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen(
        [str(CHROMA_BIN), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import httpx

    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.skip("chroma server did not start")
        time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def run_writers(tmp_path, workers: int, count: int, env_of=lambda w: {}) -> None:
    """``workers`` processes that each remember ``count`` records (remember_worker.py), all
    released at once so their writes really overlap; fails with the stderr of a failed one."""
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    worker = REPO / "tests" / "fixtures" / "memory" / "remember_worker.py"
    procs = [
        subprocess.Popen(
            [sys.executable, str(worker), str(w), str(count), str(barrier)],
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **env_of(w)},
        )
        for w in range(workers)
    ]
    deadline = time.time() + 120
    while len(list(barrier.glob("ready-*"))) < workers and time.time() < deadline:
        assert all(p.poll() is None for p in procs), [p.stderr.read() for p in procs if p.poll() is not None]
        time.sleep(0.05)
    (barrier / "go").touch()
    for p in procs:
        _, err = p.communicate(timeout=240)
        assert p.returncode == 0, err


def test_eight_concurrent_writers_store_everything_once(isolated_home, tmp_path):
    run_writers(tmp_path, 8, 50)
    stats = _json(_memory("stats", "--json"))
    assert stats["memories"] == 400 + 5  # 8 x 50 unique + 5 shared notes stored once
    assert stats["vectors_sqlite"] == 405 and stats["vectors_pending"] == 0
    assert stats["chroma_count"] == 405 and stats["chroma_pending"] == 0
    db = sqlite3.connect(isolated_home / "memory.db")
    assert db.execute("SELECT count(DISTINCT text) FROM memories").fetchone()[0] == 405
    assert db.execute("SELECT count(*) FROM memories WHERE service = 'shared'").fetchone()[0] == 5
    # The HNSW index itself (not only chroma's metadata) holds every worker's vectors.
    sample = db.execute(
        "SELECT id, embedding FROM memories WHERE rowid % 25 = 0 OR text LIKE 'worker _ record 49:%'"
    ).fetchall()
    check = (
        "import sys, json, chromadb, numpy as np\n"
        "from chromadb.config import Settings\n"
        "c = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))\n"
        "col = c.get_collection('devops-memory')\n"
        "rows = json.loads(sys.stdin.read())\n"
        "got = col.query(query_embeddings=[np.frombuffer(bytes.fromhex(h), dtype=np.float32).tolist() for _, h in rows], n_results=1)\n"
        "print(json.dumps([ids[0] for ids in got['ids']]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", check, str(isolated_home / "chroma")],
        input=json.dumps([(i, e.hex()) for i, e in sample]),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [i for i, _ in sample]


def test_kill_minus_nine_during_import_then_rerun_completes(tmp_path, isolated_home):
    n = 400
    src = tmp_path / "big.jsonl"
    with open(src, "w") as fh:
        for i in range(n):
            fh.write(
                json.dumps({"id": f"imp-{i:05d}", "text": f"imported runbook line {i} for service s{i % 13}"})
                + "\n"
            )
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "memory.py"), "import", str(src), "--batch-size", "50", "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db_path = isolated_home / "memory.db"
    deadline = time.time() + 120
    count = 0
    while time.time() < deadline and proc.poll() is None:
        if db_path.exists():
            try:
                with sqlite3.connect(db_path, timeout=1) as db:
                    count = db.execute("SELECT count(*) FROM memories").fetchone()[0]
            except sqlite3.Error:
                count = 0
            if count >= 100:
                break
        time.sleep(0.05)
    assert proc.poll() is None, "import finished before it could be killed; make the file bigger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(db_path) as db:
        partial = db.execute("SELECT count(*) FROM memories").fetchone()[0]
    assert 100 <= partial < n
    res = _json(_memory("import", str(src), "--json"))
    assert res["created"] + res["duplicates"] == n and res["duplicates"] >= partial
    stats = _json(_memory("stats", "--json"))
    assert stats["memories"] == n and stats["vectors_sqlite"] == n
    assert stats["chroma_count"] == n and stats["chroma_pending"] == 0
    exported = _memory("export").stdout.splitlines()
    assert sorted(json.loads(line)["id"] for line in exported) == [f"imp-{i:05d}" for i in range(n)]
    hits = _json(_memory("recall", "runbook line 42 for service s3", "--json", "--limit", "3"))
    assert "imp-00042" in [h["memory"]["id"] for h in hits]


def test_locked_database_gives_clear_error_and_keeps_the_record(isolated_home):
    assert _memory("remember", "first note so the db exists").returncode == 0
    blocker = sqlite3.connect(isolated_home / "memory.db", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        proc = _memory("remember", "note written while locked", env={"DEVOPS_MEMORY_BUSY_TIMEOUT": "0.5"})
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert proc.returncode == 5
    assert "locked" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    hits = _json(_memory("recall", "written while locked", "--json"))
    assert any(h["memory"]["text"] == "note written while locked" for h in hits)
    # A deployment recorded while the database is locked is kept too: it happened.
    blocker = sqlite3.connect(isolated_home / "memory.db", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        proc = _memory(
            "deployments",
            "record",
            "api",
            "prod",
            "v7.1.0",
            "--rolled-back-from",
            "v7.2.0",
            env={"DEVOPS_MEMORY_BUSY_TIMEOUT": "0.5"},
        )
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert proc.returncode == 5 and "locked" in proc.stderr and "Traceback" not in proc.stderr
    deps = _json(_memory("deployments", "list", "--json"))
    assert [(d["version"], d["rolled_back_from"]) for d in deps] == [("v7.1.0", "v7.2.0")]


def test_corrupt_database_gives_clear_error_and_keeps_the_record(isolated_home):
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "memory.db").write_bytes(b"this is not a database" * 200)
    proc = _memory("remember", "note written while the db is corrupt")
    assert proc.returncode == 5
    assert "corrupt" in proc.stderr and "Traceback" not in proc.stderr
    recall = _memory("recall", "anything")
    assert recall.returncode == 5 and "corrupt" in recall.stderr and "Traceback" not in recall.stderr
    (isolated_home / "memory.db").rename(isolated_home / "memory.db.broken")
    hits = _json(_memory("recall", "db is corrupt", "--json"))
    assert [h["memory"]["text"] for h in hits] == ["note written while the db is corrupt"]


def test_chroma_unavailable_stores_and_recalls_then_reindex_catches_up(isolated_home, chroma_server):
    dead = {"DEVOPS_CHROMA_URL": f"http://127.0.0.1:{_free_port()}"}
    proc = _memory("remember", "[devops] Deployed billing to prod: v3.2.0", "--json", env=dead)
    res = _json(proc)
    assert res["created"] and res["vector"] == "stored"
    assert "vector index unavailable" in proc.stderr and "Traceback" not in proc.stderr
    stats = _json(_memory("stats", "--json", env=dead))
    assert stats["memories"] == 1 and stats["chroma_pending"] == 1 and stats["chroma_error"]
    rec = _memory("recall", "billing release", "--json", env=dead)
    assert [h["memory"]["id"] for h in _json(rec)] == [res["id"]]
    assert "chroma server unavailable" in rec.stderr
    live = {"DEVOPS_CHROMA_URL": chroma_server}
    out = _json(_memory("reindex", "--json", env=live))
    assert out["pushed"] == 1
    stats = _json(_memory("stats", "--json", env=live))
    assert stats["chroma_pending"] == 0 and stats["chroma_count"] >= 1


def test_team_mode_recall_from_another_machine(tmp_path, chroma_server):
    alice = {"DEVOPS_HOME": str(tmp_path / "alice"), "DEVOPS_CHROMA_URL": chroma_server}
    bob = {"DEVOPS_HOME": str(tmp_path / "bob"), "DEVOPS_CHROMA_URL": chroma_server}
    res = _json(
        _memory(
            "remember",
            "Incident on payments: connection pool exhausted after the v2.3 deploy; raised max_connections",
            "--service",
            "payments-team",
            "--kind",
            "incident",
            "--json",
            env=alice,
        )
    )
    assert res["created"]
    hits = _json(
        _memory("recall", "database connections ran out", "--service", "payments-team", "--json", env=bob)
    )
    assert hits and hits[0]["memory"]["id"] == res["id"]
    assert hits[0]["parts"].get("origin") == "chroma-server"
    assert _json(_memory("stats", "--json", env=bob))["memories"] == 0  # bob's own SQLite is untouched
    # A correction made on alice's machine hides the old record on bob's too.
    fixed = _json(
        _memory(
            "remember",
            "Incident on payments: connection pool exhausted after the v2.3 deploy; fixed by a pool size of 50",
            "--service",
            "payments-team",
            "--kind",
            "incident",
            "--supersedes",
            res["id"],
            "--json",
            env=alice,
        )
    )
    hits = _json(
        _memory("recall", "database connections ran out", "--service", "payments-team", "--json", env=bob)
    )
    assert [h["memory"]["id"] for h in hits] == [fixed["id"]]
