"""Shipping the gate's audit to the team database (PostgreSQL), and verifying the team chain.

The hook never connects to PostgreSQL for the audit: a check appends to the local SQLite file (the
spool of team mode) and, at most every ``SHIP_INTERVAL`` seconds, starts a detached shipper
(``python -m skill.guardrails.audit_ship``). ``devops audit ship`` does the same in the
foreground. The shipper reads the local rows past its cursor, checks their local chain as it
goes (a tampered local row is never shipped), and appends them to ``audit_decisions`` under an
advisory lock, chaining each onto the team chain (the same hash rule as the local file, over the
same fields). Rows are matched by uid, so a shipper killed at any point and started again ships
every row exactly once; the cursor only saves re-reading.
"""

from __future__ import annotations

import os
import time

from skill.errors import StorageError, UsageError
from skill.guardrails import audit
from skill.storage import Migration, Schema

SHIP_LOCK = "audit-ship.lock"  # one shipper per data dir at a time
CHAIN_LOCK = "audit-chain"  # the advisory lock every shipper of a team database appends under
BATCH = 500

_PG_CREATE = f"""
CREATE TABLE IF NOT EXISTS audit_decisions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    {", ".join(c + (" DOUBLE PRECISION" if c == "ts" else " INTEGER" if c == "tier" else " TEXT") for c in audit.COLUMNS)},
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    local_hash TEXT,
    origin TEXT,
    shipped_at DOUBLE PRECISION
);
CREATE UNIQUE INDEX IF NOT EXISTS audit_decisions_uid ON audit_decisions (uid);
CREATE INDEX IF NOT EXISTS audit_decisions_ts ON audit_decisions (ts);
"""
_NOTHING = "SELECT 1"  # the team table is born chained; it has no ship cursor of its own

# The local file's migrations (skill.guardrails.audit.MIGRATIONS) with their PostgreSQL side.
SCHEMA = Schema(
    "audit",
    (
        Migration("create decisions", sqlite=audit.MIGRATIONS[0][1], postgres=_PG_CREATE),
        Migration("chain decisions", sqlite=audit.MIGRATIONS[1][1], postgres=_NOTHING),
        Migration("ship cursor", sqlite=audit.MIGRATIONS[2][1], postgres=_NOTHING),
    ),
    team=True,
    copier=lambda source, target: _ship_rows(source, target, _target_key(target.url), origin="copy").shipped,
)

_PG_INSERT = (
    f"INSERT INTO audit_decisions ({', '.join(audit.COLUMNS)}, prev_hash, hash, local_hash, origin, shipped_at)"
    f" VALUES ({', '.join('?' * (len(audit.COLUMNS) + 5))})"
)
_LOCAL_SELECT = f"SELECT id, {', '.join(audit.COLUMNS)}, prev_hash, hash FROM decisions"


class ShipReport:
    __slots__ = ("target", "read", "shipped", "already_there", "busy", "broken_id", "seconds")

    def __init__(self, target: str):
        self.target = target
        self.read = 0
        self.shipped = 0
        self.already_there = 0
        self.busy = False
        self.broken_id = None
        self.seconds = 0.0

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}


def team_url_or_fail() -> str:
    from skill.storage import database_url

    url = database_url()
    if not url:
        raise UsageError(
            "no team database configured: set DEVOPS_DATABASE_URL (or [store] url in config.toml)",
            hint="without one the audit stays in the local audit.db",
        )
    return url


def _target_key(url: str) -> str:
    from skill.storage.postgres import redact_url

    return redact_url(url)


def _origin() -> str:
    import socket

    user = os.environ.get("USER") or os.environ.get("LOGNAME") or str(os.getuid())
    return f"{user}@{socket.gethostname()}"


def _as_dict(row) -> dict:
    return {key: row[key] for key in row.keys()}


def _ship_rows(local, team, target: str, *, batch: int = BATCH, origin: str | None = None) -> ShipReport:
    """Ship local rows past the cursor for ``target``; stops before a row that breaks the local
    chain (ShipReport.broken_id). ``local``/``team``: connections with named rows."""
    report = ShipReport(target)
    start = time.perf_counter()
    origin = origin or _origin()
    cursor = local.execute("SELECT last_id, last_hash FROM shipped WHERE target = ?", (target,)).fetchone()
    last_id, expect = (cursor[0], cursor[1]) if cursor else (0, audit.GENESIS)
    while True:
        rows = [
            _as_dict(r)
            for r in local.execute(f"{_LOCAL_SELECT} WHERE id > ? ORDER BY id LIMIT ?", (last_id, batch))
        ]
        if not rows:
            break
        good = []
        for row in rows:
            if row["prev_hash"] != expect or audit.chain_hash(expect, row) != row["hash"]:
                report.broken_id = row["id"]
                break
            good.append(row)
            expect = row["hash"]
        if good:
            now = time.time()
            with team.transaction(lock=CHAIN_LOCK):
                inserted = _append_team(team, good, origin, now)
            # after the team commit: a kill between the two re-reads these rows, found by uid
            local.execute(
                "INSERT INTO shipped (target, last_id, last_hash, at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (target) DO UPDATE SET last_id = excluded.last_id,"
                " last_hash = excluded.last_hash, at = excluded.at",
                (target, good[-1]["id"], good[-1]["hash"], now),
            )
            report.read += len(good)
            report.shipped += inserted
            report.already_there += len(good) - inserted
            last_id = good[-1]["id"]
        if report.broken_id is not None:
            break
    report.seconds = time.perf_counter() - start
    return report


