"""The Memory class: remember, recall, deployments, incidents, triage, import/export, reindex.

SQLite (sqlite-utils) is the system of record and also keeps each vector as a float32 blob.
chromadb is the vector index: written on every remember (a file lock around local writes),
rebuildable from SQLite with ``reindex``. Recall in local mode scores the SQLite vectors with
numpy (10,000 x 384 is a 15 MB matrix product of ~2 ms), which avoids importing chromadb
(~1 s) on the recall path and never sees a stale HNSW from another process. With a chroma
server configured (team mode) recall asks the server, so memories written elsewhere are found.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from skill.durations import iso, parse_duration, parse_when, utcnow
from skill.errors import DevopsError, NotFoundError, StorageError, UsageError
from skill.memory import search as S
from skill.memory.embed import Embedder, EmbeddingUnavailable, model_dir, shared_embedder
from skill.memory.models import (
    DEPLOY_STATUSES,
    KINDS,
    SEVERITIES,
    Deployment,
    Incident,
    MemoryRecord,
    RecallHit,
    RememberResult,
    SimilarIncident,
    Stats,
    TriageReport,
)
from skill.memory.protocol import parse as parse_protocol
from skill.memory.store import content_hash, dumps, env_name, loads, open_db, scope_of, storage_error
from skill.memory.vector import LockBusy, VectorIndex, chroma_url, metadata_for, where_for
from skill.redact import redact, redact_obj

NEAR_DUPLICATE = 0.95
MEMORY_COLUMNS = (
    "rowid, id, text, kind, service, env, version, tags, importance, created_at, created_ts, source, "
    "content_hash, metadata, linked_to, supersedes, superseded_by, deleted_at, embedding IS NOT NULL AS has_vec"
)


def _now() -> datetime:
    return utcnow()


def _ts(text: str | None) -> float | None:
    if not text:
        return None
    return parse_when(text).timestamp()


def _when(value: str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return parse_when(str(value))


def new_id(prefix: str = "mem") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class _Grow:
    """A float32 matrix that grows by doubling (appending one row is amortised O(1))."""

    def __init__(self, dim: int = 384, cap: int = 64) -> None:
        import numpy as np

        self.data = np.zeros((cap, dim), dtype=np.float32)
        self.n = 0

    def extend(self, rows) -> None:
        import numpy as np

        k = len(rows)
        if self.n + k > len(self.data):
            cap = max(len(self.data) * 2, self.n + k)
            grown = np.zeros((cap, self.data.shape[1]), dtype=np.float32)
            grown[: self.n] = self.data[: self.n]
            self.data = grown
        self.data[self.n : self.n + k] = rows
        self.n += k

    def view(self):
        return self.data[: self.n]


class _VectorCache:
    """All live vectors as one matrix (for recall) and one per dedup scope (for near-duplicates).

    Reloaded from SQLite when another connection commits (PRAGMA data_version changes); this
    process's own inserts are appended in place.
    """

    def __init__(self) -> None:
        self.version: int | None = None
        self.dirty = True
        self._reset()

    def _reset(self) -> None:
        self.all = _Grow()
        self.rowid_list: list[int] = []
        self.ids: list[str] = []
        self.pos: dict[int, int] = {}
        self.scope_mats: dict[str, _Grow] = {}
        self.scope_ids: dict[str, list[str]] = {}
        self._rowids = None

    @property
    def matrix(self):
        return self.all.view()

    @property
    def rowids(self):
        import numpy as np

        if self._rowids is None or len(self._rowids) != len(self.rowid_list):
            self._rowids = np.asarray(self.rowid_list, dtype=np.int64)
        return self._rowids

    def ensure(self, db) -> None:
        import numpy as np

        version = db.execute("PRAGMA data_version").fetchone()[0]
        if not self.dirty and version == self.version:
            return
        rows = db.execute(
            "SELECT rowid, id, scope, embedding FROM memories WHERE embedding IS NOT NULL "
            "AND deleted_at IS NULL AND superseded_by IS NULL ORDER BY rowid"
        ).fetchall()
        self._reset()
        if rows:
            mat = np.frombuffer(b"".join(r[3] for r in rows), dtype=np.float32).reshape(len(rows), -1)
            self.all.extend(mat)
            by_scope: dict[str, list[int]] = {}
            for i, r in enumerate(rows):
                self.rowid_list.append(r[0])
                self.ids.append(r[1])
                self.pos[r[0]] = i
                by_scope.setdefault(r[2], []).append(i)
            for scope, idx in by_scope.items():
                g = _Grow(cap=max(64, len(idx)))
                g.extend(mat[idx])
                self.scope_mats[scope] = g
                self.scope_ids[scope] = [rows[i][1] for i in idx]
        self.version = version
        self.dirty = False

    def append(self, rowid: int, mid: str, scope: str, vec) -> None:
        if self.dirty:
            return
        row = vec.reshape(1, -1)
        self.pos[rowid] = len(self.rowid_list)
        self.all.extend(row)
        self.rowid_list.append(rowid)
        self.ids.append(mid)
        self.scope_mats.setdefault(scope, _Grow()).extend(row)
        self.scope_ids.setdefault(scope, []).append(mid)


class Memory:
    """Operational memory over one data dir. Use ``Memory.open()``; close with ``close()``."""

    def __init__(
        self,
        path: Path,
        *,
        chroma_dir: Path | None = None,
        url: str | None = None,
        embedder: Embedder | None = None,
        settings: dict | None = None,
    ) -> None:
        self.path = Path(path)
        self.settings = settings or {}
        self.db = open_db(self.path)
        self.url = url
        self.index = VectorIndex(path=chroma_dir or self.path.parent / "chroma", url=url)
        self.embedder = embedder
        self.warnings: list[str] = []
        self._cache = _VectorCache()
        self._lock = threading.RLock()
        self._sync_owed = False
        self._replay_spool()

    # ----------------------------------------------------------------- opening
    @classmethod
    def open(
        cls,
        data_dir: str | os.PathLike | None = None,
        *,
        chroma_url: str | None = None,
        embedder: Embedder | None = None,
    ) -> Memory:
        """Open the memory of ``data_dir`` (default: the data dir); every failure is a StorageError."""
        from skill.config import load_settings
        from skill.paths import ensure_data_dir

        try:
            settings = load_settings("memory", {"chroma_url": None, "db": None})
            base = Path(data_dir) if data_dir else Path(ensure_data_dir())
            db = (
                Path(settings["db"]).expanduser()
                if settings.get("db") and not data_dir
                else base / "memory.db"
            )
            url = chroma_url if chroma_url is not None else _chroma_url(settings)
            return cls(db, chroma_dir=base / "chroma", url=url, embedder=embedder, settings=settings)
        except OSError as exc:  # an unusable $DEVOPS_HOME: said before anything runs
            raise StorageError(f"cannot open memory: {exc}") from exc

    def close(self) -> None:
        if self._sync_owed:
            self._index([], wait=True)
        try:
            self.db.conn.close()
        except sqlite3.Error:
            pass

    def __enter__(self) -> Memory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def team_mode(self) -> bool:
        return bool(self.url)

    def _embedder(self) -> Embedder:
        if self.embedder is None:
            self.embedder = shared_embedder()
        return self.embedder

    def _embed(self, texts: list[str]):
        """Vectors for ``texts``, or None (with a warning kept) when the model cannot be had."""
        try:
            return self._embedder().embed(texts)
        except EmbeddingUnavailable as exc:
            self._warn(f"embedding model unavailable, vector pending: {exc}")
            return None

    def _warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    # ----------------------------------------------------------------- SQL helpers
    def _q(self, sql: str, params: Iterable[Any] = ()) -> list[dict]:
        # One connection per Memory; the lock lets a server share the object between threads.
        with self._lock:
            try:
                cur = self.db.conn.execute(sql, tuple(params))
                cols = [d[0] for d in cur.description or ()]
                return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
            except sqlite3.Error as exc:
                raise storage_error(self.path, exc) from exc

    def _write(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` inside one BEGIN IMMEDIATE transaction (serialises writers across processes)."""
        conn = self.db.conn
        with self._lock:
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

    def _audit(self, action: str, target: str | None, detail: dict | None = None) -> None:
        self.db.conn.execute(
            "INSERT INTO audit(at, action, target, detail) VALUES (?, ?, ?, ?)",
            (iso(_now()), action, target, dumps(redact_obj(detail or {}))),
        )

    @staticmethod
    def _record(row: dict) -> MemoryRecord:
        return MemoryRecord(
            id=row["id"],
            text=row["text"],
            kind=row["kind"],
            service=row["service"],
            env=row["env"],
            version=row["version"],
            tags=loads(row["tags"], []),
            importance=row["importance"],
            created_at=row["created_at"],
            source=row["source"],
            content_hash=row["content_hash"],
            metadata=loads(row["metadata"], {}),
            linked_to=row["linked_to"],
            supersedes=row["supersedes"],
            superseded_by=row["superseded_by"],
            deleted_at=row["deleted_at"],
            vector="stored" if row["has_vec"] else "pending",
        )

    # ----------------------------------------------------------------- remember
    def remember(
        self,
        text: str,
        *,
        kind: str | None = None,
        service: str | None = None,
        env: str | None = None,
        version: str | None = None,
        tags: Iterable[str] = (),
        importance: float = 0.5,
        source: str = "cli",
        metadata: dict | None = None,
        id: str | None = None,  # noqa: A002 - the public API name
        created_at: str | datetime | None = None,
        supersedes: str | None = None,
    ) -> RememberResult:
        """Store one memory (redacted, deduplicated, embedded). Protocol lines become deployments/incidents."""
        prepared = self._prepare(
            text,
            kind=kind,
            service=service,
            env=env,
            version=version,
            tags=tags,
            importance=importance,
            source=source,
            metadata=metadata,
            id=id,
            created_at=created_at,
            supersedes=supersedes,
        )
        if "incident" in prepared["side"]:
            self._check_incident_line(prepared)
        try:
            return self._store([prepared])[0]
        except StorageError as exc:
            self._spool(prepared)
            raise StorageError(
                f"{exc.message}; the record was kept in {self._spool_path()} and is stored on the next run",
                hint=exc.hint,
            ) from exc

    def _prepare(self, text: str, **kwargs: Any) -> dict:
        return prepare(text, **kwargs)

    def _existing(self, rec: dict) -> str | None:
        rows = self._q("SELECT id FROM memories WHERE id = ?", (rec["id"],))
        if rows:
            return rows[0]["id"]
        rows = self._q(
            "SELECT id FROM memories WHERE scope = ? AND content_hash = ? AND deleted_at IS NULL",
            (rec["scope"], rec["content_hash"]),
        )
        return rows[0]["id"] if rows else None

    def _duplicate(self, dup: str, kind: str) -> RememberResult:
        rows = self._q("SELECT embedding IS NOT NULL AS v FROM memories WHERE id = ?", (dup,))
        vector = "stored" if rows and rows[0]["v"] else "pending"
        return RememberResult(id=dup, kind=kind, created=False, duplicate_of=dup, vector=vector)

    def _store(self, items: list[dict]) -> list[RememberResult]:
        """Insert prepared records: dedup, embed in one batch, one transaction, then the chroma index."""
        import numpy as np

        results: list[RememberResult | None] = [None] * len(items)
        todo = []
        events: list[tuple[int, str]] = []
        for i, item in enumerate(items):
            dup = self._existing(item["rec"])
            if dup and item["side"] and not item.get("import"):
                events.append((i, dup))
            elif dup:
                results[i] = self._duplicate(dup, item["rec"]["kind"])
            else:
                todo.append(i)
        vectors = self._embed([items[i]["rec"]["text"] for i in todo]) if todo else None
        inserted: list[tuple[int, dict, Any]] = []

        def event_of_duplicate(i: int, dup: str) -> None:
            # The text may dedup, the event may not: a redeploy, a rollback or an incident update
            # written with words already remembered is still a new deployment or update.
            results[i] = self._duplicate(dup, items[i]["rec"]["kind"]).model_copy(
                update=self._side_records({**items[i]["rec"], "id": dup}, items[i]["side"])
            )

        def write() -> None:
            self._cache.ensure(self.db)
            seen_batch: dict[tuple[str, str], str] = {}
            for i, dup in events:
                event_of_duplicate(i, dup)
            for n, i in enumerate(todo):
                rec = items[i]["rec"]
                key = (rec["scope"], rec["content_hash"])
                dup = seen_batch.get(key) or self._existing(rec)
                if dup and items[i]["side"] and not items[i].get("import"):
                    event_of_duplicate(i, dup)
                    continue
                if dup:
                    results[i] = self._duplicate(dup, rec["kind"])
                    continue
                vec = vectors[n] if vectors is not None else None
                if vec is not None:
                    rec["linked_to"] = self._near_duplicate(rec["scope"], vec, rec)
                    rec["embedding"] = vec.astype(np.float32).tobytes()
                    rec["embedding_model"] = self._embedder().model_id
                cur = self.db.conn.execute(
                    f"INSERT OR IGNORE INTO memories ({', '.join(rec)}) VALUES ({', '.join('?' * len(rec))})",
                    tuple(rec.values()),
                )
                if cur.rowcount == 0:  # lost a race to an equal record
                    dup = self._existing(rec)
                    results[i] = RememberResult(
                        id=dup or rec["id"], kind=rec["kind"], created=False, duplicate_of=dup
                    )
                    continue
                rowid = cur.lastrowid
                seen_batch[key] = rec["id"]
                if rec.get("supersedes"):
                    # chroma_synced = 0: the index gets the old record again, now marked superseded.
                    self.db.conn.execute(
                        "UPDATE memories SET superseded_by = ?, chroma_synced = 0 WHERE id = ? AND superseded_by IS NULL",
                        (rec["id"], rec["supersedes"]),
                    )
                    self._cache.dirty = True
                side = self._side_records(rec, items[i]["side"])
                if vec is not None:
                    self._cache.append(rowid, rec["id"], rec["scope"], vec)
                inserted.append((i, rec, vec))
                results[i] = RememberResult(
                    id=rec["id"],
                    kind=rec["kind"],
                    created=True,
                    linked_to=rec["linked_to"],
                    vector="stored" if vec is not None else "pending",
                    **side,
                )

        if todo or events:
            self._write(write)
        self._index([rec for _, rec, vec in inserted if vec is not None])
        for item, r in zip(items, results, strict=True):
            if r is None:
                continue
            r.notices = [*item.get("notices", ()), *r.notices]
            if self.warnings and r.created:
                r.warning = self.warnings[-1]
        return [r for r in results if r is not None]

    def _near_duplicate(self, scope: str, vec, rec: dict | None = None) -> str | None:
        import numpy as np

        mat = self._cache.scope_mats.get(scope)
        if mat is None or mat.n == 0:
            return None
        sims = mat.view() @ vec
        for best in np.argsort(-sims):
            if float(sims[best]) < NEAR_DUPLICATE:
                return None
            target = self._cache.scope_ids[scope][int(best)]
            row = self._q("SELECT linked_to, version, env FROM memories WHERE id = ?", (target,))
            if not row:
                continue
            # "Deployed api to prod: v1.4.2" and "...: v1.4.3" embed almost alike but are two
            # facts: a different version or environment is never a near-duplicate.
            if rec and any(rec.get(k) and row[0][k] and rec[k] != row[0][k] for k in ("version", "env")):
                continue
            # Link to the original, never to another near-duplicate.
            return row[0]["linked_to"] or target
        return None

    def _side_records(self, rec: dict, side: dict) -> dict:
        out: dict[str, Any] = {"notices": []}
        if "deployment" in side and rec["service"] and rec["env"] and rec["version"]:
            d = side["deployment"] or {}
            fields = {
                k: d.get(k) for k in ("commit", "strategy", "status", "finished", "rolled_back_from", "by")
            }
            if not d.get("_imported") and not fields["rolled_back_from"]:
                fields["rolled_back_from"] = self._rollback_of(rec["service"], rec["env"], rec["version"])
                if fields["rolled_back_from"]:
                    out["notices"].append(
                        f"recorded as a rollback of {rec['service']} in {rec['env']} from "
                        f"{fields['rolled_back_from']} to {rec['version']} (an earlier version redeployed)"
                    )
            out["deployment"] = self._insert_deployment(
                service=rec["service"],
                env=rec["env"],
                version=rec["version"],
                memory_id=rec["id"],
                started=d.get("started") or rec["created_at"],
                notes=d.get("notes"),
                **fields,
            )
        if "incident" in side:
            d = side["incident"] or {}
            out["incident"] = self._upsert_incident_from_memory(rec, d)
        return out

    def _rollback_of(self, service: str, env: str, version: str) -> str | None:
        """The live version when ``version`` is an earlier one redeployed (a rollback), else None."""
        rows = self._q(
            "SELECT version, min(started_ts) AS first, min(rowid) AS seq FROM deployments WHERE service = ? COLLATE NOCASE "
            "AND env = ? AND retracted_at IS NULL AND status = 'succeeded' GROUP BY version",
            (service, env_name(env)),
        )
        live = self._q(
            "SELECT version FROM deployments WHERE service = ? COLLATE NOCASE AND env = ? "
            "AND retracted_at IS NULL AND status = 'succeeded' ORDER BY started_ts DESC, rowid DESC LIMIT 1",
            (service, env_name(env)),
        )
        first = {r["version"]: (r["first"], r["seq"]) for r in rows}
        if not live or live[0]["version"] == version or version not in first:
            return None
        # Going back to a version first shipped before the live one is a rollback; redeploying
        # a later one (the fix of a version rolled back earlier) is not.
        current = live[0]["version"]
        return current if first[version] < first[current] else None

    def _index(self, recs: list[dict], *, wait: bool = False) -> None:
        """Push stored vectors to chroma; on failure they stay pending for ``reindex``.

        Local folder: group commit. Whoever holds the folder lock pushes every pending row, of
        any process, and keeps going while others add more. A writer that finds the lock busy
        does not queue behind it: its rows are picked up by the holder, and ``close()`` makes a
        final, waiting push of anything still pending, so the index is whole once writers exit.
        """
        if not recs and not wait:
            return

        def push_pending() -> None:
            for _ in range(50):
                rows = self._q(
                    "SELECT * FROM memories WHERE chroma_synced = 0 AND deleted_at IS NULL "
                    "AND embedding IS NOT NULL LIMIT 2000"
                )
                if not rows:
                    return
                self._push(rows, locked=True)

        try:
            if self.index.mode == "local":
                try:
                    with self.index.write_lock(timeout=120 if wait else 0):
                        push_pending()
                    self._sync_owed = False
                except LockBusy:
                    self._sync_owed = True
            else:
                # The server serialises writers itself; rows left pending while it was down go too.
                push_pending()
        except (StorageError, DevopsError) as exc:
            self._warn(f"vector index unavailable, kept pending for `reindex`: {exc}")

    def _push(self, recs: list[dict], *, locked: bool = False) -> None:
        self.index.upsert(
            [r["id"] for r in recs],
            [list(memoryview(r["embedding"]).cast("f")) for r in recs],
            [r["text"] for r in recs],
            [metadata_for(r) for r in recs],
            locked=locked,
        )
        ids = [r["id"] for r in recs]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            self._write(
                lambda chunk=chunk: self.db.conn.execute(
                    f"UPDATE memories SET chroma_synced = 1 WHERE id IN ({','.join('?' * len(chunk))})", chunk
                )
            )

    # ----------------------------------------------------------------- spool (never lose a record)
    def _spool_path(self) -> Path:
        return self.path.parent / "memory-spool.jsonl"

    def _spool(self, prepared: dict) -> None:
        try:
            spool_dir_record(self.path.parent, prepared)
        except OSError:
            pass

    def _replay_spool(self) -> None:
        path = self._spool_path()
        if not path.is_file():
            return
        from filelock import FileLock, Timeout

        try:
            with FileLock(str(path) + ".lock", timeout=5):
                if not path.is_file():
                    return
                items = []
                for line in path.read_text(encoding="utf-8").splitlines():
                    try:
                        items.append(json.loads(line))
                    except ValueError:
                        continue
                if items:
                    self._store(items)
                path.unlink()
        except (Timeout, StorageError, OSError):
            return

    # ----------------------------------------------------------------- reading
    def get(self, memory_id: str) -> MemoryRecord:
        rows = self._q(f"SELECT {MEMORY_COLUMNS} FROM memories WHERE id = ?", (memory_id,))
        if not rows:
            raise NotFoundError(f"no memory with id {memory_id!r}")
        return self._record(rows[0])

    def _filters(
        self,
        *,
        kind=None,
        service=None,
        env=None,
        since=None,
        until=None,
        tags=(),
        include_deleted=False,
        include_superseded=False,
        alias="m",
    ) -> tuple[str, list]:
        where, params = [], []
        if not include_deleted:
            where.append(f"{alias}.deleted_at IS NULL")
        if not include_superseded:
            where.append(f"{alias}.superseded_by IS NULL")
        if kind:
            if kind not in KINDS:
                raise UsageError(f"unknown kind {kind!r}", hint=f"one of {', '.join(KINDS)}")
            where.append(f"{alias}.kind = ?")
            params.append(kind)
        if service:
            where.append(f"{alias}.service = ? COLLATE NOCASE")
            params.append(service)
        if env:
            where.append(f"{alias}.env = ?")
            params.append(env_name(env))
        if since:
            where.append(f"{alias}.created_ts >= ?")
            params.append(_when(since).timestamp())
        if until:
            where.append(f"{alias}.created_ts <= ?")
            params.append(_when(until).timestamp())
        for tag in tags or ():
            where.append(f"EXISTS (SELECT 1 FROM json_each({alias}.tags) WHERE value = ?)")
            params.append(tag)
        return (" AND ".join(where) or "1"), params

    def list(
        self,
        *,
        kind=None,
        service=None,
        env=None,
        since=None,
        until=None,
        tags=(),
        limit: int = 50,
        include_deleted: bool = False,
    ) -> list[MemoryRecord]:
        where, params = self._filters(
            kind=kind,
            service=service,
            env=env,
            since=since,
            until=until,
            tags=tags,
            include_deleted=include_deleted,
            include_superseded=include_deleted,
        )
        rows = self._q(
            f"SELECT {MEMORY_COLUMNS} FROM memories m WHERE {where} ORDER BY created_ts DESC, rowid DESC LIMIT ?",
            [*params, int(limit)],
        )
        return [self._record(r) for r in rows]

    # ----------------------------------------------------------------- recall
    def recall(
        self,
        query: str,
        *,
        kind=None,
        service=None,
        env=None,
        since=None,
        until=None,
        tags=(),
        limit: int = 10,
        mode: str = "hybrid",
    ) -> list[RecallHit]:
        """Hybrid recall. ``mode`` = hybrid | lexical | vector (the last two for evaluation and debugging)."""
        import numpy as np

        if mode not in ("hybrid", "lexical", "vector"):
            raise UsageError(f"unknown recall mode {mode!r}")
        if limit < 1:
            raise UsageError("limit must be at least 1")
        filters = dict(kind=kind, service=service, env=env, since=since, until=until, tags=tags)
        where, params = self._filters(**filters)
        query = (query or "").strip()
        if not query:
            return [
                RecallHit(memory=r, score=0.0, parts={"reason": "no query: newest first"})
                for r in self.list(**filters, limit=limit)
            ]
        n_cand = max(S.CANDIDATES, limit * 3)
        # The hybrid reads on-call shorthand too (5xx, OOMKilled, db); the single-method
        # baselines see the query as typed.
        expanded = S.normalize_query(query) if mode == "hybrid" else query
        terms = S.query_terms(expanded if S.EXPAND_LEXICAL else query)

        default_where = where == "m.deleted_at IS NULL AND m.superseded_by IS NULL"
        allowed = None
        if not default_where:
            allowed = np.array(
                [
                    r["rowid"]
                    for r in self._q(f"SELECT m.rowid AS rowid FROM memories m WHERE {where}", params)
                ],
                dtype=np.int64,
            )

        lex: dict[int, dict] = {}
        cov_arr = None
        if mode == "lexical" and terms:
            # The lexical baseline: FTS5 over the ORed, quoted terms ranked by BM25, filters in SQL.
            rows = self._q(
                f"SELECT m.rowid AS rowid, bm25(memories_fts, 1.0, 2.0, 2.0, 1.0) AS bm25 FROM memories_fts "
                f"JOIN memories m ON m.rowid = memories_fts.rowid WHERE memories_fts MATCH ? AND {where} "
                f"ORDER BY bm25 LIMIT ?",
                [S.fts_query(query), *params, n_cand],
            )
            for rank, r in enumerate(rows, 1):
                lex[r["rowid"]] = {"lex_rank": rank, "bm25": -r["bm25"]}
        elif mode == "hybrid" and terms:
            # Lexical candidates of the hybrid: the memories with the highest coverage (see search.py).
            cov_arr = self._coverage_all(terms)
            if cov_arr is not None:
                ranked = cov_arr.copy()
                if allowed is not None:
                    keep = np.zeros(len(ranked), dtype=bool)
                    keep[allowed[allowed < len(ranked)]] = True
                    ranked[~keep] = 0.0
                nonzero = np.flatnonzero(ranked)
                if len(nonzero):
                    k = min(len(nonzero), n_cand * 2)  # some may be forgotten/superseded (dropped below)
                    top = nonzero[np.argpartition(-ranked[nonzero], k - 1)[:k]]
                    top = top[np.argsort(-ranked[top], kind="stable")]
                    for rank, rowid in enumerate(top, 1):
                        lex[int(rowid)] = {"lex_rank": rank}

        # Vector candidates.
        vec: dict[int, dict] = {}
        sims_by_rowid: dict[int, float] = {}
        remote: dict[str, dict] = {}
        qvec = None
        if mode != "lexical":
            blend = S.EXPAND_VECTOR and expanded != query
            qv = self._embed([query, expanded] if blend else [query])
            if qv is None:
                self._warn("recall fell back to lexical search (embedding model unavailable)")
            else:
                qvec = S.blend_query_vectors(qv[0], qv[1] if blend else None)
        if qvec is not None and self.team_mode:
            try:
                remote = self._remote_candidates(qvec, n_cand, filters)
            except StorageError as exc:
                self._warn(f"chroma server unavailable, recall used local data only: {exc}")
        if qvec is not None:
            cache = self._cache
            with self._lock:
                cache.ensure(self.db)
            if len(cache.ids):
                sims = cache.matrix @ qvec
                if allowed is not None:
                    mask = np.isin(cache.rowids, allowed)
                    sims = np.where(mask, sims, -2.0)
                k = min(n_cand, len(sims))
                top = np.argpartition(-sims, k - 1)[:k]
                top = top[np.argsort(-sims[top])]
                rank = 0
                for i in top:
                    if sims[i] <= -2.0:
                        break
                    rank += 1
                    vec[int(cache.rowids[i])] = {"vec_rank": rank, "cosine": float(sims[i])}
                for rowid in lex:
                    if rowid in cache.pos:
                        sims_by_rowid[rowid] = float(sims[cache.pos[rowid]])

        cand_rowids = set(lex) | set(vec)
        rows = []
        if cand_rowids:
            marks = ",".join("?" * len(cand_rowids))
            rows = self._q(
                f"SELECT {MEMORY_COLUMNS} FROM memories m WHERE m.rowid IN ({marks}) AND {where}",
                [*cand_rowids, *params],
            )
        local_ids = {r["id"] for r in rows}
        covs = (
            {r["rowid"]: float(cov_arr[r["rowid"]]) for r in rows if r["rowid"] < len(cov_arr)}
            if cov_arr is not None
            else {}
        )
        now = _now().timestamp()
        # Score on plain values first; build models only for what can be returned.
        scored: list[tuple[float, Any, dict]] = []
        for row in rows:
            rid = row["rowid"]
            p: dict[str, Any] = {}
            p.update(lex.get(rid, {}))
            p.update(vec.get(rid, {}))
            if "cosine" not in p and rid in sims_by_rowid:
                p["cosine"] = sims_by_rowid[rid]
            if row["id"] in remote and "cosine" not in p:
                p["cosine"] = remote[row["id"]]["similarity"]
            resolved = row["kind"] == "incident" and bool(loads(row["metadata"], {}).get("resolution"))
            score = S.score(
                row["kind"], row["importance"], resolved, row["created_ts"], p, covs.get(rid, 0.0), mode, now
            )
            scored.append((score, row, p))
        for mid, r in remote.items():
            if mid in local_ids:
                continue
            if (r.get("metadata") or {}).get("superseded_by"):
                continue
            rec = _record_from_chroma(mid, r)
            if rec is None or (tags and not set(tags) <= set(rec.tags)):
                continue
            cov = S.coverage_text(terms, rec.text) if mode == "hybrid" else 0.0
            p = {"cosine": r["similarity"], "vec_rank": r["rank"], "origin": "chroma-server"}
            score = S.score(rec.kind, rec.importance, False, _ts(rec.created_at) or now, p, cov, mode, now)
            scored.append((score, rec, p))
        scored.sort(key=lambda t: -t[0])
        hits = [
            RecallHit(
                memory=item if isinstance(item, MemoryRecord) else self._record(item),
                score=round(float(score), 6),
                parts={k: (round(v, 4) if isinstance(v, float) else v) for k, v in p.items()},
            )
            for score, item, p in scored[: limit * 3 + 10]
        ]
        hits = S.fold_links(hits)[:limit]
        if mode == "hybrid":
            for h in hits:
                h.parts["strong"] = S.is_strong(h.parts)
        return hits

    def _coverage_all(self, terms: list[str]):
        """Coverage of every memory, as an array indexed by rowid (see search.py), or None.

        One FTS5 lookup per term gives both its document frequency and the memories holding it.
        """
        import numpy as np

        top = self._q("SELECT max(rowid) AS top, count(*) AS n FROM memories")[0]
        if not top["top"]:
            return None
        n = top["n"] or 1
        acc = np.zeros(top["top"] + 1, dtype=np.float64)
        total = 0.0
        for term in terms:
            try:
                with self._lock:
                    hits = self.db.conn.execute(
                        "SELECT rowid FROM memories_fts WHERE memories_fts MATCH ?", (S.fts_phrase(term),)
                    ).fetchall()
            except sqlite3.Error as exc:
                raise storage_error(self.path, exc) from exc
            # A term no memory contains still counts in the total: the query asked for it and no
            # candidate has it, which keeps one shared common word from reading as a full match.
            weight = S.idf(len(hits), n)
            total += weight
            if hits:
                idx = np.fromiter((h[0] for h in hits), dtype=np.int64, count=len(hits))
                acc[idx[idx < len(acc)]] += weight
        if total <= 0:
            return None
        return acc / total

    def _remote_candidates(self, qvec, n: int, filters: dict) -> dict[str, dict]:
        since = _when(filters.get("since"))
        until = _when(filters.get("until"))
        where = where_for(
            kind=filters.get("kind"),
            service=filters.get("service"),
            env=env_name(filters.get("env")),
            since_ts=since.timestamp() if since else None,
            until_ts=until.timestamp() if until else None,
        )
        rows = self.index.query(qvec.tolist(), n, where=where)
        out = {}
        for rank, r in enumerate(rows, 1):
            r["rank"] = rank
            out[r["id"]] = r
        return out

    # ----------------------------------------------------------------- forget
    def forget(self, memory_id: str, *, hard: bool = False, reason: str | None = None) -> dict:
        rows = self._q("SELECT id, deleted_at FROM memories WHERE id = ?", (memory_id,))
        if not rows:
            raise NotFoundError(f"no memory with id {memory_id!r}")

        def write() -> None:
            if hard:
                # secure_delete zeroes the freed cells and pages; the FTS5 merge drops the
                # text's postings from older segments, so no byte of it stays in the file.
                self.db.conn.execute("PRAGMA secure_delete = ON")
                try:
                    self.db.conn.execute("DELETE FROM memories WHERE id = ?", (memory_id,))
                    # The deployment/incident facts stay (history, last good version), but no
                    # longer point at the erased text, and a deployment's notes came from it.
                    self.db.conn.execute(
                        "UPDATE deployments SET memory_id = NULL, notes = NULL WHERE memory_id = ?",
                        (memory_id,),
                    )
                    self.db.conn.execute(
                        "UPDATE incidents SET memory_id = NULL WHERE memory_id = ?", (memory_id,)
                    )
                    self.db.conn.execute("INSERT INTO memories_fts(memories_fts) VALUES('optimize')")
                finally:
                    self.db.conn.execute("PRAGMA secure_delete = OFF")
            else:
                self.db.conn.execute(
                    "UPDATE memories SET deleted_at = COALESCE(deleted_at, ?), deleted_reason = ? WHERE id = ?",
                    (iso(_now()), reason, memory_id),
                )
            self._audit("forget-hard" if hard else "forget", memory_id, {"reason": reason})
            if not hard:
                # Forgetting a deployment memory says the deployment was wrong: retract what it
                # recorded, so lists and last-good stop counting it.
                self._retract("memory_id = ?", (memory_id,), reason or f"memory {memory_id} forgotten")

        self._write(write)
        self._cache.dirty = True
        if hard:
            # The old page images stay in the WAL until a checkpoint.
            with suppress(sqlite3.Error):
                self.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        index = "removed"
        try:
            self.index.delete([memory_id])
        except StorageError as exc:
            index = f"not removed ({exc}); run reindex"
            self._warn(f"vector index: {index}")
        else:
            if hard:
                try:
                    self.index.scrub([memory_id])
                except StorageError as exc:
                    # Deleted from the index, but chroma's file may still hold old bytes (busy).
                    index = f"removed, not scrubbed ({exc}); `memory.py reindex` vacuums it later"
                    self._warn(f"vector index: {index}")
        return {"id": memory_id, "forgotten": True, "hard": hard, "index": index}

    # ----------------------------------------------------------------- deployments
    def _insert_deployment(self, **fields: Any) -> Deployment:
        status = fields.get("status") or "succeeded"
        if status not in DEPLOY_STATUSES:
            raise UsageError(f"unknown deployment status {status!r}", hint=", ".join(DEPLOY_STATUSES))
        started = _when(fields.get("started")) or _now()
        finished = _when(fields.get("finished"))
        dep = {
            "id": fields.get("id") or new_id("dep"),
            "service": fields["service"],
            "env": env_name(fields["env"]),
            "version": fields["version"],
            "commit": fields.get("commit"),
            "strategy": fields.get("strategy"),
            "status": status,
            "started": iso(started),
            "started_ts": started.timestamp(),
            "finished": iso(finished) if finished else None,
            "rolled_back_from": fields.get("rolled_back_from"),
            "by": fields.get("by"),
            "notes": fields.get("notes"),
            "memory_id": fields.get("memory_id"),
            "created_at": iso(_now()),
        }
        # Every free-form field, not only notes: a token pasted as --by or --commit is as leaked.
        for key in ("service", "env", "version", "commit", "strategy", "rolled_back_from", "by", "notes"):
            if isinstance(dep[key], str):
                dep[key] = redact(dep[key])
        self.db.conn.execute(
            f"INSERT INTO deployments ({', '.join(chr(34) + k + chr(34) for k in dep)}) "
            f"VALUES ({', '.join('?' * len(dep))})",
            tuple(dep.values()),
        )
        dep.pop("started_ts")
        return Deployment(**dep)

    def record_deployment(
        self,
        service: str,
        env: str,
        version: str,
        *,
        commit=None,
        strategy=None,
        status: str = "succeeded",
        started=None,
        finished=None,
        rolled_back_from=None,
        by=None,
        notes=None,
    ) -> Deployment:
        """Record a deployment (and a deployment memory, so it is recalled and triaged)."""
        for name, value in (("service", service), ("env", env), ("version", version)):
            if not value or not str(value).strip():
                raise UsageError(f"deployment needs a {name}")
        if status not in DEPLOY_STATUSES:
            raise UsageError(f"unknown deployment status {status!r}", hint=", ".join(DEPLOY_STATUSES))
        deployment = {
            "commit": commit,
            "strategy": strategy,
            "status": status,
            "started": started,
            "finished": finished,
            "rolled_back_from": rolled_back_from,
            "by": by,
            "notes": notes,
        }
        text = f"[devops] Deployed {service} to {env}: {version}"
        if status != "succeeded":
            text += f" ({status}{', rolled back from ' + rolled_back_from if rolled_back_from else ''})"
        if notes:
            text += f" - {notes}"
        prepared = self._prepare(
            text,
            kind="deployment",
            service=service,
            env=env,
            version=version,
            importance=0.6 if status == "succeeded" else 0.8,
            source="deployments",
            metadata={"status": status, "commit": commit, "strategy": strategy},
            created_at=started,
            extra={"deployment": deployment},
        )
        try:
            res = self._store([prepared])[0]
        except StorageError as exc:
            # A deployment that happened is a fact: keep it like any memory (stored on the next run).
            self._spool(prepared)
            raise StorageError(
                f"{exc.message}; the deployment was kept in {self._spool_path()} and is stored on the next run",
                hint=exc.hint,
            ) from exc
        if res.deployment is not None:
            return res.deployment
        # Same text already remembered (e.g. the protocol line came first): record the deploy itself anyway.
        return self._write(
            lambda: self._insert_deployment(
                service=service, env=env, version=version, memory_id=res.id, **deployment
            )
        )

    def deployments(
        self, service=None, env=None, since=None, limit: int = 50, include_retracted: bool = False
    ) -> list[Deployment]:
        where, params = ["1" if include_retracted else "retracted_at IS NULL"], []
        if service:
            where.append("service = ? COLLATE NOCASE")
            params.append(service)
        if env:
            where.append("env = ?")
            params.append(env_name(env))
        if since:
            where.append("started_ts >= ?")
            params.append(_when(since).timestamp())
        rows = self._q(
            f"SELECT * FROM deployments WHERE {' AND '.join(where)} ORDER BY started_ts DESC, rowid DESC LIMIT ?",
            [*params, int(limit)],
        )
        return [self._deployment(r) for r in rows]

    def last_good_version(self, service: str, env: str, before_version: str | None = None) -> str | None:
        """The newest succeeded deployment of service/env that was not rolled back afterwards."""
        rows = self._q(
            "SELECT version, status, rolled_back_from, started_ts FROM deployments "
            "WHERE service = ? COLLATE NOCASE AND env = ? AND retracted_at IS NULL "
            "ORDER BY started_ts DESC, rowid DESC",
            (service, env_name(env)),
        )
        bad = {r["version"] for r in rows if r["status"] in ("failed", "rolled_back")}
        bad |= {r["rolled_back_from"] for r in rows if r["rolled_back_from"]}
        skipping = before_version is not None
        for r in rows:
            if skipping:
                if r["version"] == before_version:
                    skipping = False
                continue
            if r["status"] == "succeeded" and r["version"] not in bad and r["version"] != before_version:
                return r["version"]
        if skipping:  # before_version never deployed here: answer from the whole history
            return self.last_good_version(service, env)
        return None

    def retract_deployment(self, deployment_id: str, *, reason: str | None = None) -> Deployment:
        """Mark a deployment recorded by mistake as retracted (audited; the row is kept)."""
        rows = self._q("SELECT * FROM deployments WHERE id = ?", (deployment_id,))
        if not rows:
            raise NotFoundError(f"no deployment with id {deployment_id!r}", hint="`deployments list --all`")
        if rows[0]["retracted_at"]:
            raise UsageError(f"deployment {deployment_id} was already retracted at {rows[0]['retracted_at']}")
        self._write(lambda: self._retract("id = ?", (deployment_id,), reason))
        return self._deployment(self._q("SELECT * FROM deployments WHERE id = ?", (deployment_id,))[0])

    def _retract(self, where: str, params: tuple, reason: str | None) -> None:
        now = iso(_now())
        for row in self._q(f"SELECT id FROM deployments WHERE {where} AND retracted_at IS NULL", params):
            self.db.conn.execute(
                "UPDATE deployments SET retracted_at = ?, retracted_reason = ? WHERE id = ?",
                (now, redact(reason) if reason else None, row["id"]),
            )
            self._audit("retract-deployment", row["id"], {"reason": reason})

    @staticmethod
    def _deployment(row: dict) -> Deployment:
        return Deployment(**{k: v for k, v in row.items() if k != "started_ts"})

    # ----------------------------------------------------------------- incidents
    def _incident_row(self, incident_id: str) -> dict | None:
        rows = self._q("SELECT * FROM incidents WHERE id = ?", (incident_id,))
        return rows[0] if rows else None

    def _next_incident_id(self) -> str:
        # People number incidents INC-1, INC-42 ...; a generated id carries the date and a random
        # suffix, a form nobody types by hand, so it cannot take a number someone will use later.
        day = _now().strftime("%Y%m%d")
        while True:
            iid = f"INC-{day}-{uuid.uuid4().hex[:4]}"
            if not self._incident_row(iid):
                return iid

    def _check_incident_line(self, prepared: dict) -> None:
        """Refuse a protocol line that names an existing incident but is about something else.

        Also fills in the service: the incident's own for an update, else ``service=`` in the line,
        else a known service (one with deployments or incidents) the text names.
        """
        rec, d = prepared["rec"], (prepared["side"].get("incident") or {})
        if d.get("_imported"):
            return
        existing = self._incident_row(d["id"]) if d.get("id") else None
        if existing is not None:
            line_terms = _content_terms(" ".join(filter(None, (d.get("summary"), rec["service"]))))
            known = " ".join(
                filter(
                    None,
                    [existing[k] for k in ("title", "summary", "root_cause", "resolution", "service")]
                    + [
                        r["text"]
                        for r in self._q(
                            "SELECT text FROM memories WHERE json_extract(metadata, '$.incident_id') = ?",
                            (d["id"],),
                        )
                    ],
                )
            )
            if line_terms and not line_terms & _content_terms(known):
                raise UsageError(
                    f"incident {d['id']} already exists and is about something else "
                    f"({existing['title']!r}); nothing was changed",
                    hint=f"to update it, name what it is about or use `incidents update {d['id']}`; "
                    "for a new incident use another id",
                )
            if not rec["service"] and existing["service"]:
                self._set_service(prepared, existing["service"], None)
            return
        if rec["service"]:
            return
        services = self._known_services_in(rec["text"])
        if len(services) == 1:
            self._set_service(
                prepared, services[0], f"service {services[0]} inferred from the text (a known service)"
            )
        elif len(services) > 1:
            prepared["notices"].append(
                f"no service recorded: the text names several known services ({', '.join(services)}); "
                "add service=NAME to the line"
            )
        else:
            prepared["notices"].append(
                "no service recorded: the text names no known service; add service=NAME to the line"
            )

    @staticmethod
    def _set_service(prepared: dict, service: str, notice: str | None) -> None:
        prepared["rec"]["service"] = service
        prepared["rec"]["scope"] = scope_of(prepared["rec"]["kind"], service)
        if notice:
            prepared["notices"].append(notice)

    def _known_services_in(self, text: str) -> list[str]:
        known = {
            r["service"].casefold(): r["service"]
            for r in self._q(
                "SELECT DISTINCT service FROM deployments WHERE retracted_at IS NULL "
                "UNION SELECT DISTINCT service FROM incidents WHERE service IS NOT NULL"
            )
            if r["service"]
        }
        words = {w.casefold() for w in S.query_terms(text)}
        found = sorted({known[w] for w in words if w in known})
        # "payments-api" also names "payments" when both are known: keep the most specific.
        return [f for f in found if not any(o != f and f.casefold() in o.casefold() for o in found)]

    def _upsert_incident_from_memory(self, rec: dict, d: dict) -> Incident:
        iid = d.get("id") or self._next_incident_id()
        existing = self._incident_row(iid)
        if existing is not None and d.get("_imported"):
            # An exported incident snapshot never rewrites an incident this home already has.
            return self._incident(existing)
        now = iso(_now())
        if existing is None:
            inc = {
                "id": iid,
                "title": d.get("title") or d.get("summary") or rec["text"][:120],
                "severity": d.get("severity") or "SEV3",
                "service": rec["service"],
                "status": d.get("status") or ("resolved" if d.get("resolution") else "open"),
                "started": d.get("started") or rec["created_at"],
                "started_ts": _ts(d.get("started")) or rec["created_ts"],
                "resolved": d.get("resolved") or (now if d.get("resolution") else None),
                "summary": d.get("summary"),
                "root_cause": d.get("root_cause"),
                "resolution": d.get("resolution"),
                "memory_id": rec["id"],
                "updated_at": now,
            }
            self.db.conn.execute(
                f"INSERT INTO incidents ({', '.join(inc)}) VALUES ({', '.join('?' * len(inc))})",
                tuple(inc.values()),
            )
            self._incident_event(iid, {"opened": {k: v for k, v in inc.items() if v is not None}})
        else:
            change = {k: v for k, v in d.items() if k in ("summary", "resolution", "root_cause") and v}
            if rec["service"] and not existing["service"]:
                change["service"] = rec["service"]
            if change.get("resolution"):
                change.setdefault("status", "resolved")
                change["resolved"] = now
            change["memory_id"] = rec["id"]
            self._apply_incident_change(iid, change)
        if rec["kind"] == "incident":
            meta = loads(rec["metadata"], {})
            meta.setdefault("incident_id", iid)
            if not d.get("_imported"):
                # An exported incident's memory already carries its metadata as it was.
                meta.update({"incident_id": iid, "resolution": d.get("resolution")})
            meta = {k: v for k, v in meta.items() if v is not None}
            rec["metadata"] = dumps(meta)
            self.db.conn.execute(
                "UPDATE memories SET metadata = ? WHERE id = ?", (rec["metadata"], rec["id"])
            )
        return self._incident(self._incident_row(iid))

    @staticmethod
    def _incident(row: dict) -> Incident:
        return Incident(**{k: v for k, v in row.items() if k != "started_ts"})

    def _incident_event(self, iid: str, change: dict) -> None:
        self.db.conn.execute(
            "INSERT INTO incident_events(incident_id, at, change) VALUES (?, ?, ?)",
            (iid, iso(_now()), dumps(change)),
        )

    def _apply_incident_change(self, iid: str, change: dict) -> None:
        cols = ", ".join(f"{k} = ?" for k in change)
        self.db.conn.execute(
            f"UPDATE incidents SET {cols}, updated_at = ? WHERE id = ?", (*change.values(), iso(_now()), iid)
        )
        self._incident_event(iid, change)

    def open_incident(
        self, title: str, *, severity: str = "SEV3", service=None, summary=None, id=None, started=None
    ) -> Incident:  # noqa: A002
        if not title or not title.strip():
            raise UsageError("an incident needs a title")
        severity = (severity or "SEV3").upper()
        if severity not in SEVERITIES:
            raise UsageError(f"unknown severity {severity!r}", hint=", ".join(SEVERITIES))
        if id and self._incident_row(id):
            raise UsageError(f"incident {id} already exists", hint="use `incidents update`")
        iid = id or self._next_incident_id()
        text = f"Incident {iid} ({severity}): {redact(title.strip())}"
        if summary:
            text += f". {summary}"
        prepared = self._prepare(
            text,
            kind="incident",
            service=service,
            importance=0.9 if severity in ("SEV1", "SEV2") else 0.7,
            source="incidents",
            metadata={"severity": severity},
            created_at=started,
            extra={
                "incident": {
                    "id": iid,
                    "title": redact(title.strip()),
                    "severity": severity,
                    "summary": redact(summary) if summary else None,
                    "started": started,
                }
            },
        )
        res = self._store([prepared])[0]
        if res.incident is None:
            raise UsageError(f"the same incident text is already remembered as {res.duplicate_of}")
        return res.incident

    def get_incident(self, incident_id: str) -> Incident:
        row = self._incident_row(incident_id)
        if not row:
            raise NotFoundError(f"no incident {incident_id!r}")
        return self._incident(row)

    def update_incident(self, id: str, **fields: Any) -> Incident:  # noqa: A002
        allowed = {"title", "severity", "service", "status", "summary", "root_cause", "resolution"}
        unknown = set(fields) - allowed
        if unknown:
            raise UsageError(f"cannot update incident field(s): {', '.join(sorted(unknown))}")
        self.get_incident(id)
        change = {k: redact(str(v)) for k, v in fields.items() if v is not None}
        if "severity" in change:
            change["severity"] = change["severity"].upper()
            if change["severity"] not in SEVERITIES:
                raise UsageError(f"unknown severity {change['severity']!r}")
        if "status" in change and change["status"] not in ("open", "mitigated", "resolved"):
            raise UsageError(
                f"unknown incident status {change['status']!r}", hint="open, mitigated, resolved"
            )
        if not change:
            return self.get_incident(id)
        self._write(lambda: self._apply_incident_change(id, change))
        # The change itself is remembered, so recall and triage see the incident's history.
        text = f"Incident {id} update: " + "; ".join(f"{k}={v}" for k, v in change.items())
        inc = self.get_incident(id)
        self.remember(
            text, kind="incident", service=inc.service, source="incidents", metadata={"incident_id": id}
        )
        return self.get_incident(id)

    def resolve_incident(self, id: str, *, resolution: str, root_cause: str | None = None) -> Incident:  # noqa: A002
        if not resolution or not resolution.strip():
            raise UsageError("resolving an incident needs a resolution")
        inc = self.get_incident(id)
        change = {"status": "resolved", "resolved": iso(_now()), "resolution": redact(resolution.strip())}
        if root_cause:
            change["root_cause"] = redact(root_cause)
        self._write(lambda: self._apply_incident_change(id, change))
        text = f"Incident {id} resolved: {inc.title}. Resolution: {change['resolution']}"
        if root_cause:
            text += f". Root cause: {change['root_cause']}"
        self.remember(
            text,
            kind="resolution",
            service=inc.service,
            importance=0.9,
            source="incidents",
            metadata={"incident_id": id, "resolution": change["resolution"]},
        )
        return self.get_incident(id)

    def incidents(self, status=None, service=None, limit: int = 50) -> list[Incident]:
        where, params = ["1"], []
        if status:
            where.append("status = ?")
            params.append(status)
        if service:
            where.append("service = ? COLLATE NOCASE")
            params.append(service)
        rows = self._q(
            f"SELECT * FROM incidents WHERE {' AND '.join(where)} ORDER BY started_ts DESC, rowid DESC LIMIT ?",
            [*params, int(limit)],
        )
        return [self._incident(r) for r in rows]

    # ----------------------------------------------------------------- triage
    def triage(self, symptom: str, *, service=None, window: str = "24h", limit: int = 5) -> TriageReport:
        """Service and time window first (SQL), then similarity: what changed, what helped before."""
        if not symptom or not symptom.strip():
            raise UsageError("triage needs a symptom")
        span = parse_duration(window)
        since_dt = _now() - span
        since = iso(since_dt)
        self.warnings = []
        recent_deploys = self.deployments(service=service, since=since, limit=50)
        recent_changes = [
            m
            for m in self.list(service=service, since=since, limit=50)
            if m.kind in ("deployment", "ci_failure", "note")
        ]
        ranked, no_match = self._similar_incidents(symptom, service, limit)
        last_good = None
        if service:
            envs = [d.env for d in recent_deploys] or [
                d.env for d in self.deployments(service=service, limit=1)
            ]
            if envs:
                current = self.deployments(service=service, env=envs[0], limit=1)
                newest = current[0] if current else None
                before = newest.version if newest and newest.started >= since else None
                last_good = self.last_good_version(service, envs[0], before_version=before)
        suggestion = _suggest(service, recent_deploys, ranked, last_good, window, no_match)
        return TriageReport(
            symptom=redact(symptom),
            service=service,
            window=window,
            since=since,
            similar_incidents=ranked,
            recent_deploys=recent_deploys,
            recent_changes=recent_changes,
            last_good_version=last_good,
            suggestion=suggestion,
            no_strong_match=no_match,
            warnings=list(self.warnings),
        )

    def _similar_incidents(
        self, symptom: str, service, limit: int
    ) -> tuple[list[SimilarIncident], str | None]:
        """Past incidents that match strongly: the service's own first, then other services' only
        above the stronger threshold, labelled; never padded with weak matches."""

        def same(m: MemoryRecord) -> bool:
            return bool(service and m.service and m.service.casefold() == service.casefold())

        pool = self.recall(symptom, service=service, limit=limit * 4) if service else []
        seen = {h.memory.id for h in pool}
        pool += [h for h in self.recall(symptom, limit=limit * 6) if h.memory.id not in seen]
        similar: dict[str, SimilarIncident] = {}
        best = 0.0
        for h in pool:
            m = h.memory
            if m.kind not in ("incident", "resolution"):
                continue
            best = max(best, S.match_strength(h.parts))
            other = bool(service) and not same(m)
            if not S.is_strong(h.parts, other_service=other):
                continue
            iid = (m.metadata or {}).get("incident_id")
            inc = self._incident_row(iid) if iid else None
            key = iid or m.id
            inc_service = (inc or {}).get("service") or m.service
            if service and inc_service and inc_service.casefold() == service.casefold():
                match = "same service"
            elif service:
                match = "other service"
            else:
                match = "any service"
            resolution = (inc or {}).get("resolution") or (m.metadata or {}).get("resolution")
            score = h.score + (S.RESOLUTION_BONUS if resolution else 0.0)
            if key in similar and similar[key].score >= score:
                continue
            similar[key] = SimilarIncident(
                id=key,
                title=(inc or {}).get("title"),
                service=inc_service,
                status=(inc or {}).get("status"),
                severity=(inc or {}).get("severity"),
                started=(inc or {}).get("started") or m.created_at,
                resolution=resolution,
                root_cause=(inc or {}).get("root_cause"),
                text=m.text,
                score=round(score, 4),
                memory_id=m.id,
                relevance=round(S.match_strength(h.parts), 4),
                match=match,
            )
        ranked = sorted(similar.values(), key=lambda s: (s.match == "other service", -s.score))[:limit]
        no_match = None
        if not ranked:
            no_match = (
                f"no strong match among past incidents (best relevance {best:.2f}; a match needs "
                f"{S.MATCH_THRESHOLD:.2f}"
                + (f", {S.OTHER_SERVICE_THRESHOLD:.2f} on another service)" if service else ")")
            )
        return ranked, no_match

    # ----------------------------------------------------------------- import / export
    def import_jsonl(
        self, lines: Iterable[str], *, batch_size: int = 256, progress: Callable[[int], None] | None = None
    ) -> dict:
        """Import JSON Lines (``{"text": ...}`` or structured fields). Idempotent and resumable:
        each batch commits on its own, and records already present (same id or same content) are skipped."""
        stats = {"read": 0, "created": 0, "duplicates": 0, "errors": []}
        batch: list[dict] = []
        # Per record: what an export carries beyond the memory row (extra deployments of the same
        # line, forgotten and near-duplicate marks), applied once the record is stored.
        after: list[dict] = []

        def flush() -> None:
            if not batch:
                return
            results = self._store(batch)
            fixups = [(r, a) for r, a in zip(results, after, strict=True) if r.created and a]
            if fixups:
                self._write(lambda: self._import_fixups(fixups))
            for r in results:
                stats["created" if r.created else "duplicates"] += 1
            if progress:
                progress(len(batch))
            batch.clear()
            after.clear()

        restore_mem: list[dict] = []
        restore_rows: list[tuple[str, dict]] = []

        def flush_restore() -> None:
            if not restore_mem and not restore_rows:
                return
            res = self._restore(restore_mem, restore_rows)
            stats["created"] += res["created"]
            stats["duplicates"] += res["duplicates"]
            for table, k in res["restored"].items():
                stats.setdefault("restored", {}).setdefault(table, 0)
                stats["restored"][table] += k
            if progress:
                progress(len(restore_mem) + len(restore_rows))
            restore_mem.clear()
            restore_rows.clear()

        for lineno, line in enumerate(lines, 1):
            line = line.strip()
            if not line:
                continue
            stats["read"] += 1
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise ValueError("not a JSON object")
                if "record" in obj:
                    table, row = _restore_line(obj)
                    if table == "memories":
                        restore_mem.append(row)
                    else:
                        restore_rows.append((table, row))
                    if len(restore_mem) + len(restore_rows) >= batch_size:
                        flush()
                        flush_restore()
                    continue
                text = obj.get("text") or obj.get("summary") or obj.get("content")
                tags = obj.get("tags") or ()
                if isinstance(tags, str):
                    tags = [t for t in tags.split(",") if t]
                extra, later = _import_side(obj)
                prepared = self._prepare(
                    text,
                    kind=obj.get("kind"),
                    service=obj.get("service"),
                    env=obj.get("env"),
                    version=obj.get("version"),
                    tags=tags,
                    importance=obj.get("importance", 0.5),
                    source=obj.get("source") or "import",
                    metadata=obj.get("metadata") or None,
                    id=obj.get("id"),
                    created_at=obj.get("created_at"),
                    supersedes=obj.get("supersedes"),
                    extra=extra,
                )
                if "incident" in prepared["side"]:
                    self._check_incident_line(prepared)
                # Re-running an import finishes it without duplicates: a line already stored is
                # skipped with its event (unlike `remember`, where a repeated line is a new event).
                prepared["import"] = True
                batch.append(prepared)
                after.append(later)
            except (ValueError, TypeError, KeyError, DevopsError) as exc:
                stats["errors"].append(f"line {lineno}: {exc}")
                continue
            if len(batch) >= batch_size:
                flush_restore()
                flush()
        flush_restore()
        flush()
        if stats["created"] >= 1000:
            # Many small batches leave many FTS5 segments; one merge keeps term lookups cheap.
            self._write(
                lambda: self.db.conn.execute("INSERT INTO memories_fts(memories_fts) VALUES('optimize')")
            )
        stats["index"] = self.sync_index()
        return stats

    def _import_fixups(self, fixups: list) -> None:
        for res, later in fixups:
            for dep in later.get("deployments", ()):
                row = self._q("SELECT service, env, version FROM memories WHERE id = ?", (res.id,))[0]
                self._insert_deployment(**row, memory_id=res.id, **dep)
            if later.get("linked_to") and self._q(
                "SELECT 1 FROM memories WHERE id = ?", (later["linked_to"],)
            ):
                self.db.conn.execute(
                    "UPDATE memories SET linked_to = ? WHERE id = ?", (later["linked_to"], res.id)
                )
            if later.get("deleted_at"):
                self.db.conn.execute(
                    "UPDATE memories SET deleted_at = ?, deleted_reason = ? WHERE id = ?",
                    (later["deleted_at"], later.get("deleted_reason") or "imported as forgotten", res.id),
                )
                self._audit("forget", res.id, {"reason": "imported as forgotten"})
        self._cache.dirty = True

    def export_jsonl(self, out: IO[str], *, include_deleted: bool = False) -> int:
        """Write every memory (``record: memory``), then every row of the other tables.

        A memory line is also a plain import line (``text``, ``kind``, ``service`` ...); its
        ``record`` key makes an import restore it exactly (same id, hash, time, marks) instead of
        reading it as a new protocol line. Deployments, incidents, incident events and the audit
        follow as rows, so the round trip gives the same rows in every table.
        """
        n = 0
        where = "1" if include_deleted else "deleted_at IS NULL"
        cur = self.db.conn.execute(
            f"SELECT {', '.join(EXPORT_MEMORY_COLUMNS)} FROM memories WHERE {where} ORDER BY rowid"
        )
        cols = [d[0] for d in cur.description]
        for row in cur.fetchall():
            data = {k: v for k, v in zip(cols, row, strict=True) if v is not None}
            data["tags"] = loads(data.get("tags"), [])
            data["metadata"] = loads(data.get("metadata"), {})
            out.write(json.dumps({"record": "memory", **data}, sort_keys=True) + "\n")
            n += 1
        for table, order in EXPORT_TABLES.items():
            for row in self._q(f"SELECT * FROM {table} ORDER BY {order}"):
                data = {k: v for k, v in row.items() if v is not None}
                out.write(json.dumps({"record": table, **data}, sort_keys=True) + "\n")
        return n

    def _restore(self, memories: list[dict], rows: list[tuple[str, dict]]) -> dict:
        """Insert exported rows as they were (an export's ``record`` lines); existing ids are kept."""
        import numpy as np

        created = duplicates = 0
        restored: dict[str, int] = {}
        fresh = [m for m in memories if not self._q("SELECT 1 FROM memories WHERE id = ?", (m["id"],))]
        live = [m for m in fresh if not m.get("deleted_at")]
        vectors = self._embed([m["text"] for m in live]) if live else None
        vec_of = {m["id"]: v for m, v in zip(live, vectors, strict=True)} if vectors is not None else {}

        def write() -> None:
            nonlocal created, duplicates
            for m in memories:
                rec = dict(m)
                vec = vec_of.get(rec["id"])
                if vec is not None:
                    rec["embedding"] = np.asarray(vec, dtype=np.float32).tobytes()
                    rec["embedding_model"] = self._embedder().model_id
                cur = self.db.conn.execute(
                    f"INSERT OR IGNORE INTO memories ({', '.join(rec)}) VALUES ({', '.join('?' * len(rec))})",
                    tuple(rec.values()),
                )
                created += cur.rowcount
                duplicates += 1 - cur.rowcount
            for table, row in rows:
                restored[table] = restored.get(table, 0) + self._restore_row(table, row)
            self._cache.dirty = True

        self._write(write)
        self._index([{"id": m["id"]} for m in live], wait=False)
        return {"created": created, "duplicates": duplicates, "restored": restored}

    def _restore_row(self, table: str, row: dict) -> int:
        if table in ("deployments", "incidents"):
            cols = ", ".join(f'"{k}"' for k in row)
            cur = self.db.conn.execute(
                f"INSERT OR IGNORE INTO {table} ({cols}) VALUES ({', '.join('?' * len(row))})",
                tuple(row.values()),
            )
            return cur.rowcount
        # incident_events / audit: the same event is never added twice; its number is kept
        # when this home does not use it yet (always, when restoring into a fresh home).
        content = {k: v for k, v in row.items() if k != "seq"}
        match = " AND ".join(f"{k} IS ?" for k in content)
        if self._q(f"SELECT 1 FROM {table} WHERE {match}", tuple(content.values())):
            return 0
        if row.get("seq") is not None and self._q(f"SELECT 1 FROM {table} WHERE seq = ?", (row["seq"],)):
            row = content
        cur = self.db.conn.execute(
            f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            tuple(row.values()),
        )
        return cur.rowcount

    # ----------------------------------------------------------------- index maintenance
    def iter_pending_vectors(self) -> Iterator[list[dict]]:
        while True:
            rows = self._q(
                "SELECT rowid, id, text FROM memories WHERE embedding IS NULL AND deleted_at IS NULL LIMIT 256"
            )
            if not rows:
                return
            yield rows

    def reindex(self, *, full: bool = False, progress: Callable[[int, int], None] | None = None) -> dict:
        """Embed what is pending, then make the chroma index match SQLite (``full`` re-embeds everything)."""
        import numpy as np

        if full:
            self._write(
                lambda: self.db.conn.execute("UPDATE memories SET embedding = NULL, chroma_synced = 0")
            )
        total = self._q("SELECT count(*) AS n FROM memories WHERE embedding IS NULL AND deleted_at IS NULL")[
            0
        ]["n"]
        done = 0
        embedded = 0
        for rows in self.iter_pending_vectors():
            vecs = self._embed([r["text"] for r in rows])
            if vecs is None:
                raise StorageError(
                    "cannot reindex: the embedding model is unavailable",
                    hint=self.warnings[-1] if self.warnings else None,
                )
            model = self._embedder().model_id

            def write(rows=rows, vecs=vecs, model=model) -> None:
                for r, v in zip(rows, vecs, strict=True):
                    self.db.conn.execute(
                        "UPDATE memories SET embedding = ?, embedding_model = ?, chroma_synced = 0 WHERE rowid = ?",
                        (np.asarray(v, dtype=np.float32).tobytes(), model, r["rowid"]),
                    )

            self._write(write)
            done += len(rows)
            embedded += len(rows)
            if progress:
                progress(done, total)
        self._cache.dirty = True
        sync = self.sync_index(full=True)
        if sync.get("index_error") and self._local_index_corrupt(sync["index_error"]):
            # SQLite holds every vector, so the local folder is disposable: keep the broken one
            # aside (never delete what we cannot read) and rebuild from SQLite.
            aside = self.index.path.with_name(f"{self.index.path.name}.corrupt-{int(_now().timestamp())}")
            with self.index.write_lock():
                self.index.path.rename(aside)
            self._write(lambda: self.db.conn.execute("UPDATE memories SET chroma_synced = 0"))
            self._warn(f"the chroma folder was unreadable; moved it to {aside} and rebuilt it from SQLite")
            sync = {**self.sync_index(full=True), "moved_aside": str(aside)}
        if not sync.get("index_error") and self.index.mode == "local":
            live = {r["id"] for r in self._q("SELECT id FROM memories WHERE deleted_at IS NULL")}
            try:
                sync["scrubbed"] = self.index.scrub_except(live)
            except StorageError as exc:
                self._warn(str(exc))
        return {"embedded": embedded, **sync}

    def _local_index_corrupt(self, error: str) -> bool:
        markers = ("file is not a database", "malformed", "code: 26", "code: 11")
        return (
            self.index.mode == "local"
            and self.index.path is not None
            and self.index.path.is_dir()
            and any(m in error for m in markers)
        )

    def sync_index(self, *, full: bool = False) -> dict:
        """Push rows not yet in chroma; with ``full`` also drop chroma ids that SQLite no longer has."""
        pushed = removed = 0
        try:
            if full:
                live = {
                    r["id"]
                    for r in self._q(
                        "SELECT id FROM memories WHERE deleted_at IS NULL AND embedding IS NOT NULL"
                    )
                }
                indexed = self.index.ids()
                stale = sorted(indexed - live)
                self.index.delete(stale)
                removed = len(stale)
                missing = live - indexed
                if missing:
                    ids = sorted(missing)
                    for start in range(0, len(ids), 500):
                        chunk = ids[start : start + 500]
                        self._write(
                            lambda chunk=chunk: self.db.conn.execute(
                                f"UPDATE memories SET chroma_synced = 0 WHERE id IN ({','.join('?' * len(chunk))})",
                                chunk,
                            )
                        )
            pending_sql = (
                "SELECT count(*) AS n FROM memories WHERE chroma_synced = 0 AND deleted_at IS NULL "
                "AND embedding IS NOT NULL"
            )
            while True:
                rows = self._q(
                    "SELECT * FROM memories WHERE chroma_synced = 0 AND deleted_at IS NULL "
                    "AND embedding IS NOT NULL LIMIT 1000"
                )
                if not rows:
                    break
                before_warn, before_n = len(self.warnings), self._q(pending_sql)[0]["n"]
                self._index(rows, wait=True)
                pushed += before_n - self._q(pending_sql)[0]["n"]
                if len(self.warnings) > before_warn:
                    return {"pushed": pushed, "removed": removed, "index_error": self.warnings[-1]}
        except StorageError as exc:
            self._warn(f"vector index unavailable: {exc}")
            return {"pushed": pushed, "removed": removed, "index_error": str(exc)}
        return {"pushed": pushed, "removed": removed}

    def stats(self, *, check_index: bool = True) -> Stats:
        q = lambda sql: self._q(sql)[0]["n"]  # noqa: E731
        by_kind = {
            r["kind"]: r["n"]
            for r in self._q(
                "SELECT kind, count(*) AS n FROM memories WHERE deleted_at IS NULL GROUP BY kind"
            )
        }
        chroma_count = None
        chroma_error = None
        if check_index:
            try:
                chroma_count = self.index.count()
            except StorageError as exc:
                chroma_error = str(exc)
        emb = self._embedder() if self.embedder is None else self.embedder
        return Stats(
            memories=q("SELECT count(*) AS n FROM memories WHERE deleted_at IS NULL"),
            deleted=q("SELECT count(*) AS n FROM memories WHERE deleted_at IS NOT NULL"),
            by_kind=by_kind,
            vectors_sqlite=q(
                "SELECT count(*) AS n FROM memories WHERE deleted_at IS NULL AND embedding IS NOT NULL"
            ),
            vectors_pending=q(
                "SELECT count(*) AS n FROM memories WHERE deleted_at IS NULL AND embedding IS NULL"
            ),
            chroma_count=chroma_count,
            chroma_pending=q(
                "SELECT count(*) AS n FROM memories WHERE deleted_at IS NULL AND embedding IS NOT NULL AND chroma_synced = 0"
            ),
            chroma_mode=f"{self.index.mode}: {self.index.describe()}",
            chroma_error=chroma_error,
            deployments=q("SELECT count(*) AS n FROM deployments"),
            incidents=q("SELECT count(*) AS n FROM incidents"),
            db_path=str(self.path),
            model_dir=str(emb.directory if emb else model_dir()),
            model_available=emb.available() if emb else False,
        )


