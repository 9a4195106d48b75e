"""Memory's records in the team database (PostgreSQL, through skill.storage): the same tables
and the same SQL as memory.db; full-text search is a GIN index over one tsvector expression
(migrations.TEXT_VECTOR) instead of FTS5. Vectors stay in chroma and in the rows' BYTEA.

Only imported in team mode (psycopg is the `team` extra).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from skill.errors import StorageError
from skill.memory.migrations import SCHEMA, TEXT_VECTOR
from skill.memory.search import query_terms
from skill.memory.store import RecordStore


class PostgresRecordStore(RecordStore):
    backend = "postgres"

    def __init__(self, url: str) -> None:
        from skill.storage.postgres import open_store, redact_url

        super().__init__(redact_url(url))
        self.conn = open_store(url, SCHEMA)  # migrated to SCHEMA's version
        import psycopg

        self._errors = psycopg.Error

    def _error(self, exc: BaseException) -> StorageError:
        text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return StorageError(f"memory records in {self.location}: {text}")

    def execute(self, sql: str, params: Iterable[Any] = ()):
        try:
            return self.conn.execute(sql, tuple(params))
        except self._errors as exc:
            raise self._error(exc) from exc

    def write(self, fn: Callable[[], Any]) -> Any:
        # The advisory lock queues memory writers as SQLite's BEGIN IMMEDIATE does.
        with self.lock:
            try:
                with self.conn.transaction(lock="memory"):
                    return fn()
            except self._errors as exc:
                raise self._error(exc) from exc

    def has_tag(self, alias: str) -> str:
        return f"EXISTS (SELECT 1 FROM jsonb_array_elements_text({alias}.tags::jsonb) AS t(value) WHERE t.value = ?)"

    def json_text(self, column: str, key: str) -> str:
        return f"({column}::jsonb ->> '{key}')"

    def rowids_with_term(self, term: str) -> list[int]:
        # phraseto_tsquery parses the term as the index parsed the text: 'v1.4.2', 'payments-api'
        # and '10.0.0.1:443' are matched as one phrase, and no character is an operator.
        rows = self.q(
            f"SELECT rowid FROM memories WHERE {TEXT_VECTOR} @@ phraseto_tsquery('english', ?)", (term,)
        )
        return [r["rowid"] for r in rows]

    def ranked_text(self, query: str, where: str, params: list, limit: int) -> list[tuple[int, float]]:
        terms = query_terms(query)
        if not terms:
            return []
        tsquery = " || ".join("phraseto_tsquery('english', ?)" for _ in terms)
        rows = self.q(
            f"SELECT m.rowid AS rowid, ts_rank({TEXT_VECTOR}, q.q) AS score FROM memories m, (SELECT {tsquery}) AS q(q) "
            f"WHERE {TEXT_VECTOR} @@ q.q AND {where} ORDER BY score DESC, m.rowid LIMIT ?",
            [*terms, *params, limit],
        )
        return [(r["rowid"], float(r["score"])) for r in rows]

    def data_version(self) -> int:
        # Counted by a trigger and committed with the change (the sequence of a serial would be
        # visible before the commit). This connection's own commits count too: its cache reloads.
        return int(self.q("SELECT n FROM memory_changes")[0]["n"])

    def checkpoint(self) -> str | None:
        # A deleted row stays in the table's files as a dead tuple until a vacuum; VACUUM FULL
        # rewrites the table and its indexes without it (a short exclusive lock; forget --hard is
        # rare). Only the table's owner may: for an application role (docs/team.md, Grants) the
        # server skips it with a warning, not an error, so the warning is what tells us.
        skipped: list[str] = []

        def notice(diag) -> None:
            if "skipping" in (diag.message_primary or ""):
                skipped.append(diag.message_primary)

        self.conn.raw.add_notice_handler(notice)
        try:
            self.execute("VACUUM FULL memories")
        except StorageError as exc:
            skipped.append(str(exc))
        finally:
            self.conn.raw.remove_notice_handler(notice)
        if skipped:
            return (
                "deleted, but this role may not VACUUM FULL memories (the table owner's): its bytes stay "
                "in the table's files until the owner runs it"
            )
        return None

    def ids_written(self, table: str) -> None:
        self.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'seq'), "
            f"GREATEST((SELECT max(seq) FROM {table}), 1))"
        )

    def close(self) -> None:
        try:
            self.conn.close()
        except self._errors:
            pass
