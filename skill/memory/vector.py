"""The chromadb collection: the vector index, local (PersistentClient) or shared (chroma server).

Embeddings are always computed by us and passed explicitly (embedding_function=None), so
chromadb never tries to download its model. The collection is created with cosine space.
A local PersistentClient is not process-safe for writers, so every local write holds a file
lock; a client is opened per operation and not kept (a long-lived one serves a stale HNSW).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from skill.errors import ConfigError, StorageError

COLLECTION = "devops-memory"


class LockBusy(Exception):
    """Another process is writing the local chroma folder right now."""


def chroma_url(settings: dict | None = None) -> str | None:
    url = os.environ.get("DEVOPS_CHROMA_URL")
    if url is None and settings is not None:
        url = settings.get("chroma_url")
    return (url or "").strip() or None


class VectorIndex:
    """A thin wrapper over one chroma collection with our metadata conventions."""

    def __init__(self, *, path: Path | None = None, url: str | None = None, collection: str = COLLECTION):
        self.path = path
        self.url = url
        self.collection_name = collection
        self._collection = None

    @property
    def mode(self) -> str:
        return "server" if self.url else "local"

    def describe(self) -> str:
        return self.url if self.url else str(self.path)

    def _client(self):
        try:
            import chromadb
            from chromadb.config import Settings
        except ImportError as exc:  # pragma: no cover - dependency
            raise StorageError(f"chromadb is not installed: {exc}") from exc
        settings = Settings(anonymized_telemetry=False)
        try:
            if self.url:
                parsed = urlparse(self.url if "://" in self.url else f"http://{self.url}")
                if not parsed.hostname:
                    raise ConfigError(f"invalid chroma_url {self.url!r}")
                return chromadb.HttpClient(
                    host=parsed.hostname,
                    port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                    ssl=parsed.scheme == "https",
                    settings=settings,
                )
            assert self.path is not None
            self.path.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(self.path), settings=settings)
        except ConfigError:
            raise
        except Exception as exc:  # noqa: BLE001 - any client failure means "index unavailable"
            raise StorageError(f"chroma unavailable at {self.describe()}: {exc}") from exc

    def collection(self):
        if self._collection is None or not self.url:
            if not self.url:
                # A local client keeps its HNSW in memory and does not see other processes'
                # writes; a stale one must not write either. Start from disk each time.
                try:
                    from chromadb.api.client import SharedSystemClient

                    SharedSystemClient.clear_system_cache()
                except Exception:  # noqa: BLE001 - older/newer chromadb: best effort
                    pass
            client = self._client()
            try:
                self._collection = client.get_or_create_collection(
                    self.collection_name,
                    configuration={"hnsw": {"space": "cosine"}},
                    embedding_function=None,
                )
            except Exception as exc:  # noqa: BLE001
                raise StorageError(f"chroma unavailable at {self.describe()}: {exc}") from exc
        return self._collection

    @contextlib.contextmanager
    def write_lock(self, timeout: float = 120):
        """Serialise writers of a local chroma folder across processes (no-op for a server).

        Raises ``LockBusy`` when ``timeout`` is 0 and another process holds the lock.
        """
        if self.url:
            yield
            return
        from filelock import FileLock, Timeout

        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.path) + ".lock")
        try:
            lock.acquire(timeout=timeout)
        except Timeout as exc:
            if timeout == 0:
                raise LockBusy(str(self.path)) from exc
            raise StorageError(f"chroma folder {self.path} stays locked by another writer") from exc
        try:
            yield
        finally:
            lock.release()

    def _call(self, what: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except StorageError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise StorageError(f"chroma {what} failed at {self.describe()}: {exc}") from exc

    def upsert(
        self,
        ids: list[str],
        embeddings: list[list[float]],
        documents: list[str],
        metadatas: list[dict],
        *,
        locked: bool = False,
    ):
        if not ids:
            return
        with contextlib.nullcontext() if locked else self.write_lock():
            col = self.collection()
            for start in range(0, len(ids), 1000):
                sl = slice(start, start + 1000)
                self._call(
                    "upsert",
                    col.upsert,
                    ids=ids[sl],
                    embeddings=embeddings[sl],
                    documents=documents[sl],
                    metadatas=metadatas[sl],
                )

    def delete(self, ids: list[str]) -> None:
        if not ids:
            return
        with self.write_lock():
            self._call("delete", self.collection().delete, ids=ids)

    def scrub(self, ids: list[str]) -> None:
        """After ``delete``: see ``_scrub_local``; nothing to do for a server."""
        if ids and not self.url:
            with self.write_lock():
                self._scrub_local(ids)

    def _scrub_local(self, ids: list[str]) -> None:
        """Make a hard delete real in the local folder: chroma keeps the original add (document,
        metadata, vector) in its write-ahead queue until a later compaction, and SQLite keeps
        deleted rows in free pages. Drop those queue entries (the delete entry stays, so a replay
        stays consistent) and VACUUM. Server mode cannot reach the server's files."""
        import sqlite3

        db = self.path / "chroma.sqlite3" if self.path else None
        if db is None or not db.is_file():
            return
        try:
            conn = sqlite3.connect(db, timeout=10, isolation_level=None)
            try:
                marks = ",".join("?" * len(ids))
                # operation 3 is chroma's DELETE.
                conn.execute(f"DELETE FROM embeddings_queue WHERE id IN ({marks}) AND operation != 3", ids)
                conn.execute("VACUUM")
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise StorageError(f"chroma at {self.path}: could not scrub forgotten rows ({exc})") from exc

    def scrub_except(self, live: set[str]) -> int:
        """Drop queued adds/updates of ids no longer live (forgotten, hard or soft), then VACUUM if
        any went: finishes a hard forget whose scrub found chroma's file busy. Local folder only."""
        import sqlite3

        db = self.path / "chroma.sqlite3" if self.path and not self.url else None
        if db is None or not db.is_file():
            return 0
        try:
            with self.write_lock():
                conn = sqlite3.connect(db, timeout=10, isolation_level=None)
                try:
                    queued = {
                        r[0]
                        for r in conn.execute("SELECT DISTINCT id FROM embeddings_queue WHERE operation != 3")
                    }
                    dead = sorted(queued - live)
                    for start in range(0, len(dead), 500):
                        chunk = dead[start : start + 500]
                        marks = ",".join("?" * len(chunk))
                        conn.execute(
                            f"DELETE FROM embeddings_queue WHERE id IN ({marks}) AND operation != 3", chunk
                        )
                    if dead:
                        conn.execute("VACUUM")
                    return len(dead)
                finally:
                    conn.close()
        except sqlite3.Error as exc:
            raise StorageError(f"chroma at {self.path}: could not scrub forgotten rows ({exc})") from exc

    def count(self) -> int:
        return self._call("count", self.collection().count)

    def ids(self) -> set[str]:
        col = self.collection()
        out: set[str] = set()
        offset = 0
        while True:
            got = self._call("get", col.get, include=[], limit=5000, offset=offset)
            batch = got.get("ids") or []
            out.update(batch)
            if len(batch) < 5000:
                return out
            offset += len(batch)

    def query(self, embedding: list[float], n: int, where: dict | None = None) -> list[dict[str, Any]]:
        col = self.collection()
        total = self._call("count", col.count)
        if total == 0:
            return []
        got = self._call(
            "query",
            col.query,
            query_embeddings=[embedding],
            n_results=min(n, total),
            where=where,
            include=["metadatas", "documents", "distances"],
        )
        rows = []
        for i, mid in enumerate(got["ids"][0]):
            rows.append(
                {
                    "id": mid,
                    "document": got["documents"][0][i],
                    "metadata": got["metadatas"][0][i] or {},
                    "similarity": 1.0 - float(got["distances"][0][i]),
                }
            )
        return rows

    def space(self) -> str | None:
        conf = getattr(self.collection(), "configuration", None) or {}
        hnsw = conf.get("hnsw") if isinstance(conf, dict) else None
        return (hnsw or {}).get("space") if isinstance(hnsw, dict) else None


def metadata_for(rec: dict[str, Any]) -> dict[str, Any]:
    """Chroma metadata for one memory row: no None values (chroma rejects them), times as epoch."""
    meta = {
        "kind": rec["kind"],
        "created_ts": int(rec["created_ts"]),
        "created_at": rec["created_at"],
        "importance": float(rec["importance"]),
        "content_hash": rec["content_hash"],
        "source": rec.get("source") or "cli",
        "tags": rec.get("tags") or "[]",
    }
    for key in ("service", "env", "version", "linked_to", "supersedes", "superseded_by"):
        if rec.get(key):
            meta[key] = rec[key]
    return meta


def where_for(kind=None, service=None, env=None, since_ts=None, until_ts=None) -> dict | None:
    clauses: list[dict] = []
    if kind:
        clauses.append({"kind": kind})
    if service:
        clauses.append({"service": service})
    if env:
        clauses.append({"env": env})
    if since_ts is not None:
        clauses.append({"created_ts": {"$gte": int(since_ts)}})
    if until_ts is not None:
        clauses.append({"created_ts": {"$lte": int(until_ts) + 1}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
