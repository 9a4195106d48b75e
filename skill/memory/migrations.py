"""Named, append-only schema migrations: memory.db (sqlite_utils.Migrations) and, for team mode,
the same tables in PostgreSQL (``SCHEMA``, applied by skill.storage).

Never renumber or edit an applied migration: add a new one. The memories table keeps the
vector as a float32 blob next to the text, so SQLite alone can rebuild the chroma index and
serve brute-force similarity without importing chromadb.
"""

from __future__ import annotations

from sqlite_utils import Migrations

from skill.storage import Migration, Schema

migrations = Migrations("devops-memory")


# The tables as first created; DDL shared by both engines (the PostgreSQL side derives its own).
MEMORIES = """
CREATE TABLE IF NOT EXISTS memories (
    id TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'note',
    service TEXT,
    env TEXT,
    version TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    importance REAL NOT NULL DEFAULT 0.5,
    created_at TEXT NOT NULL,
    created_ts REAL NOT NULL,
    source TEXT NOT NULL DEFAULT 'cli',
    content_hash TEXT NOT NULL,
    scope TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    linked_to TEXT,
    supersedes TEXT,
    superseded_by TEXT,
    deleted_at TEXT,
    deleted_reason TEXT,
    embedding BLOB,
    embedding_model TEXT,
    chroma_synced INTEGER NOT NULL DEFAULT 0
)"""
MEMORIES_INDEXES = (
    # Exact dedup is enforced by the database itself, so concurrent writers cannot both win.
    "CREATE UNIQUE INDEX IF NOT EXISTS memories_scope_hash ON memories(scope, content_hash) WHERE deleted_at IS NULL",
    "CREATE INDEX IF NOT EXISTS memories_filters ON memories(kind, service, env, created_ts)",
    "CREATE INDEX IF NOT EXISTS memories_created ON memories(created_ts)",
)
DEPLOYMENTS = """
CREATE TABLE IF NOT EXISTS deployments (
    id TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    env TEXT NOT NULL,
    version TEXT NOT NULL,
    "commit" TEXT,
    strategy TEXT,
    status TEXT NOT NULL DEFAULT 'succeeded',
    started TEXT,
    started_ts REAL NOT NULL,
    finished TEXT,
    rolled_back_from TEXT,
    by TEXT,
    notes TEXT,
    memory_id TEXT,
    created_at TEXT NOT NULL
)"""
INCIDENTS = """
CREATE TABLE IF NOT EXISTS incidents (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    severity TEXT NOT NULL DEFAULT 'SEV3',
    service TEXT,
    status TEXT NOT NULL DEFAULT 'open',
    started TEXT NOT NULL,
    started_ts REAL NOT NULL,
    resolved TEXT,
    summary TEXT,
    root_cause TEXT,
    resolution TEXT,
    memory_id TEXT,
    updated_at TEXT NOT NULL
)"""
# Incident rows show the current state; every change is kept here, so nothing is lost.
INCIDENT_EVENTS = """
CREATE TABLE IF NOT EXISTS incident_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL,
    at TEXT NOT NULL,
    change TEXT NOT NULL
)"""
AUDIT = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
)"""
RECORD_INDEXES = (
    "CREATE INDEX IF NOT EXISTS deployments_service ON deployments(service, env, started_ts)",
    "CREATE INDEX IF NOT EXISTS incidents_service ON incidents(service, started_ts)",
)
# export attaches each memory's deployment/incident rows, and forget --hard unlinks them: both
# look rows up by memory_id.
MEMORY_ID_INDEXES = (
    "CREATE INDEX IF NOT EXISTS deployments_memory ON deployments(memory_id)",
    "CREATE INDEX IF NOT EXISTS incidents_memory ON incidents(memory_id)",
)
# A deployment recorded by mistake is retracted, never deleted: the row stays for the audit, and
# lists and last-good skip it.
RETRACTION = (
    "ALTER TABLE deployments ADD COLUMN retracted_at TEXT",
    "ALTER TABLE deployments ADD COLUMN retracted_reason TEXT",
)


@migrations(name="m001_wal", transactional=False)
def m001_wal(db) -> None:
    # WAL lets recall read while another process writes; it cannot be switched inside a transaction.
    db.enable_wal()


@migrations(name="m002_memories")
def m002_memories(db) -> None:
    for sql in (MEMORIES, *MEMORIES_INDEXES):
        db.execute(sql)
    db["memories"].enable_fts(
        ["text", "service", "version", "tags"], fts_version="FTS5", create_triggers=True, tokenize="porter"
    )


@migrations(name="m003_deployments_incidents")
def m003_deployments_incidents(db) -> None:
    for sql in (DEPLOYMENTS, INCIDENTS, *RECORD_INDEXES, INCIDENT_EVENTS, AUDIT):
        db.execute(sql)


@migrations(name="m004_fts_update_trigger_on_indexed_columns")
def m004_fts_update_trigger(db) -> None:
    # sqlite-utils' trigger re-indexes a row on any UPDATE; bookkeeping updates (chroma_synced,
    # superseded_by, deleted_at) then churn the FTS index into many small segments.
    db.execute("DROP TRIGGER IF EXISTS memories_au")
    db.execute(
        """
        CREATE TRIGGER memories_au AFTER UPDATE OF text, service, version, tags ON memories BEGIN
          INSERT INTO memories_fts (memories_fts, rowid, text, service, version, tags)
            VALUES ('delete', old.rowid, old.text, old.service, old.version, old.tags);
          INSERT INTO memories_fts (rowid, text, service, version, tags)
            VALUES (new.rowid, new.text, new.service, new.version, new.tags);
        END
        """
    )


@migrations(name="m005_memory_id_indexes")
def m005_memory_id_indexes(db) -> None:
    for sql in MEMORY_ID_INDEXES:
        db.execute(sql)


@migrations(name="m006_environment_names")
def m006_environment_names(db) -> None:
    # `prod`, `prd` and `production` were stored as written, so `--env production` hid `prod`
    # rows. Rows are rewritten to the gate's canonical names; the text keeps what was written.
    from skill.memory.store import env_name

    for table in ("memories", "deployments"):
        rows = db.execute(f"SELECT rowid, env FROM {table} WHERE env IS NOT NULL").fetchall()
        for rowid, env in rows:
            canonical = env_name(env)
            if canonical != env:
                extra = ", chroma_synced = 0" if table == "memories" else ""
                db.execute(f"UPDATE {table} SET env = ?{extra} WHERE rowid = ?", (canonical, rowid))


@migrations(name="m007_deployment_retraction")
def m007_deployment_retraction(db) -> None:
    for sql in RETRACTION:
        db.execute(sql)


# ---------------------------------------------------------------------- PostgreSQL (team mode)
# The same tables in the team database (skill.storage), as named migrations of their own: the
# SQLite file keeps its sqlite-utils history, so an existing memory.db is never touched.
# Differences from SQLite: ``rowid`` is a real column (SQLite's is implicit), REAL is double
# precision (epoch seconds need it), vectors are BYTEA, serials are BIGSERIAL, full-text search
# is a GIN index over TEXT_VECTOR instead of FTS5, and ``memory_changes`` counts committed changes
# to the live vectors (what PRAGMA data_version tells SQLite).

# One expression, used by the index and by every query (PostgreSQL uses the index only for the
# identical expression): the columns FTS5 indexes, in its order; the English configuration stems
# like FTS5's porter tokenizer.
TEXT_VECTOR = (
    "(to_tsvector('english', text) || to_tsvector('english', coalesce(service, '')) || "
    "to_tsvector('english', coalesce(version, '')) || to_tsvector('english', tags))"
)


def postgres_ddl(sqlite_ddl: str) -> str:
    """A CREATE TABLE of ours in PostgreSQL's types; tables keyed by text get a ``rowid`` column."""
    ddl = sqlite_ddl.replace(" REAL ", " DOUBLE PRECISION ").replace(" BLOB,", " BYTEA,")
    ddl = ddl.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")
    if "id TEXT PRIMARY KEY" in ddl:
        ddl = ddl.replace("(\n", "(\n    rowid BIGINT GENERATED BY DEFAULT AS IDENTITY UNIQUE,\n", 1)
    return ddl