def _chroma_url(settings: dict) -> str | None:
    return chroma_url(settings)


def _record_from_chroma(mid: str, r: dict) -> MemoryRecord | None:
    meta = r.get("metadata") or {}
    try:
        return MemoryRecord(
            id=mid,
            text=r.get("document") or "",
            kind=meta.get("kind", "note"),
            service=meta.get("service"),
            env=meta.get("env"),
            version=meta.get("version"),
            tags=loads(meta.get("tags"), []),
            importance=float(meta.get("importance", 0.5)),
            created_at=meta.get("created_at") or iso(_now()),
            source=meta.get("source") or "chroma",
            content_hash=meta.get("content_hash") or content_hash(r.get("document") or ""),
            metadata={"origin": "chroma-server"},
            linked_to=meta.get("linked_to"),
            supersedes=meta.get("supersedes"),
            vector="stored",
        )
    except (ValueError, TypeError):
        return None


# Words that say what happened to an incident, not what it is about.
_INCIDENT_WORDS = frozenset(
    """incident issue outage problem update updated resolved resolve mitigated mitigate fixed fix closed
    close open opened reopened investigating ongoing still now rolled rollback back restarted restart
    postmortem sev1 sev2 sev3 sev4 status monitoring recovered""".split()
)


def _content_terms(text: str) -> set[str]:
    """A text's content words, crudely stemmed (errors -> error), without incident-status words."""
    out = set()
    for term in S.query_terms(text):
        if term in _INCIDENT_WORDS:
            continue
        out.add(term[:-1] if len(term) > 3 and term.endswith("s") else term)
    return out


