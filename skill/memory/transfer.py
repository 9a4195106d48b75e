"""Import and export as JSON Lines: plain lines become memories, an export's ``record`` lines restore
every table exactly (same ids, hashes, times and marks). Idempotent and resumable."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import IO, Any

from skill.errors import DevopsError
from skill.memory.context import MemoryContext
from skill.memory.deployments import Deployments
from skill.memory.incidents import Incidents
from skill.memory.models import DEPLOY_STATUSES, KINDS
from skill.memory.records import Records, prepare
from skill.memory.store import dumps, env_name, loads, when
from skill.memory.sync import IndexSync
from skill.redact import redact, redact_obj


class Transfer:
    def __init__(
        self,
        ctx: MemoryContext,
        records: Records,
        deployments: Deployments,
        incidents: Incidents,
        sync: IndexSync,
    ) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.records = records
        self.deployments = deployments
        self.incidents = incidents
        self.sync = sync

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
            results = self.records.store_prepared(batch)
            fixups = [(r, a) for r, a in zip(results, after, strict=True) if r.created and a]
            if fixups:
                self.store.write(lambda: self.import_fixups(fixups))
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
            res = self.restore(restore_mem, restore_rows)
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
                prepared = prepare(
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
                    self.incidents.check_line(prepared)
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
            self.store.write(self.store.optimize_text_index)
        stats["index"] = self.sync.sync_index()
        return stats

    def import_fixups(self, fixups: list) -> None:
        for res, later in fixups:
            for dep in later.get("deployments", ()):
                row = self.store.q("SELECT service, env, version FROM memories WHERE id = ?", (res.id,))[0]
                self.deployments.insert(**row, memory_id=res.id, **dep)
            if later.get("linked_to") and self.store.q(
                "SELECT 1 FROM memories WHERE id = ?", (later["linked_to"],)
            ):
                self.store.execute(
                    "UPDATE memories SET linked_to = ? WHERE id = ?", (later["linked_to"], res.id)
                )
            if later.get("deleted_at"):
                self.store.execute(
                    "UPDATE memories SET deleted_at = ?, deleted_reason = ? WHERE id = ?",
                    (later["deleted_at"], later.get("deleted_reason") or "imported as forgotten", res.id),
                )
                self.store.audit("forget", res.id, {"reason": "imported as forgotten"})
        self.ctx.cache.dirty = True

    def export_jsonl(self, out: IO[str], *, include_deleted: bool = False) -> int:
        """Write every memory (``record: memory``), then every row of the other tables.

        A memory line is also a plain import line (``text``, ``kind``, ``service`` ...); its
        ``record`` key makes an import restore it exactly (same id, hash, time, marks) instead of
        reading it as a new protocol line. Deployments, incidents, incident events and the audit
        follow as rows, so the round trip gives the same rows in every table.
        """
        n = 0
        where = "TRUE" if include_deleted else "deleted_at IS NULL"
        for row in self.store.q(
            f"SELECT {', '.join(EXPORT_MEMORY_COLUMNS)} FROM memories WHERE {where} ORDER BY rowid"
        ):
            data = {k: v for k, v in row.items() if v is not None}
            data["tags"] = loads(data.get("tags"), [])
            data["metadata"] = loads(data.get("metadata"), {})
            out.write(json.dumps({"record": "memory", **data}, sort_keys=True) + "\n")
            n += 1
        for table, order in EXPORT_TABLES.items():
            cols = ", ".join(f'"{c}"' for c in _TABLE_COLUMNS[table])
            for row in self.store.q(f"SELECT {cols} FROM {table} ORDER BY {order}"):
                data = {k: v for k, v in row.items() if v is not None}
                out.write(json.dumps({"record": table, **data}, sort_keys=True) + "\n")
        return n

    def restore(self, memories: list[dict], rows: list[tuple[str, dict]]) -> dict:
        """Insert exported rows as they were (an export's ``record`` lines); existing ids are kept."""
        import numpy as np

        created = duplicates = 0
        restored: dict[str, int] = {}
        fresh = [m for m in memories if not self.store.q("SELECT 1 FROM memories WHERE id = ?", (m["id"],))]
        live = [m for m in fresh if not m.get("deleted_at")]
        vectors = self.ctx.embed([m["text"] for m in live]) if live else None
        vec_of = {m["id"]: v for m, v in zip(live, vectors, strict=True)} if vectors is not None else {}

        def write() -> None:
            nonlocal created, duplicates
            for m in memories:
                rec = dict(m)
                vec = vec_of.get(rec["id"])
                if vec is not None:
                    rec["embedding"] = np.asarray(vec, dtype=np.float32).tobytes()
                    rec["embedding_model"] = self.ctx.model().model_id
                cur = self.store.execute(
                    f"INSERT INTO memories ({', '.join(rec)}) VALUES ({', '.join('?' * len(rec))}) ON CONFLICT DO NOTHING",
                    tuple(rec.values()),
                )
                created += cur.rowcount
                duplicates += 1 - cur.rowcount
            for table, row in rows:
                restored[table] = restored.get(table, 0) + self.restore_row(table, row)
            for table in {t for t, row in rows if "seq" in row}:
                self.store.ids_written(table)
            self.ctx.cache.dirty = True

        self.store.write(write)
        self.sync.push([{"id": m["id"]} for m in live], wait=False)
        return {"created": created, "duplicates": duplicates, "restored": restored}

    def restore_row(self, table: str, row: dict) -> int:
        if table in ("deployments", "incidents"):
            cols = ", ".join(f'"{k}"' for k in row)
            cur = self.store.execute(
                f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(row))}) ON CONFLICT DO NOTHING",
                tuple(row.values()),
            )
            return cur.rowcount
        # incident_events / audit: the same event is never added twice; its number is kept
        # when this home does not use it yet (always, when restoring into a fresh home).
        content = {k: v for k, v in row.items() if k != "seq"}
        match = " AND ".join(f"{k} IS NOT DISTINCT FROM ?" for k in content)
        if self.store.q(f"SELECT 1 FROM {table} WHERE {match}", tuple(content.values())):
            return 0
        if row.get("seq") is not None and self.store.q(f"SELECT 1 FROM {table} WHERE seq = ?", (row["seq"],)):
            row = content
        cur = self.store.execute(
            f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            tuple(row.values()),
        )
        return cur.rowcount