def _script(*statements: str) -> str:
    return ";\n".join(statements) + ";\n"


PG_MEMORIES = _script(
    postgres_ddl(MEMORIES),
    *MEMORIES_INDEXES,
    f"CREATE INDEX IF NOT EXISTS memories_text ON memories USING GIN ({TEXT_VECTOR})",
)
PG_RECORDS = _script(
    *(postgres_ddl(ddl) for ddl in (DEPLOYMENTS, INCIDENTS, INCIDENT_EVENTS, AUDIT)),
    *RECORD_INDEXES,
    *MEMORY_ID_INDEXES,
    *(sql.replace("ADD COLUMN", "ADD COLUMN IF NOT EXISTS") for sql in RETRACTION),
)

# Statement-level, on the columns that decide which vectors are live: bookkeeping updates
# (chroma_synced, metadata) do not make every process reload its vectors.
PG_CHANGES = """
CREATE TABLE IF NOT EXISTS memory_changes (n BIGINT NOT NULL);
INSERT INTO memory_changes (n) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM memory_changes);
CREATE OR REPLACE FUNCTION memory_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE memory_changes SET n = n + 1;
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS memories_changed ON memories;
CREATE TRIGGER memories_changed
    AFTER INSERT OR DELETE OR UPDATE OF embedding, deleted_at, superseded_by, scope ON memories
    FOR EACH STATEMENT EXECUTE FUNCTION memory_changed();
"""


def _sqlite_file_is_migrated_by_sqlite_utils(conn) -> None:
    raise RuntimeError("memory.db is migrated by skill.memory.store.open_db (sqlite-utils)")


SCHEMA = Schema(
    "memory",
    (
        Migration(
            "memories, full-text index", sqlite=_sqlite_file_is_migrated_by_sqlite_utils, postgres=PG_MEMORIES
        ),
        Migration(
            "deployments, incidents, events, audit",
            sqlite=_sqlite_file_is_migrated_by_sqlite_utils,
            postgres=PG_RECORDS,
        ),
        Migration(
            "live-vector change counter", sqlite=_sqlite_file_is_migrated_by_sqlite_utils, postgres=PG_CHANGES
        ),
    ),
    team=True,
)
