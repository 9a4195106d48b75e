"""The durable webhook queue of ``devops serve``: claims, leases, bounded retries, a dead state.

- It lives in ``data_dir()/inbox.db``, or in the team database when ``DEVOPS_DATABASE_URL`` is set
  (skill.storage): then ``devops serve`` processes on several hosts share it.
- ``add`` commits the delivery before the server answers 202 (SQLite: synchronous=FULL, WAL), so
  an accepted event survives a crash of the process or the machine.
- ``UNIQUE(source, delivery_id)`` makes a redelivered webhook (same X-GitHub-Delivery, same
  PagerDuty event id, same Alertmanager group state ...) a no-op: processed once.
- ``claim`` takes the oldest claimable item for one worker and gives it a *lease* (an owner and
  an expiry) in one transaction (SQLite: BEGIN IMMEDIATE serialises the claimers; PostgreSQL:
  ``FOR UPDATE SKIP LOCKED``, so N workers in N processes never take the same row and never wait
  on each other). Claimable: ``pending`` and due, or ``processing`` whose lease expired (its
  worker was killed, or lost the machine). A live worker renews its leases (``renew``).
- ``finish``/``fail`` only act while the caller still owns the lease, so a worker that stalled
  past its lease cannot overwrite the outcome of the worker that took the item over.
- Retries are bounded: a failure (or a lease that expired) with ``max_attempts`` used up makes the
  item ``dead``: it stays, with its error, for ``devops inbox list --status dead`` and
  ``devops inbox retry``.
- An item's graph run uses the thread id ``evt-<item id>``, so a reclaimed item continues its
  checkpointed run instead of starting over, and the execution journal (skill.agent.runs) keeps a
  side effect that was started from being started again.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from skill.errors import NotFoundError, UsageError
from skill.paths import db_path
from skill.storage import CopyTable, Migration, Schema, open_store

MAX_ATTEMPTS = 3
LEASE_SECONDS = 60.0
STATUSES = ("pending", "processing", "done", "dead")

_M001_INBOX = """
CREATE TABLE IF NOT EXISTS inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    received REAL NOT NULL,
    headers TEXT NOT NULL,
    body BLOB NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    run_id TEXT,
    run_status TEXT,
    error TEXT,
    finished REAL,
    UNIQUE (source, delivery_id)
);
CREATE INDEX IF NOT EXISTS inbox_status ON inbox(status, id);
"""

# Leases: who holds an item and until when; not_before delays a retry (backoff). 'failed' was the
# old terminal state of an item that used its attempts: it is 'dead' now.
_M002_LEASES = """
ALTER TABLE inbox ADD COLUMN lease_owner TEXT;
ALTER TABLE inbox ADD COLUMN lease_until REAL;
ALTER TABLE inbox ADD COLUMN not_before REAL NOT NULL DEFAULT 0;
UPDATE inbox SET status = 'dead' WHERE status = 'failed';
UPDATE inbox SET status = 'pending' WHERE status = 'processing';
"""

# PostgreSQL: a serial id, BYTEA bodies, and DOUBLE PRECISION for the epoch stamps (its REAL is
# 4 bytes: a lease expiry would be off by minutes).
_M001_INBOX_PG = """
CREATE TABLE IF NOT EXISTS inbox (
    id BIGSERIAL PRIMARY KEY,
    source TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    received DOUBLE PRECISION NOT NULL,
    headers TEXT NOT NULL,
    body BYTEA NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    run_id TEXT,
    run_status TEXT,
    error TEXT,
    finished DOUBLE PRECISION,
    UNIQUE (source, delivery_id)
);
CREATE INDEX IF NOT EXISTS inbox_status ON inbox(status, id);
"""
_M002_LEASES_PG = """
ALTER TABLE inbox ADD COLUMN lease_owner TEXT;
ALTER TABLE inbox ADD COLUMN lease_until DOUBLE PRECISION;
ALTER TABLE inbox ADD COLUMN not_before DOUBLE PRECISION NOT NULL DEFAULT 0;
"""

SCHEMA = Schema(
    "inbox",
    (
        Migration("m001_inbox", _M001_INBOX, _M001_INBOX_PG),
        Migration("m002_leases", _M002_LEASES, _M002_LEASES_PG),
    ),
    team=True,
    copy_tables=(CopyTable("inbox", key=("source", "delivery_id"), generated=("id",)),),
)

_COLUMNS = (
    "id, source, delivery_id, received, status, attempts, run_id, run_status, error, finished, "
    "lease_owner, lease_until, not_before"
)


class InboxItem(BaseModel):
    id: int
    source: str
    delivery_id: str
    received: float
    status: str
    attempts: int
    run_id: str | None = None
    run_status: str | None = None
    error: str | None = None
    finished: float | None = None
    lease_owner: str | None = None
    lease_until: float | None = None
    not_before: float = 0


def worker_id(name: str) -> str:
    """``host/pid/name``: unique per worker, and tells a restarted process which leases were its own."""
    return f"{socket.gethostname()}/{os.getpid()}/{name}"


def backoff(attempts: int) -> float:
    """Seconds before a failed item is claimable again: 2, 4, 8 ... capped at 5 minutes."""
    return float(min(300, 2**attempts))


class Inbox:
    def __init__(
        self,
        path: str | Path | None = None,
        *,
        lease_seconds: float = LEASE_SECONDS,
        max_attempts: int = MAX_ATTEMPTS,
    ):
        self.path = str(path or db_path("inbox"))
        self.lease_seconds = float(lease_seconds)
        self.max_attempts = int(max_attempts)
        self._lock = threading.Lock()
        self._conn = self._open()
        self.backend = self._conn.backend
        # PostgreSQL: claimers skip the rows other claimers hold instead of queueing behind them.
        self._skip_locked = " FOR UPDATE SKIP LOCKED" if self.backend == "postgres" else ""

    @property
    def where(self) -> str:
        """The file, or the team database's URL without its password (for logs)."""
        if self.backend == "postgres":
            from skill.storage.postgres import redact_url

            return redact_url(self._conn.url)
        return self.path

    def _open(self):
        # FULL: the 202 promises the event is on disk, not only in the OS cache.
        return open_store(SCHEMA, self.path, synchronous="FULL", check_same_thread=False)

    def _connection(self):
        """The connection, opened again after a team database restart broke the old one."""
        raw = getattr(self._conn, "raw", None)
        if raw is not None and (raw.closed or raw.broken):
            self._conn = self._open()
        return self._conn

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _transaction(self):
        """One transaction (SQLite: BEGIN IMMEDIATE, so claimers in other processes queue)."""
        with self._lock, self._connection().transaction() as conn:
            yield conn

    def _execute(self, sql: str, params: tuple = ()) -> Any:
        with self._lock:
            return self._connection().execute(sql, params)

    def _now(self, conn) -> float:
        """The clock leases are measured by. In team mode that is the database server's: the
        hosts' own clocks differ, and a host running minutes ahead would see every other host's
        lease as expired and take over events still being worked on. On SQLite (one machine)
        the machine's clock is the only one."""
        if self.backend == "postgres":
            return conn.server_clock()
        return time.time()

    # ------------------------------------------------------------------ intake

    def add(self, source: str, delivery_id: str, body: bytes, headers: dict[str, str]) -> tuple[int, bool]:
        """(item id, True) for a new delivery, (existing id, False) for a redelivery."""
        with self._transaction() as conn:
            row = conn.execute(
                "INSERT INTO inbox (source, delivery_id, received, headers, body) VALUES (?,?,?,?,?) "
                "ON CONFLICT (source, delivery_id) DO NOTHING RETURNING id",
                (source, delivery_id, time.time(), json.dumps(headers), body),
            ).fetchone()
            if row is not None:
                return int(row[0]), True
            row = conn.execute(
                "SELECT id FROM inbox WHERE source = ? AND delivery_id = ?", (source, delivery_id)
            ).fetchone()
            return int(row[0]), False

    # ------------------------------------------------------------------ work

    def claim(self, owner: str) -> dict[str, Any] | None:
        """Lease the oldest claimable item to ``owner``; None when there is nothing to do."""
        with self._transaction() as conn:
            now = self._now(conn)
            # An expired lease with no attempt left: its worker died on it every time (a poison
            # event, or one that kills the process): it is dead, not claimed a fourth time.
            conn.execute(
                "UPDATE inbox SET status = 'dead', lease_owner = NULL, lease_until = NULL, finished = ?, "
                "error = COALESCE(error || '; ', '') || 'lease expired on attempt ' || attempts "
                "|| ' (the worker stopped while holding it)' WHERE id IN (SELECT id FROM inbox "
                f"WHERE status = 'processing' AND lease_until < ? AND attempts >= ?{self._skip_locked})",
                (now, now, self.max_attempts),
            )
            row = conn.execute(
                "UPDATE inbox SET status = 'processing', attempts = attempts + 1, lease_owner = ?, "
                "lease_until = ? WHERE id = (SELECT id FROM inbox WHERE (status = 'pending' AND not_before <= ?) "
                "OR (status = 'processing' AND lease_until < ? AND attempts < ?) "
                f"ORDER BY id LIMIT 1{self._skip_locked}) "
                "RETURNING id, source, delivery_id, headers, body, attempts",
                (owner, now + self.lease_seconds, now, now, self.max_attempts),
            ).fetchone()
        if row is None:
            return None
        item = dict(row)
        item["headers"] = json.loads(item["headers"])
        item["body"] = bytes(item["body"])
        return item

    def renew(self, item_ids: list[int], owner: str) -> list[int]:
        """Extend ``owner``'s leases; the ids it no longer holds (another worker took them)."""
        lost = []
        with self._transaction() as conn:
            until = self._now(conn) + self.lease_seconds
            for item_id in item_ids:
                cur = conn.execute(
                    "UPDATE inbox SET lease_until = ? WHERE id = ? AND lease_owner = ? AND status = 'processing'",
                    (until, item_id, owner),
                )
                if cur.rowcount != 1:
                    lost.append(item_id)
        return lost

    def finish(self, item_id: int, owner: str, *, run_id: str | None, run_status: str | None) -> bool:
        """Mark the item done; False when ``owner`` lost its lease (the outcome is the new owner's)."""
        cur = self._execute(
            "UPDATE inbox SET status = 'done', run_id = ?, run_status = ?, error = NULL, finished = ?, "
            "lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ? AND status = 'processing'",
            (run_id, run_status, time.time(), item_id, owner),
        )
        return cur.rowcount == 1

    def fail(self, item_id: int, owner: str, error: str, *, retry: bool) -> str | None:
        """Back to pending after a backoff, or dead; the new status (None: the lease was lost)."""
        with self._transaction() as conn:
            now = self._now(conn)  # not_before is compared with claim's clock
            row = conn.execute(
                "SELECT attempts FROM inbox WHERE id = ? AND lease_owner = ? AND status = 'processing'",
                (item_id, owner),
            ).fetchone()
            if row is None:
                return None
            again = retry and row[0] < self.max_attempts
            conn.execute(
                "UPDATE inbox SET status = ?, error = ?, finished = ?, not_before = ?, lease_owner = NULL, "
                "lease_until = NULL WHERE id = ?",
                (
                    "pending" if again else "dead",
                    error[:2000],
                    None if again else now,
                    now + backoff(row[0]) if again else 0,
                    item_id,
                ),
            )
        return "pending" if again else "dead"

    def release_orphans(self) -> int:
        """Expire the leases of workers of this host whose process is gone (a restart after a crash
        need not wait for the lease to run out); the items keep their attempt count."""
        host = socket.gethostname()
        rows = self._execute(
            "SELECT id, lease_owner FROM inbox WHERE status = 'processing' AND lease_owner LIKE ?",
            (f"{host}/%",),
        ).fetchall()
        released = 0
        for row in rows:
            parts = str(row[1]).split("/")
            if len(parts) < 3 or not parts[1].isdigit() or _alive(int(parts[1])):
                continue
            cur = self._execute(
                "UPDATE inbox SET lease_until = 0 WHERE id = ? AND lease_owner = ? AND status = 'processing'",
                (row[0], row[1]),
            )
            released += cur.rowcount
        return released

    def retry(self, item_id: int) -> InboxItem:
        """A dead item back to pending with fresh attempts (after its cause was fixed)."""
        cur = self._execute(
            "UPDATE inbox SET status = 'pending', attempts = 0, not_before = 0, finished = NULL "
            "WHERE id = ? AND status = 'dead'",
            (item_id,),
        )
        if cur.rowcount != 1:
            item = self.get(item_id)
            raise UsageError(
                f"inbox item {item_id} is not dead (status: {item.status}); only dead items retry"
            )
        return self.get(item_id)

    # ------------------------------------------------------------------ reading

    def get(self, item_id: int) -> InboxItem:
        row = self._execute(f"SELECT {_COLUMNS} FROM inbox WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no inbox item {item_id}", hint="see `devops inbox list`")
        return InboxItem(**dict(row))

    def list(self, status: str | None = None, limit: int = 50) -> list[InboxItem]:
        sql, args = f"SELECT {_COLUMNS} FROM inbox", []
        if status:
            sql += " WHERE status = ?"
            args.append(status)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        return [InboxItem(**dict(r)) for r in self._execute(sql, tuple(args)).fetchall()]

    def counts(self) -> dict[str, int]:
        rows = self._execute("SELECT status, COUNT(*) AS n FROM inbox GROUP BY status").fetchall()
        return {r["status"]: r["n"] for r in rows}

    def ping(self) -> bool:
        try:
            self._execute("SELECT 1 FROM inbox LIMIT 1").fetchall()
            return True
        except Exception:  # noqa: BLE001 - any failure means "not ready"
            return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