def copy_to_team(sqlite_path: str, url: str) -> list:
    """`devops db copy` for memory: ``memory.py export --all`` of the file at ``sqlite_path``,
    imported into the team database at ``url`` as ``memory.py import`` does (ids, hashes and
    times kept, vectors computed and indexed, a record already there skipped), in one process.
    -> [skill.storage.manage.CopyCount] per table."""
    import io
    from collections import Counter
    from pathlib import Path

    from skill.errors import StorageError
    from skill.memory.service import Memory
    from skill.storage.manage import CopyCount

    data_dir = Path(sqlite_path).parent
    exported = io.StringIO()
    with Memory.open(data_dir, database="") as laptop:
        laptop.export_jsonl(exported, include_deleted=True)
    lines = exported.getvalue().splitlines()
    read = Counter("memories" if t == "memory" else t for t in (json.loads(line)["record"] for line in lines))
    with Memory.open(data_dir, database=url) as team:
        stats = team.import_jsonl(lines)
    if stats["errors"]:
        raise StorageError(f"memory: {len(stats['errors'])} records not copied, {stats['errors'][0]}")
    copied = {"memories": stats["created"], **stats.get("restored", {})}
    return [
        CopyCount(table=table, copied=copied.get(table, 0), already_there=read[table] - copied.get(table, 0))
        for table in ("memories", *EXPORT_TABLES)
    ]


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
        row["created_ts"] = float(row.get("created_ts") or when(row["created_at"]).timestamp())
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
