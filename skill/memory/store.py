"""The system of record: memory.db (SQLite, the default) or the team database (PostgreSQL, postgres.py).

Opening, migrating, querying in transactions, and turning failures into StorageError.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from skill.durations import iso, parse_when, utcnow
from skill.errors import StorageError
from skill.memory.search import fts_phrase, fts_query
from skill.redact import redact_obj


def busy_timeout() -> float:
    """Seconds a writer waits for another writer's lock before giving up (DEVOPS_MEMORY_BUSY_TIMEOUT)."""
    try:
        return float(os.environ.get("DEVOPS_MEMORY_BUSY_TIMEOUT", "30"))
    except ValueError:
        return 30.0


def storage_error(path: Path | str, exc: BaseException) -> StorageError:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return StorageError(
            f"memory database {path} is locked by another process ({text})",
            hint="retry later, or raise DEVOPS_MEMORY_BUSY_TIMEOUT",
        )
    if isinstance(exc, sqlite3.DatabaseError) and (
        "not a database" in text or "malformed" in text or "corrupt" in text
    ):
        return StorageError(
            f"memory database {path} is corrupt ({text})",
            hint="move it aside and re-import an export (memory.py export / import)",
        )
    return StorageError(f"memory database {path}: {text}")


def open_db(path: Path):
    """Open (creating and migrating as needed) the memory database at ``path``."""
    import sqlite_utils

    from skill.memory.migrations import migrations

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(
            str(path), timeout=busy_timeout(), isolation_level=None, check_same_thread=False
        )
        db = sqlite_utils.Database(conn)
        db.execute(f"PRAGMA busy_timeout = {int(busy_timeout() * 1000)}")
        if migrations.pending(db):
            # Concurrent first opens would race to create the same tables: one at a time.
            from filelock import FileLock

            with FileLock(str(path) + ".migrate.lock", timeout=max(busy_timeout(), 1.0)):
                if migrations.pending(db):
                    migrations.apply(db)
        db.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.Error as exc:
        raise storage_error(path, exc) from exc
    except OSError as exc:
        raise StorageError(f"cannot open memory database {path}: {exc}") from exc
    except Exception as exc:  # filelock Timeout
        if type(exc).__name__ == "Timeout":
            raise StorageError(f"memory database {path} is being migrated by another process") from exc
        raise
    return db


