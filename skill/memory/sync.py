"""Keeping the chroma index in step with the records: push after writes, sync, reindex.

The records keep every vector (a float32 blob per memory), so the index is derived data: a row
is ``chroma_synced = 0`` until chroma has it, and whatever failed stays pending for the next
push, ``sync_index`` or ``reindex``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from skill.durations import utcnow
from skill.errors import DevopsError, StorageError
from skill.memory.context import MemoryContext
from skill.memory.vector import LockBusy, metadata_for

PENDING = "chroma_synced = 0 AND deleted_at IS NULL AND embedding IS NOT NULL"


class IndexSync:
    def __init__(self, ctx: MemoryContext) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.index = ctx.index
        self.owed = False

    def push(self, recs: list[dict], *, wait: bool = False) -> None:
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
                rows = self.store.q(f"SELECT * FROM memories WHERE {PENDING} LIMIT 2000")
                if not rows:
                    return
                self._upsert(rows, locked=True)

        try:
            if self.index.mode == "local":
                try:
                    with self.index.write_lock(timeout=120 if wait else 0):
                        push_pending()
                    self.owed = False
                except LockBusy:
                    self.owed = True
            else:
                # The server serialises writers itself; rows left pending while it was down go too.
                push_pending()
        except (StorageError, DevopsError) as exc:
            self.ctx.warn(f"vector index unavailable, kept pending for `reindex`: {exc}")

    def finish(self) -> None:
        """On close: the waiting push a busy lock deferred."""
        if self.owed:
            self.push([], wait=True)

    def _upsert(self, recs: list[dict], *, locked: bool = False) -> None:
        self.index.upsert(
            [r["id"] for r in recs],
            [list(memoryview(r["embedding"]).cast("f")) for r in recs],
            [r["text"] for r in recs],
            [metadata_for(r) for r in recs],
            locked=locked,
        )
        self._mark([r["id"] for r in recs], 1)

    def _mark(self, ids: list[str], synced: int) -> None:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            self.store.write(
                lambda chunk=chunk: self.store.execute(
                    f"UPDATE memories SET chroma_synced = {synced} WHERE id IN ({','.join('?' * len(chunk))})",
                    chunk,
                )
            )

    def sync_index(self, *, full: bool = False) -> dict:
        """Push rows not yet in chroma; with ``full`` also drop chroma ids the records no longer have."""
        q = self.store.q
        pushed = removed = 0
        try:
            if full:
                live = {
                    r["id"]
                    for r in q("SELECT id FROM memories WHERE deleted_at IS NULL AND embedding IS NOT NULL")
                }
                indexed = self.index.ids()
                stale = sorted(indexed - live)
                self.index.delete(stale)
                removed = len(stale)
                missing = live - indexed
                if missing:
                    self._mark(sorted(missing), 0)
            pending_sql = f"SELECT count(*) AS n FROM memories WHERE {PENDING}"
            while True:
                rows = q(f"SELECT * FROM memories WHERE {PENDING} LIMIT 1000")
                if not rows:
                    break
                before_warn, before_n = len(self.ctx.warnings), q(pending_sql)[0]["n"]
                self.push(rows, wait=True)
                pushed += before_n - q(pending_sql)[0]["n"]
                if len(self.ctx.warnings) > before_warn:
                    return {"pushed": pushed, "removed": removed, "index_error": self.ctx.warnings[-1]}
        except StorageError as exc:
            self.ctx.warn(f"vector index unavailable: {exc}")
            return {"pushed": pushed, "removed": removed, "index_error": str(exc)}
        return {"pushed": pushed, "removed": removed}

    def iter_pending_vectors(self) -> Iterator[list[dict]]:
        while True:
            rows = self.store.q(
                "SELECT rowid, id, text FROM memories WHERE embedding IS NULL AND deleted_at IS NULL LIMIT 256"
            )
            if not rows:
                return
            yield rows

    def reindex(self, *, full: bool = False, progress: Callable[[int, int], None] | None = None) -> dict:
        """Embed what is pending, then make the chroma index match the records (``full`` re-embeds everything)."""
        import numpy as np

        store, ctx = self.store, self.ctx
        if full:
            store.write(lambda: store.execute("UPDATE memories SET embedding = NULL, chroma_synced = 0"))
        total = store.q("SELECT count(*) AS n FROM memories WHERE embedding IS NULL AND deleted_at IS NULL")[
            0
        ]["n"]
        done = 0
        embedded = 0
        for rows in self.iter_pending_vectors():
            vecs = ctx.embed([r["text"] for r in rows])
            if vecs is None:
                raise StorageError(
                    "cannot reindex: the embedding model is unavailable",
                    hint=ctx.warnings[-1] if ctx.warnings else None,
                )
            model = ctx.model().model_id

            def write(rows=rows, vecs=vecs, model=model) -> None:
                for r, v in zip(rows, vecs, strict=True):
                    store.execute(
                        "UPDATE memories SET embedding = ?, embedding_model = ?, chroma_synced = 0 WHERE rowid = ?",
                        (np.asarray(v, dtype=np.float32).tobytes(), model, r["rowid"]),
                    )

            store.write(write)
            done += len(rows)
            embedded += len(rows)
            if progress:
                progress(done, total)
        ctx.cache.dirty = True
        sync = self.sync_index(full=True)
        if sync.get("index_error") and self._local_index_corrupt(sync["index_error"]):
            # The records hold every vector, so the local folder is disposable: keep the broken
            # one aside (never delete what we cannot read) and rebuild from the records.
            aside = self.index.path.with_name(f"{self.index.path.name}.corrupt-{int(utcnow().timestamp())}")
            with self.index.write_lock():
                self.index.path.rename(aside)
            store.write(lambda: store.execute("UPDATE memories SET chroma_synced = 0"))
            ctx.warn(f"the chroma folder was unreadable; moved it to {aside} and rebuilt it from SQLite")
            sync = {**self.sync_index(full=True), "moved_aside": str(aside)}
        if not sync.get("index_error") and self.index.mode == "local":
            live = {r["id"] for r in store.q("SELECT id FROM memories WHERE deleted_at IS NULL")}
            try:
                sync["scrubbed"] = self.index.scrub_except(live)
            except StorageError as exc:
                ctx.warn(str(exc))
        return {"embedded": embedded, **sync}

    def _local_index_corrupt(self, error: str) -> bool:
        markers = ("file is not a database", "malformed", "code: 26", "code: 11")
        return (
            self.index.mode == "local"
            and self.index.path is not None
            and self.index.path.is_dir()
            and any(m in error for m in markers)
        )
