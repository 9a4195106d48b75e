"""Memory: the one object callers use, a facade over the parts named for what they keep.

    store.py        the records store (memories, deployments, incidents, events, audit): memory.db,
                    or the team database with DEVOPS_DATABASE_URL (postgres.py)
    records.py      memories: prepare, remember, get, list, forget
    deployments.py  deployments, rollbacks, retractions, last good version
    incidents.py    incidents and their events
    recall.py       hybrid recall (scoring in search.py)
    triage.py       what changed, which past incidents match
    vector.py       the chroma index; vector_cache.py the live vectors in process
    sync.py         keeping the index in step (push, sync, reindex); spool.py what waits for the store
    transfer.py     JSON Lines import and export; stats.py counts

The records store keeps each vector as a float32 blob too, so the chroma index is derived data,
rebuildable with ``reindex``. With a chroma server configured (team mode) recall asks the server,
so memories written elsewhere are found.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from skill.errors import StorageError
from skill.memory.context import MemoryContext
from skill.memory.deployments import Deployments
from skill.memory.embed import Embedder
from skill.memory.incidents import Incidents
from skill.memory.models import (
    Stats,
)
from skill.memory.recall import Recall
from skill.memory.records import Records
from skill.memory.spool import replay
from skill.memory.stats import stats
from skill.memory.store import open_records
from skill.memory.sync import IndexSync
from skill.memory.transfer import EXPORT_MEMORY_COLUMNS, Transfer
from skill.memory.triage import Triage
from skill.memory.vector import VectorIndex, chroma_url

__all__ = ["EXPORT_MEMORY_COLUMNS", "Memory"]  # what an export carries, for callers that check it


class _Part:
    """A Memory method that is the method of one of its parts (``getattr(memory.<part>, name)``)."""

    def __init__(self, part: str, name: str | None = None) -> None:
        self.part = part
        self.name = name

    def __set_name__(self, owner: type, attr: str) -> None:
        self.name = self.name or attr

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return getattr(getattr(obj, self.part), self.name)


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
        database: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.settings = settings or {}
        self.url = url
        # memory.db at ``path``, or the team database when DEVOPS_DATABASE_URL is set; the
        # data dir keeps the chroma folder and the spool either way.
        store = open_records(self.path, database)
        self.backend = store.backend
        self.index = VectorIndex(path=chroma_dir or self.path.parent / "chroma", url=url)
        self.ctx = ctx = MemoryContext(store, self.index, url=url, embedder=embedder)
        self._sync = IndexSync(ctx)
        self._records = Records(ctx, self._sync, self.path.parent)
        self._deployments = Deployments(ctx, self._records)
        self._incidents = Incidents(ctx, self._records)
        self._records.deployments, self._records.incidents = self._deployments, self._incidents
        self._recall = Recall(ctx, self._records)
        self._triage = Triage(ctx, self._records, self._recall, self._deployments, self._incidents)
        self._transfer = Transfer(ctx, self._records, self._deployments, self._incidents, self._sync)
        replay(self.path.parent, self._records.store_prepared)

    # ----------------------------------------------------------------- opening
    @classmethod
    def open(
        cls,
        data_dir: str | os.PathLike | None = None,
        *,
        chroma_url: str | None = None,
        embedder: Embedder | None = None,
        database: str | None = None,
    ) -> Memory:
        """Open the memory of ``data_dir`` (default: the data dir); every failure is a StorageError.

        ``database``: the records' PostgreSQL URL, or "" for ``memory.db``; default: configured."""
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
            return cls(
                db,
                chroma_dir=base / "chroma",
                url=url,
                embedder=embedder,
                settings=settings,
                database=database,
            )
        except OSError as exc:  # an unusable $DEVOPS_HOME: said before anything runs
            raise StorageError(f"cannot open memory: {exc}") from exc

    def close(self) -> None:
        self._sync.finish()
        self.ctx.store.close()

    def __enter__(self) -> Memory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def team_mode(self) -> bool:
        return self.ctx.team_mode

    @property
    def embedder(self) -> Embedder | None:
        return self.ctx.embedder

    @embedder.setter
    def embedder(self, value: Embedder | None) -> None:
        self.ctx.embedder = value

    @property
    def warnings(self) -> list[str]:
        """What went wrong but did not fail the call (model or index unavailable)."""
        return self.ctx.warnings

    @warnings.setter
    def warnings(self, value: list[str]) -> None:
        self.ctx.warnings = value

    def _embedder(self) -> Embedder:
        return self.ctx.model()

    def _q(self, sql: str, params: Iterable[Any] = ()) -> list[dict]:
        return self.ctx.store.q(sql, params)

    # The public API: each name is the method of the part that does the work (one signature,
    # one docstring, kept with the code).
    remember = _Part("_records")
    get = _Part("_records")
    list = _Part("_records")
    forget = _Part("_records")
    recall = _Part("_recall")
    record_deployment = _Part("_deployments", "record")
    deployments = _Part("_deployments", "list")
    last_good_version = _Part("_deployments")
    retract_deployment = _Part("_deployments", "retract")
    open_incident = _Part("_incidents", "open")
    get_incident = _Part("_incidents", "get")
    update_incident = _Part("_incidents", "update")
    resolve_incident = _Part("_incidents", "resolve")
    incidents = _Part("_incidents", "list")
    triage = _Part("_triage")
    import_jsonl = _Part("_transfer")
    export_jsonl = _Part("_transfer")
    iter_pending_vectors = _Part("_sync")
    reindex = _Part("_sync")
    sync_index = _Part("_sync")

    def stats(self, *, check_index: bool = True) -> Stats:
        return stats(self.ctx, check_index=check_index)


def _chroma_url(settings: dict) -> str | None:
    return chroma_url(settings)
