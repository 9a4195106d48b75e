"""The durable webhook queue of ``devops serve`` (``data_dir()/inbox.db``).

- ``add`` commits the delivery (synchronous=FULL, WAL) before the server answers 202, so an
  accepted event survives a crash of the process or the machine.
- ``UNIQUE(source, delivery_id)`` makes a redelivered webhook (same X-GitHub-Delivery, same
  PagerDuty event id, same Alertmanager group state ...) a no-op: processed once.
- ``claim`` moves one item pending -> processing in a single UPDATE; ``recover`` (at start-up)
  puts items a crashed worker left in ``processing`` back to pending. Their graph run uses the
  thread id ``evt-<item id>``, so a retried item continues its checkpointed run instead of
  starting over: side effects already past the approval checkpoint are not repeated.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from skill.paths import db_path
from skill.storage import Migration, Schema, open_store

MAX_ATTEMPTS = 3

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

SCHEMA = Schema("inbox", (Migration("m001_inbox", _M001_INBOX),))


class Inbox:
    def __init__(self, path: str | Path | None = None):
        self.path = str(path or db_path("inbox"))
        self._lock = threading.Lock()
        # FULL: the 202 promises the event is on disk, not only in the OS cache.
        self._conn = open_store(SCHEMA, self.path, synchronous="FULL", check_same_thread=False)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def add(self, source: str, delivery_id: str, body: bytes, headers: dict[str, str]) -> tuple[int, bool]:
        """(item id, True) for a new delivery, (existing id, False) for a redelivery."""
        with self._lock:
            cur = self._conn.execute(
                "INSERT OR IGNORE INTO inbox (source, delivery_id, received, headers, body) VALUES (?,?,?,?,?)",
                (source, delivery_id, time.time(), json.dumps(headers), body),
            )
            if cur.rowcount == 1:
                return int(cur.lastrowid), True
            row = self._conn.execute(
                "SELECT id FROM inbox WHERE source = ? AND delivery_id = ?", (source, delivery_id)
            ).fetchone()
            return int(row["id"]), False

    def recover(self) -> int:
        """Items left in ``processing`` by a crashed worker go back to pending."""
        with self._lock:
            return self._conn.execute(
                "UPDATE inbox SET status = 'pending' WHERE status = 'processing'"
            ).rowcount

    def claim(self) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute(
                "UPDATE inbox SET status = 'processing', attempts = attempts + 1 "
                "WHERE id = (SELECT id FROM inbox WHERE status = 'pending' ORDER BY id LIMIT 1) RETURNING *"
            ).fetchone()
        if row is None:
            return None
        item = dict(row)
        item["headers"] = json.loads(item["headers"])
        return item

    def finish(self, item_id: int, *, run_id: str | None, run_status: str | None) -> None:
        with self._lock:
            self._conn.execute(
                "UPDATE inbox SET status = 'done', run_id = ?, run_status = ?, error = NULL, finished = ? WHERE id = ?",
                (run_id, run_status, time.time(), item_id),
            )

    def fail(self, item_id: int, error: str, *, retry: bool) -> None:
        with self._lock:
            row = self._conn.execute("SELECT attempts FROM inbox WHERE id = ?", (item_id,)).fetchone()
            again = retry and row is not None and row["attempts"] < MAX_ATTEMPTS
            self._conn.execute(
                "UPDATE inbox SET status = ?, error = ?, finished = ? WHERE id = ?",
                ("pending" if again else "failed", error[:2000], None if again else time.time(), item_id),
            )

    def get(self, item_id: int) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT id, source, delivery_id, status, attempts, run_id, run_status, error FROM inbox WHERE id = ?",
                (item_id,),
            ).fetchone()
        return dict(row) if row else None

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._conn.execute("SELECT status, COUNT(*) AS n FROM inbox GROUP BY status").fetchall()
        return {r["status"]: r["n"] for r in rows}

    def ping(self) -> bool:
        try:
            with self._lock:
                self._conn.execute("SELECT 1 FROM inbox LIMIT 1").fetchall()
            return True
        except sqlite3.Error:
            return False