class RecordStore:
    """The records of one memory (memories, deployments, incidents, their events, the audit).

    One connection per open memory; the lock lets a server share it between threads. The SQL of
    the parts is written once, for both backends (``?`` placeholders, ON CONFLICT, RETURNING,
    ``lower()`` for case-insensitive names); what each engine does its own way (full-text search,
    JSON fields, secure erase, change detection) is a method here.
    """

    backend = "sqlite"

    def __init__(self, location: str) -> None:
        self.location = location
        self.lock = threading.RLock()

    # -------------------------------------------------------------- both backends
    def q(self, sql: str, params: Iterable[Any] = ()) -> list[dict]:
        with self.lock:
            cur = self.execute(sql, params)
            cols = [d[0] for d in cur.description or ()]
            return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    def audit(self, action: str, target: str | None, detail: dict | None = None) -> None:
        self.execute(
            "INSERT INTO audit(at, action, target, detail) VALUES (?, ?, ?, ?)",
            (iso(utcnow()), action, target, dumps(redact_obj(detail or {}))),
        )

    # -------------------------------------------------------------- per backend
    def execute(self, sql: str, params: Iterable[Any] = ()):
        raise NotImplementedError

    def write(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` in one transaction that serialises memory writers across processes."""
        raise NotImplementedError

    def has_tag(self, alias: str) -> str:
        """SQL true when the memory ``alias`` carries the tag given as the next parameter."""
        raise NotImplementedError

    def json_text(self, column: str, key: str) -> str:
        """SQL for the text of ``key`` in the JSON object of ``column``."""
        raise NotImplementedError

    def rowids_with_term(self, term: str) -> list[int]:
        """The rowids of every memory whose indexed text holds ``term`` (as a phrase)."""
        raise NotImplementedError

    def ranked_text(self, query: str, where: str, params: list, limit: int) -> list[tuple[int, float]]:
        """The lexical baseline: (rowid, score, higher is better) of the ORed, quoted terms."""
        raise NotImplementedError

    def data_version(self) -> int:
        """Changes when another connection commits a change to the live vectors."""
        raise NotImplementedError

    @contextlib.contextmanager
    def erasing(self):
        """Inside a write: what is deleted leaves no byte behind (forget --hard)."""
        yield

    def checkpoint(self) -> str | None:
        """After an erase: None, or why the erased bytes may stay on disk for now."""

    def optimize_text_index(self) -> None:
        """After many small batches."""

    def ids_written(self, table: str) -> None:
        """After rows were inserted with their own ``seq`` (a restore): later inserts go past them."""

    def close(self) -> None:
        raise NotImplementedError


class SqliteRecordStore(RecordStore):
    """memory.db: SQLite with FTS5 (porter), migrated by sqlite-utils."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = Path(path)
        self.db = open_db(self.path)

    @property
    def conn(self):
        return self.db.conn

    def q(self, sql: str, params: Iterable[Any] = ()) -> list[dict]:
        try:
            return super().q(sql, params)
        except sqlite3.Error as exc:
            raise storage_error(self.path, exc) from exc

    def execute(self, sql: str, params: Iterable[Any] = ()):
        """One statement (inside ``write``, its errors become StorageError there)."""
        return self.db.conn.execute(sql, tuple(params))

    def write(self, fn: Callable[[], Any]) -> Any:
        # BEGIN IMMEDIATE takes the write lock up front: two writers queue instead of one failing.
        conn = self.db.conn
        with self.lock:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise storage_error(self.path, exc) from exc
            try:
                result = fn()
                conn.execute("COMMIT")
                return result
            except BaseException as exc:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                if isinstance(exc, sqlite3.Error):
                    raise storage_error(self.path, exc) from exc
                raise

    def has_tag(self, alias: str) -> str:
        return f"EXISTS (SELECT 1 FROM json_each({alias}.tags) WHERE value = ?)"

    def json_text(self, column: str, key: str) -> str:
        return f"json_extract({column}, '$.{key}')"

    def rowids_with_term(self, term: str) -> list[int]:
        rows = self.q("SELECT rowid FROM memories_fts WHERE memories_fts MATCH ?", (fts_phrase(term),))
        return [r["rowid"] for r in rows]

    def ranked_text(self, query: str, where: str, params: list, limit: int) -> list[tuple[int, float]]:
        rows = self.q(
            f"SELECT m.rowid AS rowid, bm25(memories_fts, 1.0, 2.0, 2.0, 1.0) AS bm25 FROM memories_fts "
            f"JOIN memories m ON m.rowid = memories_fts.rowid WHERE memories_fts MATCH ? AND {where} "
            f"ORDER BY bm25 LIMIT ?",
            [fts_query(query), *params, limit],
        )
        return [(r["rowid"], -r["bm25"]) for r in rows]

    def data_version(self) -> int:
        # This connection's own commits do not change it: its cache appends its own inserts.
        return self.db.execute("PRAGMA data_version").fetchone()[0]

    @contextlib.contextmanager
    def erasing(self):
        # secure_delete zeroes the freed cells and pages; the FTS5 merge afterwards drops the
        # text's postings from older segments.
        self.execute("PRAGMA secure_delete = ON")
        try:
            yield
            self.optimize_text_index()
        finally:
            self.execute("PRAGMA secure_delete = OFF")

    def checkpoint(self) -> str | None:
        # The old page images stay in the WAL until a checkpoint.
        with contextlib.suppress(sqlite3.Error):
            self.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return None

    def optimize_text_index(self) -> None:
        # Many small batches leave many FTS5 segments; one merge keeps term lookups cheap.
        self.execute("INSERT INTO memories_fts(memories_fts) VALUES('optimize')")

    def close(self) -> None:
        try:
            self.db.conn.close()
        except sqlite3.Error:
            pass


def open_records(path: Path, database: str | None = None) -> RecordStore:
    """The records store: PostgreSQL when a team database is configured, else the SQLite file.

    ``database`` overrides the configuration: a PostgreSQL URL, or "" for the file at ``path``
    (`devops db copy` reads the laptop's file and writes the database it was given).
    """
    from skill.memory.migrations import SCHEMA
    from skill.storage import backend_name, database_url

    if database is None:
        database = (database_url() or "") if backend_name(SCHEMA) == "postgres" else ""
    if database:
        from skill.memory.postgres import PostgresRecordStore

        return PostgresRecordStore(database)
    return SqliteRecordStore(path)


_WS = re.compile(r"\s+")


def normalize(text: str) -> str:
    return _WS.sub(" ", text or "").strip()


def content_hash(text: str) -> str:
    """md5 of the whitespace-normalised, case-folded text (the dedup key, like llm and mem0)."""
    return hashlib.md5(normalize(text).casefold().encode("utf-8")).hexdigest()


def env_name(env: str | None) -> str | None:
    """The canonical name of an environment (``prod``, ``PRD`` -> ``production``), the gate's vocabulary."""
    from skill.environments import normalize

    if env is None or not str(env).strip():
        return None
    return normalize(str(env).strip())


def scope_of(kind: str, service: str | None) -> str:
    return f"{kind}|{(service or '').casefold()}"


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def loads(value: str | None, default: Any) -> Any:
    if not value:
        return default
    try:
        return json.loads(value)
    except ValueError:
        return default


def new_id(prefix: str = "mem") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def when(value: str | datetime | None) -> datetime | None:
    """A stored or typed time as an aware datetime (naive means UTC), None for nothing."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return parse_when(str(value))


def timestamp_of(text: str | None) -> float | None:
    if not text:
        return None
    return parse_when(text).timestamp()


def sqlite_schema_status(path: str) -> tuple[int | None, int]:
    """(sqlite-utils migrations applied to memory.db or None when there is no file, migrations
    this code has), read-only, for `devops db status`: memory.db counts its versions in
    sqlite-utils' table, not in user_version."""
    import sqlite_utils

    from skill.memory.migrations import migrations

    if not Path(path).is_file():
        return None, len(migrations._migrations)
    db = sqlite_utils.Database(sqlite3.connect(f"file:{path}?mode=ro", uri=True))
    try:
        return len(migrations.applied(db)), len(migrations._migrations)
    finally:
        db.conn.close()


def sqlite_migrate(path: str) -> None:
    """Bring memory.db to this code's version (what every open does), for `devops db migrate`."""
    open_db(Path(path)).conn.close()
