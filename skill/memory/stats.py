"""Counts of one memory: records, vectors, what is pending for the index, and where things live."""

from __future__ import annotations

from skill.errors import StorageError
from skill.memory.context import MemoryContext
from skill.memory.embed import model_dir
from skill.memory.models import Stats


def stats(ctx: MemoryContext, *, check_index: bool = True) -> Stats:
    def count(where: str, table: str = "memories") -> int:
        return ctx.store.q(f"SELECT count(*) AS n FROM {table} WHERE {where}")[0]["n"]

    by_kind = {
        r["kind"]: r["n"]
        for r in ctx.store.q(
            "SELECT kind, count(*) AS n FROM memories WHERE deleted_at IS NULL GROUP BY kind"
        )
    }
    chroma_count = None
    chroma_error = None
    if check_index:
        try:
            chroma_count = ctx.index.count()
        except StorageError as exc:
            chroma_error = str(exc)
    emb = ctx.model()
    return Stats(
        memories=count("deleted_at IS NULL"),
        deleted=count("deleted_at IS NOT NULL"),
        by_kind=by_kind,
        vectors_sqlite=count("deleted_at IS NULL AND embedding IS NOT NULL"),
        vectors_pending=count("deleted_at IS NULL AND embedding IS NULL"),
        chroma_count=chroma_count,
        chroma_pending=count("deleted_at IS NULL AND embedding IS NOT NULL AND chroma_synced = 0"),
        chroma_mode=f"{ctx.index.mode}: {ctx.index.describe()}",
        chroma_error=chroma_error,
        deployments=count("TRUE", "deployments"),
        incidents=count("TRUE", "incidents"),
        db_path=ctx.store.location,
        model_dir=str(emb.directory if emb else model_dir()),
        model_available=emb.available() if emb else False,
    )
