"""The gate's stores on SQLite vs PostgreSQL (issue 16), each figure beside its baseline, one run.

1. Cold `guardrails.py check` (T1 allow, T3 ask) with the embedded stores and in team mode
   (DEVOPS_DATABASE_URL set): in team mode the audit row still goes to the local audit.db (and a
   detached shipper starts at most every 30 s); a T3/T4 check reads and records approvals in
   PostgreSQL over one connection. Beside them: `python -c pass`, and what writing the audit row
   straight to PostgreSQL from a cold process would cost (import psycopg, connect, insert).
2. The shipper: rows/s from a local audit.db into PostgreSQL, and a rerun with nothing to ship.

A real, durable PostgreSQL (fsync on) in a temp dir: skill/storage/local_postgres.py.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
PY = sys.executable
RUNS = int(os.environ.get("BENCH_RUNS", "20"))
SHIP_ROWS = int(os.environ.get("BENCH_SHIP_ROWS", "20000"))

POLICY = '[[rules]]\nid = "bench.ask"\ncommand = "mytool ask *"\ntier = 3\n'

DIRECT_INSERT = """
import sys, time, os
import psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    conn.execute("INSERT INTO bench_direct (uid, ts, input) VALUES (%s, %s, %s)", (os.urandom(8).hex(), time.time(), "ls"))
"""


def run_once(args, env) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=REPO)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def cold_checks(tmp: str, url: str) -> None:
    import psycopg

    base = {**os.environ, "DEVOPS_CONFIG_DIR": os.path.join(tmp, "cfg")}
    base.pop("PYTHONDONTWRITEBYTECODE", None)
    base.pop("DEVOPS_DATABASE_URL", None)
    os.makedirs(base["DEVOPS_CONFIG_DIR"], exist_ok=True)
    Path(base["DEVOPS_CONFIG_DIR"], "policy.toml").write_text(POLICY)
    embedded = {**base, "DEVOPS_HOME": os.path.join(tmp, "home-sqlite")}
    team = {**base, "DEVOPS_HOME": os.path.join(tmp, "home-team"), "DEVOPS_DATABASE_URL": url}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_direct (uid TEXT PRIMARY KEY, ts DOUBLE PRECISION, input TEXT)")
    script = str(REPO / "guardrails.py")
    cases = {
        "baseline   python -c pass": ([PY, "-c", "pass"], embedded),
        "sqlite     check T1 ls": ([PY, script, "check", "--command", "ls"], embedded),
        "team       check T1 ls": ([PY, script, "check", "--command", "ls"], team),
        "sqlite     check T3 (ask)": ([PY, script, "check", "--command", "mytool ask db"], embedded),
        "team       check T3 (ask)": ([PY, script, "check", "--command", "mytool ask db"], team),
        "direct PG  audit insert (not used)": ([PY, "-c", DIRECT_INSERT, url], embedded),
    }
    for args, env in cases.values():  # warm: create stores, compile bytecode
        run_once(args, env)
    walls = {name: [] for name in cases}
    cpus = {name: [] for name in cases}
    for _ in range(RUNS):
        for name, (args, env) in cases.items():
            wall, cpu = run_once(args, env)
            walls[name].append(wall)
            cpus[name].append(cpu)
    base_wall = statistics.median(walls["baseline   python -c pass"])
    print(f"cold process, {RUNS} interleaved runs each (median wall / CPU; x = wall vs baseline)")
    for name in cases:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        print(f"  {name:38} {wall * 1000:7.1f} ms  cpu {cpu * 1000:6.1f} ms  {wall / base_wall:4.1f}x")
    time.sleep(1)  # let a background shipper started by the last team check finish


def shipper(tmp: str, url: str) -> None:
    from skill.guardrails import audit
    from skill.guardrails.audit_ship import ship
    from skill.guardrails.model import Decision

    home = os.path.join(tmp, "home-ship")
    os.makedirs(home)
    stamp = os.path.join(home, audit.SHIP_STAMP)
    Path(stamp).touch()
    os.utime(stamp, (time.time() + 3600,) * 2)  # no background shipper during the bench
    log = audit.AuditLog(home, buffered=True)
    start = time.perf_counter()
    for i in range(SHIP_ROWS):
        d = Decision(
            tier=1, decision="allow", reasons=["read-only"], rule_ids=["r"], kind="command", input=f"ls {i}"
        )
        log.record(audit.row_for(d, caller="bench", cwd="/srv"))
    log.flush()
    local = time.perf_counter() - start
    os.environ["DEVOPS_DATABASE_URL"] = url
    first = ship(home)
    again = ship(home)
    print(
        f"\nshipper, {SHIP_ROWS} rows (local append baseline: {SHIP_ROWS / local:,.0f} rows/s into audit.db)"
    )
    print(
        f"  ship to PostgreSQL     {first.shipped / first.seconds:9,.0f} rows/s  ({first.seconds:.2f} s, "
        f"{first.shipped} shipped, chain checked and extended)"
    )
    print(f"  rerun, nothing new     {again.seconds * 1000:9.1f} ms   ({again.shipped} shipped)")


def main() -> int:
    from skill.storage.local_postgres import LocalPostgres, unavailable_reason

    reason = unavailable_reason()
    if reason:
        print(f"skipped: {reason}")
        return 0
    with tempfile.TemporaryDirectory() as tmp, LocalPostgres(durable=True) as server:
        url = server.create_database("bench_audit")
        cold_checks(tmp, url)
        shipper(tmp, server.create_database("bench_ship"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