def _suggest(
    service,
    deploys: list[Deployment],
    similar: list[SimilarIncident],
    last_good,
    window: str,
    no_match: str | None = None,
) -> str:
    parts = []
    if deploys:
        d = deploys[0]
        if d.rolled_back_from:
            parts.append(
                f"{d.service} was rolled back from {d.rolled_back_from} to {d.version} in {d.env} at {d.started}: "
                "if the symptom persists, look beyond that release"
            )
        else:
            parts.append(
                f"{d.service} {d.version} was deployed to {d.env} at {d.started} (inside the {window} window): "
                "suspect the change first"
            )
            if last_good and last_good != d.version:
                parts.append(f"roll back to {last_good} if the symptom started after that deploy")
    elif service:
        parts.append(f"no deploys to {service} in the last {window}: look at config, dependencies and load")
    # Only strong matches reach here; the first one decides what is said, so a weaker incident's
    # resolution is never put ahead of the best match (which may not be resolved yet).
    if similar:
        top = similar[0]
        where = f" on another service ({top.service})" if top.match == "other service" else ""
        if top.resolution:
            parts.append(f"similar past incident {top.id}{where} was resolved by: {top.resolution}")
        else:
            parts.append(f"closest past incident: {top.id}{where} (no resolution recorded)")
    elif no_match:
        parts.append(no_match)
    if not parts:
        parts.append("no similar incidents or recent changes on record: investigate from the symptom")
    return "; ".join(parts) + "."