def _append_team(team, rows: list[dict], origin: str, now: float) -> int:
    """Chain rows onto the team chain; the caller holds CHAIN_LOCK, so no other shipper inserts
    meanwhile and the uids found here are exactly the rows already shipped. One batched insert
    (psycopg pipelines it) instead of a round trip per row."""
    present = team.execute(
        "SELECT uid FROM audit_decisions WHERE uid = ANY(?)", ([r["uid"] for r in rows],)
    ).fetchall()
    shipped = {r[0] for r in present}
    head = team.execute("SELECT hash FROM audit_decisions ORDER BY id DESC LIMIT 1").fetchone()
    prev = head[0] if head else audit.GENESIS
    values = []
    for original in rows:
        if original["uid"] in shipped:
            continue
        row = audit.normalized(original)
        link = audit.chain_hash(prev, row)
        values.append((*(row[c] for c in audit.COLUMNS), prev, link, original["hash"], origin, now))
        prev = link
    if values:
        team.executemany(_PG_INSERT, values)
    return len(values)


def ship(directory: str | None = None, *, batch: int = BATCH, wait: bool = True) -> ShipReport:
    """Ship this data dir's audit rows to the team database. One shipper per data dir: with
    ``wait=False`` a second one returns at once (``busy``) instead of queueing."""
    import fcntl

    url = team_url_or_fail()
    log = audit.AuditLog(directory)
    d = log._dir()
    os.makedirs(d, mode=0o700, exist_ok=True)
    target = _target_key(url)
    fd = os.open(os.path.join(d, SHIP_LOCK), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            report = ShipReport(target)
            report.busy = True
            return report
        try:
            log.ingest_spool()  # spooled decisions join the local chain first
        except Exception:  # noqa: BLE001 - still locked or broken: they ship next time
            pass
        local = _local(log)
        try:
            from skill.storage import postgres

            team = postgres.open_store(url, SCHEMA)
            try:
                return _ship_rows(local, team, target, batch=batch)
            finally:
                team.close()
        finally:
            local.close()
    finally:
        os.close(fd)


def _local(log: audit.AuditLog):
    """The local audit file with named rows, migrated (a stdlib sqlite3 connection)."""
    import sqlite3

    path = os.path.join(log._dir(), audit.DB_NAME)
    try:
        log._connect().close()  # migrations, with the hook path's own rules
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    except (sqlite3.Error, audit.NewerSchema) as exc:
        raise StorageError(f"cannot open the audit log {path}: {exc}") from exc
    conn.row_factory = sqlite3.Row
    return conn


def verify_team() -> audit.ChainReport:
    """Recompute the team database's chain (every shipped row, in order)."""
    from skill.storage import postgres

    url = team_url_or_fail()
    team = postgres.open_store(url, SCHEMA)
    try:
        report = audit.ChainReport(_target_key(url) + " (audit_decisions)")
        rows = team.execute(
            f"SELECT id, {', '.join(audit.COLUMNS)}, prev_hash, hash FROM audit_decisions ORDER BY id"
        )
        return audit.check_chain(rows, report)
    finally:
        team.close()


def run_background(directory: str) -> int:
    """The detached shipper a check starts: ship, and leave the last failure where `devops audit
    verify` and `devops audit ship` show it (nobody reads this process's stderr)."""
    status = os.path.join(directory, audit.SHIP_STATUS)
    try:
        report = ship(directory, wait=False)
        line = (
            ""
            if report.broken_id is None
            else f"local chain broken at row {report.broken_id}; not shipped past it"
        )
    except Exception as exc:  # noqa: BLE001 - recorded for the foreground commands
        line = f"{type(exc).__name__}: {exc}"
    try:
        if line:
            with open(status, "w", encoding="utf-8") as fh:
                fh.write(time.strftime("%Y-%m-%dT%H:%M:%SZ ", time.gmtime()) + line[:500] + "\n")
        elif os.path.exists(status):
            os.unlink(status)
    except OSError:
        pass
    return 0 if not line else 1


def last_background_failure(directory: str | None = None) -> str | None:
    path = os.path.join(directory or audit.AuditLog()._dir(), audit.SHIP_STATUS)
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip() or None
    except OSError:
        return None


if __name__ == "__main__":
    import sys

    sys.exit(run_background(sys.argv[1]))
