"""Memories themselves: prepare (redact, parse the protocol, dedup keys), store, read, list, forget.

A memory is stored once per scope and content (exact dedup in the schema), embedded in the same
batch, linked to a near-duplicate of its scope, and pushed to the vector index after commit.
Protocol lines also write the deployment or incident they describe (deployments.py, incidents.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from skill.durations import iso, utcnow
from skill.errors import NotFoundError, StorageError, UsageError
from skill.memory.context import MemoryContext
from skill.memory.models import KINDS, MemoryRecord, RememberResult
from skill.memory.protocol import parse as parse_protocol
from skill.memory.spool import spool, spool_path
from skill.memory.store import content_hash, dumps, env_name, loads, new_id, scope_of, when
from skill.memory.sync import IndexSync
from skill.redact import redact, redact_obj

NEAR_DUPLICATE = 0.95
MEMORY_COLUMNS = (
    "rowid, id, text, kind, service, env, version, tags, importance, created_at, created_ts, source, "
    "content_hash, metadata, linked_to, supersedes, superseded_by, deleted_at, embedding IS NOT NULL AS has_vec"
)


@dataclass(frozen=True)
class Filters:
    """What list, recall and triage narrow memories by, in SQL, before any scoring."""

    kind: str | None = None
    service: str | None = None
    env: str | None = None
    since: str | datetime | None = None
    until: str | datetime | None = None
    tags: Iterable[str] = ()


class Records:
    """The memories table of one open memory; deployments and incidents are wired in by Memory."""

    def __init__(self, ctx: MemoryContext, sync: IndexSync, data_dir: Path) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.sync = sync
        self.data_dir = data_dir
        self.deployments: Any = None  # Deployments, set by Memory (they record memories too)
        self.incidents: Any = None  # Incidents, likewise

    @staticmethod
    def to_model(row: dict) -> MemoryRecord:
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
        prepared = prepare(
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
            self.incidents.check_line(prepared)
        try:
            return self.store_prepared([prepared])[0]
        except StorageError as exc:
            spool(self.data_dir, prepared)
            raise StorageError(
                f"{exc.message}; the record was kept in {spool_path(self.data_dir)} and is stored on the next run",
                hint=exc.hint,
            ) from exc

    def existing(self, rec: dict) -> str | None:
        rows = self.store.q("SELECT id FROM memories WHERE id = ?", (rec["id"],))
        if rows:
            return rows[0]["id"]
        rows = self.store.q(
            "SELECT id FROM memories WHERE scope = ? AND content_hash = ? AND deleted_at IS NULL",
            (rec["scope"], rec["content_hash"]),
        )
        return rows[0]["id"] if rows else None

    def duplicate(self, dup: str, kind: str) -> RememberResult:
        rows = self.store.q("SELECT embedding IS NOT NULL AS v FROM memories WHERE id = ?", (dup,))
        vector = "stored" if rows and rows[0]["v"] else "pending"
        return RememberResult(id=dup, kind=kind, created=False, duplicate_of=dup, vector=vector)

    def store_prepared(self, items: list[dict]) -> list[RememberResult]:
        """Insert prepared records: dedup, embed in one batch, one transaction, then the chroma index."""
        import numpy as np

        results: list[RememberResult | None] = [None] * len(items)
        todo = []
        events: list[tuple[int, str]] = []
        for i, item in enumerate(items):
            dup = self.existing(item["rec"])
            if dup and item["side"] and not item.get("import"):
                events.append((i, dup))
            elif dup:
                results[i] = self.duplicate(dup, item["rec"]["kind"])
            else:
                todo.append(i)
        vectors = self.ctx.embed([items[i]["rec"]["text"] for i in todo]) if todo else None
        inserted: list[tuple[int, dict, Any]] = []

        def event_of_duplicate(i: int, dup: str) -> None:
            # The text may dedup, the event may not: a redeploy, a rollback or an incident update
            # written with words already remembered is still a new deployment or update.
            results[i] = self.duplicate(dup, items[i]["rec"]["kind"]).model_copy(
                update=self.side_records({**items[i]["rec"], "id": dup}, items[i]["side"])
            )

        def write() -> None:
            self.ctx.cache.ensure(self.store)
            seen_batch: dict[tuple[str, str], str] = {}
            for i, dup in events:
                event_of_duplicate(i, dup)
            for n, i in enumerate(todo):
                rec = items[i]["rec"]
                key = (rec["scope"], rec["content_hash"])
                dup = seen_batch.get(key) or self.existing(rec)
                if dup and items[i]["side"] and not items[i].get("import"):
                    event_of_duplicate(i, dup)
                    continue
                if dup:
                    results[i] = self.duplicate(dup, rec["kind"])
                    continue
                vec = vectors[n] if vectors is not None else None
                if vec is not None:
                    rec["linked_to"] = self.near_duplicate(rec["scope"], vec, rec)
                    rec["embedding"] = vec.astype(np.float32).tobytes()
                    rec["embedding_model"] = self.ctx.model().model_id
                cur = self.store.execute(
                    f"INSERT INTO memories ({', '.join(rec)}) VALUES ({', '.join('?' * len(rec))}) "
                    "ON CONFLICT DO NOTHING RETURNING rowid",
                    tuple(rec.values()),
                )
                inserted_row = cur.fetchall()
                if not inserted_row:  # lost a race to an equal record
                    dup = self.existing(rec)
                    results[i] = RememberResult(
                        id=dup or rec["id"], kind=rec["kind"], created=False, duplicate_of=dup
                    )
                    continue
                rowid = inserted_row[0][0]
                seen_batch[key] = rec["id"]
                if rec.get("supersedes"):
                    # chroma_synced = 0: the index gets the old record again, now marked superseded.
                    self.store.execute(
                        "UPDATE memories SET superseded_by = ?, chroma_synced = 0 WHERE id = ? AND superseded_by IS NULL",
                        (rec["id"], rec["supersedes"]),
                    )
                    self.ctx.cache.dirty = True
                side = self.side_records(rec, items[i]["side"])
                if vec is not None:
                    self.ctx.cache.append(rowid, rec["id"], rec["scope"], vec)
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
            self.store.write(write)
        self.sync.push([rec for _, rec, vec in inserted if vec is not None])
        for item, r in zip(items, results, strict=True):
            if r is None:
                continue
            r.notices = [*item.get("notices", ()), *r.notices]
            if self.ctx.warnings and r.created:
                r.warning = self.ctx.warnings[-1]
        return [r for r in results if r is not None]

    def near_duplicate(self, scope: str, vec, rec: dict | None = None) -> str | None:
        import numpy as np

        mat = self.ctx.cache.scope_mats.get(scope)
        if mat is None or mat.n == 0:
            return None
        sims = mat.view() @ vec
        for best in np.argsort(-sims):
            if float(sims[best]) < NEAR_DUPLICATE:
                return None
            target = self.ctx.cache.scope_ids[scope][int(best)]
            row = self.store.q("SELECT linked_to, version, env FROM memories WHERE id = ?", (target,))
            if not row:
                continue
            # "Deployed api to prod: v1.4.2" and "...: v1.4.3" embed almost alike but are two
            # facts: a different version or environment is never a near-duplicate.
            if rec and any(rec.get(k) and row[0][k] and rec[k] != row[0][k] for k in ("version", "env")):
                continue
            # Link to the original, never to another near-duplicate.
            return row[0]["linked_to"] or target
        return None

    def side_records(self, rec: dict, side: dict) -> dict:
        out: dict[str, Any] = {"notices": []}
        if "deployment" in side and rec["service"] and rec["env"] and rec["version"]:
            d = side["deployment"] or {}
            fields = {
                k: d.get(k) for k in ("commit", "strategy", "status", "finished", "rolled_back_from", "by")
            }
            if not d.get("_imported") and not fields["rolled_back_from"]:
                fields["rolled_back_from"] = self.deployments.rollback_of(
                    rec["service"], rec["env"], rec["version"]
                )
                if fields["rolled_back_from"]:
                    out["notices"].append(
                        f"recorded as a rollback of {rec['service']} in {rec['env']} from "
                        f"{fields['rolled_back_from']} to {rec['version']} (an earlier version redeployed)"
                    )
            out["deployment"] = self.deployments.insert(
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
            out["incident"] = self.incidents.upsert_from_memory(rec, d)
        return out

    def get(self, memory_id: str) -> MemoryRecord:
        rows = self.store.q(f"SELECT {MEMORY_COLUMNS} FROM memories WHERE id = ?", (memory_id,))
        if not rows:
            raise NotFoundError(f"no memory with id {memory_id!r}")
        return self.to_model(rows[0])

    def filters(
        self, *, include_deleted=False, include_superseded=False, alias="m", **filters: Any
    ) -> tuple[str, list]:
        """SQL for ``Filters`` (unknown names raise TypeError, as a misspelt keyword should)."""
        f = Filters(**filters)
        where, params = [], []
        if not include_deleted:
            where.append(f"{alias}.deleted_at IS NULL")
        if not include_superseded:
            where.append(f"{alias}.superseded_by IS NULL")
        if f.kind:
            if f.kind not in KINDS:
                raise UsageError(f"unknown kind {f.kind!r}", hint=f"one of {', '.join(KINDS)}")
            where.append(f"{alias}.kind = ?")
            params.append(f.kind)
        if f.service:
            where.append(f"lower({alias}.service) = lower(?)")
            params.append(f.service)
        if f.env:
            where.append(f"{alias}.env = ?")
            params.append(env_name(f.env))
        if f.since:
            where.append(f"{alias}.created_ts >= ?")
            params.append(when(f.since).timestamp())
        if f.until:
            where.append(f"{alias}.created_ts <= ?")
            params.append(when(f.until).timestamp())
        for tag in f.tags or ():
            where.append(self.store.has_tag(alias))
            params.append(tag)
        return (" AND ".join(where) or "TRUE"), params

    def list(self, *, limit: int = 50, include_deleted: bool = False, **filters: Any) -> list[MemoryRecord]:
        """Newest first; ``filters`` are the fields of ``Filters`` (kind, service, env, since, until, tags)."""
        where, params = self.filters(
            **filters, include_deleted=include_deleted, include_superseded=include_deleted
        )
        rows = self.store.q(
            f"SELECT {MEMORY_COLUMNS} FROM memories m WHERE {where} ORDER BY created_ts DESC, rowid DESC LIMIT ?",
            [*params, int(limit)],
        )
        return [self.to_model(r) for r in rows]

    def forget(self, memory_id: str, *, hard: bool = False, reason: str | None = None) -> dict:
        rows = self.store.q("SELECT id, deleted_at FROM memories WHERE id = ?", (memory_id,))
        if not rows:
            raise NotFoundError(f"no memory with id {memory_id!r}")

        def write() -> None:
            if hard:
                with self.store.erasing():
                    self.store.execute("DELETE FROM memories WHERE id = ?", (memory_id,))
                    # The deployment/incident facts stay (history, last good version), but no
                    # longer point at the erased text, and a deployment's notes came from it.
                    self.store.execute(
                        "UPDATE deployments SET memory_id = NULL, notes = NULL WHERE memory_id = ?",
                        (memory_id,),
                    )
                    self.store.execute(
                        "UPDATE incidents SET memory_id = NULL WHERE memory_id = ?", (memory_id,)
                    )
            else:
                self.store.execute(
                    "UPDATE memories SET deleted_at = COALESCE(deleted_at, ?), deleted_reason = ? WHERE id = ?",
                    (iso(utcnow()), reason, memory_id),
                )
            self.store.audit("forget-hard" if hard else "forget", memory_id, {"reason": reason})
            if not hard:
                # Forgetting a deployment memory says the deployment was wrong: retract what it
                # recorded, so lists and last-good stop counting it.
                self.deployments.retract_where(
                    "memory_id = ?", (memory_id,), reason or f"memory {memory_id} forgotten"
                )

        self.store.write(write)
        self.ctx.cache.dirty = True
        erase = self.store.checkpoint() if hard else None
        if erase:
            self.ctx.warn(f"secure erase: {erase}")
        index = "removed"
        try:
            self.ctx.index.delete([memory_id])
        except StorageError as exc:
            index = f"not removed ({exc}); run reindex"
            self.ctx.warn(f"vector index: {index}")
        else:
            if hard:
                try:
                    self.ctx.index.scrub([memory_id])
                except StorageError as exc:
                    # Deleted from the index, but chroma's file may still hold old bytes (busy).
                    index = f"removed, not scrubbed ({exc}); `memory.py reindex` vacuums it later"
                    self.ctx.warn(f"vector index: {index}")
        return {"id": memory_id, "forgotten": True, "hard": hard, "index": index}


class OverRecords:
    """A part that keeps its facts as rows and as memories (deployments, incidents), or reads
    memories (recall): the shared context and the records."""

    def __init__(self, ctx: MemoryContext, records: Records) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.records = records


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
    at = when(created_at) or utcnow()
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
        "created_at": iso(at),
        "created_ts": at.timestamp(),
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