# What an export carries of a memory: everything but the derived vector bookkeeping.
EXPORT_MEMORY_COLUMNS = (
    "id", "text", "kind", "service", "env", "version", "tags", "importance", "created_at", "created_ts",
    "source", "content_hash", "scope", "metadata", "linked_to", "supersedes", "superseded_by",
    "deleted_at", "deleted_reason",
)  # fmt: skip
EXPORT_TABLES = {"deployments": "rowid", "incidents": "rowid", "incident_events": "seq", "audit": "seq"}
_TABLE_COLUMNS = {
    "deployments": (
        "id", "service", "env", "version", "commit", "strategy", "status", "started", "started_ts",
        "finished", "rolled_back_from", "by", "notes", "memory_id", "created_at", "retracted_at",
        "retracted_reason",
    ),
    "incidents": (
        "id", "title", "severity", "service", "status", "started", "started_ts", "resolved", "summary",
        "root_cause", "resolution", "memory_id", "updated_at",
    ),
    "incident_events": ("seq", "incident_id", "at", "change"),
    "audit": ("seq", "at", "action", "target", "detail"),
}  # fmt: skip


def _restore_line(obj: dict) -> tuple[str, dict]:
    """An export's ``record`` line -> (table, row), redacted and checked (raises ValueError)."""
    table = obj["record"]
    if table == "memory":
        row = {k: obj.get(k) for k in EXPORT_MEMORY_COLUMNS if obj.get(k) is not None}
        for key in ("id", "text", "kind", "created_at", "content_hash", "scope"):
            if not isinstance(row.get(key), str) or not row[key]:
                raise ValueError(f"memory record without {key}")
        if row["kind"] not in KINDS:
            raise ValueError(f"unknown kind {row['kind']!r}")
        row["created_ts"] = float(row.get("created_ts") or _when(row["created_at"]).timestamp())
        row["importance"] = float(row.get("importance", 0.5))
        row["tags"] = json.dumps(row.get("tags") or [])
        row["metadata"] = dumps(row.get("metadata") or {})
        row = {k: redact(v) if isinstance(v, str) else v for k, v in row.items()}
        row["env"] = env_name(row.get("env"))
        return "memories", row
    if table not in _TABLE_COLUMNS:
        raise ValueError(f"unknown record type {table!r}")
    row = {k: obj[k] for k in _TABLE_COLUMNS[table] if obj.get(k) is not None}
    if table == "deployments":
        row["env"] = env_name(row.get("env"))
    return table, {k: redact(v) if isinstance(v, str) else v for k, v in row.items()}


