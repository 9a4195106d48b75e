"""Hybrid recall: lexical coverage from the full-text index and cosine from the vectors, fused in search.py.

Local mode scores the in-process vector cache; with a chroma server (team mode) the server's
candidates are asked too, so memories written elsewhere are found.
"""

from __future__ import annotations

from typing import Any

from skill.durations import iso, utcnow
from skill.errors import StorageError, UsageError
from skill.memory import search as S
from skill.memory.models import MemoryRecord, RecallHit
from skill.memory.records import MEMORY_COLUMNS, Filters, OverRecords
from skill.memory.store import content_hash, env_name, loads, timestamp_of, when
from skill.memory.vector import where_for


class Recall(OverRecords):
    def recall(self, query: str, *, limit: int = 10, mode: str = "hybrid", **filters: Any) -> list[RecallHit]:
        """Hybrid recall. ``mode`` = hybrid | lexical | vector (the last two for evaluation and debugging);
        ``filters`` are the fields of ``Filters`` (kind, service, env, since, until, tags)."""
        import numpy as np

        if mode not in ("hybrid", "lexical", "vector"):
            raise UsageError(f"unknown recall mode {mode!r}")
        if limit < 1:
            raise UsageError("limit must be at least 1")
        f = Filters(**filters)
        tags = tuple(f.tags or ())
        filters = {**vars(f), "tags": tags}
        where, params = self.records.filters(**filters)
        query = (query or "").strip()
        if not query:
            return [
                RecallHit(memory=r, score=0.0, parts={"reason": "no query: newest first"})
                for r in self.records.list(**filters, limit=limit)
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
                    for r in self.store.q(f"SELECT m.rowid AS rowid FROM memories m WHERE {where}", params)
                ],
                dtype=np.int64,
            )

        lex: dict[int, dict] = {}
        cov_arr = None
        if mode == "lexical" and terms:
            # The lexical baseline: FTS5 over the ORed, quoted terms ranked by BM25, filters in SQL.
            for rank, (rowid, bm25) in enumerate(self.store.ranked_text(query, where, params, n_cand), 1):
                lex[rowid] = {"lex_rank": rank, "bm25": bm25}
        elif mode == "hybrid" and terms:
            # Lexical candidates of the hybrid: the memories with the highest coverage (see search.py).
            cov_arr = self.coverage_all(terms)
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
            qv = self.ctx.embed([query, expanded] if blend else [query])
            if qv is None:
                self.ctx.warn("recall fell back to lexical search (embedding model unavailable)")
            else:
                qvec = S.blend_query_vectors(qv[0], qv[1] if blend else None)
        if qvec is not None and self.ctx.team_mode:
            try:
                remote = self.remote_candidates(qvec, n_cand, filters)
            except StorageError as exc:
                self.ctx.warn(f"chroma server unavailable, recall used local data only: {exc}")
        if qvec is not None:
            cache = self.ctx.cache
            with self.store.lock:
                cache.ensure(self.store)
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
            rows = self.store.q(
                f"SELECT {MEMORY_COLUMNS} FROM memories m WHERE m.rowid IN ({marks}) AND {where}",
                [*cand_rowids, *params],
            )
        local_ids = {r["id"] for r in rows}
        covs = (
            {r["rowid"]: float(cov_arr[r["rowid"]]) for r in rows if r["rowid"] < len(cov_arr)}
            if cov_arr is not None
            else {}
        )
        now = utcnow().timestamp()
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
            score = S.score(
                rec.kind, rec.importance, False, timestamp_of(rec.created_at) or now, p, cov, mode, now
            )
            scored.append((score, rec, p))
        scored.sort(key=lambda t: -t[0])
        hits = [
            RecallHit(
                memory=item if isinstance(item, MemoryRecord) else self.records.to_model(item),
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

    def coverage_all(self, terms: list[str]):
        """Coverage of every memory, as an array indexed by rowid (see search.py), or None.

        One full-text lookup per term gives both its document frequency and the memories holding it.
        """
        import numpy as np

        top = self.store.q("SELECT max(rowid) AS top, count(*) AS n FROM memories")[0]
        if not top["top"]:
            return None
        n = top["n"] or 1
        acc = np.zeros(top["top"] + 1, dtype=np.float64)
        total = 0.0
        for term in terms:
            hits = self.store.rowids_with_term(term)
            # A term no memory contains still counts in the total: the query asked for it and no
            # candidate has it, which keeps one shared common word from reading as a full match.
            weight = S.idf(len(hits), n)
            total += weight
            if hits:
                idx = np.fromiter(hits, dtype=np.int64, count=len(hits))
                acc[idx[idx < len(acc)]] += weight
        if total <= 0:
            return None
        return acc / total

    def remote_candidates(self, qvec, n: int, filters: dict) -> dict[str, dict]:
        since = when(filters.get("since"))
        until = when(filters.get("until"))
        where = where_for(
            kind=filters.get("kind"),
            service=filters.get("service"),
            env=env_name(filters.get("env")),
            since_ts=since.timestamp() if since else None,
            until_ts=until.timestamp() if until else None,
        )
        rows = self.ctx.index.query(qvec.tolist(), n, where=where)
        out = {}
        for rank, r in enumerate(rows, 1):
            r["rank"] = rank
            out[r["id"]] = r
        return out


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
            created_at=meta.get("created_at") or iso(utcnow()),
            source=meta.get("source") or "chroma",
            content_hash=meta.get("content_hash") or content_hash(r.get("document") or ""),
            metadata={"origin": "chroma-server"},
            linked_to=meta.get("linked_to"),
            supersedes=meta.get("supersedes"),
            vector="stored",
        )
    except (ValueError, TypeError):
        return None