_DEPLOY_FIELDS = ("commit", "strategy", "status", "started", "finished", "rolled_back_from", "by", "notes")
_INCIDENT_FIELDS = (
    "id",
    "title",
    "severity",
    "status",
    "started",
    "resolved",
    "summary",
    "root_cause",
    "resolution",
)


def _import_side(obj: dict) -> tuple[dict | None, dict]:
    """An import line's structured parts: ``extra`` for prepare(), and what to apply once stored."""
    extra: dict[str, Any] = {}
    later: dict[str, Any] = {}
    deps = obj.get("deployments")
    if deps is not None:
        if not isinstance(deps, list) or not all(isinstance(d, dict) for d in deps):
            raise ValueError("deployments must be a list of objects")
        deps = [redact_obj({k: v for k, v in d.items() if k in _DEPLOY_FIELDS}) for d in deps]
        for d in deps:
            if d.get("status", "succeeded") not in DEPLOY_STATUSES:
                raise ValueError(f"unknown deployment status {d.get('status')!r}")
        if deps:
            extra["deployment"] = deps[0]
            later["deployments"] = deps[1:]
    inc = obj.get("incident")
    if inc is not None:
        if not isinstance(inc, dict):
            raise ValueError("incident must be an object")
        extra["incident"] = redact_obj({k: v for k, v in inc.items() if k in _INCIDENT_FIELDS})
        extra["incident"]["_imported"] = True
    for key in ("deleted_at", "deleted_reason", "linked_to"):
        if isinstance(obj.get(key), str) and obj[key]:
            later[key] = redact(obj[key])
    return extra or None, later


# ---------------------------------------------------------------------- record preparation
def prepare(
    text: str,
    *,
    kind=None,
    service=None,
    env=None,
    version=None,
    tags=(),
    importance=0.5,
    source="cli",
    metadata=None,
    id=None,  # noqa: A002
    created_at=None,
    supersedes=None,
    extra: dict | None = None,
    protocol: bool = True,
) -> dict:
    if not isinstance(text, str) or not text.strip():
        raise UsageError("nothing to remember: the text is empty")
    text = redact(text.strip())
    if kind is not None and kind not in KINDS:
        raise UsageError(f"unknown kind {kind!r}", hint=f"one of {', '.join(KINDS)}")
    try:
        importance = float(importance)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"importance must be a number between 0 and 1, not {importance!r}") from exc
    if not 0.0 <= importance <= 1.0 or importance != importance:
        raise UsageError(f"importance must be between 0 and 1, not {importance}")
    parsed = parse_protocol(text) if protocol else None
    side: dict[str, Any] = {}
    notices: list[str] = []
    if parsed and parsed.problem and kind in (None, "note"):
        notices.append(parsed.problem)
    if parsed and kind in (None, parsed.kind) and parsed.kind != "note":
        kind = parsed.kind
        if parsed.kind == "deployment":
            service = service or parsed.service
            env = env or parsed.env
            version = version or parsed.version
            side = {"deployment": {"notes": parsed.notes, "rolled_back_from": parsed.rolled_back_from}}
        else:
            service = service or parsed.service
            if parsed.service:
                notices.append(f"service {parsed.service} taken from service= in the line")
            side = {
                "incident": {
                    "id": parsed.incident_id,
                    "summary": parsed.summary,
                    "resolution": parsed.resolution,
                }
            }
    kind = kind or "note"
    when = _when(created_at) or _now()
    tags_list = sorted({redact(str(t)).strip() for t in tags if str(t).strip()})
    clean = lambda v: redact(str(v)).strip() or None if v not in (None, "") else None  # noqa: E731
    rec = {
        "id": clean(id) or new_id(),
        "text": text,
        "kind": kind,
        "service": clean(service),
        "env": env_name(clean(env)),
        "version": clean(version),
        "tags": json.dumps(tags_list),
        "importance": importance,
        "created_at": iso(when),
        "created_ts": when.timestamp(),
        "source": clean(source) or "cli",
        "content_hash": content_hash(text),
        "metadata": dumps(redact_obj(metadata or {})),
        "linked_to": None,
        "supersedes": clean(supersedes),
    }
    rec["scope"] = scope_of(kind, rec["service"])
    if extra:
        side.update(extra)
    return {"rec": rec, "side": side, "notices": notices}


def spool_dir_record(data_dir: Path, prepared: dict) -> Path:
    """Keep a prepared record in the data dir's spool when the database cannot take it."""
    path = Path(data_dir) / "memory-spool.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(prepared, default=str) + "\n")
    return path
